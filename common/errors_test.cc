#include "common/errors.h"

#include <set>
#include <string>

#include "common/status_macros.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace referral {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::referral::testing::StatusIs;

TEST(ErrorTable, RowsAreInDeclarationOrderSoSpecOfIndexesThem) {
  auto specs = AllErrorSpecs();
  for (size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(specs[i].reason), i) << specs[i].name;
    EXPECT_EQ(&SpecOf(specs[i].reason), &specs[i]);
  }
  // The last enumerator has a row: the table covers the whole enum.
  EXPECT_EQ(specs.back().reason, ErrorReason::kNoEligibleLawyer);
}

TEST(ErrorTable, ReasonNamesAreUniqueUpperSnakeCase) {
  std::set<absl::string_view> seen;
  for (const ErrorSpec& s : AllErrorSpecs()) {
    EXPECT_TRUE(seen.insert(s.name).second) << s.name;
    for (char c : s.name) EXPECT_TRUE(c == '_' || (c >= 'A' && c <= 'Z')) << s.name;
    EXPECT_NE(s.code, absl::StatusCode::kOk);
  }
}

TEST(MakeError, CodeComesFromTheTableAndDetailsRoundTrip) {
  absl::Status s = MakeError(ErrorReason::kConcurrentModification,
                             "case c1 is at version 5", "案件已被他人修改",
                             {.metadata = {{"current_version", "5"}}});
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(s, HasReason("CONCURRENT_MODIFICATION"));
  ErrorView v = ViewError(s);
  EXPECT_EQ(v.zh_message, "案件已被他人修改");
  EXPECT_EQ(v.metadata.at("current_version"), "5");
  EXPECT_EQ(s.message(), "case c1 is at version 5");
}

TEST(MakeError, FieldBecomesABadRequestViolation) {
  absl::Status s = MakeError(ErrorReason::kInvalidField, "bad id", "编号有误",
                             {.field = "events[2].event_id"});
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(ViewError(s).field, "events[2].event_id");
}

TEST(ViewError, PlainStatusHasNoReason) {
  EXPECT_EQ(ViewError(absl::InternalError("x")).reason, "");
  EXPECT_THAT(absl::InternalError("x"), ::testing::Not(HasReason("X")));
}

absl::StatusOr<int> Half(int x) {
  if (x % 2) return absl::InvalidArgumentError("odd");
  return x / 2;
}
absl::StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(h, Half(h));
  return h;
}
absl::Status Check(int x) {
  RETURN_IF_ERROR(Quarter(x).status());
  return absl::OkStatus();
}

TEST(StatusMacros, PropagateErrorsAndValues) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_THAT(Quarter(6), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Check(4), IsOk());
  EXPECT_THAT(Check(3), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace referral
