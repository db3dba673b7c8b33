#pragma once

// The gateway's HTTP/1.1 server for the REST API (Boost.Beast on Asio). Parsing, limits and
// connection handling live here; what a request means is the handler's business
// (rest_api.h), so Beast stays inside http_server.cc.
//
// Threading: a fixed pool of `threads` threads runs every connection (it does not grow with
// connections); each connection is served on its own strand, one request at a time. The
// handler is called on a pool thread and must not block; it answers through `Respond`, which
// may be called once from any thread, also after the server stopped (the answer is dropped).
//
// TLS plugs in at HttpSession in http_server.cc (the handshake before the first read). The
// Authorization header is handed to the handler, which checks it first (RestApi::Handle).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace tern::gateway::rest {

struct HttpServerOptions {
  // host:port; port 0 picks a free one (see HttpServer::port).
  std::string address = "127.0.0.1:8080";
  int threads = 2;
  // The gateway's message limit (ServerOptions::max_message_bytes): larger bodies get 413.
  int64_t max_body_bytes = 4 << 20;
  // Request line plus headers; larger get 431. The gRPC server's metadata limit.
  int64_t max_header_bytes = 16 << 10;
  // From the first byte of a request to its last header byte; a client slower than this (for
  // example one sending headers byte by byte) is disconnected.
  int64_t header_timeout_ms = 10'000;
  // A keep-alive connection without a request, or a request body not received, within this
  // time is closed.
  int64_t idle_timeout_ms = 60'000;
  // Open connections; a connection beyond this gets a 503 answer and is closed.
  int max_connections = 1'000;
};

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, as sent
  std::string content_type;
  std::string authorization;  // the Authorization header, empty when absent
  // What a browser says of the page that sent the request (empty when absent): Host, Origin,
  // Sec-Fetch-Site. The API refuses unsafe cross-site requests with them (rest_api.cc).
  std::string host;
  std::string origin;
  std::string sec_fetch_site;
  std::string body;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;  // empty: no body
  std::string body;
  // Further header fields (e.g. WWW-Authenticate on a 401).
  std::vector<std::pair<std::string, std::string>> headers = {};
};

// Answers one request, once, from any thread. Build runs `make` on the server's threads (on
// the connection's strand), so that turning an answer into JSON does not cost the thread the
// answer arrived on (a partition's).
class Respond {
 public:
  using Post = std::function<void(std::function<HttpResponse()> make)>;
  Respond() = default;
  explicit Respond(Post post) : post_(std::move(post)) {}
  void operator()(HttpResponse response) const {
    post_([response = std::move(response)]() mutable { return std::move(response); });
  }
  void Build(std::function<HttpResponse()> make) const { post_(std::move(make)); }

 private:
  Post post_;
};
using HttpHandler = std::function<void(HttpRequest request, Respond respond)>;

class HttpServer {
 public:
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpServerOptions& options,
                                                           HttpHandler handler);
  ~HttpServer();
  // Stops accepting, closes every connection and joins the threads. Idempotent.
  void Shutdown();
  int port() const;

  struct Core;

 private:
  explicit HttpServer(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  std::shared_ptr<Core> core_;
};

// An RFC 9457 problem document (application/problem+json).
HttpResponse Problem(int status, std::string_view title, std::string_view detail,
                     std::string_view instance);

}  // namespace tern::gateway::rest
