// The EventStore contract (storage/event_store.h), tested against the RocksDB
// implementation on a real disk: streams and positions, assigned fields,
// atomic appends and expected versions, idempotency, concurrency, reads and
// filters, input validation and checkpoints. Subscriptions, watches and
// Verify have their own files.

#include "storage/event_store.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "common/errors.h"
#include "common/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "storage/hash_chain.h"
#include "storage/keys.h"
#include "storage/testing/store_fixture.h"

namespace referral::storage {
namespace {

using ::google::protobuf::util::TimeUtil;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::referral::storage::testing::Batch;
using ::referral::storage::testing::HasReason;
using ::referral::storage::testing::Ids;
using ::referral::storage::testing::IsOk;
using ::referral::storage::testing::Note;
using ::referral::storage::testing::Opened;
using ::referral::storage::testing::Positions;
using ::referral::storage::testing::Range;
using ::referral::storage::testing::RawDb;
using ::referral::storage::testing::Sequences;
using ::referral::storage::testing::StatusIs;
using ::referral::storage::testing::StoreFixture;
using ::referral::storage::testing::UniqueStorePath;
using ::referral::storage::testing::kNode;
using ::referral::storage::testing::kNoteType;
using ::referral::storage::testing::kOpenedType;
using ::referral::storage::testing::kOtherNode;

constexpr absl::StatusCode kInvalid = absl::StatusCode::kInvalidArgument;

// ------------------------------------------------------------------ Open

TEST(EventStoreOpen, EmptyPathIsInvalid) {
  EventStoreOptions options;
  EXPECT_THAT(EventStore::Open(options), StatusIs(kInvalid));
}

TEST(EventStoreOpen, CreatesAMissingDirectoryAndStartsEmpty) {
  EventStoreOptions options;
  options.path = UniqueStorePath();
  ASSERT_OK_AND_ASSIGN(auto store, EventStore::Open(options));
  EXPECT_EQ(store->LastPosition(), 0u);
  ASSERT_OK_AND_ASSIGN(ReadAllResult all, store->ReadAll(1, {}, 10));
  EXPECT_THAT(all.events, IsEmpty());
  EXPECT_EQ(all.last_position, 0u);
  store.reset();
  std::filesystem::remove_all(options.path);
}

TEST(EventStoreOpen, ASecondOpenOfAnOpenStoreIsUnavailable) {
  EventStoreOptions options;
  options.path = UniqueStorePath();
  ASSERT_OK_AND_ASSIGN(auto first, EventStore::Open(options));
  EXPECT_THAT(EventStore::Open(options),
              StatusIs(absl::StatusCode::kUnavailable));
  first.reset();
  std::filesystem::remove_all(options.path);
}

TEST(EventStoreOpen, AZeroLimitOptionIsInvalid) {
  EventStoreOptions options;
  options.path = UniqueStorePath();
  options.max_event_bytes = 0;
  EXPECT_THAT(EventStore::Open(options), StatusIs(kInvalid));
  options.max_event_bytes = 1024;
  options.max_events_per_append = 0;
  EXPECT_THAT(EventStore::Open(options), StatusIs(kInvalid));
  std::filesystem::remove_all(options.path);
}

TEST(EventStoreOpen, AnOnDiskFormatThisBuildDoesNotReadIsFailedPrecondition) {
  EventStoreOptions options;
  options.path = UniqueStorePath();
  {
    ASSERT_OK_AND_ASSIGN(auto store, EventStore::Open(options));
  }
  {
    RawDb db(options.path);
    ASSERT_TRUE(db.status().ok()) << db.status().ToString();
    db.Put(db.default_family(), keys::kFormatKey, "referral-event-store/99");
  }
  EXPECT_THAT(EventStore::Open(options),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  std::filesystem::remove_all(options.path);
}

TEST(EventStoreOpen, ADatabaseRocksDbCannotRecoverIsDataLoss) {
  EventStoreOptions options;
  options.path = UniqueStorePath();
  {
    ASSERT_OK_AND_ASSIGN(auto store, EventStore::Open(options));
  }
  {
    // CURRENT names the live MANIFEST; garbage there is unrecoverable.
    std::ofstream current(options.path + "/CURRENT", std::ios::trunc);
    current << "garbage";
  }
  auto r = EventStore::Open(options);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(r, HasReason("CASE_LOG_CORRUPT"));
  std::filesystem::remove_all(options.path);
}

// ------------------------------------------------------- Streams, positions

class EventStoreAppend : public StoreFixture {};

TEST_F(EventStoreAppend, SequencesAreGaplessFromOnePerCase) {
  AppendResult a1 = AppendOk("case-a", Batch({Note("a1")}));
  AppendResult b1 = AppendOk("case-b", Batch({Note("b1")}));
  AppendResult a2 = AppendOk("case-a", Batch({Note("a2"), Note("a3")}));
  AppendResult b2 = AppendOk("case-b", Batch({Note("b2")}));

  EXPECT_EQ(a1.first_sequence, 1u);
  EXPECT_EQ(a1.last_sequence, 1u);
  EXPECT_EQ(b1.first_sequence, 1u);
  EXPECT_EQ(a2.first_sequence, 2u);
  EXPECT_EQ(a2.last_sequence, 3u);
  EXPECT_EQ(b2.first_sequence, 2u);

  EXPECT_THAT(Sequences(ReadWholeCase("case-a")), ElementsAre(1, 2, 3));
  EXPECT_THAT(Ids(ReadWholeCase("case-a")), ElementsAre("a1", "a2", "a3"));
  EXPECT_THAT(Sequences(ReadWholeCase("case-b")), ElementsAre(1, 2));
  EXPECT_EQ(VersionOf("case-a"), 3u);
  EXPECT_EQ(VersionOf("case-b"), 2u);
}

TEST_F(EventStoreAppend, GlobalPositionsAreGaplessFromOneAcrossCases) {
  AppendResult a1 = AppendOk("case-a", Batch({Note("a1")}));
  AppendResult b1 = AppendOk("case-b", Batch({Note("b1"), Note("b2")}));
  AppendResult a2 = AppendOk("case-a", Batch({Note("a2")}));

  EXPECT_EQ(a1.first_position, 1u);
  EXPECT_EQ(b1.first_position, 2u);
  EXPECT_EQ(b1.last_position, 3u);
  EXPECT_EQ(a2.first_position, 4u);
  EXPECT_EQ(store_->LastPosition(), 4u);

  std::vector<Event> feed = ReadWholeFeed();
  EXPECT_THAT(Positions(feed), ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(Ids(feed), ElementsAre("a1", "b1", "b2", "a2"));
  EXPECT_THAT(Positions(ReadWholeCase("case-a")), ElementsAre(1, 4));
}

TEST_F(EventStoreAppend, AssignsTypeSubjectSequenceAndPosition) {
  AppendOk("case-a", Batch({Opened("e1"), Note("e2")}));
  std::vector<Event> events = ReadWholeCase("case-a");
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[0].type(), kOpenedType);
  EXPECT_EQ(events[1].type(), kNoteType);
  for (const Event& e : events) EXPECT_EQ(e.subject(), "case-a");
  EXPECT_EQ(events[0].sequence(), 1u);
  EXPECT_EQ(events[1].sequence(), 2u);
  EXPECT_EQ(events[0].global_position(), 1u);
  EXPECT_EQ(events[1].global_position(), 2u);
  // What the writer set is kept.
  EXPECT_EQ(events[0].source(), kNode);
  EXPECT_EQ(events[1].case_note_recorded().note(), "a note");
}

TEST_F(EventStoreAppend, RecordedTimeComesFromTheClockAndTimeDefaultsToIt) {
  const absl::Time pinned = absl::FromUnixSeconds(1767225600);  // 2026-01-01
  options_.clock = [pinned] { return pinned; };
  Reopen();

  Event with_time = Note("e2");
  *with_time.mutable_time() = TimeUtil::SecondsToTimestamp(1700000000);
  AppendOk("case-a", Batch({Note("e1"), with_time}));

  std::vector<Event> events = ReadWholeCase("case-a");
  ASSERT_THAT(events, SizeIs(2));
  for (const Event& e : events) {
    EXPECT_EQ(TimeUtil::TimestampToSeconds(e.recorded_time()), 1767225600);
  }
  EXPECT_EQ(TimeUtil::TimestampToSeconds(events[0].time()), 1767225600)
      << "an unset time defaults to recorded_time";
  EXPECT_EQ(TimeUtil::TimestampToSeconds(events[1].time()), 1700000000)
      << "a writer's time is kept";
}

TEST_F(EventStoreAppend, EventsFormASha256ChainPerCase) {
  AppendOk("case-a", Batch({Note("a1"), Note("a2")}));
  AppendOk("case-b", Batch({Note("b1")}));
  AppendResult last = AppendOk("case-a", Batch({Note("a3")}));

  std::vector<Event> events = ReadWholeCase("case-a");
  ASSERT_THAT(events, SizeIs(3));
  std::string prev = GenesisHash();
  for (const Event& e : events) {
    EXPECT_EQ(e.prev_hash(), prev) << "sequence " << e.sequence();
    ASSERT_EQ(e.hash().size(), kHashSize);
    Event body = e;
    body.clear_hash();
    EXPECT_EQ(e.hash(), ChainHash(prev, SerializeDeterministic(body)))
        << "sequence " << e.sequence();
    prev = e.hash();
  }
  EXPECT_EQ(last.head_hash, prev);
  // The other case starts its own chain.
  EXPECT_EQ(ReadWholeCase("case-b")[0].prev_hash(), GenesisHash());
}

TEST_F(EventStoreAppend, FieldsTheLogAssignsAreOverwrittenNotTrusted) {
  Event e = Note("e1");
  e.set_sequence(99);
  e.set_global_position(77);
  e.set_prev_hash("not a hash");
  e.set_hash("not a hash either");
  *e.mutable_recorded_time() = TimeUtil::SecondsToTimestamp(1);
  AppendOk("case-a", Batch({e}));

  Event stored = ReadWholeCase("case-a").at(0);
  EXPECT_EQ(stored.sequence(), 1u);
  EXPECT_EQ(stored.global_position(), 1u);
  EXPECT_EQ(stored.prev_hash(), GenesisHash());
  EXPECT_EQ(stored.hash().size(), kHashSize);
  EXPECT_NE(TimeUtil::TimestampToSeconds(stored.recorded_time()), 1);
}

TEST_F(EventStoreAppend, SubjectAndTypeEqualToWhatTheLogWouldAssignAreAccepted) {
  Event e = Note("e1");
  e.set_subject("case-a");
  e.set_type(std::string(kNoteType));
  AppendOk("case-a", Batch({e}));
  EXPECT_EQ(VersionOf("case-a"), 1u);
}

TEST_F(EventStoreAppend, StreamsAndPositionsContinueAcrossReopen) {
  AppendOk("case-a", Batch({Note("a1"), Note("a2")}));
  AppendOk("case-b", Batch({Note("b1")}));
  Reopen();
  EXPECT_EQ(store_->LastPosition(), 3u);
  EXPECT_EQ(VersionOf("case-a"), 2u);

  AppendResult r = AppendOk("case-a", Batch({Note("a3")}));
  EXPECT_EQ(r.first_sequence, 3u);
  EXPECT_EQ(r.first_position, 4u);
  std::vector<Event> events = ReadWholeCase("case-a");
  ASSERT_THAT(events, SizeIs(3));
  EXPECT_EQ(events[2].prev_hash(), events[1].hash())
      << "the chain continues across reopen";
  EXPECT_THAT(Positions(ReadWholeFeed()), ElementsAre(1, 2, 3, 4));
}

// ------------------------------------------------ Atomicity, expected version

TEST_F(EventStoreAppend, MultiEventAppendIsOneContiguousRun) {
  AppendOk("case-b", Batch({Note("b1")}));
  AppendResult r = AppendOk(
      "case-a", Batch({Opened("a1"), Note("a2"), Note("a3"), Note("a4")}));
  EXPECT_EQ(r.first_sequence, 1u);
  EXPECT_EQ(r.last_sequence, 4u);
  EXPECT_EQ(r.first_position, 2u);
  EXPECT_EQ(r.last_position, 5u);
  EXPECT_FALSE(r.deduplicated);
  std::vector<Event> events = ReadWholeCase("case-a");
  EXPECT_THAT(Sequences(events), ElementsAre(1, 2, 3, 4));
  EXPECT_THAT(Positions(events), ElementsAre(2, 3, 4, 5));
  EXPECT_EQ(r.head_hash, events.back().hash());
}

TEST_F(EventStoreAppend, ABatchWithOneBadEventWritesNone) {
  AppendOk("case-a", Batch({Note("a1")}));
  Event bad = Note("a4");
  bad.clear_source();
  EXPECT_THAT(store_->Append("case-a", ExpectedVersion::Any(),
                             Batch({Note("a2"), Note("a3"), bad})),
              StatusIs(kInvalid));
  EXPECT_EQ(store_->LastPosition(), 1u);
  EXPECT_EQ(VersionOf("case-a"), 1u);
  Reopen();
  EXPECT_EQ(store_->LastPosition(), 1u);
  EXPECT_THAT(Ids(ReadWholeCase("case-a")), ElementsAre("a1"));
  // The good events' ids were not consumed.
  AppendResult r = AppendOk("case-a", Batch({Note("a2"), Note("a3")}));
  EXPECT_FALSE(r.deduplicated);
  EXPECT_EQ(r.first_sequence, 2u);
}

TEST_F(EventStoreAppend, ExpectedAnyAppendsWhateverTheVersion) {
  AppendOk("case-a", Batch({Note("a1")}), ExpectedVersion::Any());
  AppendOk("case-a", Batch({Note("a2")}), ExpectedVersion::Any());
  EXPECT_EQ(VersionOf("case-a"), 2u);
}

TEST_F(EventStoreAppend, ExpectedNoStreamStartsANewCase) {
  AppendResult r =
      AppendOk("case-a", Batch({Opened("a1")}), ExpectedVersion::NoStream());
  EXPECT_EQ(r.first_sequence, 1u);
}

TEST_F(EventStoreAppend, ExpectedNoStreamOnAnExistingCaseIsAborted) {
  AppendOk("case-a", Batch({Opened("a1")}));
  auto r = store_->Append("case-a", ExpectedVersion::NoStream(),
                          Batch({Opened("a2")}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(r, HasReason("CONCURRENT_MODIFICATION"));
  EXPECT_EQ(ViewError(r.status()).metadata["current_version"], "1");
  EXPECT_EQ(VersionOf("case-a"), 1u);
  EXPECT_EQ(store_->LastPosition(), 1u);
}

TEST_F(EventStoreAppend, ExpectedExactlyTheCurrentVersionAppends) {
  AppendOk("case-a", Batch({Opened("a1")}), ExpectedVersion::Exactly(0));
  AppendOk("case-a", Batch({Note("a2")}), ExpectedVersion::Exactly(1));
  AppendResult r =
      AppendOk("case-a", Batch({Note("a3"), Note("a4")}), ExpectedVersion::Exactly(2));
  EXPECT_EQ(r.first_sequence, 3u);
  EXPECT_EQ(VersionOf("case-a"), 4u);
}

TEST_F(EventStoreAppend, AppendWithStaleVersionIsAborted) {
  AppendOk("case-a", Batch({Opened("a1"), Note("a2")}));
  AppendOk("case-b", Batch({Opened("b1")}));
  auto r = store_->Append("case-a", ExpectedVersion::Exactly(1),
                          Batch({Note("a3"), Note("a4")}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(r, HasReason("CONCURRENT_MODIFICATION"));
  EXPECT_EQ(ViewError(r.status()).metadata["current_version"], "2");
  EXPECT_EQ(VersionOf("case-a"), 2u);
  EXPECT_EQ(store_->LastPosition(), 3u);
  Reopen();
  EXPECT_EQ(store_->LastPosition(), 3u);
  EXPECT_THAT(Ids(ReadWholeCase("case-a")), ElementsAre("a1", "a2"));
}

TEST_F(EventStoreAppend, AppendExpectingAVersionAheadOfTheCaseIsAborted) {
  AppendOk("case-a", Batch({Opened("a1")}));
  auto r = store_->Append("case-a", ExpectedVersion::Exactly(5),
                          Batch({Note("a2")}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(r, HasReason("CONCURRENT_MODIFICATION"));
  EXPECT_EQ(ViewError(r.status()).metadata["current_version"], "1");
  EXPECT_EQ(store_->LastPosition(), 1u);
}

TEST_F(EventStoreAppend, ExpectingAVersionOfACaseThatDoesNotExistIsAborted) {
  auto r = store_->Append("case-new", ExpectedVersion::Exactly(3),
                          Batch({Opened("n1")}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAborted));
  EXPECT_THAT(r, HasReason("CONCURRENT_MODIFICATION"));
  EXPECT_EQ(ViewError(r.status()).metadata["current_version"], "0");
  EXPECT_EQ(VersionOf("case-new"), 0u);
  EXPECT_EQ(store_->LastPosition(), 0u);
}

// ------------------------------------------------------------- Idempotency

class EventStoreIdempotency : public StoreFixture {};

TEST_F(EventStoreIdempotency, RetryOfAnAppendReturnsTheOriginalPositions) {
  AppendOk("case-b", Batch({Opened("b1")}));
  AppendResult first =
      AppendOk("case-a", Batch({Opened("a1"), Note("a2"), Note("a3")}));
  AppendOk("case-b", Batch({Note("b2")}));

  AppendResult retry =
      AppendOk("case-a", Batch({Opened("a1"), Note("a2"), Note("a3")}));
  EXPECT_TRUE(retry.deduplicated);
  EXPECT_FALSE(first.deduplicated);
  EXPECT_EQ(retry.first_sequence, 1u);
  EXPECT_EQ(retry.last_sequence, 3u);
  EXPECT_EQ(retry.first_position, 2u);
  EXPECT_EQ(retry.last_position, 4u);
  EXPECT_EQ(retry.head_hash, first.head_hash);
  // Nothing was written.
  EXPECT_EQ(store_->LastPosition(), 5u);
  EXPECT_EQ(VersionOf("case-a"), 3u);
  EXPECT_THAT(ReadWholeFeed(), SizeIs(5));
}

TEST_F(EventStoreIdempotency, RetryAfterReopenIsStillDeduplicated) {
  AppendResult first = AppendOk("case-a", Batch({Opened("a1"), Note("a2")}));
  AppendOk("case-a", Batch({Note("a3")}));
  Reopen();
  AppendResult retry = AppendOk("case-a", Batch({Opened("a1"), Note("a2")}));
  EXPECT_TRUE(retry.deduplicated);
  EXPECT_EQ(retry.first_sequence, first.first_sequence);
  EXPECT_EQ(retry.last_sequence, first.last_sequence);
  EXPECT_EQ(retry.first_position, first.first_position);
  EXPECT_EQ(retry.last_position, first.last_position);
  EXPECT_EQ(retry.head_hash, first.head_hash);
  EXPECT_EQ(store_->LastPosition(), 3u);
  EXPECT_EQ(VersionOf("case-a"), 3u);
  Reopen();
  EXPECT_EQ(store_->LastPosition(), 3u);
}

TEST_F(EventStoreIdempotency, RetryWithAStaleExpectedVersionIsDeduplicated) {
  AppendResult first =
      AppendOk("case-a", Batch({Opened("a1")}), ExpectedVersion::NoStream());
  AppendResult second =
      AppendOk("case-a", Batch({Note("a2")}), ExpectedVersion::Exactly(1));
  AppendOk("case-a", Batch({Note("a3")}));

  // Each retry carries the expectation of its first attempt, now stale.
  AppendResult retry1 =
      AppendOk("case-a", Batch({Opened("a1")}), ExpectedVersion::NoStream());
  EXPECT_TRUE(retry1.deduplicated);
  EXPECT_EQ(retry1.first_position, first.first_position);
  AppendResult retry2 =
      AppendOk("case-a", Batch({Note("a2")}), ExpectedVersion::Exactly(1));
  EXPECT_TRUE(retry2.deduplicated);
  EXPECT_EQ(retry2.first_sequence, second.first_sequence);
  EXPECT_EQ(store_->LastPosition(), 3u);
}

TEST_F(EventStoreIdempotency, TheSubjectFilledInOrLeftEmptyIsTheSameContent) {
  AppendOk("case-a", Batch({Note("a1")}));
  Event retry = Note("a1");
  retry.set_subject("case-a");
  retry.set_type(std::string(kNoteType));
  AppendResult r = AppendOk("case-a", Batch({retry}));
  EXPECT_TRUE(r.deduplicated);
  EXPECT_EQ(store_->LastPosition(), 1u);
}

TEST_F(EventStoreIdempotency, AnEventReadBackWithItsOwnTimeIsTheSameContent) {
  Event e = Note("a1");
  *e.mutable_time() = TimeUtil::SecondsToTimestamp(1700000000);
  AppendResult first = AppendOk("case-a", Batch({e}));
  // The writer echoes the stored event, log-assigned fields and all.
  Event echoed = ReadWholeCase("case-a").at(0);
  AppendResult retry = AppendOk("case-a", Batch({echoed}));
  EXPECT_TRUE(retry.deduplicated);
  EXPECT_EQ(retry.first_position, first.first_position);
  EXPECT_EQ(store_->LastPosition(), 1u);
}

// `time` does not count towards an event's identity: when the writer left it
// unset, the stored event carries the defaulted time, and echoing it back is
// still a retry. (Regression: this was refused as EVENT_ID_REUSED before
// 5285a16.)
TEST_F(EventStoreIdempotency, AnEventReadBackWithADefaultedTimeIsTheSameContent) {
  AppendResult first = AppendOk("case-a", Batch({Note("a1")}));
  Event echoed = ReadWholeCase("case-a").at(0);
  ASSERT_TRUE(echoed.has_time()) << "the log defaulted it";
  auto retry = store_->Append("case-a", ExpectedVersion::Any(), Batch({echoed}));
  ASSERT_THAT(retry, IsOk());
  EXPECT_TRUE(retry->deduplicated);
  EXPECT_EQ(retry->first_position, first.first_position);
  EXPECT_EQ(store_->LastPosition(), 1u);
}

TEST_F(EventStoreIdempotency, ARetryCarryingAnotherTimeIsTheSameEvent) {
  Event e = Note("a1");
  *e.mutable_time() = TimeUtil::SecondsToTimestamp(1700000000);
  AppendResult first = AppendOk("case-a", Batch({e}));
  *e.mutable_time() = TimeUtil::SecondsToTimestamp(1700000999);
  AppendResult retry = AppendOk("case-a", Batch({e}));
  EXPECT_TRUE(retry.deduplicated);
  EXPECT_EQ(retry.first_position, first.first_position);
  EXPECT_EQ(store_->LastPosition(), 1u);
  EXPECT_EQ(TimeUtil::TimestampToSeconds(ReadWholeCase("case-a")[0].time()),
            1700000000)
      << "the first append's time stands";
}

TEST_F(EventStoreIdempotency, SameIdWithDifferentContentIsAlreadyExists) {
  AppendOk("case-a", Batch({Note("a1", "the first note")}));
  auto r = store_->Append("case-a", ExpectedVersion::Any(),
                          Batch({Note("a1", "a different note")}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(r, HasReason("EVENT_ID_REUSED"));
  EXPECT_EQ(store_->LastPosition(), 1u);
  EXPECT_EQ(ReadWholeCase("case-a")[0].case_note_recorded().note(),
            "the first note");
}

TEST_F(EventStoreIdempotency, SameIdWithDifferentContentIsRefusedAfterReopen) {
  AppendOk("case-a", Batch({Note("a1", "the first note")}));
  Reopen();
  EXPECT_THAT(store_->Append("case-a", ExpectedVersion::Any(),
                             Batch({Note("a1", "a different note")})),
              HasReason("EVENT_ID_REUSED"));
  EXPECT_EQ(store_->LastPosition(), 1u);
}

TEST_F(EventStoreIdempotency, SameIdInAnotherCaseIsAlreadyExists) {
  AppendOk("case-a", Batch({Note("shared-id")}));
  auto r = store_->Append("case-b", ExpectedVersion::Any(),
                          Batch({Note("shared-id")}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(r, HasReason("EVENT_ID_REUSED"));
  EXPECT_EQ(VersionOf("case-b"), 0u);
  EXPECT_EQ(store_->LastPosition(), 1u);
}

TEST_F(EventStoreIdempotency, ABatchMixingOldAndNewIdsIsAlreadyExists) {
  AppendOk("case-a", Batch({Note("a1"), Note("a2")}));
  auto r = store_->Append("case-a", ExpectedVersion::Any(),
                          Batch({Note("a1"), Note("a2"), Note("a3")}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(r, HasReason("EVENT_ID_REUSED"));
  r = store_->Append("case-a", ExpectedVersion::Any(),
                     Batch({Note("a0"), Note("a1")}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(store_->LastPosition(), 2u);
  EXPECT_THAT(Ids(ReadWholeCase("case-a")), ElementsAre("a1", "a2"));
}

TEST_F(EventStoreIdempotency, ARetryInAnotherOrderIsAlreadyExists) {
  AppendOk("case-a", Batch({Note("a1"), Note("a2")}));
  auto r = store_->Append("case-a", ExpectedVersion::Any(),
                          Batch({Note("a2"), Note("a1")}));
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kAlreadyExists));
  EXPECT_THAT(r, HasReason("EVENT_ID_REUSED"));
  EXPECT_EQ(store_->LastPosition(), 2u);
}

TEST_F(EventStoreIdempotency, TheSameIdTwiceInOneBatchIsInvalid) {
  auto r = store_->Append("case-a", ExpectedVersion::Any(),
                          Batch({Note("a1", "one"), Note("a1", "two")}));
  EXPECT_THAT(r, StatusIs(kInvalid));
  EXPECT_THAT(r, HasReason("INVALID_FIELD"));
  r = store_->Append("case-a", ExpectedVersion::Any(),
                     Batch({Note("a1"), Note("a1")}));
  EXPECT_THAT(r, StatusIs(kInvalid));
  EXPECT_EQ(store_->LastPosition(), 0u);
  EXPECT_EQ(VersionOf("case-a"), 0u);
}

// ------------------------------------------------------------- Concurrency

class EventStoreConcurrency : public StoreFixture {};

// Checks the whole log: every case gapless from 1, the feed gapless from 1,
// each expected id present exactly once, every case's chain intact.
void ExpectCompleteAndGapless(EventStore* store,
                              const std::vector<std::string>& cases,
                              const std::set<std::string>& expected_ids,
                              std::vector<Event> feed) {
  EXPECT_THAT(Positions(feed), ElementsAreArray(Range(1, expected_ids.size())));
  EXPECT_EQ(store->LastPosition(), expected_ids.size());
  std::map<std::string, int> seen;
  for (const Event& e : feed) ++seen[e.event_id()];
  EXPECT_EQ(seen.size(), expected_ids.size());
  for (const auto& [id, n] : seen) {
    EXPECT_EQ(n, 1) << id;
    EXPECT_TRUE(expected_ids.count(id)) << "unexpected event " << id;
  }
  size_t total = 0;
  for (const std::string& c : cases) {
    auto r = store->ReadCase(c, 0, Direction::kForward, 100000);
    ASSERT_THAT(r, IsOk());
    EXPECT_THAT(Sequences(r->events), ElementsAreArray(Range(1, r->events.size())))
        << c;
    EXPECT_EQ(r->case_version, r->events.size());
    total += r->events.size();
    auto v = store->Verify(c);
    ASSERT_THAT(v, IsOk());
    EXPECT_TRUE(v->intact) << c << ": " << v->problem;
    EXPECT_EQ(v->events_checked, r->events.size());
  }
  EXPECT_EQ(total, expected_ids.size());
}

TEST_F(EventStoreConcurrency, ManyWritersWithAnyLoseNothingAndLeaveNoGap) {
  constexpr int kThreads = 16;
  constexpr int kAppendsPerThread = 12;
  const std::vector<std::string> cases = {"case-0", "case-1", "case-2"};

  absl::Mutex mu;
  std::set<std::string> ids;
  std::map<std::string, uint64_t> position_of;  // as each Append reported
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppendsPerThread; ++i) {
        const std::string& c = cases[(t + i) % cases.size()];
        std::vector<Event> batch;
        const int n = 1 + (t + i) % 3;
        for (int j = 0; j < n; ++j) {
          batch.push_back(Note(absl::StrCat("t", t, "-", i, "-", j)));
        }
        std::vector<std::string> batch_ids = Ids(batch);
        auto r = store_->Append(c, ExpectedVersion::Any(), std::move(batch));
        ASSERT_THAT(r, IsOk());
        EXPECT_FALSE(r->deduplicated);
        EXPECT_EQ(r->last_position - r->first_position, n - 1u);
        EXPECT_EQ(r->last_sequence - r->first_sequence, n - 1u);
        absl::MutexLock l(&mu);
        for (int j = 0; j < n; ++j) {
          ids.insert(batch_ids[j]);
          position_of[batch_ids[j]] = r->first_position + j;
        }
      }
    });
  }
  for (auto& th : threads) th.join();

  std::vector<Event> feed = ReadWholeFeed({}, 97);
  ExpectCompleteAndGapless(store_.get(), cases, ids, feed);
  for (const Event& e : feed) {
    EXPECT_EQ(position_of[e.event_id()], e.global_position()) << e.event_id();
  }
}

TEST_F(EventStoreConcurrency, OptimisticWritersWithExactlyNeverOverwriteEachOther) {
  constexpr int kThreads = 16;
  constexpr int kAppendsPerThread = 6;
  const std::vector<std::string> cases = {"case-x", "case-y"};

  std::atomic<int> conflicts{0};
  absl::Mutex mu;
  std::set<std::string> ids;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppendsPerThread; ++i) {
        const std::string& c = cases[(t + i) % cases.size()];
        const std::string id = absl::StrCat("w", t, "-", i);
        for (int attempt = 0;; ++attempt) {
          ASSERT_LT(attempt, 1000) << "no progress";
          auto version = store_->CaseVersion(c);
          ASSERT_THAT(version, IsOk());
          auto r = store_->Append(c, ExpectedVersion::Exactly(*version),
                                  Batch({Note(id)}));
          if (r.ok()) {
            // It landed exactly where the writer believed the case ended.
            EXPECT_EQ(r->first_sequence, *version + 1);
            EXPECT_FALSE(r->deduplicated);
            break;
          }
          ASSERT_THAT(r, StatusIs(absl::StatusCode::kAborted));
          ASSERT_THAT(r, HasReason("CONCURRENT_MODIFICATION"));
          uint64_t current = 0;
          ASSERT_TRUE(absl::SimpleAtoi(
              ViewError(r.status()).metadata["current_version"], &current));
          EXPECT_GT(current, *version);
          ++conflicts;
        }
        absl::MutexLock l(&mu);
        ids.insert(id);
      }
    });
  }
  for (auto& th : threads) th.join();

  ExpectCompleteAndGapless(store_.get(), cases, ids, ReadWholeFeed());
  // Not a requirement, but without any conflict this test proves little.
  RecordProperty("conflicts", conflicts.load());
}

TEST_F(EventStoreConcurrency, ConcurrentRetriesOfOneBatchWriteItOnce) {
  constexpr int kThreads = 8;
  AppendOk("case-a", Batch({Opened("a0")}));
  std::vector<absl::StatusOr<AppendResult>> results(kThreads);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) std::this_thread::yield();
      results[t] = store_->Append("case-a", ExpectedVersion::Exactly(1),
                                  Batch({Note("a1"), Note("a2")}));
    });
  }
  go = true;
  for (auto& th : threads) th.join();

  int written = 0;
  for (const auto& r : results) {
    ASSERT_THAT(r, IsOk());
    if (!r->deduplicated) ++written;
    EXPECT_EQ(r->first_sequence, 2u);
    EXPECT_EQ(r->last_sequence, 3u);
    EXPECT_EQ(r->first_position, 2u);
    EXPECT_EQ(r->last_position, 3u);
  }
  EXPECT_EQ(written, 1);
  EXPECT_EQ(store_->LastPosition(), 3u);
  EXPECT_THAT(Ids(ReadWholeCase("case-a")), ElementsAre("a0", "a1", "a2"));
}

TEST_F(EventStoreConcurrency, RetriesThatShareOneCommitGroupAreWrittenOnce) {
  // The committing leader reads the clock; holding the first reading lets
  // the retries pile up in the queue behind it, so that they commit together
  // as one group.
  auto blocked = std::make_shared<absl::Notification>();
  auto gate = std::make_shared<absl::Notification>();
  auto first = std::make_shared<std::atomic<bool>>(true);
  options_.clock = [blocked, gate, first] {
    if (first->exchange(false)) {
      blocked->Notify();
      gate->WaitForNotification();
    }
    return absl::Now();
  };
  Reopen();

  constexpr int kThreads = 8;
  std::thread blocker([this] { AppendOk("case-z", Batch({Opened("z1")})); });
  EXPECT_TRUE(blocked->WaitForNotificationWithTimeout(absl::Seconds(10)));
  std::vector<absl::StatusOr<AppendResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      results[t] = store_->Append("case-a", ExpectedVersion::Any(),
                                  Batch({Note("a1"), Note("a2")}));
    });
  }
  absl::SleepFor(absl::Milliseconds(100));
  gate->Notify();
  blocker.join();
  for (auto& th : threads) th.join();

