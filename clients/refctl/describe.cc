#include "clients/refctl/describe.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "clients/refctl/units.h"
#include "common/timestamps.h"
#include "services/deadlines/deadlines.h"
#include "google/protobuf/util/time_util.h"

namespace referral::refctl {
namespace {

std::string Zh(absl::string_view s) { return std::string(s); }

template <typename Enum>
std::string ZhOf(absl::Span<const Term<Enum>> table, Enum value) {
  const Term<Enum>* t = FindTerm(table, value);
  return t ? Zh(t->zh) : std::string();
}

std::string Due(const google::protobuf::Timestamp& ts) {
  return absl::FormatTime("%Y-%m-%d %H:%M", TimeOf(ts), Shanghai());
}

// Joins the non-empty parts with " · ".
std::string Parts(std::initializer_list<std::string> parts) {
  std::vector<std::string> kept;
  for (const auto& p : parts) {
    if (!p.empty()) kept.push_back(p);
  }
  return absl::StrJoin(kept, " · ");
}

// "2026-12-01 09:30–11:30 秦州区司法局三楼调解室": a meeting's time and place.
std::string SlotOf(const v1::MeetingSlot& s) {
  const absl::Time start = TimeOf(s.start_time()), end = TimeOf(s.end_time());
  const bool same_day = absl::FormatTime("%Y-%m-%d", start, Shanghai()) ==
                        absl::FormatTime("%Y-%m-%d", end, Shanghai());
  return Parts({absl::StrCat(Due(s.start_time()), "–",
                             same_day ? absl::FormatTime("%H:%M", end, Shanghai())
                                      : Due(s.end_time())),
                s.place()});
}

// "r1/accept" for "qinzhou.justice:2026-000001/r1/accept": a deadline id
// without its case.
std::string ShortDeadlineId(absl::string_view deadline_id) {
  size_t slash = deadline_id.find('/');
  return std::string(slash == absl::string_view::npos ? deadline_id
                                                      : deadline_id.substr(slash + 1));
}

std::string Attachments(
    const google::protobuf::RepeatedPtrField<v1::Attachment>& list) {
  if (list.empty()) return "";
  std::vector<std::string> names;
  for (const auto& a : list) names.push_back(a.name());
  return absl::StrCat("附件 ", absl::StrJoin(names, "、"));
}

}  // namespace

absl::Time TimeOf(const google::protobuf::Timestamp& ts) {
  return ::referral::TimeOf(ts);
}

absl::Time EventTime(const v1::Event& e) {
  if (e.has_time() && (e.time().seconds() != 0 || e.time().nanos() != 0)) {
    return TimeOf(e.time());
  }
  return TimeOf(e.recorded_time());
}

std::string ShortReferralId(absl::string_view referral_id) {
  size_t slash = referral_id.rfind('/');
  return std::string(slash == absl::string_view::npos
                         ? referral_id
                         : referral_id.substr(slash + 1));
}

std::string EventZh(const v1::Event& e) {
  const Term<v1::Event::BodyCase>* t = FindTerm(EventKinds(), e.body_case());
  return t ? Zh(t->zh) : "?";
}

std::string EventType(const v1::Event& e) {
  if (const Term<v1::Event::BodyCase>* t = FindTerm(EventKinds(), e.body_case())) {
    return std::string(t->key);
  }
  absl::string_view type = e.type();
  if (size_t dot = type.rfind('.'); dot != absl::string_view::npos) {
    type.remove_prefix(dot + 1);
  }
  return type.empty() ? "?" : std::string(type);
}

std::string Summary(const v1::Event& e) {
  using E = v1::Event;
  switch (e.body_case()) {
    case E::kCaseOpened: {
      const v1::CaseOpened& o = e.case_opened();
      int workers = 0;
      for (const auto& p : o.parties()) {
        if (p.role() == v1::PARTY_ROLE_WORKER_GROUP) workers += p.head_count();
        if (p.role() == v1::PARTY_ROLE_WORKER) ++workers;
      }
      return Parts({o.title(), ZhOf(Matters(), o.matter()),
                    ZhOf(IntakeChannels(), o.channel()),
                    o.green_channel() ? "绿色通道" : "",
                    workers > 0 ? absl::StrCat(workers, "名工人") : "",
                    o.amount_claimed_fen() > 0
                        ? absl::StrCat(FormatFen(o.amount_claimed_fen()), " 元")
                        : ""});
    }
    case E::kCaseNoteRecorded:
      return e.case_note_recorded().note();
    case E::kCaseNumberAssigned:
      return e.case_number_assigned().case_id();
    case E::kReferralRequested: {
      const v1::ReferralRequested& r = e.referral_requested();
      std::string head = absl::StrCat(ShortReferralId(r.referral_id()), " → ",
                                      r.to_node(), ": ", r.purpose());
      return Parts({head, ZhOf(Matters(), r.matter()),
                    r.priority() == v1::PRIORITY_ROUTINE
                        ? ""
                        : ZhOf(Priorities(), r.priority()),
                    r.has_due_time() ? "期限 " + Due(r.due_time()) : "",
                    r.parent_referral_id().empty()
                        ? ""
                        : "由 " + ShortReferralId(r.parent_referral_id()) + " 再转",
                    Attachments(r.attachments())});
    }
    case E::kReferralReceived:
      return ShortReferralId(e.referral_received().referral_id());
    case E::kReferralAccepted:
      return Parts({ShortReferralId(e.referral_accepted().referral_id()),
                    e.referral_accepted().note()});
    case E::kReferralRejected:
      return Parts({ShortReferralId(e.referral_rejected().referral_id()),
                    e.referral_rejected().reason_code(),
                    e.referral_rejected().note()});
    case E::kReferralReturned: {
      const v1::ReferralReturned& r = e.referral_returned();
      return Parts({ShortReferralId(r.referral_id()),
                    r.missing_items().empty()
                        ? ""
                        : "需补充 " + absl::StrJoin(r.missing_items(), "、"),
                    r.has_resubmit_by() ? "补正期限 " + Due(r.resubmit_by()) : "",
                    r.note()});
    }
    case E::kReferralResubmitted:
      return Parts({ShortReferralId(e.referral_resubmitted().referral_id()),
                    Attachments(e.referral_resubmitted().attachments()),
                    e.referral_resubmitted().note()});
    case E::kReferralRedirected: {
      const v1::ReferralRedirected& r = e.referral_redirected();
      return Parts({absl::StrCat(ShortReferralId(r.referral_id()), " → ", r.to_node(),
                                 " (", ShortReferralId(r.child_referral_id()), ")"),
                    r.reason()});
    }
    case E::kReferralStarted:
      return ShortReferralId(e.referral_started().referral_id());
    case E::kReferralPutOnHold:
      return Parts({ShortReferralId(e.referral_put_on_hold().referral_id()),
                    e.referral_put_on_hold().reason(),
                    e.referral_put_on_hold().has_until()
                        ? "至 " + Due(e.referral_put_on_hold().until())
                        : ""});
    case E::kReferralResumed:
      return ShortReferralId(e.referral_resumed().referral_id());
    case E::kReferralCompleted: {
      const v1::ReferralCompleted& r = e.referral_completed();
      return Parts({ShortReferralId(r.referral_id()), ZhOf(Outcomes(), r.outcome()),
                    r.amount_recovered_fen() > 0
                        ? absl::StrCat(FormatFen(r.amount_recovered_fen()), " 元")
                        : "",
                    r.note()});
    }
    case E::kReferralFailed:
      return Parts({ShortReferralId(e.referral_failed().referral_id()),
                    e.referral_failed().reason_code(), e.referral_failed().note()});
    case E::kReferralCancelled:
      return Parts({ShortReferralId(e.referral_cancelled().referral_id()),
                    e.referral_cancelled().reason()});
    case E::kDeadlineSet: {
      const v1::DeadlineSet& d = e.deadline_set();
      return Parts({absl::StrCat(ShortDeadlineId(d.deadline_id()), " ", d.description()),
                    absl::StrCat(d.responsible_node(), " 办理"), "期限 " + Due(d.due_time()),
                    d.escalate_to().empty() ? "" : "逾期督办 " + d.escalate_to()});
    }
    case E::kDeadlineCleared: {
      const std::string& reason = e.deadline_cleared().reason();
      return Parts({ShortDeadlineId(e.deadline_cleared().deadline_id()),
                    reason == "met"         ? "已办理 met"
                    : reason == "cancelled" ? "已撤回 cancelled"
                                            : reason});
    }
    case E::kDeadlineWarned:
      return Parts({ShortDeadlineId(e.deadline_warned().deadline_id()),
                    "临期 期限 " + Due(e.deadline_warned().due_time())});
    case E::kDeadlineBreached: {
      const v1::DeadlineBreached& b = e.deadline_breached();
      return Parts({absl::StrCat(ShortDeadlineId(b.deadline_id()), " ",
                                 deadlines::RuleFor(b.kind()).zh),
                    absl::StrCat(b.responsible_node(), " 逾期未办"),
                    "期限 " + Due(b.due_time())});
    }
    case E::kReminderSent:
      return Parts({ShortDeadlineId(e.reminder_sent().deadline_id()),
                    "提醒 " + absl::StrJoin(e.reminder_sent().nodes(), "、")});
    case E::kEscalationRaised: {
      const v1::EscalationRaised& x = e.escalation_raised();
      return Parts({absl::StrCat(ShortDeadlineId(x.deadline_id()), " ", x.from_node(),
                                 " → ", x.to_node(), " 督办"),
                    x.level() > 1 ? absl::StrCat("第", x.level(), "级") : "", x.reason()});
    }
    case E::kEscalationResolved:
      return Parts({ShortDeadlineId(e.escalation_resolved().deadline_id()), "督办办结",
                    e.escalation_resolved().note()});
    case E::kMeetingConvened: {
      const v1::MeetingConvened& m = e.meeting_convened();
      return Parts({absl::StrCat(ShortReferralId(m.meeting_id()), " ",
                                 ZhOf(MeetingKinds(), m.kind()), " ", m.title()),
                    SlotOf(m.slot())});
    }
    case E::kMeetingParticipantInvited: {
      const v1::Invitee& i = e.meeting_participant_invited().invitee();
      return absl::StrCat(ShortReferralId(e.meeting_participant_invited().meeting_id()),
                          " ", i.invitee_id(), " ",
                          i.node().empty()
                              ? absl::StrCat(ZhOf(PartyRoles(), i.party().role()), " ",
                                             i.party().name())
                              : i.node());
    }
    case E::kMeetingInvitationAnswered: {
      const v1::MeetingInvitationAnswered& a = e.meeting_invitation_answered();
      return Parts({absl::StrCat(ShortReferralId(a.meeting_id()), " ", a.invitee_id(), " ",
                                 ZhOf(InvitationResponses(), a.response())),
                    a.has_proposed_slot() ? "建议 " + SlotOf(a.proposed_slot()) : "",
                    a.note()});
    }
    case E::kMeetingOverlapWarned: {
      const v1::MeetingOverlapWarned& w = e.meeting_overlap_warned();
      // A clash with a meeting of another case is recorded without it.
      if (w.conflict().other_meeting_id().empty()) {
        return absl::StrCat(ShortReferralId(w.meeting_id()), " ", w.conflict().node(),
                            " 时间冲突: 另一案件中的会议");
      }
      return Parts({absl::StrCat(ShortReferralId(w.meeting_id()), " ", w.conflict().node(),
                                 " 时间冲突: ", w.conflict().other_meeting_id()),
                    SlotOf(w.conflict().other_slot())});
    }
    case E::kMeetingRescheduled: {
      const v1::MeetingRescheduled& r = e.meeting_rescheduled();
      return Parts({absl::StrCat(ShortReferralId(r.meeting_id()), " 改至 ", SlotOf(r.slot())),
                    r.reason()});
    }
    case E::kMeetingCancelled:
      return Parts({ShortReferralId(e.meeting_cancelled().meeting_id()),
                    e.meeting_cancelled().reason()});
    case E::kMeetingHeld: {
      const v1::MeetingHeld& h = e.meeting_held();
      return Parts({ShortReferralId(h.meeting_id()),
                    h.attended().empty() ? "" : "出席 " + absl::StrJoin(h.attended(), "、"),
                    h.minutes()});
    }
    case E::kLiabilityAnalysed: {
      std::vector<std::string> findings;
      for (const auto& f : e.liability_analysed().findings()) {
        findings.push_back(absl::StrCat(f.party_name(), " ", FormatFen(f.amount_fen()), " 元"));
      }
      return Parts({ShortReferralId(e.liability_analysed().meeting_id()),
                    absl::StrJoin(findings, "；")});
    }
    case E::kAgreementReached: {
      const v1::AgreementReached& r = e.agreement_reached();
      const v1::Agreement& a = r.agreement();
      return Parts({ShortReferralId(r.meeting_id()),
                    absl::StrCat(FormatFen(a.total_fen()), " 元 分", a.instalments_size(), "期"),
                    a.guarantor().empty() ? "" : "担保 " + a.guarantor(),
                    a.fallback_node().empty() ? "" : "逾期转 " + a.fallback_node()});
    }
    case E::kMediationFailed:
      return Parts({ShortReferralId(e.mediation_failed().meeting_id()),
                    e.mediation_failed().reason(),
                    e.mediation_failed().next_step().empty()
                        ? ""
                        : "下一步 " + e.mediation_failed().next_step()});
    case E::kInstalmentPaymentRecorded: {
      const v1::InstalmentPaymentRecorded& p = e.instalment_payment_recorded();
      return Parts({absl::StrCat(ShortReferralId(p.meeting_id()), " 第", p.instalment(), "期 ",
                                 FormatFen(p.amount_fen()), " 元"),
                    p.has_paid_time() ? Due(p.paid_time()) : "", p.reference()});
    }
    case E::kLegalAidApplied: {
      // The applicant's name and contact are personal data: not in a summary.
      const v1::LegalAidApplication& a = e.legal_aid_applied().application();
      return Parts({absl::StrCat(ShortReferralId(a.application_id()), " ",
                                 ZhOf(Matters(), a.matter())),
                    a.referral_id().empty() ? ZhOf(IntakeChannels(), a.channel())
                                            : "转介 " + ShortReferralId(a.referral_id()),
                    a.migrant_worker() ? "农民工" : "",
                    a.green_channel() ? "绿色通道" : "",
                    a.hardship_review_waived() ? "免于经济困难审查" : ""});
    }
    case E::kLegalAidReviewed: {
      const v1::LegalAidReviewed& r = e.legal_aid_reviewed();
      return Parts({absl::StrCat(ShortReferralId(r.application_id()), " ",
                                 r.approved() ? "给予法律援助" : "不予法律援助"),
                    r.hardship_review_waived() ? "免于经济困难审查" : "", r.reason()});
    }
    case E::kLegalAidLawyerAssigned: {
      const v1::LegalAidLawyerAssigned& a = e.legal_aid_lawyer_assigned();
      return Parts({absl::StrCat(ShortReferralId(a.application_id()), " → ", a.lawyer_id(),
                                 " ", a.lawyer_name()),
                    a.reason()});
    }
    case E::kLegalAidMajorCaseFlagged: {
      const v1::LegalAidMajorCaseFlagged& f = e.legal_aid_major_case_flagged();
      return Parts({absl::StrCat(ShortReferralId(f.application_id()), " 重大疑难"), f.reason(),
                    f.supervisor_node().empty() ? "" : "督办 " + f.supervisor_node()});
    }
    case E::kLegalAidClosed:
      return Parts({ShortReferralId(e.legal_aid_closed().application_id()),
                    e.legal_aid_closed().reason()});
    case E::kLawyerEnrolled: {
      const v1::Lawyer& l = e.lawyer_enrolled().lawyer();
      std::vector<std::string> skills;
      for (int m : l.specialties()) skills.push_back(ZhOf(Matters(), v1::Matter(m)));
      return Parts({absl::StrCat(l.lawyer_id(), " ", l.name()), l.firm(),
                    absl::StrJoin(skills, "、"), absl::StrCat("上限 ", l.capacity())});
    }
    case E::kLawyerEvaluated: {
      const v1::LawyerEvaluated& v = e.lawyer_evaluated();
      return Parts({absl::StrCat(v.lawyer_id(), " ", ZhOf(EvaluationKinds(), v.evaluation().kind()),
                                 " ", v.evaluation().score(), " ",
                                 v.evaluation().passed() ? "合格" : "不合格（暂停指派）"),
                    v.evaluation().note()});
    }
    case E::kLawyerCaseTaken:
      return absl::StrCat(e.lawyer_case_taken().lawyer_id(), " 承办 ",
                          e.lawyer_case_taken().application_id());
    case E::kLawyerCaseReleased:
      return absl::StrCat(e.lawyer_case_released().lawyer_id(), " 结束 ",
                          e.lawyer_case_released().application_id());
    case E::kPersonalDataAccessed: {
      const v1::PersonalDataAccessed& a = e.personal_data_accessed();
      return Parts({absl::StrCat(a.accessor(), " 查阅 ", absl::StrJoin(a.fields(), "、")),
                    ZhOf(AccessRoles(), a.role()), a.method(),
                    a.purpose().empty() ? "" : "事由 " + a.purpose()});
    }
    case E::kCaseTracedByInvestigator: {
      const v1::CaseTracedByInvestigator& t = e.case_traced_by_investigator();
      return Parts({absl::StrCat(t.investigator(), " 调阅 ", t.case_id()), t.method(),
                    "事由 " + t.purpose()});
    }
    case E::kCasesSearchedByInvestigator: {
      const v1::CasesSearchedByInvestigator& s = e.cases_searched_by_investigator();
      return Parts({absl::StrCat(s.investigator(), " 检索 ", s.criteria()),
                    absl::StrCat("命中 ", s.case_ids_size(), " 件"), "事由 " + s.purpose()});
    }
    case E::BODY_NOT_SET:
      break;
  }
  return "";
}

std::vector<TimelineRow> Timeline(
    const google::protobuf::RepeatedPtrField<v1::Event>& events) {
  std::vector<TimelineRow> rows;
  absl::Time previous = absl::InfinitePast();
  for (const v1::Event& e : events) {
    const absl::Time t = EventTime(e);
    rows.push_back(TimelineRow{
        absl::StrCat(e.sequence()), FormatShanghai(t),
        previous == absl::InfinitePast() ? "" : FormatGap(t - previous), e.source(),
        EventZh(e), EventType(e), Summary(e)});
    previous = t;
  }
  return rows;
}

}  // namespace referral::refctl
