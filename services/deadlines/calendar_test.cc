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

// The shipped calendar against the State Council's notice of 4 November
// 2025: every holiday and make-up day of 2026, day by day, and New Year's
// Day 2027. Written from the notice, not from the file.
TEST(Calendar, TheShippedCalendarIsTheStateCouncilsArrangementFor2026) {
  ASSERT_OK_AND_ASSIGN(Calendar c, Calendar::FromFile(CALENDAR_TOML));
  struct Span {
    absl::CivilDay first;
    int days;
  };
  const Span off[] = {
      {absl::CivilDay(2026, 1, 1), 3},   {absl::CivilDay(2026, 2, 15), 9},
      {absl::CivilDay(2026, 4, 4), 3},   {absl::CivilDay(2026, 5, 1), 5},
      {absl::CivilDay(2026, 6, 19), 3},  {absl::CivilDay(2026, 9, 25), 3},
      {absl::CivilDay(2026, 10, 1), 7},  {absl::CivilDay(2027, 1, 1), 1},
  };
  int holidays_on_weekdays = 0;
  for (const Span& s : off) {
    for (int i = 0; i < s.days; ++i) {
      EXPECT_FALSE(c.IsWorkingDay(s.first + i)) << s.first + i;
      const absl::Weekday w = absl::GetWeekday(s.first + i);
      if (w != absl::Weekday::saturday && w != absl::Weekday::sunday) ++holidays_on_weekdays;
    }
  }
  for (absl::CivilDay made : {absl::CivilDay(2026, 1, 4), absl::CivilDay(2026, 2, 14),
                              absl::CivilDay(2026, 2, 28), absl::CivilDay(2026, 5, 9),
                              absl::CivilDay(2026, 9, 20), absl::CivilDay(2026, 10, 10)}) {
    EXPECT_TRUE(c.IsWorkingDay(made)) << made;
  }
  // Nothing else: 2026 has 261 weekdays, less the weekday holidays, plus
  // the six make-up days.
  int working = 0;
  for (absl::CivilDay d(2026, 1, 1); d < absl::CivilDay(2027, 1, 1); ++d) {
    if (c.IsWorkingDay(d)) ++working;
  }
  EXPECT_EQ(working, 261 - (holidays_on_weekdays - 1) + 6);  // less 2027-01-01
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
