#include "services/referral/broker.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/digest.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/timestamps.h"
#include "google/protobuf/util/time_util.h"
#include "services/referral/policy.h"
#include "services/referral/privacy.h"
#include "storage/event_store.h"

namespace referral::broker {
namespace {

constexpr int kFeedPage = 1000;

absl::Status Invalid(absl::string_view field, std::string message,
                     std::string zh) {
  return MakeError(ErrorReason::kInvalidField, std::move(message), std::move(zh),
                   {.field = std::string(field)});
}

absl::Status StateConflict(const v1::Referral& r, const Transition& step) {
  std::string allowed;
  for (int s = 0; s < v1::ReferralState_ARRAYSIZE; ++s) {
    if (Allows(step, static_cast<v1::ReferralState>(s))) {
      if (!allowed.empty()) allowed += ", ";
      allowed += std::string(StateName(static_cast<v1::ReferralState>(s)));
    }
  }
  return MakeError(
      ErrorReason::kReferralStateConflict,
      absl::StrCat("referral ", r.referral_id(), " is ", StateName(r.state()),
                   "; ", step.name, " is allowed only from ", allowed),
      absl::StrCat("转介当前状态为 ", StateName(r.state()), "，不能执行此操作"),
      {.metadata = {{"state", std::string(StateName(r.state()))},
                    {"referral_id", r.referral_id()}}});
}

absl::Status ReferralNotFound(absl::string_view referral_id) {
  return MakeError(ErrorReason::kReferralNotFound,
                   absl::StrCat("no referral ", referral_id,
                                ": ids look like \"<case>/r<n>\""),
                   "转介不存在",
                   {.metadata = {{"referral_id", std::string(referral_id)}}});
}

absl::Status CheckAttachments(
    const google::protobuf::RepeatedPtrField<v1::Attachment>& list) {
  for (int i = 0; i < list.size(); ++i) {
    if (list[i].name().empty() || list[i].sha256().size() != 32) {
      return Invalid(absl::StrCat("attachments[", i, "]"),
                     absl::StrCat("attachments[", i,
                                  "] needs a name and a 32-byte SHA-256 of "
                                  "the material"),
                     "附件需要名称和 SHA-256 摘要");
    }
  }
  return absl::OkStatus();
}

// A due time a command names must be a real time still to come: a past one
// would breach, and escalate against the other side, before it could act.
// Checked while deciding, after a retry has found its first answer.
absl::Status CheckDueLater(const google::protobuf::Timestamp& ts,
                           absl::string_view field, absl::Time now) {
  if (IsValidTimestamp(ts) && TimeOf(ts) > now) {
    return absl::OkStatus();
  }
  return Invalid(field,
                 absl::StrCat(field, " must be a time still to come, e.g. "
                                     "2026-12-01T17:00:00+08:00 or +3d in refctl"),
                 "期限须为将来的时间");
}

// Why a step clears the referral's open deadline; nullptr for steps that
// leave it (receive: the addressee still owes the answer) or find none.
const char* ClearReason(Action action) {
  switch (action) {
    case Action::kAccept:
    case Action::kReject:
    case Action::kRedirect:
    case Action::kReturn:
    case Action::kResubmit:
      return "met";
    case Action::kCancel:
      return "cancelled";
    default:
      return nullptr;
  }
}

// How many resubmission deadlines a referral has had.
int Resubmissions(const deadlines::DeadlineFold& fold, absl::string_view referral_id) {
  int n = 0;
  for (const auto& [id, d] : fold.all()) {
    n += d.set().subject_id() == referral_id &&
         d.set().kind() == v1::DEADLINE_KIND_REFERRAL_RESUBMISSION;
  }
  return n;
}

v1::Event WithBody(const std::vector<std::string>& involved) {
  v1::Event e;
  for (const auto& n : involved) e.add_involved_nodes(n);
  return e;
}

}  // namespace

Broker::Broker(CaseLogPort* log, DirectoryPort* directory, BrokerOptions options)
    : log_(log),
      directory_(directory),
      options_(std::move(options)),
      calendar_(options_.calendar != nullptr ? options_.calendar : &default_calendar_),
      cache_(log, options_.case_cache_bytes),
      commands_(log, &cache_),
      search_(log, options_.search_key.empty() ? SearchIndex::RandomKey()
                                               : options_.search_key) {}

v1::Event Broker::AcceptanceDeadline(absl::string_view referral_id,
                                     absl::string_view suffix,
                                     absl::string_view to_node, v1::Priority priority,
                                     std::optional<absl::Time> due) {
  deadlines::DeadlineSpec spec;
  spec.kind = v1::DEADLINE_KIND_REFERRAL_ACCEPTANCE;
  spec.deadline_id = absl::StrCat(referral_id, "/accept", suffix);
  spec.subject_id = std::string(referral_id);
  spec.responsible_node = std::string(to_node);
  spec.due_time = due;
  spec.working_days = deadlines::AcceptanceWorkingDays(priority);
  return deadlines::SetDeadline(spec, options_.clock(), *calendar_);
}

std::vector<v1::Event> Broker::DeadlineChanges(
    Action action, const v1::Referral& r, const deadlines::DeadlineFold& fold,
    const std::vector<v1::Event>& step_events) {
  std::vector<v1::Event> out;
  if (const char* reason = ClearReason(action)) {
    for (const auto& [id, d] : fold.all()) {
      if (d.set().subject_id() == r.referral_id() && fold.IsOpen(id)) {
        out.push_back(deadlines::ClearDeadline(id, reason, d.set().responsible_node()));
      }
    }
  }
  const int k = Resubmissions(fold, r.referral_id());
  switch (action) {
    case Action::kReturn: {
      const v1::ReferralReturned& returned = step_events.front().referral_returned();
      deadlines::DeadlineSpec spec;
      spec.kind = v1::DEADLINE_KIND_REFERRAL_RESUBMISSION;
      spec.deadline_id = absl::StrCat(r.referral_id(), "/resubmit", k + 1);
      spec.subject_id = r.referral_id();
      spec.responsible_node = r.from_node();
      if (returned.has_resubmit_by()) spec.due_time = TimeOf(returned.resubmit_by());
      out.push_back(deadlines::SetDeadline(spec, options_.clock(), *calendar_));
      break;
    }
    case Action::kResubmit:
      // A fresh acceptance deadline: the clock starts again from the material.
      out.push_back(AcceptanceDeadline(r.referral_id(), absl::StrCat(k), r.to_node(),
                                       r.priority(), std::nullopt));
      break;
    case Action::kRedirect:
      for (const v1::Event& e : step_events) {
        if (!e.has_referral_requested()) continue;
        const v1::ReferralRequested& child = e.referral_requested();
        out.push_back(AcceptanceDeadline(
            child.referral_id(), "", child.to_node(), child.priority(),
            child.has_due_time() ? std::optional<absl::Time>(TimeOf(child.due_time()))
                                 : std::nullopt));
      }
      break;
    default:
      break;
  }
  return out;
}

v1::EventFilter Broker::InboxFilter(absl::string_view node) {
  v1::EventFilter f;
  f.set_node(std::string(node));
  return f;
}

absl::Status Broker::CheckNode(absl::string_view node, absl::string_view field) {
  RETURN_IF_ERROR(storage::ValidateNodeName(node, field));
  return directory_->GetNode(node).status();
}

absl::StatusOr<CaseProjection> Broker::ReadProjection(absl::string_view case_id) {
  std::optional<CaseProjection> p;
  RETURN_IF_ERROR(cache_.Visit(case_id, [&](const CaseState& s) {
    if (s.projection.opened()) p = s.projection;
    return absl::OkStatus();
  }));
  if (!p) {
    return MakeError(ErrorReason::kCaseNotFound,
                     absl::StrCat("case ", case_id, " was never opened"),
                     "案件不存在", {.metadata = {{"case_id", std::string(case_id)}}});
  }
  return *std::move(p);
}

absl::Status Broker::Execute(absl::string_view caller, const std::string& case_id,
                             const std::string& request_id,
                             const google::protobuf::Message& request, bool opens_case,
                             const Decide& decide, const AnswerFromProjection& answer) {
  auto not_opened = [&] {
    return MakeError(ErrorReason::kCaseNotFound,
                     absl::StrCat("case ", case_id, " was never opened"),
                     "案件不存在");
  };
  return commands_.ExecuteCached(
      caller, case_id, request_id, request,
      [&](const CaseState& s) -> absl::StatusOr<std::vector<v1::Event>> {
        if (!opens_case && !s.projection.opened()) return not_opened();
        return decide(s.projection, s.deadlines);
      },
      [&](const CaseProjection& after) -> absl::Status {
        if (!after.opened()) return not_opened();
        return answer(after);
      },
      {.may_create = opens_case, .max_attempts = options_.max_attempts});
}

// ------------------------------------------------------------------ Cases

absl::StatusOr<v1::Case> Broker::OpenCase(absl::string_view caller,
                                          const v1::OpenCaseRequest& request) {
  RETURN_IF_ERROR(storage::ValidateToken(request.request_id(), "request_id"));
  if (request.channel() == v1::INTAKE_CHANNEL_UNSPECIFIED) {
    return Invalid("channel", "channel is required: how the case arrived",
                   "请选择受理渠道");
  }
  if (request.matter() == v1::MATTER_UNSPECIFIED) {
    return Invalid("matter", "matter is required: what the workers come about",
                   "请选择事项");
  }
  if (request.title().empty()) {
    return Invalid("title", "title is required (no personal data)",
                   "请填写案件标题");
  }
  if (request.amount_claimed_fen() < 0) {
    return Invalid("amount_claimed_fen", "amount_claimed_fen cannot be negative",
                   "请求金额不能为负数");
  }
  for (int i = 0; i < request.parties_size(); ++i) {
    const v1::Party& p = request.parties(i);
    if (p.role() == v1::PARTY_ROLE_UNSPECIFIED || p.name().empty() ||
        (p.role() == v1::PARTY_ROLE_WORKER_GROUP && p.head_count() < 1)) {
      return Invalid(absl::StrCat("parties[", i, "]"),
                     absl::StrCat("parties[", i,
                                  "] needs a role and a name (and a head count "
                                  "for a worker group)"),
                     "当事人需要角色和名称（工人群体需要人数）");
    }
    if (!p.id_number().empty()) {
      RETURN_IF_ERROR(
          ValidateIdNumber(p.id_number(), absl::StrCat("parties[", i, "].id_number")));
    }
  }
  RETURN_IF_ERROR(CheckNode(caller, "caller"));

  // The number comes from the caller's own counter stream; the counter
  // event carries this command's id, so a retry gets the same number.
  const std::string prefix = CommandPrefix(caller, request.request_id());
  static const absl::TimeZone kShanghai = [] {
    absl::TimeZone z;
    if (!absl::LoadTimeZone("Asia/Shanghai", &z)) z = absl::FixedTimeZone(8 * 3600);
    return z;
  }();
  int year = static_cast<int>(absl::ToCivilYear(options_.clock(), kShanghai).year());
  std::string counter = absl::StrCat("counter:", caller, ":", year);
  v1::AppendRequest number;
  number.set_case_id(counter);
  v1::Event* n = number.add_events();
  n->set_event_id(prefix + ".n");
  n->set_source(std::string(caller));
  n->mutable_case_number_assigned();
  uint64_t seq = 0;
  absl::StatusOr<v1::AppendResponse> numbered = log_->Append(number);
  if (numbered.ok()) {
    seq = numbered->first_sequence();
  } else if (ViewError(numbered.status()).reason == "EVENT_ID_REUSED") {
    // A retry across a new year: the number was taken in last year's
    // counter, which the error names.
    ErrorView v = ViewError(numbered.status());
    std::vector<std::string> parts = absl::StrSplit(v.metadata["case_id"], ':');
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[2], &year) ||
        !absl::SimpleAtoi(v.metadata["sequence"], &seq)) {
      return numbered.status();
    }
  } else {
    return numbered.status();
  }
  const std::string case_id = absl::StrFormat("%s:%d-%06d", caller, year, seq);

  v1::Case opened;
  RETURN_IF_ERROR(
      Execute(caller, case_id, request.request_id(), request, /*opens_case=*/true,
              [&](const CaseProjection& current, const deadlines::DeadlineFold&)
                  -> absl::StatusOr<std::vector<v1::Event>> {
                if (current.opened()) {
                  return MakeError(ErrorReason::kConcurrentModification,
                                   absl::StrCat("case ", case_id, " already exists"),
                                   "案件编号冲突");
                }
                v1::Event e;
                v1::CaseOpened* o = e.mutable_case_opened();
                o->set_owning_node(std::string(caller));
                o->set_channel(request.channel());
                o->set_title(request.title());
                o->set_matter(request.matter());
                o->set_jurisdiction(request.jurisdiction());
                *o->mutable_parties() = request.parties();
                o->set_project(request.project());
                o->set_amount_claimed_fen(request.amount_claimed_fen());
                o->set_green_channel(request.green_channel());
                return std::vector<v1::Event>{std::move(e)};
              },
              [&](const CaseProjection& after) {
                opened = after.state();
                return absl::OkStatus();
              }));
  return opened;
}

