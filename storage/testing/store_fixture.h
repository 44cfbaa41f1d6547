// Shared pieces of the storage unit tests: a store in a fresh directory on
// disk, small event builders, and raw access to the RocksDB underneath for the
// tamper tests. For tests only.
//
// Thread safety: a StoreFixture belongs to its test's thread; the store it
// holds is itself safe to share with threads the test starts.

#ifndef REFERRAL_STORAGE_TESTING_STORE_FIXTURE_H_
#define REFERRAL_STORAGE_TESTING_STORE_FIXTURE_H_

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/event_store.h"
#include "storage/keys.h"

namespace referral::storage::testing {

using ::referral::testing::HasReason;
using ::referral::testing::IsOk;
using ::referral::testing::StatusIs;

inline constexpr absl::string_view kNode = "qinzhou.justice";
inline constexpr absl::string_view kOtherNode = "qinzhou.court";
inline constexpr absl::string_view kNoteType = "referral.v1.CaseNoteRecorded";
inline constexpr absl::string_view kOpenedType = "referral.v1.CaseOpened";

// A directory path no other test (or run) uses: TempDir + process id + test
// name + a counter. Whatever is there is removed first.
inline std::string UniqueStorePath(absl::string_view label = "store") {
  static std::atomic<int> counter{0};
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name =
      info == nullptr ? std::string("no_test")
                      : absl::StrCat(info->test_suite_name(), ".", info->name());
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  std::string path = absl::StrCat(::testing::TempDir(), "referral_storage_",
                                  getpid(), "_", name, "_", label, "_",
                                  counter.fetch_add(1));
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  return path;
}

// A CaseNoteRecorded event from `source`.
inline Event Note(absl::string_view event_id, absl::string_view note = "a note",
                  absl::string_view source = kNode) {
  Event e;
  e.set_event_id(std::string(event_id));
  e.set_source(std::string(source));
  e.mutable_case_note_recorded()->set_note(std::string(note));
  return e;
}

// A CaseOpened event from `source`, owned by it.
inline Event Opened(absl::string_view event_id,
                    absl::string_view source = kNode) {
  Event e;
  e.set_event_id(std::string(event_id));
  e.set_source(std::string(source));
  e.mutable_case_opened()->set_owning_node(std::string(source));
  e.mutable_case_opened()->set_channel(referral::v1::INTAKE_CHANNEL_HOTLINE);
  e.mutable_case_opened()->set_title("dispute over a boundary wall");
  return e;
}

inline std::vector<Event> Batch(std::initializer_list<Event> events) {
  return std::vector<Event>(events);
}

inline std::vector<uint64_t> Sequences(const std::vector<Event>& events) {
  std::vector<uint64_t> out;
  for (const Event& e : events) out.push_back(e.sequence());
  return out;
}

inline std::vector<uint64_t> Positions(const std::vector<Event>& events) {
  std::vector<uint64_t> out;
  for (const Event& e : events) out.push_back(e.global_position());
  return out;
}

inline std::vector<std::string> Ids(const std::vector<Event>& events) {
  std::vector<std::string> out;
  for (const Event& e : events) out.push_back(e.event_id());
  return out;
}

// 1, 2, ..., n offset to start at `from`.
inline std::vector<uint64_t> Range(uint64_t from, uint64_t to_inclusive) {
  std::vector<uint64_t> out;
  for (uint64_t i = from; i <= to_inclusive; ++i) out.push_back(i);
  return out;
}

// A test that owns a store on disk in a directory of its own, removed at the
// end. Reopen() closes and opens it again, for "across reopen" guarantees.
class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.path = UniqueStorePath();
    Reopen();
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(options_.path, ec);
  }

  void Close() { store_.reset(); }

  void Reopen() {
    store_.reset();
    auto opened = EventStore::Open(options_);
    ASSERT_TRUE(opened.ok()) << opened.status();
    store_ = std::move(opened).value();
  }

  // Appends and expects success; a default result (all zero) on failure.
  AppendResult AppendOk(absl::string_view case_id, std::vector<Event> events,
                        ExpectedVersion expected = ExpectedVersion::Any()) {
    auto r = store_->Append(case_id, expected, std::move(events));
    EXPECT_THAT(r, IsOk());
    return r.ok() ? *r : AppendResult{};
  }

  // Every event in the global feed, read in pages of `page`.
  std::vector<Event> ReadWholeFeed(const EventFilter& filter = {},
                                   size_t page = 1000) {
    std::vector<Event> all;
    uint64_t from = 1;
    for (;;) {
      auto r = store_->ReadAll(from, filter, page);
      EXPECT_THAT(r, IsOk());
      if (!r.ok()) break;
      all.insert(all.end(), r->events.begin(), r->events.end());
      if (r->next_position <= from) {
        ADD_FAILURE() << "ReadAll did not advance from " << from;
        break;
      }
      from = r->next_position;
      if (from > r->last_position) break;
    }
    return all;
  }

  // Every event of a case, in sequence order.
  std::vector<Event> ReadWholeCase(absl::string_view case_id) {
    auto r = store_->ReadCase(case_id, 0, Direction::kForward, 100000);
    EXPECT_THAT(r, IsOk());
    return r.ok() ? r->events : std::vector<Event>{};
  }

  uint64_t VersionOf(absl::string_view case_id) {
    auto v = store_->CaseVersion(case_id);
    EXPECT_THAT(v, IsOk());
    return v.ok() ? *v : UINT64_MAX;
  }

  EventStoreOptions options_;
  std::unique_ptr<EventStore> store_;
};

// The RocksDB database under a closed store, opened directly with all of the
// store's column families, so a test can play the attacker (or the disk).
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (const char* name :
         {rocksdb::kDefaultColumnFamilyName.c_str(), keys::kEventsCf,
          keys::kPositionsCf, keys::kIndexCf, keys::kEventIdsCf,
          keys::kStreamsCf, keys::kCheckpointsCf}) {
      families.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DBOptions options;
    rocksdb::DB* raw = nullptr;
    status_ = rocksdb::DB::Open(options, path, families, &handles_, &raw);
    db_.reset(raw);
  }

  ~RawDb() {
    if (db_ == nullptr) return;
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_->Close().PermitUncheckedError();
  }

  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  const rocksdb::Status& status() const { return status_; }

  rocksdb::ColumnFamilyHandle* default_family() { return handles_[0]; }
  rocksdb::ColumnFamilyHandle* events() { return handles_[1]; }
  rocksdb::ColumnFamilyHandle* positions() { return handles_[2]; }
  rocksdb::ColumnFamilyHandle* index() { return handles_[3]; }
  rocksdb::ColumnFamilyHandle* event_ids() { return handles_[4]; }
  rocksdb::ColumnFamilyHandle* streams() { return handles_[5]; }
  rocksdb::ColumnFamilyHandle* checkpoints() { return handles_[6]; }

  std::string Get(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf, key, &value);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return value;
  }

  void Put(rocksdb::ColumnFamilyHandle* cf, const std::string& key,
           const std::string& value) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db_->Put(wo, cf, key, value);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

  void Delete(rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    rocksdb::Status s = db_->Delete(wo, cf, key);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }

 private:
  rocksdb::Status status_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace referral::storage::testing

#endif  // REFERRAL_STORAGE_TESTING_STORE_FIXTURE_H_
