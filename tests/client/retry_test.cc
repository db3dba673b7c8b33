// Command retries, credentials and TLS against an in-process fake gateway.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "fake_gateway.h"
#include "tern/client.h"
#include "test_util.h"

namespace tern {
namespace {

using std::chrono::milliseconds;
using testing::FakeGateway;
namespace gp = ::gateway_protocol;

Client ClientFor(const FakeGateway& fake, RetryPolicy retry = {}) {
  auto client = Client::newClientBuilder()
                    .gatewayAddress(fake.address())
                    .retryPolicy(retry)
                    .defaultRequestTimeout(std::chrono::seconds(20))
                    .build();
  EXPECT_TRUE(client.ok()) << client.status();
  return *client;
}

RetryPolicy FastRetries(int attempts) {
  RetryPolicy retry;
  retry.maxAttempts = attempts;
  retry.initialBackoff = milliseconds(50);
  retry.maxBackoff = milliseconds(400);
  retry.multiplier = 2.0;
  return retry;
}

TEST(RetryTest, RetriesResourceExhaustedAndUnavailableUntilSuccess) {
  FakeGateway fake;
  std::atomic<int> answered{0};
  fake.on_complete = [&](const gp::CompleteJobRequest&) {
    int n = answered++;
    if (n == 0) return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED, "busy");
    if (n == 1) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "leader changed");
    return grpc::Status::OK;
  };
  fake.Start();
  auto client = ClientFor(fake, FastRetries(5));
  auto result = client.newCompleteCommand(7).variables({{"x", 1}}).send().get();
  ASSERT_TRUE(result.ok()) << result.status();
  auto calls = fake.calls();
  ASSERT_EQ(calls.size(), 3u);
  // Each retry waited at least the policy's delay (50 ms, then 100 ms, minus 20% jitter).
  EXPECT_GE(calls[1].received - calls[0].received, milliseconds(40));
  EXPECT_GE(calls[2].received - calls[1].received, milliseconds(80));
  // The same request every time.
  auto completes = fake.completes();
  ASSERT_EQ(completes.size(), 3u);
  for (const auto& c : completes) {
    EXPECT_EQ(c.jobkey(), 7);
    EXPECT_EQ(c.variables(), R"({"x":1})");
  }
}

TEST(RetryTest, GivesUpAfterMaxAttemptsWithTheGatewaysError) {
  FakeGateway fake;
  fake.on_complete = [](const gp::CompleteJobRequest&) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "Reached maximum capacity of requests handled");
  };
  fake.Start();
  auto client = ClientFor(fake, FastRetries(3));
  auto result = client.newCompleteCommand(7).send().get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(result.status().message(), "Reached maximum capacity of requests handled");
  EXPECT_EQ(fake.CountCalls("CompleteJob"), 3);
}

TEST(RetryTest, BacksOffFromCreatesRefusedByBackpressure) {
  // A partition over its in-flight limit refuses new instances with RESOURCE_EXHAUSTED; the
  // client waits longer before each attempt (exponential, jittered) instead of hammering it.
  FakeGateway fake;
  std::atomic<int> answered{0};
  fake.on_create = [&](const gp::CreateProcessInstanceRequest&,
                       gp::CreateProcessInstanceResponse* response) {
    if (answered++ < 3) {
      return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                          "Reached maximum capacity of requests handled: partition 1 is "
                          "overloaded (800 commands in flight, limit 800); retry later");
    }
    response->set_processinstancekey(42);
    return grpc::Status::OK;
  };
  fake.Start();
  auto client = ClientFor(fake, FastRetries(5));
  auto result = client.newCreateInstanceCommand().bpmnProcessId("order").send().get();
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->processInstanceKey, 42);
  auto calls = fake.calls();
  ASSERT_EQ(calls.size(), 4u);
  // 50, 100, then 200 ms, each at least 80% of that (jitter is +/-20%).
  EXPECT_GE(calls[1].received - calls[0].received, milliseconds(40));
  EXPECT_GE(calls[2].received - calls[1].received, milliseconds(80));
  EXPECT_GE(calls[3].received - calls[2].received, milliseconds(160));
}

TEST(RetryTest, DoesNotRetryOtherErrors) {
  FakeGateway fake;
  fake.on_fail = [](const gp::FailJobRequest&) {
    return grpc::Status(grpc::StatusCode::NOT_FOUND,
                        "Command 'FAIL' rejected with code 'NOT_FOUND': no such job");
  };
  fake.Start();
  auto client = ClientFor(fake, FastRetries(5));
  auto result = client.newFailCommand(9).retries(1).send().get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(result.status().message(),
            "Command 'FAIL' rejected with code 'NOT_FOUND': no such job");
  EXPECT_EQ(fake.CountCalls("FailJob"), 1);
}

