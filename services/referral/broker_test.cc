// The broker's rules, over a real event store and the default directory.

#include "services/referral/broker.h"

#include <functional>
#include <map>
#include <thread>

#include "common/timestamps.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "services/deadlines/deadlines.h"
#include "services/referral/broker_fixture.h"
#include "services/referral/policy.h"

namespace referral::broker {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::referral::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;

TEST_F(BrokerTest, CaseIdsAreReadableSequentialAndNameTheOwningNode) {
  std::string first = OpenCase(kJustice);
  std::string second = OpenCase(kJustice);
  std::string labor = OpenCase(kLabor);
  EXPECT_THAT(first, MatchesRegex("qinzhou\\.justice:20[0-9][0-9]-000001"));
  EXPECT_THAT(second, MatchesRegex("qinzhou\\.justice:20[0-9][0-9]-000002"));
  EXPECT_THAT(labor, MatchesRegex("qinzhou\\.labor-inspection:20[0-9][0-9]-000001"));
  auto c = broker_->GetCase(kJustice, first);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->opened().owning_node(), kJustice);
  EXPECT_EQ(c->opened().parties(0).head_count(), 23);
  EXPECT_TRUE(c->opened().green_channel());
}

TEST_F(BrokerTest, OpenCaseRetryReturnsTheSameCaseAlsoAfterARestart) {
  v1::OpenCaseRequest req = CaseRequest();
  ASSERT_OK_AND_ASSIGN(v1::Case first, broker_->OpenCase(kJustice, req));
  ASSERT_OK_AND_ASSIGN(v1::Case again, broker_->OpenCase(kJustice, req));
  EXPECT_EQ(again.case_id(), first.case_id());
  OpenStore();
  ASSERT_OK_AND_ASSIGN(v1::Case after_restart, broker_->OpenCase(kJustice, req));
  EXPECT_EQ(after_restart.case_id(), first.case_id());
  // Nothing was opened twice: the next case gets the next number.
  std::string next = OpenCase(kJustice);
  EXPECT_THAT(next, HasSubstr("-000002"));

  req.set_title("another title");
  EXPECT_THAT(broker_->OpenCase(kJustice, req), HasReason("REQUEST_ID_REUSED"));
}

TEST_F(BrokerTest, OpenCaseRefusesIncompleteRequestsAndUnknownNodes) {
  v1::OpenCaseRequest r = CaseRequest();
  r.clear_matter();
  EXPECT_THAT(broker_->OpenCase(kJustice, r), HasReason("INVALID_FIELD"));
  r = CaseRequest();
  r.mutable_parties(0)->set_head_count(0);
  EXPECT_THAT(broker_->OpenCase(kJustice, r), HasReason("INVALID_FIELD"));
  r = CaseRequest();
  r.set_request_id("has spaces");
  EXPECT_THAT(broker_->OpenCase(kJustice, r), HasReason("INVALID_FIELD"));
  EXPECT_THAT(broker_->OpenCase("qinzhou.nobody", CaseRequest()),
              HasReason("NODE_NOT_FOUND"));
}

TEST_F(BrokerTest, ClosedLoopTheSenderSeesReceiptAcceptanceAndOutcome) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_THAT(Take(Action::kReceive, kLabor, id), IsOk());
  ASSERT_THAT(Take(Action::kAccept, kLabor, id), IsOk());
  ASSERT_THAT(Take(Action::kStart, kLabor, id), IsOk());
  v1::CompleteReferralRequest done;
  done.set_request_id(NextRequestId());
  done.set_referral_id(id);
  done.set_outcome(v1::OUTCOME_WAGES_RECOVERED);
  done.set_amount_recovered_fen(46000000);
  ASSERT_THAT(broker_->Complete(kLabor, done), IsOk());

  ASSERT_OK_AND_ASSIGN(v1::Referral seen, broker_->GetReferral(kJustice, id));
  EXPECT_EQ(seen.state(), v1::REFERRAL_STATE_COMPLETED);
  EXPECT_EQ(seen.outcome(), v1::OUTCOME_WAGES_RECOVERED);
  EXPECT_EQ(seen.amount_recovered_fen(), 46000000);
  EXPECT_EQ(seen.priority(), v1::PRIORITY_GREEN_CHANNEL);  // from the case

  // The sender's inbox feed holds every step, each naming the state it left.
  v1::ReadAllRequest feed;
  *feed.mutable_filter() = Broker::InboxFilter(kJustice);
  ASSERT_OK_AND_ASSIGN(v1::ReadAllResponse page, log_.ReadAll(feed));
  std::vector<v1::ReferralState> states;
  for (const auto& e : page.events()) {
    ASSERT_OK_AND_ASSIGN(auto item, broker_->InboxItemOf(e));
    if (item) states.push_back(item->state());
  }
  EXPECT_EQ(states, (std::vector<v1::ReferralState>{
                        v1::REFERRAL_STATE_REQUESTED, v1::REFERRAL_STATE_RECEIVED,
                        v1::REFERRAL_STATE_ACCEPTED, v1::REFERRAL_STATE_IN_PROGRESS,
                        v1::REFERRAL_STATE_COMPLETED}));
}

