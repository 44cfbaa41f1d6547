// What every refctl command shares: global flags, how to reach a service as a
// node, output helpers and error reporting with a hint.

#ifndef REFERRAL_CLIENTS_REFCTL_CLI_H_
#define REFERRAL_CLIENTS_REFCTL_CLI_H_

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/security/credentials.h"
#include "clients/cpp/caselog_client.h"
#include "services/runtime/identity.h"

namespace referral::refctl {

struct Globals {
  std::string caselog = "127.0.0.1:50101";
  std::string directory = "127.0.0.1:50102";
  std::string referral = "127.0.0.1:50103";
  std::string mediation = "127.0.0.1:50104";
  std::string legalaid = "127.0.0.1:50105";
  std::string deadlines = "127.0.0.1:50106";
  // The node to act as: picks its certificate under mTLS, or is sent as
  // x-referral-node metadata with --plaintext.
  std::string node;
  std::string pki = "var/pki";
  bool plaintext = false;
  std::string output = "table";  // table | json | svg (kSvgCommands only)
  std::string timeout = "10s";
  bool verbose = false;
  // A command's request id, given to retry it; generated when empty.
  std::string request_id;
};

// The commands that can draw (-o svg); any other refuses it in
// ResolveGlobals(), so refctl exits 2 before calling anything.
inline constexpr std::array<absl::string_view, 1> kSvgCommands = {"trace"};

// The action the parsed subcommand runs: it returns the exit code.
using Action = std::function<int()>;

// Adds the global flags to `app`; ResolveGlobals() afterwards applies the
// environment and the saved context to those not given on the command line,
// and refuses -o svg for a command not in kSvgCommands.
void AddGlobalFlags(CLI::App& app, Globals& g);
absl::Status ResolveGlobals(CLI::App& app, Globals& g);

absl::Duration Timeout(const Globals& g);

// TLS files of the node under mTLS (--pki/ca.pem, --pki/NODE.pem and .key);
// nullopt with --plaintext. Fails, saying what to do, when --node is missing
// or its files are not there.
absl::StatusOr<std::optional<TlsFiles>> TlsFor(const Globals& g);

// Credentials for the caselog and directory: mTLS as the node when one is
// given (and not --plaintext); plaintext otherwise.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ServiceCredentials(
    const Globals& g);

// A case log client as the node (mTLS) or plaintext, with --timeout.
absl::StatusOr<std::unique_ptr<client::CaseLogClient>> ConnectCaseLog(
    const Globals& g);

// The request id for a command: --request-id if given (checked), else a new
// one; printed to stderr with --verbose.
absl::StatusOr<std::string> CommandRequestId(const Globals& g);

// Pretty JSON with the proto field names.
std::string Json(const google::protobuf::Message& m);
// One-line JSON (for streams).
std::string JsonLine(const google::protobuf::Message& m);

// "LABEL  value" lines with the labels aligned by display width.
std::string KeyValues(const std::vector<std::pair<std::string, std::string>>& kv);

// What Fail() needs to say where to look.
struct FailContext {
  // caselog | directory | referral | mediation | legalaid | deadlines:
  // names the flag to pass; "" for a
  // service given by `address` (health --addr).
  std::string service = "caselog";
  const Globals* globals = nullptr;
  // A command's request id: a retryable failure says how to retry safely.
  std::string request_id;
  // Overrides the address the service flag names.
  std::string address;
  // The command, where its refusals need their own hint ("export").
  std::string command;
};

// Prints the error, its reason, the zh-CN message and what to do; returns
// the exit code (2).
int Fail(const absl::Status& s, const FailContext& context = {});

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_CLI_H_
