#include "services/referral/grpc_ports.h"

#include "grpcpp/client_context.h"
#include "services/runtime/grpc_status.h"

namespace referral::broker {

absl::StatusOr<v1::Node> RemoteDirectory::GetNode(absl::string_view name) {
  {
    absl::MutexLock l(&mu_);
    if (auto it = known_.find(name); it != known_.end()) return it->second;
  }
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::GetNodeRequest req;
  req.set_name(std::string(name));
  v1::GetNodeResponse resp;
  grpc::Status s = stub_->GetNode(&context, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  absl::MutexLock l(&mu_);
  known_[std::string(name)] = resp.node();
  return resp.node();
}

}  // namespace referral::broker
