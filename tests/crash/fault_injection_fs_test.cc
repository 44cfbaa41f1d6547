// The power-loss file system keeps exactly what was synced, and changes
// nothing once the power is off. The power-loss tests are only as good as
// this.

#include "storage/testing/fault_injection_fs.h"

#include <fstream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/file_system.h"
#include "tests/crash/scratch_dir.h"

namespace referral::storage::testing {
namespace {

using ::referral::crash::ScratchDir;
using ::referral::testing::IsOk;

// What is on the disk, read past the file system under test; "<missing>"
// when there is no such file.
std::string OnDisk(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "<missing>";
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void WriteOnDisk(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

class FaultInjectionFileSystemTest : public ::testing::Test {
 protected:
  std::unique_ptr<rocksdb::FSWritableFile> Create(const std::string& path) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    EXPECT_TRUE(
        fs_->NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr)
            .ok());
    return file;
  }
  static void Append(rocksdb::FSWritableFile& file, const std::string& data) {
    EXPECT_TRUE(file.Append(data, rocksdb::IOOptions(), nullptr).ok());
  }
  static void Sync(rocksdb::FSWritableFile& file) {
    EXPECT_TRUE(file.Sync(rocksdb::IOOptions(), nullptr).ok());
  }
  static void Close(rocksdb::FSWritableFile& file) {
    EXPECT_TRUE(file.Close(rocksdb::IOOptions(), nullptr).ok());
  }
  uint64_t PowerLoss() {
    fs_->PowerOff();
    absl::StatusOr<uint64_t> dropped = fs_->DropUnsyncedData();
    EXPECT_THAT(dropped, IsOk());
    return dropped.ok() ? *dropped : 0;
  }

  ScratchDir dir_{"fault_fs"};
  std::shared_ptr<FaultInjectionFileSystem> fs_ =
      std::make_shared<FaultInjectionFileSystem>();
  rocksdb::IOOptions io_;
};

TEST_F(FaultInjectionFileSystemTest, KeepsSyncedBytesAndDropsTheRest) {
  const std::string path = dir_.Sub("wal");
  auto file = Create(path);
  Append(*file, "durable|");
  Sync(*file);
  Append(*file, "lost");
  Close(*file);
  EXPECT_EQ(fs_->UnsyncedBytes(), 4u);
  EXPECT_EQ(OnDisk(path), "durable|lost");  // the kernel has it all, for now

  EXPECT_EQ(PowerLoss(), 4u);
  EXPECT_EQ(OnDisk(path), "durable|");
}

TEST_F(FaultInjectionFileSystemTest, FsyncMakesBytesDurableToo) {
  const std::string path = dir_.Sub("manifest");
  auto file = Create(path);
  Append(*file, "abc");
  ASSERT_TRUE(file->Fsync(io_, nullptr).ok());
  Append(*file, "def");
  PowerLoss();
  EXPECT_EQ(OnDisk(path), "abc");
}

TEST_F(FaultInjectionFileSystemTest, FlushAndRangeSyncAreNotDurable) {
  const std::string path = dir_.Sub("sst");
  auto file = Create(path);
  Append(*file, "written");
  ASSERT_TRUE(file->Flush(io_, nullptr).ok());
  ASSERT_TRUE(file->RangeSync(0, 7, io_, nullptr).ok());
  Close(*file);
  PowerLoss();
  EXPECT_EQ(OnDisk(path), "");  // never synced: the name stays, the data not
}

TEST_F(FaultInjectionFileSystemTest, RenameCarriesWhatWasSynced) {
  const std::string tmp = dir_.Sub("CURRENT.dbtmp");
  const std::string current = dir_.Sub("CURRENT");
  auto file = Create(tmp);
  Append(*file, "MANIFEST-000005\n");
  Sync(*file);
  Append(*file, "junk");
  Close(*file);
  ASSERT_TRUE(fs_->RenameFile(tmp, current, io_, nullptr).ok());
  PowerLoss();
  EXPECT_EQ(OnDisk(current), "MANIFEST-000005\n");
  EXPECT_EQ(OnDisk(tmp), "<missing>");
}

TEST_F(FaultInjectionFileSystemTest, ReopenedFileKeepsWhatItHeldBefore) {
  const std::string path = dir_.Sub("log");
  WriteOnDisk(path, "old|");
  std::unique_ptr<rocksdb::FSWritableFile> file;
  ASSERT_TRUE(
      fs_->ReopenWritableFile(path, rocksdb::FileOptions(), &file, nullptr)
          .ok());
  Append(*file, "new");
  Close(*file);
  PowerLoss();
  EXPECT_EQ(OnDisk(path), "old|");
}

TEST_F(FaultInjectionFileSystemTest, DeletedFileStaysDeleted) {
  const std::string path = dir_.Sub("obsolete");
  auto file = Create(path);
  Append(*file, "x");
  Close(*file);
  ASSERT_TRUE(fs_->DeleteFile(path, io_, nullptr).ok());
  PowerLoss();
  EXPECT_EQ(OnDisk(path), "<missing>");
}

TEST_F(FaultInjectionFileSystemTest, ArmedCutHappensAtTheNextMatchingSync) {
  const std::string manifest = dir_.Sub("MANIFEST-000001");
  const std::string wal = dir_.Sub("000004.log");
  auto m = Create(manifest);
  auto w = Create(wal);
  Append(*w, "synced|");
  Sync(*w);
  fs_->PowerOffAtNextSync(".log");

  Append(*m, "manifest");
  Sync(*m);  // not a log: syncs as usual
  EXPECT_FALSE(fs_->powered_off());
  Append(*w, "in flight");
  EXPECT_TRUE(w->Sync(io_, nullptr).IsIOError());
  EXPECT_TRUE(fs_->powered_off());

  EXPECT_EQ(PowerLoss(), 9u);
  EXPECT_EQ(OnDisk(wal), "synced|");
  EXPECT_EQ(OnDisk(manifest), "manifest");
}

TEST_F(FaultInjectionFileSystemTest, WithThePowerOffNothingReachesTheDisk) {
  const std::string path = dir_.Sub("open");
  const std::string other = dir_.Sub("other");
  auto file = Create(path);
  Append(*file, "kept");
  Sync(*file);
  std::unique_ptr<rocksdb::FSDirectory> dir;
  ASSERT_TRUE(fs_->NewDirectory(dir_.path(), io_, &dir, nullptr).ok());

  fs_->PowerOff();

  EXPECT_TRUE(file->Append("more", io_, nullptr).IsIOError());
  EXPECT_TRUE(file->Sync(io_, nullptr).IsIOError());
  EXPECT_TRUE(file->Fsync(io_, nullptr).IsIOError());
  EXPECT_TRUE(file->Truncate(0, io_, nullptr).IsIOError());
  EXPECT_TRUE(dir->Fsync(io_, nullptr).IsIOError());
  std::unique_ptr<rocksdb::FSWritableFile> created;
  EXPECT_TRUE(
      fs_->NewWritableFile(other, rocksdb::FileOptions(), &created, nullptr)
          .IsIOError());
  EXPECT_TRUE(fs_->RenameFile(path, other, io_, nullptr).IsIOError());
  EXPECT_TRUE(fs_->DeleteFile(path, io_, nullptr).IsIOError());
  EXPECT_TRUE(fs_->Truncate(path, 0, io_, nullptr).IsIOError());
  EXPECT_TRUE(fs_->CreateDir(dir_.Sub("d"), io_, nullptr).IsIOError());

  EXPECT_EQ(OnDisk(path), "kept");
  EXPECT_EQ(OnDisk(other), "<missing>");
  // Reads still work, so a closing database can finish what it reads.
  EXPECT_TRUE(fs_->FileExists(path, io_, nullptr).ok());
  uint64_t size = 0;
  EXPECT_TRUE(fs_->GetFileSize(path, io_, &size, nullptr).ok());
  EXPECT_EQ(size, 4u);
}

}  // namespace
}  // namespace referral::storage::testing
