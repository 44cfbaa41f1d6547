// EventStore: the case event log. Every fact about a case is an immutable
// event appended to that case's stream; current state anywhere else in the
// product is a fold over these events.
//
// Guarantees:
//  * Streams: each case's events carry gapless sequence numbers from 1. Every
//    event also has a global position, gapless from 1 across all cases, in
//    commit order.
//  * Atomicity: Append writes all of its events or none, after checking the
//    case's version against an ExpectedVersion.
//  * Durability: Append returns only after the write-ahead log is synced.
//    Concurrent Appends are committed in groups that share one sync.
//  * Idempotency: re-appending events whose ids are already in the log (with
//    the same content; `time` and the fields the store assigns do not count)
//    writes nothing and returns the original positions; an
//    id already used with different content is ALREADY_EXISTS. This holds
//    across reopen.
//  * Tamper evidence: each case is a SHA-256 hash chain; Verify() recomputes
//    it and names the first bad sequence.
//  * Reads cost in proportion to what they return: case reads seek to the
//    case's key range, the global feed and its filters read ordered indexes.
//
// Errors are absl::Status values built from the table in common/errors.h;
// their reasons are listed on each method.
//
// Thread safety: an EventStore is safe to use from many threads at once.
// Subscription objects are for one thread each.

#ifndef REFERRAL_STORAGE_EVENT_STORE_H_
#define REFERRAL_STORAGE_EVENT_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "referral/v1/event.pb.h"

namespace rocksdb {
class Env;
}

namespace referral::storage {

using ::referral::v1::Event;

struct EventStoreOptions {
  // Directory of the RocksDB database; created when missing.
  std::string path;

  // Largest accepted serialized event, in bytes.
  size_t max_event_bytes = 1 << 20;

  // Most events in one Append.
  size_t max_events_per_append = 1000;

  // Sync the write-ahead log before acknowledging an Append. Only the crash
  // tests' negative control turns this off, to show that the tests catch a
  // store that acknowledges unsynced writes.
  bool sync = true;

  // The file system to use (not owned); nullptr means the default. Tests pass
  // an in-memory or fault-injecting Env.
  rocksdb::Env* env = nullptr;

  // Clock for recorded_time; tests pin it.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

// What the writer believes the case's version (its last sequence) is.
class ExpectedVersion {
 public:
  enum class Kind { kAny, kNoStream, kExact };
  static ExpectedVersion Any() { return ExpectedVersion(Kind::kAny, 0); }
  // The case must have no events yet.
  static ExpectedVersion NoStream() {
    return ExpectedVersion(Kind::kNoStream, 0);
  }
  // The case must be exactly at `version` (0 = no events yet).
  static ExpectedVersion Exactly(uint64_t version) {
    return ExpectedVersion(Kind::kExact, version);
  }
  Kind kind() const { return kind_; }
  uint64_t version() const { return version_; }

 private:
  ExpectedVersion(Kind kind, uint64_t version)
      : kind_(kind), version_(version) {}
  Kind kind_;
  uint64_t version_;
};

struct AppendResult {
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;
  uint64_t first_position = 0;
  uint64_t last_position = 0;
  // True when every event was already in the log: nothing was written.
  bool deduplicated = false;
  // SHA-256 of the last appended event (32 bytes).
  std::string head_hash;
};

enum class Direction { kForward, kBackward };

struct ReadCaseResult {
  std::vector<Event> events;
  // Where the next page starts; 0 when there is no more.
  uint64_t next_sequence = 0;
  // The case's version when read.
  uint64_t case_version = 0;
};

// Narrows the global feed; empty fields match everything.
struct EventFilter {
  std::string event_type;  // e.g. "referral.v1.CaseOpened"
  std::string node;        // matches Event.source or Event.involved_nodes
};

struct ReadAllResult {
  std::vector<Event> events;
  // Pass as from_position to continue: every position before it has been
  // considered, matched or not.
  uint64_t next_position = 0;
  // The last committed position when the page was read.
  uint64_t last_position = 0;
};

struct VerifyResult {
  bool intact = false;
  uint64_t events_checked = 0;
  std::string head_hash;
  // When not intact: the first sequence that is altered, missing, inserted
  // or out of order.
  uint64_t first_bad_sequence = 0;
  std::string problem;
};

struct Checkpoint {
  std::string name;
  uint64_t position = 0;
  absl::Time update_time;
};

// A cursor over the global feed that catches up from a position and then
// follows new commits, with no gap and no duplicate at the seam. Owned by
// one thread.
class Subscription {
 public:
  virtual ~Subscription() = default;

  // Returns up to `max_events` matching events from the cursor on and
  // advances past them. When nothing new is committed, waits up to `timeout`
  // and returns an empty vector if still nothing matches.
  virtual absl::StatusOr<std::vector<Event>> Next(size_t max_events,
                                                  absl::Duration timeout) = 0;

  // The global position the next call considers first.
  virtual uint64_t next_position() const = 0;
};

class EventStore {
 public:
  // Opens (creating when missing) the store at options.path.
  // Errors: INVALID_ARGUMENT for a bad option; UNAVAILABLE when another
  // process holds the database; FAILED_PRECONDITION for an on-disk format
  // this build does not read; DATA_LOSS for a database RocksDB cannot recover.
  static absl::StatusOr<std::unique_ptr<EventStore>> Open(
      const EventStoreOptions& options);

