// Simulated power loss: the store runs on a file system that, when the power
// is cut, keeps only what was synced (storage/testing/fault_injection_fs.h).
// Every acknowledged append and checkpoint must survive that; a store that
// acknowledges before syncing (EventStoreOptions::sync = false, the negative
// control) must be caught losing them, which shows these tests can fail.

#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/env.h"
#include "storage/event_store.h"
#include "storage/testing/fault_injection_fs.h"
#include "tests/crash/crash_workload.h"
#include "tests/crash/durability_audit.h"
#include "tests/crash/scratch_dir.h"

namespace referral::crash {
namespace {

using ::referral::storage::testing::FaultInjectionFileSystem;
using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::testing::IsEmpty;

constexpr int kThreads = 4;
constexpr int kBatchesPerThread = 40;

// Acknowledgements collected from several appender threads.
class AckLog {
 public:
  void Add(absl::Span<const Ack> acks) {
    absl::MutexLock l(&mu_);
    acks_.insert(acks_.end(), acks.begin(), acks.end());
  }
  size_t size() const {
    absl::MutexLock l(&mu_);
    return acks_.size();
  }
  std::vector<Ack> Take() {
    absl::MutexLock l(&mu_);
    return std::move(acks_);
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Ack> acks_ ABSL_GUARDED_BY(mu_);
};

class EventStorePowerLoss : public ::testing::Test {
 protected:
  // Opens the store on the fault-injecting file system.
  absl::StatusOr<std::unique_ptr<storage::EventStore>> OpenBeforePowerLoss(
      bool sync) {
    storage::EventStoreOptions options;
    options.path = db_path_;
    options.sync = sync;
    options.env = env_.get();
    return storage::EventStore::Open(options);
  }

  // Opens the store as the machine would after the reboot: the plain disk.
  absl::StatusOr<std::unique_ptr<storage::EventStore>> OpenAfterReboot() {
    storage::EventStoreOptions options;
    options.path = db_path_;
    return storage::EventStore::Open(options);
  }

  // Appends `batches` batches from each of kThreads threads and returns what
  // was acknowledged; any failed Append fails the test.
  std::vector<Ack> AppendFromThreads(storage::EventStore& store,
                                     const std::string& tag, int batches) {
    AckLog log;
    std::vector<std::thread> threads;
    std::vector<absl::Status> results(kThreads);
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        int left = batches;
        results[t] = RunAppender(store, tag, t, [&](absl::Span<const Ack> a) {
          log.Add(a);
          return --left > 0;
        });
      });
    }
    for (auto& th : threads) th.join();
    for (const absl::Status& s : results) EXPECT_THAT(s, IsOk());
    return log.Take();
  }

  // Cuts the power under `store`, closes it, and leaves on disk only what
  // was synced. Returns the bytes that were dropped.
  uint64_t CutPower(std::unique_ptr<storage::EventStore>& store) {
    fs_->PowerOff();
    store.reset();
    absl::StatusOr<uint64_t> dropped = fs_->DropUnsyncedData();
    EXPECT_THAT(dropped, IsOk());
    return dropped.ok() ? *dropped : 0;
  }

  ScratchDir dir_{"power_loss"};
  const std::string db_path_ = dir_.Sub("store");
  std::shared_ptr<FaultInjectionFileSystem> fs_ =
      std::make_shared<FaultInjectionFileSystem>();
  std::unique_ptr<rocksdb::Env> env_ = rocksdb::NewCompositeEnv(fs_);
};

TEST_F(EventStorePowerLoss, EveryAcknowledgedAppendSurvives) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenBeforePowerLoss(/*sync=*/true));
  std::vector<Ack> acks =
      AppendFromThreads(*store, "before", kBatchesPerThread);
  ASSERT_FALSE(acks.empty());

  const uint64_t dropped = CutPower(store);
  ASSERT_OK_AND_ASSIGN(store, OpenAfterReboot());

  DurabilityAudit audit = AuditStore(*store, acks);
  std::cout << "power cut after " << acks.size() << " acknowledged events, "
            << dropped << " unsynced bytes dropped: " << audit.present
            << " present\n";
  EXPECT_TRUE(audit.ok()) << audit.Summary();
  EXPECT_EQ(audit.present, acks.size()) << audit.Summary();
  EXPECT_GE(store->LastPosition(), acks.size());
  EXPECT_EQ(audit.cases_intact, static_cast<size_t>(kCaseCount));
  EXPECT_THAT(RetryAcknowledged(*store, acks), IsEmpty());
}

