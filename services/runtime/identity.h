// Where a caller's identity comes from: the one place that knows.
//
// Production: every service speaks mTLS; a client must present a certificate
// signed by the deployment's CA, and the caller's node is that certificate's
// common name. Tests may run plaintext (an explicit flag), and then the node
// is taken from the `x-referral-node` call metadata. Either way the rest of
// the code sees one Caller and never asks where it came from.
//
// Thread safety: stateless functions.

#ifndef REFERRAL_SERVICES_RUNTIME_IDENTITY_H_
#define REFERRAL_SERVICES_RUNTIME_IDENTITY_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_context.h"

namespace referral {

// PEM files of one identity and the CA that signs every identity.
struct TlsFiles {
  std::string ca_cert;
  std::string cert;
  std::string key;
};

struct Caller {
  std::string node;
  bool from_certificate = false;
};

inline constexpr char kNodeMetadataKey[] = "x-referral-node";

// The caller of a call: with TLS the verified certificate's common name (the
// metadata is ignored); in plaintext the metadata. UNAUTHENTICATED when there
// is none or it is not a node name.
absl::StatusOr<Caller> CallerOf(const grpc::ServerContextBase& context);

// Server credentials: mTLS requiring a client certificate from `tls->ca_cert`
// when `tls` is set, plaintext otherwise. INVALID_ARGUMENT (CONFIG_INVALID)
// naming a file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const std::optional<TlsFiles>& tls);

// Channel credentials presenting `tls->cert` and trusting `tls->ca_cert`, or
// plaintext.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const std::optional<TlsFiles>& tls);

// Plaintext clients: names the node the call acts as.
void ActAs(grpc::ClientContext* context, absl::string_view node);

}  // namespace referral

#endif  // REFERRAL_SERVICES_RUNTIME_IDENTITY_H_
