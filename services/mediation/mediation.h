// Mediation: the mediation service's core. It convenes mediation meetings
// (调解会) and joint case conferences (联席会商) of a case, and records what
// comes of them: the invitees' answers, reschedules and cancellations,
// attendance and minutes, the legal-responsibility analysis, the agreement
// with its instalments, a failed mediation, and payments against the
// agreement. It knows nothing of gRPC: the case log and the directory are
// ports (services/referral/ports.h), and the caller is a node name the
// adapter has already authenticated.
//
// Every command runs through broker::CaseCommands on the case's own stream:
// it is decided on a fresh fold of the case (CaseProjection for who is party,
// MeetingProjection for the meetings, DeadlineFold for their deadlines),
// appended with the case's version as the expected version, and has its
// effect once per (caller, request_id); a retry returns the first answer,
// conflicts included. Bad input is refused before anything is written.
// What the request alone shows (shape, sizes, sums, order) is checked
// before the case is read; what depends on the world outside the request
// (the clock, the directory) only after CaseCommands has looked for an
// earlier execution, so a retry of a command that succeeded is answered
// as it was, however late it comes.
//
// Who may do what, from which stage, is in one table (meeting_rules.h).
// The rules that are not about roles and stages:
//  - A meeting needs a kind, a title, a slot (end after start, at most
//    kMaxMeetingLength, a place) and at least one invitee: an agency node
//    that the directory knows, or an outside party with a role and a name.
//    Nobody is invited twice, and the convener is not its own invitee.
//  - Sizes (INVALID_FIELD naming the field, nothing written): free text
//    (title, agenda items, place, note, reason, minutes, findings, terms,
//    payer, guarantor, next step, reference, party names) at most
//    kMaxTextBytes (common/text_limits.h); the limits below on lists.
//  - Invitation events name the invited node in involved_nodes: the node
//    sees them in its feed and is party to the case from then on. Every
//    later event of the meeting names all invited nodes the same way.
//  - Inviting a node (convene, invite, reschedule) looks for the node's
//    other SCHEDULED meetings, in any case, whose slot overlaps. A warning,
//    not a refusal, recorded in the same append as MeetingOverlapWarned
//    events that involve the node. Every party of this case reads them, so
//    they name another meeting only when it is in this case: one warning
//    per clashing meeting of this case (other_meeting_id, other_slot), and
//    one warning with the node alone when it has clashing meetings in
//    other cases (how many, which and where stay in those cases).
//    The invited node learns which of its meetings clash from its feed:
//    the warning involves it and names this meeting, whose slot it can
//    read (it is party to this case now), and ListMeetings (its own)
//    shows its meetings with their slots.
//    The caller's answer carries the recorded warnings, and, for a
//    node-only warning, each clashing meeting of a case the caller is
//    party to (id and slot, as that case stood when the command was
//    appended: a retry answers alike); the node-only entry stays when
//    some clash is in a case the caller is not party to.
//  - A reschedule resets every answer to PENDING.
//  - An agreement is for a HELD mediation meeting: instalments numbered
//    1..n, each more than zero and named payer, due times increasing and
//    after now, amounts summing to total_fen, and a fallback node of kind
//    labour inspection or arbitration.
//  - A payment is against an existing instalment, more than zero and no
//    more than what is left of it, paid (paid_time) neither in the future
//    nor before the agreement was recorded.
//  - Every event a command appends has the service clock's now as its
//    time (one reading per decision).
//
// Deadlines, always through services/deadlines/deadlines.h and in the same
// append as the obligation (the deadlines service fires them):
//  - convene sets a MEETING_REMINDER "<meeting>/remind", due an hour before
//    the start (or now, when that is past), notifying the invited nodes;
//    reschedule, and an invite that adds nodes, clear it and set the next
//    ("<meeting>/remind1", ...); cancel and held clear it.
//  - an agreement sets one INSTALMENT_PAYMENT "<meeting>/i<n>" per
//    instalment, due at its due time, responsible the convener, escalating
//    to the fallback node; the payment that completes an instalment clears
//    it. A breach (DeadlineBreached, by the deadlines service) shows the
//    instalment MISSED.
//
// Personal data. An outside invitee's Party (its contact) is the case's
// personal data: every answer that carries a meeting shows it as the privacy
// table (services/referral/privacy.h) says for the caller's row on the case
// as it stands: in clear for the owner and an addressee working the case,
// masked for any other party (an invited node among them). A read that
// shows it in clear, a command's answer included, is recorded in
// "audit:<case_id>" before the answer is given (read_audit.h; the method is
// the RPC's name), and fails when that record cannot be written; a command
// retried with the same request_id then answers without writing again.
// ListMeetings is masked for everyone.
//
// Thread safety: all methods may be called concurrently.

