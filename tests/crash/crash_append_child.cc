// crash_append_child: the process the SIGKILL test kills. Opens the event
// store at <db_path>, appends the crash workload from kThreads threads until
// it is killed, and reports every acknowledged event on stdout as one
// "ack <event_id> <case_id> <sequence> <position>" line, written with one
// write(2) per acknowledged batch right after its Append returned OK. Nothing
// is buffered in the process, so whatever the parent reads was acknowledged
// before the kill. The first line, "open", says the store has opened.
//
//   crash_append_child <db_path> <run_tag> [--acknowledge-from-memory]
//
// --acknowledge-from-memory is the SIGKILL test's negative control: the store
// runs without sync on a file system that keeps written bytes in this
// process until a sync, so it acknowledges appends that only its memory
// holds, and a kill must be seen to lose them.
//
// Exit codes (the parent expects none of them: it kills the child):
//   2 usage or open failure, 3 an Append failed, 4 not killed within
//   kMaxLifetime, 5 the report pipe broke.

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"
#include "storage/event_store.h"
#include "tests/crash/crash_workload.h"

namespace {

constexpr int kThreads = 8;
// A child the parent forgot stops by itself.
constexpr std::chrono::seconds kMaxLifetime(60);

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// A writable file that holds appended bytes in process memory and hands them
// to the kernel only on Sync, Fsync or Close: to a SIGKILL, exactly a store
// that acknowledges what it has not written.
class MemoryBufferedFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  explicit MemoryBufferedFile(std::unique_ptr<rocksdb::FSWritableFile> base)
      : rocksdb::FSWritableFileOwnerWrapper(std::move(base)) {}

  IOStatus Append(const Slice& data, const IOOptions&,
                  IODebugContext*) override {
    absl::MutexLock l(&mu_);
    buffer_.append(data.data(), data.size());
    return IOStatus::OK();
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo&,
                  IODebugContext* dbg) override {
    return Append(data, options, dbg);
  }
  IOStatus Flush(const IOOptions&, IODebugContext*) override {
    return IOStatus::OK();  // stays in memory: the point of this file
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = WriteOut(options, dbg);
    return s.ok() ? target()->Sync(options, dbg) : s;
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = WriteOut(options, dbg);
    return s.ok() ? target()->Fsync(options, dbg) : s;
  }
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& options,
                     IODebugContext* dbg) override {
    IOStatus s = WriteOut(options, dbg);
    return s.ok() ? target()->RangeSync(offset, nbytes, options, dbg) : s;
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options,
                    IODebugContext* dbg) override {
    IOStatus s = WriteOut(options, dbg);
    return s.ok() ? target()->Truncate(size, options, dbg) : s;
  }
  IOStatus Close(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = WriteOut(options, dbg);
    return s.ok() ? target()->Close(options, dbg) : s;
  }
  uint64_t GetFileSize(const IOOptions& options, IODebugContext* dbg) override {
    absl::MutexLock l(&mu_);
    return target()->GetFileSize(options, dbg) + buffer_.size();
  }
  bool IsSyncThreadSafe() const override { return false; }

 private:
  IOStatus WriteOut(const IOOptions& options, IODebugContext* dbg) {
    absl::MutexLock l(&mu_);
    if (buffer_.empty()) return IOStatus::OK();
    IOStatus s = target()->Append(buffer_, options, dbg);
    if (s.ok()) s = target()->Flush(options, dbg);
    if (s.ok()) buffer_.clear();
    return s;
  }

  absl::Mutex mu_;
  std::string buffer_ ABSL_GUARDED_BY(mu_);
};

class MemoryBufferedFileSystem : public rocksdb::FileSystemWrapper {
 public:
  MemoryBufferedFileSystem()
      : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "MemoryBufferedFileSystem"; }

  IOStatus NewWritableFile(const std::string& fname,
                           const rocksdb::FileOptions& file_opts,
                           std::unique_ptr<rocksdb::FSWritableFile>* result,
                           IODebugContext* dbg) override {
    std::unique_ptr<rocksdb::FSWritableFile> base;
    IOStatus s = target()->NewWritableFile(fname, file_opts, &base, dbg);
    if (s.ok()) *result = std::make_unique<MemoryBufferedFile>(std::move(base));
    return s;
  }
};

// Writes all of `data` to stdout. One batch's lines are far below PIPE_BUF,
// so each call is one atomic write and lines of concurrent threads never
// interleave.
bool WriteAll(const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(STDOUT_FILENO, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const bool from_memory =
      argc == 4 && std::strcmp(argv[3], "--acknowledge-from-memory") == 0;
  if (argc != 3 && !from_memory) {
    std::fprintf(stderr,
                 "usage: %s <db_path> <run_tag> [--acknowledge-from-memory]\n",
                 argv[0]);
    return 2;
  }
  referral::storage::EventStoreOptions options;
  options.path = argv[1];
  const std::string tag = argv[2];
  std::unique_ptr<rocksdb::Env> env;
  if (from_memory) {
    env =
        rocksdb::NewCompositeEnv(std::make_shared<MemoryBufferedFileSystem>());
    options.env = env.get();
    options.sync = false;
  }
  absl::StatusOr<std::unique_ptr<referral::storage::EventStore>> store =
      referral::storage::EventStore::Open(options);
  if (!store.ok()) {
    std::fprintf(stderr, "crash_append_child: open %s: %s\n", argv[1],
                 store.status().ToString().c_str());
    return 2;
  }
  if (!WriteAll("open\n")) return 5;

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, &tag, t] {
      absl::Status s = referral::crash::RunAppender(
          **store, tag, t, [](absl::Span<const referral::crash::Ack> acks) {
            std::string lines;
            for (const auto& ack : acks) {
              lines += referral::crash::FormatAck(ack);
            }
            if (!WriteAll(lines)) _exit(5);
            return true;
          });
      std::fprintf(stderr, "crash_append_child: thread %d: %s\n", t,
                   s.ToString().c_str());
      _exit(3);
    });
  }
  std::this_thread::sleep_for(kMaxLifetime);
  std::fprintf(stderr, "crash_append_child: not killed within %lld s\n",
               static_cast<long long>(kMaxLifetime.count()));
  _exit(4);
}
