// How refctl calls a service as a node, and the shape every command shares:
// take a request id (commands), call, print a table or JSON, or fail with the
// reason and what to do. One copy for every service's commands.

#ifndef REFERRAL_CLIENTS_REFCTL_SERVICE_CALL_H_
#define REFERRAL_CLIENTS_REFCTL_SERVICE_CALL_H_

#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "clients/refctl/cli.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "services/runtime/grpc_status.h"
#include "services/runtime/identity.h"

namespace referral::refctl {

// Calls `method` of the service at `address` (named `service` in --verbose
// output) as the node of `g`: mTLS with its certificate, or plaintext with
// the node as metadata; --timeout as the deadline.
template <typename Stub, typename Request, typename Response>
absl::StatusOr<Response> CallService(
    const Globals& g, const std::string& service, const std::string& address,
    grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
    const Request& request) {
  absl::StatusOr<std::optional<TlsFiles>> tls = TlsFor(g);
  if (!tls.ok()) return tls.status();
  auto creds = ChannelCredentialsFor(*tls);
  if (!creds.ok()) return creds.status();
  if (g.verbose) {
    std::cerr << service << " " << address << " as " << g.node
              << (tls->has_value() ? absl::StrCat(" (mTLS, ", g.pki, ")")
                                   : std::string(" (plaintext)"))
              << "\n";
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  Stub stub(grpc::CreateCustomChannel(address, *creds, args));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + Timeout(g)));
  if (!tls->has_value()) ActAs(&context, g.node);
  Response response;
  absl::Status s = FromGrpcStatus((stub.*method)(&context, request, &response));
  if (!s.ok()) return s;
  return response;
}

// A command: a request id (--request-id or a new one), the call, then JSON
// or `print`, then `after` (say, warnings) either way. A failure names the
// request id so the command can be retried safely.
template <typename Response>
int RunServiceCommand(
    const Globals& g, const std::string& service,
    const std::function<absl::StatusOr<Response>(const std::string&)>& call,
    const std::function<void(const Response&)>& print,
    const std::function<void(const Response&)>& after = {}) {
  absl::StatusOr<std::string> rid = CommandRequestId(g);
  if (!rid.ok()) return Fail(rid.status(), {service, &g});
  absl::StatusOr<Response> r = call(*rid);
  if (!r.ok()) return Fail(r.status(), {service, &g, *rid});
  if (g.output == "json") {
    std::cout << Json(*r) << "\n";
  } else {
    print(*r);
  }
  if (after) after(*r);
  return 0;
}

// A read: the call, then JSON or `print`.
template <typename Response>
int RunServiceRead(const Globals& g, const std::string& service,
                   const std::function<absl::StatusOr<Response>()>& call,
                   const std::function<void(const Response&)>& print) {
  absl::StatusOr<Response> r = call();
  if (!r.ok()) return Fail(r.status(), {service, &g});
  if (g.output == "json") {
    std::cout << Json(*r) << "\n";
  } else {
    print(*r);
  }
  return 0;
}

}  // namespace referral::refctl

#endif  // REFERRAL_CLIENTS_REFCTL_SERVICE_CALL_H_
