#include "gateway/rest/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/strings.h"

namespace tern::gateway::rest {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace detail {
class HttpSession;
}

// Owned by HttpServer. Sessions and pending Asio handlers refer to it by plain reference (it
// owns the io_context that runs them); answers from other threads reach it through a weak
// reference and check `alive` under `mutex`, so an answer after Shutdown is dropped.
struct HttpServer::Core : std::enable_shared_from_this<HttpServer::Core> {
  HttpServerOptions options;
  HttpHandler handler;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc};
  net::steady_timer accept_retry{ioc};
  std::vector<std::thread> threads;
  int port = 0;

  std::mutex mutex;
  bool alive = true;
  std::unordered_map<detail::HttpSession*, std::shared_ptr<detail::HttpSession>> sessions;

  void Accept();
};

HttpResponse Problem(int status, std::string_view title, std::string_view detail,
                     std::string_view instance) {
  nlohmann::json problem = {{"type", "about:blank"},
                            {"title", title},
                            {"status", status},
                            {"detail", detail},
                            {"instance", instance}};
  return HttpResponse{status, "application/problem+json",
                      problem.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

namespace detail {

// One TCP connection: reads a request, hands it to the handler, writes the answer, repeats
// while keep-alive. Runs on its strand; the handler's answer is posted back to it.
//
// TLS plugs in here: wrap stream_ in a beast::ssl_stream and handshake in Start before the
// first read. Authentication is the handler's first step (RestApi::Handle), shared with gRPC.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, HttpServer::Core& core)
      : stream_(std::move(socket)), core_(core) {}

  void Start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->WaitForRequest(); });
  }

  // Over the connection limit: answer 503 and close.
  void RejectBusy() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] {
      self->version_ = 11;
      self->Write(Problem(503, "Service Unavailable",
                          StrCat("The gateway serves at most ", self->core_.options.max_connections,
                                 " REST connections; try again later"),
                          ""),
                  /*close=*/true);
    });
  }

  // Called by Shutdown once no thread runs the io_context.
  void CloseSocket() {
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

 private:
  using Clock = std::chrono::milliseconds;
  static constexpr size_t kReadChunk = 4096;

  void WaitForRequest() {
    // Bytes of the next request may already be here (a pipelining client).
    if (buffer_.size() > 0) return ReadHeader();
    stream_.expires_after(Clock(core_.options.idle_timeout_ms));
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = shared_from_this()](beast::error_code ec, size_t bytes) {
                              self->buffer_.commit(bytes);
                              if (ec) return self->Close();
                              self->ReadHeader();
                            });
  }

  void ReadHeader() {
    head_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(core_.options.max_header_bytes));
    parser_->body_limit(static_cast<uint64_t>(core_.options.max_body_bytes));
    stream_.expires_after(Clock(core_.options.header_timeout_ms));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec) return OnReadError(ec);
    stream_.expires_after(Clock(core_.options.idle_timeout_ms));
    auto expect = parser_->get()[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      // curl and others wait for this before sending a larger body.
      continue_.emplace(http::status::continue_, parser_->get().version());
      http::async_write(stream_, *continue_,
                        [self = shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return self->Close();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->OnRequest();
                     });
  }

  void OnReadError(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return Write(Problem(413, "Payload Too Large",
                           StrCat("The request body is larger than the limit of ",
                                  core_.options.max_body_bytes, " bytes"),
                           Target()),
                   /*close=*/true);
    }
    if (ec == http::error::header_limit) {
      return Write(Problem(431, "Request Header Fields Too Large",
                           StrCat("The request line and headers are larger than the limit of ",
                                  core_.options.max_header_bytes, " bytes"),
                           ""),
                   /*close=*/true);
    }
    if (ec == beast::error::timeout || ec == http::error::end_of_stream ||
        ec == http::error::partial_message || ec == net::error::eof ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset) {
      return Close();
    }
    Write(Problem(400, "Bad Request", StrCat("Malformed HTTP request: ", ec.message()), ""),
          /*close=*/true);
  }

  std::string Target() const {
    // The request line is parsed before the headers, so the target is known even when the
    // headers broke a limit.
    if (!parser_) return "";
    return std::string(parser_->get().target());
  }

  void OnRequest() {
    auto& message = parser_->get();
    version_ = message.version();
    keep_alive_ = message.keep_alive();
    head_ = message.method() == http::verb::head;
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    request.content_type = std::string(message[http::field::content_type]);
    request.authorization = std::string(message[http::field::authorization]);
    request.host = std::string(message[http::field::host]);
    request.origin = std::string(message[http::field::origin]);
    request.sec_fetch_site = std::string(message["Sec-Fetch-Site"]);
    request.body = std::move(message.body());
    parser_.reset();
    // The handler's own deadlines bound the wait (requestTimeout, long polling).
    stream_.expires_never();
    // Authentication is the handler's first step (RestApi::Handle, with the gRPC calls' check).
    Respond respond([weak_core = core_.weak_from_this(),
                     weak_self = weak_from_this()](std::function<HttpResponse()> make) {
      auto core = weak_core.lock();
      if (!core) return;
      std::lock_guard lock(core->mutex);
      if (!core->alive) return;
      auto self = weak_self.lock();
      if (!self) return;
      net::post(self->stream_.get_executor(),
                [self, make = std::move(make)] { self->Write(make(), /*close=*/false); });
    });
    core_.handler(std::move(request), std::move(respond));
  }

  void Write(HttpResponse answer, bool close) {
    bool keep_alive = keep_alive_ && !close;
    response_.emplace(static_cast<http::status>(answer.status), version_);
    if (!answer.content_type.empty()) {
      response_->set(http::field::content_type, answer.content_type);
    }
    for (const auto& [name, value] : answer.headers) response_->set(name, value);
    response_->keep_alive(keep_alive);
    if (head_) {
      // HEAD: the GET answer's headers and length, without its body (RFC 9110 9.3.2).
      response_->content_length(answer.body.size());
    } else {
      response_->body() = std::move(answer.body);
      response_->prepare_payload();
    }
    stream_.expires_after(Clock(core_.options.idle_timeout_ms));
    http::async_write(stream_, *response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        self->response_.reset();
                        if (ec || !keep_alive) return self->Close();
                        self->WaitForRequest();
                      });
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
    std::lock_guard lock(core_.mutex);
    core_.sessions.erase(this);
  }

  beast::tcp_stream stream_;
  HttpServer::Core& core_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<http::response<http::string_body>> response_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool head_ = false;  // the request being answered is a HEAD
  bool closed_ = false;
};

}  // namespace detail

