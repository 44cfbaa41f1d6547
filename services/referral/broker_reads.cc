// The broker's reads of cases: who may read (policy.h), what they see
// (privacy.h), what is recorded (the audit streams) and the search.

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/timestamps.h"
#include "common/digest.h"
#include "common/errors.h"
#include "common/status_macros.h"
#include "common/vocabulary.h"
#include "google/protobuf/util/time_util.h"
#include "services/referral/broker.h"
#include "services/referral/policy.h"
#include "services/referral/privacy.h"
#include "services/referral/read_audit.h"
#include "storage/event_store.h"
#include "storage/evidence_bundle.h"

namespace referral::broker {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kFeedPage = 1000;
constexpr int kSearchPage = 20;
constexpr int kMaxSearchPage = 100;
constexpr int kListPage = 50;
constexpr int kAuditPage = 100;
constexpr int kMaxAuditPage = 500;
constexpr size_t kMaxPurpose = 500;

absl::Status Invalid(absl::string_view field, std::string message, std::string zh) {
  return MakeError(ErrorReason::kInvalidField, std::move(message), std::move(zh),
                   {.field = std::string(field)});
}

absl::Status CheckPurpose(absl::string_view purpose) {
  if (purpose.size() <= kMaxPurpose) return absl::OkStatus();
  return Invalid("purpose",
                 absl::StrCat("purpose is at most ", kMaxPurpose,
                              " bytes: a file number or a sentence, no personal data"),
                 "调阅事由过长");
}

// The projection of a case's events; CASE_NOT_FOUND when it was never opened.
absl::StatusOr<CaseProjection> OpenedCase(absl::string_view case_id,
                                          const std::vector<v1::Event>& events) {
  CaseProjection p = CaseProjection::Fold(events);
  if (!p.opened()) {
    return MakeError(ErrorReason::kCaseNotFound,
                     absl::StrCat("case ", case_id, " was never opened"), "案件不存在");
  }
  return p;
}

std::string SearchAuditStream(absl::string_view investigator) {
  return absl::StrCat("audit-search:", investigator);
}

bool IsAuditEvent(const v1::Event& e) {
  using B = v1::Event::BodyCase;
  return e.body_case() == B::kPersonalDataAccessed ||
         e.body_case() == B::kCaseTracedByInvestigator ||
         e.body_case() == B::kCasesSearchedByInvestigator;
}

std::vector<std::string> FieldsOf(const std::vector<v1::Event>& events) {
  std::set<std::string> all;
  for (const v1::Event& e : events) {
    for (std::string& f : PersonalDataFields(e)) all.insert(std::move(f));
  }
  return {all.begin(), all.end()};
}

// Page tokens: base64url of "<kind>|<fields...>", opaque to clients.
std::string Token(absl::string_view plain) { return absl::WebSafeBase64Escape(plain); }

absl::Status BadToken() {
  return Invalid("page_token",
                 "page_token is not one this service issued for these criteria: "
                 "start again without it",
                 "分页标记无效，请不带分页标记重新查询");
}

std::string TimeText(const google::protobuf::Timestamp& ts) {
  return TimeUtil::ToString(ts);
}

// The criteria for people, with the ID number masked: what the search audit
// records.
std::string DescribeCriteria(const v1::SearchCasesRequest& q) {
  std::vector<std::string> parts;
  auto add = [&](absl::string_view k, absl::string_view v) {
    if (!v.empty()) parts.push_back(absl::StrCat(k, "=", v));
  };
  add("worker_name", q.worker_name());
  add("worker_id_number",
      q.worker_id_number().empty() ? "" : MaskIdNumber(NormalizeIdNumber(q.worker_id_number())));
  add("party_name", q.party_name());
  add("project", q.project());
  if (const auto* t = FindTerm(Matters(), q.matter())) add("matter", t->key);
  add("node", q.node());
  if (const auto* t = FindTerm(ReferralStates(), q.state())) add("state", t->key);
  if (q.has_opened_from()) add("opened_from", TimeText(q.opened_from()));
  if (q.has_opened_to()) add("opened_to", TimeText(q.opened_to()));
  if (!q.page_token().empty()) parts.push_back("next_page");
  return parts.empty() ? "(all cases)" : absl::StrJoin(parts, " ");
}

}  // namespace

