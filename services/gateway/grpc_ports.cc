#include "services/gateway/grpc_ports.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/errors.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "referral/v1/deadline_service.grpc.pb.h"
#include "referral/v1/directory_service.grpc.pb.h"
#include "referral/v1/mediation_service.grpc.pb.h"
#include "referral/v1/referral_service.grpc.pb.h"
#include "services/runtime/grpc_status.h"
#include "services/runtime/identity.h"

namespace referral::gateway {
namespace {

namespace fs = std::filesystem;

// One unary call as `node`.
template <typename Service, typename Stub, typename Request, typename Response>
absl::StatusOr<Response> Unary(NodeChannels* channels, const std::string& address,
                               absl::string_view node,
                               grpc::Status (Stub::*method)(grpc::ClientContext*,
                                                            const Request&, Response*),
                               const Request& request) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = channels->Channel(address, node);
  if (!channel.ok()) return channel.status();
  auto stub = Service::NewStub(*channel);
  grpc::ClientContext context;
  channels->Prepare(&context, node);
  Response response;
  grpc::Status status = (stub.get()->*method)(&context, request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> NodeCertificatesIn(const std::string& pki_dir) {
  std::error_code ec;
  fs::directory_iterator it(pki_dir, ec);
  if (ec) {
    return MakeError(ErrorReason::kConfigInvalid,
                     absl::StrCat("cannot read --pki=", pki_dir, ": ", ec.message(),
                                  " (tools/pki.sh DIR makes one)"),
                     absl::StrCat("无法读取证书目录 ", pki_dir, "。"));
  }
  std::vector<std::string> nodes;
  for (const fs::directory_entry& entry : it) {
    const fs::path& p = entry.path();
    if (p.extension() != ".pem") continue;
    const std::string name = p.stem().string();
    if (name == "ca" || !absl::StrContains(name, '.')) continue;
    if (!fs::exists(fs::path(pki_dir) / (name + ".key"), ec)) continue;
    nodes.push_back(name);
  }
  std::sort(nodes.begin(), nodes.end());
  return nodes;
}

absl::StatusOr<std::unique_ptr<NodeChannels>> NodeChannels::Create(
    std::optional<std::string> pki_dir, const std::vector<std::string>& nodes,
    absl::Duration timeout) {
  std::map<std::string, std::shared_ptr<grpc::ChannelCredentials>, std::less<>> creds;
  for (const std::string& node : nodes) {
    std::optional<TlsFiles> tls;
    if (pki_dir.has_value()) {
      const fs::path dir(*pki_dir);
      tls = TlsFiles{(dir / "ca.pem").string(), (dir / (node + ".pem")).string(),
                     (dir / (node + ".key")).string()};
    }
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> c = ChannelCredentialsFor(tls);
    if (!c.ok()) {
      return MakeError(ErrorReason::kConfigInvalid,
                       absl::StrCat("node ", node, ": ", c.status().message(),
                                    " (tools/pki.sh ", pki_dir.value_or("DIR"), " ", node,
                                    " makes its certificate)"),
                       absl::StrCat("机构 ", node, " 的证书不可用。"));
    }
    creds.emplace(node, *std::move(c));
  }
  return std::unique_ptr<NodeChannels>(new NodeChannels(std::move(creds), timeout));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> NodeChannels::Channel(
    const std::string& address, absl::string_view node) {
  auto cred = credentials_.find(node);
  if (cred == credentials_.end()) {
    return MakeError(ErrorReason::kNodeNotServed,
                     absl::StrCat("the gateway has no credentials for ", node),
                     absl::StrCat("本控制台不能代表“", node, "”办理。"));
  }
  auto key = std::make_pair(address, std::string(node));
  absl::MutexLock lock(&mu_);
  auto it = channels_.find(key);
  if (it != channels_.end()) return it->second;
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  auto channel = grpc::CreateCustomChannel(address, cred->second, args);
  channels_.emplace(std::move(key), channel);
  return channel;
}

void NodeChannels::Prepare(grpc::ClientContext* context, absl::string_view node) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  // On an mTLS channel the server believes only the certificate; the
  // metadata is what a plaintext (test) server reads.
  ActAs(context, node);
}

absl::StatusOr<v1::ListCasesResponse> GrpcReferralPort::ListCases(
    absl::string_view node, const v1::ListCasesRequest& r) {
  return Unary<v1::ReferralService>(channels_, address_, node,
                                    &v1::ReferralService::Stub::ListCases, r);
}
absl::StatusOr<v1::SearchCasesResponse> GrpcReferralPort::SearchCases(
    absl::string_view node, const v1::SearchCasesRequest& r) {
  return Unary<v1::ReferralService>(channels_, address_, node,
                                    &v1::ReferralService::Stub::SearchCases, r);
}
absl::StatusOr<v1::GetCaseResponse> GrpcReferralPort::GetCase(absl::string_view node,
                                                              const v1::GetCaseRequest& r) {
  return Unary<v1::ReferralService>(channels_, address_, node,
                                    &v1::ReferralService::Stub::GetCase, r);
}
absl::StatusOr<v1::TraceCaseResponse> GrpcReferralPort::TraceCase(
    absl::string_view node, const v1::TraceCaseRequest& r) {
  return Unary<v1::ReferralService>(channels_, address_, node,
                                    &v1::ReferralService::Stub::TraceCase, r);
}
absl::StatusOr<v1::ListReferralsResponse> GrpcReferralPort::ListReferrals(
    absl::string_view node, const v1::ListReferralsRequest& r) {
  return Unary<v1::ReferralService>(channels_, address_, node,
                                    &v1::ReferralService::Stub::ListReferrals, r);
}
absl::StatusOr<v1::GetBacklogResponse> GrpcReferralPort::GetBacklog(
    absl::string_view node, const v1::GetBacklogRequest& r) {
  return Unary<v1::ReferralService>(channels_, address_, node,
                                    &v1::ReferralService::Stub::GetBacklog, r);
}
absl::StatusOr<v1::ReceiveReferralResponse> GrpcReferralPort::ReceiveReferral(
    absl::string_view node, const v1::ReceiveReferralRequest& r) {
  return Unary<v1::ReferralService>(channels_, address_, node,
                                    &v1::ReferralService::Stub::ReceiveReferral, r);
}
absl::StatusOr<v1::AcceptReferralResponse> GrpcReferralPort::AcceptReferral(
    absl::string_view node, const v1::AcceptReferralRequest& r) {
  return Unary<v1::ReferralService>(channels_, address_, node,
                                    &v1::ReferralService::Stub::AcceptReferral, r);
}

absl::StatusOr<v1::ListMeetingsResponse> GrpcMediationPort::ListMeetings(
    absl::string_view node, const v1::ListMeetingsRequest& r) {
  return Unary<v1::MediationService>(channels_, address_, node,
                                     &v1::MediationService::Stub::ListMeetings, r);
}

absl::StatusOr<v1::ListDeadlinesResponse> GrpcDeadlinePort::ListDeadlines(
    absl::string_view node, const v1::ListDeadlinesRequest& r) {
  return Unary<v1::DeadlineService>(channels_, address_, node,
                                    &v1::DeadlineService::Stub::ListDeadlines, r);
}

absl::StatusOr<v1::ListNodesResponse> GrpcDirectoryPort::ListNodes(
    absl::string_view node, const v1::ListNodesRequest& r) {
  return Unary<v1::DirectoryService>(channels_, address_, node,
                                     &v1::DirectoryService::Stub::ListNodes, r);
}

}  // namespace referral::gateway
