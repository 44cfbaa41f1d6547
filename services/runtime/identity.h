// Where a caller's identity comes from: the one place that knows.
//
// Production: every service speaks mTLS. A client must present a certificate
// signed by the deployment's CA (tools/pki.sh makes a development one), and
// the caller's node is that certificate's common name. Tests may run
// plaintext (an explicit flag), and then the node is taken from the
// `x-referral-node` call metadata. Either way the rest of the code sees one
// Caller and never asks where it came from.
//
// Thread safety: stateless functions; CallerOf may run on many calls at once
// (but, like any ServerContext accessor, not on one call from two threads).

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

// PEM file paths of one identity (certificate and its private key) and of
// the CA that signs every identity of the deployment.
struct TlsFiles {
  std::string ca_cert;
  std::string cert;
  std::string key;
};

// Who makes a call: a node name (storage::ValidateNodeName holds), such as
// "qinzhou.justice", or a service identity ("caselog", "directory",
// "referral"). `from_certificate` says whether a verified certificate named
// it (true) or plaintext metadata did (false; tests only).
struct Caller {
  std::string node;
  bool from_certificate = false;
};

// The metadata key that names the caller on a plaintext server.
inline constexpr char kNodeMetadataKey[] = "x-referral-node";

// The caller of a call.
//  - On an mTLS connection: the verified peer certificate's common name, or
//    its first DNS subjectAltName when it has no CN. The x-referral-node
//    metadata is ignored: a certificate cannot be overridden.
//  - On a plaintext connection: the single x-referral-node metadata value.
// Errors: UNAUTHENTICATED (reason UNAUTHENTICATED) when there is no name,
// more than one metadata value, or a name that is not a valid node name.
absl::StatusOr<Caller> CallerOf(const grpc::ServerContextBase& context);

// Server credentials. With `tls`: TLS presenting `tls->cert`/`tls->key`, and
// requiring every client to present a certificate that verifies against
// `tls->ca_cert` (the handshake fails otherwise, so the call never reaches a
// handler). Without: plaintext.
// Errors: INVALID_ARGUMENT (reason CONFIG_INVALID) naming the file, when one
// cannot be read, does not hold a PEM certificate (or key), or the key does
// not belong to the certificate. (gRPC itself would notice only when the
// port is added, and say no more than that binding failed.)
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFor(
    const std::optional<TlsFiles>& tls);

// Channel credentials. With `tls`: presents `tls->cert` as the client's
// identity and trusts only servers whose certificate verifies against
// `tls->ca_cert` and names the target host (our certificates name localhost
// and 127.0.0.1 besides the identity). Without: plaintext; pair with ActAs().
// Errors: as ServerCredentialsFor.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentialsFor(
    const std::optional<TlsFiles>& tls);

// What a server's main() makes of its --tls_ca/--tls_cert/--tls_key and
// --plaintext flags: the files when all three are given, nullopt with
// --plaintext, and INVALID_ARGUMENT (CONFIG_INVALID) saying what to pass
// otherwise. Plaintext is never the silent default.
absl::StatusOr<std::optional<TlsFiles>> ServingTls(std::string ca_cert,
                                                  std::string cert,
                                                  std::string key,
                                                  bool plaintext);

// Plaintext clients (tests): names the node `context`'s call acts as. Has no
// effect on an mTLS server, which believes only the certificate.
void ActAs(grpc::ClientContext* context, absl::string_view node);

}  // namespace referral

#endif  // REFERRAL_SERVICES_RUNTIME_IDENTITY_H_
