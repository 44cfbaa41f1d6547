// Who sees personal data: the masks, the ID number check and every row of
// the privacy table, through the broker over a real store.

#include "services/referral/privacy.h"

#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/referral/privacy_fixture.h"
#include "services/referral/state_machine.h"

namespace referral::broker {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// ------------------------------------------------------------------ masks

TEST(PrivacyMask, IdNumbersKeepTheFirstThreeAndTheLastTwo) {
  EXPECT_EQ(MaskIdNumber(kWorkerId), "620*************10");
  EXPECT_EQ(MaskIdNumber(kIdWithX), "110*************2X");
  EXPECT_EQ(MaskIdNumber("12345"), "*****");  // too short to keep anything
}

TEST(PrivacyMask, PhonesKeepThreeAndFourDigitsAndAddressesAreHiddenWhole) {
  EXPECT_EQ(MaskContact(kWorkerPhone), "139****5678");
  EXPECT_EQ(MaskContact("+86 139-1234-5678"), "+86 1**-****-5678");
  EXPECT_EQ(MaskContact("0938-8213456"), "093*-***3456");
  EXPECT_EQ(MaskContact("秦州区玉泉镇东关村 5 号"), "***");
  EXPECT_EQ(MaskContact("zhang@example.com"), "***");
  EXPECT_EQ(MaskContact(""), "");
}

TEST(PrivacyMask, EveryPartyAnywhereInAMessageIsMasked) {
  // A case opening and a legal-aid application both carry parties.
  v1::TraceCaseResponse trace;
  v1::Party* worker = trace.add_events()->mutable_case_opened()->add_parties();
  worker->set_name("张三");
  worker->set_contact(kWorkerPhone);
  worker->set_id_number(kWorkerId);
  v1::Party* applicant =
      trace.add_events()->mutable_legal_aid_applied()->mutable_application()->mutable_applicant();
  applicant->set_name("张三");
  applicant->set_contact("秦州区玉泉镇");
  EXPECT_THAT(PersonalDataFields(trace), ElementsAre("contact", "id_number"));

  MaskPersonalData(&trace);
  const v1::Party& w = trace.events(0).case_opened().parties(0);
  EXPECT_EQ(w.name(), "张三");  // names stay: they are how people find a case
  EXPECT_EQ(w.contact(), "139****5678");
  EXPECT_EQ(w.id_number(), "620*************10");
  EXPECT_EQ(trace.events(1).legal_aid_applied().application().applicant().contact(), "***");
  EXPECT_THAT(trace.DebugString(), ::testing::Not(::testing::HasSubstr(kWorkerId)));

  v1::Case nothing;
  nothing.mutable_opened()->add_parties()->set_name("23 workers");
  EXPECT_THAT(PersonalDataFields(nothing), IsEmpty());
}

TEST(PrivacyMask, TheSightTableHasOneRowPerReaderAndEveryClearRowIsRecordedAsARole) {
  std::set<Reader> seen;
  for (const SightRule& r : SightTable()) {
    EXPECT_TRUE(seen.insert(r.reader).second) << r.who;
    EXPECT_EQ(&SightOf(r.reader), &r);
    // A clear read is recorded as a role; a masked one is not recorded.
    EXPECT_EQ(r.clear, r.role != v1::ACCESS_ROLE_UNSPECIFIED) << r.who;
  }
  EXPECT_EQ(seen.size(), 4u);
  EXPECT_FALSE(SightOf(Reader::kOtherParty).clear);
  // Working states are the ones an addressee acts in, none of them terminal.
  EXPECT_THAT(WorkingStates(),
              ElementsAre(v1::REFERRAL_STATE_ACCEPTED, v1::REFERRAL_STATE_IN_PROGRESS,
                          v1::REFERRAL_STATE_ON_HOLD));
}

// ------------------------------------------------------------------ ID numbers

TEST(PrivacyIdNumber, AcceptsValidNumbersAndALowerCaseX) {
  EXPECT_THAT(ValidateIdNumber(kWorkerId, "id"), IsOk());
  EXPECT_THAT(ValidateIdNumber(kOtherWorkerId, "id"), IsOk());
  EXPECT_THAT(ValidateIdNumber(kIdWithX, "id"), IsOk());
  EXPECT_THAT(ValidateIdNumber("11010519491231002x", "id"), IsOk());
  EXPECT_EQ(NormalizeIdNumber(" 11010519491231002x "), kIdWithX);
}

TEST(PrivacyIdNumber, RefusesEachMistakeSayingHowToFixItWithoutRepeatingTheNumber) {
  struct Bad {
    const char* number;
    const char* says;
  };
  for (const Bad& b : {
           Bad{"62050219900307161", "18 characters"},      // one digit short
           Bad{"620502199003071", "Old 15-digit numbers"},  // a 15-digit number
           Bad{"6205021990O3071610", "character 11"},       // letter O for zero
           Bad{"62050219900307161A", "check digit: a digit or X"},
           Bad{"620502199013071616", "birth date"},         // month 13
           Bad{"620502199002301617", "birth date"},         // 30 February
           Bad{kBadCheckDigit, "does not match the first 17 digits"},
       }) {
    absl::Status s = ValidateIdNumber(b.number, "parties[1].id_number");
    EXPECT_THAT(s, HasReason("INVALID_FIELD")) << b.number;
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr(b.says)) << b.number;
    EXPECT_THAT(std::string(s.message()), ::testing::HasSubstr("parties[1].id_number"));
    EXPECT_FALSE(absl::StrContains(s.message(), std::string(b.number).substr(0, 14)))
        << "the message repeats the number: " << s.message();
    EXPECT_EQ(ViewError(s).field, "parties[1].id_number");
    EXPECT_FALSE(ViewError(s).zh_message.empty());
  }
}

