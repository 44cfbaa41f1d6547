// gateway: the web console and its JSON API (HTTP on loopback) onto the
// referral, mediation, deadlines and directory services. A console for the
// staff of an agency on this machine, not an internet-facing server: see
// services/gateway/http_server.h.

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/log.h"
#include "services/gateway/console.h"
#include "services/gateway/grpc_ports.h"
#include "services/gateway/http_server.h"
#include "services/runtime/service_host.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:8080",
          "loopback host:port to serve the console on (127.0.0.1 or [::1] only); "
          "port 0 picks a free port");
ABSL_FLAG(std::string, referral, "127.0.0.1:50103", "the referral service");
ABSL_FLAG(std::string, mediation, "127.0.0.1:50104",
          "the mediation service; empty = none (meetings unavailable)");
ABSL_FLAG(std::string, deadlines, "127.0.0.1:50106",
          "the deadlines service; empty = none (overdue counts unknown)");
ABSL_FLAG(std::string, directory, "127.0.0.1:50102",
          "the directory service (agency names, timeline lanes); empty = none");
ABSL_FLAG(std::string, pki, "",
          "folder of node certificates as tools/pki.sh makes them (ca.pem, "
          "<node>.pem, <node>.key): the console calls as the chosen node with its "
          "certificate");
ABSL_FLAG(bool, plaintext, false,
          "call the services without TLS, naming the node in the x-referral-node "
          "metadata. For tests only; needs --nodes");
ABSL_FLAG(std::string, nodes, "",
          "comma-separated nodes the console may act as; default with --pki: every "
          "node certificate in it");
ABSL_FLAG(std::string, static_dir, GATEWAY_STATIC_DIR,
          "folder of the console's files (index.html, app.js, app.css)");
ABSL_FLAG(std::string, port_file, "",
          "when set, the bound port is written to this file");
ABSL_FLAG(std::string, log_level, "info", "trace|debug|info|warn|error");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves the web console (HTTP, loopback only) onto the referral services.");
  absl::ParseCommandLine(argc, argv);
  referral::BlockTerminationSignals();
  referral::InitLogging("gateway", absl::GetFlag(FLAGS_log_level));
  namespace gw = referral::gateway;

  const std::string pki = absl::GetFlag(FLAGS_pki);
  const bool plaintext = absl::GetFlag(FLAGS_plaintext);
  if (pki.empty() == !plaintext) {
    LOG_ERROR("pass exactly one of --pki=DIR (the nodes' certificates, e.g. var/pki made "
              "by tools/pki.sh) or --plaintext (tests)");
    return EXIT_FAILURE;
  }
  std::vector<std::string> nodes =
      absl::StrSplit(absl::GetFlag(FLAGS_nodes), ',', absl::SkipWhitespace());
  if (nodes.empty()) {
    if (plaintext) {
      LOG_ERROR("--plaintext needs --nodes=NODE[,NODE...]: the nodes the console may act as");
      return EXIT_FAILURE;
    }
    auto found = gw::NodeCertificatesIn(pki);
    if (!found.ok()) {
      LOG_ERROR("{}", std::string(found.status().message()));
      return EXIT_FAILURE;
    }
    nodes = *std::move(found);
    if (nodes.empty()) {
      LOG_ERROR("no node certificates in {} (run tools/pki.sh {})", pki, pki);
      return EXIT_FAILURE;
    }
  }

  auto channels = gw::NodeChannels::Create(
      plaintext ? std::nullopt : std::optional<std::string>(pki), nodes, absl::Seconds(10));
  if (!channels.ok()) {
    LOG_ERROR("{}", std::string(channels.status().message()));
    return EXIT_FAILURE;
  }
  gw::GrpcReferralPort referral_port((*channels).get(), absl::GetFlag(FLAGS_referral));
  std::optional<gw::GrpcMediationPort> mediation_port;
  std::optional<gw::GrpcDeadlinePort> deadline_port;
  std::optional<gw::GrpcDirectoryPort> directory_port;
  gw::ConsolePorts ports;
  ports.referral = &referral_port;
  if (!absl::GetFlag(FLAGS_mediation).empty()) {
    ports.mediation = &mediation_port.emplace((*channels).get(), absl::GetFlag(FLAGS_mediation));
  }
  if (!absl::GetFlag(FLAGS_deadlines).empty()) {
    ports.deadlines = &deadline_port.emplace((*channels).get(), absl::GetFlag(FLAGS_deadlines));
  }
  if (!absl::GetFlag(FLAGS_directory).empty()) {
    ports.directory = &directory_port.emplace((*channels).get(), absl::GetFlag(FLAGS_directory));
  }
  gw::ConsoleOptions options;
  options.nodes = nodes;
  gw::Console console(options, ports);

  gw::HttpServerOptions http;
  http.listen = absl::GetFlag(FLAGS_listen);
  http.static_dir = absl::GetFlag(FLAGS_static_dir);
  http.port_file = absl::GetFlag(FLAGS_port_file);
  auto server = gw::HttpServer::Start(http, &console);
  if (!server.ok()) {
    LOG_ERROR("{}", std::string(server.status().message()));
    return EXIT_FAILURE;
  }
  LOG_INFO("console at {} ({}), acting as {}; referral {}, mediation {}, deadlines {}, "
           "directory {}",
           (*server)->url(), plaintext ? "PLAINTEXT, node as metadata" : "mTLS as each node",
           absl::StrJoin(nodes, ","), absl::GetFlag(FLAGS_referral),
           absl::GetFlag(FLAGS_mediation), absl::GetFlag(FLAGS_deadlines),
           absl::GetFlag(FLAGS_directory));

  int sig = referral::WaitForTerminationSignal();
  LOG_INFO("signal {}: shutting down", sig);
  (*server)->Stop();
  LOG_INFO("stopped");
  return EXIT_SUCCESS;
}
