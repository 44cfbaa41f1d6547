// Scheduler: the deadlines service's core. It fires the durable timers that
// commands set in the case log (DeadlineSet, deadlines.h), exactly once per
// stage, and answers what is open. No gRPC: the case log and the directory
// are ports (services/referral/ports.h).
//
// Following the log. The scheduler reads the global feed by event type
// (DeadlineSet, DeadlineCleared, DeadlineWarned, DeadlineBreached,
// ReminderSent, EscalationRaised: the store's type index, so it never reads
// the referral traffic in between) and folds what it reads with DeadlineFold,
// case by case. It keeps every open deadline in memory, ordered by the time
// its next stage falls due.
//
// The checkpoints. Two durable low-water marks, read on the first round and
// never moved past what has been read:
//   - options.checkpoint: every DeadlineSet at or before it belongs to a
//     deadline with no stage left to fire: cleared, reminded, or breached
//     (the breach and its escalation are one append, and nothing follows
//     them). It is never moved past the DeadlineSet of a deadline still
//     pending or warned. A restart reads the feed from just after it, so it
//     rebuilds every deadline still to fire without rescanning the whole
//     log, and a breach nobody ever meets (an unpaid instalment) does not
//     hold it back.
//   - BreachedCheckpointName(options.checkpoint): every DeadlineBreached at
//     or before it belongs to a deadline met since. A restart reads only
//     the breaches after it (the type index: one event per breach, not
//     every deadline event) and reads their cases whole, so that an overdue
//     deadline whose DeadlineSet lies before the first checkpoint is still
//     listed, and still known as breached. A breach never met holds this
//     one.
// A crash anywhere leaves older marks, never newer ones: reading the same
// events again is harmless. A restart never fires a breached deadline
// again: it either never sees its DeadlineSet or reads its case and finds
// the breach, and Fire reads the case before it appends anyway.
//
// Firing a stage. When a stage's time has passed, the scheduler reads the
// case, folds its deadlines, and appends the stage only if the deadline is
// still open and the stage not yet recorded, with the case's version as the
// expected version (a concurrent writer makes it read and decide again):
//   - the warning time passed, the due time not yet: DeadlineWarned;
//   - the due time passed and the kind escalates (Kinds()): DeadlineBreached
//     and EscalationRaised in one append, both involving the responsible
//     node and the node escalated to (DeadlineSet.escalate_to, else the
//     responsible node's directory parent, else options.default_supervisor);
//   - the due time passed and the kind does not escalate: ReminderSent to
//     the notified nodes (the responsible node when none are named).
// A warning whose time passed together with the due time (the service was
// down) is not sent late: the breach says more.
//
// Exactly once. A stage's event ids are StageEventId(case, deadline, stage),
// so a second attempt, after a restart or from a second scheduler on the
// same log, finds the stage in the case or has its append refused as a
// duplicate, and records nothing.
//
// Thread safety: all methods may be called concurrently; rounds and reads
// are serialised on one mutex (a round is a few feed reads and, per due
// stage, a case read and an append).

#ifndef REFERRAL_SERVICES_DEADLINES_SCHEDULER_H_
#define REFERRAL_SERVICES_DEADLINES_SCHEDULER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "referral/v1/deadline_service.pb.h"
#include "services/deadlines/calendar.h"
#include "services/deadlines/deadlines.h"
#include "services/referral/ports.h"

namespace referral::deadlines {

struct SchedulerOptions {
  // The real clock, for Run(); RunOnce() takes the time it fires at.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // Where a breach escalates when the deadline names no target and the
  // responsible node has no directory parent (the district justice bureau
  // supervises the district's agencies, 督办).
  std::string default_supervisor = "qinzhou.justice";
  // The source of the events the scheduler records: a node name
  // (storage::ValidateNodeName), scoped to the deployment so that timers of
  // federated districts stay apart in a case that crosses them.
  std::string node = "qinzhou.deadlines";
  // How often Run() reads the log; it also wakes for the next due stage.
  absl::Duration poll_interval = absl::Seconds(1);
  // The durable checkpoint's name (see the class comment); the mark of the
  // breaches is named after it (BreachedCheckpointName).
  std::string checkpoint = "deadlines";
  // For ComputeDueTime; nullptr = a default Calendar owned by the scheduler.
  const Calendar* calendar = nullptr;
  // Decide-and-append attempts on one stage before the round gives up on it
  // (it is tried again next round).
  int max_attempts = 8;
};

// What one round did.
struct RoundResult {
  // Stages this round recorded (not those another writer had recorded).
  int warned = 0;
  int breached = 0;
  int reminded = 0;
  // The checkpoints after the round.
  uint64_t checkpoint = 0;
  uint64_t breached_checkpoint = 0;
};

// The name of the mark below every breach not yet met, for the scheduler
// whose checkpoint is `checkpoint`: "<checkpoint>.breached".
std::string BreachedCheckpointName(absl::string_view checkpoint);

class Scheduler {
 public:
  // The ports are not owned and must outlive the scheduler.
  Scheduler(broker::CaseLogPort* log, broker::DirectoryPort* directory,
            SchedulerOptions options = {});
  ~Scheduler();

  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // One round at `now` (tests pass their own time): reads the log on from
  // where it left off (the first round: from the checkpoint), fires every
  // stage due at `now`, then records the checkpoint. A stage that could not
  // be fired (directory or case log unavailable) stays due for the next
  // round, and the round's first such error is returned after the other
  // stages were tried.
  absl::StatusOr<RoundResult> RunOnce(absl::Time now);

