// MeetingProjection folds a case's events, in order, into the case's
// meetings (v1::Meeting): who convened them, who is invited and how each
// answered, when and where they are, whether they were held, and what came
// of them (findings, agreement, payments, failure). It is the only place
// where events become meeting state; the mediation service decides on it and
// its readers show it.
//
// Besides the Meeting messages it keeps what the service needs to decide but
// the contract does not show: each meeting's stage (held with an agreement,
// held and failed, ...) and its current reminder deadline.
//
// Ids: a case's n-th meeting is "<case_id>/m<n>"; a meeting's k-th invitee
// is "i<k>"; instalment n of its agreement has the deadline
// "<meeting_id>/i<n>"; its reminders are "<meeting_id>/remind", then
// "<meeting_id>/remind1", "<meeting_id>/remind2", ... one per reminder set.
//
// Thread safety: none; one projection per call.

#ifndef REFERRAL_SERVICES_MEDIATION_MEETING_PROJECTION_H_
#define REFERRAL_SERVICES_MEDIATION_MEETING_PROJECTION_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "referral/v1/event.pb.h"
#include "referral/v1/mediation.pb.h"

namespace referral::mediation {

// Where a meeting stands, finer than v1::MeetingState: a HELD meeting is
// kHeld until its mediation ends in an agreement (kAgreed) or without one
// (kFailed). The command table (meeting_rules.h) is written in stages.
enum class Stage {
  kNew,  // not convened yet: the state ConveneMeeting starts from
  kScheduled,
  kHeld,
  kAgreed,
  kFailed,
  kCancelled,
};

// "SCHEDULED", "AGREED", ... for messages.
absl::string_view StageName(Stage stage);

// One meeting as folded.
struct MeetingView {
  v1::Meeting meeting;
  Stage stage = Stage::kNew;
  // The reminder deadline set last ("" before any), and how many were set.
  std::string reminder_id;
  int reminders = 0;
  // When the agreement was recorded (its event's time); unset before.
  google::protobuf::Timestamp agreement_time;
};

class MeetingProjection {
 public:
  // Applies the next event of the case. Events that are not about meetings
  // are ignored, except a DeadlineBreached of an instalment ("<meeting>/i<n>"),
  // which marks the instalment MISSED unless it was paid in full.
  void Apply(const v1::Event& event);

  static MeetingProjection Fold(const std::vector<v1::Event>& events);

  // nullptr when the case has no such meeting.
  const MeetingView* Find(absl::string_view meeting_id) const;

  // In the order they were convened.
  const std::vector<MeetingView>& meetings() const { return meetings_; }

  // The id the case's next meeting gets.
  std::string NextMeetingId(absl::string_view case_id) const;

 private:
  MeetingView* Mutable(absl::string_view meeting_id);

  std::vector<MeetingView> meetings_;
};

// The case a meeting belongs to ("c/m2" -> "c"); empty when malformed.
std::string CaseOfMeeting(absl::string_view meeting_id);

// The next invitee id of a meeting: "i<k+1>" after k invitees.
std::string NextInviteeId(const v1::Meeting& meeting);

// The invitee with this id, or the node invitee for `node`; nullptr if none.
const v1::Invitee* FindInvitee(const v1::Meeting& meeting,
                               absl::string_view invitee_id);
const v1::Invitee* FindNodeInvitee(const v1::Meeting& meeting,
                                   absl::string_view node);

// The nodes invited to a meeting, in invitation order.
std::vector<std::string> InvitedNodes(const v1::Meeting& meeting);

// The deadline of instalment `number`: "<meeting_id>/i<number>".
std::string InstalmentDeadlineId(absl::string_view meeting_id, int number);

// The id of a meeting's next reminder deadline, after `reminders` were set.
std::string ReminderDeadlineId(absl::string_view meeting_id, int reminders);

// Whether two slots share any time ([start, end) intervals: a meeting that
// ends at 10:00 does not overlap one that starts at 10:00).
bool Overlaps(const v1::MeetingSlot& a, const v1::MeetingSlot& b);

}  // namespace referral::mediation

#endif  // REFERRAL_SERVICES_MEDIATION_MEETING_PROJECTION_H_
