// The scheduler's rules, over a real event store on disk, the default
// directory and a clock the tests hold.

#include "services/referral/forwarding_log.h"
#include "services/deadlines/scheduler.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/timestamps.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "services/referral/local_ports.h"

namespace referral::deadlines {
namespace {

using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;
using B = v1::Event::BodyCase;
using google::protobuf::util::TimeUtil;

constexpr char kJustice[] = "qinzhou.justice";
constexpr char kLabor[] = "qinzhou.labor-inspection";  // district: no parent
constexpr char kYuquan[] = "qinzhou.justice.yuquan";
constexpr char kXiguan[] = "qinzhou.justice.yuquan.xiguan";  // parent: yuquan
constexpr char kPetition[] = "qinzhou.petition";
constexpr char kUnion[] = "qinzhou.union";

absl::Time Shanghai(int y, int m, int d, int hh, int mm) {
  absl::TimeZone z;
  if (!absl::LoadTimeZone("Asia/Shanghai", &z)) z = absl::FixedTimeZone(8 * 3600);
  return absl::FromCivil(absl::CivilMinute(y, m, d, hh, mm), z);
}

// A case log port that forwards to another, with faults to inject.
class FaultyLog final : public broker::ForwardingLog {
 public:
  using ForwardingLog::ForwardingLog;
  // Appends land, but the answer is lost on the way back.
  bool lose_append_answers = false;
  // The process dies before it records its checkpoints (all of them, or
  // only the one named).
  bool fail_checkpoints = false;
  std::string fail_checkpoint_named;

  absl::StatusOr<v1::AppendResponse> Append(const v1::AppendRequest& r) override {
    auto out = ForwardingLog::Append(r);
    if (lose_append_answers && out.ok()) return absl::UnavailableError("connection reset");
    return out;
  }
  absl::Status SetCheckpoint(absl::string_view name, uint64_t position) override {
    if (fail_checkpoints || name == fail_checkpoint_named) {
      return absl::UnavailableError("killed before the checkpoint");
    }
    return ForwardingLog::SetCheckpoint(name, position);
  }
};

// A case log port that notes where the scheduler reads the feed of
// DeadlineSets from.
class FeedSpy final : public broker::ForwardingLog {
 public:
  using ForwardingLog::ForwardingLog;
  // The lowest position a read of the DeadlineSet type index started at.
  uint64_t set_feed_from = UINT64_MAX;

  absl::StatusOr<v1::ReadAllResponse> ReadAll(const v1::ReadAllRequest& r) override {
    if (r.filter().event_type() == v1::DeadlineSet::descriptor()->full_name()) {
      set_feed_from = std::min<uint64_t>(set_feed_from, r.from_position());
    }
    return ForwardingLog::ReadAll(r);
  }
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> n{0};
    dir_ = std::filesystem::path(::testing::TempDir()) /
           absl::StrCat("scheduler_", getpid(), "_", n++);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto d = directory::Directory::LoadFile(QINZHOU_TOML);
    ASSERT_TRUE(d.ok()) << d.status();
    directory_ = std::make_unique<directory::Directory>(std::move(*d));
    local_directory_ = std::make_unique<broker::LocalDirectory>(directory_.get());
    OpenStore();
  }
  void TearDown() override {
    core_.Detach().reset();
    std::filesystem::remove_all(dir_);
  }

  // (Re)opens the store: a restart of the case log.
  void OpenStore() {
    core_.Detach().reset();
    storage::EventStoreOptions o;
    o.path = (dir_ / "log").string();
    auto store = storage::EventStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.status();
    core_.Attach(std::move(*store));
  }

  std::unique_ptr<Scheduler> NewScheduler(SchedulerOptions o = {},
                                          broker::CaseLogPort* log = nullptr) {
    o.clock = [this] { return now_; };
    return std::make_unique<Scheduler>(log ? log : &log_, local_directory_.get(), o);
  }

  // Appends one event to a case as `source`; returns its global position.
  uint64_t Append(const std::string& case_id, v1::Event e,
                  const std::string& source = kJustice) {
    v1::AppendRequest r;
    r.set_case_id(case_id);
    e.set_event_id(absl::StrCat("t-", ++events_));
    e.set_source(source);
    *r.add_events() = std::move(e);
    auto out = log_.Append(r);
    EXPECT_THAT(out, IsOk());
    return out.ok() ? out->first_position() : 0;
  }

  std::string OpenCase() {
    const std::string id = absl::StrCat("qinzhou.justice:2026-", 100000 + ++cases_);
    v1::Event e;
    e.mutable_case_opened()->set_owning_node(kJustice);
    e.mutable_case_opened()->set_title("wages owed");
    Append(id, e);
    return id;
  }