  // Runs rounds at options.clock() until Stop(): every poll_interval, and
  // as soon as the next stage is due. Errors are logged and retried. Join
  // the thread running it before destroying the scheduler.
  void Run();
  // Makes Run() return after its current round. Safe from any thread.
  void Stop();

  // The open deadlines `request.node` (empty = the caller) is responsible
  // for or was escalated, soonest due first; with overdue_only, those past
  // their due time. The caller may list its own and those of the nodes it
  // supervises (directory parents, at any depth); others are NOT_A_PARTY.
  // Reads the log up to its end first.
  absl::StatusOr<v1::ListDeadlinesResponse> ListDeadlines(
      absl::string_view caller, const v1::ListDeadlinesRequest& request);

  // The close of the working day `request.working_days` (0..366) working
  // days after `request.start_time` (unset = now) on the calendar.
  absl::StatusOr<v1::ComputeDueTimeResponse> ComputeDueTime(
      const v1::ComputeDueTimeRequest& request) const;

  // When the next stage falls due; nullopt when nothing open is pending.
  std::optional<absl::Time> NextDue();

 private:
  // A deadline: (case id, deadline id).
  using Key = std::pair<std::string, std::string>;

  // What the scheduler knows of one case's deadlines.
  struct Tracked {
    DeadlineFold fold;
    // Global position of each deadline's DeadlineSet, and of its
    // DeadlineBreached once there is one.
    std::map<std::string, uint64_t, std::less<>> set_position;
    std::map<std::string, uint64_t, std::less<>> breach_position;
  };

  // The first round's reads: both checkpoints, then the cases of the
  // breaches after the second one (see the class comment).
  absl::Status Load() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Reads the feed from scanned_ + 1 to its end and folds it in.
  absl::Status CatchUp() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Folds one feed event into its case.
  void ApplyFeedEvent(const v1::Event& e) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Notes where a deadline's DeadlineSet or DeadlineBreached is.
  static void NotePosition(Tracked& t, const v1::Event& e);
  // Replaces what is known of a case with a fold of all its events.
  void Resync(const std::string& case_id, const std::vector<v1::Event>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Re-derives a case's entries in the schedule; forgets a case with no
  // open deadline.
  void Reschedule(const std::string& case_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Fires what is due of one deadline at `now`; returns the stage recorded
  // ("warn", "breach", "remind") or "" when nothing was.
  absl::StatusOr<std::string> Fire(const Key& key, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Where a breach of `set` escalates.
  absl::StatusOr<std::string> EscalationTarget(const v1::DeadlineSet& set);
  // The checkpoint the state allows: below the DeadlineSet of every
  // deadline still pending or warned, and no further than what was read.
  uint64_t LowWater() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The breaches' mark the state allows: below the DeadlineBreached of
  // every breached deadline not yet met, and no further than what was read.
  uint64_t BreachedLowWater() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `caller` supervises `node` (is an ancestor in the directory).
  absl::StatusOr<bool> Supervises(absl::string_view caller, absl::string_view node);
  absl::StatusOr<RoundResult> RunOnceLocked(absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  broker::CaseLogPort* log_;
  broker::DirectoryPort* directory_;
  SchedulerOptions options_;
  Calendar default_calendar_;
  const Calendar* calendar_;

  absl::Mutex mu_;
  bool loaded_ ABSL_GUARDED_BY(mu_) = false;
  // Every feed position up to here has been read.
  uint64_t scanned_ ABSL_GUARDED_BY(mu_) = 0;
  // The checkpoints as last recorded.
  uint64_t recorded_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t breached_recorded_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, Tracked, std::less<>> cases_ ABSL_GUARDED_BY(mu_);
  // Open deadlines by the time their next stage falls due.
  std::set<std::pair<absl::Time, Key>> schedule_ ABSL_GUARDED_BY(mu_);
  std::map<Key, absl::Time> scheduled_at_ ABSL_GUARDED_BY(mu_);

  absl::Mutex stop_mu_;
  bool stop_ ABSL_GUARDED_BY(stop_mu_) = false;
};

// The time a deadline's next stage falls due, or nullopt when it has none
// left (breached, reminded, cleared): the warning time while pending and
// before the due time, else the due time.
std::optional<absl::Time> NextStageTime(const v1::Deadline& deadline);

}  // namespace referral::deadlines

#endif  // REFERRAL_SERVICES_DEADLINES_SCHEDULER_H_
