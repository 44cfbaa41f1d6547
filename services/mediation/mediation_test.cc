// The mediation service's rules, over a real event store on disk and the
// default directory. Cases are opened by the referral broker, as in
// production; the clock is injected.

#include "services/referral/forwarding_log.h"
#include "services/mediation/mediation.h"

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/timestamps.h"
#include "common/errors.h"
#include "common/vocabulary.h"
#include "common/status_matchers.h"
#include "common/text_limits.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "services/deadlines/deadlines.h"
#include "services/mediation/meeting_projection.h"
#include "services/mediation/meeting_rules.h"
#include "services/referral/broker_fixture.h"

namespace referral::mediation {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::referral::broker::kArbitration;
using ::referral::broker::kJustice;
using ::referral::broker::kLabor;
using ::referral::broker::kOutsider;
using ::referral::broker::kUnion;
using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::referral::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

constexpr char kContractor[] = "秦州建工集团";
constexpr char kWorkers[] = "Yuquan project workers";
constexpr char kHousing[] = "qinzhou.housing";

google::protobuf::Timestamp Ts(absl::Time t) {
  return TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}
v1::Invitee NodeInvitee(const std::string& node) {
  v1::Invitee i;
  i.set_node(node);
  return i;
}

v1::Invitee PartyInvitee(v1::PartyRole role, const std::string& name) {
  v1::Invitee i;
  i.mutable_party()->set_role(role);
  i.mutable_party()->set_name(name);
  return i;
}

// The directory, which can forget a node (one deregistered since).
class ForgetfulDirectory final : public broker::DirectoryPort {
 public:
  explicit ForgetfulDirectory(broker::DirectoryPort* inner) : inner_(inner) {}
  std::set<std::string> forgotten;

  absl::StatusOr<v1::Node> GetNode(absl::string_view name) override {
    if (forgotten.count(std::string(name)) > 0) {
      return MakeError(ErrorReason::kNodeNotFound, absl::StrCat("no node ", name),
                       "机构不存在");
    }
    return inner_->GetNode(name);
  }

 private:
  broker::DirectoryPort* inner_;
};

class MediationTest : public broker::BrokerTest {
 protected:
  void SetUp() override {
    broker::BrokerTest::SetUp();
    directory_port_ = std::make_unique<ForgetfulDirectory>(local_directory_.get());
    MediationOptions o;
    o.clock = [this] { return now_; };
    mediation_ = std::make_unique<Mediation>(&log_, directory_port_.get(),
                                             &calendar_, o);
  }
  void TearDown() override {
    mediation_.reset();
    broker::BrokerTest::TearDown();
  }

  // `hours` after now, for `length`.
  v1::MeetingSlot Slot(double hours, absl::Duration length = absl::Hours(2),
                       const std::string& place = "秦州区司法局三楼调解室") {
    v1::MeetingSlot s;
    const absl::Time start = now_ + absl::Hours(hours);
    *s.mutable_start_time() = Ts(start);
    *s.mutable_end_time() = Ts(start + length);
    s.set_place(place);
    return s;
  }

  // A mediation in `case_id` at `slot`, inviting labour inspection and the
  // general contractor (i1, i2) unless told otherwise.
  v1::ConveneMeetingRequest ConveneRequest(
      const std::string& case_id, const v1::MeetingSlot& slot,
      std::vector<v1::Invitee> invitees = {},
      v1::MeetingKind kind = v1::MEETING_KIND_MEDIATION) {
    v1::ConveneMeetingRequest r;
    r.set_request_id(NextRequestId());
    r.set_case_id(case_id);
    r.set_kind(kind);
    r.set_title("欠薪调解");
    r.add_agenda("核对欠薪金额");
    r.add_agenda("确定清偿责任");
    *r.mutable_slot() = slot;
    if (invitees.empty()) {
      invitees = {NodeInvitee(kLabor),
                  PartyInvitee(v1::PARTY_ROLE_GENERAL_CONTRACTOR, kContractor)};
    }
    for (auto& i : invitees) *r.add_invitees() = std::move(i);
    return r;
  }

  v1::ConveneMeetingResponse Convene(const v1::ConveneMeetingRequest& r,
                                     const std::string& caller = kJustice) {
    auto m = mediation_->ConveneMeeting(caller, r);
    EXPECT_THAT(m, IsOk());
    return m.ok() ? *m : v1::ConveneMeetingResponse();
  }

  // A case of the justice bureau with one mediation meeting in it.
  std::string NewMeeting(double hours = 48,
                         v1::MeetingKind kind = v1::MEETING_KIND_MEDIATION) {
    const std::string c = OpenCase(kJustice);
    return Convene(ConveneRequest(c, Slot(hours), {}, kind)).meeting().meeting_id();
  }

  absl::StatusOr<v1::Meeting> Held(const std::string& meeting_id,
                                   std::vector<std::string> attended = {"i1", "i2"}) {
    v1::RecordMeetingHeldRequest r;
    r.set_request_id(NextRequestId());
    r.set_meeting_id(meeting_id);
    for (auto& a : attended) r.add_attended(a);
    r.set_minutes("双方核对欠薪金额 12000 元");
    auto out = mediation_->RecordMeetingHeld(kJustice, r);
    if (!out.ok()) return out.status();
    return out->meeting();
  }

  // 12,000.00 yuan in two instalments, due in 10 and 40 days, escalating to
  // arbitration.
  v1::RecordAgreementRequest AgreementRequest(const std::string& meeting_id) {
    v1::RecordAgreementRequest r;
    r.set_request_id(NextRequestId());
    r.set_meeting_id(meeting_id);
    v1::Agreement* a = r.mutable_agreement();
    a->set_terms("总承包单位分两期清偿欠薪");
    a->set_total_fen(1200000);
    a->set_guarantor("秦州城投");
    a->set_fallback_node(kArbitration);
    for (int n = 1; n <= 2; ++n) {
      v1::Instalment* i = a->add_instalments();
      i->set_number(n);
      i->set_amount_fen(600000);
      *i->mutable_due_time() = Ts(now_ + absl::Hours(24 * (n == 1 ? 10 : 40)));
      i->set_payer(kContractor);
    }
    return r;
  }

  v1::RecordPaymentRequest PaymentRequest(const std::string& meeting_id, int instalment,
                                          int64_t fen) {
    v1::RecordPaymentRequest r;
    r.set_request_id(NextRequestId());
    r.set_meeting_id(meeting_id);
    r.set_instalment(instalment);
    r.set_amount_fen(fen);
    r.set_reference("bank-2026-001");
    return r;
  }

  // A fresh mediation meeting (in a case of its own) in `stage`.
  std::string MeetingIn(Stage stage, v1::MeetingKind kind = v1::MEETING_KIND_MEDIATION) {
    const std::string m = NewMeeting(48, kind);
    if (stage == Stage::kCancelled) {
      v1::CancelMeetingRequest r;
      r.set_request_id(NextRequestId());
      r.set_meeting_id(m);
      r.set_reason("总承包单位负责人出差");
      EXPECT_THAT(mediation_->CancelMeeting(kJustice, r), IsOk());
    }
    if (stage == Stage::kHeld || stage == Stage::kAgreed || stage == Stage::kFailed) {
      EXPECT_THAT(Held(m), IsOk());
    }
    if (stage == Stage::kAgreed) {
      EXPECT_THAT(mediation_->RecordAgreement(kJustice, AgreementRequest(m)), IsOk());
    }
    if (stage == Stage::kFailed) {
      v1::RecordMediationFailedRequest r;
      r.set_request_id(NextRequestId());
      r.set_meeting_id(m);
      r.set_reason("总承包单位不认可欠薪金额");
      r.set_next_step("申请劳动仲裁");
      EXPECT_THAT(mediation_->RecordMediationFailed(kJustice, r), IsOk());
    }
    return m;
  }

  // Runs `command` on `meeting_id` as `caller` with the smallest valid
  // request; answers are the caller's own.
  absl::Status Run(Command command, const std::string& caller,
                   const std::string& meeting_id) {
    switch (command) {
      case Command::kConvene:
        return absl::InvalidArgumentError("convene makes a new meeting");
      case Command::kInvite: {
        v1::InviteParticipantsRequest r;
        r.set_request_id(NextRequestId());
        r.set_meeting_id(meeting_id);
        *r.add_invitees() = PartyInvitee(v1::PARTY_ROLE_WORKER_REPRESENTATIVE, "工人代表");
        return mediation_->InviteParticipants(caller, r).status();
      }
      case Command::kAnswer: {
        v1::AnswerInvitationRequest r;
        r.set_request_id(NextRequestId());
        r.set_meeting_id(meeting_id);
        r.set_response(v1::INVITATION_RESPONSE_ACCEPTED);
        return mediation_->AnswerInvitation(caller, r).status();
      }
      case Command::kReschedule: {
        v1::RescheduleMeetingRequest r;
        r.set_request_id(NextRequestId());
        r.set_meeting_id(meeting_id);
        *r.mutable_slot() = Slot(96);
        r.set_reason("改期");
        return mediation_->RescheduleMeeting(caller, r).status();
      }
      case Command::kCancel: {
        v1::CancelMeetingRequest r;
        r.set_request_id(NextRequestId());
        r.set_meeting_id(meeting_id);
        r.set_reason("取消");
        return mediation_->CancelMeeting(caller, r).status();
      }
      case Command::kRecordHeld: {
        v1::RecordMeetingHeldRequest r;
        r.set_request_id(NextRequestId());
        r.set_meeting_id(meeting_id);
        r.add_attended("i1");
        return mediation_->RecordMeetingHeld(caller, r).status();
      }
      case Command::kRecordLiability: {
        v1::RecordLiabilityRequest r;
        r.set_request_id(NextRequestId());
        r.set_meeting_id(meeting_id);
        v1::LiabilityFinding* f = r.add_findings();
        f->set_party_name(kContractor);
        f->set_amount_fen(1200000);
        f->set_ground("《保障农民工工资支付条例》第三十条");
        return mediation_->RecordLiability(caller, r).status();
      }
      case Command::kRecordAgreement:
        return mediation_->RecordAgreement(caller, AgreementRequest(meeting_id)).status();
      case Command::kRecordFailed: {
        v1::RecordMediationFailedRequest r;
        r.set_request_id(NextRequestId());
        r.set_meeting_id(meeting_id);
        r.set_reason("未达成一致");
        return mediation_->RecordMediationFailed(caller, r).status();
      }
      case Command::kRecordPayment:
        return mediation_->RecordPayment(caller, PaymentRequest(meeting_id, 1, 100000))
            .status();
    }
    return absl::InternalError("unreachable");
  }

  std::vector<v1::Event> Events(const std::string& case_id) {
    auto events = log_.ReadCase(case_id);
    EXPECT_THAT(events, IsOk());
    return events.ok() ? *events : std::vector<v1::Event>();
  }

  v1::Meeting Get(const std::string& meeting_id, const std::string& caller = kJustice) {
    v1::GetMeetingRequest r;
    r.set_meeting_id(meeting_id);
    auto m = mediation_->GetMeeting(caller, r);
    EXPECT_THAT(m, IsOk());
    return m.ok() ? m->meeting() : v1::Meeting();
  }

