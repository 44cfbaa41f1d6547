#include "services/legalaid/legal_aid.h"

#include <algorithm>
#include <set>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/digest.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/text_limits.h"
#include "common/timestamps.h"
#include "common/vocabulary.h"
#include "google/protobuf/util/time_util.h"
#include "services/referral/policy.h"
#include "services/referral/privacy.h"
#include "services/referral/read_audit.h"
#include "storage/event_store.h"

namespace referral::legalaid {
namespace {


constexpr int kFeedPage = 1000;
constexpr size_t kMaxLawyerId = 32;

google::protobuf::Timestamp Ts(absl::Time t) { return ProtoTime(t); }

absl::Status Invalid(absl::string_view field, std::string message, std::string zh) {
  return MakeError(ErrorReason::kInvalidField, std::move(message), std::move(zh),
                   {.field = std::string(field)});
}

absl::Status ApplicationNotFound(absl::string_view id) {
  return MakeError(ErrorReason::kApplicationNotFound,
                   absl::StrCat("no legal-aid application ", id,
                                ": ids look like \"<case>/a<n>\"; list yours with "
                                "ListApplications"),
                   "法律援助申请不存在",
                   {.metadata = {{"application_id", std::string(id)}}});
}

absl::Status LawyerNotFound(absl::string_view lawyer_id, absl::string_view node) {
  return MakeError(ErrorReason::kLawyerNotFound,
                   absl::StrCat("lawyer ", lawyer_id, " is not on the roster of ", node,
                                ": enrol the lawyer first (EnrolLawyer)"),
                   "律师库中没有该律师，请先入库",
                   {.metadata = {{"lawyer_id", std::string(lawyer_id)}}});
}

std::string StateKey(v1::LegalAidState s) {
  const Term<v1::LegalAidState>* t = FindTerm(LegalAidStates(), s);
  return t ? std::string(t->key) : absl::StrCat(s);
}

absl::Status StateConflict(const v1::LegalAidApplication& a, const StepRule& rule) {
  std::string allowed;
  for (const Term<v1::LegalAidState>& t : LegalAidStates()) {
    if (!Allows(rule, t.value)) continue;
    if (!allowed.empty()) allowed += ", ";
    allowed += std::string(t.key);
  }
  return MakeError(
      ErrorReason::kLegalAidStateConflict,
      absl::StrCat("application ", a.application_id(), " is ", StateKey(a.state()),
                   "; you may ", rule.name, " it only when it is ", allowed),
      absl::StrCat("法律援助申请当前为“",
                   FindTerm(LegalAidStates(), a.state())
                       ? std::string(FindTerm(LegalAidStates(), a.state())->zh)
                       : "?",
                   "”，不能执行此操作"),
      {.metadata = {{"state", StateKey(a.state())},
                    {"application_id", a.application_id()}}});
}

absl::Status RequireOwn(absl::string_view caller, const v1::LegalAidApplication& a,
                        const StepRule& rule) {
  if (a.justice_node() == caller) return absl::OkStatus();
  return MakeError(ErrorReason::kNotAllowedForRole,
                   absl::StrCat("application ", a.application_id(),
                                " belongs to justice node ", a.justice_node(),
                                "; only it may ", rule.name, " it"),
                   "只有受理该申请的法律援助机构可以办理",
                   {.metadata = {{"application_id", a.application_id()},
                                 {"justice_node", a.justice_node()}}});
}

// A roster step's request id, derived from the command's: the roster's and
// the case's events must have different ids (event ids are unique across
// the whole log), and CaseCommands derives them from the request id.
std::string RosterRequestId(absl::string_view request_id, absl::string_view step) {
  return absl::StrCat("roster.", step, ".", HexOf(Sha256(request_id)).substr(0, 32));
}

// A roster decision that needs no append (an open take to adopt, nothing to
// release) leaves CaseCommands through this status.
constexpr absl::string_view kNothingToAppend = "legalaid: nothing to append";
absl::Status NothingToAppend() { return absl::CancelledError(kNothingToAppend); }
bool IsNothingToAppend(const absl::Status& s) {
  return s.code() == absl::StatusCode::kCancelled && s.message() == kNothingToAppend;
}

bool IsReason(const absl::Status& s, absl::string_view reason) {
  return ViewError(s).reason == reason;
}

absl::Status CheckApplicationId(absl::string_view id, std::string* case_id) {
  *case_id = CaseOfApplication(id);
  if (case_id->empty() || !storage::ValidateCaseId(*case_id, "application_id").ok()) {
    return Invalid("application_id",
                   absl::StrCat("application_id \"", id.substr(0, 80),
                                "\" is not an application id like \"<case>/a<n>\""),
                   "法律援助申请编号格式不正确");
  }
  return absl::OkStatus();
}

absl::Status CheckLawyerId(absl::string_view id, absl::string_view field) {
  bool ok = !id.empty() && id.size() <= kMaxLawyerId;
  for (char c : id) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '-');
  }
  if (ok) return absl::OkStatus();
  return Invalid(field,
                 absl::StrCat(field, " \"", id.substr(0, 40),
                              "\" must be 1-32 characters of A-Z, a-z, 0-9 or '-', "
                              "e.g. \"L-0012\""),
                 "律师编号应为 1-32 位字母、数字或 -");
}

absl::Status RequireReason(absl::string_view reason, absl::string_view what,
                           absl::string_view zh) {
  if (reason.empty()) {
    return Invalid("reason", absl::StrCat("reason is required: ", what), std::string(zh));
  }
  return CheckText("reason", reason);
}

