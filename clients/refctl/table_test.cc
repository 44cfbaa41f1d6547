#include "clients/refctl/table.h"

#include "gtest/gtest.h"

namespace referral::refctl {
namespace {

TEST(DisplayWidth, ChineseCharactersTakeTwoCells) {
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("司法局"), 6u);
  EXPECT_EQ(DisplayWidth("12348热线"), 9u);
  EXPECT_EQ(DisplayWidth(""), 0u);
}

TEST(Table, ColumnsAlignByDisplayWidthNotBytes) {
  Table t({"NODE", "NAME"});
  t.AddRow({"司法局", "justice"});
  t.AddRow({"union", "工会"});
  EXPECT_EQ(t.Render(),
            "NODE    NAME\n"
            "司法局  justice\n"
            "union   工会\n");
}

}  // namespace
}  // namespace referral::refctl
