#include "services/referral/grpc_ports.h"

#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
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

RemotePorts::RemotePorts(std::shared_ptr<grpc::Channel> caselog,
                         std::shared_ptr<grpc::Channel> directory)
    : caselog_channel_(caselog),
      caselog_client_(std::move(caselog), {}),
      log_(&caselog_client_),
      directory_(std::move(directory)) {}

absl::StatusOr<std::unique_ptr<RemotePorts>> RemotePorts::Connect(
    const std::string& caselog_address, const std::string& directory_address,
    const std::optional<TlsFiles>& tls) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
      ChannelCredentialsFor(tls);
  if (!credentials.ok()) return credentials.status();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  return std::unique_ptr<RemotePorts>(new RemotePorts(
      grpc::CreateCustomChannel(caselog_address, *credentials, args),
      grpc::CreateCustomChannel(directory_address, *credentials, args)));
}

absl::StatusOr<ServiceBackends> ConnectBackends(
    const std::string& tls_ca, const std::string& tls_cert, const std::string& tls_key,
    bool plaintext, const std::string& caselog_address,
    const std::string& directory_address) {
  ServiceBackends out;
  absl::StatusOr<std::optional<TlsFiles>> tls =
      ServingTls(tls_ca, tls_cert, tls_key, plaintext);
  if (!tls.ok()) return tls.status();
  out.tls = *tls;
  absl::StatusOr<std::unique_ptr<RemotePorts>> ports =
      RemotePorts::Connect(caselog_address, directory_address, out.tls);
  if (!ports.ok()) return ports.status();
  out.ports = std::move(*ports);
  return out;
}

absl::StatusOr<std::unique_ptr<ServiceHost>> StartServing(
    const std::string& listen, const std::string& port_file,
    const std::string& health_name, const std::optional<TlsFiles>& tls,
    grpc::Service* service) {
  ServiceHostOptions options;
  options.listen = listen;
  options.port_file = port_file;
  options.health_names = {health_name};
  options.tls = tls;
  absl::StatusOr<std::unique_ptr<ServiceHost>> host = ServiceHost::Start(options, {service});
  if (host.ok()) (*host)->SetServing(true);
  return host;
}

}  // namespace referral::broker
