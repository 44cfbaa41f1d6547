#include "services/runtime/identity.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "storage/event_store.h"

namespace referral {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, absl::string_view what) {
  std::ifstream in(path);
  std::stringstream text;
  if (in) text << in.rdbuf();
  if (!in || text.str().empty()) {
    return MakeError(ErrorReason::kConfigInvalid,
                     absl::StrCat("cannot read the ", what, " at ", path,
                                  ": run ./dev up once to create the local "
                                  "certificates, or pass the right path"),
                     absl::StrCat("无法读取证书文件：", path));
  }
  return text.str();
}

absl::Status Unauthenticated(std::string message) {
  return MakeError(ErrorReason::kUnauthenticated, std::move(message),
                   "无法确认调用方机构身份");
}

}  // namespace

absl::StatusOr<Caller> CallerOf(const grpc::ServerContextBase& context) {
  auto auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    auto names = auth->FindPropertyValues("x509_common_name");
    if (names.empty()) {
      return Unauthenticated("the client certificate has no common name");
    }
    std::string node(names.front().data(), names.front().size());
    if (!storage::ValidateNodeName(node, "certificate CN").ok()) {
      return Unauthenticated(absl::StrCat("the client certificate names \"", node,
                                          "\", which is not a node name"));
    }
    return Caller{node, true};
  }
  const auto& metadata = context.client_metadata();
  auto it = metadata.find(kNodeMetadataKey);
  if (it == metadata.end()) {
    return Unauthenticated(absl::StrCat(
        "no caller identity: present a node certificate (mTLS), or on a "
        "plaintext test server send the ", kNodeMetadataKey, " metadata"));
  }
  std::string node(it->second.data(), it->second.size());
  if (!storage::ValidateNodeName(node, kNodeMetadataKey).ok()) {
    return Unauthenticated(absl::StrCat(kNodeMetadataKey, " \"", node.substr(0, 60),
                                        "\" is not a node name"));
  }
  return Caller{node, false};
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const std::optional<TlsFiles>& tls) {
  if (!tls) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  auto ca = ReadPem(tls->ca_cert, "CA certificate");
  if (!ca.ok()) return ca.status();
  auto cert = ReadPem(tls->cert, "certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(tls->key, "private key");
  if (!key.ok()) return key.status();
  options.pem_root_certs = *ca;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const std::optional<TlsFiles>& tls) {
  if (!tls) return grpc::InsecureChannelCredentials();
  auto ca = ReadPem(tls->ca_cert, "CA certificate");
  if (!ca.ok()) return ca.status();
  auto cert = ReadPem(tls->cert, "certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(tls->key, "private key");
  if (!key.ok()) return key.status();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = *ca;
  options.pem_private_key = *key;
  options.pem_cert_chain = *cert;
  return grpc::SslCredentials(options);
}

void ActAs(grpc::ClientContext* context, absl::string_view node) {
  context->AddMetadata(kNodeMetadataKey, std::string(node));
}

}  // namespace referral
