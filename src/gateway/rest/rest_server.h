#pragma once

// The REST API served: an HttpServer whose handler is a RestApi over a GatewayService, and the
// web console's files (StaticFiles) on the paths outside /v2. What the embedded gateway
// (src/broker) and tern-gateway start next to the gRPC server.

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "gateway/gateway_service.h"
#include "gateway/rest/http_server.h"
#include "gateway/rest/rest_api.h"
#include "gateway/rest/static_files.h"

namespace tern::gateway::rest {

class RestServer {
 public:
  // Serves `service` (which must outlive the server) on options.address; `search` (which must
  // outlive it too) answers the searches and reads of history, none when null.
  static absl::StatusOr<std::unique_ptr<RestServer>> Start(const HttpServerOptions& options,
                                                           GatewayService& service,
                                                           SearchBackend* search = nullptr) {
    auto server = std::unique_ptr<RestServer>(new RestServer(service, search));
    auto http =
        HttpServer::Start(options, [self = server.get()](HttpRequest request, Respond respond) {
          self->Dispatch(std::move(request), std::move(respond));
        });
    if (!http.ok()) return http.status();
    server->http_ = *std::move(http);
    return server;
  }
  ~RestServer() { Shutdown(); }
  void Shutdown() {
    if (http_) http_->Shutdown();
  }
  int port() const { return http_ ? http_->port() : 0; }

  // Serves the web console from `dir` on every path outside /v2 (docs/console.md): "" or "none"
  // turns it off, "auto" is DefaultConsoleDir(). A directory without the console leaves it off
  // with an info line; /v2 is served either way. Returns whether the console is on.
  bool ServeConsole(const std::string& dir) {
    std::shared_ptr<const StaticFiles> files = OpenConsole(dir);
    std::lock_guard lock(console_mutex_);
    console_ = std::move(files);
    return console_ != nullptr;
  }

 private:
  RestServer(GatewayService& service, SearchBackend* search)
      : api_(std::make_unique<RestApi>(service, search)) {}
  // On the HTTP server's threads: the console's files answer every path outside /v2 when the
  // console is on; the API answers the rest (and 404 outside /v2 without a console).
  void Dispatch(HttpRequest request, Respond respond) {
    std::string_view target = request.target;
    if (!IsApiPath(target.substr(0, target.find_first_of("?#")))) {
      std::shared_ptr<const StaticFiles> console;
      {
        std::lock_guard lock(console_mutex_);
        console = console_;
      }
      if (console) return respond(console->Serve(request));
    }
    api_->Handle(std::move(request), std::move(respond));
  }
  std::unique_ptr<RestApi> api_;
  std::unique_ptr<HttpServer> http_;
  std::mutex console_mutex_;
  std::shared_ptr<const StaticFiles> console_;
};

}  // namespace tern::gateway::rest