v1::Event AppliedEvent(const v1::LegalAidApplication& a) {
  v1::Event e;
  *e.mutable_legal_aid_applied()->mutable_application() = a;
  return e;
}

// Clears every open deadline of the application, `review_reason` for its
// review deadline and `other_reason` for the rest.
void ClearOpenDeadlines(const deadlines::DeadlineFold& fold, const v1::LegalAidApplication& a,
                        absl::string_view review_reason, absl::string_view other_reason,
                        std::vector<v1::Event>* out) {
  for (const auto& [id, d] : fold.all()) {
    if (d.set().subject_id() != a.application_id() || !fold.IsOpen(id)) continue;
    out->push_back(deadlines::ClearDeadline(
        id, id == ReviewDeadlineId(a.application_id()) ? review_reason : other_reason,
        d.set().responsible_node()));
  }
}

}  // namespace

LegalAid::LegalAid(broker::CaseLogPort* log, broker::DirectoryPort* directory,
                   const deadlines::Calendar* calendar, LegalAidOptions options)
    : log_(log),
      directory_(directory),
      calendar_(calendar != nullptr ? calendar : &default_calendar_),
      options_(std::move(options)),
      commands_(log) {}

// ------------------------------------------------------------------ plumbing

absl::StatusOr<v1::Node> LegalAid::RequireJustice(absl::string_view caller,
                                                  absl::string_view what) {
  RETURN_IF_ERROR(storage::ValidateNodeName(caller, "caller"));
  ASSIGN_OR_RETURN(v1::Node node, directory_->GetNode(caller));
  if (node.kind() == v1::NODE_KIND_JUSTICE) return node;
  const Term<v1::NodeKind>* kind = FindTerm(NodeKinds(), node.kind());
  return MakeError(
      ErrorReason::kNotAllowedForRole,
      absl::StrCat("only justice nodes (legal-aid centres and their stations) may ", what,
                   "; ", caller, " is a ", kind ? std::string(kind->en) : "node",
                   ": refer the case to the justice node instead"),
      "只有司法行政机关（法律援助机构）可以办理法律援助",
      {.metadata = {{"node", std::string(caller)}}});
}

absl::Status LegalAid::ShowAnswer(absl::string_view caller, absl::string_view method,
                                   std::string case_id, google::protobuf::Message* answer) {
  return broker::ShowCaseAnswer(log_, options_.clock(), caller, method, case_id, answer);
}

absl::StatusOr<RosterProjection> LegalAid::ReadRoster(absl::string_view justice_node) {
  absl::StatusOr<std::vector<v1::Event>> events = log_->ReadCase(RosterStream(justice_node));
  if (events.ok()) return RosterProjection::Fold(*events);
  if (events.status().code() == absl::StatusCode::kNotFound) return RosterProjection();
  return events.status();
}

v1::Event LegalAid::Deadline(v1::DeadlineKind kind, const std::string& deadline_id,
                             const std::string& application_id, absl::string_view node,
                             int working_days, absl::Time now) const {
  deadlines::DeadlineSpec spec;
  spec.kind = kind;
  spec.deadline_id = deadline_id;
  spec.subject_id = application_id;
  spec.responsible_node = std::string(node);
  spec.working_days = working_days;
  return deadlines::SetDeadline(spec, now, *calendar_);
}

absl::StatusOr<ApplicationProjection> LegalAid::ExecuteOnCase(
    absl::string_view caller, const std::string& case_id, const std::string& request_id,
    const google::protobuf::Message& request, const DecideOnCase& decide) {
  ASSIGN_OR_RETURN(
      std::vector<v1::Event> events,
      commands_.Execute(
          caller, case_id, request_id, request,
          [&](const std::vector<v1::Event>& history)
              -> absl::StatusOr<std::vector<v1::Event>> {
            CaseState s{broker::CaseProjection::Fold(history),
                        ApplicationProjection::Fold(history),
                        deadlines::DeadlineFold::Of(history), options_.clock()};
            if (!s.c.opened()) {
              return MakeError(ErrorReason::kCaseNotFound,
                               absl::StrCat("case ", case_id, " was never opened"),
                               "案件不存在", {.metadata = {{"case_id", case_id}}});
            }
            ASSIGN_OR_RETURN(std::vector<v1::Event> out, decide(s));
            for (v1::Event& e : out) {
              if (!e.has_time()) *e.mutable_time() = Ts(s.now);
            }
            return out;
          },
          {.may_create = false, .max_attempts = options_.max_attempts}));
  return ApplicationProjection::Fold(events);
}

absl::StatusOr<v1::LegalAidApplication> LegalAid::OnApplication(
    absl::string_view caller, Step step, const std::string& application_id,
    const std::string& request_id, const google::protobuf::Message& request,
    const DecideOnApplication& body) {
  RETURN_IF_ERROR(storage::ValidateToken(request_id, "request_id"));
  std::string case_id;
  RETURN_IF_ERROR(CheckApplicationId(application_id, &case_id));
  const StepRule& rule = RuleFor(step);
  RETURN_IF_ERROR(RequireJustice(caller, absl::StrCat(rule.name, " legal-aid applications"))
                      .status());
  absl::StatusOr<ApplicationProjection> p = ExecuteOnCase(
      caller, case_id, request_id, request,
      [&](const CaseState& s) -> absl::StatusOr<std::vector<v1::Event>> {
        const v1::LegalAidApplication* a = s.applications.Find(application_id);
        if (a == nullptr) return ApplicationNotFound(application_id);
        RETURN_IF_ERROR(broker::RequireParty(caller, s.c));
        RETURN_IF_ERROR(RequireOwn(caller, *a, rule));
        if (!Allows(rule, a->state())) return StateConflict(*a, rule);
        return body(s, *a);
      });
  if (!p.ok()) {
    // A case that does not exist hides nothing: say the application is missing.
    if (IsReason(p.status(), "CASE_NOT_FOUND")) return ApplicationNotFound(application_id);
    return p.status();
  }
  const v1::LegalAidApplication* a = p->Find(application_id);
  if (a == nullptr) return ApplicationNotFound(application_id);
  return *a;
}

