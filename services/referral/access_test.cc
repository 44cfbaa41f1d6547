// The access configuration: who investigates and who audits.

#include "services/referral/access.h"

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace referral::broker {
namespace {

using ::referral::testing::HasReason;
using ::testing::HasSubstr;

TEST(PrivacyAccessConfig, TheShippedFileNamesTheInvestigatorsAndTheAuditor) {
  ASSERT_OK_AND_ASSIGN(AccessList a, AccessList::FromFile(ACCESS_TOML));
  EXPECT_TRUE(a.IsInvestigator("qinzhou.procuratorate"));
  EXPECT_TRUE(a.IsInvestigator("qinzhou.supervision"));
  EXPECT_TRUE(a.IsAuditor("qinzhou.discipline"));
  EXPECT_FALSE(a.IsInvestigator("qinzhou.discipline"));
  EXPECT_FALSE(a.IsAuditor("qinzhou.procuratorate"));
  EXPECT_FALSE(a.IsInvestigator("qinzhou.justice"));
}

TEST(PrivacyAccessConfig, ByDefaultNobodyIsAnInvestigatorOrAnAuditor) {
  AccessList none;
  EXPECT_TRUE(none.investigators().empty());
  EXPECT_TRUE(none.auditors().empty());
  ASSERT_OK_AND_ASSIGN(AccessList empty, AccessList::FromToml("", "empty.toml"));
  EXPECT_FALSE(empty.IsInvestigator("qinzhou.procuratorate"));
}

// Each mistake is named with file:line:col, so a person can go and fix it.
TEST(PrivacyAccessConfig, MistakesAreNamedByFileLineAndColumn) {
  struct Bad {
    const char* text;
    const char* says;
  };
  for (const Bad& b : {
           Bad{"investigators = [\"qinzhou.procuratorate\"\n", "access.toml:"},
           Bad{"investigators = [\"qinzhou.procuratorate\"]\nreaders = [\"x\"]\n",
               "access.toml:2:1: unknown key \"readers\""},
           Bad{"investigators = \"qinzhou.procuratorate\"\n",
               "access.toml:1:17: investigators must be a list"},
           Bad{"auditors = [\"qinzhou.discipline\", \"Qinzhou Discipline\"]\n",
               "access.toml:1:35: each of auditors must be an identity"},
           Bad{"investigators = [\"qinzhou.procuratorate\"]\n"
               "auditors = [\"qinzhou.procuratorate\"]\n",
               "access.toml:2:12: qinzhou.procuratorate is both an investigator and an "
               "auditor"},
       }) {
    absl::StatusOr<AccessList> a = AccessList::FromToml(b.text, "access.toml");
    EXPECT_THAT(a, HasReason("CONFIG_INVALID")) << b.text;
    EXPECT_THAT(std::string(a.status().message()), HasSubstr(b.says)) << b.text;
  }
  EXPECT_THAT(AccessList::FromFile("/nonexistent/access.toml"), HasReason("CONFIG_INVALID"));
  EXPECT_THAT(AccessList::Of({"qinzhou.x"}, {"qinzhou.x"}), HasReason("CONFIG_INVALID"));
}

}  // namespace
}  // namespace referral::broker
