// tern-broker: runs one broker (partition replicas, engine, embedded gateway) until SIGTERM or
// SIGINT, then shuts down gracefully.
//
// `tern-broker restore --backup-id N --backup-dir PATH --data-dir D [other broker settings]`
// instead rebuilds D for the partitions this broker holds (node-id, cluster-size, partitions,
// replication-factor) from backup N, and exits (docs/operations.md, "Backup and restore").

#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/logging.h"
#include "base/process.h"
#include "base/strings.h"
#include "broker/backup_store.h"
#include "broker/broker.h"
#include "broker/config.h"
#include "broker/version.h"

namespace {

int Restore(int argc, char** argv) {
  using namespace tern;
  // Every argument but the subcommand and --backup-id goes to the broker's own configuration,
  // so the restore sees the same node id, partitions and directories as the broker will.
  std::vector<char*> args = {argv[0]};
  std::string backup_id_text;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--backup-id" && i + 1 < argc) {
      backup_id_text = argv[++i];
    } else if (arg.rfind("--backup-id=", 0) == 0) {
      backup_id_text = arg.substr(12);
    } else {
      args.push_back(argv[i]);
    }
  }
  auto config = broker::LoadBrokerConfig(static_cast<int>(args.size()), args.data());
  if (!config.ok()) {
    std::fprintf(stderr, "tern-broker restore: %s\n",
                 std::string(ToStd(config.status().message())).c_str());
    return 2;
  }
  int64_t backup_id = 0;
  if (backup_id_text.empty() ||
      backup_id_text.find_first_not_of("0123456789") != std::string::npos ||
      backup_id_text.size() > 18 || (backup_id = std::stoll(backup_id_text)) <= 0) {
    std::fprintf(stderr, "tern-broker restore: --backup-id must be a positive integer\n");
    return 2;
  }
  if (config->backup_dir.empty()) {
    std::fprintf(stderr, "tern-broker restore: --backup-dir is required\n");
    return 2;
  }
  std::vector<int32_t> partitions;
  for (int32_t p = 1; p <= config->partitions; ++p) {
    auto members = broker::PartitionMembers(p, config->cluster_size, config->replication_factor);
    if (std::find(members.begin(), members.end(), config->node_id) != members.end()) {
      partitions.push_back(p);
    }
  }
  broker::FilesystemBackupStore store(config->backup_dir);
  auto status = broker::RestorePartitions(store, backup_id, partitions, config->data_dir);
  if (!status.ok()) {
    std::fprintf(stderr, "tern-broker restore: refused: %s\n",
                 std::string(ToStd(status.message())).c_str());
    return 1;
  }
  std::string restored;
  for (int32_t p : partitions) restored += StrCat(restored.empty() ? "" : ", ", p);
  std::printf("restored backup %lld into %s: partition(s) %s of node %d\n",
              static_cast<long long>(backup_id), config->data_dir.c_str(), restored.c_str(),
              config->node_id);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace tern;
  if (argc >= 2 && std::string(argv[1]) == "restore") return Restore(argc, argv);
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
  if (auto status = base::ConfigureLogging(config->log_format, config->log_level); !status.ok()) {
    std::fprintf(stderr, "tern-broker: %s\n", std::string(ToStd(status.message())).c_str());
    return 2;
  }

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
  if (!config->gateway_address.empty()) {
    switch (config->auth.mode) {
      case gateway::auth::AuthMode::kOidc:
        spdlog::info("clients authenticate with bearer tokens from {} (audience {})",
                     config->auth.oidc.issuer, config->auth.oidc.audience);
        break;
      case gateway::auth::AuthMode::kBasic:
        spdlog::info("clients authenticate with basic credentials (users from {})",
                     config->auth.basic_users_file);
        break;
      case gateway::auth::AuthMode::kNone:
        if (config->insecure_no_auth) {
          spdlog::warn(
              "insecure-no-auth: clients are not authenticated; anyone who reaches {}{}{} can "
              "deploy, start, cancel and complete anything",
              config->gateway_address, config->rest_address.empty() ? "" : " or ",
              config->rest_address);
        }
        break;
    }
  }
  if ((*broker)->rest_port() != 0) {
    spdlog::info("REST API (/v2) on {}", config->rest_address);
  }
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