TEST_F(BrokerTest, SendChecksTheAddresseeThePurposeAndThatTheSenderIsAParty) {
  std::string case_id = OpenCase();
  v1::SendReferralRequest r = SendRequest(case_id, "qinzhou.nobody");
  EXPECT_THAT(broker_->SendReferral(kJustice, r), HasReason("NODE_NOT_FOUND"));
  r = SendRequest(case_id, kJustice);
  EXPECT_THAT(broker_->SendReferral(kJustice, r), HasReason("INVALID_FIELD"));
  r = SendRequest(case_id);
  r.clear_purpose();
  EXPECT_THAT(broker_->SendReferral(kJustice, r), HasReason("INVALID_FIELD"));
  r = SendRequest(case_id);
  r.add_attachments()->set_name("IOU");  // no digest
  EXPECT_THAT(broker_->SendReferral(kJustice, r), HasReason("INVALID_FIELD"));
  EXPECT_THAT(broker_->SendReferral(kOutsider, SendRequest(case_id)),
              HasReason("NOT_A_PARTY"));
  EXPECT_THAT(broker_->SendReferral(kJustice, SendRequest("qinzhou.justice:2026-999999")),
              HasReason("CASE_NOT_FOUND"));
}

TEST_F(BrokerTest, AnAddresseeMayReferOnwardAndBecomesASender) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_THAT(Take(Action::kAccept, kLabor, id), IsOk());
  // Labour inspection is a party now and refers to the union itself.
  std::string onward = Send(case_id, kUnion, kLabor);
  ASSERT_OK_AND_ASSIGN(v1::Referral r, broker_->GetReferral(kUnion, onward));
  EXPECT_EQ(r.from_node(), kLabor);
}

TEST_F(BrokerTest, RedirectClosesTheParentAndRequestsALinkedChild) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  v1::RedirectReferralRequest req;
  req.set_request_id(NextRequestId());
  req.set_referral_id(id);
  req.set_to_node(kArbitration);
  req.set_reason("a labour contract dispute belongs to arbitration");
  ASSERT_OK_AND_ASSIGN(StepResult s, broker_->Redirect(kLabor, req));
  EXPECT_EQ(s.referral.state(), v1::REFERRAL_STATE_REDIRECTED);
  ASSERT_TRUE(s.child.has_value());
  EXPECT_EQ(s.referral.child_referral_id(), s.child->referral_id());
  EXPECT_EQ(s.child->parent_referral_id(), id);
  EXPECT_EQ(s.child->from_node(), kJustice);  // still the original request
  EXPECT_EQ(s.child->to_node(), kArbitration);
  EXPECT_EQ(s.child->state(), v1::REFERRAL_STATE_REQUESTED);
  // Arbitration is a party now and may act on the child.
  EXPECT_THAT(Take(Action::kAccept, kArbitration, s.child->referral_id()), IsOk());

  req.set_request_id(NextRequestId());
  req.set_to_node(kJustice);
  EXPECT_THAT(broker_->Redirect(kArbitration, req), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(BrokerTest, ReturnThenResubmitAsksAgainWithTheMaterial) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id, kArbitration);
  ASSERT_THAT(Take(Action::kReceive, kArbitration, id), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Referral returned, Take(Action::kReturn, kArbitration, id));
  EXPECT_EQ(returned.state(), v1::REFERRAL_STATE_RETURNED);
  EXPECT_EQ(returned.missing_items(0), "labour contract copies");
  v1::ResubmitReferralRequest again;
  again.set_request_id(NextRequestId());
  again.set_referral_id(id);
  auto* a = again.add_attachments();
  a->set_name("劳动合同复印件");
  a->set_sha256(std::string(32, '\x01'));
  ASSERT_OK_AND_ASSIGN(v1::Referral resubmitted, broker_->Resubmit(kJustice, again));
  EXPECT_EQ(resubmitted.state(), v1::REFERRAL_STATE_REQUESTED);
  EXPECT_EQ(resubmitted.attachments_size(), 1);
  EXPECT_EQ(resubmitted.missing_items_size(), 0);
}

