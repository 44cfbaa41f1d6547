#include "storage/testing/fault_injection_fs.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace referral::storage::testing {

using rocksdb::FileOptions;
using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

// A writable file that reports how much it has written and synced.
class FaultInjectionFileSystem::TrackedWritableFile
    : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedWritableFile(std::unique_ptr<rocksdb::FSWritableFile> base,
                      FaultInjectionFileSystem* fs,
                      std::shared_ptr<FileState> state, std::string name)
      : rocksdb::FSWritableFileOwnerWrapper(std::move(base)),
        fs_(fs),
        state_(std::move(state)),
        name_(std::move(name)) {}

  IOStatus Append(const Slice& data, const IOOptions& options,
                  IODebugContext* dbg) override {
    if (fs_->powered_off()) return PoweredOffError("append to " + name_);
    IOStatus s = target()->Append(data, options, dbg);
    if (s.ok()) Grow(data.size());
    return s;
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info,
                  IODebugContext* dbg) override {
    if (fs_->powered_off()) return PoweredOffError("append to " + name_);
    IOStatus s = target()->Append(data, options, info, dbg);
    if (s.ok()) Grow(data.size());
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& options,
                            IODebugContext* dbg) override {
    if (fs_->powered_off()) return PoweredOffError("append to " + name_);
    IOStatus s = target()->PositionedAppend(data, offset, options, dbg);
    if (s.ok()) GrowTo(offset + data.size());
    return s;
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset,
                            const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    if (fs_->powered_off()) return PoweredOffError("append to " + name_);
    IOStatus s = target()->PositionedAppend(data, offset, options, info, dbg);
    if (s.ok()) GrowTo(offset + data.size());
    return s;
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options,
                    IODebugContext* dbg) override {
    if (fs_->powered_off()) return PoweredOffError("truncate " + name_);
    IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) {
      absl::MutexLock l(&fs_->mu_);
      state_->size = size;
      state_->synced = std::min(state_->synced, size);
    }
    return s;
  }
  IOStatus Flush(const IOOptions& options, IODebugContext* dbg) override {
    if (fs_->powered_off()) return PoweredOffError("flush " + name_);
    return target()->Flush(options, dbg);
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    if (fs_->powered_off() || fs_->CutAtSync(name_)) {
      return PoweredOffError("sync " + name_);
    }
    const uint64_t covered = Size();
    IOStatus s = target()->Sync(options, dbg);
    if (s.ok()) MarkSynced(covered);
    return s;
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    if (fs_->powered_off() || fs_->CutAtSync(name_)) {
      return PoweredOffError("fsync " + name_);
    }
    const uint64_t covered = Size();
    IOStatus s = target()->Fsync(options, dbg);
    if (s.ok()) MarkSynced(covered);
    return s;
  }
  // Starts write-back without waiting for it: nothing is promised durable.
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& options,
                     IODebugContext* dbg) override {
    if (fs_->powered_off()) return PoweredOffError("range-sync " + name_);
    return target()->RangeSync(offset, nbytes, options, dbg);
  }
  IOStatus Allocate(uint64_t offset, uint64_t len, const IOOptions& options,
                    IODebugContext* dbg) override {
    if (fs_->powered_off()) return PoweredOffError("allocate " + name_);
    return target()->Allocate(offset, len, options, dbg);
  }
  IOStatus Close(const IOOptions& options, IODebugContext* dbg) override {
    // The descriptor is released even with the power off. Whatever the base
    // file does on close (trimming preallocated space) cannot add data, and
    // DropUnsyncedData() cuts the file afterwards anyway.
    IOStatus s = target()->Close(options, dbg);
    if (fs_->powered_off()) return PoweredOffError("close " + name_);
    return s;
  }

 private:
  uint64_t Size() {
    absl::MutexLock l(&fs_->mu_);
    return state_->size;
  }
  void Grow(uint64_t n) {
    absl::MutexLock l(&fs_->mu_);
    state_->size += n;
  }
  void GrowTo(uint64_t end) {
    absl::MutexLock l(&fs_->mu_);
    state_->size = std::max(state_->size, end);
  }
  void MarkSynced(uint64_t covered) {
    absl::MutexLock l(&fs_->mu_);
    state_->synced = std::max(state_->synced, std::min(covered, state_->size));
  }

  FaultInjectionFileSystem* const fs_;
  const std::shared_ptr<FileState> state_;
  const std::string name_;
};

// A directory whose fsync is refused once the power is off.
class FaultInjectionFileSystem::GuardedDirectory
    : public rocksdb::FSDirectoryWrapper {
 public:
  GuardedDirectory(std::unique_ptr<rocksdb::FSDirectory> base,
                   const FaultInjectionFileSystem* fs, std::string name)
      : rocksdb::FSDirectoryWrapper(std::move(base)),
        fs_(fs),
        name_(std::move(name)) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    if (fs_->powered_off()) return PoweredOffError("fsync directory " + name_);
    return rocksdb::FSDirectoryWrapper::Fsync(options, dbg);
  }
  IOStatus FsyncWithDirOptions(
      const IOOptions& options, IODebugContext* dbg,
      const rocksdb::DirFsyncOptions& dir_fsync_options) override {
    if (fs_->powered_off()) return PoweredOffError("fsync directory " + name_);
    return rocksdb::FSDirectoryWrapper::FsyncWithDirOptions(options, dbg,
                                                            dir_fsync_options);
  }

 private:
  const FaultInjectionFileSystem* const fs_;
  const std::string name_;
};