TEST(RetryTest, NeverRetriesAnswersWhoseOutcomeIsUnknown) {
  // UNKNOWN, DEADLINE_EXCEEDED and ABORTED may come after the command took effect: sending a
  // non-idempotent command (ThrowError here; creates alike) again could apply it twice.
  for (auto code : {grpc::StatusCode::UNKNOWN, grpc::StatusCode::DEADLINE_EXCEEDED,
                    grpc::StatusCode::ABORTED}) {
    FakeGateway fake;
    fake.on_throw_error = [code](const gp::ThrowErrorRequest&) {
      return grpc::Status(code, "it may or may not have taken effect");
    };
    fake.Start();
    auto client = ClientFor(fake, FastRetries(5));
    auto result = client.newThrowErrorCommand(11).errorCode("E1").send().get();
    ASSERT_FALSE(result.ok());
    EXPECT_EQ(static_cast<int>(result.status().code()), static_cast<int>(code));
    EXPECT_EQ(fake.CountCalls("ThrowError"), 1);
  }
}

TEST(RetryTest, RetriesStopAtTheRequestTimeout) {
  FakeGateway fake;
  fake.on_complete = [](const gp::CompleteJobRequest&) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, "down");
  };
  fake.Start();
  RetryPolicy retry;
  retry.maxAttempts = 100;
  retry.initialBackoff = milliseconds(200);
  retry.maxBackoff = milliseconds(200);
  auto client = ClientFor(fake, retry);
  // A 300 ms budget leaves room for at most two attempts 200 ms (+/-20%) apart.
  auto result = client.newCompleteCommand(1).requestTimeout(milliseconds(300)).send().get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnavailable);
  EXPECT_LE(fake.CountCalls("CompleteJob"), 2);
}

TEST(AsyncTest, CallbackRunsOnTheClientsCallbackThreadAndFutureWorks) {
  FakeGateway fake;
  fake.Start();
  auto client = ClientFor(fake);
  std::promise<std::pair<bool, std::thread::id>> done;
  client.newTopologyRequest().send([&](Result<Topology> topology) {
    done.set_value(
        {topology.ok() && topology->gatewayVersion == "fake", std::this_thread::get_id()});
  });
  auto [ok, thread] = done.get_future().get();
  EXPECT_TRUE(ok);
  EXPECT_NE(thread, std::this_thread::get_id());

  std::future<Result<Topology>> future = client.newTopologyRequest().send();
  auto topology = future.get();
  ASSERT_TRUE(topology.ok());
  EXPECT_EQ(topology->clusterSize, 1);
}

TEST(CredentialsTest, BearerTokenIsSentOnEveryCall) {
  FakeGateway fake;
  fake.Start();
  auto client =
      Client::newClientBuilder().gatewayAddress(fake.address()).bearerToken("secret-1").build();
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->newTopologyRequest().send().get().ok());
  ASSERT_TRUE(client->newCompleteCommand(1).send().get().ok());
  for (const auto& call : fake.calls()) EXPECT_EQ(call.authorization, "Bearer secret-1");
}

// A one-connection-at-a-time HTTP server answering token requests; counts them.
class TokenServer {
 public:
  TokenServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    socklen_t len = sizeof(addr);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 8);
    thread_ = std::thread([this] { Serve(); });
  }
  ~TokenServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/token"; }
  int requests() const { return requests_; }
  std::string last_body() {
    std::lock_guard lock(mu_);
    return last_body_;
  }

 private:
  void Serve() {
    while (!stop_) {
      int conn = accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      std::string request;
      char buffer[4096];
      // Read headers, then the body by Content-Length.
      while (request.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = read(conn, buffer, sizeof(buffer));
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      size_t header_end = request.find("\r\n\r\n");
      size_t length = 0;
      auto cl = request.find("Content-Length: ");
      if (cl != std::string::npos) length = std::stoul(request.substr(cl + 16));
      while (header_end != std::string::npos && request.size() < header_end + 4 + length) {
        ssize_t n = read(conn, buffer, sizeof(buffer));
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
      }
      int n = ++requests_;
      {
        std::lock_guard lock(mu_);
        last_body_ = header_end == std::string::npos ? "" : request.substr(header_end + 4);
      }
      std::string body = R"({"access_token":"token-)" + std::to_string(n) +
                         R"(","token_type":"bearer","expires_in":3600})";
      std::string response =
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
          "Content-Length: " +
          std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      (void)!write(conn, response.data(), response.size());
      close(conn);
    }
  }
  int fd_;
  int port_;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::mutex mu_;
  std::string last_body_;
  std::thread thread_;
};

