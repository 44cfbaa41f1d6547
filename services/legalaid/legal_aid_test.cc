// The legal-aid service's rules, over a real event store on disk and the
// default directory. Cases are opened and referred by the referral broker,
// as in production; the clock is injected, and a case log port that can
// fail or interleave appends stands in for a crash between the roster and
// the case.

#include "services/referral/forwarding_log.h"
#include "services/legalaid/legal_aid.h"

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "common/timestamps.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "common/vocabulary.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "services/deadlines/deadlines.h"
#include "services/legalaid/legal_aid_rules.h"
#include "services/referral/broker_fixture.h"

namespace referral::legalaid {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::referral::broker::Action;
using ::referral::broker::kJustice;
using ::referral::broker::kLabor;
using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kYuquan[] = "qinzhou.justice.yuquan";  // a town station

absl::TimeZone Shanghai() {
  absl::TimeZone z;
  if (!absl::LoadTimeZone("Asia/Shanghai", &z)) z = absl::FixedTimeZone(8 * 3600);
  return z;
}
absl::Time At(int y, int mo, int d, int h, int mi = 0) {
  return absl::FromCivil(absl::CivilSecond(y, mo, d, h, mi, 0), Shanghai());
}
// 2026-03-04 is a Wednesday; 03-06 a Friday, 03-07 a Saturday, 03-09 a Monday.
const absl::Time kWednesday = At(2026, 3, 4, 10);

// The case log, with a hook before each append: it may fail the append (a
// crash before the write) or act first (another writer getting in); and one
// before each read of a stream, which may fail it (a step that dies before
// it reads on).
class HookedLog final : public broker::ForwardingLog {
 public:
  using ForwardingLog::ForwardingLog;
  // Once: cleared before it runs.
  std::function<absl::Status(const v1::AppendRequest&)> before_append;
  // Every read until the test (or the hook itself) clears it.
  std::function<absl::Status(absl::string_view stream)> before_read;

  absl::StatusOr<std::vector<v1::Event>> ReadCase(absl::string_view id) override {
    if (before_read) {
      auto hook = before_read;  // a copy: the hook may clear itself
      if (absl::Status s = hook(id); !s.ok()) return s;
    }
    return ForwardingLog::ReadCase(id);
  }
  absl::StatusOr<v1::AppendResponse> Append(const v1::AppendRequest& r) override {
    if (before_append) {
      auto hook = std::move(before_append);
      before_append = nullptr;  // once
      if (absl::Status s = hook(r); !s.ok()) return s;
    }
    return ForwardingLog::Append(r);
  }
};

class LegalAidTest : public broker::BrokerTest {
 protected:
  void SetUp() override {
    broker::BrokerTest::SetUp();
    hooked_ = std::make_unique<HookedLog>(&log_);
    LegalAidOptions o;
    o.clock = [this] {
      absl::MutexLock l(&clock_mu_);
      return now_;
    };
    legal_aid_ = std::make_unique<LegalAid>(hooked_.get(), local_directory_.get(),
                                            &calendar_, o);
  }
  void TearDown() override {
    legal_aid_.reset();
    broker::BrokerTest::TearDown();
  }

  void SetNow(absl::Time t) {
    absl::MutexLock l(&clock_mu_);
    now_ = t;
  }

  v1::ApplyForLegalAidRequest ApplyRequest(const std::string& case_id,
                                           v1::Matter matter = v1::MATTER_WAGE_ARREARS,
                                           bool migrant_worker = true) {
    v1::ApplyForLegalAidRequest r;
    r.set_request_id(NextRequestId());
    r.set_case_id(case_id);
    r.set_channel(v1::INTAKE_CHANNEL_HOTLINE);
    r.mutable_applicant()->set_role(v1::PARTY_ROLE_WORKER_REPRESENTATIVE);
    r.mutable_applicant()->set_name("工人代表");
    r.mutable_applicant()->set_contact("138-0000-0000");
    r.set_matter(matter);
    r.set_migrant_worker(migrant_worker);
    r.set_summary("23 名工人被拖欠工资");
    return r;
  }

  v1::LegalAidApplication Apply(const std::string& case_id,
                                v1::Matter matter = v1::MATTER_WAGE_ARREARS,
                                bool migrant_worker = true,
                                const std::string& caller = kJustice) {
    auto r = legal_aid_->ApplyForLegalAid(caller, ApplyRequest(case_id, matter, migrant_worker));
    EXPECT_THAT(r, IsOk());
    return r.ok() ? r->application() : v1::LegalAidApplication();
  }

  absl::StatusOr<v1::LegalAidApplication> Review(const std::string& app, bool approved,
                                                 const std::string& caller = kJustice) {
    v1::ReviewApplicationRequest r;
    r.set_request_id(NextRequestId());
    r.set_application_id(app);
    r.set_approved(approved);
    if (!approved) r.set_reason("不符合经济困难标准");
    auto out = legal_aid_->ReviewApplication(caller, r);
    if (!out.ok()) return out.status();
    return out->application();
  }

  // An approved application in a case of its own.
  std::string Approved(v1::Matter matter = v1::MATTER_WAGE_ARREARS) {
    const std::string app = Apply(OpenCase(), matter).application_id();
    EXPECT_THAT(Review(app, true), IsOk());
    return app;
  }

  v1::AssignLawyerRequest AssignRequest(const std::string& app,
                                        const std::string& lawyer = "") {
    v1::AssignLawyerRequest r;
    r.set_request_id(NextRequestId());
    r.set_application_id(app);
    r.set_lawyer_id(lawyer);
    return r;
  }
  absl::StatusOr<v1::AssignLawyerResponse> Assign(const std::string& app,
                                                  const std::string& lawyer = "") {
    return legal_aid_->AssignLawyer(kJustice, AssignRequest(app, lawyer));
  }

  void Enrol(const std::string& id, int capacity,
             std::vector<v1::Matter> specialties = {v1::MATTER_WAGE_ARREARS,
                                                    v1::MATTER_WORK_INJURY},
             const std::string& caller = kJustice) {
    v1::EnrolLawyerRequest r;
    r.set_request_id(NextRequestId());
    r.mutable_lawyer()->set_lawyer_id(id);
    r.mutable_lawyer()->set_name(absl::StrCat("律师 ", id));
    r.mutable_lawyer()->set_firm("甘肃某律师事务所");
    for (v1::Matter m : specialties) r.mutable_lawyer()->add_specialties(m);
    r.mutable_lawyer()->set_capacity(capacity);
    EXPECT_THAT(legal_aid_->EnrolLawyer(caller, r), IsOk());
  }

  absl::StatusOr<v1::Lawyer> Evaluate(const std::string& id, int score, bool passed,
                                      v1::EvaluationKind kind =
                                          v1::EVALUATION_KIND_EXPERT_REVIEW) {
    v1::EvaluateLawyerRequest r;
    r.set_request_id(NextRequestId());
    r.set_lawyer_id(id);
    r.mutable_evaluation()->set_kind(kind);
    r.mutable_evaluation()->set_score(score);
    r.mutable_evaluation()->set_passed(passed);
    r.mutable_evaluation()->set_note("案卷评估");
    auto out = legal_aid_->EvaluateLawyer(kJustice, r);
    if (!out.ok()) return out.status();
    return out->lawyer();
  }

  std::map<std::string, v1::Lawyer> Roster(const std::string& node = kJustice) {
    v1::ListLawyersRequest r;
    r.set_justice_node(node);
    auto out = legal_aid_->ListLawyers(kJustice, r);
    EXPECT_THAT(out, IsOk());
    std::map<std::string, v1::Lawyer> m;
    if (out.ok()) {
      for (const auto& l : out->lawyers()) m[l.lawyer_id()] = l;
    }
    return m;
  }

  v1::LegalAidApplication Get(const std::string& app, const std::string& caller = kJustice) {
    v1::GetApplicationRequest r;
    r.set_application_id(app);
    auto out = legal_aid_->GetApplication(caller, r);
    EXPECT_THAT(out, IsOk());
    return out.ok() ? out->application() : v1::LegalAidApplication();
  }

