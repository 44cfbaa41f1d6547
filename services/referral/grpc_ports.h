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

class RemoteCaseLog final : public CaseLogPort {
 public:
  explicit RemoteCaseLog(client::CaseLogClient* client) : client_(client) {}
  absl::StatusOr<std::vector<v1::Event>> ReadCase(absl::string_view case_id) override {
    return ReadWholeCase(case_id, [this](const v1::ReadCaseRequest& r) {
      return client_->ReadCase(r);
    });
  }
  absl::StatusOr<v1::AppendResponse> Append(const v1::AppendRequest& r) override {
    return client_->Append(r);
  }
  absl::StatusOr<v1::ReadAllResponse> ReadAll(const v1::ReadAllRequest& r) override {
    return client_->ReadAll(r);
  }
  absl::StatusOr<uint64_t> GetCheckpoint(absl::string_view name) override {
    v1::GetCheckpointRequest r;
    r.set_name(std::string(name));
    auto cp = client_->GetCheckpoint(r);
    if (cp.status().code() == absl::StatusCode::kNotFound) return 0;
    if (!cp.ok()) return cp.status();
    return cp->checkpoint().position();
  }
  absl::Status SetCheckpoint(absl::string_view name, uint64_t position) override {
    v1::SetCheckpointRequest r;
    r.set_name(std::string(name));
    r.set_position(position);
    return client_->SetCheckpoint(r).status();
  }

 private:
  client::CaseLogClient* client_;
};

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