TEST_F(BrokerTest, ResumeReturnsToTheStateTheReferralWasHeldFrom) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_THAT(Take(Action::kAccept, kLabor, id), IsOk());
  ASSERT_THAT(Take(Action::kHold, kLabor, id), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Referral r, Take(Action::kResume, kLabor, id));
  EXPECT_EQ(r.state(), v1::REFERRAL_STATE_ACCEPTED);
  ASSERT_THAT(Take(Action::kStart, kLabor, id), IsOk());
  ASSERT_THAT(Take(Action::kHold, kLabor, id), IsOk());
  ASSERT_OK_AND_ASSIGN(r, Take(Action::kResume, kLabor, id));
  EXPECT_EQ(r.state(), v1::REFERRAL_STATE_IN_PROGRESS);
}

TEST_F(BrokerTest, ARetriedStepReturnsItsFirstAnswerAndHasItsEffectOnce) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_OK_AND_ASSIGN(v1::Referral accepted,
                       Take(Action::kAccept, kLabor, id, "accept-1"));
  ASSERT_THAT(Take(Action::kStart, kLabor, id), IsOk());
  const size_t version_before = log_.ReadCase(case_id).value().size();

  // The retry comes after the referral moved on: it still gets ACCEPTED, the
  // answer it first got, and nothing is appended.
  ASSERT_OK_AND_ASSIGN(v1::Referral retried,
                       Take(Action::kAccept, kLabor, id, "accept-1"));
  EXPECT_EQ(retried.state(), v1::REFERRAL_STATE_ACCEPTED);
  EXPECT_EQ(retried.case_version(), accepted.case_version());
  EXPECT_EQ(log_.ReadCase(case_id).value().size(), version_before);

  OpenStore();  // restart the case log and the broker
  ASSERT_OK_AND_ASSIGN(retried, Take(Action::kAccept, kLabor, id, "accept-1"));
  EXPECT_EQ(retried.state(), v1::REFERRAL_STATE_ACCEPTED);
  EXPECT_EQ(log_.ReadCase(case_id).value().size(), version_before);

  // The same request id for another command is refused.
  EXPECT_THAT(Take(Action::kHold, kLabor, id, "accept-1"), HasReason("REQUEST_ID_REUSED"));
}

TEST_F(BrokerTest, RequestIdsOfDifferentNodesDoNotCollide) {
  std::string case_id = OpenCase();
  std::string a = Send(case_id);
  std::string b = Send(case_id, kArbitration);
  EXPECT_THAT(Take(Action::kAccept, kLabor, a, "same-id"), IsOk());
  EXPECT_THAT(Take(Action::kAccept, kArbitration, b, "same-id"), IsOk());
}

TEST_F(BrokerTest, ConcurrentAcceptAndCancelLoseNoStep) {
  for (int round = 0; round < 5; ++round) {
    std::string case_id = OpenCase();
    std::string id = Send(case_id);
    absl::Status accept, cancel;
    std::thread t1([&] { accept = Take(Action::kAccept, kLabor, id).status(); });
    std::thread t2([&] { cancel = Take(Action::kCancel, kJustice, id).status(); });
    t1.join();
    t2.join();
    ASSERT_OK_AND_ASSIGN(v1::Referral r, broker_->GetReferral(kJustice, id));
    // Cancel is allowed from ACCEPTED too, so both may succeed in one order;
    // what must never happen is a lost step.
    if (accept.ok() && cancel.ok()) {
      EXPECT_EQ(r.state(), v1::REFERRAL_STATE_CANCELLED);
    } else if (accept.ok()) {
      EXPECT_EQ(r.state(), v1::REFERRAL_STATE_ACCEPTED);
      EXPECT_THAT(cancel, HasReason("REFERRAL_STATE_CONFLICT"));
    } else {
      EXPECT_EQ(r.state(), v1::REFERRAL_STATE_CANCELLED);
      EXPECT_THAT(accept, HasReason("REFERRAL_STATE_CONFLICT"));
    }
    auto events = log_.ReadCase(case_id).value();
    int steps = 0;
    for (const auto& e : events) steps += !ReferralIdOf(e).empty();
    EXPECT_EQ(steps, 1 + accept.ok() + cancel.ok());
  }
}

