// tern-broker: runs one broker (partition replicas, engine, embedded gateway) until SIGTERM or
// SIGINT, then shuts down gracefully.

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "base/clock.h"
#include "base/process.h"
#include "base/strings.h"
#include "broker/broker.h"
#include "broker/config.h"
#include "broker/version.h"

int main(int argc, char** argv) {
  using namespace tern;
  base::ConfigureDaemonProcess();
  auto config = broker::LoadBrokerConfig(argc, argv);
  if (!config.ok()) {
    if (config.status().code() == absl::StatusCode::kCancelled) {
      std::printf("%s", std::string(ToStd(config.status().message())).c_str());
      return 0;
    }
    std::fprintf(stderr, "tern-broker: %s\n",
                 std::string(ToStd(config.status().message())).c_str());
    return 2;
  }
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");

  // Handle termination signals synchronously in this thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  // SIGHUP, the usual "reload" signal, must not end the process: TLS files are re-read on
  // their own (gateway/tls.h), so it is only acknowledged.
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto broker = broker::Broker::Start(*config, base::SystemClock());
  if (!broker.ok()) {
    spdlog::critical("cannot start: {}", ToStd(broker.status().message()));
    return 1;
  }
  spdlog::info("tern-broker {} (Zeebe protocol {}) node {} of {}, {} partition(s), data in {}{}{}",
               broker::kTernVersion, broker::kTernProtocolVersion, config->node_id,
               config->cluster_size, config->partitions, config->data_dir,
               config->gateway_address.empty() ? std::string()
                                               : StrCat(", gateway on ", config->gateway_address,
                                                        config->tls.enabled() ? " (TLS)" : ""),
               config->cluster_tls.enabled() ? ", cluster port with mutual TLS" : "");
  int signal = 0;
  while (sigwait(&signals, &signal) == 0 && signal == SIGHUP) {
    spdlog::info(
        "SIGHUP: certificate and key files are re-read every {} s anyway; nothing else "
        "to reload",
        gateway::kTlsRefreshIntervalSeconds);
  }
  spdlog::info("received signal {}, shutting down", signal);
  (*broker)->Stop();
  spdlog::info("stopped");
  return 0;
}