absl::StatusOr<RosterProjection> LegalAid::ExecuteOnRoster(
    absl::string_view caller, const std::string& request_id,
    const google::protobuf::Message& request, bool may_create,
    const DecideOnRoster& decide) {
  ASSIGN_OR_RETURN(
      std::vector<v1::Event> events,
      commands_.Execute(
          caller, RosterStream(caller), request_id, request,
          [&](const std::vector<v1::Event>& history)
              -> absl::StatusOr<std::vector<v1::Event>> {
            const absl::Time now = options_.clock();
            ASSIGN_OR_RETURN(std::vector<v1::Event> out,
                             decide(RosterProjection::Fold(history)));
            for (v1::Event& e : out) *e.mutable_time() = Ts(now);
            return out;
          },
          {.may_create = may_create, .max_attempts = options_.max_attempts}));
  return RosterProjection::Fold(events);
}

absl::Status LegalAid::ReleaseTake(absl::string_view caller,
                                   absl::string_view application_id,
                                   const std::string& request_id,
                                   const google::protobuf::Message& request) {
  absl::StatusOr<RosterProjection> r = ExecuteOnRoster(
      caller, request_id, request, /*may_create=*/false,
      [&](const RosterProjection& roster) -> absl::StatusOr<std::vector<v1::Event>> {
        const std::string holder = roster.HolderOf(application_id);
        if (holder.empty()) return NothingToAppend();
        v1::Event e;
        e.mutable_lawyer_case_released()->set_lawyer_id(holder);
        e.mutable_lawyer_case_released()->set_application_id(std::string(application_id));
        return std::vector<v1::Event>{std::move(e)};
      });
  // No roster, or no open take: nothing held the application.
  if (r.ok() || IsNothingToAppend(r.status()) || IsReason(r.status(), "CASE_NOT_FOUND")) {
    return absl::OkStatus();
  }
  return r.status();
}

// ------------------------------------------------------------------ apply

