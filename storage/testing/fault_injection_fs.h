// FaultInjectionFileSystem: a RocksDB file system for tests that simulates a
// power cut. It forwards to a real file system and remembers, for every file
// it opened for writing, how many bytes were appended and how many of those a
// Sync or Fsync made durable. After PowerOff() it refuses every write, sync,
// create, rename and delete, so that nothing the database does while it is
// torn down can persist; DropUnsyncedData() then cuts every file back to what
// was durable when the power went, as the disk would hold it after a reboot.
//
//   auto fs = std::make_shared<FaultInjectionFileSystem>();
//   std::unique_ptr<rocksdb::Env> env = rocksdb::NewCompositeEnv(fs);
//   options.env = env.get();
//   ... open, write, acknowledge ...
//   fs->PowerOff();
//   store.reset();                     // close: nothing reaches the disk
//   ASSERT_TRUE(fs->DropUnsyncedData().ok());
//   ... reopen with the default Env and check what survived ...
//
// The model, and what it leaves out:
//  * Only data written through NewWritableFile, ReopenWritableFile and
//    ReuseWritableFile is tracked; RangeSync and Flush do not make it durable,
//    Sync and Fsync do.
//  * Names are durable at once: a create, rename or delete done before
//    PowerOff() survives it, as if the directory were synced straight away.
//    RocksDB syncs the directory after each of these that matters, so this
//    leaves out only the window between the operation and that sync.
//  * A file never synced keeps its name and is cut to 0 bytes (the choice the
//    brief left open). That is what a journaling file system typically shows
//    for a file whose directory entry reached the disk but whose data did not,
//    and it makes recovery meet an empty file rather than none, which is the
//    harder of the two cases for it. A file deleted before PowerOff() stays
//    deleted.
//  * The unsynced tail is removed cleanly, never torn or filled with garbage.
//  * RocksDB's info log (NewLogger) is not data and is not tracked; a logger
//    opened before PowerOff() keeps writing to it.
//  * Lock files are left alone, so the same process can reopen the database
//    once the old handle is gone.
//
// Thread safety: safe to use from many threads at once, as RocksDB does.
// PowerOff() may race with writes: a Sync that started before it counts as
// having reached the disk, anything after it fails.

#ifndef REFERRAL_STORAGE_TESTING_FAULT_INJECTION_FS_H_
#define REFERRAL_STORAGE_TESTING_FAULT_INJECTION_FS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/file_system.h"

namespace referral::storage::testing {

class FaultInjectionFileSystem : public rocksdb::FileSystemWrapper {
 public:
  // What is known about one file opened for writing.
  struct FileState {
    uint64_t size = 0;    // bytes written so far
    uint64_t synced = 0;  // bytes a Sync/Fsync made durable
  };

  // Wraps `base` (the machine's default file system when omitted).
  explicit FaultInjectionFileSystem(const std::shared_ptr<rocksdb::FileSystem>&
                                        base = rocksdb::FileSystem::Default());
  ~FaultInjectionFileSystem() override;

  const char* Name() const override { return "FaultInjectionFileSystem"; }

  // Cuts the power: from now on every write, sync, create, rename and delete
  // does nothing and returns an IOError. Reads still work. There is no way
  // to turn the power back on; reopen the database on another file system.
  void PowerOff();
  bool powered_off() const { return powered_off_.load(); }

  // Arms a power cut for the moment of the next Sync or Fsync of a file whose
  // name ends with `name_suffix` (".log" for RocksDB's write-ahead logs): that
  // call cuts the power instead of syncing, so the data it was to make
  // durable is lost and the caller sees an IOError.
  void PowerOffAtNextSync(std::string name_suffix);

  // Truncates every tracked file to its last synced size (0 when it was never
  // synced) and returns how many bytes that dropped. Call it after the
  // database is closed. An error means a file could not be cut, and the
  // simulation is void.
  absl::StatusOr<uint64_t> DropUnsyncedData();

  // Bytes written but not yet synced, over every tracked file.
  uint64_t UnsyncedBytes() const;

  // ---- rocksdb::FileSystem: files whose data is tracked.
  rocksdb::IOStatus NewWritableFile(
      const std::string& fname, const rocksdb::FileOptions& file_opts,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(
      const std::string& fname, const rocksdb::FileOptions& file_opts,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(
      const std::string& fname, const std::string& old_fname,
      const rocksdb::FileOptions& file_opts,
      std::unique_ptr<rocksdb::FSWritableFile>* result,
      rocksdb::IODebugContext* dbg) override;

  // ---- Everything else that changes the disk: refused after PowerOff().
  rocksdb::IOStatus NewRandomRWFile(
      const std::string& fname, const rocksdb::FileOptions& file_opts,
      std::unique_ptr<rocksdb::FSRandomRWFile>* result,
      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name,
                                 const rocksdb::IOOptions& io_opts,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& fname, size_t size,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& dirname,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& dirname,
                                       const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteDir(const std::string& dirname,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src,
                               const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewLogger(const std::string& fname,
                              const rocksdb::IOOptions& options,
                              std::shared_ptr<rocksdb::Logger>* result,
                              rocksdb::IODebugContext* dbg) override;

  // The error every refused call returns.
  static rocksdb::IOStatus PoweredOffError(const std::string& what);

 private:
  class TrackedWritableFile;
  class GuardedDirectory;

  // Truncates `fname` on the base file system.
  rocksdb::IOStatus CutTo(const std::string& fname, uint64_t size);

  // Starts tracking `fname` with `state`, replacing what was known of it.
  std::shared_ptr<FileState> Track(const std::string& fname, FileState state);

  // Cuts the power and returns true when a cut is armed for `fname`.
  bool CutAtSync(const std::string& fname);

  std::atomic<bool> powered_off_{false};
  std::atomic<bool> cut_armed_{false};
  std::string cut_suffix_ ABSL_GUARDED_BY(mu_);
  mutable absl::Mutex mu_;
  // By current name. An open file holds its state too, so writes to a file
  // renamed or deleted while open still land somewhere harmless.
  std::map<std::string, std::shared_ptr<FileState>> files_ ABSL_GUARDED_BY(mu_);
};

}  // namespace referral::storage::testing

#endif  // REFERRAL_STORAGE_TESTING_FAULT_INJECTION_FS_H_
