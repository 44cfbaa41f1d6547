#include "common/vocabulary.h"

#include <array>

namespace referral {

absl::Span<const Term<v1::NodeKind>> NodeKinds() {
  static constexpr std::array<Term<v1::NodeKind>, 7> kTable = {{
      {v1::NODE_KIND_JUSTICE, "justice", "justice bureau", "司法局"},
      {v1::NODE_KIND_LABOR_INSPECTION, "labor_inspection",
       "labour security inspection", "劳动保障监察"},
      {v1::NODE_KIND_ARBITRATION, "arbitration",
       "labour dispute arbitration", "劳动人事争议仲裁院"},
      {v1::NODE_KIND_PETITION, "petition", "letters and visits office", "信访局"},
      {v1::NODE_KIND_HOUSING, "housing", "housing and construction bureau",
       "住房和城乡建设局"},
      {v1::NODE_KIND_UNION, "union", "trade union", "工会"},
      {v1::NODE_KIND_PROCURATORATE, "procuratorate", "procuratorate", "检察院"},
  }};
  return kTable;
}

absl::Span<const Term<v1::NodeLevel>> NodeLevels() {
  static constexpr std::array<Term<v1::NodeLevel>, 3> kTable = {{
      {v1::NODE_LEVEL_DISTRICT, "district", "district centre", "区中心"},
      {v1::NODE_LEVEL_TOWN, "town", "town station", "乡镇工作站"},
      {v1::NODE_LEVEL_VILLAGE, "village", "village room", "村工作室"},
  }};
  return kTable;
}

absl::Span<const Term<v1::Matter>> Matters() {
  static constexpr std::array<Term<v1::Matter>, 8> kTable = {{
      {v1::MATTER_WAGE_ARREARS, "wage_arrears", "wage arrears", "欠薪"},
      {v1::MATTER_WORK_INJURY, "work_injury", "work injury", "工伤"},
      {v1::MATTER_LABOR_CONTRACT_DISPUTE, "labor_contract_dispute",
       "labour contract dispute", "劳动合同纠纷"},
      {v1::MATTER_SOCIAL_INSURANCE, "social_insurance", "social insurance",
       "社会保险"},
      {v1::MATTER_PROJECT_PAYMENT, "project_payment",
       "project payment and wage account", "工程款与工资专户"},
      {v1::MATTER_PETITION, "petition", "petition", "信访"},
      {v1::MATTER_PROSECUTION_SUPPORT, "prosecution_support",
       "support for prosecution and evidence", "支持起诉与调查取证"},
      {v1::MATTER_LEGAL_AID, "legal_aid", "legal aid", "法律援助"},
  }};
  return kTable;
}

absl::Span<const Term<v1::ReferralState>> ReferralStates() {
  static constexpr std::array<Term<v1::ReferralState>, 11> kTable = {{
      {v1::REFERRAL_STATE_REQUESTED, "requested", "requested", "已转出"},
      {v1::REFERRAL_STATE_RECEIVED, "received", "received", "已签收"},
      {v1::REFERRAL_STATE_RETURNED, "returned", "returned for material",
       "退回补正"},
      {v1::REFERRAL_STATE_ACCEPTED, "accepted", "accepted", "已受理"},
      {v1::REFERRAL_STATE_IN_PROGRESS, "in_progress", "in progress", "办理中"},
      {v1::REFERRAL_STATE_ON_HOLD, "on_hold", "on hold", "中止"},
      {v1::REFERRAL_STATE_REJECTED, "rejected", "rejected", "不予受理"},
      {v1::REFERRAL_STATE_REDIRECTED, "redirected", "redirected", "再转"},
      {v1::REFERRAL_STATE_COMPLETED, "completed", "completed", "办结"},
      {v1::REFERRAL_STATE_FAILED, "failed", "failed", "未能办结"},
      {v1::REFERRAL_STATE_CANCELLED, "cancelled", "cancelled", "撤回"},
  }};
  return kTable;
}

absl::Span<const Term<v1::Outcome>> Outcomes() {
  static constexpr std::array<Term<v1::Outcome>, 6> kTable = {{
      {v1::OUTCOME_WAGES_RECOVERED, "wages_recovered", "wages recovered",
       "追回工资"},
      {v1::OUTCOME_ARBITRATION_AWARD, "arbitration_award", "arbitration award",
       "仲裁裁决"},
      {v1::OUTCOME_JUDGMENT, "judgment", "court judgment", "法院判决"},
      {v1::OUTCOME_MEDIATION_AGREEMENT, "mediation_agreement",
       "mediation agreement", "调解协议"},
      {v1::OUTCOME_LEGAL_AID_PROVIDED, "legal_aid_provided",
       "legal aid provided", "已提供法律援助"},
      {v1::OUTCOME_WITHDRAWN_BY_WORKER, "withdrawn_by_worker",
       "withdrawn by the worker", "劳动者撤回"},
  }};
  return kTable;
}

absl::Span<const Term<v1::Priority>> Priorities() {
  static constexpr std::array<Term<v1::Priority>, 3> kTable = {{
      {v1::PRIORITY_ROUTINE, "routine", "routine", "普通"},
      {v1::PRIORITY_URGENT, "urgent", "urgent", "加急"},
      {v1::PRIORITY_GREEN_CHANNEL, "green", "green channel", "绿色通道"},
  }};
  return kTable;
}

absl::Span<const Term<v1::IntakeChannel>> IntakeChannels() {
  static constexpr std::array<Term<v1::IntakeChannel>, 5> kTable = {{
      {v1::INTAKE_CHANNEL_HOTLINE, "hotline", "12348 hotline", "12348热线"},
      {v1::INTAKE_CHANNEL_WALK_IN, "walk_in", "walk-in", "来访"},
      {v1::INTAKE_CHANNEL_ONLINE, "online", "online", "网上申请"},
      {v1::INTAKE_CHANNEL_PETITION, "petition", "petition", "信访"},
      {v1::INTAKE_CHANNEL_INSPECTION, "inspection", "found by inspection",
       "劳动监察发现"},
  }};
  return kTable;
}

absl::Span<const Term<v1::PartyRole>> PartyRoles() {
  static constexpr std::array<Term<v1::PartyRole>, 8> kTable = {{
      {v1::PARTY_ROLE_WORKER, "worker", "migrant worker", "农民工"},
      {v1::PARTY_ROLE_WORKER_GROUP, "worker_group", "group of workers",
       "农民工群体"},
      {v1::PARTY_ROLE_WORKER_REPRESENTATIVE, "worker_representative",
       "workers' representative", "工人代表"},
      {v1::PARTY_ROLE_EMPLOYER, "employer", "employer", "用人单位"},
      {v1::PARTY_ROLE_SUBCONTRACTOR, "subcontractor", "subcontractor",
       "分包单位"},
      {v1::PARTY_ROLE_GENERAL_CONTRACTOR, "general_contractor",
       "general contractor", "总承包单位"},
      {v1::PARTY_ROLE_DEVELOPER, "developer", "developer", "建设单位"},
      {v1::PARTY_ROLE_LABOR_CONTRACTOR, "labor_contractor", "labour contractor",
       "劳务承包人"},
  }};
  return kTable;
}

absl::Span<const Term<v1::Event::BodyCase>> EventKinds() {
  using E = v1::Event;
  static constexpr std::array<Term<E::BodyCase>, 46> kTable = {{
      {E::kCaseOpened, "CaseOpened", "case opened", "立案"},
      {E::kCaseNoteRecorded, "CaseNoteRecorded", "note recorded", "记录备注"},
      {E::kCaseNumberAssigned, "CaseNumberAssigned", "case number assigned",
       "分配案号"},
      {E::kReferralRequested, "ReferralRequested", "referral sent", "转出"},
      {E::kReferralReceived, "ReferralReceived", "referral received", "签收"},
      {E::kReferralAccepted, "ReferralAccepted", "referral accepted", "受理"},
      {E::kReferralRejected, "ReferralRejected", "referral rejected",
       "不予受理"},
      {E::kReferralReturned, "ReferralReturned", "returned for material",
       "退回补正"},
      {E::kReferralResubmitted, "ReferralResubmitted", "resubmitted",
       "补正后重新提交"},
      {E::kReferralRedirected, "ReferralRedirected", "redirected", "再转"},
      {E::kReferralStarted, "ReferralStarted", "work started", "开始办理"},
      {E::kReferralPutOnHold, "ReferralPutOnHold", "put on hold", "中止"},
      {E::kReferralResumed, "ReferralResumed", "resumed", "恢复办理"},
      {E::kReferralCompleted, "ReferralCompleted", "completed", "办结"},
      {E::kReferralFailed, "ReferralFailed", "failed", "未能办结"},
      {E::kReferralCancelled, "ReferralCancelled", "cancelled", "撤回"},
      {E::kDeadlineSet, "DeadlineSet", "deadline set", "设定时限"},
      {E::kDeadlineCleared, "DeadlineCleared", "deadline met", "时限解除"},
      {E::kDeadlineWarned, "DeadlineWarned", "deadline warning", "时限预警"},
      {E::kDeadlineBreached, "DeadlineBreached", "deadline breached", "超期"},
      {E::kReminderSent, "ReminderSent", "reminder sent", "提醒"},
      {E::kEscalationRaised, "EscalationRaised", "escalated", "督办"},
      {E::kEscalationResolved, "EscalationResolved", "escalation resolved",
       "督办办结"},
      {E::kMeetingConvened, "MeetingConvened", "meeting convened", "召集会议"},
      {E::kMeetingParticipantInvited, "MeetingParticipantInvited",
       "participant invited", "邀请参会"},
      {E::kMeetingInvitationAnswered, "MeetingInvitationAnswered",
       "invitation answered", "回复邀请"},
      {E::kMeetingOverlapWarned, "MeetingOverlapWarned", "overlapping meeting",
       "会议时间冲突"},
      {E::kMeetingRescheduled, "MeetingRescheduled", "meeting rescheduled",
       "会议改期"},
      {E::kMeetingCancelled, "MeetingCancelled", "meeting cancelled", "取消会议"},
      {E::kMeetingHeld, "MeetingHeld", "meeting held", "召开会议"},
      {E::kLiabilityAnalysed, "LiabilityAnalysed", "liability analysed",
       "责任分析"},
      {E::kAgreementReached, "AgreementReached", "agreement reached",
       "达成调解协议"},
      {E::kMediationFailed, "MediationFailed", "mediation failed", "调解不成"},
      {E::kInstalmentPaymentRecorded, "InstalmentPaymentRecorded",
       "payment recorded", "记录履行"},
      {E::kLegalAidApplied, "LegalAidApplied", "legal aid applied",
       "申请法律援助"},
      {E::kLegalAidReviewed, "LegalAidReviewed", "legal aid reviewed",
       "法律援助审查"},
      {E::kLegalAidLawyerAssigned, "LegalAidLawyerAssigned", "lawyer assigned",
       "指派律师"},
      {E::kLegalAidMajorCaseFlagged, "LegalAidMajorCaseFlagged",
       "major case flagged", "重大疑难案件"},
      {E::kLegalAidClosed, "LegalAidClosed", "legal aid closed", "法律援助结案"},
      {E::kLawyerEnrolled, "LawyerEnrolled", "lawyer enrolled", "律师入库"},
      {E::kLawyerEvaluated, "LawyerEvaluated", "lawyer evaluated", "质量评估"},
      {E::kLawyerCaseTaken, "LawyerCaseTaken", "case taken", "承办案件"},
      {E::kLawyerCaseReleased, "LawyerCaseReleased", "case released",
       "案件结束"},
      {E::kPersonalDataAccessed, "PersonalDataAccessed", "personal data read",
       "查阅个人信息"},
      {E::kCaseTracedByInvestigator, "CaseTracedByInvestigator",
       "traced by an investigator", "调查调阅"},
      {E::kCasesSearchedByInvestigator, "CasesSearchedByInvestigator",
       "searched by an investigator", "调查检索"},
  }};
  return kTable;
}

absl::Span<const Term<v1::AccessRole>> AccessRoles() {
  static constexpr std::array<Term<v1::AccessRole>, 3> kTable = {{
      {v1::ACCESS_ROLE_OWNER, "owner", "owning node", "承办机构"},
      {v1::ACCESS_ROLE_WORKING_ADDRESSEE, "working_addressee",
       "addressee working a referral", "正在办理的接收机构"},
      {v1::ACCESS_ROLE_INVESTIGATOR, "investigator", "investigator",
       "调查机关"},
  }};
  return kTable;
}

absl::Span<const Term<v1::MeetingKind>> MeetingKinds() {
  static constexpr std::array<Term<v1::MeetingKind>, 2> kTable = {{
      {v1::MEETING_KIND_MEDIATION, "mediation", "mediation", "调解会"},
      {v1::MEETING_KIND_JOINT_CONFERENCE, "joint", "joint case conference",
       "联席会商"},
  }};
  return kTable;
}

absl::Span<const Term<v1::MeetingState>> MeetingStates() {
  static constexpr std::array<Term<v1::MeetingState>, 3> kTable = {{
      {v1::MEETING_STATE_SCHEDULED, "scheduled", "scheduled", "已召集"},
      {v1::MEETING_STATE_HELD, "held", "held", "已召开"},
      {v1::MEETING_STATE_CANCELLED, "cancelled", "cancelled", "已取消"},
  }};
  return kTable;
}

absl::Span<const Term<v1::InvitationResponse>> InvitationResponses() {
  static constexpr std::array<Term<v1::InvitationResponse>, 4> kTable = {{
      {v1::INVITATION_RESPONSE_PENDING, "pending", "not answered", "未答复"},
      {v1::INVITATION_RESPONSE_ACCEPTED, "accept", "will come", "接受"},
      {v1::INVITATION_RESPONSE_DECLINED, "decline", "will not come", "谢绝"},
      {v1::INVITATION_RESPONSE_PROPOSED_OTHER_TIME, "propose",
       "proposes another time", "另约时间"},
  }};
  return kTable;
}

absl::Span<const Term<v1::InstalmentState>> InstalmentStates() {
  static constexpr std::array<Term<v1::InstalmentState>, 4> kTable = {{
      {v1::INSTALMENT_STATE_DUE, "due", "due", "待履行"},
      {v1::INSTALMENT_STATE_PAID, "paid", "paid", "已履行"},
      {v1::INSTALMENT_STATE_PAID_LATE, "paid_late", "paid late", "逾期履行"},
      {v1::INSTALMENT_STATE_MISSED, "missed", "missed", "未按期履行"},
  }};
  return kTable;
}

absl::Span<const Term<v1::DeadlineState>> DeadlineStates() {
  static constexpr std::array<Term<v1::DeadlineState>, 6> kTable = {{
      {v1::DEADLINE_STATE_PENDING, "pending", "pending", "未到期"},
      {v1::DEADLINE_STATE_WARNED, "warned", "warned", "临期预警"},
      {v1::DEADLINE_STATE_BREACHED, "breached", "overdue", "已逾期"},
      {v1::DEADLINE_STATE_MET, "met", "met", "已办理"},
      {v1::DEADLINE_STATE_MET_LATE, "met_late", "met late", "逾期办理"},
      {v1::DEADLINE_STATE_REMINDED, "reminded", "reminded", "已提醒"},
  }};
  return kTable;
}

absl::Span<const Term<v1::LegalAidState>> LegalAidStates() {
  static constexpr std::array<Term<v1::LegalAidState>, 5> kTable = {{
      {v1::LEGAL_AID_STATE_APPLIED, "applied", "applied, awaiting review",
       "已申请"},
      {v1::LEGAL_AID_STATE_APPROVED, "approved", "approved, awaiting a lawyer",
       "已批准"},
      {v1::LEGAL_AID_STATE_DENIED, "denied", "denied", "不予援助"},
      {v1::LEGAL_AID_STATE_ASSIGNED, "assigned", "lawyer assigned", "已指派"},
      {v1::LEGAL_AID_STATE_CLOSED, "closed", "closed", "已结案"},
  }};
  return kTable;
}

absl::Span<const Term<v1::EvaluationKind>> EvaluationKinds() {
  static constexpr std::array<Term<v1::EvaluationKind>, 3> kTable = {{
      {v1::EVALUATION_KIND_HEARING_OBSERVATION, "hearing", "hearing observation",
       "庭审旁听"},
      {v1::EVALUATION_KIND_WORKER_FOLLOW_UP, "follow_up",
       "follow-up with the aided worker", "受援人回访"},
      {v1::EVALUATION_KIND_EXPERT_REVIEW, "expert", "expert review of the file",
       "专家评估"},
  }};
  return kTable;
}

}  // namespace referral
