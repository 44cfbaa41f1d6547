// Subscriptions and watches (storage/event_store.h): a subscription catches
// up from a position and then follows new commits with no gap and no
// duplicate at the seam; WatchBeyond runs a callback once, on the store's
// notification thread, after a commit past a position.

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/event_store.h"
#include "storage/testing/store_fixture.h"

namespace referral::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::referral::storage::testing::Batch;
using ::referral::storage::testing::Ids;
using ::referral::storage::testing::IsOk;
using ::referral::storage::testing::Note;
using ::referral::storage::testing::Opened;
using ::referral::storage::testing::Positions;
using ::referral::storage::testing::Range;
using ::referral::storage::testing::StoreFixture;
using ::referral::storage::testing::kNode;
using ::referral::storage::testing::kNoteType;
using ::referral::storage::testing::kOpenedType;
using ::referral::storage::testing::kOtherNode;

constexpr absl::Duration kPatience = absl::Seconds(10);
constexpr absl::Duration kQuiet = absl::Milliseconds(100);

// Notifies on destruction unless already notified, so that a callback parked
// on `n` is released even when an assertion ends the test early.
struct ReleaseOnExit {
  absl::Notification& n;
  ~ReleaseOnExit() {
    if (!n.HasBeenNotified()) n.Notify();
  }
};

class Subscriptions : public StoreFixture {
 protected:
  // Appends `n` single-event appends to `case_id` with ids prefix-1..n.
  void AppendNotes(absl::string_view case_id, absl::string_view prefix, int n,
                   absl::string_view source = kNode) {
    for (int i = 1; i <= n; ++i) {
      AppendOk(case_id, Batch({Note(absl::StrCat(prefix, "-", i), "n", source)}));
    }
  }
};

TEST_F(Subscriptions, CatchUpFromAPositionThenFollowLiveCommits) {
  AppendNotes("case-a", "a", 5);
  ASSERT_OK_AND_ASSIGN(auto sub, store_->Subscribe(3, {}));
  EXPECT_EQ(sub->next_position(), 3u);

  ASSERT_OK_AND_ASSIGN(auto caught_up, sub->Next(100, absl::ZeroDuration()));
  EXPECT_THAT(Positions(caught_up), ElementsAre(3, 4, 5));
  EXPECT_EQ(sub->next_position(), 6u);

  ASSERT_OK_AND_ASSIGN(auto nothing, sub->Next(100, absl::Milliseconds(10)));
  EXPECT_THAT(nothing, IsEmpty());
  EXPECT_EQ(sub->next_position(), 6u);

  AppendOk("case-b", Batch({Note("b-1"), Note("b-2")}));
  ASSERT_OK_AND_ASSIGN(auto live, sub->Next(100, kPatience));
  EXPECT_THAT(Positions(live), ElementsAre(6, 7));
  EXPECT_THAT(Ids(live), ElementsAre("b-1", "b-2"));
  EXPECT_EQ(sub->next_position(), 8u);
}

TEST_F(Subscriptions, ZeroAndOneBothMeanTheStart) {
  AppendNotes("case-a", "a", 3);
  for (uint64_t from : {0u, 1u}) {
    ASSERT_OK_AND_ASSIGN(auto sub, store_->Subscribe(from, {}));
    ASSERT_OK_AND_ASSIGN(auto events, sub->Next(100, absl::ZeroDuration()));
    EXPECT_THAT(Positions(events), ElementsAre(1, 2, 3)) << "from " << from;
  }
}

TEST_F(Subscriptions, NextReturnsAtMostMaxEventsAndAdvancesPastThem) {
  AppendNotes("case-a", "a", 5);
  ASSERT_OK_AND_ASSIGN(auto sub, store_->Subscribe(1, {}));
  ASSERT_OK_AND_ASSIGN(auto p1, sub->Next(2, kPatience));
  EXPECT_THAT(Positions(p1), ElementsAre(1, 2));
  EXPECT_EQ(sub->next_position(), 3u);
  ASSERT_OK_AND_ASSIGN(auto p2, sub->Next(2, kPatience));
  EXPECT_THAT(Positions(p2), ElementsAre(3, 4));
  ASSERT_OK_AND_ASSIGN(auto p3, sub->Next(2, kPatience));
  EXPECT_THAT(Positions(p3), ElementsAre(5));
  EXPECT_EQ(sub->next_position(), 6u);
}

