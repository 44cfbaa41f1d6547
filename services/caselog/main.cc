// caselog: the case event log behind gRPC (referral.v1.CaseLogService).

#include <cstdlib>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "common/log.h"
#include "services/caselog/caselog_grpc_service.h"
#include "services/caselog/caselog_service.h"
#include "services/runtime/identity.h"
#include "services/runtime/service_host.h"
#include "storage/event_store.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50101",
          "host:port to serve on; port 0 picks a free port");
ABSL_FLAG(std::string, data_dir, "var/caselog",
          "directory of the RocksDB case log (created when missing)");
ABSL_FLAG(std::string, port_file, "",
          "when set, the bound port is written to this file");
ABSL_FLAG(int64_t, max_event_bytes, 1 << 20,
          "largest accepted serialized event, in bytes");
ABSL_FLAG(int, max_threads, 128, "most threads for unary handlers");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(1),
          "on SIGTERM, how long calls in flight may run before they are "
          "cancelled; idle client connections also hold the server this long");
ABSL_FLAG(std::string, tls_ca, "",
          "CA certificate (PEM); with --tls_cert and --tls_key the service "
          "speaks mTLS and admits only clients with a certificate from this CA");
ABSL_FLAG(std::string, tls_cert, "", "this service's certificate (PEM)");
ABSL_FLAG(std::string, tls_key, "", "this service's private key (PEM)");
ABSL_FLAG(bool, plaintext, false,
          "serve without TLS (tests only); without it the --tls_* files are "
          "required");
ABSL_FLAG(std::string, signing_key, "",
          "Ed25519 private key (PEM) with which VerifyCase signs the heads it "
          "finds intact; empty = heads are not signed");
ABSL_FLAG(std::vector<std::string>, admit,
          std::vector<std::string>({"referral", "mediation", "legalaid", "deadlines",
                                    "operator"}),
          "with mTLS, the only certificate names that may call the case log "
          "(agencies go through the referral service)");
ABSL_FLAG(std::string, log_level, "info", "trace|debug|info|warn|error");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves the case event log (referral.v1.CaseLogService).");
  absl::ParseCommandLine(argc, argv);
  referral::BlockTerminationSignals();
  referral::TuneProcessForServing();
  referral::InitLogging("caselog", absl::GetFlag(FLAGS_log_level));

  std::shared_ptr<const referral::storage::HeadSigner> signer;
  if (!absl::GetFlag(FLAGS_signing_key).empty()) {
    auto loaded = referral::storage::HeadSigner::FromPemFile(absl::GetFlag(FLAGS_signing_key));
    if (!loaded.ok()) {
      LOG_ERROR("{}", std::string(loaded.status().message()));
      return EXIT_FAILURE;
    }
    signer = std::move(*loaded);
    LOG_INFO("signing case heads with key {}", signer->key_id());
  }
  referral::ServiceHostOptions host_options;
  host_options.listen = absl::GetFlag(FLAGS_listen);
  host_options.port_file = absl::GetFlag(FLAGS_port_file);
  host_options.max_threads = absl::GetFlag(FLAGS_max_threads);
  host_options.health_names = {"referral.v1.CaseLogService"};
  auto tls = referral::ServingTls(
      absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert),
      absl::GetFlag(FLAGS_tls_key), absl::GetFlag(FLAGS_plaintext));
  if (!tls.ok()) {
    LOG_ERROR("{}", std::string(tls.status().message()));
    return EXIT_FAILURE;
  }
  host_options.tls = *tls;
  std::vector<std::string> admit;
  for (const std::string& name : absl::GetFlag(FLAGS_admit)) {
    if (!name.empty()) admit.push_back(name);
  }
  if (tls->has_value() && admit.empty()) {
    // An empty list would let every certificate of the deployment write raw
    // events and read the audit streams.
    LOG_ERROR("--admit names nobody: list the identities that may call the case log "
              "(the default is referral,mediation,legalaid,deadlines,operator)");
    return EXIT_FAILURE;
  }
  referral::caselog::CaseLog core(signer);
  // Plaintext callers name themselves, so admitting by name means nothing there.
  referral::caselog::CaseLogGrpcService service(
      &core, tls->has_value() ? admit : std::vector<std::string>{});
  auto host = referral::ServiceHost::Start(host_options, {&service});
  if (!host.ok()) {
    LOG_ERROR("{}", host.status().ToString());
    return EXIT_FAILURE;
  }
  LOG_INFO("listening on {} (NOT_SERVING while the log opens)",
           (*host)->address());

  referral::storage::EventStoreOptions store_options;
  store_options.path = absl::GetFlag(FLAGS_data_dir);
  store_options.max_event_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_max_event_bytes));
  auto store = referral::storage::EventStore::Open(store_options);
  if (!store.ok()) {
    LOG_ERROR("cannot open the case log at {}: {}", store_options.path,
              store.status().ToString());
    (*host)->Shutdown(absl::ZeroDuration());
    return EXIT_FAILURE;
  }
  LOG_INFO("case log open at {}; last position {}", store_options.path,
           (*store)->LastPosition());
  core.Attach(std::shared_ptr<referral::storage::EventStore>(std::move(*store)));
  (*host)->SetServing(true);

  int sig = referral::WaitForTerminationSignal();
  LOG_INFO("signal {}: shutting down", sig);
  (*host)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  core.Detach().reset();
  LOG_INFO("stopped");
  return EXIT_SUCCESS;
}
