// The console over HTTP (cpp-httplib): /api/v1/... goes to Console, the
// console's static files (index.html, app.js, app.css) come from a folder,
// /healthz answers {"status": "SERVING"}. Nothing is decided here that the
// core could decide; this file only translates.
//
// A loopback console for an agency desk, not an internet-facing server. It
// has no login: whoever can reach it acts as any node it was started for,
// with that node's certificate. So:
//  - it binds to a loopback address only (127.0.0.0/8 or ::1) and refuses
//    anything else at start-up, saying why (ParseLoopbackListen);
//  - it answers only requests whose Host (and Origin, when sent) names the
//    loopback, so a web page elsewhere cannot reach it through a name that
//    resolves to 127.0.0.1 (DNS rebinding); others get 403;
//  - the API needs the X-Referral-Node header, which a page of another
//    origin cannot send without a CORS preflight the console never grants;
//  - every response carries a Content-Security-Policy that allows only the
//    console's own scripts, so data shown on a page cannot run as code.
//
// Thread safety: Start() and Stop() from one thread; requests are served on
// cpp-httplib's worker pool.

#ifndef REFERRAL_SERVICES_GATEWAY_HTTP_SERVER_H_
#define REFERRAL_SERVICES_GATEWAY_HTTP_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "services/gateway/console.h"

namespace httplib {
class Server;
}

namespace referral::gateway {

struct HttpServerOptions {
  // A loopback host:port; port 0 picks a free port.
  std::string listen = "127.0.0.1:8080";
  // Folder of the console's files (index.html, app.js, app.css). Read on
  // each request, so an edited file shows on reload.
  std::string static_dir;
  // When set, the bound port is written here once listening.
  std::string port_file;
};

class HttpServer {
 public:
  // Binds and starts serving `console` (not owned; must outlive the
  // server). INVALID_ARGUMENT (CONFIG_INVALID) for a non-loopback or
  // malformed address, or a static_dir without index.html; UNAVAILABLE when
  // the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           Console* console);
  ~HttpServer();

  int port() const { return port_; }
  // "http://127.0.0.1:8080/".
  std::string url() const;

  // Stops accepting and waits for the serving thread. Idempotent.
  void Stop();

 private:
  HttpServer() = default;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::string host_;
  int port_ = 0;
};

}  // namespace referral::gateway

#endif  // REFERRAL_SERVICES_GATEWAY_HTTP_SERVER_H_