// GetCase, TraceCase, ListCases, SearchCases and ListAuditEvents: the reads
// that decide who sees personal data, and audit them, are in broker_reads.cc.

// ------------------------------------------------------------------ Referrals

absl::StatusOr<v1::Referral> Broker::SendReferral(
    absl::string_view caller, const v1::SendReferralRequest& request) {
  RETURN_IF_ERROR(storage::ValidateCaseId(request.case_id(), "case_id"));
  RETURN_IF_ERROR(CheckNode(request.to_node(), "to_node"));
  if (request.to_node() == caller) {
    return Invalid("to_node", "a node cannot refer a case to itself",
                   "不能转介给本机构");
  }
  if (request.purpose().empty()) {
    return Invalid("purpose", "purpose is required: what the sender asks for",
                   "请填写转介事由");
  }
  RETURN_IF_ERROR(CheckAttachments(request.attachments()));
  v1::Referral sent;
  RETURN_IF_ERROR(
      Execute(caller, request.case_id(), request.request_id(), request, false,
              [&](const CaseProjection& c, const deadlines::DeadlineFold&)
                  -> absl::StatusOr<std::vector<v1::Event>> {
                RETURN_IF_ERROR(RequireParty(caller, c));
                if (request.has_due_time()) {
                  RETURN_IF_ERROR(
                      CheckDueLater(request.due_time(), "due_time", options_.clock()));
                }
                v1::Event e = WithBody({request.to_node()});
                v1::ReferralRequested* r = e.mutable_referral_requested();
                r->set_referral_id(c.NextReferralId());
                r->set_to_node(request.to_node());
                r->set_purpose(request.purpose());
                r->set_matter(request.matter() != v1::MATTER_UNSPECIFIED
                                  ? request.matter()
                                  : c.state().opened().matter());
                r->set_priority(request.priority() != v1::PRIORITY_UNSPECIFIED
                                    ? request.priority()
                                    : (c.state().opened().green_channel()
                                           ? v1::PRIORITY_GREEN_CHANNEL
                                           : v1::PRIORITY_ROUTINE));
                if (request.has_due_time()) *r->mutable_due_time() = request.due_time();
                *r->mutable_attachments() = request.attachments();
                v1::Event deadline = AcceptanceDeadline(
                    r->referral_id(), "", r->to_node(), r->priority(),
                    request.has_due_time()
                        ? std::optional<absl::Time>(TimeOf(request.due_time()))
                        : std::nullopt);
                return std::vector<v1::Event>{std::move(e), std::move(deadline)};
              },
              [&](const CaseProjection& after) {
                // The command's referral is the last one the projection holds.
                sent = after.state().referrals(after.state().referrals_size() - 1);
                return absl::OkStatus();
              }));
  return sent;
}