TEST(CredentialsTest, OAuthFetchesCachesAndRefreshesTokenOnUnauthenticated) {
  TokenServer tokens;
  FakeGateway fake;
  std::atomic<int> topology_calls{0};
  fake.on_topology = [&](grpc::ServerContext* context, gp::TopologyResponse*) {
    // The second call is rejected as if token-1 had been revoked.
    if (++topology_calls == 2) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "token revoked");
    }
    (void)context;
    return grpc::Status::OK;
  };
  fake.Start();
  OAuthCredentialsConfig oauth;
  oauth.authorizationServerUrl = tokens.url();
  oauth.clientId = "my client";
  oauth.clientSecret = "s3cret&";
  oauth.audience = "zeebe-api";
  auto client =
      Client::newClientBuilder().gatewayAddress(fake.address()).oauthCredentials(oauth).build();
  ASSERT_TRUE(client.ok());

  ASSERT_TRUE(client->newTopologyRequest().send().get().ok());
  EXPECT_EQ(tokens.requests(), 1);
  EXPECT_EQ(tokens.last_body(),
            "grant_type=client_credentials&client_id=my%20client&client_secret=s3cret%26"
            "&audience=zeebe-api");
  // Rejected with token-1, retried once with a fresh token-2.
  ASSERT_TRUE(client->newTopologyRequest().send().get().ok());
  EXPECT_EQ(tokens.requests(), 2);
  // Cached from now on.
  ASSERT_TRUE(client->newTopologyRequest().send().get().ok());
  EXPECT_EQ(tokens.requests(), 2);
  auto calls = fake.calls();
  ASSERT_EQ(calls.size(), 4u);
  EXPECT_EQ(calls[0].authorization, "Bearer token-1");
  EXPECT_EQ(calls[1].authorization, "Bearer token-1");
  EXPECT_EQ(calls[2].authorization, "Bearer token-2");
  EXPECT_EQ(calls[3].authorization, "Bearer token-2");
}

TEST(CredentialsTest, UnreachableTokenEndpointFailsTheCallUnauthenticated) {
  OAuthCredentialsConfig oauth;
  oauth.authorizationServerUrl = "http://127.0.0.1:" + std::to_string(testing::FreePort());
  oauth.clientId = "id";
  oauth.clientSecret = "secret";
  FakeGateway fake;
  fake.Start();
  auto client =
      Client::newClientBuilder().gatewayAddress(fake.address()).oauthCredentials(oauth).build();
  ASSERT_TRUE(client.ok());
  auto result = client->newTopologyRequest().send().get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(result.status().message().find("OAuth token request"), std::string::npos);
  EXPECT_EQ(fake.CountCalls("Topology"), 0);
}

TEST(TlsTest, TrustsTheGivenCaFileAndRejectsUnknownCertificates) {
  testing::TempDir dir;
  auto openssl = testing::RunProcess({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                                      "-nodes", "-days", "1", "-subj", "/CN=localhost", "-addext",
                                      "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout",
                                      dir.File("key.pem"), "-out", dir.File("cert.pem")});
  ASSERT_EQ(openssl.exit_code, 0) << openssl.err;
  grpc::SslServerCredentialsOptions ssl;
  ssl.pem_key_cert_pairs.push_back({testing::ReadFileOrEmpty(dir.File("key.pem")),
                                    testing::ReadFileOrEmpty(dir.File("cert.pem"))});
  FakeGateway fake;
  fake.Start(grpc::SslServerCredentials(ssl));

  auto trusted = Client::newClientBuilder()
                     .gatewayAddress(fake.address())
                     .caCertificatePath(dir.File("cert.pem"))
                     .build();
  ASSERT_TRUE(trusted.ok());
  auto topology = trusted->newTopologyRequest().send().get();
  ASSERT_TRUE(topology.ok()) << topology.status();

  RetryPolicy once;
  once.maxAttempts = 1;
  auto untrusted =
      Client::newClientBuilder().gatewayAddress(fake.address()).useTls().retryPolicy(once).build();
  ASSERT_TRUE(untrusted.ok());
  auto rejected = untrusted->newTopologyRequest().send().get();
  EXPECT_EQ(rejected.status().code(), StatusCode::kUnavailable);

  auto plaintext =
      Client::newClientBuilder().gatewayAddress(fake.address()).retryPolicy(once).build();
  ASSERT_TRUE(plaintext.ok());
  EXPECT_FALSE(plaintext->newTopologyRequest().send().get().ok());
}

}  // namespace
}  // namespace tern
