#include "services/runtime/grpc_status.h"

#include "common/errors.h"
#include "common/status_matchers.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"

namespace referral {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::StatusIs;

TEST(GrpcStatus, DomainErrorKeepsCodeReasonAndChineseMessageBothWays) {
  absl::Status domain = MakeError(
      ErrorReason::kConcurrentModification, "case c is at version 3", "已更新",
      {.metadata = {{"current_version", "3"}}});
  grpc::Status wire = ToGrpcStatus(domain);
  EXPECT_EQ(wire.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(wire.error_message(), "case c is at version 3");

  absl::Status back = FromGrpcStatus(wire);
  EXPECT_THAT(back, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(back, HasReason("CONCURRENT_MODIFICATION"));
  EXPECT_EQ(ViewError(back).zh_message, "已更新");
  EXPECT_EQ(ViewError(back).metadata.at("current_version"), "3");
}

TEST(GrpcStatus, EveryTableRowMapsToItsGrpcCode) {
  for (const ErrorSpec& spec : AllErrorSpecs()) {
    grpc::Status wire = ToGrpcStatus(MakeError(spec.reason, "m", "信息"));
    EXPECT_EQ(static_cast<int>(wire.error_code()), static_cast<int>(spec.code))
        << spec.name;
    EXPECT_THAT(FromGrpcStatus(wire), HasReason(std::string(spec.name)));
  }
}

TEST(GrpcStatus, PlainStatusGetsTheCodeNameAsReason) {
  grpc::Status wire = ToGrpcStatus(absl::InternalError("boom"));
  EXPECT_THAT(FromGrpcStatus(wire), HasReason("INTERNAL"));
  google::rpc::Status proto;
  ASSERT_TRUE(proto.ParseFromString(wire.error_details()));
  EXPECT_EQ(proto.code(), 13);
}

TEST(GrpcStatus, OkIsOk) {
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_TRUE(FromGrpcStatus(grpc::Status::OK).ok());
}

}  // namespace
}  // namespace referral