absl::StatusOr<StepResult> Broker::Step(
    absl::string_view caller, Action action, const std::string& request_id,
    const std::string& referral_id, const google::protobuf::Message& request,
    const std::function<absl::Status(const CaseProjection&, const v1::Referral&,
                                     std::vector<v1::Event>*)>& body) {
  const std::string case_id = CaseOfReferral(referral_id);
  if (case_id.empty() || !storage::ValidateCaseId(case_id, "referral_id").ok()) {
    return Invalid("referral_id",
                   absl::StrCat("referral_id \"", referral_id.substr(0, 60),
                                "\" is not a referral id like \"<case>/r<n>\""),
                   "转介编号格式不正确");
  }
  const Transition& step = TransitionFor(action);
  std::string child_id;
  StepResult result;
  absl::Status done = Execute(
      caller, case_id, request_id, request, false,
      [&](const CaseProjection& c, const deadlines::DeadlineFold& fold)
          -> absl::StatusOr<std::vector<v1::Event>> {
        const v1::Referral* r = c.FindReferral(referral_id);
        if (r == nullptr) return ReferralNotFound(referral_id);
        RETURN_IF_ERROR(RequireParty(caller, c));
        RETURN_IF_ERROR(RequireRole(caller, *r, step));
        if (!Allows(step, r->state())) return StateConflict(*r, step);
        std::vector<v1::Event> events;
        RETURN_IF_ERROR(body(c, *r, &events));
        for (v1::Event& d : DeadlineChanges(action, *r, fold, events)) {
          events.push_back(std::move(d));
        }
        for (auto& e : events) {
          e.add_involved_nodes(r->from_node());
          e.add_involved_nodes(r->to_node());
        }
        if (action == Action::kRedirect) child_id = c.NextReferralId();
        return events;
      },
      [&](const CaseProjection& after) -> absl::Status {
        const v1::Referral* r = after.FindReferral(referral_id);
        if (r == nullptr) return ReferralNotFound(referral_id);
        result.referral = *r;
        if (!r->child_referral_id().empty() && action == Action::kRedirect) {
          if (const v1::Referral* child = after.FindReferral(r->child_referral_id())) {
            result.child = *child;
          }
        }
        return absl::OkStatus();
      });
  if (!done.ok()) {
    // A case that does not exist hides nothing: say the referral is missing.
    if (ViewError(done).reason == "CASE_NOT_FOUND") {
      return ReferralNotFound(referral_id);
    }
    return done;
  }
  return result;
}

