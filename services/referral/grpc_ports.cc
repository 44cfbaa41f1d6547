#include "services/referral/grpc_ports.h"

#include "grpcpp/client_context.h"
#include "services/runtime/grpc_status.h"

namespace referral::broker {

absl::StatusOr<v1::Node> RemoteDirectory::GetNode(absl::string_view name) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  v1::GetNodeRequest req;
  req.set_name(std::string(name));
  v1::GetNodeResponse resp;
  grpc::Status s = stub_->GetNode(&context, req, &resp);
  if (!s.ok()) return FromGrpcStatus(s);
  return resp.node();
}

}  // namespace referral::broker