  int written = 0;
  for (const auto& r : results) {
    ASSERT_THAT(r, IsOk());
    if (!r->deduplicated) ++written;
    EXPECT_EQ(r->first_sequence, 1u);
    EXPECT_EQ(r->first_position, 2u);
    EXPECT_EQ(r->last_position, 3u);
  }
  EXPECT_EQ(written, 1);
  EXPECT_EQ(store_->LastPosition(), 3u);
  EXPECT_THAT(Ids(ReadWholeCase("case-a")), ElementsAre("a1", "a2"));
}

// ------------------------------------------------------------------- Reads

class EventStoreReadCase : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    // case-a: 7 events at positions 1..3, 5..8; case-b: one at 4.
    AppendOk("case-a", Batch({Opened("a1"), Note("a2"), Note("a3")}));
    AppendOk("case-b", Batch({Opened("b1")}));
    AppendOk("case-a", Batch({Note("a4"), Note("a5"), Note("a6"), Note("a7")}));
  }
};

TEST_F(EventStoreReadCase, ForwardPagesFollowNextSequence) {
  ASSERT_OK_AND_ASSIGN(auto p1, store_->ReadCase("case-a", 0, Direction::kForward, 3));
  EXPECT_THAT(Sequences(p1.events), ElementsAre(1, 2, 3));
  EXPECT_EQ(p1.next_sequence, 4u);
  EXPECT_EQ(p1.case_version, 7u);
  ASSERT_OK_AND_ASSIGN(auto p2, store_->ReadCase("case-a", p1.next_sequence,
                                                 Direction::kForward, 3));
  EXPECT_THAT(Sequences(p2.events), ElementsAre(4, 5, 6));
  EXPECT_EQ(p2.next_sequence, 7u);
  ASSERT_OK_AND_ASSIGN(auto p3, store_->ReadCase("case-a", p2.next_sequence,
                                                 Direction::kForward, 3));
  EXPECT_THAT(Sequences(p3.events), ElementsAre(7));
  EXPECT_EQ(p3.next_sequence, 0u) << "no more";
}

