// The state machine, driven through the broker from every state: each row of
// the table (state_machine.h) is allowed exactly from its `from` states, by
// its side of the referral, and leads to its `to` state. The test reads the
// same table as the broker; what it adds is how to reach each state.

#include "services/referral/state_machine.h"

#include <map>
#include <vector>

#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/deadlines/deadlines.h"
#include "services/referral/broker_fixture.h"

namespace referral::broker {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::StatusIs;
using S = v1::ReferralState;

// How to bring a new referral (REQUESTED) into each state.
const std::map<S, std::vector<Action>>& PathTo() {
  static const auto* paths = new std::map<S, std::vector<Action>>{
      {v1::REFERRAL_STATE_REQUESTED, {}},
      {v1::REFERRAL_STATE_RECEIVED, {Action::kReceive}},
      {v1::REFERRAL_STATE_RETURNED, {Action::kReceive, Action::kReturn}},
      {v1::REFERRAL_STATE_ACCEPTED, {Action::kAccept}},
      {v1::REFERRAL_STATE_IN_PROGRESS, {Action::kAccept, Action::kStart}},
      {v1::REFERRAL_STATE_ON_HOLD, {Action::kAccept, Action::kStart, Action::kHold}},
      {v1::REFERRAL_STATE_REJECTED, {Action::kReject}},
      {v1::REFERRAL_STATE_REDIRECTED, {Action::kRedirect}},
      {v1::REFERRAL_STATE_COMPLETED,
       {Action::kAccept, Action::kStart, Action::kComplete}},
      {v1::REFERRAL_STATE_FAILED, {Action::kAccept, Action::kStart, Action::kFail}},
      {v1::REFERRAL_STATE_CANCELLED, {Action::kCancel}},
  };
  return *paths;
}

std::string Who(const Transition& t) {
  return t.role == Role::kSender ? kJustice : kLabor;
}

TEST(StateMachineTable, RowsAreInActionOrderAndBodiesMapBack) {
  auto rows = Transitions();
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(rows[i].action), i) << rows[i].name;
    EXPECT_EQ(TransitionForBody(rows[i].body), &rows[i]) << rows[i].name;
  }
  EXPECT_EQ(TransitionForBody(v1::Event::kCaseOpened), nullptr);
}

TEST(StateMachineTable, TerminalStatesHaveNoWayOutAndOthersDo) {
  for (int s = 1; s < v1::ReferralState_ARRAYSIZE; ++s) {
    int exits = 0;
    for (const Transition& t : Transitions()) exits += Allows(t, static_cast<S>(s));
    EXPECT_EQ(exits == 0, IsTerminal(static_cast<S>(s)))
        << StateName(static_cast<S>(s));
  }
}

TEST(StateMachineTable, EveryStateButNewIsReachableByTheTestPaths) {
  EXPECT_EQ(PathTo().size(), static_cast<size_t>(v1::ReferralState_ARRAYSIZE - 1));
}

class FromEveryState : public BrokerTest,
                       public ::testing::WithParamInterface<S> {};

TEST_P(FromEveryState, EachActionIsAllowedExactlyAsTheTableSays) {
  const S from = GetParam();
  for (const Transition& t : Transitions()) {
    if (t.action == Action::kSend) continue;
    SCOPED_TRACE(absl::StrCat(t.name, " from ", StateName(from)));
    std::string case_id = OpenCase();
    std::string id = Send(case_id);
    for (Action a : PathTo().at(from)) {
      const Transition& step = TransitionFor(a);
      ASSERT_TRUE(Take(a, Who(step), id).ok());
    }
    absl::StatusOr<v1::Referral> r = Take(t.action, Who(t), id);
    if (Allows(t, from)) {
      ASSERT_TRUE(r.ok()) << r.status();
      S expected = t.to != v1::REFERRAL_STATE_UNSPECIFIED
                       ? t.to
                       : v1::REFERRAL_STATE_IN_PROGRESS;  // the path held it there
      EXPECT_EQ(r->state(), expected);
    } else {
      EXPECT_THAT(r, StatusIs(absl::StatusCode::kFailedPrecondition));
      EXPECT_THAT(r, HasReason("REFERRAL_STATE_CONFLICT"));
      EXPECT_EQ(ViewError(r.status()).metadata["state"], StateName(from));
      auto unchanged = broker_->GetReferral(kJustice, id);
      ASSERT_TRUE(unchanged.ok());
      EXPECT_EQ(unchanged->state(), from);
    }
  }
}