TEST_F(BrokerTest, ListsShowOnlyWhatTheCallerIsPartyTo) {
  std::string mine = OpenCase(kJustice);
  std::string theirs = OpenCase(kArbitration);
  Send(mine, kLabor);
  ASSERT_OK_AND_ASSIGN(auto justice_cases, broker_->ListCases(kJustice, 0));
  ASSERT_EQ(justice_cases.size(), 1u);
  EXPECT_EQ(justice_cases[0].case_id(), mine);
  ASSERT_OK_AND_ASSIGN(auto labor_cases, broker_->ListCases(kLabor, 0));
  ASSERT_EQ(labor_cases.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto outsider_cases, broker_->ListCases(kOutsider, 0));
  EXPECT_TRUE(outsider_cases.empty());

  v1::ListReferralsRequest received;
  received.set_role(v1::REFERRAL_ROLE_RECEIVED);
  ASSERT_OK_AND_ASSIGN(auto labor_in, broker_->ListReferrals(kLabor, received));
  EXPECT_EQ(labor_in.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto justice_in, broker_->ListReferrals(kJustice, received));
  EXPECT_TRUE(justice_in.empty());
  (void)theirs;
}

TEST_F(BrokerTest, ANodeOnlyEscalatedToOrInvitedFindsTheCaseInItsList) {
  std::string case_id = OpenCase(kJustice);
  ASSERT_OK_AND_ASSIGN(auto before, broker_->ListCases(kUnion, 0));
  EXPECT_TRUE(before.empty());  // control: not yet involved
  // The deadlines service escalates to the union: its only tie to the case.
  v1::AppendRequest escalate;
  escalate.set_case_id(case_id);
  v1::Event* e = escalate.add_events();
  e->set_event_id("escalate-1");
  e->set_source("qinzhou.deadlines");
  e->add_involved_nodes(kUnion);
  e->mutable_escalation_raised()->set_to_node(kUnion);
  e->mutable_escalation_raised()->set_deadline_id("d1");
  ASSERT_THAT(log_.Append(escalate), IsOk());
  ASSERT_OK_AND_ASSIGN(auto after, broker_->ListCases(kUnion, 0));
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].case_id(), case_id);
}

TEST_F(BrokerTest, ListCasesIsNewestOpenedFirstAndHonoursThePageSize) {
  std::string first = OpenCase(kJustice);
  std::string second = OpenCase(kJustice);
  ASSERT_OK_AND_ASSIGN(auto cases, broker_->ListCases(kJustice, 0));
  ASSERT_EQ(cases.size(), 2u);
  EXPECT_EQ(cases[0].case_id(), second);
  EXPECT_EQ(cases[1].case_id(), first);
  // Page by page, the older case is reached.
  v1::ListCasesRequest r;
  r.set_page_size(1);
  ASSERT_OK_AND_ASSIGN(v1::ListCasesResponse one, broker_->ListCases(kJustice, r));
  ASSERT_EQ(one.cases_size(), 1);
  EXPECT_EQ(one.cases(0).case_id(), second);
  ASSERT_FALSE(one.next_page_token().empty());
  r.set_page_token(one.next_page_token());
  ASSERT_OK_AND_ASSIGN(v1::ListCasesResponse two, broker_->ListCases(kJustice, r));
  ASSERT_EQ(two.cases_size(), 1);
  EXPECT_EQ(two.cases(0).case_id(), first);
  EXPECT_TRUE(two.next_page_token().empty());
  r.set_page_token("bm90IGEgdG9rZW4");
  EXPECT_THAT(broker_->ListCases(kJustice, r), HasReason("INVALID_FIELD"));
}