TEST_F(EventStoreReadCase, BackwardPagesFollowNextSequence) {
  ASSERT_OK_AND_ASSIGN(auto p1, store_->ReadCase("case-a", 0, Direction::kBackward, 3));
  EXPECT_THAT(Sequences(p1.events), ElementsAre(7, 6, 5));
  EXPECT_EQ(p1.next_sequence, 4u);
  ASSERT_OK_AND_ASSIGN(auto p2, store_->ReadCase("case-a", p1.next_sequence,
                                                 Direction::kBackward, 3));
  EXPECT_THAT(Sequences(p2.events), ElementsAre(4, 3, 2));
  EXPECT_EQ(p2.next_sequence, 1u);
  ASSERT_OK_AND_ASSIGN(auto p3, store_->ReadCase("case-a", p2.next_sequence,
                                                 Direction::kBackward, 3));
  EXPECT_THAT(Sequences(p3.events), ElementsAre(1));
  EXPECT_EQ(p3.next_sequence, 0u);
}

TEST_F(EventStoreReadCase, StartsFromASequenceInTheMiddle) {
  ASSERT_OK_AND_ASSIGN(auto fwd, store_->ReadCase("case-a", 4, Direction::kForward, 100));
  EXPECT_THAT(Sequences(fwd.events), ElementsAre(4, 5, 6, 7));
  EXPECT_EQ(fwd.next_sequence, 0u);
  ASSERT_OK_AND_ASSIGN(auto back, store_->ReadCase("case-a", 4, Direction::kBackward, 100));
  EXPECT_THAT(Sequences(back.events), ElementsAre(4, 3, 2, 1));
  EXPECT_EQ(back.next_sequence, 0u);
  ASSERT_OK_AND_ASSIGN(auto one, store_->ReadCase("case-a", 5, Direction::kForward, 1));
  EXPECT_THAT(Ids(one.events), ElementsAre("a5"));
  EXPECT_EQ(one.next_sequence, 6u);
}