TEST_F(Subscriptions, NextReturnsEmptyAfterItsTimeoutWhenNothingArrives) {
  AppendNotes("case-a", "a", 2);
  ASSERT_OK_AND_ASSIGN(auto sub, store_->Subscribe(3, {}));
  const absl::Duration timeout = absl::Milliseconds(150);
  const absl::Time start = absl::Now();
  ASSERT_OK_AND_ASSIGN(auto events, sub->Next(10, timeout));
  const absl::Duration waited = absl::Now() - start;
  EXPECT_THAT(events, IsEmpty());
  EXPECT_GE(waited, timeout - absl::Milliseconds(5));
  EXPECT_LT(waited, timeout + absl::Seconds(2));
  EXPECT_EQ(sub->next_position(), 3u);
}

TEST_F(Subscriptions, NextWakesForACommitDuringItsWait) {
  AppendNotes("case-a", "a", 1);
  ASSERT_OK_AND_ASSIGN(auto sub, store_->Subscribe(2, {}));
  std::thread writer([this] {
    absl::SleepFor(absl::Milliseconds(50));
    AppendOk("case-a", Batch({Note("late")}));
  });
  const absl::Time start = absl::Now();
  ASSERT_OK_AND_ASSIGN(auto events, sub->Next(10, kPatience));
  EXPECT_LT(absl::Now() - start, kPatience / 2);
  EXPECT_THAT(Ids(events), ElementsAre("late"));
  writer.join();
}

TEST_F(Subscriptions, AFilteredNextWaitsThroughCommitsThatDoNotMatch) {
  EventFilter court{.node = std::string(kOtherNode)};
  ASSERT_OK_AND_ASSIGN(auto sub, store_->Subscribe(1, court));
  std::thread writer([this] {
    for (int i = 0; i < 5; ++i) {
      AppendOk("case-a", Batch({Note(absl::StrCat("justice-", i))}));
      absl::SleepFor(absl::Milliseconds(10));
    }
  });
  ASSERT_OK_AND_ASSIGN(auto events, sub->Next(10, absl::Milliseconds(300)));
  writer.join();
  EXPECT_THAT(events, IsEmpty());

  AppendOk("case-b", Batch({Note("court-1", "n", kOtherNode)}));
  ASSERT_OK_AND_ASSIGN(auto matched, sub->Next(10, kPatience));
  EXPECT_THAT(Ids(matched), ElementsAre("court-1"));
  EXPECT_THAT(Positions(matched), ElementsAre(6));
  EXPECT_EQ(sub->next_position(), 7u);
}

TEST_F(Subscriptions, AFilteredSubscriptionSeesOnlyItsMatches) {
  AppendOk("case-a", Batch({Opened("a-1"), Note("a-2")}));
  AppendOk("case-b", Batch({Opened("b-1", kOtherNode)}));
  ASSERT_OK_AND_ASSIGN(
      auto opened, store_->Subscribe(0, {.event_type = std::string(kOpenedType)}));
  ASSERT_OK_AND_ASSIGN(auto events, opened->Next(10, absl::ZeroDuration()));
  EXPECT_THAT(Ids(events), ElementsAre("a-1", "b-1"));
  AppendOk("case-a", Batch({Note("a-3")}));
  AppendOk("case-c", Batch({Opened("c-1")}));
  ASSERT_OK_AND_ASSIGN(auto live, opened->Next(10, kPatience));
  EXPECT_THAT(Ids(live), ElementsAre("c-1"));
}

TEST_F(Subscriptions, ResumesAfterADurableCheckpointAcrossReopen) {
  AppendNotes("case-a", "a", 4);
  {
    ASSERT_OK_AND_ASSIGN(auto sub, store_->Subscribe(1, {}));
    ASSERT_OK_AND_ASSIGN(auto events, sub->Next(3, kPatience));
    ASSERT_THAT(Positions(events), ElementsAre(1, 2, 3));
    ASSERT_THAT(store_->SetCheckpoint("consumer", events.back().global_position()),
                IsOk());
  }
  Reopen();
  AppendNotes("case-a", "b", 1);
  ASSERT_OK_AND_ASSIGN(Checkpoint cp, store_->GetCheckpoint("consumer"));
  ASSERT_OK_AND_ASSIGN(auto sub, store_->Subscribe(cp.position + 1, {}));
  ASSERT_OK_AND_ASSIGN(auto rest, sub->Next(100, kPatience));
  EXPECT_THAT(Positions(rest), ElementsAre(4, 5));
}

