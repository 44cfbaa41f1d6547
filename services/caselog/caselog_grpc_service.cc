#include "services/caselog/caselog_grpc_service.h"

#include <atomic>
#include <deque>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "common/errors.h"
#include "services/runtime/identity.h"
#include "services/runtime/grpc_status.h"

namespace referral::caselog {
namespace {

// Streams the global feed: pages of committed events, one write in flight at
// a time; when caught up, a one-shot commit watch wakes it. The reactor is
// freed when gRPC is done with it and no watch still refers to it.
class SubscribeReactor final
    : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  static constexpr size_t kPage = 256;

  SubscribeReactor(std::shared_ptr<storage::EventStore> store, uint64_t from,
                   storage::EventFilter filter)
      : store_(std::move(store)),
        cursor_(std::max<uint64_t>(from, 1)),
        filter_(std::move(filter)) {
    Pump();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock l(&mu_);
      writing_ = false;
      if (!ok) cancelled_ = true;
    }
    Pump();
  }

  void OnCancel() override {
    uint64_t watch = 0;
    {
      absl::MutexLock l(&mu_);
      cancelled_ = true;
      if (watching_) watch = watch_id_;
    }
    if (watch != 0 && store_->CancelWatch(watch)) {
      {
        absl::MutexLock l(&mu_);
        watching_ = false;
      }
      Unref();
    }
    Pump();
  }

  void OnDone() override { Unref(); }

 private:
  void Unref() {
    if (refs_.fetch_sub(1) == 1) delete this;
  }

  // Moves the stream forward by one step: finish, write, read a page, or
  // wait for a commit. Decides under the lock and acts outside it, because
  // Finish() may run OnDone() and free the reactor.
  void Pump() {
    enum class Action { kNone, kWrite, kFinish } action = Action::kNone;
    grpc::Status finish_status;
    {
      absl::MutexLock l(&mu_);
      if (finished_ || writing_ || watching_) return;
      if (cancelled_) {
        finished_ = true;
        action = Action::kFinish;
        finish_status = grpc::Status::CANCELLED;
      } else if (buffer_.empty() && !Refill(&finish_status)) {
        finished_ = true;
        action = Action::kFinish;
      } else if (!buffer_.empty()) {
        response_.Clear();
        response_.mutable_event()->Swap(&buffer_.front());
        buffer_.pop_front();
        writing_ = true;
        action = Action::kWrite;
      } else if (!caught_up_sent_) {
        caught_up_sent_ = true;
        response_.Clear();
        response_.mutable_caught_up()->set_position(cursor_ - 1);
        writing_ = true;
        action = Action::kWrite;
      } else {
        watching_ = true;
        refs_.fetch_add(1);
        watch_id_ = store_->WatchBeyond(cursor_ - 1, [this] {
          {
            absl::MutexLock l(&mu_);
            watching_ = false;
          }
          Pump();
          Unref();
        });
      }
    }
    if (action == Action::kWrite) StartWrite(&response_);
    if (action == Action::kFinish) Finish(finish_status);
  }

  // Reads the next page of committed events into buffer_. False (with
  // *error set) when the read fails.
  bool Refill(grpc::Status* error) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    absl::StatusOr<storage::ReadAllResult> page =
        store_->ReadAll(cursor_, filter_, kPage);
    if (!page.ok()) {
      *error = ToGrpcStatus(page.status());
      return false;
    }
    cursor_ = page->next_position;
    for (auto& e : page->events) buffer_.push_back(std::move(e));
    return true;
  }

  const std::shared_ptr<storage::EventStore> store_;
  // One reference for gRPC (dropped in OnDone), one per pending watch.
  std::atomic<int> refs_{1};

  absl::Mutex mu_;
  uint64_t cursor_ ABSL_GUARDED_BY(mu_);
  storage::EventFilter filter_;
  std::deque<storage::Event> buffer_ ABSL_GUARDED_BY(mu_);
  v1::SubscribeResponse response_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool watching_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t watch_id_ ABSL_GUARDED_BY(mu_) = 0;
  bool caught_up_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

class FailedReactor final
    : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  explicit FailedReactor(const absl::Status& status) {
    Finish(ToGrpcStatus(status));
  }
  void OnDone() override { delete this; }
};

}  // namespace

absl::Status CaseLogGrpcService::Admit(const grpc::ServerContextBase& context) const {
  if (admitted_.empty()) return absl::OkStatus();
  absl::StatusOr<Caller> caller = CallerOf(context);
  if (!caller.ok()) return caller.status();
  for (const std::string& name : admitted_) {
    if (caller->node == name) return absl::OkStatus();
  }
  return MakeError(
      ErrorReason::kNotAllowedForRole,
      absl::StrCat("the case log serves only the broker's own services (",
                   absl::StrJoin(admitted_, ", "), "), not ", caller->node,
                   ": read and change cases through the referral service "
                   "(refctl case, trace, verify, export)"),
      "案件日志只对系统内部服务开放，请通过转介服务访问案件");
}

grpc::Status CaseLogGrpcService::Append(grpc::ServerContext* context,
                                        const v1::AppendRequest* request,
                                        v1::AppendResponse* response) {
  if (absl::Status admit = Admit(*context); !admit.ok()) return ToGrpcStatus(admit);
  return Reply(core_->Append(*request), response);
}

grpc::Status CaseLogGrpcService::ReadCase(grpc::ServerContext* context,
                                          const v1::ReadCaseRequest* request,
                                          v1::ReadCaseResponse* response) {
  if (absl::Status admit = Admit(*context); !admit.ok()) return ToGrpcStatus(admit);
  return Reply(core_->ReadCase(*request), response);
}

grpc::Status CaseLogGrpcService::ReadAll(grpc::ServerContext* context,
                                         const v1::ReadAllRequest* request,
                                         v1::ReadAllResponse* response) {
  if (absl::Status admit = Admit(*context); !admit.ok()) return ToGrpcStatus(admit);
  return Reply(core_->ReadAll(*request), response);
}

grpc::Status CaseLogGrpcService::VerifyCase(
    grpc::ServerContext* context, const v1::VerifyCaseRequest* request,
    v1::VerifyCaseResponse* response) {
  if (absl::Status admit = Admit(*context); !admit.ok()) return ToGrpcStatus(admit);
  return Reply(core_->VerifyCase(*request), response);
}

grpc::Status CaseLogGrpcService::GetCheckpoint(
    grpc::ServerContext* context, const v1::GetCheckpointRequest* request,
    v1::GetCheckpointResponse* response) {
  if (absl::Status admit = Admit(*context); !admit.ok()) return ToGrpcStatus(admit);
  return Reply(core_->GetCheckpoint(*request), response);
}

grpc::Status CaseLogGrpcService::SetCheckpoint(
    grpc::ServerContext* context, const v1::SetCheckpointRequest* request,
    v1::SetCheckpointResponse* response) {
  if (absl::Status admit = Admit(*context); !admit.ok()) return ToGrpcStatus(admit);
  return Reply(core_->SetCheckpoint(*request), response);
}

grpc::ServerWriteReactor<v1::SubscribeResponse>* CaseLogGrpcService::Subscribe(
    grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) {
  if (absl::Status admit = Admit(*context); !admit.ok()) return new FailedReactor(admit);
  auto parsed = core_->ParseSubscribe(*request);
  if (!parsed.ok()) return new FailedReactor(parsed.status());
  auto store = core_->store();
  if (!store.ok()) return new FailedReactor(store.status());
  return new SubscribeReactor(*std::move(store), parsed->first,
                              std::move(parsed->second));
}

}  // namespace referral::caselog
