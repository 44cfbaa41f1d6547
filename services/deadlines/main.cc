// deadlines: the durable timers (referral.v1.DeadlineService). Follows the
// case log for deadlines, records warnings, breaches with their escalations
// and reminders exactly once, and answers what is open.

#include <cstdlib>
#include <optional>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "clients/cpp/caselog_client.h"
#include "common/log.h"
#include "grpcpp/create_channel.h"
#include "services/deadlines/calendar.h"
#include "services/deadlines/deadlines_grpc_service.h"
#include "services/deadlines/scheduler.h"
#include "services/referral/grpc_ports.h"
#include "services/runtime/identity.h"
#include "services/runtime/service_host.h"
#include "storage/event_store.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50106",
          "host:port to serve on; port 0 picks a free port");
ABSL_FLAG(std::string, caselog, "127.0.0.1:50101", "the caselog service");
ABSL_FLAG(std::string, directory, "127.0.0.1:50102", "the directory service");
ABSL_FLAG(std::string, calendar, "",
          "working-day calendar (TOML, e.g. config/calendar.toml); empty = "
          "Monday to Friday 08:30-17:30 Asia/Shanghai with no holidays");
ABSL_FLAG(std::string, supervisor, "qinzhou.justice",
          "where a breach escalates when the deadline names no node and the "
          "responsible node has no parent in the directory");
ABSL_FLAG(std::string, node, "qinzhou.deadlines",
          "the source node name of the events this service records");
ABSL_FLAG(absl::Duration, poll, absl::Seconds(1),
          "how often the case log is read for new deadlines");
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
      "Serves referral.v1.DeadlineService and fires the case log's deadlines.");
  absl::ParseCommandLine(argc, argv);
  referral::BlockTerminationSignals();
  referral::TuneProcessForServing();
  referral::InitLogging("deadlines", absl::GetFlag(FLAGS_log_level));

  for (const auto& [flag, value] :
       {std::pair<const char*, std::string>{"--supervisor", absl::GetFlag(FLAGS_supervisor)},
        {"--node", absl::GetFlag(FLAGS_node)}}) {
    if (absl::Status s = referral::storage::ValidateNodeName(value, flag); !s.ok()) {
      LOG_ERROR("{} \"{}\" is not a node name: {}", flag, value, std::string(s.message()));
      return EXIT_FAILURE;
    }
  }
  if (absl::GetFlag(FLAGS_poll) <= absl::ZeroDuration()) {
    LOG_ERROR("--poll must be positive, e.g. 1s or 500ms");
    return EXIT_FAILURE;
  }
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

  referral::deadlines::SchedulerOptions scheduler_options;
  scheduler_options.default_supervisor = absl::GetFlag(FLAGS_supervisor);
  scheduler_options.node = absl::GetFlag(FLAGS_node);
  scheduler_options.poll_interval = absl::GetFlag(FLAGS_poll);
  scheduler_options.calendar = &*calendar;
  referral::deadlines::Scheduler scheduler(ports->log(), ports->directory(),
                                           scheduler_options);
  referral::deadlines::DeadlineGrpcService service(&scheduler);

  auto host = referral::broker::StartServing(
      absl::GetFlag(FLAGS_listen), absl::GetFlag(FLAGS_port_file),
      "referral.v1.DeadlineService", tls, &service);
  if (!host.ok()) {
    LOG_ERROR("{}", host.status().ToString());
    return EXIT_FAILURE;
  }
  std::thread timers([&scheduler] { scheduler.Run(); });
  LOG_INFO("serving on {} ({}); caselog {}, directory {}, calendar {}, "
           "escalating to {} by default, recording as {}",
           (*host)->address(), tls ? "mTLS" : "PLAINTEXT, node from metadata",
           absl::GetFlag(FLAGS_caselog), absl::GetFlag(FLAGS_directory),
           calendar->name(), absl::GetFlag(FLAGS_supervisor),
           absl::GetFlag(FLAGS_node));

  return referral::ServeUntilTerminated(**host, absl::Seconds(1), [&] {
    scheduler.Stop();
    timers.join();
  });
}