TEST_F(BrokerTest, InboxCursorOnlyMovesForwardAndBacklogCountsWhatIsAfterIt) {
  std::string case_id = OpenCase();
  Send(case_id);
  Send(case_id, kLabor);
  ASSERT_OK_AND_ASSIGN(v1::GetBacklogResponse b, broker_->Backlog(kLabor, ""));
  EXPECT_EQ(b.unacknowledged(), 2u);
  EXPECT_TRUE(b.has_oldest_unacknowledged_time());

  v1::ReadAllRequest feed;
  *feed.mutable_filter() = Broker::InboxFilter(kLabor);
  ASSERT_OK_AND_ASSIGN(v1::ReadAllResponse page, log_.ReadAll(feed));
  ASSERT_EQ(page.events_size(), 4);  // each referral and its acceptance deadline
  ASSERT_TRUE(page.events(0).has_referral_requested());
  ASSERT_OK_AND_ASSIGN(uint64_t cursor,
                       broker_->AckInbox(kLabor, page.events(0).global_position()));
  EXPECT_EQ(cursor, page.events(0).global_position());
  ASSERT_OK_AND_ASSIGN(b, broker_->Backlog(kLabor, ""));
  EXPECT_EQ(b.unacknowledged(), 1u);
  // A late ack of something older leaves the cursor where it is.
  ASSERT_OK_AND_ASSIGN(cursor, broker_->AckInbox(kLabor, 1));
  EXPECT_EQ(cursor, page.events(0).global_position());
  EXPECT_THAT(broker_->Backlog(kLabor, kJustice), StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(BrokerTest, ARequestIdUsedOnAnotherCaseIsRefusedAsReusedNotRetriedForever) {
  std::string first = OpenCase();
  std::string second = OpenCase();
  v1::SendReferralRequest r = SendRequest(first);
  r.set_request_id("same-id");
  ASSERT_THAT(broker_->SendReferral(kJustice, r), IsOk());
  r.set_case_id(second);
  absl::StatusOr<v1::Referral> again = broker_->SendReferral(kJustice, r);
  EXPECT_THAT(again, HasReason("REQUEST_ID_REUSED"));
  EXPECT_NE(std::string(again.status().message()).find(first), std::string::npos)
      << again.status();
  ASSERT_OK_AND_ASSIGN(v1::Case c, broker_->GetCase(kJustice, second));
  EXPECT_EQ(c.referrals_size(), 0);
}

TEST_F(BrokerTest, EscalationsAndMeetingInvitationsReachTheInboxButTimersBeingSetDoNot) {
  std::string case_id = OpenCase();
  // What the deadlines and mediation services append, involving the union.
  v1::AppendRequest append;
  append.set_case_id(case_id);
  auto add = [&](const char* id) {
    v1::Event* e = append.add_events();
    e->set_event_id(id);
    e->set_source(std::string(kJustice));
    e->add_involved_nodes("qinzhou.union");
    return e;
  };
  add("t.set")->mutable_deadline_set()->set_deadline_id("d1");
  add("t.escalate")->mutable_escalation_raised()->set_to_node("qinzhou.union");
  add("t.invite")->mutable_meeting_participant_invited()->set_meeting_id(case_id + "/m1");
  ASSERT_THAT(log_.Append(append), IsOk());

  ASSERT_OK_AND_ASSIGN(v1::GetBacklogResponse b, broker_->Backlog("qinzhou.union", ""));
  EXPECT_EQ(b.unacknowledged(), 2u);  // not the DeadlineSet

  v1::ReadAllRequest feed;
  *feed.mutable_filter() = Broker::InboxFilter("qinzhou.union");
  ASSERT_OK_AND_ASSIGN(v1::ReadAllResponse page, log_.ReadAll(feed));
  ASSERT_EQ(page.events_size(), 3);
  ASSERT_OK_AND_ASSIGN(auto set, broker_->InboxItemOf(page.events(0)));
  EXPECT_FALSE(set.has_value());
  ASSERT_OK_AND_ASSIGN(auto escalated, broker_->InboxItemOf(page.events(1)));
  ASSERT_TRUE(escalated.has_value());
  EXPECT_TRUE(escalated->event().has_escalation_raised());
  EXPECT_TRUE(escalated->referral_id().empty());
  ASSERT_OK_AND_ASSIGN(auto invited, broker_->InboxItemOf(page.events(2)));
  EXPECT_TRUE(invited.has_value());
}

// ------------------------------------------------------------------ deadlines

google::protobuf::Timestamp Ts(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t));
}

class BrokerDeadlineTest : public BrokerTest {
 protected:
  // A broker on the same log with a pinned clock and a calendar with a
  // holiday: Thursday 1 October 2026 at 10:00 in Shanghai, 1-7 October off.
  void SetUp() override {
    BrokerTest::SetUp();
    auto c = deadlines::Calendar::FromToml(
        "name = \"test-national-day\"\n"
        "holidays = [\"2026-10-01\", \"2026-10-02\", \"2026-10-05\", "
        "\"2026-10-06\", \"2026-10-07\"]\n",
        "test");
    ASSERT_TRUE(c.ok()) << c.status();
    calendar_ = std::make_unique<deadlines::Calendar>(std::move(*c));
    absl::TimeZone z;
    ASSERT_TRUE(absl::LoadTimeZone("Asia/Shanghai", &z));
    now_ = absl::FromCivil(absl::CivilMinute(2026, 10, 1, 10, 0), z);
    broker_ = std::make_unique<Broker>(
        &log_, local_directory_.get(),
        BrokerOptions{.clock = [this] { return now_; }, .calendar = calendar_.get()});
  }