  // What the deadlines service appends when a deadline passes unmet.
  void Breach(const std::string& case_id, const std::string& deadline_id) {
    v1::AppendRequest a;
    a.set_case_id(case_id);
    v1::Event* e = a.add_events();
    e->set_event_id(deadlines::StageEventId(case_id, deadline_id, "breach"));
    e->set_source("deadlines");
    e->mutable_deadline_breached()->set_deadline_id(deadline_id);
    e->mutable_deadline_breached()->set_kind(v1::DEADLINE_KIND_INSTALMENT_PAYMENT);
    ASSERT_THAT(log_.Append(a), IsOk());
  }

  absl::Time now_ = absl::FromCivil(absl::CivilMinute(2026, 11, 30, 9, 0),
                                    absl::FixedTimeZone(8 * 3600));
  deadlines::Calendar calendar_;
  std::unique_ptr<ForgetfulDirectory> directory_port_;
  std::unique_ptr<Mediation> mediation_;
};

// ------------------------------------------------------------------ the table

TEST(MeetingRules, TheTableHasOneRowPerCommandInOrder) {
  ASSERT_THAT(CommandRules(), SizeIs(10));
  for (size_t i = 0; i < CommandRules().size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(CommandRules()[i].command), i);
    EXPECT_NE(CommandRules()[i].from, 0u) << CommandRules()[i].name;
    EXPECT_NE(CommandRules()[i].who, 0u) << CommandRules()[i].name;
  }
  // Only convening starts from nothing; nothing happens to a cancelled meeting.
  for (const CommandRule& r : CommandRules()) {
    EXPECT_EQ(Allows(r, Stage::kNew), r.command == Command::kConvene) << r.name;
    EXPECT_FALSE(Allows(r, Stage::kCancelled)) << r.name;
  }
}

TEST(MeetingRules, TheTableSaysWhatTheContractSays) {
  // Any party convenes; only the convener changes a meeting; an invited node
  // answers for itself and the convener for outside parties.
  EXPECT_EQ(RuleFor(Command::kConvene).who, kCaseParty);
  EXPECT_EQ(RuleFor(Command::kAnswer).who, kInvitedNode | kConvenerForParty);
  for (const CommandRule& r : CommandRules()) {
    if (r.command != Command::kConvene && r.command != Command::kAnswer) {
      EXPECT_EQ(r.who, kConvener) << r.name;
    }
  }
  // Invitations, answers, moves, cancelling and holding: while scheduled.
  for (Command c : {Command::kInvite, Command::kAnswer, Command::kReschedule,
                    Command::kCancel, Command::kRecordHeld}) {
    EXPECT_EQ(RuleFor(c).from, Stages({Stage::kScheduled})) << RuleFor(c).name;
  }
  // An agreement or a failure once, for a held mediation; payments after an
  // agreement.
  EXPECT_EQ(RuleFor(Command::kRecordAgreement).from, Stages({Stage::kHeld}));
  EXPECT_EQ(RuleFor(Command::kRecordFailed).from, Stages({Stage::kHeld}));
  EXPECT_EQ(RuleFor(Command::kRecordPayment).from, Stages({Stage::kAgreed}));
  for (Command c : {Command::kRecordAgreement, Command::kRecordFailed,
                    Command::kRecordPayment}) {
    EXPECT_TRUE(RuleFor(c).mediation_only) << RuleFor(c).name;
  }
}

TEST_F(MediationTest, EveryCommandIsAllowedFromExactlyTheStagesOfItsRow) {
  const Stage stages[] = {Stage::kScheduled, Stage::kHeld, Stage::kAgreed,
                          Stage::kFailed, Stage::kCancelled};
  for (const CommandRule& rule : CommandRules()) {
    if (rule.command == Command::kConvene) continue;
    const std::string caller = rule.command == Command::kAnswer ? kLabor : kJustice;
    for (Stage stage : stages) {
      const std::string m = MeetingIn(stage);
      const size_t before = Events(CaseOfMeeting(m)).size();
      absl::Status s = Run(rule.command, caller, m);
      if (Allows(rule, stage)) {
        EXPECT_THAT(s, IsOk()) << rule.name << " from " << StageName(stage);
      } else {
        EXPECT_THAT(s, HasReason("MEETING_STATE_CONFLICT"))
            << rule.name << " from " << StageName(stage);
        EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
        EXPECT_EQ(Events(CaseOfMeeting(m)).size(), before) << rule.name;
      }
    }
  }
}

TEST_F(MediationTest, MediationOnlyCommandsRefuseAJointConference) {
  const std::string m = MeetingIn(Stage::kHeld, v1::MEETING_KIND_JOINT_CONFERENCE);
  for (const CommandRule& rule : CommandRules()) {
    if (!rule.mediation_only || !Allows(rule, Stage::kHeld)) continue;
    absl::Status s = Run(rule.command, kJustice, m);
    EXPECT_THAT(s, HasReason("MEETING_STATE_CONFLICT")) << rule.name;
    EXPECT_THAT(std::string(s.message()), HasSubstr("joint case conference"));
  }
  // The joint conference itself may still have its liability analysis.
  EXPECT_THAT(Run(Command::kRecordLiability, kJustice, m), IsOk());
}

TEST_F(MediationTest, OnlyTheConvenerChangesAMeeting) {
  for (const CommandRule& rule : CommandRules()) {
    if (rule.who != kConvener) continue;
    Stage stage = Stage::kScheduled;
    for (Stage s : {Stage::kScheduled, Stage::kHeld, Stage::kAgreed}) {
      if (Allows(rule, s)) {
        stage = s;
        break;
      }
    }
    const std::string m = MeetingIn(stage);
    // The invited node is party to the case, and still may not.
    EXPECT_THAT(Run(rule.command, kLabor, m), HasReason("NOT_ALLOWED_FOR_ROLE"))
        << rule.name;
    // A node not party to the case learns nothing more.
    EXPECT_THAT(Run(rule.command, kOutsider, m), HasReason("NOT_A_PARTY")) << rule.name;
    EXPECT_THAT(Run(rule.command, kJustice, m), IsOk()) << rule.name;
  }
}

TEST_F(MediationTest, AnInvitedNodeAnswersForItselfAndTheConvenerForOutsideParties) {
  const std::string m = NewMeeting();
  const std::string c = CaseOfMeeting(m);
  v1::AnswerInvitationRequest r;
  r.set_request_id(NextRequestId());
  r.set_meeting_id(m);
  r.set_response(v1::INVITATION_RESPONSE_ACCEPTED);
  r.set_note("派监察员参加");
  ASSERT_OK_AND_ASSIGN(auto own, mediation_->AnswerInvitation(kLabor, r));
  EXPECT_EQ(own.meeting().invitees(0).response(), v1::INVITATION_RESPONSE_ACCEPTED);
  EXPECT_EQ(own.meeting().invitees(0).note(), "派监察员参加");

  // The convener records the contractor's answer…
  r.set_request_id(NextRequestId());
  r.set_invitee_id("i2");
  r.set_response(v1::INVITATION_RESPONSE_DECLINED);
  ASSERT_OK_AND_ASSIGN(auto party, mediation_->AnswerInvitation(kJustice, r));
  EXPECT_EQ(party.meeting().invitees(1).response(), v1::INVITATION_RESPONSE_DECLINED);

  const size_t before = Events(c).size();
  // …but not a node's: that node answers itself.
  r.set_request_id(NextRequestId());
  r.set_invitee_id("i1");
  EXPECT_THAT(mediation_->AnswerInvitation(kJustice, r), HasReason("NOT_ALLOWED_FOR_ROLE"));
  // The invited node cannot answer for the contractor.
  r.set_request_id(NextRequestId());
  r.set_invitee_id("i2");
  EXPECT_THAT(mediation_->AnswerInvitation(kLabor, r), HasReason("NOT_ALLOWED_FOR_ROLE"));
  // The convener has no invitation of its own.
  r.set_request_id(NextRequestId());
  r.clear_invitee_id();
  EXPECT_THAT(mediation_->AnswerInvitation(kJustice, r), HasReason("NOT_ALLOWED_FOR_ROLE"));
  r.set_request_id(NextRequestId());
  r.set_invitee_id("i9");
  EXPECT_THAT(mediation_->AnswerInvitation(kLabor, r), HasReason("INVALID_FIELD"));
  EXPECT_EQ(Events(c).size(), before);
}

TEST_F(MediationTest, ProposingAnotherTimeNeedsTheProposedSlot) {
  const std::string m = NewMeeting();
  v1::AnswerInvitationRequest r;
  r.set_request_id(NextRequestId());
  r.set_meeting_id(m);
  r.set_response(v1::INVITATION_RESPONSE_PROPOSED_OTHER_TIME);
  EXPECT_THAT(mediation_->AnswerInvitation(kLabor, r), HasReason("INVALID_FIELD"));
  *r.mutable_proposed_slot() = Slot(72);
  r.mutable_proposed_slot()->mutable_end_time()->set_seconds(
      r.proposed_slot().start_time().seconds());
  EXPECT_THAT(mediation_->AnswerInvitation(kLabor, r), HasReason("INVALID_FIELD"));
  r.clear_response();
  EXPECT_THAT(mediation_->AnswerInvitation(kLabor, r), HasReason("INVALID_FIELD"));

  r.set_response(v1::INVITATION_RESPONSE_PROPOSED_OTHER_TIME);
  *r.mutable_proposed_slot() = Slot(72);
  r.mutable_proposed_slot()->clear_place();  // the same place is fine
  ASSERT_OK_AND_ASSIGN(auto out, mediation_->AnswerInvitation(kLabor, r));
  EXPECT_EQ(out.meeting().invitees(0).response(),
            v1::INVITATION_RESPONSE_PROPOSED_OTHER_TIME);
  EXPECT_EQ(out.meeting().invitees(0).proposed_slot().start_time(),
            Slot(72).start_time());
}

// ------------------------------------------------------------------ convene

TEST_F(MediationTest, ConveneRecordsTheMeetingWithItsIdsAndPendingInvitations) {
  const std::string c = OpenCase(kJustice);
  v1::ConveneMeetingRequest req = ConveneRequest(
      c, Slot(48),
      {NodeInvitee(kLabor), PartyInvitee(v1::PARTY_ROLE_GENERAL_CONTRACTOR, kContractor),
       NodeInvitee(kUnion)});
  ASSERT_OK_AND_ASSIGN(auto out, mediation_->ConveneMeeting(kJustice, req));
  const v1::Meeting& m = out.meeting();
  EXPECT_EQ(m.meeting_id(), c + "/m1");
  EXPECT_EQ(m.case_id(), c);
  EXPECT_EQ(m.convener_node(), kJustice);
  EXPECT_EQ(m.kind(), v1::MEETING_KIND_MEDIATION);
  EXPECT_EQ(m.state(), v1::MEETING_STATE_SCHEDULED);
  EXPECT_THAT(m.agenda(), ElementsAre("核对欠薪金额", "确定清偿责任"));
  EXPECT_EQ(m.slot().place(), "秦州区司法局三楼调解室");
  ASSERT_THAT(m.invitees(), SizeIs(3));
  EXPECT_EQ(m.invitees(0).invitee_id(), "i1");
  EXPECT_EQ(m.invitees(0).node(), kLabor);
  EXPECT_EQ(m.invitees(1).invitee_id(), "i2");
  EXPECT_EQ(m.invitees(1).party().name(), kContractor);
  EXPECT_EQ(m.invitees(2).invitee_id(), "i3");
  for (const auto& i : m.invitees()) {
    EXPECT_EQ(i.response(), v1::INVITATION_RESPONSE_PENDING);
  }
  EXPECT_THAT(out.conflicts(), IsEmpty());
  EXPECT_EQ(Get(m.meeting_id()).SerializeAsString(), m.SerializeAsString());

  auto second = Convene(ConveneRequest(c, Slot(200)));
  EXPECT_EQ(second.meeting().meeting_id(), c + "/m2");
}

