// mediation: meetings, agreements and payments (referral.v1.MediationService),
// over the caselog and directory services.

#include <cstdlib>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "clients/cpp/caselog_client.h"
#include "common/log.h"
#include "grpcpp/create_channel.h"
#include "services/deadlines/calendar.h"
#include "services/mediation/mediation.h"
#include "services/mediation/mediation_grpc_service.h"
#include "services/referral/grpc_ports.h"
#include "services/runtime/identity.h"
#include "services/runtime/service_host.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50104",
          "host:port to serve on; port 0 picks a free port");
ABSL_FLAG(std::string, caselog, "127.0.0.1:50101", "the caselog service");
ABSL_FLAG(std::string, directory, "127.0.0.1:50102", "the directory service");
ABSL_FLAG(std::string, calendar, "",
          "working-day calendar (TOML); empty = Monday to Friday 08:30-17:30 "
          "Asia/Shanghai without holidays");
ABSL_FLAG(std::string, tls_ca, "", "CA certificate (PEM) that signs every node");
ABSL_FLAG(std::string, tls_cert, "", "this service's certificate (PEM)");
ABSL_FLAG(std::string, tls_key, "", "this service's private key (PEM)");
ABSL_FLAG(bool, plaintext, false,
          "serve and call without TLS; callers name their node in the "
          "x-referral-node metadata. For tests only");
ABSL_FLAG(std::string, port_file, "",
          "when set, the bound port is written to this file");
ABSL_FLAG(std::string, log_level, "info", "trace|debug|info|warn|error");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves referral.v1.MediationService: mediation meetings, joint case "
      "conferences, agreements and payments.");
  absl::ParseCommandLine(argc, argv);
  referral::BlockTerminationSignals();
  referral::TuneProcessForServing();
  referral::InitLogging("mediation", absl::GetFlag(FLAGS_log_level));

  auto calendar =
      referral::deadlines::Calendar::FromFileOrDefault(absl::GetFlag(FLAGS_calendar));
  if (!calendar.ok()) {
    LOG_ERROR("{}", std::string(calendar.status().message()));
    return EXIT_FAILURE;
  }
  auto backends = referral::broker::ConnectBackends(
      absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
      absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_plaintext),
      absl::GetFlag(FLAGS_caselog), absl::GetFlag(FLAGS_directory));
  if (!backends.ok()) {
    LOG_ERROR("{}", std::string(backends.status().message()));
    return EXIT_FAILURE;
  }
  const std::optional<referral::TlsFiles>& tls = backends->tls;
  referral::broker::RemotePorts* ports = backends->ports.get();
  referral::mediation::Mediation mediation(ports->log(), ports->directory(),
                                         &*calendar);
  referral::mediation::MediationGrpcService service(&mediation);

  auto host = referral::broker::StartServing(
      absl::GetFlag(FLAGS_listen), absl::GetFlag(FLAGS_port_file),
      "referral.v1.MediationService", tls, &service);
  if (!host.ok()) {
    LOG_ERROR("{}", host.status().ToString());
    return EXIT_FAILURE;
  }
  LOG_INFO("serving on {} ({}); caselog {}, directory {}, calendar {}",
           (*host)->address(), tls ? "mTLS" : "PLAINTEXT, node from metadata",
           absl::GetFlag(FLAGS_caselog), absl::GetFlag(FLAGS_directory),
           calendar->name());

  return referral::ServeUntilTerminated(**host);
}
