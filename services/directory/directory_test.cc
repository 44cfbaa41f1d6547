#include "services/directory/directory.h"

#include <string>

#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace referral::directory {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::StatusIs;
using ::testing::HasSubstr;

Directory Qinzhou() {
  auto d = Directory::LoadFile(QINZHOU_TOML);
  EXPECT_TRUE(d.ok()) << d.status();
  return *std::move(d);
}

v1::RouteResponse RouteOf(const Directory& d, v1::Matter m, const std::string& area) {
  v1::RouteRequest req;
  req.set_matter(m);
  req.set_jurisdiction(area);
  auto r = d.Route(req);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : v1::RouteResponse();
}

constexpr char kMinimal[] = R"(
[[node]]
name = "qinzhou.justice"
kind = "justice"
level = "district"
jurisdiction = "gansu/tianshui/qinzhou"
name_zh = "司法局"
name_en = "Justice"
matters = ["legal_aid"]
)";

TEST(DefaultDirectory, DescribesTheSevenDistrictAgenciesAndJusticeStations) {
  Directory d = Qinzhou();
  v1::ListNodesRequest all;
  auto nodes = d.ListNodes(all);
  ASSERT_TRUE(nodes.ok());
  std::set<v1::NodeKind> district_kinds;
  int towns = 0, villages = 0;
  for (const auto& n : nodes->nodes()) {
    if (n.level() == v1::NODE_LEVEL_DISTRICT) district_kinds.insert(n.kind());
    if (n.level() == v1::NODE_LEVEL_TOWN) ++towns;
    if (n.level() == v1::NODE_LEVEL_VILLAGE) ++villages;
  }
  EXPECT_EQ(district_kinds.size(), 7u);
  EXPECT_GE(towns, 2);
  EXPECT_GE(villages, 2);
}

TEST(DefaultDirectory, RoutesEachMatterToItsFirstPlace) {
  Directory d = Qinzhou();
  const std::string town = "gansu/tianshui/qinzhou/yuquan";
  EXPECT_EQ(RouteOf(d, v1::MATTER_WAGE_ARREARS, town).node().name(),
            "qinzhou.labor-inspection");
  EXPECT_EQ(RouteOf(d, v1::MATTER_LABOR_CONTRACT_DISPUTE, town).node().name(),
            "qinzhou.arbitration");
  EXPECT_EQ(RouteOf(d, v1::MATTER_PROJECT_PAYMENT, town).node().name(),
            "qinzhou.housing");
  EXPECT_EQ(RouteOf(d, v1::MATTER_PROSECUTION_SUPPORT, town).node().name(),
            "qinzhou.procuratorate");
  EXPECT_EQ(RouteOf(d, v1::MATTER_LEGAL_AID, town).node().name(),
            "qinzhou.justice");
}

TEST(DefaultDirectory, RouteExplainsWhyAndListsNearerHelpersFirst) {
  Directory d = Qinzhou();
  auto r = RouteOf(d, v1::MATTER_LEGAL_AID, "gansu/tianshui/qinzhou/yuquan/xiguan");
  EXPECT_EQ(r.node().name(), "qinzhou.justice");
  EXPECT_THAT(r.reason(), HasSubstr("first place for legal aid"));
  EXPECT_THAT(r.reason(), HasSubstr("covers gansu/tianshui/qinzhou/yuquan/xiguan"));
  EXPECT_THAT(r.reason_zh(), HasSubstr("法律援助"));
  ASSERT_GE(r.alternatives_size(), 2);
  EXPECT_EQ(r.alternatives(0).name(), "qinzhou.justice.yuquan.xiguan");
  EXPECT_EQ(r.alternatives(1).name(), "qinzhou.justice.yuquan");
}

TEST(Directory, TheMostSpecificFirstPlaceWins) {
  auto d = Directory::LoadString(std::string(kMinimal) + R"(
[[node]]
name = "qinzhou.justice.yuquan"
kind = "justice"
level = "town"
jurisdiction = "gansu/tianshui/qinzhou/yuquan"
parent = "qinzhou.justice"
name_zh = "玉泉"
name_en = "Yuquan"
matters = ["legal_aid"]
)", "test.toml");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(RouteOf(*d, v1::MATTER_LEGAL_AID, "gansu/tianshui/qinzhou/yuquan/x")
                .node().name(), "qinzhou.justice.yuquan");
  EXPECT_EQ(RouteOf(*d, v1::MATTER_LEGAL_AID, "gansu/tianshui/qinzhou/taijing")
                .node().name(), "qinzhou.justice");
}

TEST(Directory, UncoveredMatterOrAreaIsNoRoute) {
  auto d = Directory::LoadString(kMinimal, "test.toml");
  ASSERT_TRUE(d.ok());
  v1::RouteRequest req;
  req.set_matter(v1::MATTER_WAGE_ARREARS);
  req.set_jurisdiction("gansu/tianshui/qinzhou");
  EXPECT_THAT(d->Route(req), HasReason("NO_ROUTE"));
  req.set_matter(v1::MATTER_LEGAL_AID);
  req.set_jurisdiction("gansu/lanzhou");
  EXPECT_THAT(d->Route(req), StatusIs(absl::StatusCode::kNotFound));
  req.set_jurisdiction("Gansu//x");
  EXPECT_THAT(d->Route(req), HasReason("INVALID_FIELD"));
  req.set_matter(v1::MATTER_UNSPECIFIED);
  EXPECT_THAT(d->Route(req), HasReason("INVALID_FIELD"));
}

