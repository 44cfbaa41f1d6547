// directory: the agency nodes and the service menu
// (referral.v1.DirectoryService), loaded from one TOML file.

#include <cstdlib>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/log.h"
#include "services/directory/directory.h"
#include "services/directory/directory_grpc_service.h"
#include "services/runtime/identity.h"
#include "services/runtime/service_host.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50102",
          "host:port to serve on; port 0 picks a free port");
ABSL_FLAG(std::string, config, "services/directory/qinzhou.toml",
          "the directory file (TOML)");
ABSL_FLAG(std::string, port_file, "",
          "when set, the bound port is written to this file");
ABSL_FLAG(std::string, tls_ca, "",
          "CA certificate (PEM); with --tls_cert and --tls_key the service "
          "speaks mTLS and admits only clients with a certificate from this CA");
ABSL_FLAG(std::string, tls_cert, "", "this service's certificate (PEM)");
ABSL_FLAG(std::string, tls_key, "", "this service's private key (PEM)");
ABSL_FLAG(bool, plaintext, false,
          "serve without TLS (tests only); without it the --tls_* files are "
          "required");
ABSL_FLAG(std::string, log_level, "info", "trace|debug|info|warn|error");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves the agency directory and service menu "
      "(referral.v1.DirectoryService).");
  absl::ParseCommandLine(argc, argv);
  referral::BlockTerminationSignals();
  referral::TuneProcessForServing();
  referral::InitLogging("directory", absl::GetFlag(FLAGS_log_level));

  // A malformed file stops start-up here, naming file, line and reason.
  auto directory =
      referral::directory::Directory::LoadFile(absl::GetFlag(FLAGS_config));
  if (!directory.ok()) {
    LOG_ERROR("{}", std::string(directory.status().message()));
    return EXIT_FAILURE;
  }
  referral::directory::DirectoryGrpcService service(&*directory);
  referral::ServiceHostOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.port_file = absl::GetFlag(FLAGS_port_file);
  options.health_names = {"referral.v1.DirectoryService"};
  auto tls = referral::ServingTls(
      absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
      absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_plaintext));
  if (!tls.ok()) {
    LOG_ERROR("{}", std::string(tls.status().message()));
    return EXIT_FAILURE;
  }
  options.tls = *tls;
  auto host = referral::ServiceHost::Start(options, {&service});
  if (!host.ok()) {
    LOG_ERROR("{}", host.status().ToString());
    return EXIT_FAILURE;
  }
  (*host)->SetServing(true);
  LOG_INFO("serving {} nodes from {} on {}", directory->size(),
           absl::GetFlag(FLAGS_config), (*host)->address());

  int sig = referral::WaitForTerminationSignal();
  LOG_INFO("signal {}: shutting down", sig);
  (*host)->Shutdown(absl::Seconds(1));
  LOG_INFO("stopped");
  return EXIT_SUCCESS;
}
