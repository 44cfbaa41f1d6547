#include "services/legalaid/legal_aid_rules.h"

#include <array>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "common/vocabulary.h"

namespace referral::legalaid {
namespace {

using S = v1::LegalAidState;

// 《法律援助法》第四十二条第（三）项; the green channel is the 三优 of the
// source report (优先受理、优先审查、优先指派).
constexpr absl::string_view kMigrantWorkerBasis =
    "《法律援助法》第四十二条第（三）项：申请支付劳动报酬或者请求工伤事故人身损害赔偿"
    "的进城务工人员（农民工），免予核查经济困难状况；绿色通道优先受理、优先审查、优先指派";

// Only the rows that differ from ordinary. A migrant worker's other labour
// matters (a contract dispute, social insurance) are ordinary, as are wage
// and injury claims of applicants who are not migrant workers.
constexpr std::array<EligibilityRule, 2> kEligibility = {{
    {v1::MATTER_WAGE_ARREARS, true, true, true, kMigrantWorkerBasis},
    {v1::MATTER_WORK_INJURY, true, true, true, kMigrantWorkerBasis},
}};

constexpr TimeLimits kGreenLimits = {
    0, 0, "绿色通道：当天申请、当天审查、当天指派"};
constexpr TimeLimits kOrdinaryLimits = {
    7, 3,
    "《法律援助法》第四十三条：收到申请之日起七日内审查决定；决定给予的，三日内指派"};

constexpr std::array<StepRule, 4> kSteps = {{
    {Step::kReview, "review", "ReviewApplication", States({S::LEGAL_AID_STATE_APPLIED})},
    {Step::kAssign, "assign a lawyer to", "AssignLawyer",
     States({S::LEGAL_AID_STATE_APPROVED})},
    // A major difficult case may be flagged while the aid is open.
    {Step::kFlag, "flag", "FlagMajorCase",
     States({S::LEGAL_AID_STATE_APPLIED, S::LEGAL_AID_STATE_APPROVED,
             S::LEGAL_AID_STATE_ASSIGNED})},
    // Closing an application before review or assignment is the applicant
    // withdrawing; after assignment it is the aid ending.
    {Step::kClose, "close", "CloseApplication",
     States({S::LEGAL_AID_STATE_APPLIED, S::LEGAL_AID_STATE_APPROVED,
             S::LEGAL_AID_STATE_ASSIGNED})},
}};

// 合格 at 60 for every kind, as the quality evaluations grade it.
constexpr std::array<PassMark, 3> kPassMarks = {{
    {v1::EVALUATION_KIND_HEARING_OBSERVATION, 60},
    {v1::EVALUATION_KIND_WORKER_FOLLOW_UP, 60},
    {v1::EVALUATION_KIND_EXPERT_REVIEW, 60},
}};

std::string MatterEn(v1::Matter m) {
  const Term<v1::Matter>* t = FindTerm(Matters(), m);
  return t ? std::string(t->en) : absl::StrCat("matter ", m);
}

}  // namespace

absl::Span<const EligibilityRule> EligibilityRules() { return kEligibility; }

EligibilityRule EligibilityFor(v1::Matter matter, bool migrant_worker) {
  for (const EligibilityRule& r : kEligibility) {
    if (r.matter == matter && r.migrant_worker == migrant_worker) return r;
  }
  return {matter, migrant_worker, false, false, ""};
}

const TimeLimits& TimeLimitsFor(bool green_channel) {
  return green_channel ? kGreenLimits : kOrdinaryLimits;
}

absl::Span<const StepRule> StepRules() { return kSteps; }

const StepRule& RuleFor(Step step) { return kSteps[static_cast<size_t>(step)]; }

bool Allows(const StepRule& rule, v1::LegalAidState state) {
  return (rule.from >> static_cast<int>(state)) & 1u;
}

absl::Span<const PassMark> PassMarks() { return kPassMarks; }

int PassMarkFor(v1::EvaluationKind kind) {
  for (const PassMark& p : kPassMarks) {
    if (p.kind == kind) return p.score;
  }
  return 101;
}

bool EvaluationPasses(v1::EvaluationKind kind, int score, bool verdict_passed) {
  return verdict_passed && score >= PassMarkFor(kind);
}

Gate GateFor(const v1::Lawyer& lawyer, v1::Matter matter) {
  if (lawyer.barred()) return Gate::kBarred;
  bool skilled = false;
  for (int m : lawyer.specialties()) skilled = skilled || m == matter;
  if (!skilled) return Gate::kNotSkilled;
  if (lawyer.active_cases() >= lawyer.capacity()) return Gate::kFull;
  return Gate::kEligible;
}

absl::string_view GateKey(Gate gate) {
  switch (gate) {
    case Gate::kEligible: return "eligible";
    case Gate::kBarred: return "barred";
    case Gate::kNotSkilled: return "not_skilled";
    case Gate::kFull: return "full";
  }
  return "?";
}

std::string GateReason(const v1::Lawyer& lawyer, v1::Matter matter, Gate gate) {
  switch (gate) {
    case Gate::kEligible:
      return "eligible";
    case Gate::kBarred: {
      const v1::LawyerEvaluation& e = lawyer.latest_evaluation();
      const Term<v1::EvaluationKind>* k = FindTerm(EvaluationKinds(), e.kind());
      return absl::StrCat("latest quality evaluation failed (",
                          k ? std::string(k->en) : "evaluation", ", score ",
                          e.score(), "); no new assignments until one passes");
    }
    case Gate::kNotSkilled:
      return absl::StrCat("not skilled in ", MatterEn(matter));
    case Gate::kFull:
      return absl::StrCat("at capacity (", lawyer.active_cases(), " of ",
                          lawyer.capacity(), " open assignments)");
  }
  return "?";
}

absl::StatusOr<v1::Lawyer> ChooseLawyer(
    const std::map<std::string, v1::Lawyer, std::less<>>& roster, v1::Matter matter,
    absl::string_view preferred) {
  if (!preferred.empty()) {
    auto it = roster.find(preferred);
    if (it == roster.end()) {
      return MakeError(ErrorReason::kLawyerNotFound,
                       absl::StrCat("lawyer ", preferred,
                                    " is not on this roster: list it with ListLawyers, "
                                    "or leave lawyer_id empty to let the service pick"),
                       "律师库中没有该律师",
                       {.metadata = {{"lawyer_id", std::string(preferred)}}});
    }
    const Gate gate = GateFor(it->second, matter);
    if (gate == Gate::kEligible) return it->second;
    const std::string why = GateReason(it->second, matter, gate);
    return MakeError(
        ErrorReason::kNoEligibleLawyer,
        absl::StrCat("lawyer ", preferred, " may not take this application: ", why,
                     "; choose another lawyer or leave lawyer_id empty"),
        gate == Gate::kBarred  ? "该律师最近一次质量评估不合格，暂停指派"
        : gate == Gate::kFull  ? "该律师承办案件已满"
                               : "该律师不擅长此类事项",
        {.metadata = {{"lawyer_id", std::string(preferred)},
                      {"gate", std::string(GateKey(gate))}}});
  }
  const v1::Lawyer* best = nullptr;
  auto key = [](const v1::Lawyer& l) {
    const int score = l.has_latest_evaluation() ? l.latest_evaluation().score() : 0;
    return std::make_tuple(l.active_cases(), -score, l.lawyer_id());
  };
  int barred = 0, unskilled = 0, full = 0;
  for (const auto& [id, lawyer] : roster) {
    switch (GateFor(lawyer, matter)) {
      case Gate::kBarred: ++barred; break;
      case Gate::kNotSkilled: ++unskilled; break;
      case Gate::kFull: ++full; break;
      case Gate::kEligible:
        if (best == nullptr || key(lawyer) < key(*best)) best = &lawyer;
        break;
    }
  }
  if (best != nullptr) return *best;
  return MakeError(
      ErrorReason::kNoEligibleLawyer,
      absl::StrCat("no lawyer on the roster may take a ", MatterEn(matter),
                   " application: ", roster.size(), " enrolled, ", unskilled,
                   " not skilled in it, ", full, " at capacity, ", barred,
                   " barred by a failed latest evaluation; enrol a lawyer, raise a "
                   "capacity or close a finished assignment, then assign again"),
      "律师库中没有可指派的律师（专长、承办量或质量评估不符合条件）",
      {.metadata = {{"enrolled", absl::StrCat(roster.size())},
                    {"not_skilled", absl::StrCat(unskilled)},
                    {"full", absl::StrCat(full)},
                    {"barred", absl::StrCat(barred)}}});
}

}  // namespace referral::legalaid
