#include "broker/config.h"

#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <map>

#include "base/strings.h"
#include "broker/backpressure.h"
#include "broker/exporter_config.h"
#include "gateway/auth/flags.h"

namespace tern::broker {
namespace {

// The value of --config / TERN_CONFIG before the full parse, so the file can supply defaults.
std::string FindConfigFile(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) return argv[i + 1];
    if (arg.rfind("--config=", 0) == 0) return arg.substr(9);
  }
  const char* env = std::getenv("TERN_CONFIG");
  return env ? env : "";
}

std::string ScalarToString(const YAML::Node& node) {
  if (node.IsSequence()) {
    std::string joined;
    for (const auto& item : node) {
      if (!joined.empty()) joined += ",";
      joined += item.as<std::string>();
    }
    return joined;
  }
  return node.as<std::string>();
}

}  // namespace

absl::StatusOr<int64_t> ParseDurationMs(const std::string& text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  if (digits == 0 || digits > 12) {
    return absl::InvalidArgumentError(StrCat("'", text, "' is not a duration like 250ms or 5s"));
  }
  int64_t value = std::stoll(text.substr(0, digits));
  std::string unit = text.substr(digits);
  if (unit.empty() || unit == "ms") return value;
  if (unit == "s") return value * 1000;
  if (unit == "m") return value * 60 * 1000;
  if (unit == "h") return value * 3600 * 1000;
  return absl::InvalidArgumentError(StrCat("'", text, "' has an unknown unit (ms, s, m, h)"));
}

std::vector<int32_t> PartitionMembers(int32_t partition_id, int32_t cluster_size,
                                      int32_t replication_factor) {
  std::vector<int32_t> members;
  for (int32_t i = 0; i < replication_factor; ++i) {
    members.push_back((partition_id - 1 + i) % cluster_size);
  }
  return members;
}

absl::Status ValidateBrokerConfig(const BrokerConfig& c) {
  if (c.cluster_size < 1) return absl::InvalidArgumentError("cluster-size must be at least 1");
  if (auto watermark = ParseDiskWatermark(c.disk_free_watermark); !watermark.ok()) {
    return watermark.status();
  }
  if (c.node_id < 0 || c.node_id >= c.cluster_size) {
    return absl::InvalidArgumentError(
        StrCat("node-id must be in [0, cluster-size), but is ", c.node_id));
  }
  if (c.partitions < 1 || c.partitions > 8191) {
    return absl::InvalidArgumentError("partitions must be in [1, 8191]");
  }
  if (c.replication_factor < 1 || c.replication_factor > c.cluster_size) {
    return absl::InvalidArgumentError(
        StrCat("replication-factor must be in [1, cluster-size], but is ", c.replication_factor));
  }
  if (static_cast<int32_t>(c.peers.size()) != c.cluster_size) {
    return absl::InvalidArgumentError(
        StrCat("peers must list the cluster address of each of the ", c.cluster_size,
               " brokers in node-id order, but lists ", c.peers.size()));
  }
  if (c.log_format != "text" && c.log_format != "json") {
    return absl::InvalidArgumentError(
        StrCat("log-format must be text or json, but is '", c.log_format, "'"));
  }
  if (auto status = gateway::ValidateServerTls(c.tls); !status.ok()) return status;
  if (auto status = gateway::ValidateClusterTls(c.cluster_tls); !status.ok()) return status;
  if (c.tick_ms < 1 || c.election_ticks <= c.heartbeat_ticks || c.heartbeat_ticks < 1) {
    return absl::InvalidArgumentError(
        "the election timeout must exceed the heartbeat interval (election-timeout > "
        "heartbeat-interval, or election-ticks > heartbeat-ticks >= 1)");
  }
  return absl::OkStatus();
}