TEST_F(EventStoreReadCase, APageThatEndsTheCaseSaysThereIsNoMore) {
  ASSERT_OK_AND_ASSIGN(auto all, store_->ReadCase("case-a", 0, Direction::kForward, 7));
  EXPECT_THAT(all.events, SizeIs(7));
  EXPECT_EQ(all.next_sequence, 0u);
  ASSERT_OK_AND_ASSIGN(auto past, store_->ReadCase("case-a", 8, Direction::kForward, 7));
  EXPECT_THAT(past.events, IsEmpty());
  EXPECT_EQ(past.next_sequence, 0u);
}

TEST_F(EventStoreReadCase, EventsCarryTheirStoredHash) {
  std::vector<Event> events = ReadWholeCase("case-a");
  ASSERT_THAT(events, SizeIs(7));
  for (size_t i = 1; i < events.size(); ++i) {
    EXPECT_EQ(events[i].prev_hash(), events[i - 1].hash());
  }
}

TEST_F(EventStoreReadCase, AnUnknownCaseIsNotFound) {
  auto r = store_->ReadCase("case-z", 0, Direction::kForward, 10);
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(r, HasReason("CASE_NOT_FOUND"));
  EXPECT_EQ(VersionOf("case-z"), 0u);
}

TEST_F(EventStoreReadCase, AMalformedCaseIdOrZeroLimitIsInvalid) {
  EXPECT_THAT(store_->ReadCase("Case-A", 0, Direction::kForward, 10),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(store_->ReadCase("", 0, Direction::kForward, 10),
              StatusIs(kInvalid));
  EXPECT_THAT(store_->ReadCase("case-a", 0, Direction::kForward, 0),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(store_->CaseVersion("Case A"), HasReason("INVALID_FIELD"));
}

TEST_F(EventStoreReadCase, ACaseIdThatExtendsAnotherDoesNotLeakIntoIt) {
  AppendOk("c1", Batch({Note("c1-1")}));
  AppendOk("c10", Batch({Note("c10-1"), Note("c10-2")}));
  AppendOk("c1.x", Batch({Note("c1x-1")}));
  AppendOk("c1", Batch({Note("c1-2")}));
  EXPECT_THAT(Ids(ReadWholeCase("c1")), ElementsAre("c1-1", "c1-2"));
  ASSERT_OK_AND_ASSIGN(auto back, store_->ReadCase("c1", 0, Direction::kBackward, 10));
  EXPECT_THAT(Ids(back.events), ElementsAre("c1-2", "c1-1"));
  EXPECT_THAT(Ids(ReadWholeCase("c10")), ElementsAre("c10-1", "c10-2"));
  EXPECT_EQ(VersionOf("c1"), 2u);
}

class EventStoreReadAll : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    // pos 1 case-a CaseOpened  src justice
    // pos 2 case-a Note        src justice, involves court
    // pos 3 case-b CaseOpened  src court
    // pos 4 case-b Note        src court
    // pos 5 case-a Note        src justice
    // pos 6 case-c CaseOpened  src justice.maiji-town
    // pos 7 case-b Note        src court, involves justice
    // pos 8 case-c Note        src justice.maiji-town
    Event involves_court = Note("a2");
    involves_court.add_involved_nodes(std::string(kOtherNode));
    Event involves_justice = Note("b3", "a note", kOtherNode);
    involves_justice.add_involved_nodes(std::string(kNode));
    involves_justice.add_involved_nodes(std::string(kOtherNode));  // repeated
    AppendOk("case-a", Batch({Opened("a1"), involves_court}));
    AppendOk("case-b", Batch({Opened("b1", kOtherNode), Note("b2", "n", kOtherNode)}));
    AppendOk("case-a", Batch({Note("a3")}));
    AppendOk("case-c", Batch({Opened("c1", kTown)}));
    AppendOk("case-b", Batch({involves_justice}));
    AppendOk("case-c", Batch({Note("c2", "n", kTown)}));
  }
  static constexpr absl::string_view kTown = "qinzhou.justice.maiji-town";
};