// One subscriber that reads in small pages from the moment it subscribes
// while a writer appends one event at a time: the boundary between what was
// committed before it subscribed and what comes after is crossed many times.
TEST_F(Subscriptions, NoGapAndNoDuplicateAtTheSeam) {
  AppendNotes("case-a", "pre", 20);
  ASSERT_OK_AND_ASSIGN(auto sub, store_->Subscribe(10, {}));
  constexpr int kLive = 150;
  std::thread writer([this] {
    for (int i = 0; i < kLive; ++i) {
      AppendOk(absl::StrCat("case-", i % 3), Batch({Note(absl::StrCat("live-", i))}));
    }
  });
  std::vector<uint64_t> seen;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (seen.size() < 20 - 9 + kLive && absl::Now() < deadline) {
    auto events = sub->Next(3, absl::Milliseconds(200));
    ASSERT_THAT(events, IsOk());
    for (const Event& e : *events) seen.push_back(e.global_position());
  }
  writer.join();
  EXPECT_THAT(seen, ElementsAreArray(Range(10, 20 + kLive)));
  ASSERT_OK_AND_ASSIGN(auto after, sub->Next(3, absl::Milliseconds(20)));
  EXPECT_THAT(after, IsEmpty());
}

// What one appended event looked like to the filters.
struct Written {
  std::string id;
  std::string type;
  std::vector<std::string> nodes;  // source and involved nodes
};

bool Matches(const Written& w, const EventFilter& f) {
  if (!f.event_type.empty() && w.type != f.event_type) return false;
  if (!f.node.empty() &&
      std::find(w.nodes.begin(), w.nodes.end(), f.node) == w.nodes.end()) {
    return false;
  }
  return true;
}

