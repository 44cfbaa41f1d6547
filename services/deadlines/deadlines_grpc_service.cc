#include "services/deadlines/deadlines_grpc_service.h"

#include "services/runtime/grpc_status.h"
#include "services/runtime/identity.h"

namespace referral::deadlines {

grpc::Status DeadlineGrpcService::ListDeadlines(grpc::ServerContext* context,
                                                const v1::ListDeadlinesRequest* request,
                                                v1::ListDeadlinesResponse* response) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(scheduler_->ListDeadlines(caller->node, *request), response);
}

grpc::Status DeadlineGrpcService::ComputeDueTime(grpc::ServerContext* context,
                                                 const v1::ComputeDueTimeRequest* request,
                                                 v1::ComputeDueTimeResponse* response) {
  absl::StatusOr<Caller> caller = CallerOf(*context);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Reply(scheduler_->ComputeDueTime(*request), response);
}

}  // namespace referral::deadlines
