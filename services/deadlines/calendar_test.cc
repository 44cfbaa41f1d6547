#include "services/deadlines/calendar.h"

#include "common/status_matchers.h"
#include "gtest/gtest.h"

namespace referral::deadlines {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::StatusIs;

// 2026-11-27 is a Friday; 2026-11-30 a Monday.
absl::Time Shanghai(int y, int mo, int d, int h, int mi) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0),
                         absl::FixedTimeZone(8 * 3600));
}

constexpr char kNationalDay[] = R"(
name = "cn-test"
time_zone = "Asia/Shanghai"
open = "08:30"
close = "17:30"
holidays = ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07", "2026-10-08"]
extra_working_days = ["2026-10-10"]
)";

TEST(Calendar, SameDayMeansTheCloseOfTodayWhenTodayIsAWorkingDay) {
  Calendar c;
  EXPECT_EQ(c.DueAfter(Shanghai(2026, 11, 27, 16, 0), 0),
            Shanghai(2026, 11, 27, 17, 30));
}

TEST(Calendar, AfterTheCloseTheDayCountsFromTheNextWorkingDay) {
  Calendar c;
  EXPECT_EQ(c.DueAfter(Shanghai(2026, 11, 27, 17, 30), 0),
            Shanghai(2026, 11, 30, 17, 30));
  EXPECT_EQ(c.DueAfter(Shanghai(2026, 11, 27, 20, 15), 0),
            Shanghai(2026, 11, 30, 17, 30));
}

TEST(Calendar, AWeekendApplicationIsDueOnMonday) {
  Calendar c;
  EXPECT_EQ(c.DueAfter(Shanghai(2026, 11, 28, 10, 0), 0),
            Shanghai(2026, 11, 30, 17, 30));
  EXPECT_EQ(c.DueAfter(Shanghai(2026, 11, 29, 10, 0), 1),
            Shanghai(2026, 12, 1, 17, 30));
}

TEST(Calendar, WorkingDaysSkipWeekends) {
  Calendar c;
  EXPECT_EQ(c.DueAfter(Shanghai(2026, 11, 27, 9, 0), 3),
            Shanghai(2026, 12, 2, 17, 30));
}

TEST(Calendar, HolidaysAreSkippedAndMakeUpDaysCount) {
  ASSERT_OK_AND_ASSIGN(Calendar c, Calendar::FromToml(kNationalDay, "test.toml"));
  EXPECT_EQ(c.name(), "cn-test");
  // Wednesday 30 September, 1 working day: 1-8 October are off; Friday 9 is
  // a working day.
  EXPECT_EQ(c.DueAfter(Shanghai(2026, 9, 30, 9, 0), 1),
            Shanghai(2026, 10, 9, 17, 30));
  // Saturday 10 October is a make-up working day.
  EXPECT_TRUE(c.IsWorkingDay(absl::CivilDay(2026, 10, 10)));
  EXPECT_EQ(c.DueAfter(Shanghai(2026, 10, 10, 9, 0), 0),
            Shanghai(2026, 10, 10, 17, 30));
  // Negative control: the default calendar has no holidays.
  EXPECT_EQ(Calendar().DueAfter(Shanghai(2026, 9, 30, 9, 0), 1),
            Shanghai(2026, 10, 1, 17, 30));
}

TEST(Calendar, TheCloseIsConfigurable) {
  ASSERT_OK_AND_ASSIGN(Calendar c, Calendar::FromToml("close = \"18:00\"", "t"));
  EXPECT_EQ(c.DueAfter(Shanghai(2026, 11, 27, 17, 45), 0),
            Shanghai(2026, 11, 27, 18, 0));
}

TEST(Calendar, BadFilesNameTheLineAndWhatToFix) {
  EXPECT_THAT(Calendar::FromToml("holidays = [\"2026-13-01\"]", "c.toml"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  absl::Status s = Calendar::FromToml("name = \"x\"\nholiday = []", "c.toml").status();
  EXPECT_THAT(s, HasReason("CONFIG_INVALID"));
  EXPECT_NE(std::string(s.message()).find("c.toml:2:"), std::string::npos) << s;
  EXPECT_NE(std::string(s.message()).find("holidays"), std::string::npos) << s;
  EXPECT_THAT(Calendar::FromToml("open = \"9am\"", "c.toml"),
              HasReason("CONFIG_INVALID"));
  EXPECT_THAT(Calendar::FromToml("open = \"18:00\"\nclose = \"09:00\"", "c.toml"),
              HasReason("CONFIG_INVALID"));
  EXPECT_THAT(Calendar::FromToml("time_zone = \"Mars/Olympus\"", "c.toml"),
              HasReason("CONFIG_INVALID"));
  EXPECT_THAT(Calendar::FromFile("/nonexistent/calendar.toml"),
              HasReason("CONFIG_INVALID"));
}

}  // namespace
}  // namespace referral::deadlines
