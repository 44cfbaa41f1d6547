#include "tests/crash/durability_audit.h"

#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace referral::crash {
namespace {

constexpr size_t kPage = 1000;

// What a case holds, by sequence: (event id, global position).
using CaseContents = std::map<uint64_t, std::pair<std::string, uint64_t>>;

class Problems {
 public:
  explicit Problems(DurabilityAudit* audit) : audit_(audit) {}
  void Add(std::string problem) {
    if (audit_->problems.size() < DurabilityAudit::kMaxDescribed) {
      audit_->problems.push_back(std::move(problem));
    }
    ++audit_->problem_count;
  }

 private:
  DurabilityAudit* audit_;
};

// Reads the global feed from position 1 and checks it is gapless up to the
// last position. Returns the cases it names.
std::set<std::string> AuditFeed(storage::EventStore& store,
                                DurabilityAudit& audit, Problems& problems) {
  std::set<std::string> cases;
  uint64_t expected = 1;
  uint64_t from = 1;
  while (from <= audit.last_position) {
    absl::StatusOr<storage::ReadAllResult> page =
        store.ReadAll(from, storage::EventFilter{}, kPage);
    if (!page.ok()) {
      problems.Add(absl::StrCat("reading the feed from ", from, ": ",
                                page.status().ToString()));
      return cases;
    }
    for (const storage::Event& e : page->events) {
      if (e.global_position() != expected) {
        problems.Add(absl::StrCat("the feed holds position ",
                                  e.global_position(), " where ", expected,
                                  " belongs"));
      }
      expected = e.global_position() + 1;
      cases.insert(e.subject());
      ++audit.feed_events;
    }
    if (page->next_position <= from) {
      problems.Add(absl::StrCat("the feed does not advance past ", from));
      return cases;
    }
    from = page->next_position;
  }
  if (audit.feed_events != audit.last_position) {
    problems.Add(absl::StrCat("the feed holds ", audit.feed_events,
                              " events but the last position is ",
                              audit.last_position));
  }
  return cases;
}

// Reads one case from sequence 1, checks it is gapless up to its version and
// that its hash chain verifies.
CaseContents AuditCase(storage::EventStore& store, const std::string& case_id,
                       DurabilityAudit& audit, Problems& problems) {
  CaseContents contents;
  ++audit.cases_examined;
  absl::StatusOr<uint64_t> version = store.CaseVersion(case_id);
  if (!version.ok()) {
    problems.Add(absl::StrCat("reading the version of ", case_id, ": ",
                              version.status().ToString()));
    return contents;
  }
  if (*version == 0) {
    problems.Add(absl::StrCat("case ", case_id, " has no events"));
    return contents;
  }
  audit.case_events += *version;
  uint64_t from = 1;
  uint64_t expected = 1;
  while (from != 0) {
    absl::StatusOr<storage::ReadCaseResult> page =
        store.ReadCase(case_id, from, storage::Direction::kForward, kPage);
    if (!page.ok()) {
      problems.Add(absl::StrCat("reading ", case_id, " from ", from, ": ",
                                page.status().ToString()));
      return contents;
    }
    for (const storage::Event& e : page->events) {
      if (e.sequence() != expected) {
        problems.Add(absl::StrCat(case_id, " holds sequence ", e.sequence(),
                                  " where ", expected, " belongs"));
      }
      expected = e.sequence() + 1;
      contents[e.sequence()] = {e.event_id(), e.global_position()};
    }
    from = page->next_sequence;
  }
  if (expected - 1 != *version) {
    problems.Add(absl::StrCat(case_id, " is at version ", *version,
                              " but its events end at ", expected - 1));
  }
  absl::StatusOr<storage::VerifyResult> verified = store.Verify(case_id);
  if (!verified.ok()) {
    problems.Add(absl::StrCat("verifying ", case_id, ": ",
                              verified.status().ToString()));
  } else if (!verified->intact) {
    problems.Add(
        absl::StrCat("the hash chain of ", case_id, " is broken at sequence ",
                     verified->first_bad_sequence, ": ", verified->problem));
  } else {
    ++audit.cases_intact;
  }
  return contents;
}

}  // namespace

std::string DurabilityAudit::Summary() const {
  return absl::StrCat(present, " of ", acknowledged,
                      " acknowledged events present; last position ",
                      last_position, ", ", feed_events, " events in the feed, ",
                      case_events, " in the cases; ", cases_intact, " of ",
                      cases_examined, " cases intact; ", problem_count,
                      " problems:\n  ", absl::StrJoin(problems, "\n  "));
}

DurabilityAudit AuditStore(storage::EventStore& store,
                           absl::Span<const Ack> acks) {
  DurabilityAudit audit;
  Problems problems(&audit);
  audit.acknowledged = acks.size();
  audit.last_position = store.LastPosition();

  std::set<std::string> cases = AuditFeed(store, audit, problems);
  for (const Ack& ack : acks) cases.insert(ack.case_id);
  std::map<std::string, CaseContents> contents;
  for (const std::string& case_id : cases) {
    contents[case_id] = AuditCase(store, case_id, audit, problems);
  }
  if (audit.case_events != audit.last_position) {
    problems.Add(absl::StrCat("the cases hold ", audit.case_events,
                              " events but the last position is ",
                              audit.last_position));
  }
  if (audit.last_position < acks.size()) {
    problems.Add(absl::StrCat("the last position is ", audit.last_position,
                              " but ", acks.size(),
                              " events were acknowledged"));
  }

  for (const Ack& ack : acks) {
    const CaseContents& c = contents[ack.case_id];
    auto it = c.find(ack.sequence);
    if (it == c.end()) {
      problems.Add(absl::StrCat("acknowledged event ", ack.event_id, " (",
                                ack.case_id, " #", ack.sequence, ", position ",
                                ack.position, ") is missing"));
    } else if (it->second.first != ack.event_id ||
               it->second.second != ack.position) {
      problems.Add(absl::StrCat(
          "acknowledged event ", ack.event_id, " (", ack.case_id, " #",
          ack.sequence, ", position ", ack.position, ") was replaced by ",
          it->second.first, " at position ", it->second.second));
    } else {
      ++audit.present;
    }
  }
  return audit;
}

std::vector<std::string> RetryAcknowledged(storage::EventStore& store,
                                           absl::Span<const Ack> acks) {
  std::vector<std::string> problems;
  size_t count = 0;
  auto add = [&](std::string problem) {
    if (problems.size() < DurabilityAudit::kMaxDescribed) {
      problems.push_back(std::move(problem));
    }
    ++count;
  };
  for (const Ack& ack : acks) {
    std::vector<storage::Event> events;
    events.push_back(NoteEvent(ack.event_id));
    absl::StatusOr<storage::AppendResult> r = store.Append(
        ack.case_id, storage::ExpectedVersion::Any(), std::move(events));
    if (!r.ok()) {
      add(absl::StrCat("retrying ", ack.event_id, ": ", r.status().ToString()));
    } else if (!r->deduplicated || r->first_sequence != ack.sequence ||
               r->first_position != ack.position) {
      add(absl::StrCat("retrying ", ack.event_id, " gave sequence ",
                       r->first_sequence, ", position ", r->first_position,
                       r->deduplicated ? "" : " and wrote it again",
                       "; acknowledged at sequence ", ack.sequence,
                       ", position ", ack.position));
    }
  }
  if (count > problems.size()) {
    problems.push_back(
        absl::StrCat("... ", count - problems.size(), " more retry problems"));
  }
  return problems;
}

}  // namespace referral::crash