FaultInjectionFileSystem::FaultInjectionFileSystem(
    const std::shared_ptr<rocksdb::FileSystem>& base)
    : rocksdb::FileSystemWrapper(base) {}

FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

IOStatus FaultInjectionFileSystem::PoweredOffError(const std::string& what) {
  return IOStatus::IOError("FaultInjectionFileSystem: the power is off", what);
}

void FaultInjectionFileSystem::PowerOff() { powered_off_.store(true); }

void FaultInjectionFileSystem::PowerOffAtNextSync(std::string name_suffix) {
  absl::MutexLock l(&mu_);
  cut_suffix_ = std::move(name_suffix);
  cut_armed_.store(true);
}

bool FaultInjectionFileSystem::CutAtSync(const std::string& fname) {
  if (!cut_armed_.load()) return false;
  absl::MutexLock l(&mu_);
  if (!cut_armed_.load() || !absl::EndsWith(fname, cut_suffix_)) return false;
  cut_armed_.store(false);
  PowerOff();
  return true;
}

std::shared_ptr<FaultInjectionFileSystem::FileState>
FaultInjectionFileSystem::Track(const std::string& fname, FileState state) {
  auto tracked = std::make_shared<FileState>(state);
  absl::MutexLock l(&mu_);
  files_[fname] = tracked;
  return tracked;
}

IOStatus FaultInjectionFileSystem::CutTo(const std::string& fname,
                                         uint64_t size) {
  IOStatus s = target_->Truncate(fname, size, IOOptions(), nullptr);
  if (!s.IsNotSupported()) return s;
  // The POSIX file system of RocksDB 7.8 truncates only through an open file.
  std::unique_ptr<rocksdb::FSWritableFile> file;
  s = target_->ReopenWritableFile(fname, FileOptions(), &file, nullptr);
  if (s.ok()) s = file->Truncate(size, IOOptions(), nullptr);
  if (s.ok()) s = file->Close(IOOptions(), nullptr);
  return s;
}

absl::StatusOr<uint64_t> FaultInjectionFileSystem::DropUnsyncedData() {
  absl::MutexLock l(&mu_);
  uint64_t dropped = 0;
  for (auto& [name, state] : files_) {
    IOStatus s = target_->FileExists(name, IOOptions(), nullptr);
    if (s.IsNotFound()) continue;  // removed behind our back; nothing to cut
    uint64_t on_disk = 0;
    if (s.ok()) s = target_->GetFileSize(name, IOOptions(), &on_disk, nullptr);
    if (s.ok() && on_disk > state->synced) {
      s = CutTo(name, state->synced);
      if (s.ok()) dropped += on_disk - state->synced;
    }
    if (!s.ok()) {
      return absl::InternalError(
          absl::StrCat("dropping unsynced data of ", name, ": ", s.ToString()));
    }
    state->size = state->synced;
  }
  return dropped;
}

uint64_t FaultInjectionFileSystem::UnsyncedBytes() const {
  absl::MutexLock l(&mu_);
  uint64_t total = 0;
  for (const auto& [name, state] : files_) total += state->size - state->synced;
  return total;
}

IOStatus FaultInjectionFileSystem::NewWritableFile(
    const std::string& fname, const FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* dbg) {
  if (powered_off()) return PoweredOffError("create " + fname);
  std::unique_ptr<rocksdb::FSWritableFile> base;
  IOStatus s = target_->NewWritableFile(fname, file_opts, &base, dbg);
  if (!s.ok()) return s;
  // A new file starts empty, whatever was there before.
  *result = std::make_unique<TrackedWritableFile>(
      std::move(base), this, Track(fname, FileState{}), fname);
  return s;
}

IOStatus FaultInjectionFileSystem::ReopenWritableFile(
    const std::string& fname, const FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* dbg) {
  if (powered_off()) return PoweredOffError("reopen " + fname);
  std::unique_ptr<rocksdb::FSWritableFile> base;
  IOStatus s = target_->ReopenWritableFile(fname, file_opts, &base, dbg);
  if (!s.ok()) return s;
  uint64_t size = 0;
  s = target_->GetFileSize(fname, IOOptions(), &size, dbg);
  if (!s.ok()) return s;
  // What a file held before this file system saw it is taken as durable;
  // what it wrote unsynced earlier stays unsynced.
  FileState state{size, size};
  {
    absl::MutexLock l(&mu_);
    if (auto it = files_.find(fname); it != files_.end()) {
      state.synced = std::min(it->second->synced, size);
    }
  }
  *result = std::make_unique<TrackedWritableFile>(std::move(base), this,
                                                  Track(fname, state), fname);
  return s;
}