#ifndef REFERRAL_SERVICES_MEDIATION_MEDIATION_H_
#define REFERRAL_SERVICES_MEDIATION_MEDIATION_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "referral/v1/mediation_service.pb.h"
#include "services/deadlines/calendar.h"
#include "services/deadlines/deadlines.h"
#include "services/mediation/meeting_projection.h"
#include "services/mediation/meeting_rules.h"
#include "services/referral/case_commands.h"
#include "services/referral/case_projection.h"
#include "services/referral/ports.h"

namespace referral::mediation {

// Limits on what one request may add to a meeting (INVALID_FIELD beyond).
// Invitees, all invitations of a meeting together.
inline constexpr int kMaxInvitees = 50;
inline constexpr int kMaxAgendaItems = 30;
// Of one liability analysis, and of one agreement (five years, monthly).
inline constexpr int kMaxFindings = 50;
inline constexpr int kMaxInstalments = 60;
// A meeting (and a proposed time) lasts at most this long.
inline constexpr absl::Duration kMaxMeetingLength = absl::Hours(24);

struct MediationOptions {
  // Decide-and-append attempts before a contended command gives up
  // (ABORTED, CONCURRENT_MODIFICATION: retry with the same request_id).
  int max_attempts = 8;
  // Now: event times, reminder due times, payments without a paid_time,
  // and the checks that instalments fall due in the future and payments
  // were not made in it.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // How long before a meeting's start its reminder is due.
  absl::Duration reminder_lead = absl::Hours(1);
};

class Mediation {
 public:
  // The ports and the calendar are not owned and must outlive this.
  Mediation(broker::CaseLogPort* log, broker::DirectoryPort* directory,
            const deadlines::Calendar* calendar, MediationOptions options = {});

  // Errors of every command: INVALID_FIELD (bad input; nothing written),
  // NOT_A_PARTY (the caller is not party to the case), MEETING_NOT_FOUND /
  // CASE_NOT_FOUND, NOT_ALLOWED_FOR_ROLE and MEETING_STATE_CONFLICT (the
  // table), NODE_NOT_FOUND (an invited or fallback node the directory does
  // not know), REQUEST_ID_REUSED, CONCURRENT_MODIFICATION, UNAVAILABLE.
  absl::StatusOr<v1::ConveneMeetingResponse> ConveneMeeting(
      absl::string_view caller, const v1::ConveneMeetingRequest& request);
  absl::StatusOr<v1::InviteParticipantsResponse> InviteParticipants(
      absl::string_view caller, const v1::InviteParticipantsRequest& request);
  absl::StatusOr<v1::AnswerInvitationResponse> AnswerInvitation(
      absl::string_view caller, const v1::AnswerInvitationRequest& request);
  absl::StatusOr<v1::RescheduleMeetingResponse> RescheduleMeeting(
      absl::string_view caller, const v1::RescheduleMeetingRequest& request);
  absl::StatusOr<v1::CancelMeetingResponse> CancelMeeting(
      absl::string_view caller, const v1::CancelMeetingRequest& request);
  absl::StatusOr<v1::RecordMeetingHeldResponse> RecordMeetingHeld(
      absl::string_view caller, const v1::RecordMeetingHeldRequest& request);
  absl::StatusOr<v1::RecordLiabilityResponse> RecordLiability(
      absl::string_view caller, const v1::RecordLiabilityRequest& request);
  absl::StatusOr<v1::RecordAgreementResponse> RecordAgreement(
      absl::string_view caller, const v1::RecordAgreementRequest& request);
  absl::StatusOr<v1::RecordMediationFailedResponse> RecordMediationFailed(
      absl::string_view caller, const v1::RecordMediationFailedRequest& request);
  absl::StatusOr<v1::RecordPaymentResponse> RecordPayment(
      absl::string_view caller, const v1::RecordPaymentRequest& request);

  // One meeting; the caller must be party to its case. Personal data as
  // the class comment says; errors also the audit append's.
  absl::StatusOr<v1::GetMeetingResponse> GetMeeting(
      absl::string_view caller, const v1::GetMeetingRequest& request);
  // By case (the caller must be party to it), or the meetings a node
  // convened or is invited to, in any case; a node lists only its own.
  // By start time; personal data masked.
  absl::StatusOr<v1::ListMeetingsResponse> ListMeetings(
      absl::string_view caller, const v1::ListMeetingsRequest& request);

