// CommitNotifier tells waiters that the committed global position moved.
// The writer publishes after each durable group commit; blocking readers
// wait with WaitBeyond(); non-blocking readers (gRPC reactors) register
// one-shot callbacks that run on the notifier's own thread, so a writer never
// runs subscriber code.
//
// Thread safety: all methods may be called from any thread.

#ifndef REFERRAL_STORAGE_COMMIT_NOTIFIER_H_
#define REFERRAL_STORAGE_COMMIT_NOTIFIER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace referral::storage {

class CommitNotifier {
 public:
  explicit CommitNotifier(uint64_t initial_position);
  // Drops pending watches without running them, then joins the thread.
  ~CommitNotifier();
  CommitNotifier(const CommitNotifier&) = delete;
  CommitNotifier& operator=(const CommitNotifier&) = delete;

  // Records that everything up to `position` is committed. Cheap; never runs
  // callbacks on the caller's thread.
  void Publish(uint64_t position);

  uint64_t position() const;

  // Blocks until position() > `position` or `deadline`; true if it moved.
  bool WaitBeyond(uint64_t position, absl::Time deadline);

  // Runs `callback` once on the notifier thread when position() > `position`.
  uint64_t WatchBeyond(uint64_t position, std::function<void()> callback);

  // True when the callback was removed before it started.
  bool Cancel(uint64_t watch_id);

 private:
  struct Watch {
    uint64_t id;
    std::function<void()> callback;
  };
  void Run();

  mutable absl::Mutex mu_;
  uint64_t position_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  // Keyed by the position a watch waits to be exceeded.
  std::multimap<uint64_t, Watch> watches_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace referral::storage

#endif  // REFERRAL_STORAGE_COMMIT_NOTIFIER_H_