  deadlines::DeadlineFold Deadlines(const std::string& case_id) {
    return deadlines::DeadlineFold::Of(log_.ReadCase(case_id).value());
  }

  std::unique_ptr<deadlines::Calendar> calendar_;
  absl::Time now_;
};

TEST_F(BrokerDeadlineTest, SendSetsTheAcceptanceDeadlineInTheSameAppendOnTheCalendar) {
  std::string case_id = OpenCase();
  v1::SendReferralRequest req = SendRequest(case_id);
  req.set_priority(v1::PRIORITY_URGENT);
  ASSERT_OK_AND_ASSIGN(v1::Referral r, broker_->SendReferral(kJustice, req));
  std::vector<v1::Event> events = log_.ReadCase(case_id).value();
  ASSERT_GE(events.size(), 2u);
  const v1::Event& requested = events[events.size() - 2];
  const v1::Event& set = events.back();
  ASSERT_TRUE(requested.has_referral_requested());
  ASSERT_TRUE(set.has_deadline_set());
  // One command: the same request digest, consecutive ids.
  EXPECT_EQ(set.request_digest(), requested.request_digest());
  EXPECT_EQ(set.deadline_set().deadline_id(), r.referral_id() + "/accept");
  EXPECT_EQ(set.deadline_set().kind(), v1::DEADLINE_KIND_REFERRAL_ACCEPTANCE);
  EXPECT_EQ(set.deadline_set().subject_id(), r.referral_id());
  EXPECT_EQ(set.deadline_set().responsible_node(), kLabor);
  EXPECT_EQ(set.deadline_set().calendar(), "test-national-day");
  // Urgent: one working day after the holiday's first working day (Saturday
  // 3 October is a weekend, Monday 5 to Wednesday 7 are off): Friday 9th.
  EXPECT_EQ(deadlines::AcceptanceWorkingDays(v1::PRIORITY_URGENT), 1);
  EXPECT_EQ(TimeOf(set.deadline_set().due_time()), calendar_->DueAfter(now_, 1));
  EXPECT_EQ(absl::FormatTime("%Y-%m-%d %H:%M", TimeOf(set.deadline_set().due_time()),
                             calendar_->zone()),
            "2026-10-09 17:30");
  // The addressee sees it in its feed.
  EXPECT_THAT(set.involved_nodes(), ::testing::Contains(kLabor));

  // A retry of the send sets nothing more.
  ASSERT_THAT(broker_->SendReferral(kJustice, req), IsOk());
  EXPECT_EQ(log_.ReadCase(case_id).value().size(), events.size());
}

TEST_F(BrokerDeadlineTest, ARequestedDueTimeIsTheAcceptanceDeadline) {
  std::string case_id = OpenCase();
  v1::SendReferralRequest req = SendRequest(case_id);
  *req.mutable_due_time() = Ts(now_ + absl::Hours(2));
  ASSERT_OK_AND_ASSIGN(v1::Referral r, broker_->SendReferral(kJustice, req));
  const v1::Deadline* d = Deadlines(case_id).Find(r.referral_id() + "/accept");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(TimeOf(d->set().due_time()), now_ + absl::Hours(2));
}

TEST_F(BrokerDeadlineTest, ReceiveKeepsTheDeadlineAndAcceptMeetsIt) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_THAT(Take(Action::kReceive, kLabor, id), IsOk());
  EXPECT_TRUE(Deadlines(case_id).IsOpen(id + "/accept"));
  ASSERT_THAT(Take(Action::kAccept, kLabor, id), IsOk());
  const v1::Deadline* d = Deadlines(case_id).Find(id + "/accept");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->state(), v1::DEADLINE_STATE_MET);
}

TEST_F(BrokerDeadlineTest, CancelClearsTheDeadlineAsCancelled) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_THAT(Take(Action::kCancel, kJustice, id), IsOk());
  std::string reason;
  const std::vector<v1::Event> events = log_.ReadCase(case_id).value();
  for (const auto& e : events) {
    if (e.has_deadline_cleared()) reason = e.deadline_cleared().reason();
  }
  EXPECT_EQ(reason, "cancelled");
  EXPECT_FALSE(Deadlines(case_id).IsOpen(id + "/accept"));
}

