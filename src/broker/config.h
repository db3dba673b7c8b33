#pragma once

// The broker's configuration: command-line flags, TERN_* environment variables and a YAML file
// all use the same keys (`--node-id`, `TERN_NODE_ID`, `node-id:`). A flag beats the
// environment, which beats the file, which beats the default. docs/configuration.md is the
// reference.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "exporter/exporter.h"
#include "gateway/auth/auth.h"
#include "gateway/tls.h"

namespace tern::broker {

struct BrokerConfig {
  int32_t node_id = 0;
  int32_t cluster_size = 1;
  int32_t partitions = 1;
  int32_t replication_factor = 1;
  // This broker's address for other brokers and standalone gateways.
  std::string cluster_address = "127.0.0.1:26501";
  // Every broker's cluster address, in node-id order (defaults to just this one).
  std::vector<std::string> peers;
  std::string data_dir = "./data";
  // The embedded gateway; empty when turned off with --no-gateway.
  std::string gateway_address = "127.0.0.1:26500";
  std::string monitoring_address = "127.0.0.1:9600";
  // The embedded gateway's REST API (Camunda 8.8's /v2; docs/rest-api.md); empty when turned
  // off (rest-address "" or "none", or --no-gateway).
  std::string rest_address = "127.0.0.1:8080";
  // Open REST connections; more are answered 503 and closed.
  int32_t rest_max_connections = 1'000;
  // The web console's files, served on the REST address outside /v2 (docs/console.md): "auto"
  // is share/tern/console beside the program's bin/ directory; "" or "none" turns it off.
  std::string console_dir = "auto";
  std::string log_level = "info";
  // "text" (default) or "json" (one object per line: timestamp, level, logger, message, thread).
  std::string log_format = "text";
  // The filesystem backup store (/actuator/backups, `tern-broker restore`); empty: backups off.
  // In a cluster every broker must name the same shared directory.
  std::string backup_dir;
  int64_t snapshot_period_ms = 5 * 60 * 1000;
  // Raft timing. A follower that hears no leader for the election timeout (randomized between
  // 1x and 2x) starts an election; it must exceed a few round trips between members, since an
  // election is two round trips (pre-vote, vote) and a new leader must hear from a quorum
  // within one timeout (check-quorum). 1 s copes with round trips up to about 400 ms;
  // docs/cluster.md explains the trade-off against failover time. election-timeout and
  // heartbeat-interval set the tick counts below (rounded up to whole ticks) unless
  // election-ticks / heartbeat-ticks are given explicitly.
  int64_t tick_ms = 50;
  int64_t election_timeout_ms = 1000;
  int64_t heartbeat_interval_ms = 100;
  int32_t election_ticks = 20;
  int32_t heartbeat_ticks = 2;
  // Free space each partition's data directory needs to take on new work: bytes with a unit
  // ("2GiB"), a percentage of the disk ("10%"), "0" (off) or "auto" (1 GiB, or 10% of the
  // disk when that is less).
  std::string disk_free_watermark = "auto";
  // The adaptive limit on commands in flight per partition; off only to measure without it.
  bool backpressure = true;
  // The history store, kept by the built-in `sql` exporter (docs/exporters.md): empty for SQLite
  // at <data-dir>/history.db, `sqlite:PATH`, `postgresql://user:password@host:port/db` or `none`.
  std::string history;
  // A `jsonl` exporter writing every record to this file (`-`: stdout); empty: none. More
  // exporters, with their settings, come from `exporters:` in the YAML file.
  std::string export_jsonl;
  std::vector<exporter::ExporterSpec> exporters;
  // Exporters hold the log back at most this many entries behind the newest snapshot.
  int64_t export_max_log_entries = 1'000'000;
  // Command latencies below this never shrink the backpressure limit; 0 means automatic: 25 ms
  // for a partition with one replica, 100 ms for a replicated one (its commit waits for a round
  // trip and a follower's fsync, and under full load the followers' work shares the CPU, so a
  // 25 ms floor refused half the work a 3-broker cluster could do without lowering latency).
  int64_t backpressure_latency_floor_ms = 0;
  // TLS on the embedded gateway's listener (tls-certificate, tls-private-key, tls-client-ca)
  // and mutual TLS on the cluster port (cluster-tls-ca, -certificate, -private-key); plaintext
  // when not given. docs/security.md explains both.
  gateway::ServerTlsFiles tls;
  gateway::ClusterTlsFiles cluster_tls;
  // Client authentication on the embedded gateway's gRPC and REST listeners (auth-mode,
  // oidc-issuer, oidc-audience, oidc-jwks-url, oidc-jwks-file, auth-users-file). Without it
  // (none), a non-loopback gateway or REST address needs insecure-no-auth.
  gateway::auth::AuthConfig auth;
  bool insecure_no_auth = false;
  // Where the settings came from, for the start-up log line.
  std::string config_file;
};

// Parses flags, environment and file. Returns INVALID_ARGUMENT naming the bad key; `--help`
// yields a status with code CANCELLED and the usage text as message.
absl::StatusOr<BrokerConfig> LoadBrokerConfig(int argc, char** argv);

// Checks that the numbers fit together (replication factor <= cluster size, peers complete...).
absl::Status ValidateBrokerConfig(const BrokerConfig& config);

// Parses "250ms", "5s", "2m", "1h" or a plain number of milliseconds.
absl::StatusOr<int64_t> ParseDurationMs(const std::string& text);

// The node ids that hold replicas of a partition (1-based), the first being the preferred
// leader: Zeebe's round-robin distribution, so every broker leads about as many partitions.
std::vector<int32_t> PartitionMembers(int32_t partition_id, int32_t cluster_size,
                                      int32_t replication_factor);

}  // namespace tern::broker
