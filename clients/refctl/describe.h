// How refctl names things for people: Chinese and English labels from
// common/vocabulary.h, one-line summaries of events, the timeline of a case.

#ifndef REFERRAL_CLIENTS_REFCTL_DESCRIBE_H_
#define REFERRAL_CLIENTS_REFCTL_DESCRIBE_H_

#include <cctype>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/vocabulary.h"
#include "google/protobuf/repeated_field.h"
#include "google/protobuf/timestamp.pb.h"
#include "referral/v1/event.pb.h"
#include "referral/v1/referral.pb.h"

namespace referral::refctl {

// "已受理 accepted"; "?" and the number for a value the table lacks.
template <typename Enum>
std::string Label(absl::Span<const Term<Enum>> table, Enum value) {
  if (const Term<Enum>* t = FindTerm(table, value)) {
    return std::string(t->zh) + " " + std::string(t->key);
  }
  return value == Enum{} ? std::string("-") : "? " + std::to_string(value);
}

// Looks a key up as typed on the command line: case-insensitive, '-' and '_'
// alike, and "REFERRAL_STATE_ACCEPTED"-style enum names accepted.
template <typename Enum>
const Term<Enum>* ParseTerm(absl::Span<const Term<Enum>> table,
                            absl::string_view typed,
                            absl::string_view enum_prefix = "") {
  std::string k;
  for (char c : typed) k.push_back(c == '-' ? '_' : static_cast<char>(std::tolower(c)));
  std::string prefix;
  for (char c : enum_prefix) prefix.push_back(static_cast<char>(std::tolower(c)));
  if (!prefix.empty() && k.rfind(prefix, 0) == 0) k.erase(0, prefix.size());
  return FindTerm(table, absl::string_view(k));
}

absl::Time TimeOf(const google::protobuf::Timestamp& ts);
// When an event happened: its `time`, else when it was recorded.
absl::Time EventTime(const v1::Event& e);

// "r2" for "qinzhou.justice:2026-000001/r2" (the part after the last '/').
std::string ShortReferralId(absl::string_view referral_id);

// The event kind: "受理" and "ReferralAccepted".
std::string EventZh(const v1::Event& e);
std::string EventType(const v1::Event& e);

// One line about what the event says, e.g.
// "r1 → qinzhou.labor-inspection: 责令支付工资 · 绿色通道 · due 2026-12-01 17:00".
std::string Summary(const v1::Event& e);

// A timeline of a case's events: one row per event.
struct TimelineRow {
  std::string seq;
  std::string time;  // Asia/Shanghai
  std::string gap;   // since the previous step
  std::string node;
  std::string event_zh;
  std::string event_type;
  std::string summary;
};
std::vector<TimelineRow> Timeline(
    const google::protobuf::RepeatedPtrField<v1::Event>& events);

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_DESCRIBE_H_