TEST_F(BrokerDeadlineTest, ReturnAndResubmitHandTheDeadlineBackAndForth) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_THAT(Take(Action::kReceive, kLabor, id), IsOk());
  v1::ReturnReferralRequest ret;
  ret.set_request_id(NextRequestId());
  ret.set_referral_id(id);
  ret.add_missing_items("labour contract copies");
  *ret.mutable_resubmit_by() = Ts(now_ + absl::Hours(30));
  ASSERT_THAT(broker_->Return(kLabor, ret), IsOk());
  deadlines::DeadlineFold fold = Deadlines(case_id);
  EXPECT_FALSE(fold.IsOpen(id + "/accept"));
  ASSERT_TRUE(fold.IsOpen(id + "/resubmit1"));
  EXPECT_EQ(fold.Find(id + "/resubmit1")->set().responsible_node(), kJustice);
  EXPECT_EQ(TimeOf(fold.Find(id + "/resubmit1")->set().due_time()), now_ + absl::Hours(30));

  ASSERT_THAT(Take(Action::kResubmit, kJustice, id), IsOk());
  fold = Deadlines(case_id);
  EXPECT_FALSE(fold.IsOpen(id + "/resubmit1"));
  ASSERT_TRUE(fold.IsOpen(id + "/accept1"));
  EXPECT_EQ(fold.Find(id + "/accept1")->set().responsible_node(), kLabor);

  // A second round: without resubmit_by the kinds table gives the time.
  ASSERT_THAT(Take(Action::kReceive, kLabor, id), IsOk());
  ASSERT_THAT(Take(Action::kReturn, kLabor, id), IsOk());
  fold = Deadlines(case_id);
  ASSERT_TRUE(fold.IsOpen(id + "/resubmit2"));
  EXPECT_EQ(TimeOf(fold.Find(id + "/resubmit2")->set().due_time()),
            calendar_->DueAfter(
                now_, deadlines::RuleFor(v1::DEADLINE_KIND_REFERRAL_RESUBMISSION).working_days));
  ASSERT_THAT(Take(Action::kResubmit, kJustice, id), IsOk());
  EXPECT_TRUE(Deadlines(case_id).IsOpen(id + "/accept2"));
}

TEST_F(BrokerDeadlineTest, ARedirectedChildGetsItsOwnAcceptanceDeadline) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_THAT(Take(Action::kRedirect, kLabor, id), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Referral parent, broker_->GetReferral(kJustice, id));
  deadlines::DeadlineFold fold = Deadlines(case_id);
  EXPECT_EQ(fold.Find(id + "/accept")->state(), v1::DEADLINE_STATE_MET);
  const std::string child = parent.child_referral_id() + "/accept";
  ASSERT_TRUE(fold.IsOpen(child));
  EXPECT_EQ(fold.Find(child)->set().responsible_node(), kArbitration);
}

TEST_F(BrokerDeadlineTest, APastDueTimeIsRefusedAndNothingIsWritten) {
  std::string case_id = OpenCase();
  const uint64_t before = log_.ReadCase(case_id).value().size();
  v1::SendReferralRequest req = SendRequest(case_id);
  *req.mutable_due_time() = Ts(now_ - absl::Minutes(1));
  absl::StatusOr<v1::Referral> sent = broker_->SendReferral(kJustice, req);
  EXPECT_THAT(sent, HasReason("INVALID_FIELD"));
  EXPECT_EQ(ViewError(sent.status()).field, "due_time");
  EXPECT_EQ(log_.ReadCase(case_id).value().size(), before);
  // A retry of a send that was in time keeps its answer after the due time.
  *req.mutable_due_time() = Ts(now_ + absl::Minutes(1));
  req.set_request_id("in-time");
  ASSERT_OK_AND_ASSIGN(v1::Referral first, broker_->SendReferral(kJustice, req));
  now_ += absl::Minutes(5);
  ASSERT_OK_AND_ASSIGN(v1::Referral again, broker_->SendReferral(kJustice, req));
  EXPECT_EQ(again.referral_id(), first.referral_id());
}

TEST_F(BrokerDeadlineTest, APastResubmissionTimeIsRefused) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  ASSERT_THAT(Take(Action::kReceive, kLabor, id), IsOk());
  v1::ReturnReferralRequest req;
  req.set_request_id("return-late");
  req.set_referral_id(id);
  req.add_missing_items("考勤记录");
  *req.mutable_resubmit_by() = Ts(now_ - absl::Hours(1));
  absl::StatusOr<v1::Referral> r = broker_->Return(kLabor, req);
  EXPECT_THAT(r, HasReason("INVALID_FIELD"));
  EXPECT_EQ(ViewError(r.status()).field, "resubmit_by");
}