#define REFERRAL_SIMPLE_STEP(Method, Req, ActionValue, Fill)                  \
  absl::StatusOr<v1::Referral> Broker::Method(absl::string_view caller,       \
                                              const v1::Req& req) {           \
    ASSIGN_OR_RETURN(                                                          \
        StepResult s,                                                          \
        Step(caller, ActionValue, req.request_id(), req.referral_id(), req,    \
             [&](const CaseProjection& c, const v1::Referral& r,               \
                 std::vector<v1::Event>* out) -> absl::Status {                \
               v1::Event e;                                                    \
               Fill;                                                           \
               out->push_back(std::move(e));                                   \
               return absl::OkStatus();                                        \
             }));                                                              \
    return s.referral;                                                         \
  }

REFERRAL_SIMPLE_STEP(Receive, ReceiveReferralRequest, Action::kReceive,
                     e.mutable_referral_received()->set_referral_id(r.referral_id()))
REFERRAL_SIMPLE_STEP(Accept, AcceptReferralRequest, Action::kAccept, {
  e.mutable_referral_accepted()->set_referral_id(r.referral_id());
  e.mutable_referral_accepted()->set_note(req.note());
})
REFERRAL_SIMPLE_STEP(Start, StartReferralRequest, Action::kStart,
                     e.mutable_referral_started()->set_referral_id(r.referral_id()))
