// The broker's ports over gRPC: the caselog and directory services.
//
// Thread safety: safe for concurrent use.

#ifndef REFERRAL_SERVICES_REFERRAL_GRPC_PORTS_H_
#define REFERRAL_SERVICES_REFERRAL_GRPC_PORTS_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

#include "clients/cpp/caselog_client.h"
#include "referral/v1/directory_service.grpc.pb.h"
#include "services/referral/local_ports.h"
#include "services/referral/ports.h"
#include "services/runtime/identity.h"
#include "services/runtime/service_host.h"

namespace referral::broker {

using RemoteCaseLog = CaseLogPortOver<client::CaseLogClient>;

// The directory service, with the nodes it has named kept: the directory is
// loaded once at its start-up and never changes while it runs, and a lookup
// per command was a whole gRPC call (~300 us) on the command path.
class RemoteDirectory final : public DirectoryPort {
 public:
  explicit RemoteDirectory(std::shared_ptr<grpc::Channel> channel)
      : stub_(v1::DirectoryService::NewStub(std::move(channel))) {}
  absl::StatusOr<v1::Node> GetNode(absl::string_view name) override;

 private:
  std::unique_ptr<v1::DirectoryService::Stub> stub_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, v1::Node> known_ ABSL_GUARDED_BY(mu_);
};

// The case log and the directory over gRPC, as a service's main wires them:
// one channel each, mTLS as the service (or plaintext).
class RemotePorts {
 public:
  static absl::StatusOr<std::unique_ptr<RemotePorts>> Connect(
      const std::string& caselog_address, const std::string& directory_address,
      const std::optional<TlsFiles>& tls);

  CaseLogPort* log() { return &log_; }
  DirectoryPort* directory() { return &directory_; }
  // The case log's channel, for a service that also streams from it.
  std::shared_ptr<grpc::Channel> caselog_channel() const { return caselog_channel_; }

 private:
  RemotePorts(std::shared_ptr<grpc::Channel> caselog,
              std::shared_ptr<grpc::Channel> directory);

  std::shared_ptr<grpc::Channel> caselog_channel_;
  client::CaseLogClient caselog_client_;
  RemoteCaseLog log_;
  RemoteDirectory directory_;
};

// What a service's main() does before it has a core to build: its TLS files
// from --tls_ca/--tls_cert/--tls_key/--plaintext (ServingTls), and the case
// log and directory over gRPC as that identity. Each main still declares
// and reads its own flags; this is the shared wiring between them.
struct ServiceBackends {
  std::optional<TlsFiles> tls;
  std::unique_ptr<RemotePorts> ports;
};
absl::StatusOr<ServiceBackends> ConnectBackends(
    const std::string& tls_ca, const std::string& tls_cert, const std::string& tls_key,
    bool plaintext, const std::string& caselog_address,
    const std::string& directory_address);

// Starts serving `service` on `listen` (TLS as `tls`), its health reported
// under `health_name` and SERVING once started; the bound port is written to
// `port_file` when it is not empty.
absl::StatusOr<std::unique_ptr<ServiceHost>> StartServing(
    const std::string& listen, const std::string& port_file,
    const std::string& health_name, const std::optional<TlsFiles>& tls,
    grpc::Service* service);

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_GRPC_PORTS_H_
