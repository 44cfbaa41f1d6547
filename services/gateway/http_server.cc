#include "services/gateway/http_server.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/errors.h"
#include "common/log.h"
#include "httplib.h"

namespace referral::gateway {
namespace {

namespace fs = std::filesystem;

constexpr char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'";

// The console's files: one folder, no subfolders, these kinds only.
constexpr char kStaticPattern[] = R"(/([A-Za-z0-9_-]+\.(html|js|css|svg)))";

const char* ContentTypeOf(const std::string& name) {
  if (absl::EndsWith(name, ".html")) return "text/html; charset=utf-8";
  if (absl::EndsWith(name, ".js")) return "text/javascript; charset=utf-8";
  if (absl::EndsWith(name, ".css")) return "text/css; charset=utf-8";
  return "image/svg+xml; charset=utf-8";
}

void SendError(httplib::Response& res, const absl::Status& status) {
  res.status = HttpStatusOf(status.code());
  res.set_content(ErrorJson(status), "application/json; charset=utf-8");
}

// The authority of an Origin header value ("http://127.0.0.1:8080").
std::string OriginAuthority(const std::string& origin) {
  size_t scheme = origin.find("://");
  return scheme == std::string::npos ? std::string() : origin.substr(scheme + 3);
}

absl::Status WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot write ", path, ": ", ec.message()));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              Console* console) {
  absl::StatusOr<ListenAddress> listen = ParseLoopbackListen(options.listen);
  if (!listen.ok()) return listen.status();
  const std::string static_dir = options.static_dir;
  if (!fs::is_regular_file(fs::path(static_dir) / "index.html")) {
    return MakeError(ErrorReason::kConfigInvalid,
                     absl::StrCat("--static_dir=", static_dir,
                                  " has no index.html; pass the folder of the console's "
                                  "files (services/gateway/console)"),
                     "找不到控制台页面文件（index.html）。");
  }

  std::unique_ptr<HttpServer> self(new HttpServer());
  self->server_ = std::make_unique<httplib::Server>();
  httplib::Server& server = *self->server_;

  server.set_default_headers({
      {"Content-Security-Policy", kContentSecurityPolicy},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
  });
  server.set_payload_max_length(1 << 20);

  server.set_pre_routing_handler([](const httplib::Request& req, httplib::Response& res) {
    const std::string host = req.get_header_value("Host");
    if (!IsLoopbackAuthority(host)) {
      SendError(res, absl::PermissionDeniedError(absl::StrCat(
                         "Host \"", host,
                         "\" is not this machine's loopback: the console answers only "
                         "http://127.0.0.1 or http://localhost")));
      return httplib::Server::HandlerResponse::Handled;
    }
    if (req.has_header("Origin") &&
        !IsLoopbackAuthority(OriginAuthority(req.get_header_value("Origin")))) {
      SendError(res, absl::PermissionDeniedError(absl::StrCat(
                         "requests from pages of ", req.get_header_value("Origin"),
                         " are refused: only the console's own pages may call its API")));
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });

  auto api = [console](const httplib::Request& req, httplib::Response& res) {
    ApiRequest request;
    request.method = req.method;
    request.path = req.path;
    for (const auto& [k, v] : req.params) request.query.emplace(k, v);
    request.body = req.body;
    request.node = req.get_header_value("X-Referral-Node");
    ApiResponse response = console->Handle(request);
    res.status = response.status;
    res.set_header("Cache-Control", "no-store");
    res.set_content(response.body, response.content_type.c_str());
  };
  server.Get(R"(/api/v1/.*)", api);
  server.Post(R"(/api/v1/.*)", api);

  server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"status":"SERVING"})", "application/json; charset=utf-8");
  });

  auto file = [static_dir](const std::string& name, httplib::Response& res) {
    std::ifstream in(fs::path(static_dir) / name, std::ios::binary);
    if (!in) {
      res.status = 404;
      res.set_content("not found\n", "text/plain; charset=utf-8");
      return;
    }
    std::ostringstream content;
    content << in.rdbuf();
    res.set_header("Cache-Control", "no-cache");
    res.set_content(content.str(), ContentTypeOf(name));
  };
  server.Get("/", [file](const httplib::Request&, httplib::Response& res) {
    file("index.html", res);
  });
  server.Get(kStaticPattern, [file](const httplib::Request& req, httplib::Response& res) {
    file(req.matches[1].str(), res);
  });

  server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
    LOG_DEBUG("{} {} -> {} (as {})", req.method, req.path, res.status,
              req.get_header_value("X-Referral-Node"));
  });

  self->host_ = listen->host;
  if (listen->port == 0) {
    self->port_ = server.bind_to_any_port(listen->host);
    if (self->port_ <= 0) self->port_ = 0;
  } else if (server.bind_to_port(listen->host, listen->port)) {
    self->port_ = listen->port;
  }
  if (self->port_ == 0) {
    return MakeError(ErrorReason::kUnavailable,
                     absl::StrCat("cannot listen on ", options.listen,
                                  " (in use? pass another --listen port)"),
                     absl::StrCat("无法监听 ", options.listen, "（端口被占用？）"));
  }
  self->thread_ = std::thread([&server] { server.listen_after_bind(); });
  // stop() is a no-op until the loop runs, so Stop() right after Start()
  // must not race it; the loop starts within microseconds.
  for (int i = 0; i < 5000 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!options.port_file.empty()) {
    absl::Status written = WritePortFile(options.port_file, self->port_);
    if (!written.ok()) return written;
  }
  return self;
}

HttpServer::~HttpServer() { Stop(); }

std::string HttpServer::url() const {
  const bool v6 = absl::StrContains(host_, ':');
  return absl::StrCat("http://", v6 ? "[" : "", host_, v6 ? "]" : "", ":", port_, "/");
}

void HttpServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace referral::gateway
