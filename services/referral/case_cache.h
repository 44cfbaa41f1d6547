// CaseCache keeps, per case, what the broker decides and answers on, folded
// from the case's events as far as it has read them: the projection
// (case_projection.h), the deadlines (deadlines::DeadlineFold), and which
// commands the case holds, with the version (last sequence) they were folded
// to. A command or a read then costs one read of the events appended since,
// usually none or a few, instead of a read and a fold of the whole case.
//
// Freshness. The case log is the only source of truth, and other services
// (mediation, legal aid, deadlines, another broker) append to the same cases.
// So the cache never answers from what it holds alone: every Visit first
// asks the log for the events after the version it holds and folds them in,
// and only then shows the state. A decision made on it is therefore made on
// the case as the log had it after the call began, and the append still
// names that version as its expected version, so a writer that slipped in
// between is caught there as before. A log that no longer continues what was
// folded (it reports a lower version than the one held, or a gap) is read
// again from the start.
//
// Bound. At most `max_bytes` are held, counted as the encoded size of the
// events folded into each case plus kEntryOverhead per case (the state in
// memory is a small multiple of that); past it the least recently visited
// cases are dropped. A case bigger than the whole bound is folded for the
// call and not kept, and pushes no other case out; max_bytes = 0 keeps
// nothing, and every call reads its case whole, as a broker without a cache
// would. A case the log does not have is never kept.
//
// Thread safety: all methods may be called concurrently. Visits of one case
// are serialised while they fold and run their `use`; the read from the log
// happens outside that lock, so a slow log holds up only its own callers.

#ifndef REFERRAL_SERVICES_REFERRAL_CASE_CACHE_H_
#define REFERRAL_SERVICES_REFERRAL_CASE_CACHE_H_

#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "referral/v1/event.pb.h"
#include "services/deadlines/deadlines.h"
#include "services/referral/case_projection.h"
#include "services/referral/ports.h"

namespace referral::broker {

// One case as folded through `version`.
struct CaseState {
  // A command found in the case: its events' id prefix ("rq.<hash>", see
  // CommandPrefix), the request digest they carry and where they lie.
  struct Command {
    std::string digest;
    uint64_t first_sequence = 0;
    uint64_t last_sequence = 0;
  };

  // The last sequence folded in; 0 for a case with no events.
  uint64_t version = 0;
  CaseProjection projection;
  deadlines::DeadlineFold deadlines;
  // By id prefix; only events with ids "rq.<hash>.<i>" are commands.
  absl::flat_hash_map<std::string, Command> commands;

  // Folds the next event (its sequence must be version + 1).
  void Apply(const v1::Event& event);
  // nullptr when the case holds no command with this id prefix.
  const Command* FindCommand(absl::string_view prefix) const;
};

class CaseCache {
 public:
  // What each case is charged besides its events: the key, the maps, the
  // list node. Also what keeps a flood of tiny cases bounded.
  static constexpr size_t kEntryOverhead = 1024;
  // Visit's `upto` when the whole case is wanted.
  static constexpr uint64_t kToTheEnd = UINT64_MAX;
  // The default bound (the referral service's --case_cache_mb).
  static constexpr size_t kDefaultMaxBytes = size_t{64} << 20;

  // `log` is not owned and must outlive the cache.
  CaseCache(CaseLogPort* log, size_t max_bytes);

  CaseCache(const CaseCache&) = delete;
  CaseCache& operator=(const CaseCache&) = delete;

  // Catches the case up with the log (reads the events after the version
  // held; the whole case when none is held), then calls `use` with its
  // state, the case locked: `use` must be short, do no I/O and keep no
  // reference to the state past its return. It returns what `use` returns.
  // A case without events is shown as an empty state (version 0).
  // `upto` folds no further than that sequence, leaving later events to the
  // next visit: what a command wants to see right after its own append. The
  // state may still be further on when another visit folded further first;
  // `use` must look at `version`.
  // Errors: the log's (other than CASE_NOT_FOUND); ABORTED
  // (CONCURRENT_MODIFICATION) when the log kept contradicting what was
  // folded.
  absl::Status Visit(absl::string_view case_id,
                     const std::function<absl::Status(const CaseState&)>& use,
                     uint64_t upto = kToTheEnd);

  // The case's projection through `sequence`, from a whole read of the log
  // and not kept: the case as a command found in it left it (a retry's
  // answer), or as an event found it (an inbox item). Errors: the log's.
  absl::StatusOr<CaseProjection> ProjectionAt(absl::string_view case_id, uint64_t sequence);

  // For tests and operators.
  struct Stats {
    size_t cases = 0;
    size_t bytes = 0;
    size_t max_bytes = 0;
    uint64_t events_read = 0;  // events fetched from the log, ever
    uint64_t evictions = 0;
  };
  Stats stats() const;
  // Whether the case is held now.
  bool Holds(absl::string_view case_id) const;

 private:
  struct Entry {
    explicit Entry(absl::string_view id) : case_id(id) {}
    const std::string case_id;
    absl::Mutex mu;
    CaseState state ABSL_GUARDED_BY(mu);
    size_t bytes ABSL_GUARDED_BY(mu) = kEntryOverhead;
    // What the cache counts for it; guarded by CaseCache::mu_.
    size_t charged = 0;
  };
  using Lru = std::list<std::shared_ptr<Entry>>;

  // The case's entry, made the most recently used; created when missing.
  std::shared_ptr<Entry> Acquire(absl::string_view case_id);
  // Counts the entry at `bytes` (when it is still held) and evicts down to
  // the bound.
  void Charge(Entry* entry, size_t bytes);
  // Drops the entry when it is still held.
  void Forget(Entry* entry);
  void EvictLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CountRead(size_t events);

  CaseLogPort* const log_;
  const size_t max_bytes_;
  mutable absl::Mutex mu_;
  Lru lru_ ABSL_GUARDED_BY(mu_);  // most recently used first
  absl::flat_hash_map<std::string, Lru::iterator> where_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t events_read_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t evictions_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_CASE_CACHE_H_