// ------------------------------------------------------------------ the table, read by read

class PrivacyTest : public PrivacyBrokerTest {
 protected:
  void ExpectClear(const v1::Party& p) {
    EXPECT_EQ(p.id_number(), kWorkerId);
    EXPECT_EQ(p.contact(), kWorkerPhone);
  }
  void ExpectMasked(const v1::Party& p) {
    EXPECT_EQ(p.id_number(), "620*************10");
    EXPECT_EQ(p.contact(), "139****5678");
  }
};

TEST_F(PrivacyTest, TheOwnerSeesPersonalDataInClear) {
  std::string case_id = OpenWorkerCase();
  ExpectClear(WorkerAs(kJustice, case_id));
}

TEST_F(PrivacyTest, AnAddresseeSeesItInClearOnlyWhileWorkingTheCase) {
  std::string case_id = OpenWorkerCase();
  std::string id = Send(case_id, kLabor);
  // Deciding whether to take the case does not need the worker's number.
  ExpectMasked(WorkerAs(kLabor, case_id));
  ASSERT_THAT(Take(Action::kReceive, kLabor, id), IsOk());
  ExpectMasked(WorkerAs(kLabor, case_id));
  ASSERT_THAT(Take(Action::kAccept, kLabor, id), IsOk());
  ExpectClear(WorkerAs(kLabor, case_id));
  ASSERT_THAT(Take(Action::kStart, kLabor, id), IsOk());
  ExpectClear(WorkerAs(kLabor, case_id));
  ASSERT_THAT(Take(Action::kHold, kLabor, id), IsOk());
  ExpectClear(WorkerAs(kLabor, case_id));
  ASSERT_THAT(Take(Action::kResume, kLabor, id), IsOk());
  ASSERT_THAT(Take(Action::kComplete, kLabor, id), IsOk());
  // Done: the need ended with the work.
  ExpectMasked(WorkerAs(kLabor, case_id));
}

TEST_F(PrivacyTest, APartyThatOnlySentOrFinishedSeesItMasked) {
  std::string case_id = OpenWorkerCase();
  std::string first = Send(case_id, kLabor);
  ASSERT_THAT(Take(Action::kAccept, kLabor, first), IsOk());
  // Labour inspection refers onward to arbitration, then finishes its own.
  std::string onward = Send(case_id, kArbitration, kLabor);
  ExpectClear(WorkerAs(kLabor, case_id));  // still working r1
  ASSERT_THAT(Take(Action::kStart, kLabor, first), IsOk());
  ASSERT_THAT(Take(Action::kComplete, kLabor, first), IsOk());
  ExpectMasked(WorkerAs(kLabor, case_id));  // only a sender now
  // An addressee that declined never needed it.
  ASSERT_THAT(Take(Action::kReject, kArbitration, onward), IsOk());
  ExpectMasked(WorkerAs(kArbitration, case_id));
  ExpectClear(WorkerAs(kJustice, case_id));  // the owner, all along
}

TEST_F(PrivacyTest, AnInvitedMeetingNodeIsAPartyAndSeesItMasked) {
  std::string case_id = OpenWorkerCase();
  // What the mediation service appends when it invites the union.
  v1::AppendRequest invite;
  invite.set_case_id(case_id);
  v1::Event* e = invite.add_events();
  e->set_event_id("test.invite.union");
  e->set_source(kJustice);
  e->add_involved_nodes(kUnion);
  e->mutable_meeting_participant_invited()->set_meeting_id(case_id + "/m1");
  ASSERT_THAT(log_.Append(invite), IsOk());

  ExpectMasked(WorkerAs(kUnion, case_id));
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> trace, broker_->TraceCase(kUnion, case_id));
  ASSERT_TRUE(trace.front().has_case_opened());
  EXPECT_EQ(trace.front().case_opened().parties(1).id_number(), "620*************10");
  EXPECT_THAT(Audit(case_id), IsEmpty());  // masked reads are not recorded
  // Negative control: a node not invited is still refused.
  EXPECT_THAT(broker_->GetCase(kArbitration, case_id), HasReason("NOT_A_PARTY"));
}