  std::vector<v1::Event> Events(const std::string& stream) {
    auto e = log_.ReadCase(stream);
    return e.ok() ? *e : std::vector<v1::Event>{};
  }
  // The log's last global position: unchanged = nothing written anywhere.
  uint64_t LastPosition() {
    auto r = log_.ReadAll(v1::ReadAllRequest());
    EXPECT_THAT(r, IsOk());
    return r.ok() ? r->last_position() : 0;
  }
  int Count(const std::string& stream, v1::Event::BodyCase body) {
    int n = 0;
    for (const auto& e : Events(stream)) n += e.body_case() == body;
    return n;
  }
  const v1::Deadline* FindDeadline(const std::string& app, const std::string& id) {
    fold_ = deadlines::DeadlineFold::Of(Events(CaseOfApplication(app)));
    return fold_.Find(id);
  }

  absl::Mutex clock_mu_;
  absl::Time now_ ABSL_GUARDED_BY(clock_mu_) = kWednesday;
  deadlines::Calendar calendar_;
  std::unique_ptr<HookedLog> hooked_;
  std::unique_ptr<LegalAid> legal_aid_;
  deadlines::DeadlineFold fold_;
};

// ------------------------------------------------------------------ eligibility

TEST_F(LegalAidTest, EveryEligibilityRowDecidesGreenChannelWaiverAndBasis) {
  for (const EligibilityRule& rule : EligibilityRules()) {
    SCOPED_TRACE(rule.matter);
    v1::LegalAidApplication a = Apply(OpenCase(), rule.matter, rule.migrant_worker);
    EXPECT_EQ(a.green_channel(), rule.green_channel);
    EXPECT_EQ(a.hardship_review_waived(), rule.waive_hardship_review);
    EXPECT_EQ(a.waiver_basis(), rule.basis);
    EXPECT_EQ(a.state(), v1::LEGAL_AID_STATE_APPLIED);
  }
  // The table's rows are migrant workers' wage and injury claims.
  EXPECT_TRUE(EligibilityFor(v1::MATTER_WAGE_ARREARS, true).green_channel);
  EXPECT_TRUE(EligibilityFor(v1::MATTER_WORK_INJURY, true).waive_hardship_review);
  EXPECT_THAT(std::string(EligibilityFor(v1::MATTER_WAGE_ARREARS, true).basis),
              HasSubstr("第四十二条"));
}

TEST_F(LegalAidTest, PairsWithoutARowAreOrdinaryApplications) {
  const std::vector<std::pair<v1::Matter, bool>> ordinary = {
      {v1::MATTER_WAGE_ARREARS, false},          // not a migrant worker
      {v1::MATTER_WORK_INJURY, false},
      {v1::MATTER_LABOR_CONTRACT_DISPUTE, true},  // a migrant worker, another matter
      {v1::MATTER_SOCIAL_INSURANCE, true},
  };
  for (const auto& [matter, migrant] : ordinary) {
    SCOPED_TRACE(matter);
    v1::LegalAidApplication a = Apply(OpenCase(), matter, migrant);
    EXPECT_FALSE(a.green_channel());
    EXPECT_FALSE(a.hardship_review_waived());
    EXPECT_EQ(a.waiver_basis(), "");
  }
}

TEST_F(LegalAidTest, TheGreenChannelSkipsTheHardshipReviewAndTheReviewSaysSo) {
  v1::LegalAidApplication green = Apply(OpenCase(), v1::MATTER_WORK_INJURY, true);
  ASSERT_TRUE(green.hardship_review_waived());
  ASSERT_OK_AND_ASSIGN(v1::LegalAidApplication reviewed,
                       Review(green.application_id(), true));
  EXPECT_EQ(reviewed.state(), v1::LEGAL_AID_STATE_APPROVED);
  EXPECT_TRUE(reviewed.hardship_review_waived());
  // The review event itself carries the waiver and its basis.
  bool seen = false;
  for (const auto& e : Events(green.case_id())) {
    if (!e.has_legal_aid_reviewed()) continue;
    seen = true;
    EXPECT_TRUE(e.legal_aid_reviewed().hardship_review_waived());
    EXPECT_THAT(e.legal_aid_reviewed().waiver_basis(), HasSubstr("免予核查经济困难状况"));
  }
  EXPECT_TRUE(seen);

  v1::LegalAidApplication ordinary = Apply(OpenCase(), v1::MATTER_WORK_INJURY, false);
  ASSERT_OK_AND_ASSIGN(reviewed, Review(ordinary.application_id(), true));
  EXPECT_FALSE(reviewed.hardship_review_waived());
}

TEST(LegalAidVocabulary, EveryStateAndEvaluationKindHasALabelAndAPassMark) {
  for (int i = 1; i < v1::LegalAidState_descriptor()->value_count(); ++i) {
    const auto s = static_cast<v1::LegalAidState>(v1::LegalAidState_descriptor()->value(i)->number());
    EXPECT_NE(FindTerm(LegalAidStates(), s), nullptr) << s;
  }
  EXPECT_EQ(LegalAidStates().size(), v1::LegalAidState_descriptor()->value_count() - 1u);
  for (int i = 1; i < v1::EvaluationKind_descriptor()->value_count(); ++i) {
    const auto k = static_cast<v1::EvaluationKind>(v1::EvaluationKind_descriptor()->value(i)->number());
    EXPECT_NE(FindTerm(EvaluationKinds(), k), nullptr) << k;
    EXPECT_LE(PassMarkFor(k), 100) << k;
  }
  EXPECT_EQ(PassMarkFor(v1::EVALUATION_KIND_UNSPECIFIED), 101);
  // The step table is in Step order, so RuleFor indexes it.
  for (size_t i = 0; i < StepRules().size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(StepRules()[i].step), i);
  }
}

// ------------------------------------------------------------------ deadlines

TEST_F(LegalAidTest, GreenChannelReviewAndAssignmentAreDueTheSameWorkingDay) {
  SetNow(At(2026, 3, 6, 16));  // Friday 16:00
  v1::LegalAidApplication a = Apply(OpenCase());
  EXPECT_EQ(TimeOf(a.review_due_time()), At(2026, 3, 6, 17, 30));
  EXPECT_EQ(TimeOf(a.assign_due_time()), At(2026, 3, 6, 17, 30));
  EXPECT_EQ(TimeOf(a.apply_time()), At(2026, 3, 6, 16));

  SetNow(At(2026, 3, 7, 10));  // Saturday: counts from Monday
  a = Apply(OpenCase());
  EXPECT_EQ(TimeOf(a.review_due_time()), At(2026, 3, 9, 17, 30));
  EXPECT_EQ(TimeOf(a.assign_due_time()), At(2026, 3, 9, 17, 30));

  SetNow(At(2026, 3, 6, 18));  // Friday after the close
  a = Apply(OpenCase());
  EXPECT_EQ(TimeOf(a.review_due_time()), At(2026, 3, 9, 17, 30));
}

TEST_F(LegalAidTest, ApplySetsItsDeadlinesInTheSameAppendWithTheJusticeNodeResponsible) {
  v1::LegalAidApplication a = Apply(OpenCase());
  const std::vector<v1::Event> events = Events(a.case_id());
  ASSERT_GE(events.size(), 3u);
  const v1::Event& applied = events[events.size() - 3];
  ASSERT_TRUE(applied.has_legal_aid_applied());
  for (size_t i = events.size() - 2; i < events.size(); ++i) {
    ASSERT_TRUE(events[i].has_deadline_set());
    // One command, one append: same digest, consecutive positions.
    EXPECT_EQ(events[i].request_digest(), applied.request_digest());
    EXPECT_EQ(events[i].global_position(), applied.global_position() + (i - events.size() + 3));
    EXPECT_EQ(events[i].deadline_set().responsible_node(), kJustice);
    EXPECT_EQ(events[i].deadline_set().subject_id(), a.application_id());
  }
  EXPECT_EQ(events[events.size() - 2].deadline_set().deadline_id(),
            a.application_id() + "/review");
  EXPECT_EQ(events[events.size() - 2].deadline_set().kind(),
            v1::DEADLINE_KIND_LEGAL_AID_REVIEW);
  EXPECT_EQ(events.back().deadline_set().deadline_id(), a.application_id() + "/assign");
  EXPECT_EQ(events.back().deadline_set().kind(), v1::DEADLINE_KIND_LEGAL_AID_ASSIGNMENT);
}