  // Sets a deadline of `kind` in `case_id`, due `due_in` after t0_; returns
  // the position of its DeadlineSet.
  uint64_t Set(const std::string& case_id, const std::string& deadline_id,
               const std::string& responsible, absl::Duration due_in = absl::Hours(4),
               v1::DeadlineKind kind = v1::DEADLINE_KIND_REFERRAL_ACCEPTANCE,
               const std::string& escalate_to = "",
               std::vector<std::string> notify = {}) {
    DeadlineSpec spec;
    spec.kind = kind;
    spec.deadline_id = deadline_id;
    spec.subject_id = case_id + "/r1";
    spec.responsible_node = responsible;
    spec.due_time = t0_ + due_in;
    spec.escalate_to = escalate_to;
    spec.notify_nodes = std::move(notify);
    return Append(case_id, SetDeadline(spec, t0_, calendar_));
  }

  void Clear(const std::string& case_id, const std::string& deadline_id) {
    Append(case_id, ClearDeadline(deadline_id, "met", kLabor));
  }

  std::vector<v1::Event> Events(const std::string& case_id) {
    auto events = log_.ReadCase(case_id);
    EXPECT_THAT(events, IsOk());
    return events.ok() ? *events : std::vector<v1::Event>{};
  }

  int Count(const std::string& case_id, B body) {
    int n = 0;
    for (const auto& e : Events(case_id)) n += e.body_case() == body;
    return n;
  }

  const v1::Event* Find(const std::vector<v1::Event>& events, B body) {
    for (const auto& e : events) {
      if (e.body_case() == body) return &e;
    }
    return nullptr;
  }

  uint64_t Checkpoint() { return log_.GetCheckpoint("deadlines").value(); }
  uint64_t BreachedCheckpoint() {
    return log_.GetCheckpoint(BreachedCheckpointName("deadlines")).value();
  }
  uint64_t End() { return log_.ReadAll(v1::ReadAllRequest()).value().last_position(); }
  uint64_t PositionOf(const std::string& case_id, B body) {
    const v1::Event* e = Find(Events(case_id), body);
    return e != nullptr ? e->global_position() : 0;
  }

  // Another case whose deadline is set and met: traffic after the others.
  void SetAndMeetAnother() {
    const std::string c = OpenCase();
    Set(c, "r1/accept", kLabor);
    Clear(c, "r1/accept");
  }

  // The open deadlines `node` is responsible for that are overdue.
  std::vector<v1::Deadline> Overdue(Scheduler& scheduler, const std::string& node) {
    v1::ListDeadlinesRequest overdue;
    overdue.set_overdue_only(true);
    auto list = scheduler.ListDeadlines(node, overdue);
    EXPECT_THAT(list, IsOk());
    if (!list.ok()) return {};
    return {list->deadlines().begin(), list->deadlines().end()};
  }