REFERRAL_SIMPLE_STEP(Resume, ResumeReferralRequest, Action::kResume,
                     e.mutable_referral_resumed()->set_referral_id(r.referral_id()))
REFERRAL_SIMPLE_STEP(Cancel, CancelReferralRequest, Action::kCancel, {
  e.mutable_referral_cancelled()->set_referral_id(r.referral_id());
  e.mutable_referral_cancelled()->set_reason(req.reason());
})
REFERRAL_SIMPLE_STEP(Resubmit, ResubmitReferralRequest, Action::kResubmit, {
  RETURN_IF_ERROR(CheckAttachments(req.attachments()));
  e.mutable_referral_resubmitted()->set_referral_id(r.referral_id());
  *e.mutable_referral_resubmitted()->mutable_attachments() = req.attachments();
  e.mutable_referral_resubmitted()->set_note(req.note());
})
REFERRAL_SIMPLE_STEP(Reject, RejectReferralRequest, Action::kReject, {
  if (req.reason_code().empty()) {
    return Invalid("reason_code", "reason_code is required, e.g. out_of_jurisdiction",
                   "请填写不予受理的原因");
  }
  e.mutable_referral_rejected()->set_referral_id(r.referral_id());
  e.mutable_referral_rejected()->set_reason_code(req.reason_code());
  e.mutable_referral_rejected()->set_note(req.note());
})
REFERRAL_SIMPLE_STEP(Return, ReturnReferralRequest, Action::kReturn, {
  if (req.missing_items().empty()) {
    return Invalid("missing_items", "name at least one missing item",
                   "请列出需要补正的材料");
  }
  auto* b = e.mutable_referral_returned();
  b->set_referral_id(r.referral_id());
  *b->mutable_missing_items() = req.missing_items();
  if (req.has_resubmit_by()) {
    RETURN_IF_ERROR(CheckDueLater(req.resubmit_by(), "resubmit_by", options_.clock()));
    *b->mutable_resubmit_by() = req.resubmit_by();
  }
  b->set_note(req.note());
})
REFERRAL_SIMPLE_STEP(Hold, HoldReferralRequest, Action::kHold, {
  if (req.reason().empty()) {
    return Invalid("reason", "reason is required: what the referral waits for",
                   "请填写中止原因");
  }
  auto* b = e.mutable_referral_put_on_hold();
  b->set_referral_id(r.referral_id());
  b->set_reason(req.reason());
  if (req.has_until()) *b->mutable_until() = req.until();
})
REFERRAL_SIMPLE_STEP(Complete, CompleteReferralRequest, Action::kComplete, {
  if (req.outcome() == v1::OUTCOME_UNSPECIFIED) {
    return Invalid("outcome", "outcome is required, e.g. OUTCOME_WAGES_RECOVERED",
                   "请选择办结结果");
  }
  if (req.amount_recovered_fen() < 0) {
    return Invalid("amount_recovered_fen", "amount_recovered_fen cannot be negative",
                   "追回金额不能为负数");
  }
  auto* b = e.mutable_referral_completed();
  b->set_referral_id(r.referral_id());
  b->set_outcome(req.outcome());
  b->set_amount_recovered_fen(req.amount_recovered_fen());
  b->set_note(req.note());
})
REFERRAL_SIMPLE_STEP(Fail, FailReferralRequest, Action::kFail, {
  if (req.reason_code().empty()) {
    return Invalid("reason_code", "reason_code is required, e.g. respondent_missing",
                   "请填写未能办结的原因");
  }
  e.mutable_referral_failed()->set_referral_id(r.referral_id());
  e.mutable_referral_failed()->set_reason_code(req.reason_code());
  e.mutable_referral_failed()->set_note(req.note());
})
#undef REFERRAL_SIMPLE_STEP