TEST_F(LegalAidTest, OrdinaryApplicationsGetTheStatutoryDaysAndTheirAssignmentDeadlineOnApproval) {
  v1::LegalAidApplication a = Apply(OpenCase(), v1::MATTER_WAGE_ARREARS, false);
  // Wednesday + 7 working days = the Friday after next.
  EXPECT_EQ(TimeOf(a.review_due_time()), At(2026, 3, 13, 17, 30));
  EXPECT_FALSE(a.has_assign_due_time());
  EXPECT_EQ(FindDeadline(a.application_id(), a.application_id() + "/assign"), nullptr);

  ASSERT_OK_AND_ASSIGN(a, Review(a.application_id(), true));
  EXPECT_EQ(TimeOf(a.assign_due_time()), At(2026, 3, 9, 17, 30));  // +3 working days
  EXPECT_EQ(FindDeadline(a.application_id(), a.application_id() + "/review")->state(),
            v1::DEADLINE_STATE_MET);
  EXPECT_EQ(FindDeadline(a.application_id(), a.application_id() + "/assign")->state(),
            v1::DEADLINE_STATE_PENDING);
}

TEST_F(LegalAidTest, ReviewAssignmentAndDenialClearTheirDeadlines) {
  Enrol("L-1", 3);
  const std::string app = Apply(OpenCase()).application_id();
  ASSERT_THAT(Review(app, true), IsOk());
  EXPECT_EQ(FindDeadline(app, app + "/review")->state(), v1::DEADLINE_STATE_MET);
  EXPECT_EQ(FindDeadline(app, app + "/assign")->state(), v1::DEADLINE_STATE_PENDING);
  ASSERT_THAT(Assign(app), IsOk());
  EXPECT_EQ(FindDeadline(app, app + "/assign")->state(), v1::DEADLINE_STATE_MET);

  const std::string denied = Apply(OpenCase()).application_id();
  ASSERT_OK_AND_ASSIGN(v1::LegalAidApplication d, Review(denied, false));
  EXPECT_EQ(d.state(), v1::LEGAL_AID_STATE_DENIED);
  EXPECT_EQ(d.reason(), "不符合经济困难标准");
  fold_ = deadlines::DeadlineFold::Of(Events(CaseOfApplication(denied)));
  EXPECT_FALSE(fold_.IsOpen(denied + "/review"));
  EXPECT_FALSE(fold_.IsOpen(denied + "/assign"));
}

// ------------------------------------------------------------------ the queue

TEST_F(LegalAidTest, TheQueueListsGreenChannelFirstThenByTimeApplied) {
  SetNow(kWednesday);
  const std::string o1 = Apply(OpenCase(), v1::MATTER_WAGE_ARREARS, false).application_id();
  SetNow(kWednesday + absl::Minutes(10));
  const std::string g1 = Apply(OpenCase(), v1::MATTER_WAGE_ARREARS, true).application_id();
  SetNow(kWednesday + absl::Minutes(20));
  const std::string o2 = Apply(OpenCase(), v1::MATTER_SOCIAL_INSURANCE, true).application_id();
  SetNow(kWednesday + absl::Minutes(30));
  const std::string g2 = Apply(OpenCase(), v1::MATTER_WORK_INJURY, true).application_id();

  auto ids = [&](const v1::ListApplicationsRequest& r) {
    std::vector<std::string> out;
    auto list = legal_aid_->ListApplications(kJustice, r);
    EXPECT_THAT(list, IsOk());
    if (list.ok()) {
      for (const auto& a : list->applications()) out.push_back(a.application_id());
    }
    return out;
  };
  EXPECT_THAT(ids({}), ElementsAre(g1, g2, o1, o2));

  // Open ones by default; a state lists only that state.
  v1::CloseApplicationRequest close;
  close.set_request_id(NextRequestId());
  close.set_application_id(g1);
  close.set_reason("申请人撤回");
  ASSERT_THAT(legal_aid_->CloseApplication(kJustice, close), IsOk());
  EXPECT_THAT(ids({}), ElementsAre(g2, o1, o2));
  v1::ListApplicationsRequest closed;
  closed.set_state(v1::LEGAL_AID_STATE_CLOSED);
  EXPECT_THAT(ids(closed), ElementsAre(g1));

  // Another node's queue is its own business.
  v1::ListApplicationsRequest other;
  other.set_justice_node(kYuquan);
  EXPECT_THAT(legal_aid_->ListApplications(kJustice, other), HasReason("NOT_ALLOWED_FOR_ROLE"));
  auto yuquan = legal_aid_->ListApplications(kYuquan, {});
  ASSERT_THAT(yuquan, IsOk());
  EXPECT_EQ(yuquan->applications_size(), 0);
}

// ------------------------------------------------------------------ the gate

TEST_F(LegalAidTest, ALawyerWhoseLatestEvaluationFailedIsNeverAssigned) {
  Enrol("L-1", 5);  // would be picked: idle
  Enrol("L-2", 5);
  ASSERT_THAT(Assign(Approved()), IsOk());  // L-1 takes one (smallest id)
  ASSERT_THAT(Assign(Approved()), IsOk());  // L-2 takes one
  ASSERT_THAT(Assign(Approved()), IsOk());  // L-1: 2, L-2: 1
  ASSERT_OK_AND_ASSIGN(v1::Lawyer l2, Evaluate("L-2", 52, false));
  EXPECT_TRUE(l2.barred());
  EXPECT_FALSE(l2.latest_evaluation().passed());

  // L-2 is the least loaded, and still never picked.
  ASSERT_OK_AND_ASSIGN(v1::AssignLawyerResponse r, Assign(Approved()));
  EXPECT_EQ(r.application().lawyer_id(), "L-1");

  // Not when preferred either: refused, saying why, and nothing written.
  const std::string app = Approved();
  const uint64_t before = LastPosition();
  auto preferred = Assign(app, "L-2");
  EXPECT_THAT(preferred, HasReason("NO_ELIGIBLE_LAWYER"));
  EXPECT_THAT(preferred.status().message(), HasSubstr("evaluation failed"));
  EXPECT_EQ(ViewError(preferred.status()).metadata["gate"], "barred");
  EXPECT_EQ(LastPosition(), before);
  EXPECT_EQ(Get(app).state(), v1::LEGAL_AID_STATE_APPROVED);
}

TEST_F(LegalAidTest, ABarredLawyerIsNotAssignedEvenWhenTheOnlyOneWithCapacity) {
  Enrol("L-1", 1);
  Enrol("L-2", 5);
  ASSERT_THAT(Assign(Approved(), "L-1"), IsOk());  // L-1 is full
  ASSERT_THAT(Evaluate("L-2", 40, false), IsOk());
  const std::string app = Approved();
  const uint64_t before = LastPosition();
  auto r = Assign(app);
  EXPECT_THAT(r, HasReason("NO_ELIGIBLE_LAWYER"));
  EXPECT_EQ(ViewError(r.status()).metadata["barred"], "1");
  EXPECT_EQ(ViewError(r.status()).metadata["full"], "1");
  EXPECT_EQ(LastPosition(), before);
  EXPECT_EQ(Roster()["L-2"].active_cases(), 0);
}

TEST_F(LegalAidTest, NegativeControlAPassedEvaluationLeavesTheLawyerAssignable) {
  // The same set-up as above with a passing evaluation: L-2 is assigned,
  // both when it is the only one with capacity and when preferred.
  Enrol("L-1", 1);
  Enrol("L-2", 5);
  ASSERT_THAT(Assign(Approved(), "L-1"), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::Lawyer l2, Evaluate("L-2", 88, true));
  EXPECT_FALSE(l2.barred());
  ASSERT_OK_AND_ASSIGN(v1::AssignLawyerResponse r, Assign(Approved()));
  EXPECT_EQ(r.application().lawyer_id(), "L-2");
  ASSERT_OK_AND_ASSIGN(r, Assign(Approved(), "L-2"));
  EXPECT_EQ(r.application().lawyer_id(), "L-2");
  EXPECT_EQ(r.lawyer().active_cases(), 2);
}