TEST_F(Subscriptions, ManySubscribersEachSeeExactlyTheirPositionsWhileWritersAppend) {
  constexpr int kWriters = 4;
  constexpr int kPreloaded = 300;
  constexpr int kEventsPerWriter = 425;  // 300 + 4 * 425 = 2000 events

  absl::Mutex mu;
  std::map<uint64_t, Written> written;  // by global position

  // The event a writer appends as its `i`th: a mix of types, sources and
  // involved nodes so that every filter below matches some and not others.
  auto make = [](int writer, int i) {
    const std::string id = absl::StrCat("w", writer, "-", i);
    const bool from_court = (writer + i) % 3 == 0;
    const std::string source(from_court ? kOtherNode : kNode);
    Event e = i % 5 == 0 ? Opened(id, source) : Note(id, "n", source);
    if (i % 7 == 0) {
      e.add_involved_nodes(std::string(from_court ? kNode : kOtherNode));
    }
    return e;
  };
  auto record = [&](const std::vector<Event>& batch, const AppendResult& r) {
    absl::MutexLock l(&mu);
    for (size_t j = 0; j < batch.size(); ++j) {
      Written w{batch[j].event_id(), EventTypeOf(batch[j]), {batch[j].source()}};
      for (const auto& n : batch[j].involved_nodes()) w.nodes.push_back(n);
      EXPECT_TRUE(written.emplace(r.first_position + j, w).second);
    }
  };
  // Appends events [0, n) of writer `w` in batches of 1 to 3.
  auto write = [&](int w, int n) {
    for (int i = 0; i < n;) {
      std::vector<Event> batch;
      const int size = std::min(1 + (i / 3) % 3, n - i);
      for (int j = 0; j < size; ++j) batch.push_back(make(w, i + j));
      i += size;
      auto r = store_->Append(absl::StrCat("case-", w, "-", i % 4),
                              ExpectedVersion::Any(), batch);
      ASSERT_THAT(r, IsOk());
      record(batch, *r);
    }
  };
  write(99, kPreloaded);
  ASSERT_EQ(store_->LastPosition(), static_cast<uint64_t>(kPreloaded));

  struct Subscriber {
    uint64_t from;
    EventFilter filter;
    size_t page;
    std::vector<Event> seen;
  };
  std::vector<Subscriber> subs = {
      {0, {}, 64, {}},
      {150, {}, 7, {}},
      {300, {}, 1, {}},
      {301, {}, 32, {}},  // live only
      {1, {.event_type = std::string(kOpenedType)}, 16, {}},
      {100, {.node = std::string(kOtherNode)}, 5, {}},
      {200, {.event_type = std::string(kNoteType), .node = std::string(kNode)}, 50, {}},
      {1000, {}, 100, {}},  // beyond the end when it subscribes
  };
  std::vector<std::unique_ptr<Subscription>> cursors;
  for (const Subscriber& s : subs) {
    ASSERT_OK_AND_ASSIGN(auto c, store_->Subscribe(s.from, s.filter));
    cursors.push_back(std::move(c));
  }

  std::atomic<uint64_t> final_last{0};  // set once the writers are done
  std::vector<std::thread> readers;
  for (size_t k = 0; k < subs.size(); ++k) {
    readers.emplace_back([&, k] {
      const absl::Time deadline = absl::Now() + absl::Seconds(25);
      for (;;) {
        auto events = cursors[k]->Next(subs[k].page, absl::Milliseconds(20));
        ASSERT_THAT(events, IsOk());
        subs[k].seen.insert(subs[k].seen.end(), events->begin(), events->end());
        const uint64_t last = final_last.load();
        if (last != 0 && events->empty() && cursors[k]->next_position() > last) {
          return;
        }
        ASSERT_LT(absl::Now(), deadline) << "subscriber " << k << " stalled at "
                                         << cursors[k]->next_position();
      }
    });
  }
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] { write(w, kEventsPerWriter); });
  }
  for (auto& t : writers) t.join();
  final_last = store_->LastPosition();
  for (auto& t : readers) t.join();

  ASSERT_EQ(final_last.load(), 2000u);
  ASSERT_EQ(written.size(), 2000u);
  for (size_t k = 0; k < subs.size(); ++k) {
    SCOPED_TRACE(absl::StrCat("subscriber ", k, " from ", subs[k].from,
                              " type '", subs[k].filter.event_type, "' node '",
                              subs[k].filter.node, "'"));
    std::vector<uint64_t> want;
    for (const auto& [pos, w] : written) {
      if (pos >= subs[k].from && Matches(w, subs[k].filter)) want.push_back(pos);
    }
    EXPECT_FALSE(want.empty());
    EXPECT_THAT(Positions(subs[k].seen), ElementsAreArray(want));
    for (const Event& e : subs[k].seen) {
      ASSERT_EQ(e.event_id(), written[e.global_position()].id)
          << "position " << e.global_position();
    }
  }
}

// ------------------------------------------------------------------ Watches

class Watches : public StoreFixture {};

TEST_F(Watches, RunsOnceAfterACommitPastThePosition) {
  AppendOk("case-a", Batch({Note("a-1")}));
  std::atomic<int> runs{0};
  std::atomic<uint64_t> seen_last{0};
  absl::Notification ran;
  store_->WatchBeyond(1, [&] {
    seen_last = store_->LastPosition();
    ++runs;
    ran.Notify();
  });
  EXPECT_FALSE(ran.WaitForNotificationWithTimeout(kQuiet))
      << "nothing has been committed past 1";
  AppendOk("case-a", Batch({Note("a-2")}));
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(kPatience));
  EXPECT_GE(seen_last.load(), 2u) << "the commit is visible to the callback";
  AppendOk("case-a", Batch({Note("a-3")}));
  AppendOk("case-a", Batch({Note("a-4")}));
  absl::SleepFor(kQuiet);
  EXPECT_EQ(runs.load(), 1);
}

TEST_F(Watches, RunsPromptlyWhenTheLogIsAlreadyPastThePosition) {
  AppendOk("case-a", Batch({Note("a-1"), Note("a-2")}));
  absl::Notification ran;
  const absl::Time start = absl::Now();
  store_->WatchBeyond(1, [&] { ran.Notify(); });
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(kPatience));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST_F(Watches, RunsOnTheNotificationThreadNotTheAppendersOrTheCallers) {
  const std::thread::id test_thread = std::this_thread::get_id();
  std::thread::id callback_thread, appender_thread;
  absl::Notification ran;
  store_->WatchBeyond(0, [&] {
    callback_thread = std::this_thread::get_id();
    ran.Notify();
  });
  std::thread appender([&] {
    appender_thread = std::this_thread::get_id();
    AppendOk("case-a", Batch({Note("a-1")}));
  });
  appender.join();
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(kPatience));
  EXPECT_NE(callback_thread, appender_thread);
  EXPECT_NE(callback_thread, test_thread);
}

