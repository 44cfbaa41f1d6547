// The console's ports over gRPC. Each call acts as the node the person at
// the desk picked: with --pki, over a channel that presents that node's
// certificate (DIR/<node>.pem and .key, trusting DIR/ca.pem); with
// --plaintext (tests), over a plaintext channel with the node in the
// x-referral-node metadata. One channel per (service address, node),
// created on first use and kept.
//
// Thread safety: everything here is safe for concurrent use.

#ifndef REFERRAL_SERVICES_GATEWAY_GRPC_PORTS_H_
#define REFERRAL_SERVICES_GATEWAY_GRPC_PORTS_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"
#include "services/gateway/ports.h"

namespace referral::gateway {

// The node certificates in a tools/pki.sh directory: every <name>.pem with
// a <name>.key beside it, sorted, except the CA's and the services' own
// (caselog, referral, ...). A node name is dotted (district.agency, e.g.
// qinzhou.justice); a service identity is one word.
// INVALID_ARGUMENT (CONFIG_INVALID) when DIR cannot be read.
absl::StatusOr<std::vector<std::string>> NodeCertificatesIn(const std::string& pki_dir);

class NodeChannels {
 public:
  // With `pki_dir`: mTLS as each of `nodes`; every node's files are checked
  // now (INVALID_ARGUMENT, CONFIG_INVALID, naming the file and what to run).
  // Without: plaintext. Every call gets `timeout`.
  static absl::StatusOr<std::unique_ptr<NodeChannels>> Create(
      std::optional<std::string> pki_dir, const std::vector<std::string>& nodes,
      absl::Duration timeout);

  // The channel to `address` as `node`; PERMISSION_DENIED (NODE_NOT_SERVED)
  // for a node Create() was not given.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> Channel(const std::string& address,
                                                         absl::string_view node);

  // Sets up one call as `node`: its deadline, and on plaintext the node
  // metadata.
  void Prepare(grpc::ClientContext* context, absl::string_view node) const;

 private:
  NodeChannels(std::map<std::string, std::shared_ptr<grpc::ChannelCredentials>, std::less<>> creds,
               absl::Duration timeout)
      : credentials_(std::move(creds)), timeout_(timeout) {}

  const std::map<std::string, std::shared_ptr<grpc::ChannelCredentials>, std::less<>>
      credentials_;
  const absl::Duration timeout_;
  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<grpc::Channel>> channels_
      ABSL_GUARDED_BY(mu_);
};

class GrpcReferralPort final : public ReferralPort {
 public:
  GrpcReferralPort(NodeChannels* channels, std::string address)
      : channels_(channels), address_(std::move(address)) {}
  absl::StatusOr<v1::ListCasesResponse> ListCases(absl::string_view node,
                                                  const v1::ListCasesRequest& r) override;
  absl::StatusOr<v1::SearchCasesResponse> SearchCases(absl::string_view node,
                                                      const v1::SearchCasesRequest& r) override;
  absl::StatusOr<v1::GetCaseResponse> GetCase(absl::string_view node,
                                              const v1::GetCaseRequest& r) override;
  absl::StatusOr<v1::TraceCaseResponse> TraceCase(absl::string_view node,
                                                  const v1::TraceCaseRequest& r) override;
  absl::StatusOr<v1::ListReferralsResponse> ListReferrals(
      absl::string_view node, const v1::ListReferralsRequest& r) override;
  absl::StatusOr<v1::GetBacklogResponse> GetBacklog(absl::string_view node,
                                                    const v1::GetBacklogRequest& r) override;
  absl::StatusOr<v1::ReceiveReferralResponse> ReceiveReferral(
      absl::string_view node, const v1::ReceiveReferralRequest& r) override;
  absl::StatusOr<v1::AcceptReferralResponse> AcceptReferral(
      absl::string_view node, const v1::AcceptReferralRequest& r) override;

 private:
  NodeChannels* channels_;
  std::string address_;
};

class GrpcMediationPort final : public MediationPort {
 public:
  GrpcMediationPort(NodeChannels* channels, std::string address)
      : channels_(channels), address_(std::move(address)) {}
  absl::StatusOr<v1::ListMeetingsResponse> ListMeetings(
      absl::string_view node, const v1::ListMeetingsRequest& r) override;

 private:
  NodeChannels* channels_;
  std::string address_;
};

class GrpcDeadlinePort final : public DeadlinePort {
 public:
  GrpcDeadlinePort(NodeChannels* channels, std::string address)
      : channels_(channels), address_(std::move(address)) {}
  absl::StatusOr<v1::ListDeadlinesResponse> ListDeadlines(
      absl::string_view node, const v1::ListDeadlinesRequest& r) override;

 private:
  NodeChannels* channels_;
  std::string address_;
};

class GrpcDirectoryPort final : public DirectoryPort {
 public:
  GrpcDirectoryPort(NodeChannels* channels, std::string address)
      : channels_(channels), address_(std::move(address)) {}
  absl::StatusOr<v1::ListNodesResponse> ListNodes(absl::string_view node,
                                                  const v1::ListNodesRequest& r) override;

 private:
  NodeChannels* channels_;
  std::string address_;
};

}  // namespace referral::gateway

#endif  // REFERRAL_SERVICES_GATEWAY_GRPC_PORTS_H_
