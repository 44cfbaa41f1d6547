#include "services/runtime/identity.h"

#include <fstream>
#include <sstream>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "grpc/grpc_security_constants.h"
#include "openssl/bio.h"
#include "openssl/err.h"
#include "openssl/evp.h"
#include "openssl/pem.h"
#include "openssl/x509.h"
#include "storage/event_store.h"

namespace referral {
namespace {

absl::Status ConfigInvalid(std::string message, std::string zh_message) {
  return MakeError(ErrorReason::kConfigInvalid, std::move(message), std::move(zh_message));
}

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
// Reads `text` in place: it must outlive the BIO.
Bio MemoryBio(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
}

enum class PemKind { kCertificate, kPrivateKey };

// The text of the PEM file at `path`. gRPC parses PEMs only when the port is
// added and then reports no more than a failed bind ("is the port in use?"),
// so parse here what it would reject, and name the file.
absl::StatusOr<std::string> ReadPem(const std::string& path, PemKind kind) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  if (in) buffer << in.rdbuf();
  std::string text = buffer.str();
  if (!in || text.empty()) {
    return ConfigInvalid(absl::StrCat("cannot read the TLS file ", path,
                                      ": run ./dev up once to create the local "
                                      "certificates (tools/pki.sh), or pass the right path"),
                         absl::StrCat("无法读取 TLS 文件：", path));
  }
  Bio bio = MemoryBio(text);
  bool parsed = false;
  if (kind == PemKind::kCertificate) {
    X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    parsed = cert != nullptr;
    X509_free(cert);
  } else {
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    parsed = key != nullptr;
    EVP_PKEY_free(key);
  }
  if (!parsed) {
    ERR_clear_error();  // leave no stale error for gRPC's TLS code on this thread
    return ConfigInvalid(
        absl::StrCat(path, " is not a PEM ",
                     kind == PemKind::kCertificate ? "certificate" : "private key"),
        absl::StrCat("TLS 文件格式不正确：", path));
  }
  return text;
}

struct Pems {
  std::string ca_cert;
  std::string cert;
  std::string key;
};

absl::StatusOr<Pems> ReadTlsFiles(const TlsFiles& files) {
  Pems pems;
  for (auto [path, kind, out] : {std::tuple(&files.ca_cert, PemKind::kCertificate, &pems.ca_cert),
                                 std::tuple(&files.cert, PemKind::kCertificate, &pems.cert),
                                 std::tuple(&files.key, PemKind::kPrivateKey, &pems.key)}) {
    absl::StatusOr<std::string> text = ReadPem(*path, kind);
    if (!text.ok()) return text.status();
    *out = *std::move(text);
  }
  // A key from another identity (a half-done rotation) is the likely mistake.
  Bio cert_bio = MemoryBio(pems.cert);
  Bio key_bio = MemoryBio(pems.key);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), &X509_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return ConfigInvalid(
        absl::StrCat("the private key ", files.key, " does not belong to the certificate ",
                     files.cert),
        absl::StrCat("私钥与证书不匹配：", files.key));
  }
  return pems;
}

absl::Status Unauthenticated(std::string message) {
  return MakeError(ErrorReason::kUnauthenticated, std::move(message),
                   "无法确认调用方机构身份");
}

std::string First(const std::vector<grpc::string_ref>& values) {
  return values.empty() ? std::string()
                        : std::string(values.front().data(), values.front().size());
}

absl::StatusOr<Caller> CallerOfCertificate(const grpc::AuthContext& auth) {
  // gRPC's "peer identity" is every SAN when there are any (our certificates
  // all carry DNS:localhost and IP:127.0.0.1), so ask for the CN by name.
  std::string node = First(auth.FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME));
  if (node.empty()) node = First(auth.FindPropertyValues(GRPC_PEER_DNS_PROPERTY_NAME));
  if (node.empty()) {
    return Unauthenticated("the client certificate names no node (no CN, no DNS name)");
  }
  if (!storage::ValidateNodeName(node, "certificate CN").ok()) {
    return Unauthenticated(absl::StrCat("the client certificate names \"",
                                        node.substr(0, 64), "\", which is not a node name"));
  }
  return Caller{std::move(node), true};
}

absl::StatusOr<Caller> CallerOfMetadata(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  auto [begin, end] = metadata.equal_range(kNodeMetadataKey);
  if (begin == end) {
    return Unauthenticated(absl::StrCat(
        "no caller identity: present a node certificate (mTLS), or on a "
        "plaintext test server send the ", kNodeMetadataKey, " metadata"));
  }
  if (std::next(begin) != end) {
    return Unauthenticated(absl::StrCat("more than one ", kNodeMetadataKey, " metadata value"));
  }
  std::string node(begin->second.data(), begin->second.size());
  if (!storage::ValidateNodeName(node, kNodeMetadataKey).ok()) {
    return Unauthenticated(absl::StrCat(kNodeMetadataKey, " \"", node.substr(0, 64),
                                        "\" is not a node name"));
  }
  return Caller{std::move(node), false};
}

}  // namespace

absl::StatusOr<Caller> CallerOf(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  // gRPC calls a TLS peer "authenticated" whenever it presented a
  // certificate, verified or not (so under ..._BUT_DONT_VERIFY too). That is
  // only sound because ServerCredentialsFor requires verification.
  if (auth != nullptr && auth->IsPeerAuthenticated()) return CallerOfCertificate(*auth);
  // A TLS connection without a verified peer cannot happen with the options
  // ServerCredentialsFor sets; if it ever does, fail closed rather than
  // believe the metadata.
  if (auth != nullptr) {
    for (const auto& type : auth->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME)) {
      if (type == GRPC_SSL_TRANSPORT_SECURITY_TYPE) {
        return Unauthenticated("TLS connection without a verified client certificate");
      }
    }
  }
  return CallerOfMetadata(context);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const std::optional<TlsFiles>& tls) {
  if (!tls) return grpc::InsecureServerCredentials();
  absl::StatusOr<Pems> pems = ReadTlsFiles(*tls);
  if (!pems.ok()) return pems.status();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = std::move(pems->ca_cert);
  options.pem_key_cert_pairs.push_back({std::move(pems->key), std::move(pems->cert)});
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const std::optional<TlsFiles>& tls) {
  if (!tls) return grpc::InsecureChannelCredentials();
  absl::StatusOr<Pems> pems = ReadTlsFiles(*tls);
  if (!pems.ok()) return pems.status();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = std::move(pems->ca_cert);
  options.pem_private_key = std::move(pems->key);
  options.pem_cert_chain = std::move(pems->cert);
  return grpc::SslCredentials(options);
}

absl::StatusOr<std::optional<TlsFiles>> ServingTls(std::string ca_cert,
                                                  std::string cert,
                                                  std::string key,
                                                  bool plaintext) {
  if (plaintext) return std::nullopt;
  if (ca_cert.empty() || cert.empty() || key.empty()) {
    return MakeError(ErrorReason::kConfigInvalid,
                     "--tls_ca, --tls_cert and --tls_key are required (every "
                     "service speaks mTLS; ./dev up makes them under var/pki); "
                     "pass --plaintext only for tests",
                     "缺少 TLS 证书参数：所有服务都使用双向 TLS");
  }
  return TlsFiles{std::move(ca_cert), std::move(cert), std::move(key)};
}

void ActAs(grpc::ClientContext* context, absl::string_view node) {
  context->AddMetadata(kNodeMetadataKey, std::string(node));
}

}  // namespace referral
