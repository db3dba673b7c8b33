// tern-gateway: the stateless front door of a cluster. Serves the Zeebe gateway protocol on
// --address and forwards commands to the brokers' internal API (--brokers), following which
// broker leads which partition. Runs until SIGTERM or SIGINT.

#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "base/clock.h"
#include "base/logging.h"
#include "base/process.h"
#include "base/strings.h"
#include "gateway/auth/flags.h"
#include "gateway/cluster_client.h"
#include "gateway/gateway_service.h"
#include "gateway/rest/rest_server.h"
#include "gateway/server.h"

int main(int argc, char** argv) {
  using namespace tern;
  base::ConfigureDaemonProcess();
  CLI::App app{"tern-gateway: the Zeebe gateway protocol in front of a Tern cluster"};
  std::string address = "127.0.0.1:26500";
  std::vector<std::string> brokers = {"127.0.0.1:26501"};
  std::string log_level = "info";
  int64_t request_timeout_ms = 15'000;
  std::string rest_address = "127.0.0.1:8080";
  int rest_max_connections = 1'000;
  std::string console_dir = "auto";
  std::string log_format = "text";
  app.add_option("--address", address, "host:port the gateway serves clients on")
      ->envname("TERN_ADDRESS")
      ->capture_default_str();
  app.add_option("--brokers", brokers,
                 "every broker's cluster address (host:port), in node-id order, comma-separated")
      ->envname("TERN_BROKERS")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--rest-address", rest_address,
                 "host:port of the REST API (Camunda 8.8's /v2); empty or 'none' turns it off")
      ->envname("TERN_REST_ADDRESS")
      ->capture_default_str();
  app.add_option("--console-dir", console_dir,
                 "directory of the web console served on the REST address (auto: "
                 "share/tern/console beside bin/; none: off)")
      ->envname("TERN_CONSOLE_DIR")
      ->capture_default_str();
  app.add_option("--rest-max-connections", rest_max_connections,
                 "open REST connections at most; more are answered 503 and closed")
      ->envname("TERN_REST_MAX_CONNECTIONS")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--request-timeout", request_timeout_ms,
                 "milliseconds a command may take when the request does not say")
      ->envname("TERN_REQUEST_TIMEOUT")
      ->capture_default_str();
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->envname("TERN_LOG_LEVEL")
      ->capture_default_str();
  app.add_option("--log-format", log_format, "text, or json (one object per line)")
      ->envname("TERN_LOG_FORMAT")
      ->capture_default_str();
  // The same names as tern-broker's (docs/security.md).
  gateway::ServerTlsFiles tls;
  gateway::ClusterTlsFiles cluster_tls;
  app.add_option("--tls-certificate", tls.certificate,
                 "PEM certificate chain for TLS on --address (with --tls-private-key)")
      ->envname("TERN_TLS_CERTIFICATE");
  app.add_option("--tls-private-key", tls.private_key, "PEM private key of --tls-certificate")
      ->envname("TERN_TLS_PRIVATE_KEY");
  app.add_option("--tls-client-ca", tls.client_ca,
                 "PEM CA certificate(s): when set, clients must present a certificate signed by it")
      ->envname("TERN_TLS_CLIENT_CA");
  app.add_option("--cluster-tls-ca", cluster_tls.ca,
                 "PEM cluster CA: brokers are called over mutual TLS and must present a "
                 "certificate it signed")
      ->envname("TERN_CLUSTER_TLS_CA");
  app.add_option("--cluster-tls-certificate", cluster_tls.certificate,
                 "this gateway's PEM client certificate, signed by the cluster CA")
      ->envname("TERN_CLUSTER_TLS_CERTIFICATE");
  app.add_option("--cluster-tls-private-key", cluster_tls.private_key,
                 "PEM private key of --cluster-tls-certificate")
      ->envname("TERN_CLUSTER_TLS_PRIVATE_KEY");
  gateway::auth::AuthFlags auth_flags;
  gateway::auth::AddAuthFlags(app, auth_flags);
  // `tern-gateway hash-password`: an argon2id hash for --auth-users-file, of the password read
  // from standard input (so it is not in the shell history or the process list).
  auto* hash_password = app.add_subcommand(
      "hash-password", "print an argon2id hash of the password on standard input");
  uint64_t hash_ops = 0;
  size_t hash_memory_kib = 0;
  hash_password->add_option("--ops", hash_ops, "argon2id passes (default: libsodium's moderate)");
  hash_password->add_option("--memory-kib", hash_memory_kib,
                            "argon2id memory in KiB (default: libsodium's moderate, 256 MiB)");
  CLI11_PARSE(app, argc, argv);
  if (*hash_password) {
    std::string password;
    std::getline(std::cin, password);
    auto hash = gateway::auth::HashPassword(password, hash_ops, hash_memory_kib * 1024);
    if (!hash.ok()) {
      std::fprintf(stderr, "tern-gateway: %s\n",
                   std::string(ToStd(hash.status().message())).c_str());
      return 1;
    }
    std::printf("%s\n", hash->c_str());
    return 0;
  }
  if (auto status = base::ConfigureLogging(log_format, log_level); !status.ok()) {
    std::fprintf(stderr, "tern-gateway: %s\n", std::string(ToStd(status.message())).c_str());
    return 2;
  }
  if (rest_address == "none") rest_address.clear();
  for (const absl::Status& status :
       {gateway::ValidateServerTls(tls), gateway::ValidateClusterTls(cluster_tls),
        gateway::auth::FinishAuthFlags(auth_flags, address),
        rest_address.empty() ? absl::OkStatus()
                             : gateway::auth::FinishAuthFlags(auth_flags, rest_address)}) {
    if (!status.ok()) {
      spdlog::critical("cannot start: {}", ToStd(status.message()));
      return 2;
    }
  }
  auto authenticator = gateway::auth::MakeAuthenticator(auth_flags.config, base::SystemClock());
  if (!authenticator.ok()) {
    spdlog::critical("cannot start: {}", ToStd(authenticator.status().message()));
    return 2;
  }
  if (auth_flags.config.mode == gateway::auth::AuthMode::kNone && auth_flags.insecure_no_auth) {
    spdlog::warn(
        "--insecure-no-auth: clients are not authenticated; anyone who reaches {}{}{} can deploy, "
        "start, cancel and complete anything",
        address, rest_address.empty() ? "" : " or ", rest_address);
  }

  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  // SIGHUP, the usual "reload" signal, must not end the process: TLS files are re-read on
  // their own (gateway/tls.h), so it is only acknowledged.
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  gateway::ClusterClientOptions client_options;
  client_options.brokers = brokers;
  client_options.tls = cluster_tls;
  gateway::ClusterBrokerClient client(client_options);
  client.Start();
  if (!client.WaitForTopology(10'000)) {
    spdlog::warn("no broker answered yet; serving anyway and retrying in the background");
  }
  gateway::GatewayOptions options;
  options.request_timeout_ms = request_timeout_ms;
  options.authenticator = *std::move(authenticator);
  gateway::GatewayService service(client, options);
  gateway::ServerOptions server_options;
  server_options.address = address;
  server_options.tls = tls;
  auto server = gateway::GatewayServer::Start(server_options, &service);
  if (!server.ok()) {
    spdlog::critical("cannot start: {}", ToStd(server.status().message()));
    return 1;
  }
  std::unique_ptr<gateway::rest::RestServer> rest;
  if (!rest_address.empty() && tls.enabled()) {
    // REST has no TLS yet: do not serve it in plaintext next to a TLS-protected gRPC port.
    spdlog::warn("REST API off: it has no TLS yet and --tls-certificate is set");
  } else if (!rest_address.empty()) {
    gateway::rest::HttpServerOptions rest_options;
    rest_options.address = rest_address;
    rest_options.max_body_bytes = server_options.max_message_bytes;
    rest_options.max_connections = rest_max_connections;
    auto started = gateway::rest::RestServer::Start(rest_options, service);
    if (!started.ok()) {
      spdlog::critical("cannot start: {}", ToStd(started.status().message()));
      return 1;
    }
    rest = *std::move(started);
    rest->ServeConsole(console_dir);
    spdlog::info("REST API (/v2) on {}", rest_address);
  }
  spdlog::info("tern-gateway on {} ({}, authentication: {}) for brokers {} ({})", address,
               tls.enabled() ? (tls.client_ca.empty() ? "TLS" : "TLS, client certificates required")
                             : "plaintext",
               auth_flags.mode, absl::StrJoin(brokers, ","),
               cluster_tls.enabled() ? "mutual TLS" : "plaintext");
  int signal = 0;
  while (sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
    spdlog::info(
        "SIGHUP: certificate and key files are re-read every {} s anyway; nothing else "
        "to reload",
        gateway::kTlsRefreshIntervalSeconds);
  }
  spdlog::info("received signal {}, shutting down", signal);
  if (rest) rest->Shutdown();
  (*server)->Shutdown(2'000);
  client.Stop();
  spdlog::info("stopped");
  return 0;
}