TEST_F(EventStoreReadAll, PagesFollowNextPosition) {
  ASSERT_OK_AND_ASSIGN(auto p1, store_->ReadAll(1, {}, 3));
  EXPECT_THAT(Positions(p1.events), ElementsAre(1, 2, 3));
  EXPECT_EQ(p1.next_position, 4u);
  EXPECT_EQ(p1.last_position, 8u);
  ASSERT_OK_AND_ASSIGN(auto p2, store_->ReadAll(p1.next_position, {}, 3));
  EXPECT_THAT(Positions(p2.events), ElementsAre(4, 5, 6));
  EXPECT_EQ(p2.next_position, 7u);
  ASSERT_OK_AND_ASSIGN(auto p3, store_->ReadAll(p2.next_position, {}, 3));
  EXPECT_THAT(Positions(p3.events), ElementsAre(7, 8));
  EXPECT_EQ(p3.next_position, 9u);
  ASSERT_OK_AND_ASSIGN(auto p4, store_->ReadAll(p3.next_position, {}, 3));
  EXPECT_THAT(p4.events, IsEmpty());
  EXPECT_EQ(p4.next_position, 9u);
}

TEST_F(EventStoreReadAll, StartsFromAPositionInTheMiddle) {
  ASSERT_OK_AND_ASSIGN(auto r, store_->ReadAll(5, {}, 100));
  EXPECT_THAT(Positions(r.events), ElementsAre(5, 6, 7, 8));
  EXPECT_THAT(Ids(r.events), ElementsAre("a3", "c1", "b3", "c2"));
  EXPECT_EQ(r.next_position, 9u);
  ASSERT_OK_AND_ASSIGN(auto zero, store_->ReadAll(0, {}, 2));
  EXPECT_THAT(Positions(zero.events), ElementsAre(1, 2)) << "0 is the start";
}