  std::filesystem::path dir_;
  std::unique_ptr<directory::Directory> directory_;
  std::unique_ptr<broker::LocalDirectory> local_directory_;
  caselog::CaseLog core_;
  broker::LocalCaseLog log_{&core_};
  Calendar calendar_;
  // Monday 2 March 2026, 09:00 in Shanghai.
  const absl::Time t0_ = Shanghai(2026, 3, 2, 9, 0);
  absl::Time now_ = t0_;
  int events_ = 0;
  int cases_ = 0;
};

TEST_F(SchedulerTest, WarnsThenBreachesThenRecordsNothingMore) {
  const std::string c = OpenCase();
  Set(c, "r1/accept", kLabor);
  const v1::DeadlineSet set = Find(Events(c), B::kDeadlineSet)->deadline_set();
  const absl::Time warn = TimeOf(set.warn_time());
  const absl::Time due = TimeOf(set.due_time());
  ASSERT_LT(warn, due);
  auto scheduler = NewScheduler();

  ASSERT_OK_AND_ASSIGN(RoundResult r, scheduler->RunOnce(warn - absl::Seconds(1)));
  EXPECT_EQ(r.warned + r.breached + r.reminded, 0);
  EXPECT_EQ(Count(c, B::kDeadlineWarned), 0);

  ASSERT_OK_AND_ASSIGN(r, scheduler->RunOnce(warn));
  EXPECT_EQ(r.warned, 1);
  std::vector<v1::Event> events = Events(c);
  const v1::Event* warned = Find(events, B::kDeadlineWarned);
  ASSERT_NE(warned, nullptr);
  EXPECT_EQ(warned->event_id(), StageEventId(c, "r1/accept", "warn"));
  EXPECT_EQ(warned->source(), "qinzhou.deadlines");
  EXPECT_THAT(warned->involved_nodes(), ElementsAre(kLabor));
  EXPECT_EQ(TimeOf(warned->deadline_warned().due_time()), due);

  // Before the due time nothing more happens, however often it runs.
  ASSERT_OK_AND_ASSIGN(r, scheduler->RunOnce(due - absl::Seconds(1)));
  EXPECT_EQ(r.warned + r.breached, 0);

  ASSERT_OK_AND_ASSIGN(r, scheduler->RunOnce(due));
  EXPECT_EQ(r.breached, 1);
  events = Events(c);
  const v1::Event* breached = Find(events, B::kDeadlineBreached);
  const v1::Event* raised = Find(events, B::kEscalationRaised);
  ASSERT_NE(breached, nullptr);
  ASSERT_NE(raised, nullptr);
  // One append: adjacent in the case, the escalation right after the breach.
  EXPECT_EQ(raised->sequence(), breached->sequence() + 1);
  EXPECT_EQ(breached->event_id(), StageEventId(c, "r1/accept", "breach"));
  EXPECT_EQ(raised->event_id(), StageEventId(c, "r1/accept", "escalate"));
  EXPECT_EQ(breached->deadline_breached().responsible_node(), kLabor);
  EXPECT_EQ(breached->deadline_breached().kind(), v1::DEADLINE_KIND_REFERRAL_ACCEPTANCE);
  EXPECT_EQ(raised->escalation_raised().from_node(), kLabor);
  EXPECT_EQ(raised->escalation_raised().level(), 1);

  for (absl::Duration later : {absl::Minutes(1), absl::Hours(30), absl::Hours(24 * 40)}) {
    ASSERT_OK_AND_ASSIGN(r, scheduler->RunOnce(due + later));
    EXPECT_EQ(r.warned + r.breached + r.reminded, 0);
  }
  EXPECT_EQ(Count(c, B::kDeadlineWarned), 1);
  EXPECT_EQ(Count(c, B::kDeadlineBreached), 1);
  EXPECT_EQ(Count(c, B::kEscalationRaised), 1);
}

TEST_F(SchedulerTest, AWarningWhoseDueTimeAlsoPassedIsNotSentLate) {
  const std::string c = OpenCase();
  Set(c, "r1/accept", kLabor);
  auto scheduler = NewScheduler();
  ASSERT_OK_AND_ASSIGN(RoundResult r, scheduler->RunOnce(t0_ + absl::Hours(5)));
  EXPECT_EQ(r.warned, 0);
  EXPECT_EQ(r.breached, 1);
  EXPECT_EQ(Count(c, B::kDeadlineWarned), 0);
}

TEST_F(SchedulerTest, BreachEscalatesToTheResponsibleNodesDirectoryParent) {
  const std::string c = OpenCase();
  Set(c, "r1/accept", kXiguan);
  auto scheduler = NewScheduler({.default_supervisor = kUnion});
  ASSERT_THAT(scheduler->RunOnce(t0_ + absl::Hours(5)), IsOk());
  std::vector<v1::Event> events = Events(c);
  const v1::Event* raised = Find(events, B::kEscalationRaised);
  ASSERT_NE(raised, nullptr);
  EXPECT_EQ(raised->escalation_raised().to_node(), kYuquan);
  // Both see it in their feeds and inboxes.
  EXPECT_THAT(raised->involved_nodes(), UnorderedElementsAre(kXiguan, kYuquan));
  EXPECT_THAT(Find(events, B::kDeadlineBreached)->involved_nodes(),
              UnorderedElementsAre(kXiguan, kYuquan));
}

TEST_F(SchedulerTest, BreachWithoutAParentEscalatesToTheDefaultSupervisor) {
  const std::string top = OpenCase();
  Set(top, "r1/accept", kLabor);  // a district bureau: no parent
  const std::string unknown = OpenCase();
  Set(unknown, "r1/accept", "qinzhou.not-in-directory");
  auto scheduler = NewScheduler({.default_supervisor = kUnion});
  ASSERT_THAT(scheduler->RunOnce(t0_ + absl::Hours(5)), IsOk());
  for (const std::string& c : {top, unknown}) {
    std::vector<v1::Event> events = Events(c);
    const v1::Event* raised = Find(events, B::kEscalationRaised);
    ASSERT_NE(raised, nullptr) << c;
    EXPECT_EQ(raised->escalation_raised().to_node(), kUnion) << c;
  }
}

TEST_F(SchedulerTest, BreachEscalatesWhereTheDeadlineSays) {
  const std::string c = OpenCase();
  Set(c, "r1/accept", kXiguan, absl::Hours(4), v1::DEADLINE_KIND_REFERRAL_ACCEPTANCE,
      kPetition);
  auto scheduler = NewScheduler();
  ASSERT_THAT(scheduler->RunOnce(t0_ + absl::Hours(5)), IsOk());
  std::vector<v1::Event> events = Events(c);
  const v1::Event* raised = Find(events, B::kEscalationRaised);
  ASSERT_NE(raised, nullptr);
  EXPECT_EQ(raised->escalation_raised().to_node(), kPetition);
  EXPECT_THAT(raised->involved_nodes(), UnorderedElementsAre(kXiguan, kPetition));
}

TEST_F(SchedulerTest, AClearedDeadlineNeverFires) {
  const std::string c = OpenCase();
  Set(c, "r1/accept", kLabor);
  Set(c, "r2/accept", kLabor);
  Clear(c, "r1/accept");
  auto scheduler = NewScheduler();
  for (absl::Duration at : {absl::Hours(3) + absl::Minutes(30), absl::Hours(5), absl::Hours(500)}) {
    ASSERT_THAT(scheduler->RunOnce(t0_ + at), IsOk());
  }
  for (const auto& e : Events(c)) {
    if (e.has_deadline_warned()) {
      EXPECT_EQ(e.deadline_warned().deadline_id(), "r2/accept");
    }
    if (e.has_deadline_breached()) {
      EXPECT_EQ(e.deadline_breached().deadline_id(), "r2/accept");
    }
  }
  // The negative control: the one left open did fire.
  EXPECT_EQ(Count(c, B::kDeadlineWarned), 1);
  EXPECT_EQ(Count(c, B::kDeadlineBreached), 1);
}

TEST_F(SchedulerTest, AClearAfterTheSchedulerLoadedTheDeadlineStillStopsIt) {
  const std::string c = OpenCase();
  Set(c, "r1/accept", kLabor);
  auto scheduler = NewScheduler();
  ASSERT_THAT(scheduler->RunOnce(t0_), IsOk());  // now it holds the deadline
  Clear(c, "r1/accept");
  ASSERT_THAT(scheduler->RunOnce(t0_ + absl::Hours(5)), IsOk());
  EXPECT_EQ(Count(c, B::kDeadlineBreached), 0);
}

TEST_F(SchedulerTest, AReminderKindRemindsAndNeverEscalates) {
  const std::string c = OpenCase();
  ASSERT_FALSE(RuleFor(v1::DEADLINE_KIND_MEETING_REMINDER).escalates);
  Set(c, "m1/remind", kJustice, absl::Hours(4), v1::DEADLINE_KIND_MEETING_REMINDER, "",
      {kLabor, kUnion});
  auto scheduler = NewScheduler();
  ASSERT_OK_AND_ASSIGN(RoundResult r, scheduler->RunOnce(t0_ + absl::Hours(5)));
  EXPECT_EQ(r.reminded, 1);
  EXPECT_EQ(r.breached, 0);
  ASSERT_THAT(scheduler->RunOnce(t0_ + absl::Hours(500)), IsOk());
  std::vector<v1::Event> events = Events(c);
  const v1::Event* reminded = Find(events, B::kReminderSent);
  ASSERT_NE(reminded, nullptr);
  EXPECT_EQ(reminded->event_id(), StageEventId(c, "m1/remind", "remind"));
  EXPECT_THAT(reminded->reminder_sent().nodes(), ElementsAre(kLabor, kUnion));
  EXPECT_THAT(reminded->involved_nodes(), UnorderedElementsAre(kLabor, kUnion));
  EXPECT_EQ(Count(c, B::kReminderSent), 1);
  EXPECT_EQ(Count(c, B::kDeadlineBreached), 0);
  EXPECT_EQ(Count(c, B::kEscalationRaised), 0);
}

TEST_F(SchedulerTest, ADeadlineFiresOnceAcrossARestartOfTheService) {
  const std::string c = OpenCase();
  Set(c, "r1/accept", kLabor);
  auto first = NewScheduler();
  ASSERT_OK_AND_ASSIGN(RoundResult r, first->RunOnce(t0_ + absl::Hours(5)));
  ASSERT_EQ(r.breached, 1);
  first.reset();
  OpenStore();  // and the case log restarts too

  auto second = NewScheduler();
  ASSERT_OK_AND_ASSIGN(r, second->RunOnce(t0_ + absl::Hours(6)));
  EXPECT_EQ(r.breached, 0);
  EXPECT_EQ(Count(c, B::kDeadlineBreached), 1);
  EXPECT_EQ(Count(c, B::kEscalationRaised), 1);
}

TEST_F(SchedulerTest, ACrashBeforeTheCheckpointWasRecordedFiresNothingTwice) {
  const std::string c = OpenCase();
  Set(c, "r1/accept", kLabor);
  Set(c, "r2/accept", kLabor, absl::Hours(400));  // keeps the checkpoint low
  FaultyLog dying(&log_);
  dying.fail_checkpoints = true;
  auto first = NewScheduler({}, &dying);
  // The breach is decided and appended; the process dies before the
  // checkpoint is written.
  EXPECT_THAT(first->RunOnce(t0_ + absl::Hours(5)), ::testing::Not(IsOk()));
  first.reset();
  EXPECT_EQ(Checkpoint(), 0u);
  EXPECT_EQ(Count(c, B::kDeadlineBreached), 1);

  auto second = NewScheduler();
  ASSERT_OK_AND_ASSIGN(RoundResult r, second->RunOnce(t0_ + absl::Hours(6)));
  EXPECT_EQ(r.breached, 0);
  EXPECT_EQ(Count(c, B::kDeadlineBreached), 1);
  EXPECT_EQ(Count(c, B::kEscalationRaised), 1);
}

TEST_F(SchedulerTest, AnAppendWhoseAnswerWasLostIsNotRepeated) {
  const std::string c = OpenCase();
  Set(c, "r1/accept", kLabor);
  FaultyLog flaky(&log_);
  flaky.lose_append_answers = true;
  auto first = NewScheduler({}, &flaky);
  EXPECT_THAT(first->RunOnce(t0_ + absl::Hours(5)), ::testing::Not(IsOk()));
  EXPECT_EQ(Count(c, B::kDeadlineBreached), 1);
  // The same scheduler tries again, and so does a fresh one.
  flaky.lose_append_answers = false;
  ASSERT_OK_AND_ASSIGN(RoundResult r, first->RunOnce(t0_ + absl::Hours(6)));
  EXPECT_EQ(r.breached, 0);
  ASSERT_OK_AND_ASSIGN(r, NewScheduler()->RunOnce(t0_ + absl::Hours(7)));
  EXPECT_EQ(r.breached, 0);
  EXPECT_EQ(Count(c, B::kDeadlineBreached), 1);
}

// The negative control of the exactly-once tests: the count they rely on
// does see a second breach when one is recorded under another id.
TEST_F(SchedulerTest, NegativeControlASecondBreachUnderAnotherIdIsCounted) {
  const std::string c = OpenCase();
  Set(c, "r1/accept", kLabor);
  ASSERT_THAT(NewScheduler()->RunOnce(t0_ + absl::Hours(5)), IsOk());
  v1::Event forged = *Find(Events(c), B::kDeadlineBreached);
  v1::Event copy;
  *copy.mutable_deadline_breached() = forged.deadline_breached();
  Append(c, copy, "qinzhou.deadlines");
  EXPECT_EQ(Count(c, B::kDeadlineBreached), 2);
}

TEST_F(SchedulerTest, TwoSchedulersAtOnceFireEachDeadlineOnce) {
  constexpr int kCases = 12;
  std::vector<std::string> cases;
  for (int i = 0; i < kCases; ++i) {
    cases.push_back(OpenCase());
    Set(cases.back(), "r1/accept", kLabor);
  }
  auto a = NewScheduler();
  auto b = NewScheduler();
  absl::StatusOr<RoundResult> ra, rb;
  std::thread ta([&] { ra = a->RunOnce(t0_ + absl::Hours(5)); });
  std::thread tb([&] { rb = b->RunOnce(t0_ + absl::Hours(5)); });
  ta.join();
  tb.join();
  ASSERT_THAT(ra, IsOk());
  ASSERT_THAT(rb, IsOk());
  EXPECT_EQ(ra->breached + rb->breached, kCases);
  for (const std::string& c : cases) {
    EXPECT_EQ(Count(c, B::kDeadlineBreached), 1) << c;
    EXPECT_EQ(Count(c, B::kEscalationRaised), 1) << c;
  }
}

TEST_F(SchedulerTest, TheCheckpointNeverPassesAPendingDeadline) {
  const std::string early = OpenCase();
  Set(early, "r1/accept", kLabor, absl::Hours(400));
  const std::string open = OpenCase();
  const uint64_t open_set = Set(open, "r1/accept", kLabor, absl::Hours(200));
  // Traffic after it: deadlines set and cleared, other events.
  Clear(early, "r1/accept");
  for (int i = 0; i < 5; ++i) {
    const std::string c = OpenCase();
    Set(c, "r1/accept", kLabor);
    Clear(c, "r1/accept");
  }
  auto scheduler = NewScheduler();
  ASSERT_OK_AND_ASSIGN(RoundResult r, scheduler->RunOnce(t0_));
  EXPECT_EQ(r.checkpoint, open_set - 1);
  EXPECT_EQ(Checkpoint(), open_set - 1);

  // Met: nothing is open and the checkpoint moves to the end.
  Clear(open, "r1/accept");
  ASSERT_OK_AND_ASSIGN(r, scheduler->RunOnce(t0_ + absl::Hours(1)));
  EXPECT_EQ(r.checkpoint, End());
  EXPECT_EQ(Checkpoint(), End());
}

// An instalment nobody pays: breached, escalated, never met. Nothing of it
// is left to fire, so it no longer holds the checkpoint back.
TEST_F(SchedulerTest, ABreachNeverMetNoLongerHoldsTheCheckpoint) {
  const std::string unpaid = OpenCase();
  const uint64_t unpaid_set = Set(unpaid, "i1/pay", kLabor, absl::Hours(4),
                                  v1::DEADLINE_KIND_INSTALMENT_PAYMENT);
  auto scheduler = NewScheduler();
  ASSERT_OK_AND_ASSIGN(RoundResult r, scheduler->RunOnce(t0_ + absl::Hours(5)));
  ASSERT_EQ(r.breached, 1);
  const uint64_t breach = PositionOf(unpaid, B::kDeadlineBreached);
  ASSERT_GT(breach, unpaid_set);

  SetAndMeetAnother();
  ASSERT_OK_AND_ASSIGN(r, scheduler->RunOnce(t0_ + absl::Hours(6)));
  EXPECT_EQ(r.checkpoint, End());
  EXPECT_EQ(Checkpoint(), End());
  // The breaches' mark stays below the breach nobody met.
  EXPECT_EQ(r.breached_checkpoint, breach - 1);
  EXPECT_EQ(BreachedCheckpoint(), breach - 1);
}

TEST_F(SchedulerTest, ARestartPastABreachNeverMetNeitherFiresItAgainNorForgetsIt) {
  const std::string unpaid = OpenCase();
  const uint64_t unpaid_set = Set(unpaid, "i1/pay", kLabor, absl::Hours(4),
                                  v1::DEADLINE_KIND_INSTALMENT_PAYMENT);
  ASSERT_THAT(NewScheduler()->RunOnce(t0_ + absl::Hours(5)), IsOk());
  SetAndMeetAnother();
  ASSERT_THAT(NewScheduler()->RunOnce(t0_ + absl::Hours(6)), IsOk());
  ASSERT_GT(Checkpoint(), unpaid_set);

  OpenStore();  // the case log restarts too
  FeedSpy spy(&log_);
  auto restarted = NewScheduler({}, &spy);
  for (absl::Duration at : {absl::Hours(7), absl::Hours(24 * 40)}) {
    ASSERT_OK_AND_ASSIGN(RoundResult r, restarted->RunOnce(t0_ + at));
    EXPECT_EQ(r.warned + r.breached + r.reminded, 0);
  }
  // It read the deadlines from past the unpaid one's DeadlineSet...
  EXPECT_GT(spy.set_feed_from, unpaid_set);
  EXPECT_EQ(Count(unpaid, B::kDeadlineBreached), 1);
  EXPECT_EQ(Count(unpaid, B::kEscalationRaised), 1);
  // ...and still lists it as overdue, with where it was escalated.
  std::vector<v1::Deadline> overdue = Overdue(*restarted, kLabor);
  ASSERT_EQ(overdue.size(), 1u);
  EXPECT_EQ(overdue[0].case_id(), unpaid);
  EXPECT_EQ(overdue[0].state(), v1::DEADLINE_STATE_BREACHED);
  EXPECT_EQ(overdue[0].escalated_to(), kJustice);

  // Paid at last: both marks move to the end, and a restart lists nothing.
  Clear(unpaid, "i1/pay");
  ASSERT_OK_AND_ASSIGN(RoundResult r, restarted->RunOnce(t0_ + absl::Hours(24 * 41)));
  EXPECT_EQ(r.checkpoint, End());
  EXPECT_EQ(r.breached_checkpoint, End());
  EXPECT_TRUE(Overdue(*NewScheduler(), kLabor).empty());
}

// A breach recorded after the checkpoint of a deadline set before it (a
// later deadline, still pending, held the checkpoint between the two): the
// feed after the checkpoint shows the breach but not its DeadlineSet.
TEST_F(SchedulerTest, ABreachPastTheCheckpointOfADeadlineSetBeforeItIsKnownAfterARestart) {
  const std::string unpaid = OpenCase();
  const uint64_t unpaid_set = Set(unpaid, "i1/pay", kLabor, absl::Hours(4),
                                  v1::DEADLINE_KIND_INSTALMENT_PAYMENT);
  const std::string later = OpenCase();
  Set(later, "r1/accept", kLabor, absl::Hours(400));
  auto scheduler = NewScheduler();
  ASSERT_THAT(scheduler->RunOnce(t0_ + absl::Hours(5)), IsOk());
  ASSERT_GE(Checkpoint(), unpaid_set);
  ASSERT_LT(Checkpoint(), PositionOf(unpaid, B::kDeadlineBreached));

  auto restarted = NewScheduler();
  std::vector<v1::Deadline> overdue = Overdue(*restarted, kLabor);
  ASSERT_EQ(overdue.size(), 1u);
  EXPECT_EQ(overdue[0].case_id(), unpaid);
  EXPECT_EQ(overdue[0].state(), v1::DEADLINE_STATE_BREACHED);
  ASSERT_OK_AND_ASSIGN(RoundResult r, restarted->RunOnce(t0_ + absl::Hours(401)));
  EXPECT_EQ(r.breached, 1);  // the later one, not the unpaid one again
  EXPECT_EQ(Count(unpaid, B::kDeadlineBreached), 1);
  EXPECT_EQ(Count(later, B::kDeadlineBreached), 1);
}

// Killed after the first checkpoint moved past a breach and before the
// breaches' mark was recorded: the restart reads more breaches, no more.
TEST_F(SchedulerTest, ACrashBetweenTheTwoCheckpointsFiresNothingTwiceAndForgetsNothing) {
  const std::string unpaid = OpenCase();
  Set(unpaid, "i1/pay", kLabor, absl::Hours(4), v1::DEADLINE_KIND_INSTALMENT_PAYMENT);
  FaultyLog dying(&log_);
  dying.fail_checkpoint_named = BreachedCheckpointName("deadlines");
  auto first = NewScheduler({}, &dying);
  EXPECT_THAT(first->RunOnce(t0_ + absl::Hours(5)), ::testing::Not(IsOk()));
  first.reset();
  EXPECT_GT(Checkpoint(), 0u);
  EXPECT_EQ(BreachedCheckpoint(), 0u);

  auto second = NewScheduler();
  ASSERT_OK_AND_ASSIGN(RoundResult r, second->RunOnce(t0_ + absl::Hours(6)));
  EXPECT_EQ(r.breached, 0);
  EXPECT_EQ(Count(unpaid, B::kDeadlineBreached), 1);
  EXPECT_EQ(Count(unpaid, B::kEscalationRaised), 1);
  EXPECT_EQ(Overdue(*second, kLabor).size(), 1u);
}

// The negative control of the tests above: a deadline merely warned still
// has its breach to come, and holds the checkpoint.
TEST_F(SchedulerTest, NegativeControlAWarnedDeadlineStillHoldsTheCheckpoint) {
  const std::string late = OpenCase();
  const uint64_t late_set = Set(late, "i1/pay", kLabor, absl::Hours(4),
                                v1::DEADLINE_KIND_INSTALMENT_PAYMENT);
  const v1::DeadlineSet set = Find(Events(late), B::kDeadlineSet)->deadline_set();
  auto scheduler = NewScheduler();
  ASSERT_OK_AND_ASSIGN(RoundResult r, scheduler->RunOnce(TimeOf(set.warn_time())));
  ASSERT_EQ(r.warned, 1);
  SetAndMeetAnother();
  ASSERT_OK_AND_ASSIGN(r, scheduler->RunOnce(TimeOf(set.warn_time()) + absl::Minutes(1)));
  EXPECT_EQ(r.checkpoint, late_set - 1);
  EXPECT_EQ(Checkpoint(), late_set - 1);
  // And a restart still breaches it when it falls due.
  ASSERT_OK_AND_ASSIGN(r, NewScheduler()->RunOnce(TimeOf(set.due_time())));
  EXPECT_EQ(r.breached, 1);
}

TEST_F(SchedulerTest, ARestartResumesFromTheCheckpointAndStillFiresWhatIsOpen) {
  const std::string c = OpenCase();
  const uint64_t set = Set(c, "r1/accept", kLabor, absl::Hours(100));
  for (int i = 0; i < 3; ++i) {
    const std::string other = OpenCase();
    Set(other, "r1/accept", kLabor);
    Clear(other, "r1/accept");
  }
  ASSERT_THAT(NewScheduler()->RunOnce(t0_), IsOk());
  ASSERT_EQ(Checkpoint(), set - 1);
  ASSERT_THAT(NewScheduler()->RunOnce(t0_ + absl::Hours(101)), IsOk());
  EXPECT_EQ(Count(c, B::kDeadlineBreached), 1);
}

// The negative control of TheCheckpointNeverPassesAPendingDeadline and the
// restart test above: a checkpoint past a pending deadline's DeadlineSet (what a scheduler that recorded "read up to here"
// would leave) loses the deadline for good.
TEST_F(SchedulerTest, NegativeControlACheckpointPastAnOpenDeadlineLosesIt) {
  const std::string c = OpenCase();
  Set(c, "r1/accept", kLabor, absl::Hours(100));
  const uint64_t end = log_.ReadAll(v1::ReadAllRequest()).value().last_position();
  ASSERT_THAT(log_.SetCheckpoint("deadlines", end), IsOk());
  ASSERT_THAT(NewScheduler()->RunOnce(t0_ + absl::Hours(101)), IsOk());
  EXPECT_EQ(Count(c, B::kDeadlineBreached), 0);
}

TEST_F(SchedulerTest, ListsWhatANodeIsResponsibleForOrWasEscalatedSoonestFirst) {
  const std::string c = OpenCase();
  Set(c, "late", kXiguan, absl::Hours(50));
  Set(c, "soon", kXiguan, absl::Hours(2));
  Set(c, "other", kLabor, absl::Hours(3));
  Set(c, "met", kXiguan, absl::Hours(1));
  Clear(c, "met");
  auto scheduler = NewScheduler();
  now_ = t0_ + absl::Hours(4);  // "soon" and "other" are overdue
  ASSERT_THAT(scheduler->RunOnce(now_), IsOk());

  ASSERT_OK_AND_ASSIGN(v1::ListDeadlinesResponse mine,
                       scheduler->ListDeadlines(kXiguan, {}));
  ASSERT_EQ(mine.deadlines_size(), 2);
  EXPECT_EQ(mine.deadlines(0).set().deadline_id(), "soon");
  EXPECT_EQ(mine.deadlines(0).state(), v1::DEADLINE_STATE_BREACHED);
  EXPECT_EQ(mine.deadlines(0).escalated_to(), kYuquan);
  EXPECT_EQ(mine.deadlines(1).set().deadline_id(), "late");
  v1::ListDeadlinesRequest overdue;
  overdue.set_overdue_only(true);
  ASSERT_OK_AND_ASSIGN(mine, scheduler->ListDeadlines(kXiguan, overdue));
  ASSERT_EQ(mine.deadlines_size(), 1);
  EXPECT_EQ(mine.deadlines(0).set().deadline_id(), "soon");

  // The node escalated to sees the escalation as its own.
  ASSERT_OK_AND_ASSIGN(v1::ListDeadlinesResponse escalated,
                       scheduler->ListDeadlines(kYuquan, {}));
  ASSERT_EQ(escalated.deadlines_size(), 1);
  EXPECT_EQ(escalated.deadlines(0).set().deadline_id(), "soon");

  // A supervisor may look at a node below it, at any depth; nobody else may.
  v1::ListDeadlinesRequest of_xiguan;
  of_xiguan.set_node(kXiguan);
  ASSERT_OK_AND_ASSIGN(mine, scheduler->ListDeadlines(kJustice, of_xiguan));
  EXPECT_EQ(mine.deadlines_size(), 2);
  EXPECT_THAT(scheduler->ListDeadlines(kLabor, of_xiguan), HasReason("NOT_A_PARTY"));
  v1::ListDeadlinesRequest bad;
  bad.set_node("Not A Node");
  EXPECT_THAT(scheduler->ListDeadlines(kJustice, bad), HasReason("INVALID_FIELD"));
}

TEST_F(SchedulerTest, ListSeesADeadlineSetAMomentAgo) {
  auto scheduler = NewScheduler();
  ASSERT_THAT(scheduler->RunOnce(t0_), IsOk());
  const std::string c = OpenCase();
  Set(c, "r1/accept", kLabor);
  ASSERT_OK_AND_ASSIGN(v1::ListDeadlinesResponse list, scheduler->ListDeadlines(kLabor, {}));
  EXPECT_EQ(list.deadlines_size(), 1);
}

TEST_F(SchedulerTest, ComputesDueTimesOnTheCalendarAndRefusesBadDayCounts) {
  auto scheduler = NewScheduler();
  v1::ComputeDueTimeRequest req;
  *req.mutable_start_time() = TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(t0_));
  req.set_working_days(3);
  ASSERT_OK_AND_ASSIGN(v1::ComputeDueTimeResponse r, scheduler->ComputeDueTime(req));
  EXPECT_EQ(TimeOf(r.due_time()), calendar_.DueAfter(t0_, 3));
  EXPECT_EQ(r.calendar(), calendar_.name());
  // No start: now.
  now_ = t0_ + absl::Hours(24);
  req.clear_start_time();
  req.set_working_days(0);
  ASSERT_OK_AND_ASSIGN(r, scheduler->ComputeDueTime(req));
  EXPECT_EQ(TimeOf(r.due_time()), calendar_.DueAfter(now_, 0));
  req.set_working_days(-1);
  EXPECT_THAT(scheduler->ComputeDueTime(req), HasReason("INVALID_FIELD"));
  req.set_working_days(367);
  EXPECT_THAT(scheduler->ComputeDueTime(req), HasReason("INVALID_FIELD"));
}

