#include "tests/crash/crash_workload.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace referral::crash {

std::string CaseId(int index) { return absl::StrCat("crash-case-", index); }

storage::Event NoteEvent(absl::string_view event_id) {
  storage::Event e;
  e.set_event_id(std::string(event_id));
  e.set_source("crash.test");
  e.mutable_case_note_recorded()->set_note(
      absl::StrCat("note written under load as ", event_id));
  return e;
}

std::string FormatAck(const Ack& ack) {
  return absl::StrCat("ack ", ack.event_id, " ", ack.case_id, " ", ack.sequence,
                      " ", ack.position, "\n");
}

bool ParseAck(absl::string_view line, Ack* ack) {
  std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 5 || parts[0] != "ack") return false;
  ack->event_id = std::string(parts[1]);
  ack->case_id = std::string(parts[2]);
  return absl::SimpleAtoi(parts[3], &ack->sequence) &&
         absl::SimpleAtoi(parts[4], &ack->position) && ack->sequence > 0 &&
         ack->position > 0;
}

absl::Status RunAppender(
    storage::EventStore& store, absl::string_view tag, int thread,
    const std::function<bool(absl::Span<const Ack>)>& on_ack) {
  std::vector<Ack> acks;
  for (uint64_t batch = 0;; ++batch) {
    const std::string case_id = CaseId((thread + batch) % kCaseCount);
    const int size = 1 + batch % 3;
    std::vector<storage::Event> events;
    for (int i = 0; i < size; ++i) {
      events.push_back(
          NoteEvent(absl::StrCat(tag, ".t", thread, ".", batch, ".", i)));
    }
    acks.clear();
    for (const storage::Event& e : events) {
      acks.push_back(Ack{e.event_id(), case_id, 0, 0});
    }
    absl::StatusOr<storage::AppendResult> result = store.Append(
        case_id, storage::ExpectedVersion::Any(), std::move(events));
    if (!result.ok()) return result.status();
    for (int i = 0; i < size; ++i) {
      acks[i].sequence = result->first_sequence + i;
      acks[i].position = result->first_position + i;
    }
    if (!on_ack(acks)) return absl::OkStatus();
  }
}

}  // namespace referral::crash