// The power goes in the middle of a group commit under load: the group's
// log record is written and its sync is under way. That group must fail and
// leave nothing half-done; every group acknowledged before must be there.
TEST_F(EventStorePowerLoss, PowerCutDuringAGroupCommitKeepsEveryAck) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenBeforePowerLoss(/*sync=*/true));
  constexpr int kLoadThreads = 8;
  constexpr size_t kAcksBeforeCut = 300;
  AckLog log;
  std::vector<std::thread> threads;
  std::vector<absl::Status> results(kLoadThreads);
  for (int t = 0; t < kLoadThreads; ++t) {
    threads.emplace_back([&, t] {
      results[t] = RunAppender(*store, "load", t, [&](absl::Span<const Ack> a) {
        log.Add(a);
        return true;  // until the power goes
      });
    });
  }
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (log.size() < kAcksBeforeCut && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  fs_->PowerOffAtNextSync(".log");  // RocksDB's write-ahead logs
  for (auto& th : threads) th.join();
  ASSERT_TRUE(fs_->powered_off()) << "no log sync after the cut was armed";
  for (const absl::Status& s : results) {
    EXPECT_THAT(s, HasReason("STORAGE_FAILURE"));
  }
  std::vector<Ack> acks = log.Take();
  ASSERT_GE(acks.size(), kAcksBeforeCut) << "too little load before the cut";

  const uint64_t dropped = CutPower(store);
  // The interrupted group's log record was written but never synced.
  EXPECT_GT(dropped, 0u);
  ASSERT_OK_AND_ASSIGN(store, OpenAfterReboot());

  DurabilityAudit audit = AuditStore(*store, acks);
  std::cout << "power cut in a group commit after " << acks.size()
            << " acknowledged events, " << dropped
            << " unsynced bytes dropped; " << store->LastPosition()
            << " events in the store after reboot\n";
  EXPECT_TRUE(audit.ok()) << audit.Summary();
  EXPECT_EQ(audit.present, acks.size()) << audit.Summary();
  EXPECT_THAT(RetryAcknowledged(*store, acks), IsEmpty());
}

TEST_F(EventStorePowerLoss, AcknowledgedCheckpointSurvives) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenBeforePowerLoss(/*sync=*/true));
  std::vector<Ack> acks = AppendFromThreads(*store, "cp", 5);
  ASSERT_THAT(store->SetCheckpoint("projector", 1), IsOk());
  ASSERT_OK_AND_ASSIGN(storage::Checkpoint latest,
                       store->SetCheckpoint("projector", acks.size()));

  CutPower(store);
  ASSERT_OK_AND_ASSIGN(store, OpenAfterReboot());

  ASSERT_OK_AND_ASSIGN(storage::Checkpoint after,
                       store->GetCheckpoint("projector"));
  EXPECT_EQ(after.position, latest.position);
  EXPECT_EQ(after.update_time,
            absl::FromUnixMicros(absl::ToUnixMicros(latest.update_time)));
}

// Negative control: the same power cut under a store that acknowledges
// appends and checkpoints before syncing them. The checks above must see the
// loss, or they could not see it in a broken store either.
TEST_F(EventStorePowerLoss, NegativeControlUnsyncedStoreIsCaughtLosingAcks) {
  ASSERT_OK_AND_ASSIGN(auto store, OpenBeforePowerLoss(/*sync=*/false));
  std::vector<Ack> acks =
      AppendFromThreads(*store, "unsynced", kBatchesPerThread);
  ASSERT_FALSE(acks.empty());
  ASSERT_THAT(store->SetCheckpoint("projector", acks.size()), IsOk());

  const uint64_t dropped = CutPower(store);
  ASSERT_OK_AND_ASSIGN(store, OpenAfterReboot());

  DurabilityAudit audit = AuditStore(*store, acks);
  std::cout << "negative control: " << acks.size() - audit.present << " of "
            << acks.size() << " acknowledged events lost (" << dropped
            << " unsynced bytes dropped)\n";
  EXPECT_GT(dropped, 0u);
  EXPECT_LT(audit.present, audit.acknowledged);
  EXPECT_FALSE(audit.ok());
  EXPECT_THAT(store->GetCheckpoint("projector"),
              HasReason("CHECKPOINT_NOT_FOUND"));
  // What is left is still a whole log, only shorter.
  EXPECT_EQ(audit.feed_events, store->LastPosition());
  EXPECT_EQ(audit.case_events, store->LastPosition());
}

}  // namespace
}  // namespace referral::crash
