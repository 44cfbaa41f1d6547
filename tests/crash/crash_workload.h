// The append workload the crash tests run, and the acknowledgements they
// check afterwards. Shared by the child process that is SIGKILLed
// (crash_append_child) and by the in-process power-loss tests, so that both
// write the same kind of load and a test can rebuild any event it was told
// about to retry it.
//
// The load: each appender thread appends batches of 1 to 3 small note events
// to one of kCaseCount cases in turn, with ExpectedVersion::Any(), so several
// threads write to the same case at once and the store's group commit is
// exercised. Event ids are "<tag>.t<thread>.<batch>.<index>", unique as long
// as every run against one store uses its own tag.
//
// Thread safety: the functions here are thread-compatible; RunAppender is run
// by many threads at once, each with its own thread index.

#ifndef REFERRAL_TESTS_CRASH_CRASH_WORKLOAD_H_
#define REFERRAL_TESTS_CRASH_CRASH_WORKLOAD_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "storage/event_store.h"

namespace referral::crash {

// Cases the workload appends to.
inline constexpr int kCaseCount = 4;

// The case id of case `index` (0 <= index < kCaseCount).
std::string CaseId(int index);

// The event the workload appends under `event_id`. Deterministic: the same id
// always gives the same event, so a retry carries the same content.
storage::Event NoteEvent(absl::string_view event_id);

// One event the store acknowledged: its Append returned OK.
struct Ack {
  std::string event_id;
  std::string case_id;
  uint64_t sequence = 0;
  uint64_t position = 0;
};

// One line of the child's report: "ack <event_id> <case_id> <seq> <pos>\n".
std::string FormatAck(const Ack& ack);
// Parses a line without its newline; false when malformed.
bool ParseAck(absl::string_view line, Ack* ack);

// Appends as thread `thread` of the workload until `on_ack` returns false or
// an Append fails. `on_ack` is called, on this thread, with the events of each
// acknowledged batch, right after its Append returned OK. Returns the failed
// Append's status, or OK when `on_ack` stopped it.
absl::Status RunAppender(
    storage::EventStore& store, absl::string_view tag, int thread,
    const std::function<bool(absl::Span<const Ack>)>& on_ack);

}  // namespace referral::crash

#endif  // REFERRAL_TESTS_CRASH_CRASH_WORKLOAD_H_