TEST_F(EventStoreReadAll, FiltersByEventType) {
  EventFilter opened{.event_type = std::string(kOpenedType)};
  EXPECT_THAT(Positions(ReadWholeFeed(opened)), ElementsAre(1, 3, 6));
  EventFilter notes{.event_type = std::string(kNoteType)};
  EXPECT_THAT(Positions(ReadWholeFeed(notes)), ElementsAre(2, 4, 5, 7, 8));
}

TEST_F(EventStoreReadAll, FiltersByNodeInSourceOrInvolvedNodes) {
  EventFilter justice{.node = std::string(kNode)};
  std::vector<Event> got = ReadWholeFeed(justice);
  EXPECT_THAT(Positions(got), ElementsAre(1, 2, 5, 7))
      << "source or involved; not qinzhou.justice.maiji-town";
  EventFilter court{.node = std::string(kOtherNode)};
  EXPECT_THAT(Positions(ReadWholeFeed(court)), ElementsAre(2, 3, 4, 7))
      << "a node named twice in one event yields it once";
  EventFilter town{.node = std::string(kTown)};
  EXPECT_THAT(Positions(ReadWholeFeed(town)), ElementsAre(6, 8));
}

TEST_F(EventStoreReadAll, FiltersByNodeAndTypeTogether) {
  EventFilter f{.event_type = std::string(kNoteType), .node = std::string(kNode)};
  EXPECT_THAT(Positions(ReadWholeFeed(f)), ElementsAre(2, 5, 7));
  EventFilter g{.event_type = std::string(kOpenedType),
                .node = std::string(kOtherNode)};
  EXPECT_THAT(Positions(ReadWholeFeed(g)), ElementsAre(3));
}

