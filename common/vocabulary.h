// The domain's vocabulary in one table each: every agency kind, node level
// and menu matter, and every referral state, outcome, priority, intake channel,
// party role and event kind, with its configuration key, English and Chinese
// label. Configuration files, refctl and the services all read these tables.

#ifndef REFERRAL_COMMON_VOCABULARY_H_
#define REFERRAL_COMMON_VOCABULARY_H_

#include <optional>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "referral/v1/directory.pb.h"
#include "referral/v1/event.pb.h"
#include "referral/v1/referral.pb.h"

namespace referral {

template <typename Enum>
struct Term {
  Enum value;
  absl::string_view key;  // in configuration files and on the command line
  absl::string_view en;
  absl::string_view zh;
};

absl::Span<const Term<v1::NodeKind>> NodeKinds();
absl::Span<const Term<v1::NodeLevel>> NodeLevels();
absl::Span<const Term<v1::Matter>> Matters();

// Referral states (REFERRAL-MODEL.md), e.g. {ACCEPTED, "accepted",
// "accepted", "已受理"}.
absl::Span<const Term<v1::ReferralState>> ReferralStates();
// How a completed referral ended, e.g. "wages_recovered" 追回工资.
absl::Span<const Term<v1::Outcome>> Outcomes();
// routine / urgent / green (绿色通道).
absl::Span<const Term<v1::Priority>> Priorities();
// How a case arrived: hotline (12348), walk-in, online, petition, inspection.
absl::Span<const Term<v1::IntakeChannel>> IntakeChannels();
// A party's place in a case: worker, worker_group, developer, ...
absl::Span<const Term<v1::PartyRole>> PartyRoles();
// Every event body of the case log; `key` is the body's message name
// without the package, e.g. "ReferralAccepted".
absl::Span<const Term<v1::Event::BodyCase>> EventKinds();

// Why a reader saw personal data in clear (event.proto): owner,
// working_addressee, investigator.
absl::Span<const Term<v1::AccessRole>> AccessRoles();

// Meetings (mediation.proto): mediation (调解会) or joint conference (联席会商).
absl::Span<const Term<v1::MeetingKind>> MeetingKinds();
// scheduled / held / cancelled.
absl::Span<const Term<v1::MeetingState>> MeetingStates();
// An invitee's answer: pending, accepted, declined, propose (另约时间).
absl::Span<const Term<v1::InvitationResponse>> InvitationResponses();
// Where an instalment of an agreement stands: due, paid, paid_late, missed.
absl::Span<const Term<v1::InstalmentState>> InstalmentStates();

// Deadlines (deadline.proto): pending, warned, breached (逾期), met, met
// late, reminded.
absl::Span<const Term<v1::DeadlineState>> DeadlineStates();

// Legal aid (legalaid.proto): where an application stands, applied (已申请)
// to closed (已结案).
absl::Span<const Term<v1::LegalAidState>> LegalAidStates();
// How a lawyer's work was evaluated: hearing (庭审旁听), follow_up
// (受援人回访), expert (专家评估).
absl::Span<const Term<v1::EvaluationKind>> EvaluationKinds();

// Looks a term up by key or by value; nullptr when unknown.
template <typename Enum>
const Term<Enum>* FindTerm(absl::Span<const Term<Enum>> table,
                           absl::string_view key) {
  for (const auto& t : table) {
    if (t.key == key) return &t;
  }
  return nullptr;
}
template <typename Enum>
const Term<Enum>* FindTerm(absl::Span<const Term<Enum>> table, Enum value) {
  for (const auto& t : table) {
    if (t.value == value) return &t;
  }
  return nullptr;
}

// "wage_arrears, work_injury, ..." for error messages.
template <typename Enum>
std::string KeysOf(absl::Span<const Term<Enum>> table) {
  std::string out;
  for (const auto& t : table) {
    if (!out.empty()) out += ", ";
    out.append(t.key.data(), t.key.size());
  }
  return out;
}

}  // namespace referral

#endif  // REFERRAL_COMMON_VOCABULARY_H_
