#include "broker/monitoring.h"

#include <CivetServer.h>

#include <vector>

#include "base/strings.h"

namespace tern::broker {

class MonitoringServer::Handler : public CivetHandler {
 public:
  using Body = std::function<std::pair<int, std::string>(const std::string& query)>;
  Handler(std::string content_type, Body body)
      : content_type_(std::move(content_type)), body_(std::move(body)) {}

  bool handleGet(CivetServer*, struct mg_connection* connection) override {
    const mg_request_info* info = mg_get_request_info(connection);
    std::string query = info && info->query_string ? info->query_string : "";
    auto [code, body] = body_(query);
    const char* reason = code == 200 ? "OK" : "Service Unavailable";
    mg_printf(connection,
              "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
              "Connection: close\r\n\r\n",
              code, reason, content_type_.c_str(), body.size());
    mg_write(connection, body.data(), body.size());
    return true;
  }

 private:
  std::string content_type_;
  Body body_;
};

// Serves /actuator/backups[/{id}] with the methods Zeebe's backup API uses.
class MonitoringServer::BackupsHandler : public CivetHandler {
 public:
  explicit BackupsHandler(MonitoringServer* server) : server_(server) {}
  bool handleGet(CivetServer*, mg_connection* connection) override {
    return Serve("GET", connection);
  }
  bool handlePost(CivetServer*, mg_connection* connection) override {
    return Serve("POST", connection);
  }
  bool handleDelete(CivetServer*, mg_connection* connection) override {
    return Serve("DELETE", connection);
  }

 private:
  static constexpr size_t kMaxBodyBytes = 64 << 10;

  bool Serve(const char* method, mg_connection* connection) {
    const mg_request_info* info = mg_get_request_info(connection);
    std::string uri = info && info->local_uri ? info->local_uri : "";
    constexpr std::string_view kPrefix = "/actuator/backups";
    std::string subpath = uri.size() > kPrefix.size() ? uri.substr(kPrefix.size()) : "";
    std::string body;
    char buffer[4096];
    int read = 0;
    while (body.size() < kMaxBodyBytes &&
           (read = mg_read(connection, buffer, sizeof(buffer))) > 0) {
      body.append(buffer, static_cast<size_t>(read));
    }
    auto [code, answer] = server_->handlers_.backups(method, subpath, body);
    const char* reason = code == 200   ? "OK"
                         : code == 202 ? "Accepted"
                         : code == 204 ? "No Content"
                         : code == 400 ? "Bad Request"
                         : code == 404 ? "Not Found"
                         : code == 405 ? "Method Not Allowed"
                         : code == 409 ? "Conflict"
                         : code == 502 ? "Bad Gateway"
                         : code == 504 ? "Gateway Timeout"
                                       : "Internal Server Error";
    mg_printf(connection,
              "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
              "Connection: close\r\n\r\n",
              code, reason, answer.size());
    mg_write(connection, answer.data(), answer.size());
    return true;
  }

  MonitoringServer* server_;
};

absl::StatusOr<std::unique_ptr<MonitoringServer>> MonitoringServer::Start(
    const std::string& address, MonitoringHandlers handlers) {
  std::unique_ptr<MonitoringServer> server(new MonitoringServer());
  server->handlers_ = std::move(handlers);
  // civetweb gives each connection a worker thread until its request has arrived, so idle or
  // half-open connections (a port scan, a slowloris client, a probe that died) hold workers.
  // Enough workers that dozens of them leave /ready and /health answering at once, and a short
  // request timeout so each such connection lets go of its worker within seconds. Keep-alive
  // stays off: every answer closes its connection.
  std::vector<std::string> options = {"listening_ports",   address, "num_threads",        "64",
                                      "connection_queue",  "128",   "request_timeout_ms", "3000",
                                      "enable_keep_alive", "no"};
  try {
    server->server_ = std::make_unique<CivetServer>(options);
  } catch (const CivetException& error) {
    return absl::UnavailableError(
        StrCat("cannot serve monitoring on ", address, ": ", error.what()));
  }
  if (server->server_->getContext() == nullptr) {
    return absl::UnavailableError(StrCat("cannot serve monitoring on ", address));
  }
  auto* self = server.get();
  auto route = [&](const std::string& path, std::string type, Handler::Body body) {
    server->routes_.push_back(std::make_unique<Handler>(std::move(type), std::move(body)));
    server->server_->addHandler(path, server->routes_.back().get());
  };
  route("/health", "text/plain", [self](const std::string&) {
    bool ok = self->handlers_.healthy();
    return std::make_pair(ok ? 200 : 503, std::string(ok ? "healthy\n" : "unhealthy\n"));
  });
  route("/ready", "text/plain", [self](const std::string&) {
    bool ok = self->handlers_.ready();
    return std::make_pair(ok ? 200 : 503, std::string(ok ? "ready\n" : "not ready\n"));
  });
  route("/metrics", "text/plain; version=0.0.4",
        [self](const std::string&) { return std::make_pair(200, self->handlers_.metrics()); });
  route("/partitions", "application/json", [self](const std::string& query) {
    bool checksum = query.find("checksum=true") != std::string::npos;
    return std::make_pair(200, self->handlers_.partitions(checksum));
  });
  if (server->handlers_.backups) {
    server->backups_route_ = std::make_unique<BackupsHandler>(self);
    server->server_->addHandler("/actuator/backups", server->backups_route_.get());
  }
  route("/incidents", "application/json",
        [self](const std::string&) { return std::make_pair(200, self->handlers_.incidents()); });
  return server;
}

MonitoringServer::~MonitoringServer() {
  if (server_) server_->close();
}

}  // namespace tern::broker