void HttpServer::Core::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (ec == net::error::operation_aborted) return;
    if (ec) {
      // Out of file descriptors or similar: try again shortly instead of spinning.
      spdlog::warn("REST API: accept failed: {}", ec.message());
      accept_retry.expires_after(std::chrono::milliseconds(100));
      accept_retry.async_wait([this](beast::error_code wait_ec) {
        if (!wait_ec) Accept();
      });
      return;
    }
    auto session = std::make_shared<detail::HttpSession>(std::move(socket), *this);
    bool over_limit;
    {
      std::lock_guard lock(mutex);
      over_limit = static_cast<int>(sessions.size()) >= options.max_connections;
      if (!over_limit && alive) sessions.emplace(session.get(), session);
    }
    if (over_limit) {
      session->RejectBusy();
    } else {
      session->Start();
    }
    Accept();
  });
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(const HttpServerOptions& options,
                                                              HttpHandler handler) {
  auto colon = options.address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(
        StrCat("REST address '", options.address, "' is not host:port"));
  }
  std::string host = options.address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = 0;
  try {
    port = std::stoi(options.address.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        StrCat("REST address '", options.address, "' has no valid port"));
  }
  auto core = std::make_shared<Core>();
  core->options = options;
  core->handler = std::move(handler);
  beast::error_code ec;
  tcp::endpoint endpoint;
  auto ip = net::ip::make_address(host.empty() ? "0.0.0.0" : host, ec);
  if (ec) {
    tcp::resolver resolver(core->ioc);
    auto results = resolver.resolve(host, std::to_string(port), ec);
    if (ec || results.empty()) {
      return absl::InvalidArgumentError(
          StrCat("REST address '", options.address, "': cannot resolve '", host, "'"));
    }
    endpoint = *results.begin();
  } else {
    endpoint = tcp::endpoint(ip, static_cast<uint16_t>(port));
  }
  core->acceptor.open(endpoint.protocol(), ec);
  if (!ec) core->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) core->acceptor.bind(endpoint, ec);
  if (!ec) core->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        StrCat("cannot listen on the REST address ", options.address, ": ", ec.message()));
  }
  core->port = core->acceptor.local_endpoint().port();
  core->Accept();
  int threads = std::max(1, options.threads);
  for (int i = 0; i < threads; ++i) {
    core->threads.emplace_back([raw = core.get()] { raw->ioc.run(); });
  }
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(core)));
}

HttpServer::~HttpServer() { Shutdown(); }

int HttpServer::port() const { return core_->port; }

void HttpServer::Shutdown() {
  {
    std::lock_guard lock(core_->mutex);
    if (!core_->alive) return;
    core_->alive = false;
  }
  core_->ioc.stop();
  for (auto& thread : core_->threads) thread.join();
  core_->threads.clear();
  beast::error_code ignored;
  core_->acceptor.close(ignored);
  decltype(core_->sessions) sessions;
  {
    std::lock_guard lock(core_->mutex);
    sessions.swap(core_->sessions);
  }
  for (auto& [raw, session] : sessions) session->CloseSocket();
  // Handlers still queued in the io_context (and the sessions they hold) go with the Core,
  // when the last answer in flight lets go of it.
}

}  // namespace tern::gateway::rest
