// Counts the write-ahead-log syncs of every RocksDB database opened through
// WalSyncCountingFileSystem, and their wall time: both benchmarks report
// commit group sizes (operations per sync) and sync latency from it.

#ifndef REFERRAL_TESTS_BENCH_WAL_SYNC_COUNTER_H_
#define REFERRAL_TESTS_BENCH_WAL_SYNC_COUNTER_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "rocksdb/file_system.h"

namespace referral::bench {

// WAL syncs counted by WalSyncCountingFileSystem, and their total wall time.
struct SyncStats {
  std::atomic<uint64_t> syncs{0};
  std::atomic<uint64_t> sync_nanos{0};
};

class CountingWalFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  CountingWalFile(std::unique_ptr<rocksdb::FSWritableFile> file,
                  SyncStats* stats)
      : FSWritableFileOwnerWrapper(std::move(file)), stats_(stats) {}

  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options,
                         rocksdb::IODebugContext* dbg) override {
    return Count([&] { return target()->Sync(options, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    return Count([&] { return target()->Fsync(options, dbg); });
  }

 private:
  template <typename F>
  rocksdb::IOStatus Count(const F& f) {
    const auto t0 = std::chrono::steady_clock::now();
    rocksdb::IOStatus s = f();
    stats_->sync_nanos +=
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    ++stats_->syncs;
    return s;
  }
  SyncStats* stats_;
};

// Counts Sync/Fsync on the write-ahead-log files (*.log) of every database
// opened through it. Everything else passes through to the default file
// system. Thread safety: as the default file system's.
class WalSyncCountingFileSystem final : public rocksdb::FileSystemWrapper {
 public:
  explicit WalSyncCountingFileSystem(SyncStats* stats)
      : FileSystemWrapper(rocksdb::FileSystem::Default()), stats_(stats) {}

  const char* Name() const override { return "WalSyncCountingFileSystem"; }

  rocksdb::IOStatus NewWritableFile(const std::string& f,
                                    const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* r,
                                    rocksdb::IODebugContext* dbg) override {
    return Wrap(f, target()->NewWritableFile(f, o, r, dbg), r);
  }
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& f, const rocksdb::FileOptions& o,
      std::unique_ptr<rocksdb::FSWritableFile>* r,
      rocksdb::IODebugContext* dbg) override {
    return Wrap(f, target()->ReopenWritableFile(f, o, r, dbg), r);
  }
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& f, const std::string& old,
      const rocksdb::FileOptions& o,
      std::unique_ptr<rocksdb::FSWritableFile>* r,
      rocksdb::IODebugContext* dbg) override {
    return Wrap(f, target()->ReuseWritableFile(f, old, o, r, dbg), r);
  }

 private:
  rocksdb::IOStatus Wrap(const std::string& name, rocksdb::IOStatus s,
                         std::unique_ptr<rocksdb::FSWritableFile>* r) {
    if (s.ok() && absl::EndsWith(name, ".log")) {
      *r = std::make_unique<CountingWalFile>(std::move(*r), stats_);
    }
    return s;
  }
  SyncStats* stats_;
};

}  // namespace referral::bench

#endif  // REFERRAL_TESTS_BENCH_WAL_SYNC_COUNTER_H_
