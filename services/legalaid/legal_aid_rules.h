// The legal-aid service's rules, each in one table that the service and its
// tests both read:
//
//  - Eligibility: matter x migrant worker -> green channel (三优: priority
//    acceptance, review and assignment), financial-hardship review waived
//    (免予核查经济困难状况), and the legal basis people are shown.
//  - Time limits: how many working days review and assignment get, green
//    channel and ordinary.
//  - Steps: from which states each command on an application may be taken.
//  - Quality: the pass mark of each kind of evaluation.
//  - The assignment gate: who may be assigned an application (skilled in its
//    matter, with capacity, never barred by a failed latest evaluation), and
//    which of them is picked.

#ifndef REFERRAL_SERVICES_LEGALAID_LEGAL_AID_RULES_H_
#define REFERRAL_SERVICES_LEGALAID_LEGAL_AID_RULES_H_

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "referral/v1/directory.pb.h"
#include "referral/v1/legalaid.pb.h"

namespace referral::legalaid {

// ---------------------------------------------------------------- eligibility

struct EligibilityRule {
  v1::Matter matter;
  bool migrant_worker;
  // Priority acceptance, review and assignment; review and assignment are
  // due the same working day, and the queue lists it first.
  bool green_channel;
  // No financial-hardship review (免予核查经济困难状况).
  bool waive_hardship_review;
  // Why, for people; empty for an ordinary application.
  absl::string_view basis;
};

// Every row. A (matter, migrant_worker) pair without a row is ordinary:
// the financial-hardship review applies and time limits are ordinary.
absl::Span<const EligibilityRule> EligibilityRules();
// The row for the pair, or the ordinary row (matter and flag as given, the
// rest false and empty).
EligibilityRule EligibilityFor(v1::Matter matter, bool migrant_worker);

// ---------------------------------------------------------------- time limits

struct TimeLimits {
  // Working days on the calendar (0 = the same working day) from the
  // application to the review decision, and from the decision to the
  // lawyer's assignment.
  int review_working_days;
  int assign_working_days;
  absl::string_view basis;
};

// Green channel: both the same working day (当天审查、当天指派), which is
// also the deadline kinds table's default. Ordinary: 《法律援助法》第四十三条,
// review within 7 days and assignment within 3 days of the decision,
// counted in working days on the calendar.
const TimeLimits& TimeLimitsFor(bool green_channel);

// ---------------------------------------------------------------- steps

enum class Step { kReview, kAssign, kFlag, kClose };

struct StepRule {
  Step step;
  absl::string_view name;    // "review": in messages
  absl::string_view method;  // "ReviewApplication": the LegalAidService method
  // States the step may be taken from, as bits (1 << LegalAidState).
  uint32_t from;
};

constexpr uint32_t States(std::initializer_list<v1::LegalAidState> states) {
  uint32_t bits = 0;
  for (v1::LegalAidState s : states) bits |= 1u << static_cast<int>(s);
  return bits;
}

// Every row, in Step order. Only the justice node an application belongs to
// takes any of these steps on it.
absl::Span<const StepRule> StepRules();
const StepRule& RuleFor(Step step);
bool Allows(const StepRule& rule, v1::LegalAidState state);

// ---------------------------------------------------------------- quality

struct PassMark {
  v1::EvaluationKind kind;
  // The lowest score that can pass (合格).
  int score;
};

absl::Span<const PassMark> PassMarks();
// The pass mark of a kind; 101 (nothing passes) for an unknown kind.
int PassMarkFor(v1::EvaluationKind kind);

// Whether an evaluation passes: the evaluator's verdict (`verdict_passed`)
// AND a score at or above the kind's pass mark. A score below the mark fails
// whatever the verdict; the evaluator may still fail a lawyer whose score
// reaches it (a complaint upheld, a missed hearing). An evaluation that says
// nothing about the verdict (proto3 false) fails: the gate fails closed.
bool EvaluationPasses(v1::EvaluationKind kind, int score, bool verdict_passed);

// ---------------------------------------------------------------- the gate

// Why a lawyer may not take an application, checked in this order.
enum class Gate {
  kEligible,
  // The latest quality evaluation failed: no new assignments until a later
  // evaluation passes.
  kBarred,
  // The matter is not among the lawyer's specialties.
  kNotSkilled,
  // active_cases has reached capacity.
  kFull,
};

Gate GateFor(const v1::Lawyer& lawyer, v1::Matter matter);
// "latest evaluation failed (expert review, 52)", "not skilled in work
// injury", "at capacity (3 of 3)": for messages.
std::string GateReason(const v1::Lawyer& lawyer, v1::Matter matter, Gate gate);
// Stable key of a gate outcome, for error metadata: "barred", ...
absl::string_view GateKey(Gate gate);

// The lawyer to assign an application of `matter` from `roster` (by lawyer
// id): `preferred` when given and it passes the gate; otherwise, among those
// that pass, the least loaded (fewest active cases), then the best latest
// evaluation score (none counts as 0), then the smallest id.
//   FAILED_PRECONDITION (NO_ELIGIBLE_LAWYER): the preferred lawyer fails the
//     gate (the message says why), or nobody passes it (the message counts
//     who was turned away for what).
//   NOT_FOUND (LAWYER_NOT_FOUND): the preferred lawyer is not on the roster.
absl::StatusOr<v1::Lawyer> ChooseLawyer(
    const std::map<std::string, v1::Lawyer, std::less<>>& roster,
    v1::Matter matter, absl::string_view preferred);

}  // namespace referral::legalaid

#endif  // REFERRAL_SERVICES_LEGALAID_LEGAL_AID_RULES_H_