TEST_F(MediationTest, AnInvitedNodeSeesTheInvitationInItsFeedAndBecomesAParty) {
  const std::string c = OpenCase(kJustice);
  EXPECT_THAT(broker_->GetCase(kLabor, c), HasReason("NOT_A_PARTY"));
  const std::string m = Convene(ConveneRequest(c, Slot(48))).meeting().meeting_id();

  v1::ReadAllRequest feed;
  feed.mutable_filter()->set_node(kLabor);
  feed.mutable_filter()->set_event_type("referral.v1.MeetingParticipantInvited");
  ASSERT_OK_AND_ASSIGN(auto page, log_.ReadAll(feed));
  ASSERT_THAT(page.events(), SizeIs(1));
  EXPECT_EQ(page.events(0).meeting_participant_invited().invitee().node(), kLabor);
  EXPECT_EQ(page.events(0).subject(), c);

  EXPECT_THAT(broker_->GetCase(kLabor, c), IsOk());
  EXPECT_EQ(Get(m, kLabor).meeting_id(), m);
  // The contractor has no node; a node that was not invited sees nothing.
  v1::GetMeetingRequest get;
  get.set_meeting_id(m);
  EXPECT_THAT(mediation_->GetMeeting(kUnion, get), HasReason("NOT_A_PARTY"));
}

TEST_F(MediationTest, OnlyAPartyToTheCaseMayConvene) {
  const std::string c = OpenCase(kJustice);
  EXPECT_THAT(mediation_->ConveneMeeting(kUnion, ConveneRequest(c, Slot(48))),
              HasReason("NOT_A_PARTY"));
  EXPECT_THAT(mediation_->ConveneMeeting(kJustice, ConveneRequest(c + "x", Slot(48))),
              HasReason("CASE_NOT_FOUND"));
  // An addressee of a referral is a party and may convene.
  Send(c, kLabor);
  auto m = mediation_->ConveneMeeting(
      kLabor, ConveneRequest(c, Slot(48), {NodeInvitee(kJustice)}));
  ASSERT_THAT(m, IsOk());
  EXPECT_EQ(m->meeting().convener_node(), kLabor);
}

TEST_F(MediationTest, ConveneRefusesBadInputAndWritesNothing) {
  const std::string c = OpenCase(kJustice);
  const size_t before = Events(c).size();
  struct Bad {
    std::string what;
    std::function<void(v1::ConveneMeetingRequest*)> spoil;
    std::string reason;
    std::string field;
  };
  const std::vector<Bad> bad = {
      {"no kind", [](auto* r) { r->clear_kind(); }, "INVALID_FIELD", "kind"},
      {"no title", [](auto* r) { r->clear_title(); }, "INVALID_FIELD", "title"},
      {"no start", [](auto* r) { r->mutable_slot()->clear_start_time(); },
       "INVALID_FIELD", "slot.start_time"},
      {"end before start",
       [](auto* r) {
         *r->mutable_slot()->mutable_end_time() = r->slot().start_time();
       },
       "INVALID_FIELD", "slot.end_time"},
      {"no place", [](auto* r) { r->mutable_slot()->clear_place(); }, "INVALID_FIELD",
       "slot.place"},
      {"no invitees", [](auto* r) { r->clear_invitees(); }, "INVALID_FIELD", "invitees"},
      {"unknown node",
       [](auto* r) { r->mutable_invitees(0)->set_node("qinzhou.nowhere"); },
       "NODE_NOT_FOUND", ""},
      {"malformed node", [](auto* r) { r->mutable_invitees(0)->set_node("Not A Node"); },
       "INVALID_FIELD", "invitees[0].node"},
      {"node and party",
       [](auto* r) { *r->mutable_invitees(0)->mutable_party() = r->invitees(1).party(); },
       "INVALID_FIELD", "invitees[0]"},
      {"neither node nor party", [](auto* r) { r->mutable_invitees(0)->clear_node(); },
       "INVALID_FIELD", "invitees[0]"},
      {"party without role",
       [](auto* r) { r->mutable_invitees(1)->mutable_party()->clear_role(); },
       "INVALID_FIELD", "invitees[1].party"},
      {"invited twice", [](auto* r) { *r->add_invitees() = NodeInvitee(kLabor); },
       "INVALID_FIELD", "invitees[2]"},
      {"the convener itself", [](auto* r) { *r->add_invitees() = NodeInvitee(kJustice); },
       "INVALID_FIELD", "invitees[2].node"},
      {"bad request id", [](auto* r) { r->set_request_id("no spaces allowed"); },
       "INVALID_FIELD", "request_id"},
  };
  for (const Bad& b : bad) {
    v1::ConveneMeetingRequest r = ConveneRequest(c, Slot(48));
    b.spoil(&r);
    absl::Status s = mediation_->ConveneMeeting(kJustice, r).status();
    EXPECT_THAT(s, HasReason(b.reason)) << b.what;
    if (!b.field.empty()) EXPECT_EQ(ViewError(s).field, b.field) << b.what;
    EXPECT_FALSE(ViewError(s).zh_message.empty()) << b.what;
  }
  EXPECT_EQ(Events(c).size(), before);
}

TEST_F(MediationTest, ARetriedConveneHasItsEffectOnceAndAnswersAlike) {
  const std::string other = OpenCase(kJustice);
  Convene(ConveneRequest(other, Slot(48)));
  const std::string c = OpenCase(kJustice);
  v1::ConveneMeetingRequest r = ConveneRequest(c, Slot(49));
  ASSERT_OK_AND_ASSIGN(auto first, mediation_->ConveneMeeting(kJustice, r));
  const size_t after_first = Events(c).size();
  ASSERT_THAT(first.conflicts(), SizeIs(1));
  // Another meeting since changes nothing in the answer to the retry.
  Convene(ConveneRequest(c, Slot(300)));
  ASSERT_OK_AND_ASSIGN(auto again, mediation_->ConveneMeeting(kJustice, r));
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  ASSERT_OK_AND_ASSIGN(auto list, [&] {
    v1::ListMeetingsRequest l;
    l.set_case_id(c);
    return mediation_->ListMeetings(kJustice, l);
  }());
  EXPECT_THAT(list.meetings(), SizeIs(2));
  EXPECT_GT(Events(c).size(), after_first);

  r.set_title("另一个会议");
  EXPECT_THAT(mediation_->ConveneMeeting(kJustice, r), HasReason("REQUEST_ID_REUSED"));
}

// ------------------------------------------------------------------ overlaps

TEST_F(MediationTest, ANodeInvitedToTwoMeetingsAtOverlappingTimesIsWarned) {
  // Labour inspection is invited to 09:00-11:00 in one case…
  const std::string first_case = OpenCase(kJustice);
  const auto first = Convene(ConveneRequest(first_case, Slot(48)));
  EXPECT_THAT(first.conflicts(), IsEmpty());

  // …and to 10:00-12:00 in another, convened by a node not party to the first.
  const std::string second_case = OpenCase(kUnion);
  ASSERT_OK_AND_ASSIGN(
      auto second,
      mediation_->ConveneMeeting(
          kUnion, ConveneRequest(second_case, Slot(49), {NodeInvitee(kLabor),
                                                          NodeInvitee(kHousing)})));
  // The union learns that labour inspection is busy then, not with what:
  // that meeting is the first case's.
  ASSERT_THAT(second.conflicts(), SizeIs(1));
  const v1::MeetingConflict& c = second.conflicts(0);
  EXPECT_EQ(c.node(), kLabor);
  EXPECT_EQ(c.other_meeting_id(), "");
  EXPECT_FALSE(c.has_other_slot());
  v1::GetMeetingRequest get;
  get.set_meeting_id(first.meeting().meeting_id());
  EXPECT_THAT(mediation_->GetMeeting(kUnion, get), HasReason("NOT_A_PARTY"));

  // The warning is in the case, in the same append, and names no other
  // meeting either: every party of the second case reads it.
  std::vector<v1::Event> events = Events(second_case);
  const v1::Event* warned = nullptr;
  for (const auto& e : events) {
    if (e.has_meeting_overlap_warned()) warned = &e;
  }
  ASSERT_NE(warned, nullptr);
  EXPECT_EQ(warned->meeting_overlap_warned().meeting_id(), second.meeting().meeting_id());
  EXPECT_EQ(warned->meeting_overlap_warned().conflict().node(), kLabor);
  EXPECT_EQ(warned->meeting_overlap_warned().conflict().other_meeting_id(), "");
  EXPECT_FALSE(warned->meeting_overlap_warned().conflict().has_other_slot());
  EXPECT_THAT(warned->involved_nodes(), ElementsAre(kLabor));
  EXPECT_EQ(warned->request_digest(), events[1].request_digest());  // the convene's

  // Labour inspection finds the warning in its feed, naming the new
  // meeting, and which of its own meetings clash by listing them.
  v1::ReadAllRequest feed;
  feed.mutable_filter()->set_node(kLabor);
  feed.mutable_filter()->set_event_type("referral.v1.MeetingOverlapWarned");
  ASSERT_OK_AND_ASSIGN(auto page, log_.ReadAll(feed));
  ASSERT_THAT(page.events(), SizeIs(1));
  EXPECT_EQ(page.events(0).meeting_overlap_warned().meeting_id(),
            second.meeting().meeting_id());
  ASSERT_OK_AND_ASSIGN(auto mine,
                       mediation_->ListMeetings(kLabor, v1::ListMeetingsRequest()));
  ASSERT_THAT(mine.meetings(), SizeIs(2));
  EXPECT_EQ(mine.meetings(0).meeting_id(), first.meeting().meeting_id());
  EXPECT_EQ(mine.meetings(0).slot().start_time(), Slot(48).start_time());
  EXPECT_EQ(mine.meetings(1).meeting_id(), second.meeting().meeting_id());
  EXPECT_EQ(Get(second.meeting().meeting_id(), kLabor).slot().start_time(),
            Slot(49).start_time());
}