absl::StatusOr<BrokerConfig> LoadBrokerConfig(int argc, char** argv) {
  BrokerConfig config;
  std::string snapshot_period = "5m";
  std::string backpressure_latency_floor = "auto";
  std::string tick = "50ms";
  std::string election_timeout = "1s";
  std::string heartbeat_interval = "100ms";
  std::string peers;
  bool no_gateway = false;

  CLI::App app{"tern-broker: a Tern broker (partition replicas, engine, embedded gateway)"};
  std::string config_file_flag;
  // Read by FindConfigFile before parsing; declared so that it is accepted and documented.
  app.add_option("--config", config_file_flag, "YAML file with the same keys as the flags")
      ->envname("TERN_CONFIG");
  std::map<std::string, CLI::Option*> options;
  auto add = [&](const std::string& key, auto& target, const std::string& help) {
    std::string env = "TERN_" + key;
    for (auto& c : env) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
    options[key] = app.add_option("--" + key, target, help)->envname(env);
  };
  add("node-id", config.node_id, "this broker's id, 0-based");
  add("cluster-size", config.cluster_size, "number of brokers");
  add("partitions", config.partitions, "number of partitions");
  add("replication-factor", config.replication_factor, "replicas per partition");
  add("cluster-address", config.cluster_address, "host:port other brokers reach this one at");
  add("peers", peers, "every broker's cluster address, comma-separated, in node-id order");
  add("data-dir", config.data_dir, "directory for logs, snapshots and state");
  add("gateway-address", config.gateway_address, "host:port of the embedded gateway");
  add("monitoring-address", config.monitoring_address, "host:port for /health, /ready, /metrics");
  add("rest-address", config.rest_address,
      "host:port of the embedded gateway's REST API (/v2); empty or 'none' turns it off");
  add("rest-max-connections", config.rest_max_connections,
      "open REST connections at most; more are answered 503 and closed");
  add("console-dir", config.console_dir,
      "directory of the web console served on the REST address (auto: share/tern/console beside "
      "bin/; none: off)");
  add("log-level", config.log_level, "trace, debug, info, warn, error");
  add("log-format", config.log_format, "text, or json (one object per line)");
  add("backup-dir", config.backup_dir,
      "directory of the backup store (shared by all brokers); backups are off without it");
  add("backpressure-latency-floor", backpressure_latency_floor,
      "command latency below which the backpressure limit never shrinks (e.g. 50ms); auto: "
      "25ms with one replica, 100ms when replicated");
  add("snapshot-period", snapshot_period, "how often state is snapshotted (e.g. 5m)");
  add("tick", tick, "Raft tick (e.g. 50ms)");
  add("election-timeout", election_timeout,
      "time without a leader before a follower campaigns, randomized up to 2x (e.g. 1s); "
      "must exceed a few round trips between brokers");
  add("heartbeat-interval", heartbeat_interval, "time between leader heartbeats (e.g. 100ms)");
  add("election-ticks", config.election_ticks,
      "election timeout in ticks (overrides election-timeout)");
  add("heartbeat-ticks", config.heartbeat_ticks,
      "heartbeat interval in ticks (overrides heartbeat-interval)");
  add("disk-free-watermark", config.disk_free_watermark,
      "free disk space below which partitions refuse new work (e.g. 2GiB, 10%, 0 = off, auto)");
  add("backpressure", config.backpressure,
      "refuse new work beyond an adaptive limit of commands in flight (true/false)");
  add("history", config.history,
      "history store: sqlite:PATH, postgresql://user:password@host:port/db or none "
      "(default: SQLite at <data-dir>/history.db)");
  add("export-jsonl", config.export_jsonl,
      "also export every record as a JSON line to this file (- for stdout)");
  add("export-max-log-entries", config.export_max_log_entries,
      "log entries kept for exporters behind the newest snapshot, at most");
  add("tls-certificate", config.tls.certificate,
      "PEM certificate chain for TLS on the gateway port (with tls-private-key)");
  add("tls-private-key", config.tls.private_key, "PEM private key of tls-certificate");
  add("tls-client-ca", config.tls.client_ca,
      "PEM CA certificate(s): when set, clients must present a certificate signed by it");
  add("cluster-tls-ca", config.cluster_tls.ca,
      "PEM cluster CA: the cluster port then requires mutual TLS with certificates it signed");
  add("cluster-tls-certificate", config.cluster_tls.certificate,
      "this broker's PEM certificate, signed by the cluster CA (server and client)");
  add("cluster-tls-private-key", config.cluster_tls.private_key,
      "PEM private key of cluster-tls-certificate");
  app.add_flag("--no-gateway", no_gateway, "do not run the embedded gateway")
      ->envname("TERN_NO_GATEWAY");
  // The same authentication flags as tern-gateway's; each is also a YAML key.
  gateway::auth::AuthFlags auth_flags;
  gateway::auth::AddAuthFlags(app, auth_flags);
  for (const char* key : {"auth-mode", "oidc-issuer", "oidc-audience", "oidc-jwks-url",
                          "oidc-jwks-file", "auth-users-file"}) {
    options[key] = app.get_option(StrCat("--", key));
  }

  // Defaults from the YAML file; flags and environment parsed afterwards override them.
  std::string file = FindConfigFile(argc, argv);
  std::vector<std::string> file_args;
  if (!file.empty()) {
    config.config_file = file;
    try {
      YAML::Node root = YAML::LoadFile(file);
      if (!root.IsMap()) return absl::InvalidArgumentError(StrCat(file, ": expected a mapping"));
      for (const auto& item : root) {
        std::string key = item.first.as<std::string>();
        if (key == "no-gateway") {
          no_gateway = item.second.as<bool>();
          continue;
        }
        if (key == "insecure-no-auth") {
          auth_flags.insecure_no_auth = item.second.as<bool>();
          continue;
        }
        if (key == "exporters") {
          auto exporters = ParseExportersYaml(item.second, file);
          if (!exporters.ok()) return exporters.status();
          config.exporters = *std::move(exporters);
          continue;
        }
        if (!options.contains(key)) {
          return absl::InvalidArgumentError(StrCat(file, ": unknown key '", key, "'"));
        }
        file_args.push_back("--" + key);
        file_args.push_back(ScalarToString(item.second));
      }
    } catch (const YAML::Exception& error) {
      return absl::InvalidArgumentError(StrCat(file, ": ", error.what()));
    }
  }
  try {
    if (!file_args.empty()) {
      // Parse the file's values first, as if given on the command line (CLI11 takes a vector
      // of arguments in reverse order).
      std::vector<std::string> args(file_args.rbegin(), file_args.rend());
      app.parse(args);
      app.clear();
    }
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    return absl::CancelledError(app.help());
  } catch (const CLI::ParseError& error) {
    return absl::InvalidArgumentError(error.what());
  }
  if (no_gateway) config.gateway_address.clear();
  if (no_gateway || config.rest_address == "none") config.rest_address.clear();
  for (const std::string& address : {config.gateway_address, config.rest_address}) {
    if (address.empty()) continue;
    if (auto status = gateway::auth::FinishAuthFlags(auth_flags, address); !status.ok()) {
      return status;
    }
  }
  if (auto mode = gateway::auth::ParseAuthMode(auth_flags.mode); mode.ok()) {
    auth_flags.config.mode = *mode;
  }
  config.auth = auth_flags.config;
  config.insecure_no_auth = auth_flags.insecure_no_auth;
  if (config.rest_max_connections < 1) {
    return absl::InvalidArgumentError("rest-max-connections must be at least 1");
  }
  if (backpressure_latency_floor != "auto") {
    auto floor_ms = ParseDurationMs(backpressure_latency_floor);
    if (!floor_ms.ok()) return floor_ms.status();
    if (*floor_ms < 1) {
      return absl::InvalidArgumentError("backpressure-latency-floor must be at least 1ms or auto");
    }
    config.backpressure_latency_floor_ms = *floor_ms;
  }
  auto snapshot_ms = ParseDurationMs(snapshot_period);
  if (!snapshot_ms.ok()) return snapshot_ms.status();
  config.snapshot_period_ms = *snapshot_ms;
  auto tick_ms = ParseDurationMs(tick);
  if (!tick_ms.ok()) return tick_ms.status();
  config.tick_ms = *tick_ms;
  auto election_ms = ParseDurationMs(election_timeout);
  if (!election_ms.ok()) return election_ms.status();
  auto heartbeat_ms = ParseDurationMs(heartbeat_interval);
  if (!heartbeat_ms.ok()) return heartbeat_ms.status();
  if (config.tick_ms < 1) return absl::InvalidArgumentError("tick must be at least 1ms");
  config.election_timeout_ms = *election_ms;
  config.heartbeat_interval_ms = *heartbeat_ms;
  // Explicit tick counts (flag, environment or file) win over the durations.
  auto given = [&](const std::string& key) {
    return options[key]->count() > 0 ||
           std::find(file_args.begin(), file_args.end(), "--" + key) != file_args.end();
  };
  if (!given("election-ticks")) {
    config.election_ticks =
        static_cast<int32_t>((config.election_timeout_ms + config.tick_ms - 1) / config.tick_ms);
  }
  if (!given("heartbeat-ticks")) {
    config.heartbeat_ticks =
        std::max<int32_t>(1, static_cast<int32_t>(config.heartbeat_interval_ms / config.tick_ms));
  }
  config.election_timeout_ms = config.election_ticks * config.tick_ms;
  config.heartbeat_interval_ms = config.heartbeat_ticks * config.tick_ms;
  config.peers.clear();
  std::string current;
  for (char c : peers) {
    if (c == ',') {
      if (!current.empty()) config.peers.push_back(current);
      current.clear();
    } else if (c != ' ') {
      current.push_back(c);
    }
  }
  if (!current.empty()) config.peers.push_back(current);
  if (config.peers.empty() && config.cluster_size == 1) config.peers = {config.cluster_address};
  if (auto status = ValidateBrokerConfig(config); !status.ok()) return status;
  if (auto status = ValidateExporterConfig(config); !status.ok()) return status;
  return config;
}

}  // namespace tern::broker