TEST_F(LegalAidTest, OnlyTheLatestEvaluationCountsAndAPassNeedsThePassMark) {
  Enrol("L-1", 5);
  ASSERT_OK_AND_ASSIGN(v1::Lawyer l, Evaluate("L-1", 90, true));
  EXPECT_FALSE(l.barred());
  ASSERT_OK_AND_ASSIGN(l, Evaluate("L-1", 50, false));
  EXPECT_TRUE(l.barred());
  ASSERT_OK_AND_ASSIGN(l, Evaluate("L-1", 75, true, v1::EVALUATION_KIND_WORKER_FOLLOW_UP));
  EXPECT_FALSE(l.barred()) << "a later pass lifts the bar";
  // The evaluator's pass with a score under the pass mark is recorded failed.
  ASSERT_OK_AND_ASSIGN(l, Evaluate("L-1", PassMarkFor(v1::EVALUATION_KIND_HEARING_OBSERVATION) - 1,
                                   true, v1::EVALUATION_KIND_HEARING_OBSERVATION));
  EXPECT_TRUE(l.barred());
  EXPECT_FALSE(l.latest_evaluation().passed());
  // The evaluator may fail a lawyer whose score reaches the mark.
  ASSERT_OK_AND_ASSIGN(l, Evaluate("L-1", 80, false));
  EXPECT_TRUE(l.barred());
  EXPECT_EQ(l.latest_evaluation().evaluator(), kJustice);
  EXPECT_EQ(TimeOf(l.latest_evaluation().evaluate_time()), kWednesday);
  EXPECT_THAT(Assign(Approved()), HasReason("NO_ELIGIBLE_LAWYER"));
}

TEST_F(LegalAidTest, AnEvaluationIsNeverFutureDatedAndShowsTheNodeThatRecordedIt) {
  Enrol("L-1", 5);
  auto evaluate = [&](std::function<void(v1::EvaluateLawyerRequest&)> with) {
    v1::EvaluateLawyerRequest r;
    r.set_request_id(NextRequestId());
    r.set_lawyer_id("L-1");
    r.mutable_evaluation()->set_kind(v1::EVALUATION_KIND_HEARING_OBSERVATION);
    r.mutable_evaluation()->set_score(85);
    r.mutable_evaluation()->set_passed(true);
    with(r);
    return legal_aid_->EvaluateLawyer(kJustice, r);
  };
  // A future evaluation is refused, naming the field; nothing is written.
  const uint64_t before = LastPosition();
  absl::Status future = evaluate([](auto& r) {
    *r.mutable_evaluation()->mutable_evaluate_time() = TimeUtil::NanosecondsToTimestamp(
        absl::ToUnixNanos(kWednesday + absl::Hours(1)));
  }).status();
  EXPECT_THAT(future, HasReason("INVALID_FIELD"));
  EXPECT_EQ(ViewError(future).field, "evaluation.evaluate_time");
  EXPECT_THAT(evaluate([](auto& r) {
                r.mutable_evaluation()->mutable_evaluate_time()->set_nanos(-1);
              }),
              HasReason("INVALID_FIELD"));
  EXPECT_EQ(LastPosition(), before);

  // A past one is when the hearing was attended; the evaluator is kept as
  // given, and who recorded it is the caller, whatever the request says.
  const absl::Time hearing = kWednesday - absl::Hours(24 * 6);
  ASSERT_OK_AND_ASSIGN(v1::EvaluateLawyerResponse past, evaluate([&](auto& r) {
                         *r.mutable_evaluation()->mutable_evaluate_time() =
                             TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(hearing));
                         r.mutable_evaluation()->set_evaluator("秦州区法律援助中心质量评估组");
                         r.mutable_evaluation()->set_recorded_by(kLabor);
                       }));
  const v1::LawyerEvaluation& e = past.lawyer().latest_evaluation();
  EXPECT_EQ(TimeOf(e.evaluate_time()), hearing);
  EXPECT_EQ(e.evaluator(), "秦州区法律援助中心质量评估组");
  EXPECT_EQ(e.recorded_by(), kJustice);
  EXPECT_EQ(Roster()["L-1"].latest_evaluation().recorded_by(), kJustice);
  const std::vector<v1::Event> roster = Events(RosterStream(kJustice));
  ASSERT_TRUE(roster.back().has_lawyer_evaluated());
  EXPECT_EQ(roster.back().source(), kJustice);
  EXPECT_TRUE(roster.back().lawyer_evaluated().evaluation().recorded_by().empty())
      << "the event carries no recorder from the request";

  // Unset, it is now by the service clock.
  ASSERT_OK_AND_ASSIGN(v1::EvaluateLawyerResponse now, evaluate([](auto&) {}));
  EXPECT_EQ(TimeOf(now.lawyer().latest_evaluation().evaluate_time()), kWednesday);
  EXPECT_EQ(now.lawyer().latest_evaluation().recorded_by(), kJustice);
}

TEST_F(LegalAidTest, ALawyerMustBeSkilledInTheMatterAndAFullLawyerPassesToTheNext) {
  Enrol("L-1", 1, {v1::MATTER_WAGE_ARREARS});
  Enrol("L-2", 2, {v1::MATTER_WAGE_ARREARS, v1::MATTER_WORK_INJURY});
  Enrol("L-3", 9, {v1::MATTER_LABOR_CONTRACT_DISPUTE});
  ASSERT_OK_AND_ASSIGN(v1::AssignLawyerResponse r, Assign(Approved()));
  EXPECT_EQ(r.application().lawyer_id(), "L-1");
  EXPECT_EQ(r.lawyer().active_cases(), 1);
  ASSERT_OK_AND_ASSIGN(r, Assign(Approved()));
  EXPECT_EQ(r.application().lawyer_id(), "L-2") << "L-1 is at capacity";
  ASSERT_OK_AND_ASSIGN(r, Assign(Approved(v1::MATTER_WORK_INJURY)));
  EXPECT_EQ(r.application().lawyer_id(), "L-2") << "only L-2 knows work injury";
  EXPECT_THAT(Assign(Approved(v1::MATTER_WORK_INJURY)), HasReason("NO_ELIGIBLE_LAWYER"));
  auto unskilled = Assign(Approved(), "L-3");
  EXPECT_THAT(unskilled, HasReason("NO_ELIGIBLE_LAWYER"));
  EXPECT_EQ(ViewError(unskilled.status()).metadata["gate"], "not_skilled");
  auto full = Assign(Approved(), "L-1");
  EXPECT_EQ(ViewError(full.status()).metadata["gate"], "full");
  EXPECT_THAT(Assign(Approved(), "L-404"), HasReason("LAWYER_NOT_FOUND"));
}

TEST_F(LegalAidTest, AnEmptyRosterHasNoEligibleLawyerAndWritesNothing) {
  const std::string app = Approved();
  const uint64_t before = LastPosition();
  auto r = Assign(app);
  EXPECT_THAT(r, HasReason("NO_ELIGIBLE_LAWYER"));
  EXPECT_THAT(r.status().message(), HasSubstr("enrol"));
  EXPECT_THAT(Assign(app, "L-1"), HasReason("LAWYER_NOT_FOUND"));
  EXPECT_EQ(LastPosition(), before);
}

TEST_F(LegalAidTest, TiesGoToTheBetterLatestScoreThenTheSmallerId) {
  Enrol("L-1", 5);
  Enrol("L-2", 5);
  Enrol("L-3", 5);
  ASSERT_THAT(Evaluate("L-1", 70, true), IsOk());
  ASSERT_THAT(Evaluate("L-3", 95, true), IsOk());
  ASSERT_OK_AND_ASSIGN(v1::AssignLawyerResponse r, Assign(Approved()));
  EXPECT_EQ(r.application().lawyer_id(), "L-3");
  ASSERT_OK_AND_ASSIGN(r, Assign(Approved()));
  EXPECT_EQ(r.application().lawyer_id(), "L-1");  // L-3 now has one
  ASSERT_OK_AND_ASSIGN(r, Assign(Approved()));
  EXPECT_EQ(r.application().lawyer_id(), "L-2");  // the only idle one
}

TEST_F(LegalAidTest, ConcurrentAssignmentsNeverExceedCapacity) {
  Enrol("L-1", 2);
  Enrol("L-2", 1);
  constexpr int kApplications = 8;
  std::vector<v1::AssignLawyerRequest> requests;
  for (int i = 0; i < kApplications; ++i) requests.push_back(AssignRequest(Approved()));
  std::vector<absl::Status> results(kApplications);
  std::vector<std::thread> threads;
  for (int i = 0; i < kApplications; ++i) {
    threads.emplace_back([&, i] {
      // A contended command is retried with the same request id, as a
      // client does.
      for (;;) {
        auto r = legal_aid_->AssignLawyer(kJustice, requests[i]);
        results[i] = r.status();
        if (r.status().code() != absl::StatusCode::kAborted) break;
      }
    });
  }
  for (auto& t : threads) t.join();
  int assigned = 0;
  for (const absl::Status& s : results) {
    if (s.ok()) {
      ++assigned;
    } else {
      EXPECT_THAT(s, HasReason("NO_ELIGIBLE_LAWYER"));
    }
  }
  EXPECT_EQ(assigned, 3);
  std::map<std::string, v1::Lawyer> roster = Roster();
  EXPECT_EQ(roster["L-1"].active_cases(), 2);
  EXPECT_EQ(roster["L-2"].active_cases(), 1);
  EXPECT_EQ(Count(RosterStream(kJustice), v1::Event::kLawyerCaseTaken), 3);
}

