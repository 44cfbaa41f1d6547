// What the crash tests check after reopening a store that went down hard:
// every acknowledged event is where its acknowledgement said, and the log is
// still whole (streams gapless from 1, hash chains intact, the global feed
// gapless from 1).
//
// The audit reports rather than asserts, so that the negative controls can
// use it to show loss, and the tests decide what must hold.
//
// Thread safety: thread-compatible; the store may be shared.

#ifndef REFERRAL_TESTS_CRASH_DURABILITY_AUDIT_H_
#define REFERRAL_TESTS_CRASH_DURABILITY_AUDIT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "storage/event_store.h"
#include "tests/crash/crash_workload.h"

namespace referral::crash {

struct DurabilityAudit {
  // Events acknowledged before the crash.
  size_t acknowledged = 0;
  // Of those, events found at their acknowledged case, sequence and global
  // position with the same event id.
  size_t present = 0;
  // The store's LastPosition() after reopening.
  uint64_t last_position = 0;
  // Events read from the global feed, and the sum of every case's version.
  uint64_t feed_events = 0;
  uint64_t case_events = 0;
  // Cases whose Verify() found the hash chain intact, of those examined.
  size_t cases_examined = 0;
  size_t cases_intact = 0;
  // Every inconsistency found, missing acknowledged events included; the
  // first kMaxDescribed are described in `problems`.
  size_t problem_count = 0;
  std::vector<std::string> problems;

  static constexpr size_t kMaxDescribed = 20;

  // True when nothing is missing and nothing is inconsistent.
  bool ok() const { return problem_count == 0; }
  // Counts and the described problems, for a failure message.
  std::string Summary() const;
};

// Reads the whole store back and checks it against `acks`. Cases examined:
// every case named by an acknowledgement or found in the global feed.
DurabilityAudit AuditStore(storage::EventStore& store,
                           absl::Span<const Ack> acks);

// Retries each acknowledged event as a client would after the crash (the same
// event, ExpectedVersion::Any()) and returns what went wrong: each retry must
// be recognised as a duplicate at the acknowledged sequence and position and
// write nothing. At most DurabilityAudit::kMaxDescribed problems are listed.
std::vector<std::string> RetryAcknowledged(storage::EventStore& store,
                                           absl::Span<const Ack> acks);

}  // namespace referral::crash

#endif  // REFERRAL_TESTS_CRASH_DURABILITY_AUDIT_H_