absl::StatusOr<StepResult> Broker::Redirect(absl::string_view caller,
                                            const v1::RedirectReferralRequest& req) {
  RETURN_IF_ERROR(CheckNode(req.to_node(), "to_node"));
  if (req.reason().empty()) {
    return Invalid("reason", "reason is required: why the other node is right",
                   "请填写再转原因");
  }
  return Step(caller, Action::kRedirect, req.request_id(), req.referral_id(), req,
              [&](const CaseProjection& c, const v1::Referral& r,
                  std::vector<v1::Event>* out) -> absl::Status {
                if (req.to_node() == r.to_node() || req.to_node() == r.from_node()) {
                  return Invalid("to_node",
                                 "redirect to a node other than the sender and the "
                                 "current addressee",
                                 "再转的机构不能是转出方或本机构");
                }
                const std::string child = c.NextReferralId();
                v1::Event parent;
                auto* d = parent.mutable_referral_redirected();
                d->set_referral_id(r.referral_id());
                d->set_to_node(req.to_node());
                d->set_child_referral_id(child);
                d->set_reason(req.reason());
                parent.add_involved_nodes(req.to_node());
                v1::Event next;
                auto* q = next.mutable_referral_requested();
                q->set_referral_id(child);
                q->set_to_node(req.to_node());
                q->set_purpose(r.purpose());
                q->set_matter(r.matter());
                q->set_priority(r.priority());
                // A due time that has passed is not inherited: the new
                // addressee gets the calendar's time instead.
                if (r.has_due_time() && TimeOf(r.due_time()) > options_.clock()) {
                  *q->mutable_due_time() = r.due_time();
                }
                *q->mutable_attachments() = r.attachments();
                q->set_parent_referral_id(r.referral_id());
                next.add_involved_nodes(req.to_node());
                out->push_back(std::move(parent));
                out->push_back(std::move(next));
                return absl::OkStatus();
              });
}