absl::StatusOr<v1::ApplyForLegalAidResponse> LegalAid::ApplyForLegalAid(
    absl::string_view caller, const v1::ApplyForLegalAidRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  RETURN_IF_ERROR(storage::ValidateCaseId(request.case_id(), "case_id"));
  const std::string& case_id = request.case_id();
  if (!v1::IntakeChannel_IsValid(request.channel()) ||
      (request.channel() == v1::INTAKE_CHANNEL_UNSPECIFIED &&
       request.referral_id().empty())) {
    return Invalid("channel",
                   absl::StrCat("channel is required: how the application came (",
                                KeysOf(IntakeChannels()),
                                "), or name the referral it came by in referral_id"),
                   "请选择申请渠道（热线、来访等）或注明转介编号");
  }
  if (!request.referral_id().empty() &&
      broker::CaseOfReferral(request.referral_id()) != case_id) {
    return Invalid("referral_id",
                   absl::StrCat("referral_id \"", request.referral_id().substr(0, 80),
                                "\" is not a referral of case ", case_id,
                                " (ids look like \"", case_id, "/r<n>\")"),
                   "转介编号不属于该案件");
  }
  if (request.applicant().name().empty()) {
    return Invalid("applicant.name",
                   "applicant.name is required: who applies (a name, no ID number)",
                   "请填写申请人姓名");
  }
  if (!v1::PartyRole_IsValid(request.applicant().role())) {
    return Invalid("applicant.role", "applicant.role is not a known party role",
                   "申请人角色不正确");
  }
  if (!v1::Matter_IsValid(request.matter())) {
    return Invalid("matter", absl::StrCat("matter must be one of ", KeysOf(Matters())),
                   "事项不正确");
  }
  RETURN_IF_ERROR(CheckText("summary", request.summary()));
  RETURN_IF_ERROR(CheckText("applicant.name", request.applicant().name()));
  RETURN_IF_ERROR(RequireJustice(caller, "take legal-aid applications").status());

  ASSIGN_OR_RETURN(
      ApplicationProjection p,
      ExecuteOnCase(
          caller, case_id, request.request_id(), request,
          [&](const CaseState& s) -> absl::StatusOr<std::vector<v1::Event>> {
            RETURN_IF_ERROR(broker::RequireParty(caller, s.c));
            v1::IntakeChannel channel = request.channel();
            std::string referrer;
            if (!request.referral_id().empty()) {
              const v1::Referral* r = s.c.FindReferral(request.referral_id());
              if (r == nullptr) {
                return MakeError(ErrorReason::kReferralNotFound,
                                 absl::StrCat("case ", case_id, " has no referral ",
                                              request.referral_id()),
                                 "转介不存在",
                                 {.metadata = {{"referral_id", request.referral_id()}}});
              }
              if (r->to_node() != caller) {
                return MakeError(
                    ErrorReason::kNotAllowedForRole,
                    absl::StrCat("referral ", r->referral_id(), " was sent to ",
                                 r->to_node(), ", not to ", caller,
                                 "; apply by the channel the applicant came by instead"),
                    "该转介不是转给本机构的",
                    {.metadata = {{"referral_id", r->referral_id()}}});
              }
              if (r->state() == v1::REFERRAL_STATE_REJECTED ||
                  r->state() == v1::REFERRAL_STATE_REDIRECTED ||
                  r->state() == v1::REFERRAL_STATE_CANCELLED) {
                const Term<v1::ReferralState>* t = FindTerm(ReferralStates(), r->state());
                return MakeError(
                    ErrorReason::kReferralStateConflict,
                    absl::StrCat("referral ", r->referral_id(), " is ",
                                 t ? std::string(t->key) : "closed",
                                 "; an application cannot come by it"),
                    "该转介已不予受理、再转或撤回，不能据此申请",
                    {.metadata = {{"referral_id", r->referral_id()}}});
              }
              if (channel == v1::INTAKE_CHANNEL_UNSPECIFIED) {
                channel = s.c.state().opened().channel();
              }
              referrer = r->from_node();
            }
            const v1::Matter matter = request.matter() != v1::MATTER_UNSPECIFIED
                                          ? request.matter()
                                          : s.c.state().opened().matter();
            if (matter == v1::MATTER_UNSPECIFIED) {
              return Invalid("matter",
                             absl::StrCat("matter is required: the case names none; use "
                                          "one of ",
                                          KeysOf(Matters())),
                             "请选择事项");
            }
            const EligibilityRule rule = EligibilityFor(matter, request.migrant_worker());
            const TimeLimits& limits = TimeLimitsFor(rule.green_channel);

            v1::LegalAidApplication a;
            a.set_application_id(s.applications.NextId(case_id));
            a.set_case_id(case_id);
            a.set_justice_node(std::string(caller));
            a.set_channel(channel);
            a.set_referral_id(request.referral_id());
            *a.mutable_applicant() = request.applicant();
            a.set_matter(matter);
            a.set_migrant_worker(request.migrant_worker());
            a.set_green_channel(rule.green_channel);
            a.set_hardship_review_waived(rule.waive_hardship_review);
            a.set_waiver_basis(std::string(rule.basis));
            a.set_state(v1::LEGAL_AID_STATE_APPLIED);
            *a.mutable_apply_time() = Ts(s.now);
            a.set_summary(request.summary());

            std::vector<v1::Event> out;
            out.push_back(AppliedEvent(a));
            // The referring node sees in its feed that aid was applied for.
            if (!referrer.empty()) out.back().add_involved_nodes(referrer);
            out.push_back(Deadline(v1::DEADLINE_KIND_LEGAL_AID_REVIEW,
                                   ReviewDeadlineId(a.application_id()),
                                   a.application_id(), caller,
                                   limits.review_working_days, s.now));
            if (rule.green_channel) {
              out.push_back(Deadline(v1::DEADLINE_KIND_LEGAL_AID_ASSIGNMENT,
                                     AssignDeadlineId(a.application_id()),
                                     a.application_id(), caller,
                                     limits.assign_working_days, s.now));
            }
            return out;
          }));
  // The command's own LegalAidApplied is the last one in what it left.
  if (p.all().empty()) return absl::InternalError("the application was not recorded");
  v1::ApplyForLegalAidResponse response;
  *response.mutable_application() = p.all().back();
  RETURN_IF_ERROR(ShowAnswer(caller, "ApplyForLegalAid", case_id, &response));
  return response;
}

// ------------------------------------------------------------------ review

absl::StatusOr<v1::ReviewApplicationResponse> LegalAid::ReviewApplication(
    absl::string_view caller, const v1::ReviewApplicationRequest& request) {
  if (request.approved()) {
    RETURN_IF_ERROR(CheckText("reason", request.reason()));
  } else {
    RETURN_IF_ERROR(RequireReason(request.reason(), "why the application is denied",
                                  "请填写不予法律援助的理由"));
  }
  ASSIGN_OR_RETURN(
      v1::LegalAidApplication a,
      OnApplication(
          caller, Step::kReview, request.application_id(), request.request_id(), request,
          [&](const CaseState& s, const v1::LegalAidApplication& a)
              -> absl::StatusOr<std::vector<v1::Event>> {
            std::vector<v1::Event> out(1);
            v1::LegalAidReviewed* r = out[0].mutable_legal_aid_reviewed();
            r->set_application_id(a.application_id());
            r->set_approved(request.approved());
            r->set_hardship_review_waived(a.hardship_review_waived());
            r->set_waiver_basis(a.waiver_basis());
            r->set_reason(request.reason());
            if (request.approved()) {
              const std::string review = ReviewDeadlineId(a.application_id());
              if (s.deadlines.IsOpen(review)) {
                out.push_back(deadlines::ClearDeadline(review, "met", a.justice_node()));
              }
              // The green channel's assignment deadline runs from the
              // application; an ordinary one's from the decision.
              if (!a.green_channel()) {
                out.push_back(Deadline(v1::DEADLINE_KIND_LEGAL_AID_ASSIGNMENT,
                                       AssignDeadlineId(a.application_id()),
                                       a.application_id(), a.justice_node(),
                                       TimeLimitsFor(false).assign_working_days, s.now));
              }
            } else {
              ClearOpenDeadlines(s.deadlines, a, "met", "cancelled", &out);
            }
            return out;
          }));
  v1::ReviewApplicationResponse response;
  *response.mutable_application() = std::move(a);
  RETURN_IF_ERROR(ShowAnswer(caller, "ReviewApplication", response.application().case_id(),
                             &response));
  return response;
}