TEST(Directory, GetNodeAndListNodesFilterByKindAndArea) {
  Directory d = Qinzhou();
  v1::GetNodeRequest get;
  get.set_name("qinzhou.union");
  auto n = d.GetNode(get);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->node().display_name_zh(), "秦州区总工会");
  get.set_name("qinzhou.nobody");
  EXPECT_THAT(d.GetNode(get), HasReason("NODE_NOT_FOUND"));

  v1::ListNodesRequest list;
  list.set_kind(v1::NODE_KIND_JUSTICE);
  list.set_jurisdiction("gansu/tianshui/qinzhou/yuquan");
  auto l = d.ListNodes(list);
  ASSERT_TRUE(l.ok());
  ASSERT_EQ(l->nodes_size(), 2);
  EXPECT_EQ(l->nodes(0).name(), "qinzhou.justice.yuquan");
}

TEST(Covers, MatchesWholeSegmentsOnly) {
  EXPECT_TRUE(Covers("a/b", "a/b"));
  EXPECT_TRUE(Covers("a/b", "a/b/c"));
  EXPECT_FALSE(Covers("a/b", "a/bc"));
  EXPECT_FALSE(Covers("a/b/c", "a/b"));
}

// A malformed file is refused with file, line and reason.
struct BadConfig {
  const char* name;
  std::string text;
  const char* expect;  // substring of the message, after "test.toml:"
};

class MalformedConfig : public ::testing::TestWithParam<BadConfig> {};

TEST_P(MalformedConfig, IsRefusedWithFileLineAndReason) {
  auto d = Directory::LoadString(GetParam().text, "test.toml");
  ASSERT_FALSE(d.ok());
  EXPECT_THAT(d.status(), HasReason("CONFIG_INVALID"));
  EXPECT_THAT(std::string(d.status().message()), HasSubstr("test.toml:"));
  EXPECT_THAT(std::string(d.status().message()), HasSubstr(GetParam().expect));
}

INSTANTIATE_TEST_SUITE_P(
    Directory, MalformedConfig,
    ::testing::Values(
        BadConfig{"syntax", "[[node]\nname = 1", "test.toml:1:"},
        BadConfig{"unknown_kind",
                  "[[node]]\nname = \"a\"\nkind = \"police\"\nlevel = \"district\"\n"
                  "jurisdiction = \"x\"\nname_zh = \"z\"\nname_en = \"e\"\n",
                  "test.toml:3:8: kind \"police\" is not one of justice"},
        BadConfig{"unknown_matter",
                  std::string(kMinimal) + "also_matters = [\"divorce\"]\n",
                  "\"divorce\" is not a matter"},
        BadConfig{"typo_key", std::string(kMinimal) + "hotlne = \"1\"\n",
                  "unknown key \"hotlne\""},
        BadConfig{"missing_name_zh",
                  "[[node]]\nname = \"a\"\nkind = \"union\"\nlevel = \"district\"\n"
                  "jurisdiction = \"x\"\nname_en = \"e\"\n",
                  "test.toml:1:1: this node has no \"name_zh\""},
        BadConfig{"duplicate", std::string(kMinimal) + kMinimal,
                  "described twice (first at line 2)"},
        BadConfig{"orphan_town",
                  std::string(kMinimal) +
                      "[[node]]\nname = \"t\"\nkind = \"justice\"\nlevel = \"town\"\n"
                      "jurisdiction = \"gansu/tianshui/qinzhou/t\"\nname_zh = \"z\"\n"
                      "name_en = \"e\"\n",
                  "needs a parent"},
        BadConfig{"unknown_parent",
                  std::string(kMinimal) +
                      "[[node]]\nname = \"t\"\nkind = \"justice\"\nlevel = \"town\"\n"
                      "parent = \"nope\"\njurisdiction = \"gansu/tianshui/qinzhou/t\"\n"
                      "name_zh = \"z\"\nname_en = \"e\"\n",
                  "names parent \"nope\""},
        BadConfig{"two_first_places",
                  std::string(kMinimal) +
                      "[[node]]\nname = \"b\"\nkind = \"union\"\nlevel = \"district\"\n"
                      "jurisdiction = \"gansu/tianshui/qinzhou\"\nname_zh = \"z\"\n"
                      "name_en = \"e\"\nmatters = [\"legal_aid\"]\n",
                  "are the first place for legal_aid"},
        BadConfig{"bad_jurisdiction",
                  "[[node]]\nname = \"a\"\nkind = \"union\"\nlevel = \"district\"\n"
                  "jurisdiction = \"Gansu/\"\nname_zh = \"z\"\nname_en = \"e\"\n",
                  "test.toml:5:16: jurisdiction \"Gansu/\""},
        BadConfig{"empty", "", "no [[node]] tables"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace referral::directory