// ------------------------------------------------------------------ audit

absl::Status Broker::AppendAudit(const std::string& stream, absl::string_view accessor,
                                 std::vector<v1::Event> events) {
  return AppendAuditEvents(log_, options_.clock(), stream, accessor, std::move(events));
}

absl::StatusOr<bool> Broker::AdmitRead(absl::string_view caller, absl::string_view method,
                                       const CaseProjection& c, absl::string_view purpose,
                                       const std::vector<std::string>& fields) {
  ASSIGN_OR_RETURN(ReadAs as, AuthorizeCaseRead(caller, c, purpose, options_.access));
  CaseRead read;
  read.caller = caller;
  read.method = method;
  read.case_id = c.state().case_id();
  read.reader = ReaderOf(caller, c, as == ReadAs::kInvestigator);
  read.purpose = purpose;
  read.fields = fields;
  return RecordCaseRead(log_, options_.clock(), read);
}

// ------------------------------------------------------------------ reads

absl::StatusOr<v1::Case> Broker::GetCase(absl::string_view caller,
                                         absl::string_view case_id) {
  v1::GetCaseRequest r;
  r.set_case_id(std::string(case_id));
  return GetCase(caller, r);
}

absl::StatusOr<std::vector<v1::Event>> Broker::TraceCase(absl::string_view caller,
                                                         absl::string_view case_id) {
  v1::TraceCaseRequest r;
  r.set_case_id(std::string(case_id));
  return TraceCase(caller, r);
}

absl::StatusOr<v1::Case> Broker::GetCase(absl::string_view caller,
                                         const v1::GetCaseRequest& request) {
  RETURN_IF_ERROR(storage::ValidateCaseId(request.case_id(), "case_id"));
  RETURN_IF_ERROR(CheckPurpose(request.purpose()));
  ASSIGN_OR_RETURN(CaseProjection p, ReadProjection(request.case_id()));
  v1::Case out = p.state();
  ASSIGN_OR_RETURN(bool clear, AdmitRead(caller, "GetCase", p, request.purpose(),
                                         PersonalDataFields(out)));
  if (!clear) MaskPersonalData(&out);
  return out;
}

absl::StatusOr<std::vector<v1::Event>> Broker::TraceCase(
    absl::string_view caller, const v1::TraceCaseRequest& request) {
  RETURN_IF_ERROR(storage::ValidateCaseId(request.case_id(), "case_id"));
  RETURN_IF_ERROR(CheckPurpose(request.purpose()));
  ASSIGN_OR_RETURN(std::vector<v1::Event> events, log_->ReadCase(request.case_id()));
  ASSIGN_OR_RETURN(CaseProjection p, OpenedCase(request.case_id(), events));
  ASSIGN_OR_RETURN(bool clear, AdmitRead(caller, "TraceCase", p, request.purpose(),
                                         FieldsOf(events)));
  if (!clear) {
    for (v1::Event& e : events) MaskPersonalData(&e);
  }
  return events;
}

absl::StatusOr<std::vector<v1::Case>> Broker::ListCases(absl::string_view caller,
                                                        int page_size) {
  v1::ListCasesRequest r;
  r.set_page_size(page_size);
  ASSIGN_OR_RETURN(v1::ListCasesResponse page, ListCases(caller, r));
  return std::vector<v1::Case>(std::make_move_iterator(page.mutable_cases()->begin()),
                               std::make_move_iterator(page.mutable_cases()->end()));
}

absl::StatusOr<v1::ListCasesResponse> Broker::ListCases(absl::string_view caller,
                                                        const v1::ListCasesRequest& request) {
  // The search index knows every node each case involves: the owner, every
  // sender and addressee, and nodes only invited to a meeting or escalated
  // to. A search with no criteria and no purpose is the caller's case list.
  v1::SearchCasesRequest q;
  q.set_page_size(request.page_size() == 0 ? kListPage : request.page_size());
  q.set_page_token(request.page_token());
  ASSIGN_OR_RETURN(v1::SearchCasesResponse found, SearchCases(caller, q));
  v1::ListCasesResponse out;
  out.mutable_cases()->Swap(found.mutable_cases());
  out.set_next_page_token(found.next_page_token());
  return out;
}