TEST_F(BrokerDeadlineTest, ARedirectAfterTheDueTimeGivesTheChildTheCalendarsTime) {
  std::string case_id = OpenCase();
  v1::SendReferralRequest req = SendRequest(case_id);
  *req.mutable_due_time() = Ts(now_ + absl::Hours(1));
  ASSERT_OK_AND_ASSIGN(v1::Referral sent, broker_->SendReferral(kJustice, req));
  now_ += absl::Hours(3);
  ASSERT_THAT(Take(Action::kRedirect, kLabor, sent.referral_id()), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Referral parent, broker_->GetReferral(kJustice, sent.referral_id()));
  const v1::Deadline* d = Deadlines(case_id).Find(parent.child_referral_id() + "/accept");
  ASSERT_NE(d, nullptr);
  EXPECT_GT(TimeOf(d->set().due_time()), now_);
}

// Every ReferralService method refuses a node that is not party to the case,
// walking the policy table: a method added without a refusal here fails.
TEST_F(BrokerTest, EveryMethodRefusesTheWrongNode) {
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  using Call = std::function<absl::Status(const std::string&)>;
  auto step = [&](Action a) -> Call {
    return [&, a](const std::string& who) { return Take(a, who, id).status(); };
  };
  std::map<std::string, Call> calls = {
      {"GetCase", [&](const std::string& who) { return broker_->GetCase(who, case_id).status(); }},
      {"TraceCase", [&](const std::string& who) { return broker_->TraceCase(who, case_id).status(); }},
      {"SendReferral", [&](const std::string& who) {
         return broker_->SendReferral(who, SendRequest(case_id, kUnion)).status(); }},
      {"GetReferral", [&](const std::string& who) { return broker_->GetReferral(who, id).status(); }},
      {"ReceiveReferral", step(Action::kReceive)},
      {"AcceptReferral", step(Action::kAccept)},
      {"RejectReferral", step(Action::kReject)},
      {"ReturnReferral", step(Action::kReturn)},
      {"ResubmitReferral", step(Action::kResubmit)},
      {"RedirectReferral", step(Action::kRedirect)},
      {"StartReferral", step(Action::kStart)},
      {"HoldReferral", step(Action::kHold)},
      {"ResumeReferral", step(Action::kResume)},
      {"CompleteReferral", step(Action::kComplete)},
      {"FailReferral", step(Action::kFail)},
      {"CancelReferral", step(Action::kCancel)},
      {"GetBacklog", [&](const std::string& who) { return broker_->Backlog(who, kLabor).status(); }},
      // A search refuses by leaving out what the caller may not see, even
      // with a purpose (only investigators have one that counts).
      {"SearchCases", [&](const std::string& who) -> absl::Status {
         v1::SearchCasesRequest q;
         q.set_purpose("curiosity");
         auto found = broker_->SearchCases(who, q);
         if (!found.ok()) return found.status();
         return found->cases_size() == 0 ? absl::PermissionDeniedError("left out")
                                         : absl::OkStatus(); }},
      {"ListAuditEvents", [&](const std::string& who) {
         v1::ListAuditEventsRequest q;
         q.set_case_id(case_id);
         return broker_->ListAuditEvents(who, q).status(); }},
      {"VerifyCaseHistory", [&](const std::string& who) {
         v1::VerifyCaseHistoryRequest q;
         q.set_case_id(case_id);
         return broker_->VerifyCaseHistory(who, q).status(); }},
      {"ExportCaseEvidence", [&](const std::string& who) {
         v1::ExportCaseEvidenceRequest q;
         q.set_case_id(case_id);
         return broker_->ExportCaseEvidence(who, q).status(); }},
  };
  for (const Rule& rule : Policy()) {
    if (rule.requirement == Requirement::kSelf && rule.method != "GetBacklog") {
      // Acting on one's own behalf: the caller only ever sees its own (see
      // ListsShowOnlyWhatTheCallerIsPartyTo).
      continue;
    }
    auto call = calls.find(std::string(rule.method));
    ASSERT_NE(call, calls.end()) << "no refusal test for " << rule.method;
    absl::Status s = call->second(kOutsider);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kPermissionDenied)) << rule.method;
  }
  // Nothing an outsider tried changed the referral.
  ASSERT_OK_AND_ASSIGN(v1::Referral r, broker_->GetReferral(kJustice, id));
  EXPECT_EQ(r.state(), v1::REFERRAL_STATE_REQUESTED);
}

}  // namespace
}  // namespace referral::broker
