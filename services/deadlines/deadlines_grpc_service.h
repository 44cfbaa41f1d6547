// DeadlineGrpcService adapts the Scheduler to referral.v1.DeadlineService:
// it learns the caller's node from the connection (identity.h), hands the
// request to the scheduler, and maps the answer or the error onto the wire.
//
// Thread safety: as grpc::Service requires.

#ifndef REFERRAL_SERVICES_DEADLINES_DEADLINES_GRPC_SERVICE_H_
#define REFERRAL_SERVICES_DEADLINES_DEADLINES_GRPC_SERVICE_H_

#include "referral/v1/deadline_service.grpc.pb.h"
#include "services/deadlines/scheduler.h"

namespace referral::deadlines {

class DeadlineGrpcService final : public v1::DeadlineService::Service {
 public:
  // Not owned; must outlive the service.
  explicit DeadlineGrpcService(Scheduler* scheduler) : scheduler_(scheduler) {}

  grpc::Status ListDeadlines(grpc::ServerContext* context,
                             const v1::ListDeadlinesRequest* request,
                             v1::ListDeadlinesResponse* response) override;
  grpc::Status ComputeDueTime(grpc::ServerContext* context,
                              const v1::ComputeDueTimeRequest* request,
                              v1::ComputeDueTimeResponse* response) override;

 private:
  Scheduler* scheduler_;
};

}  // namespace referral::deadlines

#endif  // REFERRAL_SERVICES_DEADLINES_DEADLINES_GRPC_SERVICE_H_
