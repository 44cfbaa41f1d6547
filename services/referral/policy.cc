#include "services/referral/policy.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace referral::broker {
namespace {

using Q = Requirement;
constexpr std::array<Rule, 26> kPolicy = {{
    {"OpenCase", Q::kSelf},
    {"GetCase", Q::kInvestigatorOrParty},
    {"ListCases", Q::kSelf},
    {"TraceCase", Q::kInvestigatorOrParty},
    {"SearchCases", Q::kInvestigatorOrParty},
    {"ListAuditEvents", Q::kAuditor},
    {"VerifyCaseHistory", Q::kInvestigatorOrParty},
    {"ExportCaseEvidence", Q::kInvestigatorOrParty},
    {"SendReferral", Q::kCaseParty},
    {"ReceiveReferral", Q::kReferralRole},
    {"AcceptReferral", Q::kReferralRole},
    {"RejectReferral", Q::kReferralRole},
    {"ReturnReferral", Q::kReferralRole},
    {"ResubmitReferral", Q::kReferralRole},
    {"RedirectReferral", Q::kReferralRole},
    {"StartReferral", Q::kReferralRole},
    {"HoldReferral", Q::kReferralRole},
    {"ResumeReferral", Q::kReferralRole},
    {"CompleteReferral", Q::kReferralRole},
    {"FailReferral", Q::kReferralRole},
    {"CancelReferral", Q::kReferralRole},
    {"GetReferral", Q::kCaseParty},
    {"ListReferrals", Q::kSelf},
    {"StreamInbox", Q::kSelf},
    {"AckInbox", Q::kSelf},
    {"GetBacklog", Q::kSelf},
}};

}  // namespace

absl::Span<const Rule> Policy() { return kPolicy; }

const Rule& RuleFor(absl::string_view method) {
  for (const Rule& r : kPolicy) {
    if (r.method == method) return r;
  }
  // Every method has a row (policy_test holds it so); an unknown name is a
  // programming error, denied by the strictest rule.
  static const Rule kDeny{"", Q::kReferralRole};
  return kDeny;
}

absl::Status RequireParty(absl::string_view caller, const CaseProjection& c) {
  if (c.IsParty(caller)) return absl::OkStatus();
  return MakeError(
      ErrorReason::kNotAParty,
      absl::StrCat("node ", caller, " is not party to case ", c.state().case_id(),
                   ": only its owner and the nodes its referrals were sent "
                   "from or to may see or act on it"),
      "本机构不是该案件的当事方，无权查看或办理",
      {.metadata = {{"case_id", c.state().case_id()}}});
}

absl::StatusOr<ReadAs> AuthorizeCaseRead(absl::string_view caller,
                                         const CaseProjection& c,
                                         absl::string_view purpose,
                                         const AccessList& access) {
  const bool investigator = access.IsInvestigator(caller);
  if (investigator && !purpose.empty()) return ReadAs::kInvestigator;
  if (c.IsParty(caller)) return ReadAs::kParty;
  if (investigator) {
    return MakeError(
        ErrorReason::kInvalidField,
        absl::StrCat(caller, " is not party to case ", c.state().case_id(),
                     ": as an investigator, say why you read it in `purpose` (e.g. "
                     "a supervision file number, no personal data); the read is "
                     "recorded for the auditors"),
        "调阅非本机构案件须填写调阅事由（如监督案号），调阅将被记录",
        {.metadata = {{"case_id", c.state().case_id()}}, .field = "purpose"});
  }
  return MakeError(
      ErrorReason::kNotAParty,
      absl::StrCat("node ", caller, " is not party to case ", c.state().case_id(),
                   ": only its owner, the nodes its referrals were sent from or to, "
                   "the nodes invited to it or escalated to, and the investigators "
                   "named in the broker's access configuration may read it"),
      "本机构不是该案件的当事方，无权查看",
      {.metadata = {{"case_id", c.state().case_id()}}});
}

ReadAs SearchScope(absl::string_view caller, absl::string_view purpose,
                   const AccessList& access) {
  return access.IsInvestigator(caller) && !purpose.empty() ? ReadAs::kInvestigator
                                                          : ReadAs::kParty;
}

absl::Status RequireAuditor(absl::string_view caller, const AccessList& access) {
  if (access.IsAuditor(caller)) return absl::OkStatus();
  std::string who;
  for (const std::string& a : access.auditors()) {
    absl::StrAppend(&who, who.empty() ? "" : ", ", a);
  }
  return MakeError(
      ErrorReason::kNotAllowedForRole,
      absl::StrCat("only the auditors named in the broker's access configuration (",
                   who.empty() ? "none are configured" : who,
                   ") may read audit events; ", caller, " is not one"),
      "只有访问权限配置中的审计机关可以查看调阅记录",
      {.metadata = {{"auditors", who}}});
}

absl::Status RequireRole(absl::string_view caller, const v1::Referral& r,
                         const Transition& step) {
  const bool sender = step.role == Role::kSender;
  const std::string& who = sender ? r.from_node() : r.to_node();
  if (caller == who) return absl::OkStatus();
  return MakeError(
      ErrorReason::kNotAllowedForRole,
      absl::StrCat("only the ", sender ? "sender" : "addressee", " (", who,
                   ") may ", step.name, " referral ", r.referral_id(),
                   ", which is ", StateName(r.state()), "; ", caller, " is the ",
                   caller == r.from_node() ? "sender"
                   : caller == r.to_node() ? "addressee"
                                           : "neither"),
      absl::StrCat("只有", sender ? "转出方" : "接收方", "可以执行此操作"),
      {.metadata = {{"state", std::string(StateName(r.state()))},
                    {"referral_id", r.referral_id()}}});
}

}  // namespace referral::broker
