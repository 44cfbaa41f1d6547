#include "services/deadlines/calendar.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "toml++/toml.h"

namespace referral::deadlines {
namespace {

absl::string_view Sv(std::string_view s) { return {s.data(), s.size()}; }

absl::Status ConfigError(absl::string_view source, const toml::source_position& at,
                         absl::string_view what) {
  return MakeError(
      ErrorReason::kConfigInvalid,
      absl::StrCat(source, ":", at.line, ":", at.column, ": ", what),
      absl::StrCat("工作日历配置有误（", source, " 第 ", at.line, " 行）：", what));
}

absl::TimeZone Shanghai() {
  absl::TimeZone z;
  // The zone database may be missing in a minimal container; China has had
  // no daylight saving since 1991, so a fixed +08:00 is the same.
  if (!absl::LoadTimeZone("Asia/Shanghai", &z)) z = absl::FixedTimeZone(8 * 3600);
  return z;
}

// "08:30" -> 8h30m.
bool ParseClock(absl::string_view s, absl::Duration* out) {
  std::vector<absl::string_view> hm = absl::StrSplit(s, ':');
  int h = 0;
  int m = 0;
  if (hm.size() != 2 || hm[0].size() != 2 || hm[1].size() != 2 ||
      !absl::SimpleAtoi(hm[0], &h) || !absl::SimpleAtoi(hm[1], &m) || h < 0 ||
      h > 24 || m < 0 || m > 59 || (h == 24 && m != 0)) {
    return false;
  }
  *out = absl::Hours(h) + absl::Minutes(m);
  return true;
}

bool ParseDay(absl::string_view s, absl::CivilDay* out) {
  return s.size() == 10 && absl::ParseCivilTime(s, out);
}

}  // namespace

Calendar::Calendar() : zone_(Shanghai()) {}

absl::StatusOr<Calendar> Calendar::FromToml(absl::string_view text,
                                            absl::string_view source) {
  toml::table root;
  try {
    root = toml::parse(std::string_view(text.data(), text.size()),
                       std::string_view(source.data(), source.size()));
  } catch (const toml::parse_error& e) {
    return ConfigError(source, e.source().begin, Sv(e.description()));
  }
  Calendar c;
  for (auto&& [key, value] : root) {
    const std::string_view k = key.str();
    const toml::source_position at = value.source().begin;
    auto text_value = [&]() -> std::optional<std::string> {
      if (auto s = value.value<std::string>()) return *s;
      return std::nullopt;
    };
    if (k == "name" || k == "time_zone" || k == "open" || k == "close") {
      std::optional<std::string> s = text_value();
      if (!s || s->empty()) {
        return ConfigError(source, at,
                           absl::StrCat(Sv(k), " must be a non-empty string"));
      }
      if (k == "name") {
        c.name_ = *s;
      } else if (k == "time_zone") {
        if (!absl::LoadTimeZone(*s, &c.zone_)) {
          if (*s != "Asia/Shanghai") {
            return ConfigError(source, at,
                               absl::StrCat("unknown time zone \"", *s,
                                            "\"; use an IANA name such as "
                                            "Asia/Shanghai"));
          }
          c.zone_ = Shanghai();
        }
      } else {
        absl::Duration d;
        if (!ParseClock(*s, &d)) {
          return ConfigError(source, at,
                             absl::StrCat(Sv(k), " \"", *s,
                                          "\" is not a time of day like \"08:30\""));
        }
        (k == "open" ? c.open_ : c.close_) = d;
      }
    } else if (k == "holidays" || k == "extra_working_days") {
      const toml::array* days = value.as_array();
      if (days == nullptr) {
        return ConfigError(source, at,
                           absl::StrCat(Sv(k), " must be a list of dates like "
                                               "[\"2026-10-01\"]"));
      }
      for (const toml::node& d : *days) {
        std::optional<std::string> s = d.value<std::string>();
        absl::CivilDay day;
        if (!s || !ParseDay(*s, &day)) {
          return ConfigError(source, d.source().begin,
                             absl::StrCat("each of ", Sv(k),
                                          " must be a date like \"2026-10-01\""));
        }
        (k == "holidays" ? c.holidays_ : c.extra_working_days_).insert(day);
      }
    } else {
      return ConfigError(source, key.source().begin,
                         absl::StrCat("unknown key \"", Sv(k),
                                      "\"; the keys are name, time_zone, open, "
                                      "close, holidays, extra_working_days"));
    }
  }
  if (c.close_ <= c.open_) {
    return ConfigError(source, toml::source_position{1, 1},
                       "close must be later than open");
  }
  for (const absl::CivilDay& d : c.holidays_) {
    if (c.extra_working_days_.count(d)) {
      return ConfigError(source, toml::source_position{1, 1},
                         absl::StrCat(absl::FormatCivilTime(d),
                                      " is both a holiday and a working day"));
    }
  }
  return c;
}

absl::StatusOr<Calendar> Calendar::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return MakeError(ErrorReason::kConfigInvalid,
                     absl::StrCat("cannot read calendar file ", path,
                                  ": check the --calendar path"),
                     absl::StrCat("无法读取工作日历文件 ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  return FromToml(text.str(), path);
}

absl::StatusOr<Calendar> Calendar::FromFileOrDefault(const std::string& path) {
  if (path.empty()) return Calendar();
  return FromFile(path);
}

bool Calendar::IsWorkingDay(absl::CivilDay day) const {
  if (extra_working_days_.count(day)) return true;
  if (holidays_.count(day)) return false;
  const absl::Weekday w = absl::GetWeekday(day);
  return w != absl::Weekday::saturday && w != absl::Weekday::sunday;
}

absl::Time Calendar::DueAfter(absl::Time start, int working_days) const {
  const absl::CivilSecond local = absl::ToCivilSecond(start, zone_);
  absl::CivilDay day(local);
  // After the close, the day is over: count from the next working day.
  const absl::Duration since_midnight =
      absl::Seconds(local - absl::CivilSecond(day));
  if (since_midnight >= close_) ++day;
  while (!IsWorkingDay(day)) ++day;
  for (int i = 0; i < working_days; ++i) {
    ++day;
    while (!IsWorkingDay(day)) ++day;
  }
  return absl::FromCivil(absl::CivilSecond(day), zone_) + close_;
}

absl::Time Calendar::Between(absl::Time start, absl::Time due, double fraction) {
  if (due <= start) return due;
  return start + (due - start) * fraction;
}

}  // namespace referral::deadlines