  virtual ~EventStore() = default;

  // Appends `events` to `case_id` atomically and durably. The store assigns
  // each event's type (from its body), subject (= case_id when empty),
  // sequence, global_position, recorded_time, time (when unset), prev_hash and
  // hash.
  //
  // Errors (reason):
  //  INVALID_ARGUMENT (INVALID_FIELD): malformed case id, empty batch, more
  //    than max_events_per_append events, a missing or malformed event_id or
  //    source, a subject other than case_id, a type other than the body's, or
  //    the same event_id twice in the batch;
  //  INVALID_ARGUMENT (EVENT_TOO_LARGE): an event over max_event_bytes;
  //  INVALID_ARGUMENT (UNKNOWN_EVENT_KIND): an event without a known body;
  //  ABORTED (CONCURRENT_MODIFICATION): the case is not at `expected`;
  //    metadata "current_version" holds its version;
  //  ALREADY_EXISTS (EVENT_ID_REUSED): an event id is in the log already with
  //    other content or another position than this batch would give it;
  //  INTERNAL (STORAGE_FAILURE): the write failed. The outcome is unknown:
  //    the write-ahead log may already hold the group, so the events can be
  //    there after a restart. Retry with the same event ids: a retry of
  //    events that did land returns their original positions.
  // On every other error nothing is written.
  virtual absl::StatusOr<AppendResult> Append(absl::string_view case_id,
                                              ExpectedVersion expected,
                                              std::vector<Event> events) = 0;

  // Reads up to `limit` events of a case from `from_sequence` in `direction`.
  // from_sequence 0 means the first event (forward) or the last (backward).
  // Errors: INVALID_FIELD (malformed case id, limit 0); CASE_NOT_FOUND;
  // CASE_LOG_CORRUPT when a stored record does not parse.
  virtual absl::StatusOr<ReadCaseResult> ReadCase(absl::string_view case_id,
                                                  uint64_t from_sequence,
                                                  Direction direction,
                                                  size_t limit) = 0;

  // The case's version (its last sequence); 0 when it has no events.
  virtual absl::StatusOr<uint64_t> CaseVersion(absl::string_view case_id) = 0;

  // Reads up to `limit` events of the global feed with position >=
  // from_position that match `filter`, in position order.
  // Errors: INVALID_FIELD (malformed filter, limit 0); CASE_LOG_CORRUPT.
  virtual absl::StatusOr<ReadAllResult> ReadAll(uint64_t from_position,
                                                const EventFilter& filter,
                                                size_t limit) = 0;

  // The last committed global position (0 when the log is empty).
  virtual uint64_t LastPosition() const = 0;

  // A cursor from `from_position` (0 or 1 = the start) over `filter`.
  // Errors: INVALID_FIELD for a malformed filter.
  virtual absl::StatusOr<std::unique_ptr<Subscription>> Subscribe(
      uint64_t from_position, const EventFilter& filter) = 0;

  // Registers `callback` to run once, on the store's notification thread,
  // as soon as the last committed position exceeds `position` (at once if it
  // already does). The callback must not block. Returns an id for
  // CancelWatch(). Used by streaming servers that must not park a thread per
  // subscriber.
  virtual uint64_t WatchBeyond(uint64_t position,
                               std::function<void()> callback) = 0;

  // Removes a watch. Returns true when the callback had not started and now
  // never will; false when it has run or is running.
  virtual bool CancelWatch(uint64_t watch_id) = 0;

  // Recomputes the case's hash chain from its first event.
  // Errors: INVALID_FIELD (malformed case id); CASE_NOT_FOUND. A broken
  // chain is a result (intact = false), not an error.
  virtual absl::StatusOr<VerifyResult> Verify(absl::string_view case_id) = 0;

  // Durably records a consumer's position (the last position it processed).
  // Errors: INVALID_FIELD for a malformed name or a position beyond
  // LastPosition().
  virtual absl::StatusOr<Checkpoint> SetCheckpoint(absl::string_view name,
                                                   uint64_t position) = 0;

  // Reads a checkpoint. Errors: INVALID_FIELD; CHECKPOINT_NOT_FOUND.
  virtual absl::StatusOr<Checkpoint> GetCheckpoint(absl::string_view name) = 0;
};

// Identifier rules shared with the services (INVALID_FIELD when broken).
// Case ids: 1-128 of [a-z0-9._:-], starting with a letter or digit.
absl::Status ValidateCaseId(absl::string_view case_id, absl::string_view field);
// Event ids and checkpoint names: 1-128 of [A-Za-z0-9._:-].
absl::Status ValidateToken(absl::string_view value, absl::string_view field);
// Node names: 1-128 of [a-z0-9._-], starting with a letter or digit.
absl::Status ValidateNodeName(absl::string_view node, absl::string_view field);

// The type name of an event's body ("referral.v1.CaseOpened"), or "" when it
// has none this build knows.
std::string EventTypeOf(const Event& event);

}  // namespace referral::storage

#endif  // REFERRAL_STORAGE_EVENT_STORE_H_
