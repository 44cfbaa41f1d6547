// The one place where absl::Status meets grpc::Status.
//
// A domain error (common/errors.h) carries its google.rpc detail messages as
// status payloads; ToGrpcStatus packs them into a google.rpc.Status in the
// `grpc-status-details-bin` trailer, and FromGrpcStatus unpacks them on the
// client side, so ViewError() reads the same reason on both ends. A status
// without an ErrorInfo (a bug, or a transport failure) still gets one whose
// reason is the code's name, so every error a caller sees has a reason.

#ifndef REFERRAL_SERVICES_RUNTIME_GRPC_STATUS_H_
#define REFERRAL_SERVICES_RUNTIME_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "grpcpp/support/status.h"

namespace referral {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

// A unary handler's whole job: the core's answer into `response`, or its
// error onto the wire.
template <typename Response>
grpc::Status Reply(absl::StatusOr<Response> result, Response* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace referral

#endif  // REFERRAL_SERVICES_RUNTIME_GRPC_STATUS_H_