// ------------------------------------------------------------------ search

absl::StatusOr<v1::SearchCasesResponse> Broker::SearchCases(
    absl::string_view caller, const v1::SearchCasesRequest& request) {
  if (request.page_size() < 0) {
    return Invalid("page_size", "page_size cannot be negative (0 means 20)",
                   "每页数量不能为负数");
  }
  const int page_size = request.page_size() == 0
                            ? kSearchPage
                            : std::min(request.page_size(), kMaxSearchPage);
  if (!request.worker_id_number().empty()) {
    RETURN_IF_ERROR(ValidateIdNumber(request.worker_id_number(), "worker_id_number"));
  }
  if (!request.node().empty()) {
    RETURN_IF_ERROR(storage::ValidateNodeName(request.node(), "node"));
  }
  if (!v1::Matter_IsValid(request.matter())) {
    return Invalid("matter", absl::StrCat("matter: use one of ", KeysOf(Matters())),
                   "事项无效");
  }
  if (!v1::ReferralState_IsValid(request.state())) {
    return Invalid("state", absl::StrCat("state: use one of ", KeysOf(ReferralStates())),
                   "转介状态无效");
  }
  for (const auto& [field, ts] :
       {std::pair{"opened_from", &request.opened_from()},
        std::pair{"opened_to", &request.opened_to()}}) {
    if (!IsValidTimestamp(*ts)) {
      return Invalid(field,
                     absl::StrCat(field, " is not a valid time (years 0001 to 9999, "
                                         "nanoseconds below one second)"),
                     "时间无效");
    }
  }
  if (request.has_opened_from() && request.has_opened_to() &&
      TimeOf(request.opened_from()) >= TimeOf(request.opened_to())) {
    return Invalid("opened_to",
                   "opened_to must be later than opened_from (the range is "
                   "[opened_from, opened_to))",
                   "结束时间应晚于开始时间");
  }
  RETURN_IF_ERROR(CheckPurpose(request.purpose()));
  const bool investigator =
      SearchScope(caller, request.purpose(), options_.access) == ReadAs::kInvestigator;

  // A token is good only for the criteria (and scope) it was issued for.
  v1::SearchCasesRequest criteria = request;
  criteria.clear_page_size();
  criteria.clear_page_token();
  criteria.set_purpose(investigator ? "investigator" : "");
  if (!criteria.worker_id_number().empty()) {
    criteria.set_worker_id_number(HexOf(search_.IdDigest(criteria.worker_id_number())));
  }
  const std::string bound = HexOf(Sha256(SerializeDeterministic(criteria)).substr(0, 8));
  std::optional<Cursor> after;
  if (!request.page_token().empty()) {
    std::string plain;
    if (!absl::WebSafeBase64Unescape(request.page_token(), &plain)) return BadToken();
    std::vector<std::string> parts = absl::StrSplit(plain, absl::MaxSplits('|', 3));
    int64_t nanos = 0;
    if (parts.size() != 4 || parts[0] != "c1" || parts[1] != bound ||
        !absl::SimpleAtoi(parts[2], &nanos) ||
        !storage::ValidateCaseId(parts[3], "page_token").ok()) {
      return BadToken();
    }
    after = Cursor{absl::FromUnixNanos(nanos), parts[3]};
  }

  RETURN_IF_ERROR(search_.Refresh());
  SearchIndex::Page page =
      search_.Search(request, investigator ? "" : caller, after, page_size);
  v1::SearchCasesResponse out;
  for (const std::string& id : page.case_ids) {
    ASSIGN_OR_RETURN(CaseProjection p, ReadProjection(id));
    // The index follows the projection's party rule; the projection read
    // now has the last word.
    if (!investigator && !p.IsParty(caller)) continue;
    v1::Case* c = out.add_cases();
    *c = p.state();
    MaskPersonalData(c);
  }
  if (page.next) {
    out.set_next_page_token(Token(absl::StrCat("c1|", bound, "|",
                                               absl::ToUnixNanos(page.next->opened), "|",
                                               page.next->case_id)));
  }
  if (investigator) {
    v1::Event e;
    v1::CasesSearchedByInvestigator* s = e.mutable_cases_searched_by_investigator();
    s->set_investigator(std::string(caller));
    s->set_purpose(request.purpose());
    s->set_criteria(DescribeCriteria(request));
    for (const v1::Case& c : out.cases()) s->add_case_ids(c.case_id());
    e.mutable_actor()->set_role("investigator");
    std::vector<v1::Event> audit;
    audit.push_back(std::move(e));
    RETURN_IF_ERROR(AppendAudit(SearchAuditStream(caller), caller, std::move(audit)));
  }
  return out;
}