TEST_F(EventStoreReadAll, FilteredPagesResumeAfterTheLastMatch) {
  EventFilter notes{.event_type = std::string(kNoteType)};
  ASSERT_OK_AND_ASSIGN(auto p1, store_->ReadAll(1, notes, 2));
  EXPECT_THAT(Positions(p1.events), ElementsAre(2, 4));
  EXPECT_EQ(p1.next_position, 5u);
  ASSERT_OK_AND_ASSIGN(auto p2, store_->ReadAll(p1.next_position, notes, 2));
  EXPECT_THAT(Positions(p2.events), ElementsAre(5, 7));
  ASSERT_OK_AND_ASSIGN(auto p3, store_->ReadAll(p2.next_position, notes, 2));
  EXPECT_THAT(Positions(p3.events), ElementsAre(8));
  EXPECT_EQ(p3.next_position, 9u);
}

TEST_F(EventStoreReadAll, AFilterThatMatchesNothingStillAdvancesToTheEnd) {
  EventFilter nobody{.node = "nanning.court"};
  ASSERT_OK_AND_ASSIGN(auto r, store_->ReadAll(1, nobody, 10));
  EXPECT_THAT(r.events, IsEmpty());
  EXPECT_EQ(r.next_position, 9u);
  EXPECT_EQ(r.last_position, 8u);
  EventFilter town_opened_from_7{.event_type = std::string(kOpenedType),
                                 .node = std::string(kTown)};
  ASSERT_OK_AND_ASSIGN(auto s, store_->ReadAll(7, town_opened_from_7, 10));
  EXPECT_THAT(s.events, IsEmpty());
  EXPECT_EQ(s.next_position, 9u);
}

TEST_F(EventStoreReadAll, FromBeyondTheEndIsEmpty) {
  ASSERT_OK_AND_ASSIGN(auto r, store_->ReadAll(50, {}, 10));
  EXPECT_THAT(r.events, IsEmpty());
  EXPECT_GE(r.next_position, 9u);
  EXPECT_EQ(r.last_position, 8u);
}

TEST_F(EventStoreReadAll, AnInvalidFilterOrZeroLimitIsInvalid) {
  EXPECT_THAT(store_->ReadAll(1, {.event_type = "CaseOpened"}, 10),
              StatusIs(kInvalid));
  EXPECT_THAT(store_->ReadAll(1, {.event_type = "referral.v1.Event"}, 10),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(store_->ReadAll(1, {.node = "Qinzhou Justice"}, 10),
              HasReason("INVALID_FIELD"));
  EXPECT_THAT(store_->ReadAll(1, {}, 0), HasReason("INVALID_FIELD"));
  EXPECT_THAT(store_->Subscribe(1, {.node = "bad node"}),
              HasReason("INVALID_FIELD"));
}

// --------------------------------------------------------------- Bad input

class EventStoreRejects : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    AppendOk("case-a", Batch({Opened("a1")}));
  }

  // `append` is refused with `code` and `reason`, and nothing is written,
  // not even after a reopen.
  void ExpectRefused(absl::string_view case_id, std::vector<Event> events,
                     absl::StatusCode code, const std::string& reason) {
    const uint64_t last = store_->LastPosition();
    const uint64_t version = VersionOf("case-a");
    auto r = store_->Append(case_id, ExpectedVersion::Any(), std::move(events));
    EXPECT_THAT(r, StatusIs(code));
    EXPECT_THAT(r, HasReason(reason));
    EXPECT_FALSE(r.status().message().empty());
    EXPECT_FALSE(ViewError(r.status()).zh_message.empty());
    EXPECT_EQ(store_->LastPosition(), last);
    EXPECT_EQ(VersionOf("case-a"), version);
  }
};

TEST_F(EventStoreRejects, AnEmptyBatch) {
  ExpectRefused("case-a", {}, kInvalid, "INVALID_FIELD");
}

TEST_F(EventStoreRejects, MoreEventsThanOneAppendMayHold) {
  options_.max_events_per_append = 3;
  Reopen();
  ExpectRefused("case-a",
                Batch({Note("n1"), Note("n2"), Note("n3"), Note("n4")}),
                kInvalid, "INVALID_FIELD");
  AppendOk("case-a", Batch({Note("n1"), Note("n2"), Note("n3")}));
}

TEST_F(EventStoreRejects, AnEventOverMaxEventBytes) {
  options_.max_event_bytes = 1024;
  Reopen();
  ExpectRefused("case-a", Batch({Note("big", std::string(2000, 'x'))}), kInvalid,
                "EVENT_TOO_LARGE");
  ExpectRefused("case-a",
                Batch({Note("small"), Note("big", std::string(1025, 'x'))}),
                kInvalid, "EVENT_TOO_LARGE");
  AppendOk("case-a", Batch({Note("fits", std::string(900, 'x'))}));
}

TEST_F(EventStoreRejects, AMalformedCaseId) {
  for (const std::string& bad :
       {std::string("Case-A"), std::string("case a"), std::string(""),
        std::string(200, 'c'), std::string("-case"), std::string("case/1"),
        std::string("case\0a", 6)}) {
    SCOPED_TRACE(bad);
    ExpectRefused(bad, Batch({Note("n1")}), kInvalid, "INVALID_FIELD");
  }
  // The limits themselves are fine.
  AppendOk(std::string(128, 'c'), Batch({Note("n1")}));
  AppendOk("qinzhou.justice:2026-000123_x", Batch({Note("n2")}));
}

TEST_F(EventStoreRejects, AMissingOrMalformedEventId) {
  for (const std::string& bad :
       {std::string(""), std::string("has space"), std::string(129, 'i'),
        std::string("id/1"), std::string("\xe4\xba\x8b")}) {
    SCOPED_TRACE(bad);
    ExpectRefused("case-a", Batch({Note(bad)}), kInvalid, "INVALID_FIELD");
  }
}

TEST_F(EventStoreRejects, AMissingOrMalformedSource) {
  ExpectRefused("case-a", Batch({Note("n1", "n", "")}), kInvalid, "INVALID_FIELD");
  ExpectRefused("case-a", Batch({Note("n1", "n", "Qinzhou.Justice")}), kInvalid,
                "INVALID_FIELD");
  Event bad_involved = Note("n1");
  bad_involved.add_involved_nodes("not a node");
  ExpectRefused("case-a", Batch({bad_involved}), kInvalid, "INVALID_FIELD");
}

TEST_F(EventStoreRejects, ASubjectOtherThanTheCase) {
  Event e = Note("n1");
  e.set_subject("case-b");
  ExpectRefused("case-a", Batch({e}), kInvalid, "INVALID_FIELD");
  EXPECT_EQ(VersionOf("case-b"), 0u);
}

TEST_F(EventStoreRejects, AnEventWithoutABody) {
  Event e;
  e.set_event_id("n1");
  e.set_source(std::string(kNode));
  ExpectRefused("case-a", Batch({e}), kInvalid, "UNKNOWN_EVENT_KIND");
}

TEST_F(EventStoreRejects, ATypeOtherThanTheBodys) {
  Event e = Note("n1");
  e.set_type(std::string(kOpenedType));
  ExpectRefused("case-a", Batch({e}), kInvalid, "INVALID_FIELD");
  e.set_type("referral.v1.Nonsense");
  ExpectRefused("case-a", Batch({e}), kInvalid, "INVALID_FIELD");
}

TEST_F(EventStoreRejects, NothingOfARefusedAppendSurvivesAReopen) {
  Event no_body;
  no_body.set_event_id("n3");
  no_body.set_source(std::string(kNode));
  ExpectRefused("case-a", Batch({Note("n1"), Note("n2"), no_body}), kInvalid,
                "UNKNOWN_EVENT_KIND");
  Reopen();
  EXPECT_EQ(store_->LastPosition(), 1u);
  EXPECT_EQ(VersionOf("case-a"), 1u);
}

