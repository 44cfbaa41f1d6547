// referral: the broker (referral.v1.ReferralService): cases, the referral
// lifecycle and live inboxes, over the caselog and directory services.

#include <cstdlib>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "clients/cpp/caselog_client.h"
#include "common/log.h"
#include "grpcpp/create_channel.h"
#include "services/deadlines/calendar.h"
#include "services/referral/broker.h"
#include "services/referral/grpc_ports.h"
#include "services/referral/referral_grpc_service.h"
#include "services/runtime/identity.h"
#include "services/runtime/service_host.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50103",
          "host:port to serve on; port 0 picks a free port");
ABSL_FLAG(std::string, caselog, "127.0.0.1:50101", "the caselog service");
ABSL_FLAG(std::string, directory, "127.0.0.1:50102", "the directory service");
ABSL_FLAG(std::string, calendar, "",
          "working-day calendar for referral deadlines (TOML, e.g. "
          "config/calendar.toml); empty = Monday to Friday 08:30-17:30 "
          "Asia/Shanghai with no holidays");
ABSL_FLAG(std::string, access, "",
          "who may trace any case and who audits them (TOML, e.g. "
          "config/access.toml); empty = no investigators and no auditors");
ABSL_FLAG(std::string, search_key, "",
          "file of 32+ random bytes keying the search index's ID-number "
          "digests (e.g. var/secrets/search.key); empty = a random key for "
          "this process");
ABSL_FLAG(int64_t, case_cache_mb,
          static_cast<int64_t>(referral::broker::CaseCache::kDefaultMaxBytes >> 20),
          "memory for the cases the broker keeps folded between commands, "
          "in MiB of their events' encoded size (the state in memory is a "
          "small multiple); the least recently used go first. Every command "
          "and read still catches its case up with the case log first. 0 = "
          "keep none: each command reads its case whole");
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
      "Serves referral.v1.ReferralService: cases, referrals, inboxes.");
  absl::ParseCommandLine(argc, argv);
  referral::BlockTerminationSignals();
  referral::TuneProcessForServing();
  referral::InitLogging("referral", absl::GetFlag(FLAGS_log_level));

  std::optional<referral::deadlines::Calendar> calendar;
  if (!absl::GetFlag(FLAGS_calendar).empty()) {
    auto loaded = referral::deadlines::Calendar::FromFile(absl::GetFlag(FLAGS_calendar));
    if (!loaded.ok()) {
      LOG_ERROR("{}", std::string(loaded.status().message()));
      return EXIT_FAILURE;
    }
    calendar = std::move(*loaded);
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
  referral::broker::BrokerOptions broker_options;
  if (calendar) broker_options.calendar = &*calendar;
  if (absl::GetFlag(FLAGS_case_cache_mb) < 0) {
    LOG_ERROR("--case_cache_mb must be 0 or more (MiB); 0 keeps no cases");
    return EXIT_FAILURE;
  }
  broker_options.case_cache_bytes =
      static_cast<size_t>(absl::GetFlag(FLAGS_case_cache_mb)) << 20;
  if (!absl::GetFlag(FLAGS_access).empty()) {
    auto access = referral::broker::AccessList::FromFile(absl::GetFlag(FLAGS_access));
    if (!access.ok()) {
      LOG_ERROR("{}", std::string(access.status().message()));
      return EXIT_FAILURE;
    }
    broker_options.access = std::move(*access);
  }
  if (!absl::GetFlag(FLAGS_search_key).empty()) {
    auto key = referral::broker::SearchIndex::ReadKeyFile(absl::GetFlag(FLAGS_search_key));
    if (!key.ok()) {
      LOG_ERROR("{}", std::string(key.status().message()));
      return EXIT_FAILURE;
    }
    broker_options.search_key = std::move(*key);
  }
  LOG_INFO("{} investigators, {} auditors; case cache {} MiB; search key {}",
           broker_options.access.investigators().size(),
           broker_options.access.auditors().size(),
           absl::GetFlag(FLAGS_case_cache_mb),
           broker_options.search_key.empty() ? "random for this process"
                                             : absl::GetFlag(FLAGS_search_key));
  referral::broker::Broker broker(ports->log(), ports->directory(), broker_options);
  referral::broker::ReferralGrpcService service(&broker, ports->caselog_channel());

  auto host = referral::broker::StartServing(
      absl::GetFlag(FLAGS_listen), absl::GetFlag(FLAGS_port_file),
      "referral.v1.ReferralService", tls, &service);
  if (!host.ok()) {
    LOG_ERROR("{}", host.status().ToString());
    return EXIT_FAILURE;
  }
  LOG_INFO("serving on {} ({}); caselog {}, directory {}", (*host)->address(),
           tls ? "mTLS" : "PLAINTEXT, node from metadata",
           absl::GetFlag(FLAGS_caselog), absl::GetFlag(FLAGS_directory));

  {
    // The search index lives in memory: build it now, while serving, rather
    // than on the first search. A case log not up yet only delays it to that search.
    const absl::Time start = absl::Now();
    absl::Status built = broker.RefreshSearchIndex();
    if (built.ok()) {
      LOG_INFO("search index: {} cases in {} ms", broker.search_index().size(),
               absl::ToInt64Milliseconds(absl::Now() - start));
    } else {
      LOG_WARN("search index not built yet ({}); the first search builds it",
               std::string(built.message()));
    }
  }

  int sig = referral::WaitForTerminationSignal();
  LOG_INFO("signal {}: shutting down", sig);
  (*host)->Shutdown(absl::Seconds(1));
  LOG_INFO("stopped");
  return EXIT_SUCCESS;
}
