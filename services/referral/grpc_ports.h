// The broker's ports over gRPC: the caselog and directory services.
//
// Thread safety: safe for concurrent use.

#ifndef REFERRAL_SERVICES_REFERRAL_GRPC_PORTS_H_
#define REFERRAL_SERVICES_REFERRAL_GRPC_PORTS_H_

#include <memory>

#include "clients/cpp/caselog_client.h"
#include "referral/v1/directory_service.grpc.pb.h"
#include "services/referral/local_ports.h"
#include "services/referral/ports.h"

namespace referral::broker {

using RemoteCaseLog = CaseLogPortOver<client::CaseLogClient>;

class RemoteDirectory final : public DirectoryPort {
 public:
  explicit RemoteDirectory(std::shared_ptr<grpc::Channel> channel)
      : stub_(v1::DirectoryService::NewStub(std::move(channel))) {}
  absl::StatusOr<v1::Node> GetNode(absl::string_view name) override;

 private:
  std::unique_ptr<v1::DirectoryService::Stub> stub_;
};

}  // namespace referral::broker

#endif  // REFERRAL_SERVICES_REFERRAL_GRPC_PORTS_H_