// ------------------------------------------------------------------ assign

absl::StatusOr<v1::AssignLawyerResponse> LegalAid::AssignLawyer(
    absl::string_view caller, const v1::AssignLawyerRequest& request) {
  const std::string& rid = request.request_id();
  const std::string& application_id = request.application_id();
  RETURN_IF_ERROR(storage::ValidateToken(rid, "request_id"));
  std::string case_id;
  RETURN_IF_ERROR(CheckApplicationId(application_id, &case_id));
  if (!request.lawyer_id().empty()) {
    RETURN_IF_ERROR(CheckLawyerId(request.lawyer_id(), "lawyer_id"));
  }
  const StepRule& rule = RuleFor(Step::kAssign);
  RETURN_IF_ERROR(RequireJustice(caller, "assign legal-aid lawyers").status());

  // Where the application stands, and whether this request already
  // recorded its assignment in the case (then the case step answers it).
  absl::StatusOr<std::vector<v1::Event>> history = log_->ReadCase(case_id);
  if (!history.ok()) {
    if (history.status().code() == absl::StatusCode::kNotFound) {
      return ApplicationNotFound(application_id);
    }
    return history.status();
  }
  const broker::CaseProjection c = broker::CaseProjection::Fold(*history);
  const ApplicationProjection apps = ApplicationProjection::Fold(*history);
  const v1::LegalAidApplication* before = apps.Find(application_id);
  if (!c.opened() || before == nullptr) return ApplicationNotFound(application_id);
  RETURN_IF_ERROR(broker::RequireParty(caller, c));
  RETURN_IF_ERROR(RequireOwn(caller, *before, rule));
  const std::string prefix = broker::CommandPrefix(caller, rid) + ".";
  const bool recorded = std::any_of(history->begin(), history->end(), [&](const v1::Event& e) {
    return absl::StartsWith(e.event_id(), prefix);
  });

  // Step 1, the roster: take a lawyer (or find this request's take, or
  // adopt the open take of an assignment that did not finish).
  std::string lawyer_id;
  // Why this lawyer, for people reading the case.
  std::string why = request.lawyer_id().empty() ? "承办量最少的可指派律师"
                                                : "指定律师，符合指派条件";
  if (!recorded && before->state() == v1::LEGAL_AID_STATE_APPROVED) {
    std::string adopted;
    absl::StatusOr<RosterProjection> roster = ExecuteOnRoster(
        caller, RosterRequestId(rid, "take"), request, /*may_create=*/false,
        [&](const RosterProjection& r) -> absl::StatusOr<std::vector<v1::Event>> {
          adopted = r.HolderOf(application_id);
          if (!adopted.empty()) return NothingToAppend();
          ASSIGN_OR_RETURN(v1::Lawyer chosen,
                           ChooseLawyer(r.lawyers(), before->matter(), request.lawyer_id()));
          v1::Event e;
          e.mutable_lawyer_case_taken()->set_lawyer_id(chosen.lawyer_id());
          e.mutable_lawyer_case_taken()->set_application_id(application_id);
          return std::vector<v1::Event>{std::move(e)};
        });
    if (roster.ok()) {
      lawyer_id = roster->HolderOf(application_id);
    } else if (IsNothingToAppend(roster.status())) {
      if (!request.lawyer_id().empty() && request.lawyer_id() != adopted) {
        return MakeError(
            ErrorReason::kLegalAidStateConflict,
            absl::StrCat("lawyer ", adopted, " was already taken for application ",
                         application_id,
                         " by an assignment that did not finish; assign again without "
                         "lawyer_id (or with ",
                         adopted, ") to finish it, or close the application"),
            "该申请已有未完成的指派，请先完成该指派",
            {.metadata = {{"lawyer_id", adopted}, {"application_id", application_id}}});
      }
      lawyer_id = adopted;
      why = "完成此前未完成的指派";
    } else if (IsReason(roster.status(), "CASE_NOT_FOUND")) {
      if (!request.lawyer_id().empty()) return LawyerNotFound(request.lawyer_id(), caller);
      return MakeError(ErrorReason::kNoEligibleLawyer,
                       absl::StrCat("the roster of ", caller,
                                    " is empty: enrol lawyers (EnrolLawyer), then assign"),
                       "律师库为空，请先登记法律援助律师",
                       {.metadata = {{"enrolled", "0"}}});
    } else {
      return roster.status();
    }
  }
  ASSIGN_OR_RETURN(RosterProjection roster, ReadRoster(caller));
  v1::Lawyer lawyer;
  if (const v1::Lawyer* l = roster.Find(lawyer_id)) lawyer = *l;

  // Step 2, the case: record the assignment the roster decided.
  absl::StatusOr<v1::LegalAidApplication> a = OnApplication(
      caller, Step::kAssign, application_id, rid, request,
      [&](const CaseState& s, const v1::LegalAidApplication& a)
          -> absl::StatusOr<std::vector<v1::Event>> {
        if (lawyer_id.empty()) {
          // Approved after this request looked: decide again.
          return MakeError(ErrorReason::kConcurrentModification,
                           absl::StrCat("application ", application_id,
                                        " changed while a lawyer was chosen; retry with "
                                        "the same request_id"),
                           "申请状态已变化，请用相同的请求编号重试");
        }
        std::vector<v1::Event> out(1);
        v1::LegalAidLawyerAssigned* e = out[0].mutable_legal_aid_lawyer_assigned();
        e->set_application_id(a.application_id());
        e->set_lawyer_id(lawyer_id);
        e->set_lawyer_name(lawyer.name());
        e->set_reason(absl::StrCat(why, "（现承办 ", lawyer.active_cases(), "/",
                                   lawyer.capacity(), "）"));
        const std::string assign = AssignDeadlineId(a.application_id());
        if (s.deadlines.IsOpen(assign)) {
          out.push_back(deadlines::ClearDeadline(assign, "met", a.justice_node()));
        }
        return out;
      });
  if (!a.ok()) {
    if (IsReason(a.status(), "LEGAL_AID_STATE_CONFLICT")) {
      absl::StatusOr<std::vector<v1::Event>> now = log_->ReadCase(case_id);
      const ApplicationProjection current =
          now.ok() ? ApplicationProjection::Fold(*now) : ApplicationProjection();
      const v1::LegalAidApplication* after = current.Find(application_id);
      if (after != nullptr && after->state() == v1::LEGAL_AID_STATE_CLOSED) {
        // Closed while a lawyer was taken: give the slot back. Also when
        // this request took no lawyer itself (lawyer_id empty): it may be
        // the retry of one that took a lawyer after the close had found
        // nothing to release, and stopped before the case step. A closed
        // application holds no lawyer, so any open take of it is a leak.
        RETURN_IF_ERROR(ReleaseTake(caller, application_id, RosterRequestId(rid, "undo"),
                                    request));
      } else if (!lawyer_id.empty() && after != nullptr &&
                 after->state() == v1::LEGAL_AID_STATE_ASSIGNED &&
                 after->lawyer_id() == lawyer_id) {
        // Another assignment adopted this request's take and recorded it.
        a = *after;
      }
    }
    if (!a.ok()) return a.status();
  }
  v1::AssignLawyerResponse response;
  *response.mutable_application() = *a;
  ASSIGN_OR_RETURN(roster, ReadRoster(caller));
  if (const v1::Lawyer* l = roster.Find(a->lawyer_id())) *response.mutable_lawyer() = *l;
  RETURN_IF_ERROR(ShowAnswer(caller, "AssignLawyer", case_id, &response));
  return response;
}

