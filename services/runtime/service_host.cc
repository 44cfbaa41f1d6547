#include "services/runtime/service_host.h"

#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/strings/str_split.h"
#include "common/errors.h"
#include "common/log.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace referral {

absl::StatusOr<std::unique_ptr<ServiceHost>> ServiceHost::Start(
    const ServiceHostOptions& options,
    const std::vector<grpc::Service*>& services) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();

  auto credentials = ServerCredentialsFor(options.tls);
  if (!credentials.ok()) return credentials.status();
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(options.listen, *credentials, &port);
  grpc::ResourceQuota quota("referral-service");
  quota.SetMaxThreads(options.max_threads);
  builder.SetResourceQuota(quota);
  builder.SetMaxReceiveMessageSize(options.max_receive_bytes);
  // With gRPC's default of two pollers the sync server starts and stops a
  // thread per burst of calls (thousands a second under load); keeping
  // pollers around costs idle threads, not CPU.
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MIN_POLLERS, 4);
  builder.SetSyncServerOption(grpc::ServerBuilder::SyncServerOption::MAX_POLLERS,
                              std::max(4, options.max_threads / 2));
  for (grpc::Service* s : services) builder.RegisterService(s);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    return MakeError(ErrorReason::kUnavailable,
                     absl::StrCat("cannot listen on ", options.listen,
                                  ": is the port in use?"),
                     absl::StrCat("无法监听 ", options.listen, "，端口可能被占用"));
  }
  auto host = std::unique_ptr<ServiceHost>(
      new ServiceHost(std::move(server), port, options));
  host->SetServing(false);
  if (!options.port_file.empty()) {
    // Write then rename, so a reader never sees a half-written port.
    std::string tmp = options.port_file + ".tmp";
    { std::ofstream(tmp) << port << "\n"; }
    std::rename(tmp.c_str(), options.port_file.c_str());
  }
  return host;
}

ServiceHost::ServiceHost(std::unique_ptr<grpc::Server> server, int port,
                         ServiceHostOptions options)
    : server_(std::move(server)), port_(port), options_(std::move(options)) {}

ServiceHost::~ServiceHost() { Shutdown(absl::ZeroDuration()); }

std::string ServiceHost::address() const {
  std::pair<std::string, std::string> hp =
      absl::StrSplit(options_.listen, absl::MaxSplits(':', 1));
  return absl::StrCat(hp.first, ":", port_);
}

void ServiceHost::SetServing(bool serving) {
  auto* health = server_->GetHealthCheckService();
  if (health == nullptr) return;
  health->SetServingStatus(serving);  // "" and every registered name
  for (const auto& name : options_.health_names) {
    health->SetServingStatus(name, serving);
  }
}

void ServiceHost::Shutdown(absl::Duration grace) {
  if (shut_down_) return;
  shut_down_ = true;
  SetServing(false);
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  server_->Wait();
}

void TuneProcessForServing() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

void BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForTerminationSignal() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

int ServeUntilTerminated(ServiceHost& host, absl::Duration grace,
                         const std::function<void()>& stopping) {
  const int sig = WaitForTerminationSignal();
  LOG_INFO("signal {}: shutting down", sig);
  if (stopping) stopping();
  host.Shutdown(grace);
  LOG_INFO("stopped");
  return EXIT_SUCCESS;
}

}  // namespace referral