IOStatus FaultInjectionFileSystem::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname,
    const FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSWritableFile>* result, IODebugContext* dbg) {
  if (powered_off()) return PoweredOffError("reuse " + old_fname);
  std::unique_ptr<rocksdb::FSWritableFile> base;
  IOStatus s =
      target_->ReuseWritableFile(fname, old_fname, file_opts, &base, dbg);
  if (!s.ok()) return s;
  {
    absl::MutexLock l(&mu_);
    files_.erase(old_fname);
  }
  // The recycled file is rewritten from offset 0. Its old bytes past what is
  // synced are cut as well: a simplification (RocksDB only recycles WALs
  // with recycle_log_file_num > 0, which the store does not set).
  *result = std::make_unique<TrackedWritableFile>(
      std::move(base), this, Track(fname, FileState{}), fname);
  return s;
}

IOStatus FaultInjectionFileSystem::NewRandomRWFile(
    const std::string& fname, const FileOptions& file_opts,
    std::unique_ptr<rocksdb::FSRandomRWFile>* result, IODebugContext* dbg) {
  if (powered_off()) return PoweredOffError("open for writing " + fname);
  return target_->NewRandomRWFile(fname, file_opts, result, dbg);
}

IOStatus FaultInjectionFileSystem::NewDirectory(
    const std::string& name, const IOOptions& io_opts,
    std::unique_ptr<rocksdb::FSDirectory>* result, IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> base;
  IOStatus s = target_->NewDirectory(name, io_opts, &base, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<GuardedDirectory>(std::move(base), this, name);
  return s;
}

IOStatus FaultInjectionFileSystem::DeleteFile(const std::string& fname,
                                              const IOOptions& options,
                                              IODebugContext* dbg) {
  if (powered_off()) return PoweredOffError("delete " + fname);
  IOStatus s = target_->DeleteFile(fname, options, dbg);
  if (s.ok()) {
    absl::MutexLock l(&mu_);
    files_.erase(fname);
  }
  return s;
}

IOStatus FaultInjectionFileSystem::Truncate(const std::string& fname,
                                            size_t size,
                                            const IOOptions& options,
                                            IODebugContext* dbg) {
  if (powered_off()) return PoweredOffError("truncate " + fname);
  IOStatus s = target_->Truncate(fname, size, options, dbg);
  if (s.ok()) {
    absl::MutexLock l(&mu_);
    if (auto it = files_.find(fname); it != files_.end()) {
      it->second->size = size;
      it->second->synced = std::min<uint64_t>(it->second->synced, size);
    }
  }
  return s;
}

IOStatus FaultInjectionFileSystem::CreateDir(const std::string& dirname,
                                             const IOOptions& options,
                                             IODebugContext* dbg) {
  if (powered_off()) return PoweredOffError("create directory " + dirname);
  return target_->CreateDir(dirname, options, dbg);
}

IOStatus FaultInjectionFileSystem::CreateDirIfMissing(
    const std::string& dirname, const IOOptions& options, IODebugContext* dbg) {
  if (powered_off()) return PoweredOffError("create directory " + dirname);
  return target_->CreateDirIfMissing(dirname, options, dbg);
}

IOStatus FaultInjectionFileSystem::DeleteDir(const std::string& dirname,
                                             const IOOptions& options,
                                             IODebugContext* dbg) {
  if (powered_off()) return PoweredOffError("delete directory " + dirname);
  return target_->DeleteDir(dirname, options, dbg);
}

IOStatus FaultInjectionFileSystem::RenameFile(const std::string& src,
                                              const std::string& target,
                                              const IOOptions& options,
                                              IODebugContext* dbg) {
  if (powered_off()) return PoweredOffError("rename " + src);
  IOStatus s = target_->RenameFile(src, target, options, dbg);
  if (s.ok()) {
    absl::MutexLock l(&mu_);
    auto it = files_.find(src);
    if (it != files_.end()) {
      files_[target] = std::move(it->second);
      files_.erase(src);
    } else {
      // An untracked file replaced whatever was at `target`: durable as is.
      files_.erase(target);
    }
  }
  return s;
}

// Hard links share data with a tracked file; the store never makes them
// (RocksDB links files only for checkpoints and ingestion), so they are not
// modelled beyond being refused with the power off.
IOStatus FaultInjectionFileSystem::LinkFile(const std::string& src,
                                            const std::string& target,
                                            const IOOptions& options,
                                            IODebugContext* dbg) {
  if (powered_off()) return PoweredOffError("link " + src);
  return target_->LinkFile(src, target, options, dbg);
}

IOStatus FaultInjectionFileSystem::NewLogger(
    const std::string& fname, const IOOptions& options,
    std::shared_ptr<rocksdb::Logger>* result, IODebugContext* dbg) {
  if (powered_off()) return PoweredOffError("create " + fname);
  return target_->NewLogger(fname, options, result, dbg);
}

}  // namespace referral::storage::testing