absl::StatusOr<v1::Referral> Broker::GetReferral(absl::string_view caller,
                                                 absl::string_view referral_id) {
  std::string case_id = CaseOfReferral(referral_id);
  if (case_id.empty() || !storage::ValidateCaseId(case_id, "referral_id").ok()) {
    return Invalid("referral_id", "not a referral id like \"<case>/r<n>\"",
                   "转介编号格式不正确");
  }
  absl::StatusOr<CaseProjection> p = ReadProjection(case_id);
  if (!p.ok()) {
    if (p.status().code() == absl::StatusCode::kNotFound) {
      return ReferralNotFound(referral_id);
    }
    return p.status();
  }
  RETURN_IF_ERROR(RequireParty(caller, *p));
  const v1::Referral* r = p->FindReferral(referral_id);
  if (r == nullptr) return ReferralNotFound(referral_id);
  return *r;
}

absl::StatusOr<std::vector<v1::Referral>> Broker::ListReferrals(
    absl::string_view caller, const v1::ListReferralsRequest& request) {
  const int page_size = request.page_size() > 0 ? request.page_size() : 100;
  std::vector<std::pair<uint64_t, std::string>> requested;  // position, referral
  v1::ReadAllRequest req;
  req.mutable_filter()->set_node(std::string(caller));
  req.mutable_filter()->set_event_type("referral.v1.ReferralRequested");
  req.set_page_size(kFeedPage);
  for (;;) {
    ASSIGN_OR_RETURN(v1::ReadAllResponse page, log_->ReadAll(req));
    for (const auto& e : page.events()) {
      requested.emplace_back(e.global_position(), e.referral_requested().referral_id());
    }
    if (page.events_size() < kFeedPage) break;
    req.set_from_position(page.next_position());
  }
  std::map<std::string, CaseProjection> cases;
  std::vector<v1::Referral> out;
  for (auto it = requested.rbegin();
       it != requested.rend() && static_cast<int>(out.size()) < page_size; ++it) {
    std::string case_id = CaseOfReferral(it->second);
    auto c = cases.find(case_id);
    if (c == cases.end()) {
      ASSIGN_OR_RETURN(CaseProjection p, ReadProjection(case_id));
      c = cases.emplace(case_id, std::move(p)).first;
    }
    const v1::Referral* r = c->second.FindReferral(it->second);
    if (r == nullptr) continue;
    bool sent = r->from_node() == caller, received = r->to_node() == caller;
    if (request.role() == v1::REFERRAL_ROLE_SENT && !sent) continue;
    if (request.role() == v1::REFERRAL_ROLE_RECEIVED && !received) continue;
    if (!sent && !received) continue;
    if (request.state() != v1::REFERRAL_STATE_UNSPECIFIED &&
        r->state() != request.state()) {
      continue;
    }
    out.push_back(*r);
  }
  return out;
}

