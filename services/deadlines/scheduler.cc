#include "services/deadlines/scheduler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/log.h"
#include "common/timestamps.h"
#include "common/status_macros.h"
#include "google/protobuf/util/time_util.h"
#include "storage/event_store.h"

namespace referral::deadlines {
namespace {

using google::protobuf::util::TimeUtil;

constexpr int kFeedPage = 1000;
constexpr int kMaxWorkingDays = 366;
// Directory depth walked when checking supervision (district, town,
// village: three levels; a loop in a bad directory must still end).
constexpr int kMaxDepth = 16;

google::protobuf::Timestamp Ts(absl::Time t) { return ProtoTime(t); }

// The event types the scheduler follows: everything DeadlineFold reads.
const std::vector<std::string>& FeedTypes() {
  static const auto* kTypes = new std::vector<std::string>{
      v1::DeadlineSet::descriptor()->full_name(),
      v1::DeadlineCleared::descriptor()->full_name(),
      v1::DeadlineWarned::descriptor()->full_name(),
      v1::DeadlineBreached::descriptor()->full_name(),
      v1::ReminderSent::descriptor()->full_name(),
      v1::EscalationRaised::descriptor()->full_name(),
  };
  return *kTypes;
}

bool IsConflict(const absl::Status& s) {
  return s.code() == absl::StatusCode::kAborted;
}

bool IsDuplicateId(const absl::Status& s) {
  return s.code() == absl::StatusCode::kAlreadyExists &&
         ViewError(s).reason == "EVENT_ID_REUSED";
}

void Involve(v1::Event* e, std::initializer_list<std::string> nodes) {
  std::set<std::string> unique(nodes);
  unique.erase("");
  for (const auto& n : unique) e->add_involved_nodes(n);
}

}  // namespace

std::optional<absl::Time> NextStageTime(const v1::Deadline& d) {
  if (d.state() != v1::DEADLINE_STATE_PENDING &&
      d.state() != v1::DEADLINE_STATE_WARNED) {
    return std::nullopt;
  }
  const absl::Time due = TimeOf(d.set().due_time());
  if (d.state() == v1::DEADLINE_STATE_PENDING && d.set().has_warn_time()) {
    const absl::Time warn = TimeOf(d.set().warn_time());
    if (warn < due) return warn;
  }
  return due;
}

std::string BreachedCheckpointName(absl::string_view checkpoint) {
  return absl::StrCat(checkpoint, ".breached");
}

Scheduler::Scheduler(broker::CaseLogPort* log, broker::DirectoryPort* directory,
                     SchedulerOptions options)
    : log_(log),
      directory_(directory),
      options_(std::move(options)),
      calendar_(options_.calendar != nullptr ? options_.calendar
                                             : &default_calendar_) {}

Scheduler::~Scheduler() = default;

// ------------------------------------------------------------------ the feed

absl::Status Scheduler::Load() {
  ASSIGN_OR_RETURN(const uint64_t checkpoint, log_->GetCheckpoint(options_.checkpoint));
  ASSIGN_OR_RETURN(const uint64_t breached,
                   log_->GetCheckpoint(BreachedCheckpointName(options_.checkpoint)));
  // Every breach after the second mark, up to the log's end: a breach past
  // the first mark may still belong to a DeadlineSet before it, which the
  // feed will not show.
  std::set<std::string> cases;
  v1::ReadAllRequest req;
  req.set_from_position(breached + 1);
  req.mutable_filter()->set_event_type(v1::DeadlineBreached::descriptor()->full_name());
  req.set_page_size(kFeedPage);
  for (;;) {
    ASSIGN_OR_RETURN(v1::ReadAllResponse page, log_->ReadAll(req));
    for (const v1::Event& e : page.events()) cases.insert(e.subject());
    if (page.events_size() < kFeedPage) break;
    req.set_from_position(page.next_position());
  }
  for (const std::string& case_id : cases) {
    ASSIGN_OR_RETURN(std::vector<v1::Event> events, log_->ReadCase(case_id));
    Resync(case_id, events);
  }
  scanned_ = recorded_ = checkpoint;
  breached_recorded_ = breached;
  loaded_ = true;
  return absl::OkStatus();
}

absl::Status Scheduler::CatchUp() {
  if (!loaded_) RETURN_IF_ERROR(Load());
  // Each type is read separately through the type index; all of them up to
  // one end position, then merged back into log order.
  std::vector<v1::Event> read;
  std::optional<uint64_t> end;
  for (const std::string& type : FeedTypes()) {
    v1::ReadAllRequest req;
    req.set_from_position(scanned_ + 1);
    req.mutable_filter()->set_event_type(type);
    req.set_page_size(kFeedPage);
    for (;;) {
      ASSIGN_OR_RETURN(v1::ReadAllResponse page, log_->ReadAll(req));
      if (!end) end = page.last_position();
      bool past_end = false;
      for (auto& e : *page.mutable_events()) {
        if (e.global_position() > *end) {
          past_end = true;
          break;
        }
        read.push_back(std::move(e));
      }
      if (past_end || page.events_size() < kFeedPage || page.next_position() > *end) {
        break;
      }
      req.set_from_position(page.next_position());
    }
  }
  std::sort(read.begin(), read.end(), [](const v1::Event& a, const v1::Event& b) {
    return a.global_position() < b.global_position();
  });
  std::set<std::string> touched;
  for (const v1::Event& e : read) {
    ApplyFeedEvent(e);
    touched.insert(e.subject());
  }
  for (const std::string& case_id : touched) Reschedule(case_id);
  if (end && *end > scanned_) scanned_ = *end;
  return absl::OkStatus();
}

void Scheduler::NotePosition(Tracked& t, const v1::Event& e) {
  if (e.has_deadline_set()) {
    // Set again: a breach of the earlier setting no longer stands.
    t.set_position[e.deadline_set().deadline_id()] = e.global_position();
    t.breach_position.erase(e.deadline_set().deadline_id());
  } else if (e.has_deadline_breached()) {
    // The first breach: a second one under another id changes nothing.
    t.breach_position.emplace(e.deadline_breached().deadline_id(), e.global_position());
  }
}

void Scheduler::ApplyFeedEvent(const v1::Event& e) {
  Tracked& t = cases_[e.subject()];
  t.fold.Apply(e);
  NotePosition(t, e);
}

void Scheduler::Resync(const std::string& case_id,
                       const std::vector<v1::Event>& events) {
  Tracked t;
  t.fold = DeadlineFold::Of(events);
  for (const v1::Event& e : events) NotePosition(t, e);
  cases_[case_id] = std::move(t);
  Reschedule(case_id);
}

void Scheduler::Reschedule(const std::string& case_id) {
  for (auto s = scheduled_at_.lower_bound(Key(case_id, ""));
       s != scheduled_at_.end() && s->first.first == case_id;) {
    schedule_.erase({s->second, s->first});
    s = scheduled_at_.erase(s);
  }
  auto it = cases_.find(case_id);
  if (it == cases_.end()) return;
  bool any_open = false;
  for (const auto& [id, d] : it->second.fold.all()) {
    if (!it->second.fold.IsOpen(id)) continue;
    any_open = true;
    if (std::optional<absl::Time> at = NextStageTime(d)) {
      Key key(case_id, id);
      schedule_.insert({*at, key});
      scheduled_at_[key] = *at;
    }
  }
  // A case whose deadlines are all closed holds nothing the checkpoint or
  // a list needs.
  if (!any_open) cases_.erase(it);
}

uint64_t Scheduler::LowWater() const {
  uint64_t low = scanned_;
  for (const auto& [case_id, t] : cases_) {
    for (const auto& [id, d] : t.fold.all()) {
      if (d.state() != v1::DEADLINE_STATE_PENDING &&
          d.state() != v1::DEADLINE_STATE_WARNED) {
        continue;
      }
      auto p = t.set_position.find(id);
      if (p != t.set_position.end() && p->second > 0) low = std::min(low, p->second - 1);
    }
  }
  return low;
}

uint64_t Scheduler::BreachedLowWater() const {
  uint64_t low = scanned_;
  for (const auto& [case_id, t] : cases_) {
    for (const auto& [id, d] : t.fold.all()) {
      if (d.state() != v1::DEADLINE_STATE_BREACHED) continue;
      auto p = t.breach_position.find(id);
      if (p != t.breach_position.end() && p->second > 0) low = std::min(low, p->second - 1);
    }
  }
  return low;
}

// ------------------------------------------------------------------ firing

absl::StatusOr<std::string> Scheduler::EscalationTarget(const v1::DeadlineSet& set) {
  if (!set.escalate_to().empty()) return set.escalate_to();
  absl::StatusOr<v1::Node> node = directory_->GetNode(set.responsible_node());
  if (node.ok()) {
    if (!node->parent().empty()) return node->parent();
  } else if (node.status().code() != absl::StatusCode::kNotFound) {
    // The directory is down: escalating to a guess would be wrong for good.
    return node.status();
  }
  return options_.default_supervisor;
}

absl::StatusOr<std::string> Scheduler::Fire(const Key& key, absl::Time now) {
  const auto& [case_id, deadline_id] = key;
  for (int attempt = 0; attempt < options_.max_attempts; ++attempt) {
    ASSIGN_OR_RETURN(std::vector<v1::Event> events, log_->ReadCase(case_id));
    const DeadlineFold fold = DeadlineFold::Of(events);
    const v1::Deadline* d = fold.Find(deadline_id);
    std::vector<v1::Event> stage;
    std::string stage_name;
    if (d != nullptr && (d->state() == v1::DEADLINE_STATE_PENDING ||
                         d->state() == v1::DEADLINE_STATE_WARNED)) {
      const v1::DeadlineSet& set = d->set();
      const KindRule& rule = RuleFor(set.kind());
      if (now >= TimeOf(set.due_time())) {
        if (rule.escalates) {
          ASSIGN_OR_RETURN(std::string to, EscalationTarget(set));
          stage_name = "breach";
          v1::Event breach;
          auto* b = breach.mutable_deadline_breached();
          b->set_deadline_id(deadline_id);
          b->set_kind(set.kind());
          b->set_subject_id(set.subject_id());
          b->set_responsible_node(set.responsible_node());
          *b->mutable_due_time() = set.due_time();
          Involve(&breach, {set.responsible_node(), to});
          breach.set_event_id(StageEventId(case_id, deadline_id, "breach"));
          v1::Event raise;
          auto* r = raise.mutable_escalation_raised();
          r->set_deadline_id(deadline_id);
          r->set_to_node(to);
          r->set_from_node(set.responsible_node());
          r->set_level(1);
          r->set_reason(absl::StrCat(
              set.description().empty() ? rule.zh : set.description(),
              "逾期未办 (overdue: ", rule.en, ")"));
          Involve(&raise, {set.responsible_node(), to});
          raise.set_event_id(StageEventId(case_id, deadline_id, "escalate"));
          stage.push_back(std::move(breach));
          stage.push_back(std::move(raise));
        } else {
          stage_name = "remind";
          v1::Event remind;
          auto* r = remind.mutable_reminder_sent();
          r->set_deadline_id(deadline_id);
          r->set_subject_id(set.subject_id());
          if (set.notify_nodes().empty()) {
            r->add_nodes(set.responsible_node());
          } else {
            *r->mutable_nodes() = set.notify_nodes();
          }
          for (const auto& n : std::set<std::string>(r->nodes().begin(), r->nodes().end())) {
            if (!n.empty()) remind.add_involved_nodes(n);
          }
          remind.set_event_id(StageEventId(case_id, deadline_id, "remind"));
          stage.push_back(std::move(remind));
        }
      } else if (d->state() == v1::DEADLINE_STATE_PENDING && set.has_warn_time() &&
                 now >= TimeOf(set.warn_time())) {
        stage_name = "warn";
        v1::Event warn;
        warn.mutable_deadline_warned()->set_deadline_id(deadline_id);
        *warn.mutable_deadline_warned()->mutable_due_time() = set.due_time();
        Involve(&warn, {set.responsible_node()});
        warn.set_event_id(StageEventId(case_id, deadline_id, "warn"));
        stage.push_back(std::move(warn));
      }
    }
    if (stage.empty()) {
      // Cleared, already fired, or not yet due: what the case says wins.
      Resync(case_id, events);
      return std::string();
    }
    std::string causation;
    for (const v1::Event& e : events) {
      if (e.has_deadline_set() && e.deadline_set().deadline_id() == deadline_id) {
        causation = e.event_id();
      }
    }
    v1::AppendRequest append;
    append.set_case_id(case_id);
    append.set_expected(v1::EXPECTED_VERSION_EXACT);
    append.set_expected_version(events.empty() ? 0 : events.back().sequence());
    for (v1::Event& e : stage) {
      e.set_source(options_.node);
      e.mutable_actor()->set_node(options_.node);
      e.set_correlation_id(case_id);
      e.set_causation_id(causation);
      *e.mutable_time() = Ts(now);
      *append.add_events() = std::move(e);
    }
    absl::StatusOr<v1::AppendResponse> appended = log_->Append(append);
    if (!appended.ok() && IsConflict(appended.status())) continue;
    if (!appended.ok() && !IsDuplicateId(appended.status())) return appended.status();
    // Recorded now, or already by another writer: fold the case as it is.
    ASSIGN_OR_RETURN(events, log_->ReadCase(case_id));
    Resync(case_id, events);
    if (!appended.ok() || appended->deduplicated()) return std::string();
    LOG_INFO("deadline {} of {}: {} recorded", deadline_id, case_id, stage_name);
    return stage_name;
  }
  return MakeError(ErrorReason::kConcurrentModification,
                   absl::StrCat(case_id, " kept changing while deadline ", deadline_id,
                                " was fired; it is tried again next round"),
                   "案件正被频繁修改，下一轮将重试");
}

absl::StatusOr<RoundResult> Scheduler::RunOnce(absl::Time now) {
  absl::MutexLock lock(&mu_);
  return RunOnceLocked(now);
}

absl::StatusOr<RoundResult> Scheduler::RunOnceLocked(absl::Time now) {
  RETURN_IF_ERROR(CatchUp());
  RoundResult result;
  std::vector<Key> due;
  for (auto it = schedule_.begin(); it != schedule_.end() && it->first <= now; ++it) {
    due.push_back(it->second);
  }
  absl::Status first_error;
  for (const Key& key : due) {
    absl::StatusOr<std::string> stage = Fire(key, now);
    if (!stage.ok()) {
      LOG_WARN("deadline {} of {} not fired: {}", key.second, key.first,
               stage.status().ToString());
      if (first_error.ok()) first_error = stage.status();
      continue;
    }
    if (*stage == "warn") ++result.warned;
    if (*stage == "breach") ++result.breached;
    if (*stage == "remind") ++result.reminded;
  }
  // Each mark holds on its own: a crash between the two leaves one older.
  const uint64_t low = LowWater();
  if (low > recorded_) {
    RETURN_IF_ERROR(log_->SetCheckpoint(options_.checkpoint, low));
    recorded_ = low;
  }
  const uint64_t breached_low = BreachedLowWater();
  if (breached_low > breached_recorded_) {
    RETURN_IF_ERROR(log_->SetCheckpoint(BreachedCheckpointName(options_.checkpoint),
                                        breached_low));
    breached_recorded_ = breached_low;
  }
  result.checkpoint = recorded_;
  result.breached_checkpoint = breached_recorded_;
  if (!first_error.ok()) return first_error;
  return result;
}

std::optional<absl::Time> Scheduler::NextDue() {
  absl::MutexLock lock(&mu_);
  if (schedule_.empty()) return std::nullopt;
  return schedule_.begin()->first;
}

void Scheduler::Run() {
  for (;;) {
    {
      absl::MutexLock l(&stop_mu_);
      if (stop_) return;
    }
    absl::Duration wait = options_.poll_interval;
    absl::StatusOr<RoundResult> round = RunOnce(options_.clock());
    if (!round.ok()) {
      LOG_WARN("deadline round: {}; retrying in {}", round.status().ToString(),
               absl::FormatDuration(wait));
    } else if (std::optional<absl::Time> next = NextDue()) {
      wait = std::clamp(*next - options_.clock(), absl::Milliseconds(1), wait);
    }
    stop_mu_.LockWhenWithTimeout(absl::Condition(&stop_), wait);
    const bool stopping = stop_;
    stop_mu_.Unlock();
    if (stopping) return;
  }
}

void Scheduler::Stop() {
  absl::MutexLock l(&stop_mu_);
  stop_ = true;
}

// ------------------------------------------------------------------ reads

absl::StatusOr<bool> Scheduler::Supervises(absl::string_view caller,
                                           absl::string_view node) {
  ASSIGN_OR_RETURN(v1::Node n, directory_->GetNode(node));
  for (int depth = 0; depth < kMaxDepth && !n.parent().empty(); ++depth) {
    if (n.parent() == caller) return true;
    absl::StatusOr<v1::Node> up = directory_->GetNode(n.parent());
    if (!up.ok()) return false;
    n = std::move(*up);
  }
  return false;
}

absl::StatusOr<v1::ListDeadlinesResponse> Scheduler::ListDeadlines(
    absl::string_view caller, const v1::ListDeadlinesRequest& request) {
  const std::string node = request.node().empty() ? std::string(caller) : request.node();
  RETURN_IF_ERROR(storage::ValidateNodeName(node, "node"));
  if (node != caller) {
    ASSIGN_OR_RETURN(bool supervises, Supervises(caller, node));
    if (!supervises) {
      return MakeError(ErrorReason::kNotAParty,
                       absl::StrCat("node ", caller, " may list only its own deadlines "
                                    "and those of the nodes it supervises, not ", node),
                       "只能查看本机构及所督办下级机构的时限", {.field = "node"});
    }
  }
  absl::MutexLock lock(&mu_);
  RETURN_IF_ERROR(CatchUp());
  const absl::Time now = options_.clock();
  v1::ListDeadlinesResponse out;
  for (const auto& [case_id, t] : cases_) {
    for (const auto& [id, d] : t.fold.all()) {
      if (!t.fold.IsOpen(id)) continue;
      if (d.set().responsible_node() != node && d.escalated_to() != node) continue;
      const bool overdue = d.state() == v1::DEADLINE_STATE_BREACHED ||
                           TimeOf(d.set().due_time()) <= now;
      if (request.overdue_only() && !overdue) continue;
      *out.add_deadlines() = d;
    }
  }
  std::sort(out.mutable_deadlines()->begin(), out.mutable_deadlines()->end(),
            [](const v1::Deadline& a, const v1::Deadline& b) {
              const absl::Time ta = TimeOf(a.set().due_time());
              const absl::Time tb = TimeOf(b.set().due_time());
              if (ta != tb) return ta < tb;
              if (a.case_id() != b.case_id()) return a.case_id() < b.case_id();
              return a.set().deadline_id() < b.set().deadline_id();
            });
  return out;
}

absl::StatusOr<v1::ComputeDueTimeResponse> Scheduler::ComputeDueTime(
    const v1::ComputeDueTimeRequest& request) const {
  if (request.working_days() < 0 || request.working_days() > kMaxWorkingDays) {
    return MakeError(ErrorReason::kInvalidField,
                     absl::StrCat("working_days must be 0 (the same working day) to ",
                                  kMaxWorkingDays, ", not ", request.working_days()),
                     absl::StrCat("工作日数应在 0 到 ", kMaxWorkingDays, " 之间"),
                     {.field = "working_days"});
  }
  const absl::Time start =
      request.has_start_time() ? TimeOf(request.start_time()) : options_.clock();
  v1::ComputeDueTimeResponse out;
  *out.mutable_due_time() = Ts(calendar_->DueAfter(start, request.working_days()));
  out.set_calendar(calendar_->name());
  return out;
}

}  // namespace referral::deadlines