// ------------------------------------------------------------------ flag, close

absl::StatusOr<v1::FlagMajorCaseResponse> LegalAid::FlagMajorCase(
    absl::string_view caller, const v1::FlagMajorCaseRequest& request) {
  RETURN_IF_ERROR(RequireReason(request.reason(), "why the case is major or difficult",
                                "请填写重大疑难的理由"));
  ASSIGN_OR_RETURN(v1::Node node, RequireJustice(caller, "flag major difficult cases"));
  // The district centre supervises itself (集体讨论 in the centre).
  const std::string supervisor = node.parent().empty() ? std::string(caller) : node.parent();
  ASSIGN_OR_RETURN(
      v1::LegalAidApplication a,
      OnApplication(
          caller, Step::kFlag, request.application_id(), request.request_id(), request,
          [&](const CaseState&, const v1::LegalAidApplication& a)
              -> absl::StatusOr<std::vector<v1::Event>> {
            if (a.major_difficult()) {
              return MakeError(
                  ErrorReason::kLegalAidStateConflict,
                  absl::StrCat("application ", a.application_id(),
                               " is already flagged as a major difficult case (",
                               a.major_reason(), ")"),
                  "该申请已标记为重大疑难案件",
                  {.metadata = {{"application_id", a.application_id()}}});
            }
            v1::Event e;
            v1::LegalAidMajorCaseFlagged* f = e.mutable_legal_aid_major_case_flagged();
            f->set_application_id(a.application_id());
            f->set_reason(request.reason());
            f->set_supervisor_node(supervisor);
            e.add_involved_nodes(supervisor);
            return std::vector<v1::Event>{std::move(e)};
          }));
  v1::FlagMajorCaseResponse response;
  *response.mutable_application() = std::move(a);
  RETURN_IF_ERROR(ShowAnswer(caller, "FlagMajorCase", response.application().case_id(),
                             &response));
  return response;
}

absl::StatusOr<v1::CloseApplicationResponse> LegalAid::CloseApplication(
    absl::string_view caller, const v1::CloseApplicationRequest& request) {
  RETURN_IF_ERROR(RequireReason(request.reason(), "why the aid ends, e.g. 结案",
                                "请填写结案或终止的理由"));
  ASSIGN_OR_RETURN(
      v1::LegalAidApplication a,
      OnApplication(
          caller, Step::kClose, request.application_id(), request.request_id(), request,
          [&](const CaseState& s, const v1::LegalAidApplication& a)
              -> absl::StatusOr<std::vector<v1::Event>> {
            std::vector<v1::Event> out(1);
            out[0].mutable_legal_aid_closed()->set_application_id(a.application_id());
            out[0].mutable_legal_aid_closed()->set_reason(request.reason());
            ClearOpenDeadlines(s.deadlines, a, "cancelled", "cancelled", &out);
            return out;
          }));
  // The case shows the aid ended; now the lawyer's slot is free.
  RETURN_IF_ERROR(ReleaseTake(caller, a.application_id(),
                              RosterRequestId(request.request_id(), "release"), request));
  v1::CloseApplicationResponse response;
  *response.mutable_application() = std::move(a);
  RETURN_IF_ERROR(ShowAnswer(caller, "CloseApplication", response.application().case_id(),
                             &response));
  return response;
}