TEST_F(Watches, CancelWatchBeforeACommitPreventsTheCallback) {
  std::atomic<int> runs{0};
  const uint64_t id = store_->WatchBeyond(0, [&] { ++runs; });
  EXPECT_TRUE(store_->CancelWatch(id));
  // A watch registered after it, on the same position, runs when the
  // cancelled one would have.
  absl::Notification witness;
  store_->WatchBeyond(0, [&] { witness.Notify(); });
  AppendOk("case-a", Batch({Note("a-1")}));
  ASSERT_TRUE(witness.WaitForNotificationWithTimeout(kPatience));
  absl::SleepFor(kQuiet);
  EXPECT_EQ(runs.load(), 0);
  EXPECT_FALSE(store_->CancelWatch(id));
}

TEST_F(Watches, CancelWatchAfterItRanReturnsFalse) {
  absl::Notification ran;
  const uint64_t id = store_->WatchBeyond(0, [&] { ran.Notify(); });
  AppendOk("case-a", Batch({Note("a-1")}));
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(kPatience));
  EXPECT_FALSE(store_->CancelWatch(id));
}

// CancelWatch() is exact: a watch that is due but queued behind a running
// callback has not started, so it can still be cancelled and never runs.
// (Regression: before 5285a16 due callbacks left the queue together, and
// CancelWatch returned false for one that then ran.)
TEST_F(Watches, CancelWatchOfADueCallbackThatHasNotStartedPreventsIt) {
  auto first_started = std::make_shared<absl::Notification>();
  auto release = std::make_shared<absl::Notification>();
  auto second_runs = std::make_shared<std::atomic<int>>(0);
  ReleaseOnExit release_on_exit{*release};
  store_->WatchBeyond(0, [first_started, release] {
    first_started->Notify();
    release->WaitForNotification();
  });
  const uint64_t second =
      store_->WatchBeyond(0, [second_runs] { ++*second_runs; });
  std::thread appender([this] { AppendOk("case-a", Batch({Note("a-1")})); });
  EXPECT_TRUE(first_started->WaitForNotificationWithTimeout(kPatience));
  // The notification thread is busy in the first callback, so the second
  // cannot have started.
  EXPECT_EQ(second_runs->load(), 0);
  EXPECT_TRUE(store_->CancelWatch(second))
      << "the callback had not started, so it can still be cancelled";
  release->Notify();
  appender.join();
  // A later watch shows when the notification thread has moved on.
  absl::Notification witness;
  store_->WatchBeyond(0, [&witness] { witness.Notify(); });
  ASSERT_TRUE(witness.WaitForNotificationWithTimeout(kPatience));
  EXPECT_EQ(second_runs->load(), 0) << "a cancelled watch never runs";
}

TEST_F(Watches, ASlowCallbackDoesNotHoldUpAppends) {
  // Shared with the callback: the store's notification thread may outlive
  // this body if an assertion ends it early.
  auto started = std::make_shared<absl::Notification>();
  auto release = std::make_shared<absl::Notification>();
  ReleaseOnExit release_on_exit{*release};
  store_->WatchBeyond(0, [started, release] {
    started->Notify();
    release->WaitForNotification();
  });
  // Appends on a thread of their own, so that a store which ran the parked
  // callback on the appender's thread fails this test rather than hangs it.
  auto appended = std::make_shared<absl::Notification>();
  std::thread appender([this, appended] {
    for (int i = 1; i <= 5; ++i) {
      AppendOk("case-a", Batch({Note(absl::StrCat("a-", i))}));
    }
    appended->Notify();
  });
  EXPECT_TRUE(started->WaitForNotificationWithTimeout(kPatience));
  EXPECT_TRUE(appended->WaitForNotificationWithTimeout(kPatience))
      << "appends waited for a watch callback";
  EXPECT_EQ(store_->LastPosition(), 5u);
  release->Notify();
  appender.join();
}

}  // namespace
}  // namespace referral::storage