TEST_P(FromEveryState, TheOtherSideIsRefusedWhateverTheState) {
  const S from = GetParam();
  std::string case_id = OpenCase();
  std::string id = Send(case_id);
  for (Action a : PathTo().at(from)) ASSERT_TRUE(Take(a, Who(TransitionFor(a)), id).ok());
  for (const Transition& t : Transitions()) {
    if (t.action == Action::kSend) continue;
    const std::string other = t.role == Role::kSender ? kLabor : kJustice;
    auto r = Take(t.action, other, id);
    EXPECT_THAT(r, StatusIs(absl::StatusCode::kPermissionDenied)) << t.name;
    EXPECT_THAT(r, HasReason("NOT_ALLOWED_FOR_ROLE")) << t.name;
  }
}

// The deadline a referral in `state` owes, and who owes it: the addressee's
// acceptance while it is requested or received, the sender's resubmission
// while it is returned; nothing in any other state (broker.h).
v1::DeadlineKind OwedIn(S state) {
  switch (state) {
    case v1::REFERRAL_STATE_REQUESTED:
    case v1::REFERRAL_STATE_RECEIVED:
      return v1::DEADLINE_KIND_REFERRAL_ACCEPTANCE;
    case v1::REFERRAL_STATE_RETURNED:
      return v1::DEADLINE_KIND_REFERRAL_RESUBMISSION;
    default:
      return v1::DEADLINE_KIND_UNSPECIFIED;
  }
}

// Every step allowed from every state leaves the referral with exactly the
// deadline its new state owes, open, and no other; terminal states none.
TEST_P(FromEveryState, EveryStepLeavesExactlyTheDeadlineTheNewStateOwes) {
  const S from = GetParam();
  auto check = [&](const std::string& case_id, const v1::Referral& r) {
    SCOPED_TRACE(absl::StrCat(r.referral_id(), " in ", StateName(r.state())));
    auto events = log_.ReadCase(case_id);
    ASSERT_TRUE(events.ok());
    const deadlines::DeadlineFold fold = deadlines::DeadlineFold::Of(*events);
    std::vector<v1::Deadline> open;
    for (const auto& [id, d] : fold.all()) {
      if (d.set().subject_id() == r.referral_id() && fold.IsOpen(id)) open.push_back(d);
    }
    const v1::DeadlineKind owed = OwedIn(r.state());
    if (owed == v1::DEADLINE_KIND_UNSPECIFIED) {
      for (const v1::Deadline& d : open) ADD_FAILURE() << d.set().deadline_id() << " is open";
      return;
    }
    ASSERT_EQ(open.size(), 1u);
    EXPECT_EQ(open[0].set().kind(), owed);
    EXPECT_EQ(open[0].set().responsible_node(),
              owed == v1::DEADLINE_KIND_REFERRAL_RESUBMISSION ? r.from_node() : r.to_node());
  };
  for (const Transition& t : Transitions()) {
    if (t.action == Action::kSend || !Allows(t, from)) continue;
    SCOPED_TRACE(absl::StrCat(t.name, " from ", StateName(from)));
    std::string case_id = OpenCase();
    std::string id = Send(case_id);
    for (Action a : PathTo().at(from)) {
      ASSERT_TRUE(Take(a, Who(TransitionFor(a)), id).ok());
      ASSERT_OK_AND_ASSIGN(v1::Referral now, broker_->GetReferral(kJustice, id));
      check(case_id, now);
    }
    ASSERT_OK_AND_ASSIGN(v1::Referral after, Take(t.action, Who(t), id));
    check(case_id, after);
    if (!after.child_referral_id().empty()) {
      ASSERT_OK_AND_ASSIGN(v1::Referral child,
                           broker_->GetReferral(kJustice, after.child_referral_id()));
      check(case_id, child);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Referral, FromEveryState,
    ::testing::Values(v1::REFERRAL_STATE_REQUESTED, v1::REFERRAL_STATE_RECEIVED,
                      v1::REFERRAL_STATE_RETURNED, v1::REFERRAL_STATE_ACCEPTED,
                      v1::REFERRAL_STATE_IN_PROGRESS, v1::REFERRAL_STATE_ON_HOLD,
                      v1::REFERRAL_STATE_REJECTED, v1::REFERRAL_STATE_REDIRECTED,
                      v1::REFERRAL_STATE_COMPLETED, v1::REFERRAL_STATE_FAILED,
                      v1::REFERRAL_STATE_CANCELLED),
    [](const auto& info) { return std::string(StateName(info.param)); });

}  // namespace
}  // namespace referral::broker