// ------------------------------------------------------------------ roster

absl::StatusOr<v1::EnrolLawyerResponse> LegalAid::EnrolLawyer(
    absl::string_view caller, const v1::EnrolLawyerRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  const v1::Lawyer& in = request.lawyer();
  RETURN_IF_ERROR(CheckLawyerId(in.lawyer_id(), "lawyer.lawyer_id"));
  if (in.name().empty()) {
    return Invalid("lawyer.name", "lawyer.name is required", "请填写律师姓名");
  }
  RETURN_IF_ERROR(CheckText("lawyer.name", in.name()));
  RETURN_IF_ERROR(CheckText("lawyer.firm", in.firm()));
  if (in.specialties().empty()) {
    return Invalid("lawyer.specialties",
                   absl::StrCat("name at least one specialty, from ", KeysOf(Matters())),
                   "请至少填写一项专长");
  }
  std::set<int> seen;
  for (int i = 0; i < in.specialties_size(); ++i) {
    const int m = in.specialties(i);
    if (m == v1::MATTER_UNSPECIFIED || !v1::Matter_IsValid(m) || !seen.insert(m).second) {
      return Invalid(absl::StrCat("lawyer.specialties[", i, "]"),
                     absl::StrCat("lawyer.specialties[", i,
                                  "] must be a matter, each named once: ",
                                  KeysOf(Matters())),
                     "专长事项不正确或重复");
    }
  }
  if (in.capacity() < 1) {
    return Invalid("lawyer.capacity",
                   "lawyer.capacity must be at least 1: how many open assignments the "
                   "lawyer takes",
                   "承办上限至少为 1");
  }
  RETURN_IF_ERROR(RequireJustice(caller, "keep a roster of legal-aid lawyers").status());
  v1::Lawyer entry;
  entry.set_lawyer_id(in.lawyer_id());
  entry.set_name(in.name());
  entry.set_firm(in.firm());
  entry.set_justice_node(std::string(caller));
  *entry.mutable_specialties() = in.specialties();
  entry.set_capacity(in.capacity());
  ASSIGN_OR_RETURN(RosterProjection roster,
                   ExecuteOnRoster(caller, request.request_id(), request,
                                   /*may_create=*/true,
                                   [&](const RosterProjection&)
                                       -> absl::StatusOr<std::vector<v1::Event>> {
                                     v1::Event e;
                                     *e.mutable_lawyer_enrolled()->mutable_lawyer() = entry;
                                     return std::vector<v1::Event>{std::move(e)};
                                   }));
  v1::EnrolLawyerResponse response;
  if (const v1::Lawyer* l = roster.Find(in.lawyer_id())) *response.mutable_lawyer() = *l;
  return response;
}

absl::StatusOr<v1::EvaluateLawyerResponse> LegalAid::EvaluateLawyer(
    absl::string_view caller, const v1::EvaluateLawyerRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  RETURN_IF_ERROR(CheckLawyerId(request.lawyer_id(), "lawyer_id"));
  const v1::LawyerEvaluation& in = request.evaluation();
  if (in.kind() == v1::EVALUATION_KIND_UNSPECIFIED || !v1::EvaluationKind_IsValid(in.kind())) {
    return Invalid("evaluation.kind",
                   absl::StrCat("evaluation.kind is required: ", KeysOf(EvaluationKinds())),
                   "请选择评估方式（庭审旁听、受援人回访、专家评估）");
  }
  if (in.score() < 0 || in.score() > 100) {
    return Invalid("evaluation.score", "evaluation.score must be 0-100",
                   "评估分数应在 0-100 之间");
  }
  if (!in.case_id().empty()) {
    RETURN_IF_ERROR(storage::ValidateCaseId(in.case_id(), "evaluation.case_id"));
  }
  RETURN_IF_ERROR(CheckText("evaluation.note", in.note()));
  RETURN_IF_ERROR(CheckText("evaluation.evaluator", in.evaluator()));
  if (in.has_evaluate_time() && !IsValidTimestamp(in.evaluate_time())) {
    return Invalid("evaluation.evaluate_time",
                   "evaluation.evaluate_time is not a valid time: when the evaluation "
                   "took place, or leave it unset for now",
                   "评估时间不正确");
  }
  RETURN_IF_ERROR(RequireJustice(caller, "evaluate legal-aid lawyers").status());
  absl::StatusOr<RosterProjection> roster = ExecuteOnRoster(
      caller, request.request_id(), request, /*may_create=*/false,
      [&](const RosterProjection& r) -> absl::StatusOr<std::vector<v1::Event>> {
        // Against the clock here, after a retry found its first answer: a
        // retry is answered whatever the time.
        const absl::Time now = options_.clock();
        if (in.has_evaluate_time() && TimeOf(in.evaluate_time()) > now) {
          return Invalid("evaluation.evaluate_time",
                         "evaluation.evaluate_time is in the future: record an "
                         "evaluation once it has taken place (leave evaluate_time "
                         "unset for now)",
                         "评估时间不能晚于当前时间");
        }
        if (r.Find(request.lawyer_id()) == nullptr) {
          return LawyerNotFound(request.lawyer_id(), caller);
        }
        v1::Event e;
        v1::LawyerEvaluated* body = e.mutable_lawyer_evaluated();
        body->set_lawyer_id(request.lawyer_id());
        v1::LawyerEvaluation* ev = body->mutable_evaluation();
        *ev = in;
        ev->set_passed(EvaluationPasses(in.kind(), in.score(), in.passed()));
        if (ev->evaluator().empty()) ev->set_evaluator(std::string(caller));
        if (!ev->has_evaluate_time()) *ev->mutable_evaluate_time() = Ts(now);
        // The projection names the recorder from the event's source.
        ev->clear_recorded_by();
        return std::vector<v1::Event>{std::move(e)};
      });
  if (!roster.ok()) {
    if (IsReason(roster.status(), "CASE_NOT_FOUND")) {
      return LawyerNotFound(request.lawyer_id(), caller);
    }
    return roster.status();
  }
  v1::EvaluateLawyerResponse response;
  if (const v1::Lawyer* l = roster->Find(request.lawyer_id())) {
    *response.mutable_lawyer() = *l;
  }
  return response;
}

