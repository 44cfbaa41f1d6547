// Who may do what to a meeting, and from which stage: one table that the
// mediation service and its tests both read. Each row is one command (one
// MediationService method that writes): the stages it may be taken from,
// who may take it, whether it is for mediation meetings only, and the event
// that records it.
//
// The roles:
//  - any node party to the case may convene a meeting of it, and becomes its
//    convener (the coordinator);
//  - only the convener changes a meeting: invites, reschedules, cancels,
//    records that it was held, the liability analysis, the agreement or the
//    failure, and payments;
//  - an invited node answers its own invitation, and nobody else answers for
//    it; the convener records the answers of the outside parties it invited
//    (developers, contractors, workers' representatives), who have no node.

#ifndef REFERRAL_SERVICES_MEDIATION_MEETING_RULES_H_
#define REFERRAL_SERVICES_MEDIATION_MEETING_RULES_H_

#include <cstdint>
#include <initializer_list>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "referral/v1/event.pb.h"
#include "referral/v1/mediation.pb.h"
#include "services/mediation/meeting_projection.h"

namespace referral::mediation {

enum class Command {
  kConvene,
  kInvite,
  kAnswer,
  kReschedule,
  kCancel,
  kRecordHeld,
  kRecordLiability,
  kRecordAgreement,
  kRecordFailed,
  kRecordPayment,
};

// Who may take a command, as bits of CommandRule::who.
enum Who : uint32_t {
  // Any node party to the case; it becomes the convener.
  kCaseParty = 1u << 0,
  // The node that convened the meeting.
  kConvener = 1u << 1,
  // An invited node, for its own invitation only.
  kInvitedNode = 1u << 2,
  // The convener, for an outside party it invited.
  kConvenerForParty = 1u << 3,
};

struct CommandRule {
  Command command;
  absl::string_view name;    // "invite": in messages and on the command line
  absl::string_view method;  // "InviteParticipants": the MediationService method
  // Stages the command may be taken from, as bits (1 << Stage).
  uint32_t from;
  // Who may take it: Who bits.
  uint32_t who;
  // Only for MEETING_KIND_MEDIATION (an agreement, a failed mediation and
  // payments against the agreement).
  bool mediation_only;
  // The event that records it.
  v1::Event::BodyCase body;
};

constexpr uint32_t Stages(std::initializer_list<Stage> stages) {
  uint32_t bits = 0;
  for (Stage s : stages) bits |= 1u << static_cast<int>(s);
  return bits;
}

// Every row, in Command order.
absl::Span<const CommandRule> CommandRules();
const CommandRule& RuleFor(Command command);

inline bool Allows(const CommandRule& rule, Stage stage) {
  return (rule.from >> static_cast<int>(stage)) & 1u;
}

// FAILED_PRECONDITION (MEETING_STATE_CONFLICT) when the meeting's stage or
// kind does not allow the command; the message names the stage and the
// stages that would.
absl::Status RequireStage(const CommandRule& rule, const MeetingView& view);

// PERMISSION_DENIED (NOT_ALLOWED_FOR_ROLE) unless `caller` is one of the
// rule's `who` for this meeting. `answering` is the invitation being
// answered (kAnswer only): an invited node may answer its own, the
// convener those of outside parties.
absl::Status RequireActor(const CommandRule& rule, absl::string_view caller,
                          const v1::Meeting& meeting,
                          const v1::Invitee* answering = nullptr);

}  // namespace referral::mediation

#endif  // REFERRAL_SERVICES_MEDIATION_MEETING_RULES_H_