 private:
  // A case as a command decides on it.
  struct CaseState {
    broker::CaseProjection c;
    MeetingProjection meetings;
    deadlines::DeadlineFold deadlines;
    // The clock, read once per decision.
    absl::Time now;
  };
  using Decide = std::function<absl::StatusOr<std::vector<v1::Event>>(
      const CaseState&)>;
  // What a command left: the case's meetings right after its own events,
  // and the overlap warnings among them as the caller may see them.
  struct Outcome {
    MeetingProjection meetings;
    std::vector<v1::MeetingConflict> conflicts;
  };
  // The body of a command on one meeting, after the table's checks.
  using DecideOnMeeting = std::function<absl::StatusOr<std::vector<v1::Event>>(
      const CaseState&, const MeetingView&)>;

  absl::StatusOr<Outcome> Execute(absl::string_view caller,
                                  const std::string& case_id,
                                  const std::string& request_id,
                                  const google::protobuf::Message& request,
                                  const Decide& decide);
  // A command on an existing meeting: finds it, checks the caller is party
  // to the case and the table's row (stage; who, except for answers, which
  // check who after finding the invitation), then runs `body`.
  absl::StatusOr<Outcome> OnMeeting(absl::string_view caller, Command command,
                                    const std::string& meeting_id,
                                    const std::string& request_id,
                                    const google::protobuf::Message& request,
                                    const DecideOnMeeting& body);

  // Checks invitees as given in a request: how many, shape, no
  // duplicates, not the caller. Whether the directory knows the invited
  // nodes is checked in the decision (CheckInvitedNodes).
  static absl::Status CheckInvitees(
      absl::string_view caller,
      const google::protobuf::RepeatedPtrField<v1::Invitee>& invitees);
  absl::Status CheckInvitedNodes(
      const google::protobuf::RepeatedPtrField<v1::Invitee>& invitees);
  absl::Status CheckNode(absl::string_view node, absl::string_view field);
  // Shows `answer`, given by `method` on a meeting of `case_id`, to the
  // caller as the class comment says (broker::ShowToParty on the case read
  // now); nothing is read or recorded when it holds no personal data.
  absl::Status ShowAnswer(absl::string_view caller, absl::string_view method,
                          std::string case_id, google::protobuf::Message* answer);

  // The warnings to record for `node`, invited to meeting `except` at
  // `slot`: one per clashing SCHEDULED meeting of the case at hand
  // (`current`, read fresh there), and one naming only the node when it
  // has clashing meetings in other cases.
  absl::StatusOr<std::vector<v1::MeetingConflict>> ConflictsFor(
      absl::string_view node, const v1::MeetingSlot& slot,
      const CaseState& current, absl::string_view except);
  // A meeting of `node`, and whether the viewer is party to its case.
  struct NodeMeeting {
    v1::Meeting meeting;
    bool viewer_is_party = false;
  };
  // Every meeting `node` convened or is invited to, outside `skip_case`,
  // as its case stood before global position `before` (0: as it stands);
  // whether `viewer` is party is as the case stands.
  absl::StatusOr<std::vector<NodeMeeting>> MeetingsOfNode(
      absl::string_view node, absl::string_view skip_case,
      absl::string_view viewer, uint64_t before);
  // The warnings of a command's events as `caller` may see them (see the
  // class comment): `events` are the case's up to and including the
  // command's own, `meetings` their fold.
  absl::StatusOr<std::vector<v1::MeetingConflict>> ConflictsSeenBy(
      absl::string_view caller, const std::string& case_id,
      const std::vector<v1::Event>& events, const std::string& prefix,
      const MeetingProjection& meetings);

  // The reminder event of a meeting as it will be, set at `now`.
  v1::Event Reminder(absl::string_view meeting_id, absl::string_view convener,
                     absl::string_view title, const v1::MeetingSlot& slot,
                     const std::vector<std::string>& notify,
                     const std::string& deadline_id, absl::Time now) const;

  broker::CaseLogPort* log_;
  broker::DirectoryPort* directory_;
  const deadlines::Calendar* calendar_;
  MediationOptions options_;
  broker::CaseCommands commands_;
};

}  // namespace referral::mediation

#endif  // REFERRAL_SERVICES_MEDIATION_MEDIATION_H_