TEST_F(MediationTest, AConvenerSeesAClashingMeetingOnlyWhenPartyToItsCase) {
  // Labour inspection has a meeting in a case of justice's (a) and one in
  // a case of the union's (b), both 09:00-11:00.
  const std::string a = OpenCase(kJustice);
  const auto in_a = Convene(ConveneRequest(a, Slot(48)));
  const std::string b = OpenCase(kUnion);
  ASSERT_THAT(mediation_->ConveneMeeting(kUnion, ConveneRequest(b, Slot(48),
                                                                {NodeInvitee(kLabor)})),
              IsOk());
  // Justice convenes at 10:00 in its case c, which has a meeting at 09:30.
  const std::string c = OpenCase(kJustice);
  const auto in_c = Convene(ConveneRequest(c, Slot(48.5, absl::Hours(1))));
  const v1::ConveneMeetingRequest r = ConveneRequest(c, Slot(49));
  ASSERT_OK_AND_ASSIGN(auto out, mediation_->ConveneMeeting(kJustice, r));

  // It sees c's and a's meetings, which it is party to, and of b's only
  // that there is one.
  ASSERT_THAT(out.conflicts(), SizeIs(3));
  EXPECT_EQ(out.conflicts(0).other_meeting_id(), in_c.meeting().meeting_id());
  EXPECT_EQ(out.conflicts(1).other_meeting_id(), in_a.meeting().meeting_id());
  EXPECT_EQ(out.conflicts(1).other_slot().start_time(), Slot(48).start_time());
  EXPECT_EQ(out.conflicts(2).node(), kLabor);
  EXPECT_EQ(out.conflicts(2).other_meeting_id(), "");
  EXPECT_FALSE(out.conflicts(2).has_other_slot());
  for (const auto& k : out.conflicts()) EXPECT_EQ(k.node(), kLabor);

  // Case c records c's own meeting and, for the other cases, the node alone.
  std::vector<v1::MeetingConflict> recorded;
  for (const auto& e : Events(c)) {
    if (e.has_meeting_overlap_warned() &&
        e.meeting_overlap_warned().meeting_id() == out.meeting().meeting_id()) {
      recorded.push_back(e.meeting_overlap_warned().conflict());
    }
  }
  ASSERT_THAT(recorded, SizeIs(2));
  EXPECT_EQ(recorded[0].other_meeting_id(), in_c.meeting().meeting_id());
  EXPECT_EQ(recorded[1].other_meeting_id(), "");
  EXPECT_FALSE(recorded[1].has_other_slot());

  // A retry answers alike, though a's meeting has been cancelled since.
  v1::CancelMeetingRequest cancel;
  cancel.set_request_id(NextRequestId());
  cancel.set_meeting_id(in_a.meeting().meeting_id());
  cancel.set_reason("已自行和解");
  ASSERT_THAT(mediation_->CancelMeeting(kJustice, cancel), IsOk());
  ASSERT_OK_AND_ASSIGN(auto again, mediation_->ConveneMeeting(kJustice, r));
  EXPECT_EQ(again.SerializeAsString(), out.SerializeAsString());
  // Negative control: a new command sees the cancellation.
  const std::string d = OpenCase(kJustice);
  ASSERT_OK_AND_ASSIGN(auto fresh,
                       mediation_->ConveneMeeting(kJustice, ConveneRequest(d, Slot(49))));
  std::vector<std::string> ids;
  for (const auto& k : fresh.conflicts()) ids.push_back(k.other_meeting_id());
  EXPECT_THAT(ids,
              ElementsAre(in_c.meeting().meeting_id(), out.meeting().meeting_id(), ""));
}

TEST_F(MediationTest, MeetingsThatOnlyTouchOrAreNoLongerScheduledAreNoConflict) {
  const std::string a = OpenCase(kJustice);
  const auto morning = Convene(ConveneRequest(a, Slot(48)));  // 09:00-11:00 (+2d)
  // Negative control: 11:00-12:00 only touches it.
  const std::string b = OpenCase(kJustice);
  const auto touching = Convene(ConveneRequest(b, Slot(50, absl::Hours(1))));
  EXPECT_THAT(touching.conflicts(), IsEmpty());
  for (const auto& e : Events(b)) EXPECT_FALSE(e.has_meeting_overlap_warned());

  // The first meeting moves to the afternoon: its old time is free.
  v1::RescheduleMeetingRequest move;
  move.set_request_id(NextRequestId());
  move.set_meeting_id(morning.meeting().meeting_id());
  *move.mutable_slot() = Slot(53);
  ASSERT_OK_AND_ASSIGN(auto moved, mediation_->RescheduleMeeting(kJustice, move));
  EXPECT_THAT(moved.conflicts(), IsEmpty());
  const std::string c = OpenCase(kJustice);
  EXPECT_THAT(Convene(ConveneRequest(c, Slot(48))).conflicts(), IsEmpty());

  // A cancelled meeting holds no time.
  const std::string d = OpenCase(kJustice);
  EXPECT_THAT(Convene(ConveneRequest(d, Slot(53))).conflicts(), SizeIs(1));
  v1::CancelMeetingRequest cancel;
  cancel.set_request_id(NextRequestId());
  cancel.set_meeting_id(morning.meeting().meeting_id());
  cancel.set_reason("已自行和解");
  ASSERT_THAT(mediation_->CancelMeeting(kJustice, cancel), IsOk());
  const std::string e = OpenCase(kJustice);
  auto later = Convene(ConveneRequest(e, Slot(53)));
  ASSERT_THAT(later.conflicts(), SizeIs(1));  // only d's meeting now
  EXPECT_EQ(later.conflicts(0).other_meeting_id(), d + "/m1");
}

TEST_F(MediationTest, InvitingAndReschedulingIntoAnotherMeetingWarnToo) {
  const std::string a = OpenCase(kJustice);
  const auto busy = Convene(ConveneRequest(a, Slot(48), {NodeInvitee(kUnion)}));
  const std::string b = OpenCase(kJustice);
  const auto m = Convene(ConveneRequest(b, Slot(24)));
  EXPECT_THAT(m.conflicts(), IsEmpty());

  v1::InviteParticipantsRequest invite;
  invite.set_request_id(NextRequestId());
  invite.set_meeting_id(m.meeting().meeting_id());
  *invite.add_invitees() = NodeInvitee(kUnion);
  ASSERT_OK_AND_ASSIGN(auto invited, mediation_->InviteParticipants(kJustice, invite));
  EXPECT_THAT(invited.conflicts(), IsEmpty());  // 24h is not 48h
  EXPECT_EQ(invited.meeting().invitees(2).invitee_id(), "i3");

  v1::RescheduleMeetingRequest move;
  move.set_request_id(NextRequestId());
  move.set_meeting_id(m.meeting().meeting_id());
  *move.mutable_slot() = Slot(47);
  ASSERT_OK_AND_ASSIGN(auto moved, mediation_->RescheduleMeeting(kJustice, move));
  ASSERT_THAT(moved.conflicts(), SizeIs(1));
  EXPECT_EQ(moved.conflicts(0).node(), kUnion);
  EXPECT_EQ(moved.conflicts(0).other_meeting_id(), busy.meeting().meeting_id());
}

// ------------------------------------------------------------------ reminders

TEST_F(MediationTest, ConveneSetsAReminderAnHourBeforeForTheInvitedNodes) {
  const std::string m = NewMeeting(48);
  const std::string c = CaseOfMeeting(m);
  auto fold = deadlines::DeadlineFold::Of(Events(c));
  const v1::Deadline* d = fold.Find(m + "/remind");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->set().kind(), v1::DEADLINE_KIND_MEETING_REMINDER);
  EXPECT_EQ(TimeOf(d->set().due_time()), now_ + absl::Hours(47));
  EXPECT_EQ(d->set().responsible_node(), kJustice);
  EXPECT_EQ(d->set().subject_id(), m);
  EXPECT_THAT(d->set().notify_nodes(), ElementsAre(kLabor));
  EXPECT_EQ(d->state(), v1::DEADLINE_STATE_PENDING);

  // A meeting within the hour is reminded of now.
  const std::string soon = NewMeeting(0.5);
  auto soon_fold = deadlines::DeadlineFold::Of(Events(CaseOfMeeting(soon)));
  ASSERT_NE(soon_fold.Find(soon + "/remind"), nullptr);
  EXPECT_EQ(TimeOf(soon_fold.Find(soon + "/remind")->set().due_time()), now_);
}

TEST_F(MediationTest, RescheduleResetsEveryAnswerAndReachesEveryInvitedNode) {
  const std::string c = OpenCase(kJustice);
  const std::string m =
      Convene(ConveneRequest(c, Slot(48),
                             {NodeInvitee(kLabor), NodeInvitee(kUnion),
                              PartyInvitee(v1::PARTY_ROLE_GENERAL_CONTRACTOR, kContractor)}))
          .meeting()
          .meeting_id();
  for (const char* node : {kLabor, kUnion}) {
    v1::AnswerInvitationRequest a;
    a.set_request_id(NextRequestId());
    a.set_meeting_id(m);
    a.set_response(v1::INVITATION_RESPONSE_ACCEPTED);
    ASSERT_THAT(mediation_->AnswerInvitation(node, a), IsOk());
  }
  v1::RescheduleMeetingRequest r;
  r.set_request_id(NextRequestId());
  r.set_meeting_id(m);
  *r.mutable_slot() = Slot(72, absl::Hours(2), "秦州区人社局二楼会议室");
  r.set_reason("调解员出差");
  ASSERT_OK_AND_ASSIGN(auto out, mediation_->RescheduleMeeting(kJustice, r));
  EXPECT_EQ(out.meeting().slot().place(), "秦州区人社局二楼会议室");
  EXPECT_EQ(out.meeting().reschedules(), 1);
  EXPECT_EQ(out.meeting().state(), v1::MEETING_STATE_SCHEDULED);
  for (const auto& i : out.meeting().invitees()) {
    EXPECT_EQ(i.response(), v1::INVITATION_RESPONSE_PENDING) << i.invitee_id();
  }
  std::vector<v1::Event> events = Events(c);
  const v1::Event* moved = nullptr;
  for (const auto& e : events) {
    if (e.has_meeting_rescheduled()) moved = &e;
  }
  ASSERT_NE(moved, nullptr);
  EXPECT_THAT(moved->involved_nodes(), UnorderedElementsAre(kLabor, kUnion));

  // The old reminder is cleared and a new one set for the new time.
  auto fold = deadlines::DeadlineFold::Of(events);
  EXPECT_EQ(fold.Find(m + "/remind")->state(), v1::DEADLINE_STATE_MET);
  const v1::Deadline* next = fold.Find(m + "/remind1");
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(TimeOf(next->set().due_time()), now_ + absl::Hours(71));
  EXPECT_THAT(next->set().notify_nodes(), ElementsAre(kLabor, kUnion));

  // The same time and place is no reschedule.
  r.set_request_id(NextRequestId());
  EXPECT_THAT(mediation_->RescheduleMeeting(kJustice, r), HasReason("INVALID_FIELD"));
}

TEST_F(MediationTest, CancelReachesTheInvitedNodesAndClearsTheReminder) {
  const std::string m = NewMeeting();
  const std::string c = CaseOfMeeting(m);
  v1::CancelMeetingRequest r;
  r.set_request_id(NextRequestId());
  r.set_meeting_id(m);
  EXPECT_THAT(mediation_->CancelMeeting(kJustice, r), HasReason("INVALID_FIELD"));
  r.set_reason("双方已自行和解");
  ASSERT_OK_AND_ASSIGN(auto out, mediation_->CancelMeeting(kJustice, r));
  EXPECT_EQ(out.meeting().state(), v1::MEETING_STATE_CANCELLED);
  EXPECT_EQ(out.meeting().reason(), "双方已自行和解");
  std::vector<v1::Event> events = Events(c);
  const v1::Event& cleared = events.back();
  ASSERT_TRUE(cleared.has_deadline_cleared());
  EXPECT_EQ(cleared.deadline_cleared().deadline_id(), m + "/remind");
  const v1::Event& cancelled = events[events.size() - 2];
  ASSERT_TRUE(cancelled.has_meeting_cancelled());
  EXPECT_THAT(cancelled.involved_nodes(), ElementsAre(kLabor));
}

