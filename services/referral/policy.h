// The authorisation policy: one row per ReferralService method saying what
// the calling node must be. The broker asks Authorize() before every read and
// every step; tests walk the same rows to prove each method refuses the
// wrong node. Which side of a referral may take each step (sender or
// addressee) is in the state machine table, not here.

#ifndef REFERRAL_SERVICES_REFERRAL_POLICY_H_
#define REFERRAL_SERVICES_REFERRAL_POLICY_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "absl/status/statusor.h"
#include "referral/v1/referral.pb.h"
#include "services/referral/access.h"
#include "services/referral/case_projection.h"
#include "services/referral/state_machine.h"

namespace referral::broker {

enum class Requirement {
  // Any authenticated node, acting on its own behalf (its own cases, its own
  // inbox).
  kSelf,
  // A node party to the case: its owner, or a sender or addressee of one of
  // its referrals.
  kCaseParty,
  // The side of the referral that the state machine names for the step.
  kReferralRole,
  // A node party to the case, or an investigator of the access list
  // (access.h) that says why it reads (`purpose`). For a search: the cases
  // the caller is party to, or every case for an investigator with a
  // purpose. An investigator's reads are recorded in the audit stream.
  kInvestigatorOrParty,
  // An auditor of the access list: reads the audit streams.
  kAuditor,
};

struct Rule {
  absl::string_view method;  // ReferralService method name
  Requirement requirement;
};

absl::Span<const Rule> Policy();
const Rule& RuleFor(absl::string_view method);

// PERMISSION_DENIED (NOT_A_PARTY) when `caller` is not party to the case.
absl::Status RequireParty(absl::string_view caller, const CaseProjection& c);

// How a caller was admitted under kInvestigatorOrParty.
enum class ReadAs { kParty, kInvestigator };

// kInvestigatorOrParty for a read of one case. An investigator that gives a
// purpose reads as an investigator (even of its own cases: the purpose is
// what makes the read an investigation); without one it reads as what it is
// to the case. Errors: INVALID_FIELD (purpose) for an investigator without a
// purpose on a case it is not party to; PERMISSION_DENIED (NOT_A_PARTY) for
// any other node not party to it.
absl::StatusOr<ReadAs> AuthorizeCaseRead(absl::string_view caller,
                                         const CaseProjection& c,
                                         absl::string_view purpose,
                                         const AccessList& access);

// kInvestigatorOrParty for a search: kInvestigator (every case) for an
// investigator with a purpose, kParty (the caller's own cases) otherwise.
ReadAs SearchScope(absl::string_view caller, absl::string_view purpose,
                   const AccessList& access);

// kAuditor: PERMISSION_DENIED (NOT_ALLOWED_FOR_ROLE) naming the auditors
// when `caller` is not one.
absl::Status RequireAuditor(absl::string_view caller, const AccessList& access);

// PERMISSION_DENIED (NOT_ALLOWED_FOR_ROLE) when `caller` is not the side of
// `referral` that `step` needs; the message names the state.
absl::Status RequireRole(absl::string_view caller, const v1::Referral& referral,
                         const Transition& step);

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_POLICY_H_
