#include "services/mediation/meeting_rules.h"

#include <array>
#include <string>

#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace referral::mediation {
namespace {

using B = v1::Event::BodyCase;
constexpr Stage kNew = Stage::kNew;
constexpr Stage kScheduled = Stage::kScheduled;
constexpr Stage kHeld = Stage::kHeld;

constexpr std::array<CommandRule, 10> kTable = {{
    {Command::kConvene, "convene", "ConveneMeeting", Stages({kNew}), kCaseParty,
     false, B::kMeetingConvened},
    {Command::kInvite, "invite", "InviteParticipants", Stages({kScheduled}),
     kConvener, false, B::kMeetingParticipantInvited},
    {Command::kAnswer, "answer", "AnswerInvitation", Stages({kScheduled}),
     kInvitedNode | kConvenerForParty, false, B::kMeetingInvitationAnswered},
    {Command::kReschedule, "reschedule", "RescheduleMeeting", Stages({kScheduled}),
     kConvener, false, B::kMeetingRescheduled},
    {Command::kCancel, "cancel", "CancelMeeting", Stages({kScheduled}), kConvener,
     false, B::kMeetingCancelled},
    {Command::kRecordHeld, "held", "RecordMeetingHeld", Stages({kScheduled}),
     kConvener, false, B::kMeetingHeld},
    // The analysis may come before the outcome or be revised after it.
    {Command::kRecordLiability, "liability", "RecordLiability",
     Stages({kHeld, Stage::kAgreed, Stage::kFailed}), kConvener, false,
     B::kLiabilityAnalysed},
    {Command::kRecordAgreement, "agree", "RecordAgreement", Stages({kHeld}),
     kConvener, true, B::kAgreementReached},
    {Command::kRecordFailed, "fail", "RecordMediationFailed", Stages({kHeld}),
     kConvener, true, B::kMediationFailed},
    {Command::kRecordPayment, "pay", "RecordPayment", Stages({Stage::kAgreed}),
     kConvener, true, B::kInstalmentPaymentRecorded},
}};

std::string AllowedStages(const CommandRule& rule) {
  std::string out;
  for (Stage s : {Stage::kNew, Stage::kScheduled, Stage::kHeld, Stage::kAgreed,
                  Stage::kFailed, Stage::kCancelled}) {
    if (!Allows(rule, s)) continue;
    if (!out.empty()) out += ", ";
    out += std::string(StageName(s));
  }
  return out;
}

}  // namespace

absl::Span<const CommandRule> CommandRules() { return kTable; }

const CommandRule& RuleFor(Command command) {
  return kTable[static_cast<size_t>(command)];
}

absl::Status RequireStage(const CommandRule& rule, const MeetingView& view) {
  const v1::Meeting& m = view.meeting;
  const std::string stage(StageName(view.stage));
  if (rule.mediation_only && m.kind() != v1::MEETING_KIND_MEDIATION) {
    return MakeError(
        ErrorReason::kMeetingStateConflict,
        absl::StrCat("meeting ", m.meeting_id(),
                     " is a joint case conference; ", rule.name,
                     " is only for mediation meetings (convene one with kind "
                     "MEETING_KIND_MEDIATION)"),
        "联席会商不适用此操作，仅调解会可记录调解协议、调解不成与履行情况",
        {.metadata = {{"meeting_id", m.meeting_id()}, {"state", stage}}});
  }
  if (Allows(rule, view.stage)) return absl::OkStatus();
  return MakeError(
      ErrorReason::kMeetingStateConflict,
      absl::StrCat("meeting ", m.meeting_id(), " is ", stage, "; ", rule.name,
                   " is allowed only when it is ", AllowedStages(rule)),
      absl::StrCat("会议当前状态为 ", stage, "，不能执行此操作"),
      {.metadata = {{"meeting_id", m.meeting_id()}, {"state", stage}}});
}

absl::Status RequireActor(const CommandRule& rule, absl::string_view caller,
                          const v1::Meeting& meeting, const v1::Invitee* answering) {
  uint32_t roles = 0;
  if (caller == meeting.convener_node()) {
    roles |= kConvener;
    if (answering != nullptr && answering->node().empty()) roles |= kConvenerForParty;
  }
  if (answering != nullptr && !answering->node().empty() && answering->node() == caller) {
    roles |= kInvitedNode;
  }
  if ((roles & rule.who) != 0) return absl::OkStatus();

  std::string who;
  if (rule.who & kInvitedNode) {
    who = answering != nullptr && !answering->node().empty()
              ? absl::StrCat("the invited node (", answering->node(),
                             ") answers its own invitation")
              : absl::StrCat("the convener (", meeting.convener_node(),
                             ") records the answers of outside parties");
  } else {
    who = absl::StrCat("only the convener (", meeting.convener_node(), ") may ",
                       rule.name, " meeting ", meeting.meeting_id());
  }
  return MakeError(
      ErrorReason::kNotAllowedForRole,
      absl::StrCat(who, "; ", caller, " may not"),
      (rule.who & kInvitedNode) ? "受邀机构只能答复本机构的邀请，外部当事人的答复由召集机构记录"
                                : "只有会议召集机构可以执行此操作",
      {.metadata = {{"meeting_id", meeting.meeting_id()},
                    {"convener", meeting.convener_node()}}});
}

}  // namespace referral::mediation