TEST_F(PrivacyTest, ATraceShowsWhatGetCaseShows) {
  std::string case_id = OpenWorkerCase();
  Send(case_id, kLabor);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> owner, broker_->TraceCase(kJustice, case_id));
  EXPECT_EQ(owner.front().case_opened().parties(1).id_number(), kWorkerId);
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Event> labor, broker_->TraceCase(kLabor, case_id));
  EXPECT_EQ(labor.front().case_opened().parties(1).id_number(), "620*************10");
  EXPECT_EQ(labor.front().case_opened().parties(1).contact(), "139****5678");
  // Masking changes what is shown, not the record: the log keeps it as given.
  EXPECT_EQ(log_.ReadCase(case_id)->front().case_opened().parties(1).id_number(), kWorkerId);
}

TEST_F(PrivacyTest, ListsAreMaskedEvenForTheOwner) {
  std::string case_id = OpenWorkerCase();
  ASSERT_OK_AND_ASSIGN(std::vector<v1::Case> listed, broker_->ListCases(kJustice, 0));
  ASSERT_EQ(listed.size(), 1u);
  ExpectMasked(listed[0].opened().parties(1));
  v1::SearchCasesRequest all;
  ASSERT_OK_AND_ASSIGN(v1::SearchCasesResponse found, broker_->SearchCases(kJustice, all));
  ASSERT_EQ(found.cases_size(), 1);
  ExpectMasked(found.cases(0).opened().parties(1));
  EXPECT_THAT(Audit(case_id), IsEmpty());
}

TEST_F(PrivacyTest, InboxItemsAreMaskedForEveryNodeAndNotRecorded) {
  std::string case_id = OpenWorkerCase();
  // What the mediation service appends when it invites the worker to a
  // meeting the union is invited to: the union and the convener hear of it.
  v1::AppendRequest invite;
  invite.set_case_id(case_id);
  v1::Event* e = invite.add_events();
  e->set_event_id("test.invite.worker");
  e->set_source(kJustice);
  e->add_involved_nodes(kUnion);
  v1::MeetingParticipantInvited* invited = e->mutable_meeting_participant_invited();
  invited->set_meeting_id(case_id + "/m1");
  v1::Party* worker = invited->mutable_invitee()->mutable_party();
  worker->set_role(v1::PARTY_ROLE_WORKER);
  worker->set_name("张三");
  worker->set_contact(kWorkerPhone);
  worker->set_id_number(kWorkerId);
  ASSERT_THAT(log_.Append(invite), IsOk());

  // The owner too: an inbox is a list.
  for (const char* node : {kUnion, kJustice}) {
    v1::ReadAllRequest feed;
    *feed.mutable_filter() = Broker::InboxFilter(node);
    ASSERT_OK_AND_ASSIGN(v1::ReadAllResponse page, log_.ReadAll(feed));
    int items = 0;
    for (const v1::Event& event : page.events()) {
      if (!event.has_meeting_participant_invited()) continue;
      ++items;
      // The feed carries the record as given ...
      ExpectClear(event.meeting_participant_invited().invitee().party());
      // ... the inbox item shows it masked.
      ASSERT_OK_AND_ASSIGN(std::optional<v1::InboxItem> item, broker_->InboxItemOf(event));
      ASSERT_TRUE(item.has_value());
      ExpectMasked(item->event().meeting_participant_invited().invitee().party());
      EXPECT_EQ(item->event().meeting_participant_invited().invitee().party().name(), "张三");
    }
    EXPECT_EQ(items, 1) << node;
  }
  EXPECT_THAT(Audit(case_id), IsEmpty());  // items are not reads of the case
  // Negative control: the owner opening the case sees the worker in clear.
  ExpectClear(WorkerAs(kJustice, case_id));
}

TEST_F(PrivacyTest, OpenCaseKeepsTheIdNumberAsGivenAndRefusesABadOneWritingNothing) {
  ASSERT_OK_AND_ASSIGN(
      v1::Case c, broker_->OpenCase(kJustice, WorkerCaseRequest("王五", "11010519491231002x")));
  EXPECT_EQ(c.opened().parties(1).id_number(), "11010519491231002x");

  v1::ReadAllRequest everything;
  everything.set_page_size(1000);
  ASSERT_OK_AND_ASSIGN(v1::ReadAllResponse before, log_.ReadAll(everything));
  absl::Status refused =
      broker_->OpenCase(kJustice, WorkerCaseRequest("张三", kBadCheckDigit)).status();
  EXPECT_THAT(refused, HasReason("INVALID_FIELD"));
  EXPECT_EQ(ViewError(refused).field, "parties[1].id_number");
  EXPECT_THAT(std::string(refused.message()), ::testing::HasSubstr("check digit"));
  // Nothing written: not the case, not even a case number.
  ASSERT_OK_AND_ASSIGN(v1::ReadAllResponse after, log_.ReadAll(everything));
  EXPECT_EQ(after.events_size(), before.events_size());
  EXPECT_EQ(after.last_position(), before.last_position());
}

}  // namespace
}  // namespace referral::broker