// ------------------------------------------------------------------ audit reads

absl::StatusOr<v1::ListAuditEventsResponse> Broker::ListAuditEvents(
    absl::string_view caller, const v1::ListAuditEventsRequest& request) {
  RETURN_IF_ERROR(RequireAuditor(caller, options_.access));
  if (request.case_id().empty() == request.accessor().empty()) {
    return Invalid("case_id",
                   "give exactly one of case_id (a case's audit record) and accessor "
                   "(what one node or identity read)",
                   "请指定案件或调阅机构之一");
  }
  if (request.page_size() < 0) {
    return Invalid("page_size", "page_size cannot be negative (0 means 100)",
                   "每页数量不能为负数");
  }
  const int page_size = request.page_size() == 0
                            ? kAuditPage
                            : std::min(request.page_size(), kMaxAuditPage);
  const bool by_case = !request.case_id().empty();
  if (by_case) {
    RETURN_IF_ERROR(storage::ValidateCaseId(request.case_id(), "case_id"));
  } else {
    RETURN_IF_ERROR(storage::ValidateNodeName(request.accessor(), "accessor"));
  }
  // The token names where to go on: a sequence of the case's audit stream,
  // or a global position of the accessor's feed.
  const absl::string_view kind = by_case ? "s" : "p";
  uint64_t from = 1;
  if (!request.page_token().empty()) {
    std::string plain;
    std::vector<std::string> parts;
    if (absl::WebSafeBase64Unescape(request.page_token(), &plain)) {
      parts = absl::StrSplit(plain, '|');
    }
    if (parts.size() != 3 || parts[0] != "a1" || parts[1] != kind ||
        !absl::SimpleAtoi(parts[2], &from) || from == 0) {
      return BadToken();
    }
  }
  v1::ListAuditEventsResponse out;
  if (by_case) {
    absl::StatusOr<std::vector<v1::Event>> events =
        log_->ReadCase(AuditStream(request.case_id()));
    if (!events.ok()) {
      // Nobody read it in clear and no investigator traced it.
      if (ViewError(events.status()).reason == "CASE_NOT_FOUND") return out;
      return events.status();
    }
    for (size_t i = from - 1; i < events->size(); ++i) {
      if (out.events_size() == page_size) {
        out.set_next_page_token(Token(absl::StrCat("a1|s|", (*events)[i].sequence())));
        break;
      }
      *out.add_events() = std::move((*events)[i]);
    }
    return out;
  }
  // By accessor: its feed of each audit kind (the case log's node-and-type
  // index), merged in log order. The first page_size + 1 of the merge are
  // among the first page_size + 1 of each kind.
  std::vector<v1::Event> merged;
  for (const google::protobuf::Descriptor* type :
       {v1::PersonalDataAccessed::descriptor(), v1::CaseTracedByInvestigator::descriptor(),
        v1::CasesSearchedByInvestigator::descriptor()}) {
    v1::ReadAllRequest req;
    req.set_from_position(from);
    req.mutable_filter()->set_node(request.accessor());
    req.mutable_filter()->set_event_type(type->full_name());
    req.set_page_size(page_size + 1);
    ASSIGN_OR_RETURN(v1::ReadAllResponse page, log_->ReadAll(req));
    for (v1::Event& e : *page.mutable_events()) {
      // Only the accessor's own reads: an audit event names its accessor as
      // source.
      if (IsAuditEvent(e) && e.source() == request.accessor()) {
        merged.push_back(std::move(e));
      }
    }
  }
  std::sort(merged.begin(), merged.end(), [](const v1::Event& a, const v1::Event& b) {
    return a.global_position() < b.global_position();
  });
  for (v1::Event& e : merged) {
    if (out.events_size() == page_size) {
      out.set_next_page_token(Token(absl::StrCat("a1|p|", e.global_position())));
      break;
    }
    *out.add_events() = std::move(e);
  }
  return out;
}

