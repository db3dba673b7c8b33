#pragma once

// The REST API served: an HttpServer whose handler is a RestApi over a GatewayService. What
// the embedded gateway (src/broker) and tern-gateway start next to the gRPC server.

#include <memory>

#include "absl/status/statusor.h"
#include "gateway/gateway_service.h"
#include "gateway/rest/http_server.h"
#include "gateway/rest/rest_api.h"

namespace tern::gateway::rest {

class RestServer {
 public:
  // Serves `service` (which must outlive the server) on options.address; `search` (which must
  // outlive it too) answers the searches and reads of history, none when null.
  static absl::StatusOr<std::unique_ptr<RestServer>> Start(const HttpServerOptions& options,
                                                           GatewayService& service,
                                                           SearchBackend* search = nullptr) {
    auto server = std::unique_ptr<RestServer>(new RestServer(service, search));
    auto http = HttpServer::Start(options,
                                  [api = server->api_.get()](HttpRequest request, Respond respond) {
                                    api->Handle(std::move(request), std::move(respond));
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

 private:
  RestServer(GatewayService& service, SearchBackend* search)
      : api_(std::make_unique<RestApi>(service, search)) {}
  std::unique_ptr<RestApi> api_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace tern::gateway::rest