TEST_F(SchedulerTest, RunFiresOnTheClockUntilStopped) {
  const std::string c = OpenCase();
  Set(c, "r1/accept", kLabor, absl::Hours(4));
  now_ = t0_ + absl::Hours(5);
  auto scheduler = NewScheduler({.poll_interval = absl::Milliseconds(5)});
  std::thread runner([&] { scheduler->Run(); });
  // Run() has no other way to tell a test it is done than the log itself.
  for (int i = 0; i < 2000 && Count(c, B::kDeadlineBreached) == 0; ++i) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  scheduler->Stop();
  runner.join();
  EXPECT_EQ(Count(c, B::kDeadlineBreached), 1);
}

// config/calendar.toml, the calendar the services are started with, loads
// and keeps the 2026 holidays and make-up days.
TEST(ShippedCalendar, LoadsWithTheHolidaysAndMakeUpDays) {
  ASSERT_OK_AND_ASSIGN(Calendar c, Calendar::FromFile(CALENDAR_TOML));
  EXPECT_EQ(c.name(), "cn-2026");
  EXPECT_FALSE(c.IsWorkingDay(absl::CivilDay(2026, 2, 17)));  // Spring Festival
  EXPECT_FALSE(c.IsWorkingDay(absl::CivilDay(2026, 10, 7)));  // National Day
  EXPECT_TRUE(c.IsWorkingDay(absl::CivilDay(2026, 10, 10)));   // a Saturday worked
  EXPECT_TRUE(c.IsWorkingDay(absl::CivilDay(2026, 10, 8)));    // Thursday after
  // Sent on the eve of National Day, due the same working day: 8 October.
  EXPECT_EQ(c.DueAfter(Shanghai(2026, 9, 30, 18, 0), 0),
            Shanghai(2026, 10, 8, 17, 30));
}

}  // namespace
}  // namespace referral::deadlines
