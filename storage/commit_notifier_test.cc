// CommitNotifier (storage/commit_notifier.h): the committed position only
// moves forward, waiters wake when it passes theirs, and one-shot watches run
// exactly once on the notifier's own thread, never the publisher's.

#include "storage/commit_notifier.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace referral::storage {
namespace {

// Long enough that a working notifier is never this slow on a loaded machine.
constexpr absl::Duration kPatience = absl::Seconds(10);
// Long enough that a callback that was going to run would have run.
constexpr absl::Duration kQuiet = absl::Milliseconds(100);

// Notifies on destruction unless already notified: declared after the
// notifier, it releases a parked callback before the notifier joins its
// thread, even when an assertion ends the test early.
struct ReleaseOnExit {
  absl::Notification& n;
  ~ReleaseOnExit() {
    if (!n.HasBeenNotified()) n.Notify();
  }
};

TEST(CommitNotifier, StartsAtTheInitialPosition) {
  CommitNotifier n(42);
  EXPECT_EQ(n.position(), 42u);
}

TEST(CommitNotifier, PublishMovesThePositionForwardOnly) {
  CommitNotifier n(0);
  n.Publish(5);
  EXPECT_EQ(n.position(), 5u);
  n.Publish(3);
  EXPECT_EQ(n.position(), 5u) << "a late, lower publish does not move it back";
  n.Publish(5);
  EXPECT_EQ(n.position(), 5u);
  n.Publish(9);
  EXPECT_EQ(n.position(), 9u);
}

TEST(CommitNotifier, WaitBeyondReturnsAtOnceWhenAlreadyBeyond) {
  CommitNotifier n(10);
  const absl::Time start = absl::Now();
  EXPECT_TRUE(n.WaitBeyond(9, start + kPatience));
  EXPECT_TRUE(n.WaitBeyond(0, start + kPatience));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST(CommitNotifier, WaitBeyondTimesOutWhenThePositionDoesNotPassIt) {
  CommitNotifier n(10);
  const absl::Time start = absl::Now();
  EXPECT_FALSE(n.WaitBeyond(10, start + kQuiet)) << "equal is not beyond";
  EXPECT_GE(absl::Now() - start, kQuiet - absl::Milliseconds(5));
  EXPECT_FALSE(n.WaitBeyond(11, absl::Now() - absl::Seconds(1)))
      << "a past deadline";
}

TEST(CommitNotifier, WaitBeyondWakesWhenAnotherThreadPublishesPastIt) {
  CommitNotifier n(3);
  std::thread publisher([&n] {
    absl::SleepFor(absl::Milliseconds(20));
    n.Publish(3);  // not past: the waiter keeps waiting
    absl::SleepFor(absl::Milliseconds(20));
    n.Publish(4);
  });
  const absl::Time start = absl::Now();
  EXPECT_TRUE(n.WaitBeyond(3, start + kPatience));
  EXPECT_GE(n.position(), 4u);
  EXPECT_LT(absl::Now() - start, kPatience);
  publisher.join();
}

TEST(CommitNotifier, WatchRunsOnceWhenThePositionPassesIt) {
  std::atomic<int> runs{0};
  absl::Notification ran;
  CommitNotifier n(5);
  n.WatchBeyond(6, [&] {
    ++runs;
    ran.Notify();
  });
  n.Publish(6);
  EXPECT_FALSE(ran.WaitForNotificationWithTimeout(kQuiet))
      << "6 is not beyond 6";
  n.Publish(7);
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(kPatience));
  n.Publish(8);
  n.Publish(100);
  absl::SleepFor(kQuiet);
  EXPECT_EQ(runs.load(), 1);
}

TEST(CommitNotifier, AWatchAlreadyPassedRunsPromptly) {
  absl::Notification ran;
  CommitNotifier n(10);
  const absl::Time start = absl::Now();
  n.WatchBeyond(3, [&] { ran.Notify(); });
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(kPatience));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
}

TEST(CommitNotifier, CallbacksRunOnTheNotifierThreadNotThePublishers) {
  CommitNotifier n(0);
  const std::thread::id test_thread = std::this_thread::get_id();
  std::thread::id publisher_thread;
  std::thread::id callback_thread;
  absl::Notification ran;
  n.WatchBeyond(0, [&] {
    callback_thread = std::this_thread::get_id();
    ran.Notify();
  });
  std::thread publisher([&] {
    publisher_thread = std::this_thread::get_id();
    n.Publish(1);
  });
  publisher.join();
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(kPatience));
  EXPECT_NE(callback_thread, publisher_thread);
  EXPECT_NE(callback_thread, test_thread);
}

TEST(CommitNotifier, PublishDoesNotWaitForACallbackThatIsRunning) {
  absl::Notification started, release, published;
  CommitNotifier n(0);
  ReleaseOnExit release_on_exit{release};
  n.WatchBeyond(0, [&] {
    started.Notify();
    release.WaitForNotification();
  });
  // Publish on a thread of its own, so that a notifier which ran the parked
  // callback inline would fail this test rather than hang it.
  std::thread publisher([&] {
    for (uint64_t p = 1; p < 100; ++p) n.Publish(p);
    published.Notify();
  });
  EXPECT_TRUE(started.WaitForNotificationWithTimeout(kPatience));
  EXPECT_TRUE(published.WaitForNotificationWithTimeout(absl::Seconds(5)))
      << "Publish waited for a callback";
  EXPECT_EQ(n.position(), 99u);
  EXPECT_TRUE(n.WaitBeyond(50, absl::Now() + absl::Seconds(1)));
  release.Notify();
  publisher.join();
}