// ------------------------------------------------------ Corrupt records

class EventStoreCorruptRecord : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    AppendOk("case-a", Batch({Opened("a1"), Note("a2"), Note("a3")}));
  }
  void StoreRecordAt(uint64_t sequence, const std::string& record) {
    Close();
    {
      RawDb db(options_.path);
      ASSERT_TRUE(db.status().ok()) << db.status().ToString();
      db.Put(db.events(), keys::EventKey("case-a", sequence), record);
    }
    Reopen();
  }
};

TEST_F(EventStoreCorruptRecord, ARecordThatDoesNotParseIsCaseLogCorrupt) {
  StoreRecordAt(2, std::string(kHashSize, 'h') + "\xff\xff\xff\xff");
  auto c = store_->ReadCase("case-a", 0, Direction::kForward, 10);
  EXPECT_THAT(c, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(c, HasReason("CASE_LOG_CORRUPT"));
  auto all = store_->ReadAll(1, {}, 10);
  EXPECT_THAT(all, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(all, HasReason("CASE_LOG_CORRUPT"));
  // Pages that do not touch it still read.
  ASSERT_OK_AND_ASSIGN(auto first, store_->ReadCase("case-a", 1, Direction::kForward, 1));
  EXPECT_THAT(Ids(first.events), ElementsAre("a1"));
  ASSERT_OK_AND_ASSIGN(auto last, store_->ReadAll(3, {}, 10));
  EXPECT_THAT(Ids(last.events), ElementsAre("a3"));
}

TEST_F(EventStoreCorruptRecord, ARecordShorterThanItsHashIsCaseLogCorrupt) {
  StoreRecordAt(3, "short");
  EXPECT_THAT(store_->ReadCase("case-a", 0, Direction::kBackward, 10),
              HasReason("CASE_LOG_CORRUPT"));
  EXPECT_THAT(store_->ReadAll(1, {.event_type = std::string(kNoteType)}, 10),
              HasReason("CASE_LOG_CORRUPT"));
}

// ------------------------------------------------------------- Checkpoints

class EventStoreCheckpoint : public StoreFixture {
 protected:
  void SetUp() override {
    options_.clock = [] { return absl::FromUnixSeconds(1767225600); };
    StoreFixture::SetUp();
    AppendOk("case-a", Batch({Opened("a1"), Note("a2"), Note("a3")}));
  }
};

TEST_F(EventStoreCheckpoint, SetThenGet) {
  ASSERT_OK_AND_ASSIGN(Checkpoint set, store_->SetCheckpoint("inbox.court", 2));
  EXPECT_EQ(set.name, "inbox.court");
  EXPECT_EQ(set.position, 2u);
  EXPECT_EQ(set.update_time, absl::FromUnixSeconds(1767225600));
  ASSERT_OK_AND_ASSIGN(Checkpoint got, store_->GetCheckpoint("inbox.court"));
  EXPECT_EQ(got.name, "inbox.court");
  EXPECT_EQ(got.position, 2u);
  EXPECT_EQ(got.update_time, absl::FromUnixSeconds(1767225600));
}

TEST_F(EventStoreCheckpoint, ALaterSetReplacesTheEarlier) {
  ASSERT_THAT(store_->SetCheckpoint("projector", 1), IsOk());
  ASSERT_THAT(store_->SetCheckpoint("projector", 3), IsOk());
  ASSERT_OK_AND_ASSIGN(Checkpoint got, store_->GetCheckpoint("projector"));
  EXPECT_EQ(got.position, 3u);
  ASSERT_THAT(store_->SetCheckpoint("other", 0), IsOk());
  ASSERT_OK_AND_ASSIGN(Checkpoint still, store_->GetCheckpoint("projector"));
  EXPECT_EQ(still.position, 3u) << "checkpoints are kept apart by name";
}

TEST_F(EventStoreCheckpoint, SurvivesReopen) {
  ASSERT_THAT(store_->SetCheckpoint("inbox.court", 3), IsOk());
  Reopen();
  ASSERT_OK_AND_ASSIGN(Checkpoint got, store_->GetCheckpoint("inbox.court"));
  EXPECT_EQ(got.position, 3u);
  EXPECT_EQ(got.update_time, absl::FromUnixSeconds(1767225600));
}

TEST_F(EventStoreCheckpoint, AnUnknownNameIsNotFound) {
  auto r = store_->GetCheckpoint("never-set");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(r, HasReason("CHECKPOINT_NOT_FOUND"));
}

TEST_F(EventStoreCheckpoint, APositionBeyondTheLogIsInvalidAndNotStored) {
  ASSERT_THAT(store_->SetCheckpoint("inbox.court", 1), IsOk());
  auto r = store_->SetCheckpoint("inbox.court", 4);
  EXPECT_THAT(r, StatusIs(kInvalid));
  EXPECT_THAT(r, HasReason("INVALID_FIELD"));
  ASSERT_OK_AND_ASSIGN(Checkpoint got, store_->GetCheckpoint("inbox.court"));
  EXPECT_EQ(got.position, 1u);
  EXPECT_THAT(store_->GetCheckpoint("fresh"), HasReason("CHECKPOINT_NOT_FOUND"));
  EXPECT_THAT(store_->SetCheckpoint("fresh", 4), StatusIs(kInvalid));
  EXPECT_THAT(store_->GetCheckpoint("fresh"), HasReason("CHECKPOINT_NOT_FOUND"));
}

TEST_F(EventStoreCheckpoint, AMalformedNameIsInvalid) {
  EXPECT_THAT(store_->SetCheckpoint("", 1), HasReason("INVALID_FIELD"));
  EXPECT_THAT(store_->SetCheckpoint("has space", 1), HasReason("INVALID_FIELD"));
  EXPECT_THAT(store_->GetCheckpoint(std::string(129, 'n')),
              HasReason("INVALID_FIELD"));
}

// ------------------------------------------------------ Identifier helpers

TEST(EventStoreIdentifiers, EventTypeOfNamesTheBody) {
  EXPECT_EQ(EventTypeOf(Note("n")), kNoteType);
  EXPECT_EQ(EventTypeOf(Opened("o")), kOpenedType);
  EXPECT_EQ(EventTypeOf(Event()), "");
}

TEST(EventStoreIdentifiers, ValidatorsFollowTheDocumentedRules) {
  EXPECT_THAT(ValidateCaseId("qinzhou.justice:2026-000123", "c"), IsOk());
  EXPECT_THAT(ValidateCaseId("0abc", "c"), IsOk());
  EXPECT_THAT(ValidateCaseId("_abc", "c"), HasReason("INVALID_FIELD"));
  EXPECT_THAT(ValidateCaseId(std::string(129, 'a'), "c"), HasReason("INVALID_FIELD"));
  EXPECT_THAT(ValidateToken("Ev-1.a_b:c", "t"), IsOk());
  EXPECT_THAT(ValidateToken("-leading-is-fine", "t"), IsOk());
  EXPECT_THAT(ValidateToken("a b", "t"), HasReason("INVALID_FIELD"));
  EXPECT_THAT(ValidateNodeName("qinzhou.justice.maiji-town", "n"), IsOk());
  EXPECT_THAT(ValidateNodeName("qinzhou:justice", "n"), HasReason("INVALID_FIELD"));
  EXPECT_THAT(ValidateNodeName("Qinzhou", "n"), HasReason("INVALID_FIELD"));
  EXPECT_EQ(ViewError(ValidateCaseId("X", "case_id")).field, "case_id");
}

}  // namespace
}  // namespace referral::storage