TEST_F(MediationTest, InvitingANodeRemindsItToo) {
  const std::string m = NewMeeting();
  v1::InviteParticipantsRequest r;
  r.set_request_id(NextRequestId());
  r.set_meeting_id(m);
  *r.add_invitees() = NodeInvitee(kUnion);
  ASSERT_THAT(mediation_->InviteParticipants(kJustice, r), IsOk());
  auto fold = deadlines::DeadlineFold::Of(Events(CaseOfMeeting(m)));
  EXPECT_FALSE(fold.IsOpen(m + "/remind"));
  ASSERT_NE(fold.Find(m + "/remind1"), nullptr);
  EXPECT_THAT(fold.Find(m + "/remind1")->set().notify_nodes(), ElementsAre(kLabor, kUnion));

  // Someone invited twice is refused, as is an outside party invited again.
  r.set_request_id(NextRequestId());
  EXPECT_THAT(mediation_->InviteParticipants(kJustice, r), HasReason("INVALID_FIELD"));
  r.set_request_id(NextRequestId());
  *r.mutable_invitees(0) = PartyInvitee(v1::PARTY_ROLE_GENERAL_CONTRACTOR, kContractor);
  EXPECT_THAT(mediation_->InviteParticipants(kJustice, r), HasReason("INVALID_FIELD"));
}

// ------------------------------------------------------------------ held, liability

TEST_F(MediationTest, HeldRecordsAttendanceOfInviteesOnly) {
  const std::string m = NewMeeting();
  const size_t before = Events(CaseOfMeeting(m)).size();
  EXPECT_THAT(Held(m, {"i1", "i7"}), HasReason("INVALID_FIELD"));
  EXPECT_EQ(Events(CaseOfMeeting(m)).size(), before);
  ASSERT_OK_AND_ASSIGN(v1::Meeting held, Held(m, {"i2"}));
  EXPECT_EQ(held.state(), v1::MEETING_STATE_HELD);
  EXPECT_FALSE(held.invitees(0).attended());
  EXPECT_TRUE(held.invitees(1).attended());
  EXPECT_EQ(held.minutes(), "双方核对欠薪金额 12000 元");
  auto fold = deadlines::DeadlineFold::Of(Events(CaseOfMeeting(m)));
  EXPECT_FALSE(fold.IsOpen(m + "/remind"));
}

