// ServiceHost runs one gRPC server the way every service of this project
// runs: on a loopback (or given) address, with grpc.health.v1 (NOT_SERVING
// until the service says it is ready, and again while shutting down), server
// reflection, a bounded thread pool for the synchronous handlers, and a
// graceful shutdown.
//
// Thread safety: SetServing() and Shutdown() may be called from any thread.

#ifndef REFERRAL_SERVICES_RUNTIME_SERVICE_HOST_H_
#define REFERRAL_SERVICES_RUNTIME_SERVICE_HOST_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "services/runtime/identity.h"

namespace referral {

struct ServiceHostOptions {
  // host:port; port 0 picks a free one (see ServiceHost::port()).
  std::string listen = "127.0.0.1:0";
  // When set, the bound port is written here once listening (for tests and
  // scripts that start a server on port 0).
  std::string port_file;
  // Most threads for synchronous handlers. Blocking writers are what feed
  // the store's group commit, so this is also the commit group's ceiling.
  int max_threads = 128;
  // Largest request accepted.
  int max_receive_bytes = 32 << 20;
  // mTLS with these files; plaintext when unset (tests only: callers are
  // then named by metadata).
  std::optional<TlsFiles> tls;
  // Names reported by grpc.health.v1 besides "" (the whole server).
  std::vector<std::string> health_names;
};

class ServiceHost {
 public:
  // Builds and starts the server with `services` (not owned; they must
  // outlive the host). Health starts NOT_SERVING.
  // Errors: UNAVAILABLE when the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<ServiceHost>> Start(
      const ServiceHostOptions& options,
      const std::vector<grpc::Service*>& services);

  ~ServiceHost();

  int port() const { return port_; }
  std::string address() const;

  void SetServing(bool serving);

  // Marks NOT_SERVING, stops accepting calls, lets calls in flight finish
  // within `grace`, then cancels the rest. Idempotent.
  void Shutdown(absl::Duration grace);

  grpc::Server* server() { return server_.get(); }

 private:
  ServiceHost(std::unique_ptr<grpc::Server> server, int port,
              ServiceHostOptions options);
  std::unique_ptr<grpc::Server> server_;
  int port_;
  ServiceHostOptions options_;
  bool shut_down_ = false;
};

// Process-wide settings every server wants; call early in main().
// Debian's Abseil is built with mutex deadlock detection on, which makes
// every absl::Mutex lock (gRPC's and ours) update a global graph: measured
// at 20-25% of the CPU of an Append over gRPC. Services turn it off;
// tests keep it on.
void TuneProcessForServing();

// Call first in main(), before any thread starts: SIGINT and SIGTERM are
// then delivered only to WaitForTerminationSignal().
void BlockTerminationSignals();

// Blocks until SIGINT or SIGTERM arrives; returns the signal number.
int WaitForTerminationSignal();

// The end of every service's main: waits for SIGINT or SIGTERM, runs
// `stopping` (background work to stop first), shuts the host down within
// `grace`, logs each step; returns EXIT_SUCCESS.
int ServeUntilTerminated(ServiceHost& host, absl::Duration grace = absl::Seconds(1),
                         const std::function<void()>& stopping = {});

}  // namespace referral

#endif  // REFERRAL_SERVICES_RUNTIME_SERVICE_HOST_H_