// ------------------------------------------------------------------ proof

absl::StatusOr<v1::VerifyCaseResponse> Broker::VerifyCaseHistory(
    absl::string_view caller, const v1::VerifyCaseHistoryRequest& request) {
  RETURN_IF_ERROR(storage::ValidateCaseId(request.case_id(), "case_id"));
  RETURN_IF_ERROR(CheckPurpose(request.purpose()));
  ASSIGN_OR_RETURN(CaseProjection p, ReadProjection(request.case_id()));
  // A verdict holds no personal data: only an investigator's read is recorded.
  ASSIGN_OR_RETURN(bool clear,
                   AdmitRead(caller, "VerifyCaseHistory", p, request.purpose(), {}));
  (void)clear;
  return log_->VerifyCase(request.case_id());
}

absl::StatusOr<v1::EvidenceBundle> Broker::ExportCaseEvidence(
    absl::string_view caller, const v1::ExportCaseEvidenceRequest& request) {
  RETURN_IF_ERROR(storage::ValidateCaseId(request.case_id(), "case_id"));
  RETURN_IF_ERROR(CheckPurpose(request.purpose()));
  ASSIGN_OR_RETURN(std::vector<v1::Event> events, log_->ReadCase(request.case_id()));
  ASSIGN_OR_RETURN(CaseProjection p, OpenedCase(request.case_id(), events));
  // Who may export is settled before the case log is asked to verify: an
  // outsider cannot make it check and sign a case.
  ASSIGN_OR_RETURN(ReadAs as, AuthorizeCaseRead(caller, p, request.purpose(), options_.access));
  if (!SightOf(ReaderOf(caller, p, as == ReadAs::kInvestigator)).clear) {
    return MakeError(
        ErrorReason::kNotAllowedForRole,
        absl::StrCat("an evidence bundle holds every event's exact bytes, personal data "
                     "included, so only the owning node (",
                     p.state().opened().owning_node(),
                     "), an addressee working the case or an investigator naming a "
                     "purpose may export it; ask the owning node, or read the masked "
                     "history with refctl trace"),
        "证据包含个人信息原文，仅案件主办机构、正在办理的受理机构或说明事由的调查人员可导出");
  }
  // The bundle stops at the head the case log verified (and signed): events
  // appended since are left to the next export.
  auto not_exported = [&](std::string why) {
    return MakeError(ErrorReason::kCaseLogCorrupt,
                     absl::StrCat("case ", request.case_id(), " ", why,
                                  "; it is not exported. Report it to the case log's operator"),
                     "案件记录校验未通过，未导出");
  };
  ASSIGN_OR_RETURN(v1::VerifyCaseResponse verdict, log_->VerifyCase(request.case_id()));
  if (!verdict.intact()) {
    return not_exported(absl::StrCat("is broken at event ", verdict.first_bad_sequence(),
                                     " (", verdict.problem(), ")"));
  }
  if (events.size() < verdict.events_checked()) {
    ASSIGN_OR_RETURN(events, log_->ReadCase(request.case_id()));
  }
  if (events.size() < verdict.events_checked()) {
    return not_exported(absl::StrCat("reads as ", events.size(),
                                     " events but the case log verified ",
                                     verdict.events_checked()));
  }
  events.resize(verdict.events_checked());
  ASSIGN_OR_RETURN(v1::EvidenceBundle bundle,
                   storage::MakeBundle(request.case_id(), events, caller, options_.clock()));
  if (bundle.head_hash() != verdict.head_hash()) {
    return not_exported("as read does not end at the head the case log verified");
  }
  // Recorded before it leaves: a bundle is a clear read of every field.
  ASSIGN_OR_RETURN(bool clear, AdmitRead(caller, "ExportCaseEvidence", p, request.purpose(),
                                         FieldsOf(events)));
  (void)clear;
  bundle.set_verified_by_case_log(true);
  if (verdict.has_signed_head()) *bundle.mutable_signed_head() = verdict.signed_head();
  return bundle;
}

}  // namespace referral::broker