// ------------------------------------------------------------------ Inbox

namespace {
std::string InboxCheckpointName(absl::string_view node) {
  return absl::StrCat("inbox.", node);
}
}  // namespace

absl::StatusOr<uint64_t> Broker::InboxCursor(absl::string_view node) {
  return log_->GetCheckpoint(InboxCheckpointName(node));
}

absl::StatusOr<uint64_t> Broker::AckInbox(absl::string_view caller,
                                          uint64_t position) {
  ASSIGN_OR_RETURN(uint64_t cursor, InboxCursor(caller));
  // Acknowledgements only move forward: a late ack of an earlier item
  // changes nothing.
  if (position <= cursor) return cursor;
  RETURN_IF_ERROR(log_->SetCheckpoint(InboxCheckpointName(caller), position));
  return position;
}

absl::StatusOr<v1::GetBacklogResponse> Broker::Backlog(absl::string_view caller,
                                                       absl::string_view node) {
  if (!node.empty() && node != caller) {
    return MakeError(ErrorReason::kNotAParty,
                     absl::StrCat("node ", caller, " may read only its own backlog"),
                     "只能查看本机构的待办");
  }
  v1::GetBacklogResponse out;
  out.set_node(std::string(caller));
  ASSIGN_OR_RETURN(uint64_t cursor, InboxCursor(caller));
  out.set_cursor(cursor);
  v1::ReadAllRequest req;
  *req.mutable_filter() = InboxFilter(caller);
  req.set_from_position(cursor + 1);
  req.set_page_size(kFeedPage);
  for (;;) {
    ASSIGN_OR_RETURN(v1::ReadAllResponse page, log_->ReadAll(req));
    for (const auto& e : page.events()) {
      if (!ReachesInbox(e)) continue;
      if (out.unacknowledged() == 0) {
        *out.mutable_oldest_unacknowledged_time() = e.recorded_time();
      }
      out.set_unacknowledged(out.unacknowledged() + 1);
    }
    if (page.events_size() < kFeedPage) break;
    req.set_from_position(page.next_position());
  }
  return out;
}

bool Broker::ReachesInbox(const v1::Event& e) {
  using B = v1::Event::BodyCase;
  // Besides every referral step: what a node must act on or know of from
  // the other services. Timers being set and met are not news.
  static constexpr B kCoordination[] = {
      B::kMeetingParticipantInvited, B::kMeetingRescheduled,
      B::kMeetingCancelled,          B::kMeetingOverlapWarned,
      B::kReminderSent,              B::kDeadlineWarned,
      B::kDeadlineBreached,          B::kEscalationRaised,
      B::kLegalAidMajorCaseFlagged,
  };
  if (!ReferralIdOf(e).empty()) return true;
  for (B b : kCoordination) {
    if (e.body_case() == b) return true;
  }
  return false;
}

absl::StatusOr<std::optional<v1::InboxItem>> Broker::InboxItemOf(
    const v1::Event& e) {
  if (!ReachesInbox(e)) return std::nullopt;
  v1::InboxItem item;
  *item.mutable_event() = e;
  // An inbox is a list (privacy.h): personal data masked for every node, as
  // in ListCases; opening the case, meeting or application shows what the
  // sight table lets the reader see.
  MaskPersonalData(item.mutable_event());
  std::string referral_id = ReferralIdOf(e);
  if (referral_id.empty()) return item;  // a coordination item
  item.set_referral_id(referral_id);
  const Transition* step = TransitionForBody(e.body_case());
  v1::ReferralState state = step->to;
  if (state == v1::REFERRAL_STATE_UNSPECIFIED) {
    // A resume returns to the held-from state: fold the case up to it.
    ASSIGN_OR_RETURN(CaseProjection p, cache_.ProjectionAt(e.subject(), e.sequence()));
    if (const v1::Referral* r = p.FindReferral(referral_id)) state = r->state();
  }
  item.set_state(state);
  return item;
}

}  // namespace referral::broker