TEST(CommitNotifier, CancelBeforeItRunsPreventsTheCallback) {
  CommitNotifier n(0);
  std::atomic<int> cancelled_runs{0};
  const uint64_t id = n.WatchBeyond(1, [&] { ++cancelled_runs; });
  EXPECT_TRUE(n.Cancel(id));
  // A second watch on the same position tells us when the first would have
  // run.
  absl::Notification later;
  n.WatchBeyond(1, [&] { later.Notify(); });
  n.Publish(2);
  ASSERT_TRUE(later.WaitForNotificationWithTimeout(kPatience));
  absl::SleepFor(kQuiet);
  EXPECT_EQ(cancelled_runs.load(), 0);
  EXPECT_FALSE(n.Cancel(id)) << "already removed";
}

TEST(CommitNotifier, CancelAfterItRanReturnsFalse) {
  CommitNotifier n(0);
  absl::Notification ran;
  const uint64_t id = n.WatchBeyond(0, [&] { ran.Notify(); });
  n.Publish(1);
  ASSERT_TRUE(ran.WaitForNotificationWithTimeout(kPatience));
  EXPECT_FALSE(n.Cancel(id));
}

TEST(CommitNotifier, CancelWhileItRunsReturnsFalse) {
  absl::Notification started, release;
  CommitNotifier n(0);
  ReleaseOnExit release_on_exit{release};
  const uint64_t id = n.WatchBeyond(0, [&] {
    started.Notify();
    release.WaitForNotification();
  });
  std::thread publisher([&n] { n.Publish(1); });
  EXPECT_TRUE(started.WaitForNotificationWithTimeout(kPatience));
  EXPECT_FALSE(n.Cancel(id));
  release.Notify();
  publisher.join();
}

TEST(CommitNotifier, CancelOfADueWatchQueuedBehindARunningOneSucceeds) {
  absl::Notification started, release;
  std::atomic<int> second_runs{0};
  CommitNotifier n(0);
  ReleaseOnExit release_on_exit{release};
  n.WatchBeyond(0, [&] {
    started.Notify();
    release.WaitForNotification();
  });
  const uint64_t second = n.WatchBeyond(0, [&] { ++second_runs; });
  n.Publish(1);
  ASSERT_TRUE(started.WaitForNotificationWithTimeout(kPatience));
  EXPECT_TRUE(n.Cancel(second)) << "it is due but has not started";
  release.Notify();
  absl::Notification witness;
  n.WatchBeyond(0, [&] { witness.Notify(); });
  ASSERT_TRUE(witness.WaitForNotificationWithTimeout(kPatience));
  EXPECT_EQ(second_runs.load(), 0);
}

TEST(CommitNotifier, CancelOfAnUnknownIdReturnsFalse) {
  CommitNotifier n(0);
  EXPECT_FALSE(n.Cancel(12345));
}

TEST(CommitNotifier, WatchIdsAreDistinct) {
  CommitNotifier n(0);
  const uint64_t a = n.WatchBeyond(5, [] {});
  const uint64_t b = n.WatchBeyond(5, [] {});
  const uint64_t c = n.WatchBeyond(6, [] {});
  EXPECT_NE(a, b);
  EXPECT_NE(b, c);
  EXPECT_NE(a, c);
  EXPECT_TRUE(n.Cancel(b));
  EXPECT_TRUE(n.Cancel(a)) << "cancelling one leaves the other in place";
  EXPECT_TRUE(n.Cancel(c));
}

TEST(CommitNotifier, DestructionDropsPendingWatchesWithoutRunningThem) {
  std::atomic<int> runs{0};
  {
    CommitNotifier n(0);
    for (int i = 0; i < 10; ++i) n.WatchBeyond(100, [&] { ++runs; });
  }
  EXPECT_EQ(runs.load(), 0);
}

TEST(CommitNotifier, ManyWatchesFromManyThreadsEachRunExactlyOnce) {
  constexpr int kThreads = 8;
  constexpr int kWatchesPerThread = 200;
  CommitNotifier n(0);
  std::vector<std::atomic<int>> runs(kThreads * kWatchesPerThread);
  std::atomic<int> total{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWatchesPerThread; ++i) {
        const int k = t * kWatchesPerThread + i;
        n.WatchBeyond(static_cast<uint64_t>(i), [&, k] {
          ++runs[k];
          ++total;
        });
        n.Publish(static_cast<uint64_t>(i));  // racing publishers
      }
    });
  }
  for (auto& th : threads) th.join();
  n.Publish(kWatchesPerThread);
  const absl::Time deadline = absl::Now() + kPatience;
  while (total.load() < kThreads * kWatchesPerThread && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  absl::SleepFor(absl::Milliseconds(20));
  for (size_t k = 0; k < runs.size(); ++k) {
    ASSERT_EQ(runs[k].load(), 1) << "watch " << k;
  }
}

}  // namespace
}  // namespace referral::storage
