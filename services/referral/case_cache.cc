#include "services/referral/case_cache.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"

namespace referral::broker {

void CaseState::Apply(const v1::Event& e) {
  projection.Apply(e);
  deadlines.Apply(e);
  version = e.sequence();
  const std::string& id = e.event_id();
  if (!absl::StartsWith(id, "rq.")) return;
  const size_t dot = id.rfind('.');
  if (dot <= 2) return;
  auto [it, fresh] = commands.try_emplace(id.substr(0, dot));
  if (fresh) {
    it->second.digest = e.request_digest();
    it->second.first_sequence = e.sequence();
  }
  it->second.last_sequence = e.sequence();
}

const CaseState::Command* CaseState::FindCommand(absl::string_view prefix) const {
  auto it = commands.find(prefix);
  return it == commands.end() ? nullptr : &it->second;
}

CaseCache::CaseCache(CaseLogPort* log, size_t max_bytes)
    : log_(log), max_bytes_(max_bytes) {}

std::shared_ptr<CaseCache::Entry> CaseCache::Acquire(absl::string_view case_id) {
  absl::MutexLock l(&mu_);
  if (auto it = where_.find(case_id); it != where_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    return *it->second;
  }
  // Charged once its visit has folded it (Charge); a visit that finds no
  // case drops it again (Forget), so it never evicts a case for nothing.
  auto entry = std::make_shared<Entry>(case_id);
  lru_.push_front(entry);
  where_.emplace(std::string(case_id), lru_.begin());
  return entry;
}

void CaseCache::EvictLocked() {
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    Entry* last = lru_.back().get();
    bytes_ -= last->charged;
    where_.erase(last->case_id);
    lru_.pop_back();
    ++evictions_;
  }
}

void CaseCache::Charge(Entry* entry, size_t bytes) {
  absl::MutexLock l(&mu_);
  auto it = where_.find(entry->case_id);
  if (it == where_.end() || it->second->get() != entry) return;  // evicted meanwhile
  bytes_ -= entry->charged;
  if (bytes > max_bytes_) {
    // It alone would take everything: keep the others instead.
    lru_.erase(it->second);
    where_.erase(it);
    ++evictions_;
    return;
  }
  bytes_ += bytes;
  entry->charged = bytes;
  EvictLocked();
}

void CaseCache::Forget(Entry* entry) {
  absl::MutexLock l(&mu_);
  auto it = where_.find(entry->case_id);
  if (it == where_.end() || it->second->get() != entry) return;
  bytes_ -= entry->charged;
  lru_.erase(it->second);
  where_.erase(it);
}

void CaseCache::CountRead(size_t events) {
  absl::MutexLock l(&mu_);
  events_read_ += events;
}

absl::Status CaseCache::Visit(absl::string_view case_id,
                              const std::function<absl::Status(const CaseState&)>& use,
                              uint64_t upto) {
  std::shared_ptr<Entry> entry = Acquire(case_id);
  // One pass normally; another when a concurrent visit started the case
  // over meanwhile, or the log no longer continues what was folded.
  for (int pass = 0; pass < 3; ++pass) {
    uint64_t after;
    {
      absl::MutexLock l(&entry->mu);
      after = entry->state.version;
    }
    absl::StatusOr<CaseTail> tail = log_->ReadCaseFrom(case_id, after);
    if (!tail.ok() && tail.status().code() != absl::StatusCode::kNotFound) {
      absl::MutexLock l(&entry->mu);
      if (entry->state.version == 0) Forget(entry.get());  // keep no empty entry
      return tail.status();
    }
    if (tail.ok()) CountRead(tail->events.size());

    absl::MutexLock l(&entry->mu);
    CaseState& s = entry->state;
    if (!tail.ok()) {
      // No such case (any more): nothing to keep.
      s = CaseState();
      entry->bytes = kEntryOverhead;
      Forget(entry.get());
      static const CaseState kEmpty;
      return use(kEmpty);
    }
    if (tail->case_version < after || s.version < after) {
      // The log is behind what was folded (restored from an older copy,
      // or another log), or a concurrent visit just started over: fold
      // from the start.
      if (tail->case_version < after) {
        s = CaseState();
        entry->bytes = kEntryOverhead;
      }
      continue;
    }
    bool gap = false;
    for (const v1::Event& e : tail->events) {
      if (e.sequence() <= s.version) continue;  // folded by a visit that read later
      if (e.sequence() > upto) break;
      if (e.sequence() != s.version + 1) {
        gap = true;
        break;
      }
      s.Apply(e);
      entry->bytes += e.ByteSizeLong();
    }
    if (gap) {
      s = CaseState();
      entry->bytes = kEntryOverhead;
      continue;
    }
    Charge(entry.get(), entry->bytes);
    return use(s);
  }
  return MakeError(ErrorReason::kConcurrentModification,
                   absl::StrCat("case ", case_id,
                                " read back differently each time; retry with the same "
                                "request_id"),
                   "案件记录读取不一致，请用相同的请求编号重试");
}

absl::StatusOr<CaseProjection> CaseCache::ProjectionAt(absl::string_view case_id,
                                                       uint64_t sequence) {
  absl::StatusOr<std::vector<v1::Event>> events = log_->ReadCase(case_id);
  if (!events.ok()) return events.status();
  CountRead(events->size());
  CaseProjection p;
  for (const v1::Event& e : *events) {
    if (e.sequence() > sequence) break;
    p.Apply(e);
  }
  return p;
}

CaseCache::Stats CaseCache::stats() const {
  absl::MutexLock l(&mu_);
  return Stats{.cases = where_.size(),
               .bytes = bytes_,
               .max_bytes = max_bytes_,
               .events_read = events_read_,
               .evictions = evictions_};
}

bool CaseCache::Holds(absl::string_view case_id) const {
  absl::MutexLock l(&mu_);
  return where_.contains(case_id);
}

}  // namespace referral::broker