TEST_F(MediationTest, LiabilityNamesPartiesOfTheCaseOrInviteesWithAGround) {
  const std::string m = MeetingIn(Stage::kHeld);
  v1::RecordLiabilityRequest r;
  r.set_request_id(NextRequestId());
  r.set_meeting_id(m);
  v1::LiabilityFinding* f = r.add_findings();
  f->set_party_name(kContractor);  // an invitee
  f->set_amount_fen(1200000);
  f->set_ground("《保障农民工工资支付条例》第三十条 总承包单位先行清偿");
  v1::LiabilityFinding* g = r.add_findings();
  g->set_party_name(kWorkers);  // a party of the case
  g->set_amount_fen(0);
  g->set_ground("无过错");

  const size_t before = Events(CaseOfMeeting(m)).size();
  auto spoiled = [&](auto spoil) {
    v1::RecordLiabilityRequest bad = r;
    bad.set_request_id(NextRequestId());
    spoil(&bad);
    return mediation_->RecordLiability(kJustice, bad).status();
  };
  EXPECT_THAT(spoiled([](auto* b) { b->mutable_findings(0)->set_party_name("路人甲"); }),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(spoiled([](auto* b) { b->mutable_findings(0)->set_amount_fen(-1); }),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(spoiled([](auto* b) { b->mutable_findings(1)->clear_ground(); }),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(spoiled([](auto* b) { b->clear_findings(); }), HasReason("INVALID_FIELD"));
  EXPECT_EQ(Events(CaseOfMeeting(m)).size(), before);

  ASSERT_OK_AND_ASSIGN(auto out, mediation_->RecordLiability(kJustice, r));
  ASSERT_THAT(out.meeting().findings(), SizeIs(2));
  // The role comes from the party as the case or the invitation names it.
  EXPECT_EQ(out.meeting().findings(0).role(), v1::PARTY_ROLE_GENERAL_CONTRACTOR);
  EXPECT_EQ(out.meeting().findings(1).role(), v1::PARTY_ROLE_WORKER_GROUP);
}

// ------------------------------------------------------------------ agreement

TEST_F(MediationTest, AnAgreementIsCheckedWholeAndABadOneWritesNothing) {
  const std::string m = MeetingIn(Stage::kHeld);
  const size_t before = Events(CaseOfMeeting(m)).size();
  struct Bad {
    std::string what;
    std::function<void(v1::Agreement*)> spoil;
    std::string reason;
  };
  const std::vector<Bad> bad = {
      {"no terms", [](auto* a) { a->clear_terms(); }, "INVALID_FIELD"},
      {"no instalments", [](auto* a) { a->clear_instalments(); }, "INVALID_FIELD"},
      {"numbered from 0", [](auto* a) { a->mutable_instalments(0)->set_number(0); },
       "INVALID_FIELD"},
      {"numbered out of order", [](auto* a) { a->mutable_instalments(1)->set_number(3); },
       "INVALID_FIELD"},
      {"zero amount", [](auto* a) { a->mutable_instalments(0)->set_amount_fen(0); },
       "INVALID_FIELD"},
      {"sum short of the total", [](auto* a) { a->set_total_fen(1300000); },
       "INVALID_FIELD"},
      {"sum past the total", [](auto* a) { a->set_total_fen(1100000); }, "INVALID_FIELD"},
      {"due times not increasing",
       [](auto* a) {
         *a->mutable_instalments(1)->mutable_due_time() = a->instalments(0).due_time();
       },
       "INVALID_FIELD"},
      {"due in the past",
       [this](auto* a) {
         *a->mutable_instalments(0)->mutable_due_time() = Ts(now_ - absl::Hours(1));
       },
       "INVALID_FIELD"},
      {"no payer", [](auto* a) { a->mutable_instalments(1)->clear_payer(); },
       "INVALID_FIELD"},
      {"fallback of the wrong kind", [](auto* a) { a->set_fallback_node(kUnion); },
       "INVALID_FIELD"},
      {"no fallback", [](auto* a) { a->clear_fallback_node(); }, "INVALID_FIELD"},
      {"unknown fallback", [](auto* a) { a->set_fallback_node("qinzhou.nowhere"); },
       "NODE_NOT_FOUND"},
  };
  for (const Bad& b : bad) {
    v1::RecordAgreementRequest r = AgreementRequest(m);
    b.spoil(r.mutable_agreement());
    EXPECT_THAT(mediation_->RecordAgreement(kJustice, r), HasReason(b.reason)) << b.what;
  }
  EXPECT_EQ(Events(CaseOfMeeting(m)).size(), before);
  // Labour inspection is a fallback too.
  v1::RecordAgreementRequest r = AgreementRequest(m);
  r.mutable_agreement()->set_fallback_node(kLabor);
  EXPECT_THAT(mediation_->RecordAgreement(kJustice, r), IsOk());
}

TEST_F(MediationTest, AnAgreementSchedulesItsInstalmentDeadlinesInTheSameAppend) {
  const std::string m = MeetingIn(Stage::kHeld);
  const std::string c = CaseOfMeeting(m);
  EXPECT_THAT(broker_->GetCase(kArbitration, c), HasReason("NOT_A_PARTY"));
  v1::RecordAgreementRequest req = AgreementRequest(m);
  req.mutable_agreement()->mutable_instalments(0)->set_state(v1::INSTALMENT_STATE_PAID);
  ASSERT_OK_AND_ASSIGN(auto out, mediation_->RecordAgreement(kJustice, req));
  const v1::Agreement& a = out.meeting().agreement();
  ASSERT_THAT(a.instalments(), SizeIs(2));
  for (const auto& i : a.instalments()) {
    EXPECT_EQ(i.state(), v1::INSTALMENT_STATE_DUE);  // what the request said is ignored
    EXPECT_EQ(i.paid_fen(), 0);
  }

  std::vector<v1::Event> events = Events(c);
  ASSERT_GE(events.size(), 3u);
  const v1::Event& reached = events[events.size() - 3];
  ASSERT_TRUE(reached.has_agreement_reached());
  for (int n = 1; n <= 2; ++n) {
    const v1::Event& e = events[events.size() - 3 + n];
    ASSERT_TRUE(e.has_deadline_set()) << n;
    EXPECT_EQ(e.request_digest(), reached.request_digest());
    const v1::DeadlineSet& d = e.deadline_set();
    EXPECT_EQ(d.deadline_id(), absl::StrCat(m, "/i", n));
    EXPECT_EQ(d.kind(), v1::DEADLINE_KIND_INSTALMENT_PAYMENT);
    EXPECT_EQ(d.due_time(), a.instalments(n - 1).due_time());
    EXPECT_EQ(d.responsible_node(), kJustice);
    EXPECT_EQ(d.escalate_to(), kArbitration);
  }
  // The fallback node works on the case from now on.
  EXPECT_THAT(broker_->GetCase(kArbitration, c), IsOk());
}

TEST_F(MediationTest, ARetriedAgreementIsAnsweredAlikeAfterItsDueTimesPassed) {
  const std::string m = MeetingIn(Stage::kHeld);
  const v1::RecordAgreementRequest r = AgreementRequest(m);
  ASSERT_OK_AND_ASSIGN(auto first, mediation_->RecordAgreement(kJustice, r));
  const size_t after = Events(CaseOfMeeting(m)).size();
  // The answer was lost; the retry comes after both instalments fell due,
  // and after the fallback node left the directory.
  now_ += absl::Hours(24 * 41);
  directory_port_->forgotten.insert(kArbitration);
  ASSERT_OK_AND_ASSIGN(auto again, mediation_->RecordAgreement(kJustice, r));
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(Events(CaseOfMeeting(m)).size(), after);

  // Negative controls: a new agreement is still held to the clock and the
  // directory.
  const std::string other = MeetingIn(Stage::kHeld);
  v1::RecordAgreementRequest late = AgreementRequest(other);
  *late.mutable_agreement()->mutable_instalments(0)->mutable_due_time() =
      Ts(now_ - absl::Hours(1));
  absl::Status refused = mediation_->RecordAgreement(kJustice, late).status();
  EXPECT_THAT(refused, HasReason("INVALID_FIELD"));
  EXPECT_EQ(ViewError(refused).field, "agreement.instalments[0].due_time");
  EXPECT_THAT(mediation_->RecordAgreement(kJustice, AgreementRequest(other)),
              HasReason("NODE_NOT_FOUND"));
}

TEST_F(MediationTest, ARetriedPaymentIsAnsweredAlikeWhateverTheClockSaysNow) {
  const std::string m = MeetingIn(Stage::kAgreed);
  now_ += absl::Hours(24);
  v1::RecordPaymentRequest r = PaymentRequest(m, 1, 100000);
  *r.mutable_paid_time() = Ts(now_);
  ASSERT_OK_AND_ASSIGN(auto first, mediation_->RecordPayment(kJustice, r));
  // The retry reaches a replica whose clock is an hour behind: paid_time
  // is in its future, yet the payment was recorded.
  now_ -= absl::Hours(1);
  ASSERT_OK_AND_ASSIGN(auto again, mediation_->RecordPayment(kJustice, r));
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  // Negative control: a new payment at that time is refused there.
  r.set_request_id(NextRequestId());
  EXPECT_THAT(mediation_->RecordPayment(kJustice, r), HasReason("INVALID_FIELD"));
}

// ------------------------------------------------------------------ sizes

TEST_F(MediationTest, TextListsAndSlotsAreCappedAndTooMuchWritesNothing) {
  const std::string big(kMaxTextBytes + 1, 'x');
  const std::string fits(kMaxTextBytes, 'x');
  const std::string c = OpenCase(kJustice);
  const std::string held = MeetingIn(Stage::kHeld);
  const std::string agreed = MeetingIn(Stage::kAgreed);
  const std::string scheduled = NewMeeting();
  const uint64_t before = [&] {
    auto r = log_.ReadAll(v1::ReadAllRequest());
    return r.ok() ? r->last_position() : 0;
  }();

  struct Too {
    std::string field;
    std::function<absl::Status()> call;
  };
  auto convene = [&](std::function<void(v1::ConveneMeetingRequest*)> spoil) {
    return [this, c, spoil] {
      v1::ConveneMeetingRequest r = ConveneRequest(c, Slot(48));
      spoil(&r);
      return mediation_->ConveneMeeting(kJustice, r).status();
    };
  };
  auto agreement = [&](std::function<void(v1::RecordAgreementRequest*)> spoil) {
    return [this, held, spoil] {
      v1::RecordAgreementRequest r = AgreementRequest(held);
      spoil(&r);
      return mediation_->RecordAgreement(kJustice, r).status();
    };
  };
  std::vector<Too> too = {
      {"title", convene([&](auto* r) { r->set_title(big); })},
      {"agenda[1]", convene([&](auto* r) { r->set_agenda(1, big); })},
      {"agenda", convene([&](auto* r) {
         r->clear_agenda();
         for (int i = 0; i <= kMaxAgendaItems; ++i) r->add_agenda(absl::StrCat("议程", i));
       })},
      {"slot.place", convene([&](auto* r) { r->mutable_slot()->set_place(big); })},
      {"slot.end_time", convene([&](auto* r) {
         *r->mutable_slot()->mutable_end_time() =
             Ts(TimeOf(r->slot().start_time()) + kMaxMeetingLength + absl::Seconds(1));
       })},
      {"invitees", convene([&](auto* r) {
         for (int i = 0; i < kMaxInvitees; ++i) {
           *r->add_invitees() =
               PartyInvitee(v1::PARTY_ROLE_SUBCONTRACTOR, absl::StrCat("分包", i));
         }
       })},
      {"invitees[1].party.name", convene([&](auto* r) {
         r->mutable_invitees(1)->mutable_party()->set_name(big);
       })},
      {"proposed_slot.end_time",
       [&] {
         v1::AnswerInvitationRequest a;
         a.set_request_id(NextRequestId());
         a.set_meeting_id(scheduled);
         a.set_response(v1::INVITATION_RESPONSE_PROPOSED_OTHER_TIME);
         *a.mutable_proposed_slot() = Slot(72, absl::Hours(25));
         return mediation_->AnswerInvitation(kLabor, a).status();
       }},
      {"note",
       [&] {
         v1::AnswerInvitationRequest a;
         a.set_request_id(NextRequestId());
         a.set_meeting_id(scheduled);
         a.set_response(v1::INVITATION_RESPONSE_DECLINED);
         a.set_note(big);
         return mediation_->AnswerInvitation(kLabor, a).status();
       }},
      {"reason",
       [&] {
         v1::RescheduleMeetingRequest a;
         a.set_request_id(NextRequestId());
         a.set_meeting_id(scheduled);
         *a.mutable_slot() = Slot(96);
         a.set_reason(big);
         return mediation_->RescheduleMeeting(kJustice, a).status();
       }},
      {"reason",
       [&] {
         v1::CancelMeetingRequest a;
         a.set_request_id(NextRequestId());
         a.set_meeting_id(scheduled);
         a.set_reason(big);
         return mediation_->CancelMeeting(kJustice, a).status();
       }},
      {"minutes",
       [&] {
         v1::RecordMeetingHeldRequest a;
         a.set_request_id(NextRequestId());
         a.set_meeting_id(scheduled);
         a.set_minutes(big);
         return mediation_->RecordMeetingHeld(kJustice, a).status();
       }},
      {"findings[0].ground",
       [&] {
         v1::RecordLiabilityRequest a;
         a.set_request_id(NextRequestId());
         a.set_meeting_id(held);
         auto* f = a.add_findings();
         f->set_party_name(kContractor);
         f->set_ground(big);
         return mediation_->RecordLiability(kJustice, a).status();
       }},
      {"agreement.terms",
       agreement([&](auto* r) { r->mutable_agreement()->set_terms(big); })},
      {"agreement.instalments[1].payer", agreement([&](auto* r) {
         r->mutable_agreement()->mutable_instalments(1)->set_payer(big);
       })},
      {"agreement.guarantor",
       agreement([&](auto* r) { r->mutable_agreement()->set_guarantor(big); })},
      {"agreement.instalments", agreement([&](auto* r) {
         v1::Agreement* a = r->mutable_agreement();
         a->clear_instalments();
         a->set_total_fen(kMaxInstalments + 1);
         for (int n = 1; n <= kMaxInstalments + 1; ++n) {
           v1::Instalment* i = a->add_instalments();
           i->set_number(n);
           i->set_amount_fen(1);
           *i->mutable_due_time() = Ts(now_ + absl::Hours(24 * n));
           i->set_payer(kContractor);
         }
       })},
      {"reason",
       [&] {
         v1::RecordMediationFailedRequest a;
         a.set_request_id(NextRequestId());
         a.set_meeting_id(held);
         a.set_reason(big);
         return mediation_->RecordMediationFailed(kJustice, a).status();
       }},
      {"reference",
       [&] {
         v1::RecordPaymentRequest a = PaymentRequest(agreed, 1, 100);
         a.set_reference(big);
         return mediation_->RecordPayment(kJustice, a).status();
       }},
      {"paid_time",
       [&] {
         // Paid before there was an agreement to pay against.
         v1::RecordPaymentRequest a = PaymentRequest(agreed, 1, 100);
         *a.mutable_paid_time() = Ts(now_ - absl::Seconds(1));
         return mediation_->RecordPayment(kJustice, a).status();
       }},
  };
  for (const Too& t : too) {
    absl::Status s = t.call();
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << t.field;
    EXPECT_EQ(ViewError(s).field, t.field);
    EXPECT_FALSE(ViewError(s).zh_message.empty()) << t.field;
  }
  // An invitation that would take a meeting past the cap names how many
  // more fit.
  v1::InviteParticipantsRequest invite;
  invite.set_request_id(NextRequestId());
  invite.set_meeting_id(scheduled);
  for (int i = 0; i < kMaxInvitees - 1; ++i) {  // the meeting has 2
    *invite.add_invitees() =
        PartyInvitee(v1::PARTY_ROLE_SUBCONTRACTOR, absl::StrCat("分包", i));
  }
  absl::Status over = mediation_->InviteParticipants(kJustice, invite).status();
  EXPECT_THAT(over, HasReason("INVALID_FIELD"));
  EXPECT_EQ(ViewError(over).field, "invitees");
  EXPECT_THAT(std::string(over.message()), HasSubstr("at most 48 more"));
  auto after = log_.ReadAll(v1::ReadAllRequest());
  ASSERT_THAT(after, IsOk());
  EXPECT_EQ(after->last_position(), before) << "nothing written";

  // At the caps, all is well.
  v1::ConveneMeetingRequest most = ConveneRequest(c, Slot(48, kMaxMeetingLength));
  most.set_title(fits);
  most.clear_agenda();
  for (int i = 0; i < kMaxAgendaItems; ++i) most.add_agenda(fits);
  for (int i = 0; i < kMaxInvitees - 2; ++i) {
    *most.add_invitees() =
        PartyInvitee(v1::PARTY_ROLE_SUBCONTRACTOR, absl::StrCat("分包", i));
  }
  EXPECT_THAT(mediation_->ConveneMeeting(kJustice, most), IsOk());
  invite.mutable_invitees()->RemoveLast();
  EXPECT_THAT(mediation_->InviteParticipants(kJustice, invite), IsOk());
  v1::RecordPaymentRequest on_the_dot = PaymentRequest(agreed, 1, 100);
  *on_the_dot.mutable_paid_time() = Ts(now_);
  EXPECT_THAT(mediation_->RecordPayment(kJustice, on_the_dot), IsOk());
}

// ------------------------------------------------------------------ payments

TEST_F(MediationTest, APaymentInFullByTheDueTimeIsPaidAndClearsItsDeadline) {
  const std::string m = MeetingIn(Stage::kAgreed);
  const std::string c = CaseOfMeeting(m);
  now_ += absl::Hours(24 * 3);
  ASSERT_OK_AND_ASSIGN(auto part,
                       mediation_->RecordPayment(kJustice, PaymentRequest(m, 1, 200000)));
  const v1::Instalment& one = part.meeting().agreement().instalments(0);
  EXPECT_EQ(one.state(), v1::INSTALMENT_STATE_DUE);
  EXPECT_EQ(one.paid_fen(), 200000);
  EXPECT_TRUE(deadlines::DeadlineFold::Of(Events(c)).IsOpen(m + "/i1"));

  now_ += absl::Hours(24);
  ASSERT_OK_AND_ASSIGN(auto full,
                       mediation_->RecordPayment(kJustice, PaymentRequest(m, 1, 400000)));
  const v1::Instalment& paid = full.meeting().agreement().instalments(0);
  EXPECT_EQ(paid.state(), v1::INSTALMENT_STATE_PAID);
  EXPECT_EQ(paid.paid_fen(), 600000);
  EXPECT_EQ(TimeOf(paid.paid_time()), now_);  // unset = now
  auto fold = deadlines::DeadlineFold::Of(Events(c));
  EXPECT_EQ(fold.Find(m + "/i1")->state(), v1::DEADLINE_STATE_MET);
  EXPECT_TRUE(fold.IsOpen(m + "/i2"));
}

TEST_F(MediationTest, APaymentAfterTheDueTimeIsPaidLate) {
  const std::string m = MeetingIn(Stage::kAgreed);
  now_ += absl::Hours(24 * 12);  // instalment 1 was due on day 10
  v1::RecordPaymentRequest r = PaymentRequest(m, 1, 600000);
  *r.mutable_paid_time() = Ts(now_ - absl::Hours(24));
  ASSERT_OK_AND_ASSIGN(auto out, mediation_->RecordPayment(kJustice, r));
  EXPECT_EQ(out.meeting().agreement().instalments(0).state(),
            v1::INSTALMENT_STATE_PAID_LATE);
  // Paid on time but recorded late is paid.
  r = PaymentRequest(m, 2, 600000);
  *r.mutable_paid_time() = Ts(now_);
  now_ += absl::Hours(24 * 30);
  ASSERT_OK_AND_ASSIGN(auto second, mediation_->RecordPayment(kJustice, r));
  EXPECT_EQ(second.meeting().agreement().instalments(1).state(),
            v1::INSTALMENT_STATE_PAID);
}

TEST_F(MediationTest, AfterTheInstalmentDeadlineIsBreachedTheInstalmentIsMissed) {
  const std::string m = MeetingIn(Stage::kAgreed);
  const std::string c = CaseOfMeeting(m);
  Breach(c, m + "/i1");
  v1::Meeting missed = Get(m);
  EXPECT_EQ(missed.agreement().instalments(0).state(), v1::INSTALMENT_STATE_MISSED);
  EXPECT_EQ(missed.agreement().instalments(1).state(), v1::INSTALMENT_STATE_DUE);

  // Paid in full after all: late, and the breached deadline is met late.
  now_ += absl::Hours(24 * 15);
  ASSERT_OK_AND_ASSIGN(auto out,
                       mediation_->RecordPayment(kJustice, PaymentRequest(m, 1, 600000)));
  EXPECT_EQ(out.meeting().agreement().instalments(0).state(),
            v1::INSTALMENT_STATE_PAID_LATE);
  EXPECT_EQ(deadlines::DeadlineFold::Of(Events(c)).Find(m + "/i1")->state(),
            v1::DEADLINE_STATE_MET_LATE);
}

TEST_F(MediationTest, APaymentMustFitAnInstalmentAndHappenOnce) {
  const std::string m = MeetingIn(Stage::kAgreed);
  const std::string c = CaseOfMeeting(m);
  const size_t before = Events(c).size();
  EXPECT_THAT(mediation_->RecordPayment(kJustice, PaymentRequest(m, 3, 100)),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(mediation_->RecordPayment(kJustice, PaymentRequest(m, 0, 100)),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(mediation_->RecordPayment(kJustice, PaymentRequest(m, 1, 0)),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(mediation_->RecordPayment(kJustice, PaymentRequest(m, 1, 600001)),
              HasReason("INVALID_FIELD"));
  v1::RecordPaymentRequest future = PaymentRequest(m, 1, 100);
  *future.mutable_paid_time() = Ts(now_ + absl::Hours(1));
  EXPECT_THAT(mediation_->RecordPayment(kJustice, future), HasReason("INVALID_FIELD"));
  EXPECT_EQ(Events(c).size(), before);

  // A retried payment is counted once.
  v1::RecordPaymentRequest r = PaymentRequest(m, 1, 600000);
  ASSERT_THAT(mediation_->RecordPayment(kJustice, r), IsOk());
  ASSERT_OK_AND_ASSIGN(auto again, mediation_->RecordPayment(kJustice, r));
  EXPECT_EQ(again.meeting().agreement().instalments(0).paid_fen(), 600000);
  EXPECT_EQ(again.meeting().agreement().instalments(0).state(), v1::INSTALMENT_STATE_PAID);
  // A new payment against a paid instalment is refused.
  EXPECT_THAT(mediation_->RecordPayment(kJustice, PaymentRequest(m, 1, 1)),
              HasReason("MEETING_STATE_CONFLICT"));
}

// ------------------------------------------------------------------ reads

TEST_F(MediationTest, ListMeetingsByCaseOrByTheCallersOwnNodeInStartOrder) {
  const std::string a = OpenCase(kJustice);
  Convene(ConveneRequest(a, Slot(72)));
  Convene(ConveneRequest(a, Slot(24), {NodeInvitee(kUnion)}));
  const std::string b = OpenCase(kUnion);
  ASSERT_THAT(mediation_->ConveneMeeting(kUnion, ConveneRequest(b, Slot(48))), IsOk());

  v1::ListMeetingsRequest by_case;
  by_case.set_case_id(a);
  ASSERT_OK_AND_ASSIGN(auto list, mediation_->ListMeetings(kJustice, by_case));
  ASSERT_THAT(list.meetings(), SizeIs(2));
  EXPECT_EQ(list.meetings(0).meeting_id(), a + "/m2");  // 24h before 72h
  EXPECT_EQ(list.meetings(1).meeting_id(), a + "/m1");
  EXPECT_THAT(mediation_->ListMeetings(kHousing, by_case), HasReason("NOT_A_PARTY"));

  // Labour inspection: invited in a (m1) and b (m1).
  v1::ListMeetingsRequest mine;
  ASSERT_OK_AND_ASSIGN(auto labor, mediation_->ListMeetings(kLabor, mine));
  std::vector<std::string> ids;
  for (const auto& m : labor.meetings()) ids.push_back(m.meeting_id());
  EXPECT_THAT(ids, ElementsAre(b + "/m1", a + "/m1"));
  // The union convened b/m1 and is invited to a/m2.
  ASSERT_OK_AND_ASSIGN(auto union_list, mediation_->ListMeetings(kUnion, mine));
  ids.clear();
  for (const auto& m : union_list.meetings()) ids.push_back(m.meeting_id());
  EXPECT_THAT(ids, ElementsAre(a + "/m2", b + "/m1"));

  mine.set_node(kLabor);
  EXPECT_THAT(mediation_->ListMeetings(kLabor, mine), IsOk());
  EXPECT_THAT(mediation_->ListMeetings(kUnion, mine), HasReason("NOT_A_PARTY"));
}

TEST_F(MediationTest, GetMeetingSaysWhatIsMissing) {
  const std::string m = NewMeeting();
  v1::GetMeetingRequest r;
  r.set_meeting_id(CaseOfMeeting(m) + "/m9");
  EXPECT_THAT(mediation_->GetMeeting(kJustice, r), HasReason("MEETING_NOT_FOUND"));
  r.set_meeting_id("qinzhou.justice:2026-999999/m1");
  EXPECT_THAT(mediation_->GetMeeting(kJustice, r), HasReason("MEETING_NOT_FOUND"));
  r.set_meeting_id("not-a-meeting");
  EXPECT_THAT(mediation_->GetMeeting(kJustice, r), HasReason("INVALID_FIELD"));
  // Commands say the same.
  EXPECT_THAT(Run(Command::kCancel, kJustice, CaseOfMeeting(m) + "/m9"),
              HasReason("MEETING_NOT_FOUND"));
}

// ------------------------------------------------------------------ personal data

constexpr char kPhone[] = "13912345678";
constexpr char kMaskedPhone[] = "139****5678";

v1::Invitee WithContact(v1::Invitee i, const std::string& contact = kPhone) {
  i.mutable_party()->set_contact(contact);
  return i;
}


class MeetingPrivacyTest : public MediationTest {
 protected:
  // The case's audit stream; empty when nothing was recorded.
  std::vector<v1::Event> Audit(const std::string& case_id) {
    auto events = log_.ReadCase("audit:" + case_id);
    return events.ok() ? *events : std::vector<v1::Event>();
  }

  // A meeting of `case_id` convened by `convener`, inviting labour
  // inspection and the contractor, who gave a telephone number.
  absl::StatusOr<v1::ConveneMeetingResponse> ConveneWithContact(
      const std::string& case_id, const std::string& convener = kJustice,
      const std::string& request_id = "") {
    v1::ConveneMeetingRequest r = ConveneRequest(
        case_id, Slot(48),
        {NodeInvitee(convener == kLabor ? kUnion : kLabor),
         WithContact(PartyInvitee(v1::PARTY_ROLE_GENERAL_CONTRACTOR, kContractor))});
    if (!request_id.empty()) r.set_request_id(request_id);
    return mediation_->ConveneMeeting(convener, r);
  }
};

TEST_F(MeetingPrivacyTest, TheOwnerReadsAnInviteesContactInClearAndTheReadIsRecorded) {
  const std::string c = OpenCase(kJustice);
  ASSERT_OK_AND_ASSIGN(v1::ConveneMeetingResponse convened, ConveneWithContact(c));
  EXPECT_EQ(convened.meeting().invitees(1).party().contact(), kPhone);
  EXPECT_EQ(Get(convened.meeting().meeting_id(), kJustice).invitees(1).party().contact(),
            kPhone);

  // Recorded as the broker records GetCase: in the case's audit stream,
  // never in the case stream, one event per answer that showed it.
  std::vector<v1::Event> audit = Audit(c);
  ASSERT_EQ(audit.size(), 2u);
  EXPECT_THAT(ClearReads(c), ElementsAre("qinzhou.justice ConveneMeeting ACCESS_ROLE_OWNER",
                                    "qinzhou.justice GetMeeting ACCESS_ROLE_OWNER"));
  for (const v1::Event& e : audit) {
    const v1::PersonalDataAccessed& a = e.personal_data_accessed();
    EXPECT_EQ(a.case_id(), c);
    EXPECT_THAT(a.fields(), ElementsAre("contact"));
    EXPECT_TRUE(a.purpose().empty());
    EXPECT_EQ(e.source(), kJustice);
    EXPECT_THAT(e.involved_nodes(), ElementsAre(kJustice));
    EXPECT_EQ(e.actor().role(), "owner");
    EXPECT_EQ(e.correlation_id(), c);
    EXPECT_TRUE(absl::StartsWith(e.event_id(), "audit.")) << e.event_id();
    EXPECT_EQ(TimeOf(e.time()), now_);
  }
  for (const v1::Event& e : Events(c)) EXPECT_FALSE(e.has_personal_data_accessed());
}

TEST_F(MeetingPrivacyTest, AnInvitedNodeReadsItMaskedAndNothingIsRecorded) {
  const std::string c = OpenCase(kJustice);
  ASSERT_OK_AND_ASSIGN(v1::ConveneMeetingResponse convened, ConveneWithContact(c));
  const std::string m = convened.meeting().meeting_id();
  const size_t recorded = Audit(c).size();

  const v1::Meeting seen = Get(m, kLabor);
  EXPECT_EQ(seen.invitees(1).party().contact(), kMaskedPhone);
  EXPECT_EQ(seen.invitees(1).party().name(), kContractor);  // names stay
  EXPECT_EQ(Audit(c).size(), recorded);
  // Negative control: the same read by the owner shows the number, so the
  // masked one is masking, not missing data.
  EXPECT_EQ(Get(m, kJustice).invitees(1).party().contact(), kPhone);
  EXPECT_EQ(Audit(c).size(), recorded + 1);
  // An address is hidden whole.
  v1::InviteParticipantsRequest invite;
  invite.set_request_id(NextRequestId());
  invite.set_meeting_id(m);
  *invite.add_invitees() =
      WithContact(PartyInvitee(v1::PARTY_ROLE_WORKER_REPRESENTATIVE, "工人代表"),
                  "秦州区玉泉镇东关村 5 号");
  ASSERT_THAT(mediation_->InviteParticipants(kJustice, invite), IsOk());
  EXPECT_EQ(Get(m, kLabor).invitees(2).party().contact(), "***");
}

TEST_F(MeetingPrivacyTest, AnAddresseeSeesItInClearOnlyWhileWorkingTheCase) {
  const std::string c = OpenCase(kJustice);
  ASSERT_OK_AND_ASSIGN(v1::ConveneMeetingResponse convened, ConveneWithContact(c));
  const std::string m = convened.meeting().meeting_id();
  const std::string r = Send(c, kUnion);
  EXPECT_EQ(Get(m, kUnion).invitees(1).party().contact(), kMaskedPhone);
  ASSERT_THAT(Take(broker::Action::kAccept, kUnion, r), IsOk());
  EXPECT_EQ(Get(m, kUnion).invitees(1).party().contact(), kPhone);
  ASSERT_THAT(Take(broker::Action::kStart, kUnion, r), IsOk());
  ASSERT_THAT(Take(broker::Action::kComplete, kUnion, r), IsOk());
  EXPECT_EQ(Get(m, kUnion).invitees(1).party().contact(), kMaskedPhone);
  EXPECT_THAT(ClearReads(c), ElementsAre("qinzhou.justice ConveneMeeting ACCESS_ROLE_OWNER",
                                    "qinzhou.union GetMeeting ACCESS_ROLE_WORKING_ADDRESSEE"));
}

TEST_F(MeetingPrivacyTest, ListsAreMaskedEvenForTheOwnerAndNotRecorded) {
  const std::string c = OpenCase(kJustice);
  ASSERT_THAT(ConveneWithContact(c), IsOk());
  const size_t recorded = Audit(c).size();
  v1::ListMeetingsRequest by_case;
  by_case.set_case_id(c);
  ASSERT_OK_AND_ASSIGN(v1::ListMeetingsResponse listed,
                       mediation_->ListMeetings(kJustice, by_case));
  ASSERT_THAT(listed.meetings(), SizeIs(1));
  EXPECT_EQ(listed.meetings(0).invitees(1).party().contact(), kMaskedPhone);
  ASSERT_OK_AND_ASSIGN(v1::ListMeetingsResponse mine,
                       mediation_->ListMeetings(kJustice, v1::ListMeetingsRequest()));
  ASSERT_THAT(mine.meetings(), SizeIs(1));
  EXPECT_EQ(mine.meetings(0).invitees(1).party().contact(), kMaskedPhone);
  EXPECT_EQ(Audit(c).size(), recorded);
}

TEST_F(MeetingPrivacyTest, ACommandAnswersItsWriterInClearOnlyWhenItsRowIsClear) {
  const std::string c = OpenCase(kJustice);
  const std::string r = Send(c, kLabor);
  // Labour inspection has not accepted: it convenes, and what it wrote
  // comes back masked, unrecorded.
  ASSERT_OK_AND_ASSIGN(v1::ConveneMeetingResponse convened,
                       ConveneWithContact(c, kLabor, "labor-convene"));
  EXPECT_EQ(convened.meeting().invitees(1).party().contact(), kMaskedPhone);
  v1::InviteParticipantsRequest invite;
  invite.set_request_id(NextRequestId());
  invite.set_meeting_id(convened.meeting().meeting_id());
  *invite.add_invitees() =
      WithContact(PartyInvitee(v1::PARTY_ROLE_WORKER_REPRESENTATIVE, "工人代表"));
  ASSERT_OK_AND_ASSIGN(v1::InviteParticipantsResponse invited,
                       mediation_->InviteParticipants(kLabor, invite));
  EXPECT_EQ(invited.meeting().invitees(2).party().contact(), kMaskedPhone);
  EXPECT_THAT(Audit(c), IsEmpty());
  // Negative control: the log has the number as written.
  EXPECT_EQ(Get(convened.meeting().meeting_id(), kJustice).invitees(1).party().contact(),
            kPhone);

  // Once working the case, the same retried command answers in clear (the
  // row is the case's as it stands) and the read is recorded; nothing is
  // convened twice.
  ASSERT_THAT(Take(broker::Action::kAccept, kLabor, r), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::ConveneMeetingResponse again,
                       ConveneWithContact(c, kLabor, "labor-convene"));
  EXPECT_EQ(again.meeting().meeting_id(), convened.meeting().meeting_id());
  EXPECT_EQ(again.meeting().invitees(1).party().contact(), kPhone);
  EXPECT_THAT(ClearReads(c),
              ElementsAre("qinzhou.justice GetMeeting ACCESS_ROLE_OWNER",
                          "qinzhou.labor-inspection ConveneMeeting "
                          "ACCESS_ROLE_WORKING_ADDRESSEE"));
  v1::ListMeetingsRequest by_case;
  by_case.set_case_id(c);
  EXPECT_THAT(mediation_->ListMeetings(kJustice, by_case)->meetings(), SizeIs(1));
}

TEST_F(MeetingPrivacyTest, AClearReadThatCannotBeRecordedIsRefused) {
  const std::string c = OpenCase(kJustice);
  ASSERT_OK_AND_ASSIGN(v1::ConveneMeetingResponse convened, ConveneWithContact(c));
  const std::string plain = NewMeeting();  // no personal data
  broker::NoAuditLog no_audit(&log_);
  MediationOptions o;
  o.clock = [this] { return now_; };
  Mediation refusing(&no_audit, directory_port_.get(), &calendar_, o);
  v1::GetMeetingRequest get;
  get.set_meeting_id(convened.meeting().meeting_id());
  EXPECT_THAT(refusing.GetMeeting(kJustice, get), StatusIs(absl::StatusCode::kUnavailable));
  // Negative control: what needs no record is still served.
  ASSERT_OK_AND_ASSIGN(v1::GetMeetingResponse masked, refusing.GetMeeting(kLabor, get));
  EXPECT_EQ(masked.meeting().invitees(1).party().contact(), kMaskedPhone);
  get.set_meeting_id(plain);
  EXPECT_THAT(refusing.GetMeeting(kJustice, get), IsOk());
}

TEST_F(MeetingPrivacyTest, AnInvitationReachesTheInboxesMasked) {
  const std::string c = OpenCase(kJustice);
  ASSERT_OK_AND_ASSIGN(v1::ConveneMeetingResponse convened, ConveneWithContact(c));
  // Inviting a worker with a telephone number: labour inspection, already
  // invited, hears of it in its inbox.
  v1::InviteParticipantsRequest invite;
  invite.set_request_id(NextRequestId());
  invite.set_meeting_id(convened.meeting().meeting_id());
  *invite.add_invitees() = WithContact(PartyInvitee(v1::PARTY_ROLE_WORKER, "张三"));
  ASSERT_THAT(mediation_->InviteParticipants(kJustice, invite), IsOk());
  const size_t recorded = Audit(c).size();

  v1::ReadAllRequest feed;
  *feed.mutable_filter() = broker::Broker::InboxFilter(kLabor);
  ASSERT_OK_AND_ASSIGN(v1::ReadAllResponse page, log_.ReadAll(feed));
  int invitations = 0;
  for (const v1::Event& e : page.events()) {
    if (!e.has_meeting_participant_invited() ||
        !e.meeting_participant_invited().invitee().has_party()) {
      continue;
    }
    ++invitations;
    // The log keeps the number; the inbox item shows it masked.
    EXPECT_EQ(e.meeting_participant_invited().invitee().party().contact(), kPhone);
    ASSERT_OK_AND_ASSIGN(std::optional<v1::InboxItem> item, broker_->InboxItemOf(e));
    ASSERT_TRUE(item.has_value());
    EXPECT_EQ(item->event().meeting_participant_invited().invitee().party().contact(),
              kMaskedPhone);
  }
  EXPECT_EQ(invitations, 1);
  EXPECT_EQ(Audit(c).size(), recorded);
}

// ------------------------------------------------------------------ the fold

TEST(MeetingProjection, IdsParseBackToTheirCase) {
  EXPECT_EQ(CaseOfMeeting("qinzhou.justice:2026-000001/m3"), "qinzhou.justice:2026-000001");
  EXPECT_EQ(CaseOfMeeting("qinzhou.justice:2026-000001/m0"), "");
  EXPECT_EQ(CaseOfMeeting("qinzhou.justice:2026-000001/m03"), "");
  EXPECT_EQ(CaseOfMeeting("qinzhou.justice:2026-000001"), "");
  EXPECT_EQ(InstalmentDeadlineId("c/m1", 2), "c/m1/i2");
  EXPECT_EQ(ReminderDeadlineId("c/m1", 0), "c/m1/remind");
  EXPECT_EQ(ReminderDeadlineId("c/m1", 2), "c/m1/remind2");
}

TEST(MeetingProjection, ABreachOfAPaidInstalmentChangesNothing) {
  auto event = [](auto fill) {
    v1::Event e;
    e.set_subject("c");
    e.set_source(kJustice);
    fill(&e);
    return e;
  };
  std::vector<v1::Event> events = {
      event([](v1::Event* e) {
        e->mutable_meeting_convened()->set_meeting_id("c/m1");
        e->mutable_meeting_convened()->set_kind(v1::MEETING_KIND_MEDIATION);
      }),
      event([](v1::Event* e) { e->mutable_meeting_held()->set_meeting_id("c/m1"); }),
      event([](v1::Event* e) {
        auto* a = e->mutable_agreement_reached();
        a->set_meeting_id("c/m1");
        auto* i = a->mutable_agreement()->add_instalments();
        i->set_number(1);
        i->set_amount_fen(100);
        i->mutable_due_time()->set_seconds(1000);
      }),
      event([](v1::Event* e) {
        auto* p = e->mutable_instalment_payment_recorded();
        p->set_meeting_id("c/m1");
        p->set_instalment(1);
        p->set_amount_fen(100);
        p->mutable_paid_time()->set_seconds(999);
      }),
      event([](v1::Event* e) { e->mutable_deadline_breached()->set_deadline_id("c/m1/i1"); }),
      // A breach of another meeting's instalment is not this one's.
      event([](v1::Event* e) { e->mutable_deadline_breached()->set_deadline_id("c/m2/i1"); }),
  };
  MeetingProjection p = MeetingProjection::Fold(events);
  ASSERT_NE(p.Find("c/m1"), nullptr);
  EXPECT_EQ(p.Find("c/m1")->stage, Stage::kAgreed);
  EXPECT_EQ(p.Find("c/m1")->meeting.agreement().instalments(0).state(),
            v1::INSTALMENT_STATE_PAID);
  EXPECT_EQ(p.Find("c/m2"), nullptr);
}

// Every value of the enum but 0 has exactly one label.
template <typename Enum>
void ExpectLabels(absl::Span<const Term<Enum>> table,
                  const google::protobuf::EnumDescriptor* d) {
  EXPECT_EQ(table.size(), static_cast<size_t>(d->value_count() - 1)) << d->name();
  for (int i = 1; i < d->value_count(); ++i) {
    const Term<Enum>* t = FindTerm(table, static_cast<Enum>(d->value(i)->number()));
    ASSERT_NE(t, nullptr) << d->value(i)->name();
    EXPECT_EQ(FindTerm(table, t->key), t);
    EXPECT_FALSE(t->zh.empty());
  }
}

TEST(MeetingVocabulary, EveryMeetingEnumHasLabels) {
  ExpectLabels(MeetingKinds(), v1::MeetingKind_descriptor());
  ExpectLabels(MeetingStates(), v1::MeetingState_descriptor());
  ExpectLabels(InvitationResponses(), v1::InvitationResponse_descriptor());
  ExpectLabels(InstalmentStates(), v1::InstalmentState_descriptor());
}

}  // namespace
}  // namespace referral::mediation
