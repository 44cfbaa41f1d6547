// Deadlines in a case: the one table of deadline kinds (how long each gives,
// when it warns, whether it escalates), the helpers commands use to set and
// clear them in the same append as the obligation, and the fold that says
// where each deadline of a case stands.
//
// A deadline is four kinds of event in the case's own stream: DeadlineSet
// (by the command that creates the obligation), DeadlineCleared (by the
// command that meets it), and DeadlineWarned / DeadlineBreached +
// EscalationRaised / ReminderSent (by the deadlines service, Scheduler,
// each exactly once: their event ids derive from the deadline id).

#ifndef REFERRAL_SERVICES_DEADLINES_DEADLINES_H_
#define REFERRAL_SERVICES_DEADLINES_DEADLINES_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "referral/v1/deadline.pb.h"
#include "referral/v1/event.pb.h"
#include "referral/v1/referral.pb.h"
#include "services/deadlines/calendar.h"

namespace referral::deadlines {

struct KindRule {
  v1::DeadlineKind kind;
  absl::string_view key;  // "referral-acceptance": on the command line
  absl::string_view en;
  absl::string_view zh;
  // Working days the obligation gets (0 = the same working day); -1 when
  // the command names the due time itself (instalments, meetings).
  int working_days;
  // Warn at this fraction of the time from set to due; 0 = no warning.
  double warn_at;
  // A breach escalates (DeadlineBreached + EscalationRaised); otherwise the
  // due time only sends a reminder (ReminderSent).
  bool escalates;
};

// Every kind, in enum order.
absl::Span<const KindRule> Kinds();
const KindRule& RuleFor(v1::DeadlineKind kind);

// Working days an addressee gets to accept a referral of this priority:
// the green channel the same day, urgent 1, routine 3.
int AcceptanceWorkingDays(v1::Priority priority);

struct DeadlineSpec {
  v1::DeadlineKind kind = v1::DEADLINE_KIND_UNSPECIFIED;
  std::string deadline_id;
  std::string subject_id;
  std::string responsible_node;
  // Overrides the kind's working days when set.
  std::optional<absl::Time> due_time;
  std::optional<int> working_days;
  std::string escalate_to;
  std::string description;
  std::vector<std::string> notify_nodes;
};

// The DeadlineSet event for `spec`, set at `now`, its due and warning times
// computed on `calendar`. Its involved nodes are the responsible node, the
// escalation target and the notified nodes.
v1::Event SetDeadline(const DeadlineSpec& spec, absl::Time now,
                      const Calendar& calendar);

// The DeadlineCleared event for a deadline.
v1::Event ClearDeadline(absl::string_view deadline_id, absl::string_view reason,
                        absl::string_view responsible_node);

// Where each deadline of one case stands.
class DeadlineFold {
 public:
  void Apply(const v1::Event& event);
  static DeadlineFold Of(const std::vector<v1::Event>& events);

  // nullptr when the case has no such deadline.
  const v1::Deadline* Find(absl::string_view deadline_id) const;
  // Not yet cleared (pending, warned or breached).
  bool IsOpen(absl::string_view deadline_id) const;
  // By deadline id.
  const std::map<std::string, v1::Deadline, std::less<>>& all() const {
    return deadlines_;
  }

 private:
  std::map<std::string, v1::Deadline, std::less<>> deadlines_;
};

// Event ids the deadlines service gives a deadline's stages, so each is
// appended at most once: "dl.<32 hex of SHA-256(case, deadline id)>.<stage>".
std::string StageEventId(absl::string_view case_id, absl::string_view deadline_id,
                         absl::string_view stage);

}  // namespace referral::deadlines

#endif  // REFERRAL_SERVICES_DEADLINES_DEADLINES_H_