// ------------------------------------------------------------------ the saga

TEST_F(LegalAidTest, ARetryAfterACrashBetweenRosterAndCaseFinishesTheAssignment) {
  Enrol("L-1", 2);
  const std::string app = Approved();
  const v1::AssignLawyerRequest request = AssignRequest(app);
  // The roster step lands; the case append is lost.
  int appends = 0;
  std::function<absl::Status(const v1::AppendRequest&)> crash_on_case;
  crash_on_case = [&](const v1::AppendRequest& r) -> absl::Status {
    ++appends;
    if (absl::StartsWith(r.case_id(), "roster:")) {
      hooked_->before_append = crash_on_case;  // watch the next append too
      return absl::OkStatus();
    }
    return absl::UnavailableError("the case log went away");
  };
  hooked_->before_append = crash_on_case;
  EXPECT_THAT(legal_aid_->AssignLawyer(kJustice, request),
              ::referral::testing::StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(appends, 2);
  // Half done: the roster holds the slot, the case does not show it yet.
  EXPECT_EQ(Roster()["L-1"].active_cases(), 1);
  EXPECT_EQ(Get(app).state(), v1::LEGAL_AID_STATE_APPROVED);

  ASSERT_OK_AND_ASSIGN(v1::AssignLawyerResponse r,
                       legal_aid_->AssignLawyer(kJustice, request));
  EXPECT_EQ(r.application().state(), v1::LEGAL_AID_STATE_ASSIGNED);
  EXPECT_EQ(r.application().lawyer_id(), "L-1");
  EXPECT_EQ(r.lawyer().active_cases(), 1) << "the retry took no second slot";
  EXPECT_EQ(Count(RosterStream(kJustice), v1::Event::kLawyerCaseTaken), 1);

  // Done is done: the same request answers alike and changes nothing. The
  // one write is the record that the owner saw the applicant's contact
  // again (audit:<case>).
  const uint64_t before = LastPosition();
  const size_t case_events = Events(CaseOfApplication(app)).size();
  const size_t roster_events = Events(RosterStream(kJustice)).size();
  ASSERT_OK_AND_ASSIGN(v1::AssignLawyerResponse again,
                       legal_aid_->AssignLawyer(kJustice, request));
  EXPECT_EQ(again.application().lawyer_id(), "L-1");
  EXPECT_EQ(Events(CaseOfApplication(app)).size(), case_events);
  EXPECT_EQ(Events(RosterStream(kJustice)).size(), roster_events);
  EXPECT_EQ(LastPosition(), before + 1);
  const std::vector<v1::Event> audit = Events("audit:" + CaseOfApplication(app));
  ASSERT_FALSE(audit.empty());
  EXPECT_EQ(audit.back().personal_data_accessed().method(), "AssignLawyer");
}

TEST_F(LegalAidTest, ALaterAssignmentAdoptsAnUnfinishedTakeInsteadOfTakingAnother) {
  Enrol("L-1", 5);
  Enrol("L-2", 5);
  const std::string app = Approved();
  std::function<absl::Status(const v1::AppendRequest&)> crash_on_case =
      [&](const v1::AppendRequest& r) -> absl::Status {
    if (absl::StartsWith(r.case_id(), "roster:")) {
      hooked_->before_append = [](const v1::AppendRequest&) {
        return absl::UnavailableError("the case log went away");
      };
    }
    return absl::OkStatus();
  };
  hooked_->before_append = crash_on_case;
  ASSERT_FALSE(Assign(app).ok());
  // Another lawyer may not be forced in while L-1 holds the application.
  EXPECT_THAT(Assign(app, "L-2"), HasReason("LEGAL_AID_STATE_CONFLICT"));
  ASSERT_OK_AND_ASSIGN(v1::AssignLawyerResponse r, Assign(app));
  EXPECT_EQ(r.application().lawyer_id(), "L-1");
  EXPECT_EQ(Count(RosterStream(kJustice), v1::Event::kLawyerCaseTaken), 1);
  EXPECT_EQ(Roster()["L-2"].active_cases(), 0);
}

TEST_F(LegalAidTest, AnApplicationClosedWhileItsLawyerWasTakenGivesTheSlotBack) {
  Enrol("L-1", 1);
  const std::string app = Approved();
  // Just before the take is appended, the application is closed.
  hooked_->before_append = [&](const v1::AppendRequest& r) -> absl::Status {
    EXPECT_TRUE(absl::StartsWith(r.case_id(), "roster:"));
    v1::CloseApplicationRequest close;
    close.set_request_id("close-in-between");
    close.set_application_id(app);
    close.set_reason("申请人撤回");
    EXPECT_THAT(legal_aid_->CloseApplication(kJustice, close), IsOk());
    return absl::OkStatus();
  };
  EXPECT_THAT(Assign(app), HasReason("LEGAL_AID_STATE_CONFLICT"));
  EXPECT_EQ(Get(app).state(), v1::LEGAL_AID_STATE_CLOSED);
  EXPECT_EQ(Roster()["L-1"].active_cases(), 0);
  EXPECT_EQ(Count(RosterStream(kJustice), v1::Event::kLawyerCaseTaken), 1);
  EXPECT_EQ(Count(RosterStream(kJustice), v1::Event::kLawyerCaseReleased), 1);
  ASSERT_OK_AND_ASSIGN(v1::AssignLawyerResponse r, Assign(Approved()));
  EXPECT_EQ(r.application().lawyer_id(), "L-1") << "the slot is free again";
}

TEST_F(LegalAidTest, ARetryThatFindsTheApplicationClosedGivesBackATakeItMadeAfterTheClose) {
  Enrol("L-1", 1);
  const std::string app = Approved();
  const v1::AssignLawyerRequest request = AssignRequest(app);
  // The assignment read the application APPROVED. Just before its take
  // lands, the application is closed (no take yet: the close releases
  // nothing); then the take lands, and the step dies before the case step.
  hooked_->before_append = [&](const v1::AppendRequest& r) -> absl::Status {
    EXPECT_TRUE(absl::StartsWith(r.case_id(), "roster:"));
    v1::CloseApplicationRequest close;
    close.set_request_id("close-before-the-take");
    close.set_application_id(app);
    close.set_reason("申请人撤回");
    EXPECT_THAT(legal_aid_->CloseApplication(kJustice, close), IsOk());
    hooked_->before_read = [&](absl::string_view stream) -> absl::Status {
      if (absl::StartsWith(stream, "roster:")) return absl::OkStatus();
      hooked_->before_read = nullptr;
      return absl::UnavailableError("the service died before the case step");
    };
    return absl::OkStatus();
  };
  EXPECT_THAT(legal_aid_->AssignLawyer(kJustice, request),
              ::referral::testing::StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(Get(app).state(), v1::LEGAL_AID_STATE_CLOSED);
  EXPECT_EQ(Roster()["L-1"].active_cases(), 1) << "the take outlived the close";
  EXPECT_EQ(Count(RosterStream(kJustice), v1::Event::kLawyerCaseReleased), 0);

  // The retry finds the application closed and takes nothing (its lawyer
  // is unknown to it), yet gives the slot back: the take is the
  // application's.
  EXPECT_THAT(legal_aid_->AssignLawyer(kJustice, request),
              HasReason("LEGAL_AID_STATE_CONFLICT"));
  EXPECT_EQ(Roster()["L-1"].active_cases(), 0);
  EXPECT_EQ(Count(RosterStream(kJustice), v1::Event::kLawyerCaseReleased), 1);
  // Once: another retry releases nothing more.
  EXPECT_THAT(legal_aid_->AssignLawyer(kJustice, request),
              HasReason("LEGAL_AID_STATE_CONFLICT"));
  EXPECT_EQ(Count(RosterStream(kJustice), v1::Event::kLawyerCaseReleased), 1);
  ASSERT_OK_AND_ASSIGN(v1::AssignLawyerResponse r, Assign(Approved()));
  EXPECT_EQ(r.application().lawyer_id(), "L-1") << "the slot is free again";
}

TEST_F(LegalAidTest, ClosingEndsTheAidFreesTheLawyerAndClearsWhatIsOpen) {
  Enrol("L-1", 1);
  const std::string app = Approved();
  ASSERT_THAT(Assign(app), IsOk());
  EXPECT_THAT(Assign(Approved()), HasReason("NO_ELIGIBLE_LAWYER"));
  v1::CloseApplicationRequest close;
  close.set_request_id(NextRequestId());
  close.set_application_id(app);
  close.set_reason("结案");
  ASSERT_OK_AND_ASSIGN(v1::CloseApplicationResponse closed,
                       legal_aid_->CloseApplication(kJustice, close));
  EXPECT_EQ(closed.application().state(), v1::LEGAL_AID_STATE_CLOSED);
  EXPECT_EQ(closed.application().lawyer_id(), "L-1");
  EXPECT_EQ(Roster()["L-1"].active_cases(), 0);
  // A retry releases nothing twice.
  ASSERT_THAT(legal_aid_->CloseApplication(kJustice, close), IsOk());
  EXPECT_EQ(Count(RosterStream(kJustice), v1::Event::kLawyerCaseReleased), 1);
  EXPECT_THAT(legal_aid_->CloseApplication(kJustice, [&] {
    auto r = close;
    r.set_request_id(NextRequestId());
    return r;
  }()), HasReason("LEGAL_AID_STATE_CONFLICT"));

  // Closing before review clears the review and assignment deadlines.
  const std::string pending = Apply(OpenCase()).application_id();
  close.set_request_id(NextRequestId());
  close.set_application_id(pending);
  close.set_reason("申请人撤回");
  ASSERT_THAT(legal_aid_->CloseApplication(kJustice, close), IsOk());
  fold_ = deadlines::DeadlineFold::Of(Events(CaseOfApplication(pending)));
  EXPECT_FALSE(fold_.IsOpen(pending + "/review"));
  EXPECT_FALSE(fold_.IsOpen(pending + "/assign"));
}

// ------------------------------------------------------------------ who

TEST_F(LegalAidTest, OnlyJusticeNodesRunLegalAid) {
  const std::string case_id = OpenCase(kLabor);
  const uint64_t before = LastPosition();
  EXPECT_THAT(legal_aid_->ApplyForLegalAid(kLabor, ApplyRequest(case_id)),
              HasReason("NOT_ALLOWED_FOR_ROLE"));
  v1::EnrolLawyerRequest enrol;
  enrol.set_request_id(NextRequestId());
  enrol.mutable_lawyer()->set_lawyer_id("L-1");
  enrol.mutable_lawyer()->set_name("某律师");
  enrol.mutable_lawyer()->add_specialties(v1::MATTER_WAGE_ARREARS);
  enrol.mutable_lawyer()->set_capacity(1);
  EXPECT_THAT(legal_aid_->EnrolLawyer(kLabor, enrol), HasReason("NOT_ALLOWED_FOR_ROLE"));
  EXPECT_EQ(LastPosition(), before);

  const std::string app = Approved();
  for (Step step : {Step::kReview, Step::kAssign, Step::kFlag, Step::kClose}) {
    SCOPED_TRACE(RuleFor(step).method);
    absl::Status s;
    switch (step) {
      case Step::kReview: s = Review(app, true, kLabor).status(); break;
      case Step::kAssign: s = legal_aid_->AssignLawyer(kLabor, AssignRequest(app)).status(); break;
      case Step::kFlag: {
        v1::FlagMajorCaseRequest r;
        r.set_request_id(NextRequestId());
        r.set_application_id(app);
        r.set_reason("群体性");
        s = legal_aid_->FlagMajorCase(kLabor, r).status();
        break;
      }
      case Step::kClose: {
        v1::CloseApplicationRequest r;
        r.set_request_id(NextRequestId());
        r.set_application_id(app);
        r.set_reason("结案");
        s = legal_aid_->CloseApplication(kLabor, r).status();
        break;
      }
    }
    EXPECT_THAT(s, HasReason("NOT_ALLOWED_FOR_ROLE"));
  }
}

TEST_F(LegalAidTest, AJusticeNodeActsOnlyOnItsOwnApplicationsAndCasesItIsPartyTo) {
  const std::string case_id = OpenCase(kJustice);
  // The town station is not party to the district's case.
  EXPECT_THAT(legal_aid_->ApplyForLegalAid(kYuquan, ApplyRequest(case_id)),
              HasReason("NOT_A_PARTY"));
  const std::string app = Apply(case_id).application_id();
  // Once party (a referral to it), it still may not review another's application.
  Send(case_id, kYuquan);
  EXPECT_THAT(Review(app, true, kYuquan), HasReason("NOT_ALLOWED_FOR_ROLE"));
  EXPECT_EQ(Get(app, kYuquan).state(), v1::LEGAL_AID_STATE_APPLIED) << "it may read it";
  // An outsider may not even read it.
  v1::GetApplicationRequest get;
  get.set_application_id(app);
  EXPECT_THAT(legal_aid_->GetApplication(broker::kOutsider, get), HasReason("NOT_A_PARTY"));
}

TEST_F(LegalAidTest, TheStepTableSaysFromWhichStatesEachStepMayBeTaken) {
  Enrol("L-1", 9);
  auto in_state = [&](v1::LegalAidState state) {
    const std::string app = Apply(OpenCase()).application_id();
    if (state == v1::LEGAL_AID_STATE_DENIED) {
      EXPECT_THAT(Review(app, false), IsOk());
    }
    if (state == v1::LEGAL_AID_STATE_APPROVED || state == v1::LEGAL_AID_STATE_ASSIGNED ||
        state == v1::LEGAL_AID_STATE_CLOSED) {
      EXPECT_THAT(Review(app, true), IsOk());
    }
    if (state == v1::LEGAL_AID_STATE_ASSIGNED) {
      EXPECT_THAT(Assign(app), IsOk());
    }
    if (state == v1::LEGAL_AID_STATE_CLOSED) {
      v1::CloseApplicationRequest r;
      r.set_request_id(NextRequestId());
      r.set_application_id(app);
      r.set_reason("结案");
      EXPECT_THAT(legal_aid_->CloseApplication(kJustice, r), IsOk());
    }
    return app;
  };
  for (const StepRule& rule : StepRules()) {
    for (const Term<v1::LegalAidState>& state : LegalAidStates()) {
      SCOPED_TRACE(absl::StrCat(rule.method, " from ", state.key));
      const std::string app = in_state(state.value);
      ASSERT_EQ(Get(app).state(), state.value);
      absl::Status s;
      switch (rule.step) {
        case Step::kReview: s = Review(app, true).status(); break;
        case Step::kAssign: s = Assign(app).status(); break;
        case Step::kFlag: {
          v1::FlagMajorCaseRequest r;
          r.set_request_id(NextRequestId());
          r.set_application_id(app);
          r.set_reason("群体性欠薪");
          s = legal_aid_->FlagMajorCase(kJustice, r).status();
          break;
        }
        case Step::kClose: {
          v1::CloseApplicationRequest r;
          r.set_request_id(NextRequestId());
          r.set_application_id(app);
          r.set_reason("结案");
          s = legal_aid_->CloseApplication(kJustice, r).status();
          break;
        }
      }
      if (Allows(rule, state.value)) {
        EXPECT_THAT(s, IsOk());
      } else {
        EXPECT_THAT(s, HasReason("LEGAL_AID_STATE_CONFLICT"));
      }
    }
  }
}

// ------------------------------------------------------------------ apply

TEST_F(LegalAidTest, AnApplicationMayComeByAReferralAddressedToTheCaller) {
  const std::string case_id = OpenCase(kLabor);
  const std::string referral = Send(case_id, kJustice, kLabor);
  v1::ApplyForLegalAidRequest r = ApplyRequest(case_id);
  r.clear_channel();
  r.set_referral_id(referral);
  r.clear_matter();  // the case's
  ASSERT_OK_AND_ASSIGN(v1::ApplyForLegalAidResponse a,
                       legal_aid_->ApplyForLegalAid(kJustice, r));
  EXPECT_EQ(a.application().referral_id(), referral);
  EXPECT_EQ(a.application().channel(), v1::INTAKE_CHANNEL_HOTLINE) << "the case's channel";
  EXPECT_EQ(a.application().matter(), v1::MATTER_WAGE_ARREARS);
  EXPECT_EQ(a.application().application_id(), case_id + "/a1");
  // The referring node sees it in its feed.
  v1::ReadAllRequest feed;
  feed.mutable_filter()->set_node(kLabor);
  feed.mutable_filter()->set_event_type("referral.v1.LegalAidApplied");
  ASSERT_OK_AND_ASSIGN(v1::ReadAllResponse page, log_.ReadAll(feed));
  EXPECT_EQ(page.events_size(), 1);

  // A referral the caller turned down, or one sent elsewhere, is no way in.
  const std::string elsewhere = Send(case_id, broker::kArbitration, kLabor);
  r.set_request_id(NextRequestId());
  r.set_referral_id(elsewhere);
  EXPECT_THAT(legal_aid_->ApplyForLegalAid(kJustice, r), HasReason("NOT_ALLOWED_FOR_ROLE"));
  const std::string rejected = Send(case_id, kJustice, kLabor);
  ASSERT_THAT(Take(Action::kReject, kJustice, rejected), IsOk());
  r.set_request_id(NextRequestId());
  r.set_referral_id(rejected);
  EXPECT_THAT(legal_aid_->ApplyForLegalAid(kJustice, r), HasReason("REFERRAL_STATE_CONFLICT"));
  r.set_request_id(NextRequestId());
  r.set_referral_id(case_id + "/r99");
  EXPECT_THAT(legal_aid_->ApplyForLegalAid(kJustice, r), HasReason("REFERRAL_NOT_FOUND"));
}

TEST_F(LegalAidTest, BadInputIsRefusedAndWritesNothing) {
  const std::string case_id = OpenCase();
  Enrol("L-1", 1);
  const std::string app = Apply(case_id).application_id();
  const uint64_t before = LastPosition();

  auto apply = [&](std::function<void(v1::ApplyForLegalAidRequest&)> spoil) {
    v1::ApplyForLegalAidRequest r = ApplyRequest(case_id);
    spoil(r);
    return legal_aid_->ApplyForLegalAid(kJustice, r).status();
  };
  EXPECT_THAT(apply([](auto& r) { r.clear_channel(); }), HasReason("INVALID_FIELD"));
  EXPECT_THAT(apply([](auto& r) { r.mutable_applicant()->clear_name(); }),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(apply([](auto& r) { r.set_referral_id("other.case:2026-000001/r1"); }),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(apply([](auto& r) { r.set_request_id("has spaces"); }),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(apply([](auto& r) { r.set_case_id("qinzhou.justice:2026-999999"); }),
              HasReason("CASE_NOT_FOUND"));
  EXPECT_THAT(apply([](auto& r) { r.set_summary(std::string(3000, 'x')); }),
              HasReason("INVALID_FIELD"));

  v1::ReviewApplicationRequest deny;
  deny.set_request_id(NextRequestId());
  deny.set_application_id(app);
  deny.set_approved(false);  // no reason
  EXPECT_THAT(legal_aid_->ReviewApplication(kJustice, deny), HasReason("INVALID_FIELD"));
  deny.set_reason("x");
  deny.set_application_id(case_id + "/r1");
  EXPECT_THAT(legal_aid_->ReviewApplication(kJustice, deny), HasReason("INVALID_FIELD"));
  deny.set_application_id(case_id + "/a9");
  EXPECT_THAT(legal_aid_->ReviewApplication(kJustice, deny),
              HasReason("APPLICATION_NOT_FOUND"));
  EXPECT_THAT(Assign(app), HasReason("LEGAL_AID_STATE_CONFLICT")) << "not yet approved";

  auto enrol = [&](std::function<void(v1::Lawyer&)> spoil) {
    v1::EnrolLawyerRequest r;
    r.set_request_id(NextRequestId());
    v1::Lawyer& l = *r.mutable_lawyer();
    l.set_lawyer_id("L-9");
    l.set_name("某律师");
    l.add_specialties(v1::MATTER_WAGE_ARREARS);
    l.set_capacity(2);
    spoil(l);
    return legal_aid_->EnrolLawyer(kJustice, r).status();
  };
  EXPECT_THAT(enrol([](auto& l) { l.set_lawyer_id("L 9"); }), HasReason("INVALID_FIELD"));
  EXPECT_THAT(enrol([](auto& l) { l.set_lawyer_id(""); }), HasReason("INVALID_FIELD"));
  EXPECT_THAT(enrol([](auto& l) { l.clear_name(); }), HasReason("INVALID_FIELD"));
  EXPECT_THAT(enrol([](auto& l) { l.clear_specialties(); }), HasReason("INVALID_FIELD"));
  EXPECT_THAT(enrol([](auto& l) { l.add_specialties(v1::MATTER_WAGE_ARREARS); }),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(enrol([](auto& l) { l.set_capacity(0); }), HasReason("INVALID_FIELD"));

  EXPECT_THAT(Evaluate("L-1", 101, true), HasReason("INVALID_FIELD"));
  EXPECT_THAT(Evaluate("L-1", -1, false), HasReason("INVALID_FIELD"));
  EXPECT_THAT(Evaluate("L-1", 80, true, v1::EVALUATION_KIND_UNSPECIFIED),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(Evaluate("L-404", 80, true), HasReason("LAWYER_NOT_FOUND"));

  v1::FlagMajorCaseRequest flag;
  flag.set_request_id(NextRequestId());
  flag.set_application_id(app);
  EXPECT_THAT(legal_aid_->FlagMajorCase(kJustice, flag), HasReason("INVALID_FIELD"));

  EXPECT_EQ(LastPosition(), before);
}

TEST_F(LegalAidTest, RetriesHaveTheirEffectOnceAndAReusedRequestIdIsRefused) {
  const std::string case_id = OpenCase();
  v1::ApplyForLegalAidRequest r = ApplyRequest(case_id);
  ASSERT_OK_AND_ASSIGN(v1::ApplyForLegalAidResponse first,
                       legal_aid_->ApplyForLegalAid(kJustice, r));
  SetNow(kWednesday + absl::Hours(1));
  ASSERT_OK_AND_ASSIGN(v1::ApplyForLegalAidResponse again,
                       legal_aid_->ApplyForLegalAid(kJustice, r));
  EXPECT_EQ(again.application().application_id(), first.application().application_id());
  EXPECT_EQ(TimeOf(again.application().apply_time()), kWednesday);
  EXPECT_EQ(Count(case_id, v1::Event::kLegalAidApplied), 1);
  // Also after a restart of the store and the service.
  legal_aid_.reset();
  OpenStore();
  hooked_ = std::make_unique<HookedLog>(&log_);
  legal_aid_ = std::make_unique<LegalAid>(hooked_.get(), local_directory_.get(), &calendar_);
  ASSERT_OK_AND_ASSIGN(again, legal_aid_->ApplyForLegalAid(kJustice, r));
  EXPECT_EQ(again.application().application_id(), first.application().application_id());
  EXPECT_EQ(Count(case_id, v1::Event::kLegalAidApplied), 1);

  r.set_summary("another claim");
  EXPECT_THAT(legal_aid_->ApplyForLegalAid(kJustice, r), HasReason("REQUEST_ID_REUSED"));

  // An enrolment retried is one entry; an evaluation retried is one event.
  v1::EnrolLawyerRequest enrol;
  enrol.set_request_id("enrol-1");
  enrol.mutable_lawyer()->set_lawyer_id("L-1");
  enrol.mutable_lawyer()->set_name("王律师");
  enrol.mutable_lawyer()->add_specialties(v1::MATTER_WAGE_ARREARS);
  enrol.mutable_lawyer()->set_capacity(3);
  ASSERT_THAT(legal_aid_->EnrolLawyer(kJustice, enrol), IsOk());
  ASSERT_THAT(legal_aid_->EnrolLawyer(kJustice, enrol), IsOk());
  EXPECT_EQ(Count(RosterStream(kJustice), v1::Event::kLawyerEnrolled), 1);
}

TEST_F(LegalAidTest, EnrollingAgainUpdatesTheEntryAndKeepsWhatTheRosterLearned) {
  Enrol("L-1", 1);
  ASSERT_THAT(Evaluate("L-1", 90, true), IsOk());
  ASSERT_THAT(Assign(Approved()), IsOk());
  Enrol("L-1", 4, {v1::MATTER_WORK_INJURY});
  v1::Lawyer l = Roster()["L-1"];
  EXPECT_EQ(l.capacity(), 4);
  EXPECT_EQ(l.active_cases(), 1);
  EXPECT_EQ(l.latest_evaluation().score(), 90);
  EXPECT_EQ(l.justice_node(), kJustice);
  EXPECT_THAT(l.specialties(), ElementsAre(v1::MATTER_WORK_INJURY));
  // Each justice node has its own roster.
  EXPECT_TRUE(Roster(kYuquan).empty());
}

// ------------------------------------------------------------------ flag

TEST_F(LegalAidTest, AMajorCaseIsSupervisedByTheParentNodeOrTheDistrictCentreItself) {
  const std::string app = Approved();
  v1::FlagMajorCaseRequest flag;
  flag.set_request_id(NextRequestId());
  flag.set_application_id(app);
  flag.set_reason("群体性欠薪，涉及 23 人");
  ASSERT_OK_AND_ASSIGN(v1::FlagMajorCaseResponse r, legal_aid_->FlagMajorCase(kJustice, flag));
  EXPECT_TRUE(r.application().major_difficult());
  EXPECT_EQ(r.application().major_reason(), "群体性欠薪，涉及 23 人");
  EXPECT_EQ(Events(CaseOfApplication(app)).back().legal_aid_major_case_flagged().supervisor_node(),
            kJustice);
  flag.set_request_id(NextRequestId());
  EXPECT_THAT(legal_aid_->FlagMajorCase(kJustice, flag), HasReason("LEGAL_AID_STATE_CONFLICT"));

  // A town station's major case goes to the district centre, which becomes
  // party to the case.
  const std::string town_case = OpenCase(kYuquan);
  const std::string town_app = Apply(town_case, v1::MATTER_WAGE_ARREARS, true, kYuquan)
                                   .application_id();
  flag.set_request_id(NextRequestId());
  flag.set_application_id(town_app);
  v1::GetApplicationRequest get;
  get.set_application_id(town_app);
  EXPECT_THAT(legal_aid_->GetApplication(kJustice, get), HasReason("NOT_A_PARTY"));
  ASSERT_THAT(legal_aid_->FlagMajorCase(kYuquan, flag), IsOk());
  const v1::Event flagged = Events(town_case).back();
  EXPECT_EQ(flagged.legal_aid_major_case_flagged().supervisor_node(), kJustice);
  EXPECT_THAT(flagged.involved_nodes(), ElementsAre(kJustice));
  EXPECT_TRUE(Get(town_app, kJustice).major_difficult());
}

// ------------------------------------------------------------------ personal data

constexpr char kContact[] = "138-0000-0000";
constexpr char kMaskedContact[] = "138-****-0000";
constexpr char kApplicantId[] = "620502199003071610";
constexpr char kMaskedId[] = "620*************10";

class ApplicantPrivacyTest : public LegalAidTest {
 protected:
  v1::ApplyForLegalAidRequest WithIdNumber(v1::ApplyForLegalAidRequest r) {
    r.mutable_applicant()->set_id_number(kApplicantId);
    return r;
  }
  std::vector<v1::Event> Audit(const std::string& case_id) {
    return Events("audit:" + case_id);
  }

  void ExpectClear(const v1::LegalAidApplication& a) {
    EXPECT_EQ(a.applicant().contact(), kContact);
    EXPECT_EQ(a.applicant().id_number(), kApplicantId);
  }
  void ExpectMasked(const v1::LegalAidApplication& a) {
    EXPECT_EQ(a.applicant().contact(), kMaskedContact);
    EXPECT_EQ(a.applicant().id_number(), kMaskedId);
    EXPECT_EQ(a.applicant().name(), "工人代表");  // names stay
  }
};

TEST_F(ApplicantPrivacyTest, TheOwnerSeesTheApplicantInClearAndEachClearAnswerIsRecorded) {
  const std::string case_id = OpenCase(kJustice);
  ASSERT_OK_AND_ASSIGN(v1::ApplyForLegalAidResponse applied,
                       legal_aid_->ApplyForLegalAid(kJustice, WithIdNumber(ApplyRequest(case_id))));
  ExpectClear(applied.application());
  const std::string app = applied.application().application_id();
  ExpectClear(Get(app));
  ASSERT_OK_AND_ASSIGN(v1::LegalAidApplication reviewed, Review(app, true));
  ExpectClear(reviewed);

  EXPECT_THAT(ClearReads(case_id),
              ElementsAre("qinzhou.justice ApplyForLegalAid ACCESS_ROLE_OWNER",
                          "qinzhou.justice GetApplication ACCESS_ROLE_OWNER",
                          "qinzhou.justice ReviewApplication ACCESS_ROLE_OWNER"));
  for (const v1::Event& e : Audit(case_id)) {
    const v1::PersonalDataAccessed& a = e.personal_data_accessed();
    EXPECT_EQ(a.case_id(), case_id);
    EXPECT_THAT(a.fields(), ElementsAre("contact", "id_number"));
    EXPECT_EQ(e.source(), kJustice);
    EXPECT_THAT(e.involved_nodes(), ElementsAre(kJustice));
    EXPECT_EQ(e.actor().role(), "owner");
  }
  // The case stream holds the application, never the record of its reads.
  for (const v1::Event& e : Events(case_id)) EXPECT_FALSE(e.has_personal_data_accessed());
}

TEST_F(ApplicantPrivacyTest, AJusticeNodeNotWorkingTheCaseSeesItMaskedUnrecorded) {
  // Labour inspection's case, referred to the legal-aid centre, which has
  // not accepted the referral: it applies, and what it wrote comes back
  // masked.
  const std::string case_id = OpenCase(kLabor);
  const std::string referral = Send(case_id, kJustice, kLabor);
  v1::ApplyForLegalAidRequest r = WithIdNumber(ApplyRequest(case_id));
  r.set_referral_id(referral);
  ASSERT_OK_AND_ASSIGN(v1::ApplyForLegalAidResponse applied,
                       legal_aid_->ApplyForLegalAid(kJustice, r));
  ExpectMasked(applied.application());
  const std::string app = applied.application().application_id();
  ExpectMasked(Get(app));
  ASSERT_OK_AND_ASSIGN(v1::LegalAidApplication reviewed, Review(app, true));
  ExpectMasked(reviewed);
  EXPECT_TRUE(Audit(case_id).empty());

  // Negative control: the owner reads the same application in clear.
  ExpectClear(Get(app, kLabor));
  // Accepting the referral makes the centre a working addressee.
  ASSERT_THAT(Take(Action::kAccept, kJustice, referral), IsOk());
  ExpectClear(Get(app));
  EXPECT_THAT(ClearReads(case_id),
              ElementsAre("qinzhou.labor-inspection GetApplication ACCESS_ROLE_OWNER",
                          "qinzhou.justice GetApplication "
                          "ACCESS_ROLE_WORKING_ADDRESSEE"));
}

TEST_F(ApplicantPrivacyTest, TheQueueIsMaskedEvenForTheOwnerAndNotRecorded) {
  const std::string case_id = OpenCase(kJustice);
  ASSERT_THAT(legal_aid_->ApplyForLegalAid(kJustice, WithIdNumber(ApplyRequest(case_id))),
              IsOk());
  const size_t recorded = Audit(case_id).size();
  ASSERT_OK_AND_ASSIGN(v1::ListApplicationsResponse queue,
                       legal_aid_->ListApplications(kJustice, {}));
  ASSERT_EQ(queue.applications_size(), 1);
  ExpectMasked(queue.applications(0));
  EXPECT_EQ(Audit(case_id).size(), recorded);
}

TEST_F(ApplicantPrivacyTest, AClearAnswerThatCannotBeRecordedIsRefused) {
  const std::string case_id = OpenCase(kJustice);
  const std::string app = Apply(case_id).application_id();
  Send(case_id, kYuquan);  // party, not working the case
  auto refuse_audit = [](const v1::AppendRequest& r) -> absl::Status {
    if (absl::StartsWith(r.case_id(), "audit:")) return absl::UnavailableError("down");
    return absl::OkStatus();
  };
  v1::GetApplicationRequest get;
  get.set_application_id(app);
  hooked_->before_append = refuse_audit;
  EXPECT_THAT(legal_aid_->GetApplication(kJustice, get),
              ::referral::testing::StatusIs(absl::StatusCode::kUnavailable));
  // Negative control: a masked read needs no record and is served.
  hooked_->before_append = refuse_audit;
  ASSERT_OK_AND_ASSIGN(v1::GetApplicationResponse masked,
                       legal_aid_->GetApplication(kYuquan, get));
  EXPECT_EQ(masked.application().applicant().contact(), kMaskedContact);
  hooked_->before_append = nullptr;
}

}  // namespace
}  // namespace referral::legalaid