absl::StatusOr<v1::ListLawyersResponse> LegalAid::ListLawyers(
    absl::string_view caller, const v1::ListLawyersRequest& request) {
  const std::string node =
      request.justice_node().empty() ? std::string(caller) : request.justice_node();
  RETURN_IF_ERROR(storage::ValidateNodeName(node, "justice_node"));
  ASSIGN_OR_RETURN(RosterProjection roster, ReadRoster(node));
  v1::ListLawyersResponse response;
  for (const auto& [id, l] : roster.lawyers()) *response.add_lawyers() = l;
  return response;
}

// ------------------------------------------------------------------ reads

absl::StatusOr<v1::GetApplicationResponse> LegalAid::GetApplication(
    absl::string_view caller, const v1::GetApplicationRequest& request) {
  std::string case_id;
  RETURN_IF_ERROR(CheckApplicationId(request.application_id(), &case_id));
  absl::StatusOr<std::vector<v1::Event>> events = log_->ReadCase(case_id);
  if (!events.ok()) {
    if (events.status().code() == absl::StatusCode::kNotFound) {
      return ApplicationNotFound(request.application_id());
    }
    return events.status();
  }
  const broker::CaseProjection c = broker::CaseProjection::Fold(*events);
  if (!c.opened()) return ApplicationNotFound(request.application_id());
  RETURN_IF_ERROR(broker::RequireParty(caller, c));
  const ApplicationProjection applications = ApplicationProjection::Fold(*events);
  const v1::LegalAidApplication* a = applications.Find(request.application_id());
  if (a == nullptr) return ApplicationNotFound(request.application_id());
  v1::GetApplicationResponse response;
  *response.mutable_application() = *a;
  RETURN_IF_ERROR(
      broker::ShowToParty(log_, options_.clock(), caller, "GetApplication", c, &response));
  return response;
}

absl::StatusOr<v1::ListApplicationsResponse> LegalAid::ListApplications(
    absl::string_view caller, const v1::ListApplicationsRequest& request) {
  const std::string node =
      request.justice_node().empty() ? std::string(caller) : request.justice_node();
  if (node != caller) {
    return MakeError(ErrorReason::kNotAllowedForRole,
                     absl::StrCat("node ", caller, " may list only its own applications, "
                                  "not those of ", node),
                     "只能查看本机构的法律援助申请",
                     {.metadata = {{"justice_node", node}}});
  }
  if (!v1::LegalAidState_IsValid(request.state())) {
    return Invalid("state", absl::StrCat("state must be one of ", KeysOf(LegalAidStates())),
                   "状态不正确");
  }
  auto wanted = [&](v1::LegalAidState s) {
    if (request.state() != v1::LEGAL_AID_STATE_UNSPECIFIED) return s == request.state();
    return s == v1::LEGAL_AID_STATE_APPLIED || s == v1::LEGAL_AID_STATE_APPROVED ||
           s == v1::LEGAL_AID_STATE_ASSIGNED;
  };

  // The cases the node applied in, from the feed's node index.
  std::vector<std::string> cases;
  std::set<std::string> seen;
  v1::ReadAllRequest feed;
  feed.mutable_filter()->set_node(node);
  feed.mutable_filter()->set_event_type("referral.v1.LegalAidApplied");
  feed.set_page_size(kFeedPage);
  for (;;) {
    ASSIGN_OR_RETURN(v1::ReadAllResponse page, log_->ReadAll(feed));
    for (const v1::Event& e : page.events()) {
      if (seen.insert(e.subject()).second) cases.push_back(e.subject());
    }
    if (page.events_size() < kFeedPage) break;
    feed.set_from_position(page.next_position());
  }
  std::vector<v1::LegalAidApplication> out;
  for (const std::string& case_id : cases) {
    ASSIGN_OR_RETURN(std::vector<v1::Event> events, log_->ReadCase(case_id));
    const ApplicationProjection applications = ApplicationProjection::Fold(events);
    for (const v1::LegalAidApplication& a : applications.all()) {
      if (a.justice_node() == node && wanted(a.state())) out.push_back(a);
    }
  }
  // Green channel ahead of ordinary applications (优先受理), then first come.
  std::sort(out.begin(), out.end(),
            [](const v1::LegalAidApplication& x, const v1::LegalAidApplication& y) {
              auto key = [](const v1::LegalAidApplication& a) {
                return std::make_tuple(!a.green_channel(), a.apply_time().seconds(),
                                       a.apply_time().nanos(), a.application_id());
              };
              return key(x) < key(y);
            });
  v1::ListApplicationsResponse response;
  for (auto& a : out) *response.add_applications() = std::move(a);
  // A queue is a list: GetApplication is the read that may show more.
  broker::MaskPersonalData(&response);
  return response;
}

}  // namespace referral::legalaid
