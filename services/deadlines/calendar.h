// Calendar: the working-day calendar due times are computed on. A working
// day is a weekday that is not a public holiday, or a weekend day the State
// Council made a working day (调休); it runs from `open` to `close` local
// time in the calendar's zone (Asia/Shanghai by default). Loaded from a TOML
// file so each region can keep its own holidays:
//
//   name = "cn-2026"
//   time_zone = "Asia/Shanghai"
//   open = "08:30"
//   close = "17:30"
//   holidays = ["2026-10-01", "2026-10-02"]
//   extra_working_days = ["2026-09-27"]
//
// Thread safety: immutable after construction; safe to share.

#ifndef REFERRAL_SERVICES_DEADLINES_CALENDAR_H_
#define REFERRAL_SERVICES_DEADLINES_CALENDAR_H_

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"

namespace referral::deadlines {

class Calendar {
 public:
  // Monday to Friday, 08:30-17:30 Asia/Shanghai, no holidays; name "default".
  Calendar();

  // CONFIG_INVALID with "<source>:<line>:<col>: what" on a bad file.
  static absl::StatusOr<Calendar> FromToml(absl::string_view text,
                                           absl::string_view source);
  static absl::StatusOr<Calendar> FromFile(const std::string& path);
  // A service's --calendar flag: the file, or the default when empty.
  static absl::StatusOr<Calendar> FromFileOrDefault(const std::string& path);

  const std::string& name() const { return name_; }
  const absl::TimeZone& zone() const { return zone_; }

  bool IsWorkingDay(absl::CivilDay day) const;

  // The close of the working day that is `working_days` working days after
  // the working day `start` falls in. 0 = the end of the same working day.
  // A start on a non-working day, or after the close, counts from the next
  // working day: an application phoned in on a Saturday is due Monday.
  absl::Time DueAfter(absl::Time start, int working_days) const;

  // The point `fraction` (0..1) of the way from `start` to `due`.
  static absl::Time Between(absl::Time start, absl::Time due, double fraction);

 private:
  std::string name_ = "default";
  absl::TimeZone zone_;
  absl::Duration open_ = absl::Hours(8) + absl::Minutes(30);
  absl::Duration close_ = absl::Hours(17) + absl::Minutes(30);
  std::set<absl::CivilDay> holidays_;
  std::set<absl::CivilDay> extra_working_days_;
};

}  // namespace referral::deadlines

#endif  // REFERRAL_SERVICES_DEADLINES_CALENDAR_H_
