// DirectoryService over real gRPC on loopback, and the directory executable
// refusing a malformed file at start-up.

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "referral/v1/directory_service.grpc.pb.h"
#include "services/directory/directory.h"
#include "services/directory/directory_grpc_service.h"
#include "services/runtime/grpc_status.h"
#include "services/runtime/service_host.h"
#include "tests/integration/run_command.h"

namespace referral {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::RunCommand;

TEST(DirectoryGrpc, RouteGetAndListAnswerOverTheWire) {
  auto directory = directory::Directory::LoadFile(QINZHOU_TOML);
  ASSERT_TRUE(directory.ok()) << directory.status();
  directory::DirectoryGrpcService service(&*directory);
  auto host = ServiceHost::Start({}, {&service});
  ASSERT_TRUE(host.ok());
  (*host)->SetServing(true);
  auto stub = v1::DirectoryService::NewStub(
      grpc::CreateChannel((*host)->address(), grpc::InsecureChannelCredentials()));

  grpc::ClientContext route_context;
  v1::RouteRequest route;
  route.set_matter(v1::MATTER_WAGE_ARREARS);
  route.set_jurisdiction("gansu/tianshui/qinzhou/taijing/liuhe");
  v1::RouteResponse routed;
  ASSERT_TRUE(stub->Route(&route_context, route, &routed).ok());
  EXPECT_EQ(routed.node().name(), "qinzhou.labor-inspection");
  EXPECT_FALSE(routed.reason_zh().empty());

  grpc::ClientContext get_context;
  v1::GetNodeRequest get;
  get.set_name("qinzhou.ghost");
  v1::GetNodeResponse got;
  EXPECT_THAT(FromGrpcStatus(stub->GetNode(&get_context, get, &got)),
              HasReason("NODE_NOT_FOUND"));

  grpc::ClientContext list_context;
  v1::ListNodesRequest list;
  list.set_kind(v1::NODE_KIND_PROCURATORATE);
  v1::ListNodesResponse listed;
  ASSERT_TRUE(stub->ListNodes(&list_context, list, &listed).ok());
  ASSERT_EQ(listed.nodes_size(), 1);
  EXPECT_EQ(listed.nodes(0).name(), "qinzhou.procuratorate");
}

TEST(DirectoryGrpc, RefctlListsNodesWithChineseLabelsAndRoutesMatters) {
  auto directory = directory::Directory::LoadFile(QINZHOU_TOML);
  ASSERT_TRUE(directory.ok());
  directory::DirectoryGrpcService service(&*directory);
  auto host = ServiceHost::Start({}, {&service});
  ASSERT_TRUE(host.ok());
  const std::string refctl =
      absl::StrCat(REFCTL_BINARY, " --directory ", (*host)->address(), " ");

  auto [code, out] = RunCommand(refctl + "directory nodes --kind justice");
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("qinzhou.justice.yuquan.xiguan"));
  EXPECT_THAT(out, ::testing::HasSubstr("村工作室"));
  EXPECT_THAT(out, ::testing::Not(::testing::HasSubstr("qinzhou.union")));

  std::tie(code, out) =
      RunCommand(refctl + "directory route wage_arrears gansu/tianshui/qinzhou/zaojiao");
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("→ qinzhou.labor-inspection"));
  EXPECT_THAT(out, ::testing::HasSubstr("首办机构"));

  std::tie(code, out) = RunCommand(refctl + "directory route wage_arrears gansu/lanzhou");
  EXPECT_NE(code, 0);
  EXPECT_THAT(out, ::testing::HasSubstr("NO_ROUTE"));

  std::tie(code, out) = RunCommand(refctl + "directory route divorce gansu/tianshui");
  EXPECT_NE(code, 0);
  EXPECT_THAT(out, ::testing::HasSubstr("matter must be one of wage_arrears"));
}

TEST(DirectoryBinary, RefusesAMalformedFileAtStartUpNamingFileLineAndReason) {
  auto dir = std::filesystem::path(::testing::TempDir()) /
             absl::StrCat("directory_bad_", getpid());
  std::filesystem::create_directories(dir);
  auto bad = dir / "bad.toml";
  std::ofstream(bad) << "[[node]]\nname = \"a\"\nkind = \"police\"\n"
                         "level = \"district\"\njurisdiction = \"x\"\n"
                         "name_zh = \"z\"\nname_en = \"e\"\n";
  auto [code, out] = RunCommand(absl::StrCat(
      DIRECTORY_BINARY, " --plaintext --listen=127.0.0.1:0 --config=", bad.string()));
  EXPECT_EQ(code, 1) << out;
  EXPECT_THAT(out, ::testing::HasSubstr("bad.toml:3:8: kind \"police\" is not one of"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace referral
