#include "storage/commit_notifier.h"


namespace referral::storage {

CommitNotifier::CommitNotifier(uint64_t initial_position)
    : position_(initial_position), thread_([this] { Run(); }) {}

CommitNotifier::~CommitNotifier() {
  {
    absl::MutexLock l(&mu_);
    stopping_ = true;
    watches_.clear();
  }
  thread_.join();
}

void CommitNotifier::Publish(uint64_t position) {
  absl::MutexLock l(&mu_);
  if (position > position_) position_ = position;
}

uint64_t CommitNotifier::position() const {
  absl::MutexLock l(&mu_);
  return position_;
}

bool CommitNotifier::WaitBeyond(uint64_t position, absl::Time deadline) {
  absl::MutexLock l(&mu_);
  auto moved = [this, position]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return position_ > position || stopping_;
  };
  mu_.AwaitWithDeadline(absl::Condition(&moved), deadline);
  return position_ > position;
}

uint64_t CommitNotifier::WatchBeyond(uint64_t position,
                                     std::function<void()> callback) {
  absl::MutexLock l(&mu_);
  uint64_t id = next_id_++;
  watches_.emplace(position, Watch{id, std::move(callback)});
  return id;
}

bool CommitNotifier::Cancel(uint64_t watch_id) {
  absl::MutexLock l(&mu_);
  for (auto it = watches_.begin(); it != watches_.end(); ++it) {
    if (it->second.id == watch_id) {
      watches_.erase(it);
      return true;
    }
  }
  return false;
}

void CommitNotifier::Run() {
  // One callback at a time: a callback leaves the map only as it starts, so
  // Cancel() is exact about "not started".
  for (;;) {
    std::function<void()> callback;
    {
      absl::MutexLock l(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ ||
               (!watches_.empty() && watches_.begin()->first < position_);
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      callback = std::move(watches_.begin()->second.callback);
      watches_.erase(watches_.begin());
    }
    callback();
  }
}

}  // namespace referral::storage
