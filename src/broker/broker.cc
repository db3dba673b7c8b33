#include "broker/broker.h"

#include <grpcpp/grpcpp.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "broker/exporter_config.h"
#include "broker/metric_family.h"
#include "broker/version.h"

namespace tern::broker {
namespace {

// Resident set size of this process, from /proc/self/statm.
double ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Broker>> Broker::Start(BrokerConfig config, base::Clock& clock) {
  std::unique_ptr<Broker> broker(new Broker(std::move(config)));
  Broker* self = broker.get();
  const BrokerConfig& c = broker->config_;
  auto lock = DataDirLock::Acquire(c.data_dir);
  if (!lock.ok()) return lock.status();
  broker->lock_ = *std::move(lock);

  const bool clustered = c.cluster_size > 1;
  std::vector<std::string> peers = c.peers;
  if (peers.empty()) peers.push_back(c.cluster_address);
  if (clustered)
    broker->transport_ = std::make_unique<GrpcPeerTransport>(c.node_id, peers, c.cluster_tls);

  // Partitions open in parallel: creating a fresh state store writes and syncs one options
  // file per column family, which adds up when done one partition after another.
  std::vector<std::future<absl::StatusOr<std::unique_ptr<Partition>>>> opening;
  std::vector<int32_t> opening_ids;
  for (int32_t id = 1; id <= c.partitions; ++id) {
    auto members = PartitionMembers(id, c.cluster_size, c.replication_factor);
    if (std::find(members.begin(), members.end(), c.node_id) == members.end()) continue;
    PartitionConfig partition_config;
    partition_config.partition_id = id;
    partition_config.partition_count = c.partitions;
    partition_config.node_id = c.node_id;
    partition_config.member_node_ids = members;
    partition_config.directory = StrCat(c.data_dir, "/partition-", id);
    partition_config.tick_ms = c.tick_ms;
    partition_config.election_ticks = c.election_ticks;
    partition_config.heartbeat_ticks = c.heartbeat_ticks;
    partition_config.snapshot_period_ms = c.snapshot_period_ms;
    // Validated with the rest of the configuration.
    partition_config.disk_watermark = ParseDiskWatermark(c.disk_free_watermark).value();
    partition_config.backpressure.enabled = c.backpressure;
    partition_config.exporters = ExporterOptionsFor(c);
    partition_config.backpressure.latency_floor_ms =
        c.backpressure_latency_floor_ms > 0 ? c.backpressure_latency_floor_ms
        : members.size() > 1                ? kReplicatedLatencyFloorMs
                                            : partition_config.backpressure.latency_floor_ms;
    opening_ids.push_back(id);
    opening.push_back(std::async(std::launch::async,
                                 [partition_config, &clock, transport = broker->transport_.get()] {
                                   return Partition::Open(partition_config, clock, transport);
                                 }));
  }
  std::vector<Partition*> local;
  absl::Status open_status;
  for (size_t i = 0; i < opening.size(); ++i) {
    auto partition = opening[i].get();
    if (!partition.ok()) {
      if (absl::IsDataLoss(partition.status())) {
        // Corrupt data is this partition's problem alone: the others open and serve. (Other
        // errors, such as a failing disk or a bad configuration, stop the broker as before.)
        int32_t id = opening_ids[i];
        spdlog::error(
            "partition {} is offline: {}. The broker's other partitions serve. Move "
            "{}/partition-{} aside (never delete it) and restart: the partition then rebuilds "
            "from the other replicas, or starts empty in a single-broker cluster",
            id, ToStd(partition.status().message()), c.data_dir, id);
        broker->failed_partitions_.emplace_back(id, partition.status());
        continue;
      }
      if (open_status.ok()) open_status = partition.status();
      continue;
    }
    local.push_back(partition->get());
    broker->partitions_.push_back(*std::move(partition));
  }
  if (!open_status.ok()) return open_status;

  // The internal API: Raft traffic from peers, commands and topology questions from gateways.
  broker->cluster_service_ = std::make_unique<ClusterService>(broker->config_, local);
  {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort(c.cluster_address, gateway::ClusterServerCredentials(c.cluster_tls),
                             &port);
    builder.RegisterService(broker->cluster_service_.get());
    builder.SetMaxReceiveMessageSize(64 << 20);
    builder.SetMaxSendMessageSize(64 << 20);
    broker->cluster_server_ = builder.BuildAndStart();
    if (!broker->cluster_server_ || port == 0) {
      return absl::UnavailableError(
          StrCat("cannot listen on the cluster address ", c.cluster_address));
    }
  }

  if (clustered) {
    gateway::ClusterClientOptions options;
    options.brokers = peers;
    options.partition_count = c.partitions;
    options.topology_refresh_ms = std::max<int64_t>(50, c.tick_ms * 2);
    options.tls = c.cluster_tls;
    broker->cluster_client_ = std::make_unique<gateway::ClusterBrokerClient>(options);
    broker->cluster_client_->Start();
  } else {
    broker->local_client_ = std::make_unique<LocalBrokerClient>(broker->config_, local);
  }
  gateway::BrokerClient* client = broker->broker_client();
  broker->backups_ = std::make_unique<BackupService>(broker->config_, client);
  for (auto& partition : broker->partitions_) {
    partition->SetCheckpointListener(
        [backups = broker->backups_.get(), id = partition->id()](const CommittedCheckpoint& c) {
          backups->OnCheckpointCommitted(id, c);
        });
    partition->SetCommandRouter([client](int32_t partition_id, record::Record command) {
      client->Send(partition_id, std::move(command), 30'000, [](absl::StatusOr<record::Record>) {});
    });
    partition->SetJobsAvailableListener([self, id = partition->id()](const std::string& type) {
      self->cluster_service_->NotifyJobsAvailable(id, type);
      if (self->local_client_) self->local_client_->NotifyJobsAvailable(type);
    });
    partition->Start();
  }
  if (!c.gateway_address.empty()) {
    gateway::GatewayOptions options;
    options.version = std::string(kTernProtocolVersion);
    if (c.auth.mode != gateway::auth::AuthMode::kNone) {
      auto authenticator = gateway::auth::MakeAuthenticator(c.auth, clock);
      if (!authenticator.ok()) return authenticator.status();
      options.authenticator = *std::move(authenticator);
    }
    broker->gateway_service_ = std::make_unique<gateway::GatewayService>(*client, options);
    gateway::ServerOptions server_options;
    server_options.address = c.gateway_address;
    server_options.tls = c.tls;
    auto server = gateway::GatewayServer::Start(server_options, broker->gateway_service_.get());
    if (!server.ok()) return server.status();
    broker->gateway_server_ = *std::move(server);
    if (!c.rest_address.empty() && c.tls.enabled()) {
      // REST has no TLS yet: do not serve it in plaintext next to a TLS-protected gRPC port.
      spdlog::warn("REST API off: it has no TLS yet and tls-certificate is set (rest-address {})",
                   c.rest_address);
    } else if (!c.rest_address.empty()) {
      gateway::rest::HttpServerOptions rest_options;
      rest_options.address = c.rest_address;
      rest_options.max_body_bytes = server_options.max_message_bytes;
      rest_options.max_connections = c.rest_max_connections;
      // Searches read the history store on a connection of their own (history off: none).
      auto history = exporter::ParseHistoryUrl(c.history, c.data_dir + "/history.db");
      if (history.ok() && history->kind != exporter::HistoryUrl::Kind::kNone) {
        broker->history_search_ =
            std::make_unique<HistorySearch>(*history, [self] { return self->HistoryLag(); });
      }
      auto rest = gateway::rest::RestServer::Start(rest_options, *broker->gateway_service_,
                                                   broker->history_search_.get());
      if (!rest.ok()) return rest.status();
      broker->rest_server_ = *std::move(rest);
      broker->rest_server_->ServeConsole(c.console_dir);
    }
  }
  if (!c.monitoring_address.empty()) {
    auto monitoring = MonitoringServer::Start(
        c.monitoring_address,
        MonitoringHandlers{
            [self] { return self->Healthy(); }, [self] { return self->Ready(); },
            [self] { return self->MetricsText() + self->JournalMetricsText(); },
            [self](bool checksum) { return self->PartitionsJson(checksum); },
            [self] { return self->IncidentsJson(); },
            [self](const std::string& method, const std::string& subpath, const std::string& body) {
              return self->backups_->Handle(method, subpath, body);
            }});
    if (!monitoring.ok()) return monitoring.status();
    broker->monitoring_ = *std::move(monitoring);
  }
  return broker;
}

gateway::BrokerClient* Broker::broker_client() {
  if (cluster_client_) return cluster_client_.get();
  return local_client_.get();
}

Broker::~Broker() { Stop(); }

void Broker::Stop() {
  if (stopped_) return;
  stopped_ = true;
  monitoring_.reset();
  if (rest_server_) rest_server_->Shutdown();
  if (gateway_server_) gateway_server_->Shutdown(2'000);
  if (cluster_client_) cluster_client_->Stop();
  if (cluster_service_) cluster_service_->Shutdown();
  if (cluster_server_) {
    cluster_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }
  if (transport_) transport_->Stop();
  for (auto& partition : partitions_) partition->Stop();
  rest_server_.reset();
  history_search_.reset();  // after the REST server, whose handlers queue reads on it
  // After the partitions, whose threads hand it checkpoints; before the client it sends with.
  backups_.reset();
  gateway_server_.reset();
  gateway_service_.reset();
  cluster_server_.reset();
  cluster_service_.reset();
  cluster_client_.reset();
  local_client_.reset();
  partitions_.clear();
  transport_.reset();
  lock_.reset();
}

std::string Broker::HistoryLag() const {
  int64_t records = 0;
  double seconds = 0;
  for (const auto& partition : partitions_) {
    for (const ExporterMetrics& metrics : partition->ExporterMetricsSnapshot()) {
      if (metrics.id != "history") continue;
      records += metrics.lag_records;
      seconds = std::max(seconds, metrics.lag_seconds);
    }
  }
  char text[64];
  std::snprintf(text, sizeof(text), "records=%lld, seconds=%.3f", static_cast<long long>(records),
                seconds);
  return text;
}

bool Broker::Healthy() const {
  return failed_partitions_.empty() &&
         std::all_of(partitions_.begin(), partitions_.end(),
                     [](const auto& p) { return p->Metrics().healthy; });
}

bool Broker::Ready() const {
  // Ready = every partition installed and replicating; leadership is not required.
  return std::all_of(partitions_.begin(), partitions_.end(), [](const auto& p) {
    auto metrics = p->Metrics();
    return metrics.healthy && metrics.ready && metrics.leader_node_id >= 0;
  });
}

std::string Broker::MetricsText() {
  using prometheus::MetricType;
  auto role = Family("tern_raft_role", "Raft role per partition (0 leader, 1 follower, 2 inactive)",
                     MetricType::Gauge);
  auto term = Family("tern_raft_term", "Current Raft term", MetricType::Gauge);
  auto commit = Family("tern_raft_commit_index", "Raft commit index", MetricType::Gauge);
  auto applied =
      Family("tern_raft_applied_index", "Last log index applied to state", MetricType::Gauge);
  auto snapshot =
      Family("tern_snapshot_index", "Log index of the latest snapshot", MetricType::Gauge);
  auto processed =
      Family("tern_processed_commands_total", "Client commands processed", MetricType::Counter);
  auto records =
      Family("tern_written_records_total", "Records written to the log", MetricType::Counter);
  auto rejected = Family("tern_backpressure_rejections_total",
                         "Commands refused with RESOURCE_EXHAUSTED", MetricType::Counter);
  auto limit =
      Family("tern_backpressure_limit",
             "Commands a partition may hold in flight now (adapts to latency)", MetricType::Gauge);
  auto in_flight =
      Family("tern_backpressure_inflight", "Commands admitted and not yet committed, per partition",
             MetricType::Gauge);
  auto command_latency =
      Family("tern_backpressure_command_latency_seconds",
             "Average admission-to-commit latency of the last window", MetricType::Gauge);
  auto disk_free = Family("tern_disk_free_bytes",
                          "Free space on the disk holding the partition's data", MetricType::Gauge);
  auto disk_total = Family("tern_disk_total_bytes", "Size of the disk holding the partition's data",
                           MetricType::Gauge);
  auto disk_watermark =
      Family("tern_disk_free_watermark_bytes",
             "Free space below which the partition refuses new work", MetricType::Gauge);
  auto disk_low =
      Family("tern_disk_below_watermark",
             "1 while the partition refuses new work for lack of disk space", MetricType::Gauge);
  auto disk_rejections = Family("tern_disk_rejections_total",
                                "Commands refused with RESOURCE_EXHAUSTED for lack of disk space",
                                MetricType::Counter);
  auto write_failures =
      Family("tern_log_write_failures_total",
             "Failed log writes (the partition went inactive and reopened)", MetricType::Counter);
  auto appends = Family("tern_log_appended_entries_total", "Raft entries appended to the journal",
                        MetricType::Counter);
  auto syncs = Family("tern_log_syncs_total", "Journal fsyncs", MetricType::Counter);
  auto append_latency =
      Family("tern_log_append_latency_seconds_total",
             "Time spent appending and fsyncing the journal", MetricType::Counter);
  auto deferred =
      Family("tern_deferred_commands", "Follow-up commands waiting in the log for a later batch",
             MetricType::Gauge);
  // The last snapshot's durations: what held up the partition thread (and so Raft's ticks) and
  // the whole of it, from due to published (issue 12).
  auto snapshots_taken =
      Family("tern_snapshots_total", "State snapshots taken", MetricType::Counter);
  auto snapshot_blocking =
      Family("tern_snapshot_blocking_seconds",
             "Last snapshot: time on the partition thread (capture and log compaction)",
             MetricType::Gauge);
  auto snapshot_total = Family("tern_snapshot_duration_seconds",
                               "Last snapshot: time from due to published", MetricType::Gauge);
  for (const auto& partition : partitions_) {
    PartitionMetrics m = partition->Metrics();
    std::vector<prometheus::ClientMetric::Label> labels = {
        {"partition", std::to_string(partition->id())}};
    AddValue(snapshots_taken, static_cast<double>(m.snapshots_taken), labels);
    AddValue(snapshot_blocking, m.snapshot_blocking_us / 1e6, labels);
    AddValue(snapshot_total, m.snapshot_total_us / 1e6, labels);
    AddValue(role, static_cast<double>(m.role), labels);
    AddValue(term, static_cast<double>(m.term), labels);
    AddValue(commit, static_cast<double>(m.commit_index), labels);
    AddValue(applied, static_cast<double>(m.applied_index), labels);
    AddValue(snapshot, static_cast<double>(m.snapshot_index), labels);
    AddValue(processed, static_cast<double>(m.processed_commands), labels);
    AddValue(records, static_cast<double>(m.written_records), labels);
    AddValue(rejected, static_cast<double>(m.backpressure_rejections), labels);
    AddValue(limit, static_cast<double>(m.backpressure_limit), labels);
    AddValue(in_flight, static_cast<double>(m.commands_in_flight), labels);
    AddValue(command_latency, m.command_latency_ms / 1000.0, labels);
    AddValue(disk_free, static_cast<double>(m.disk_free_bytes), labels);
    AddValue(disk_total, static_cast<double>(m.disk_total_bytes), labels);
    AddValue(disk_watermark, static_cast<double>(m.disk_watermark_bytes), labels);
    AddValue(disk_low, m.disk_low ? 1.0 : 0.0, labels);
    AddValue(disk_rejections, static_cast<double>(m.disk_rejections), labels);
    AddValue(write_failures, static_cast<double>(m.write_failures), labels);
    AddValue(appends, static_cast<double>(m.appended_entries), labels);
    AddValue(syncs, static_cast<double>(m.syncs), labels);
    AddValue(append_latency, m.append_latency_ms_total / 1000.0, labels);
    AddValue(deferred, static_cast<double>(m.deferred_commands), labels);
  }
  auto rss = Family("tern_process_resident_memory_bytes", "Resident memory of the broker",
                    MetricType::Gauge);
  AddValue(rss, ResidentBytes());
  std::vector<prometheus::MetricFamily> families = {
      role,     term,    commit, applied,        snapshot, processed, records,
      rejected, appends, syncs,  append_latency, deferred, rss};
  for (auto* family :
       {&limit, &in_flight, &command_latency, &disk_free, &disk_total, &disk_watermark, &disk_low,
        &disk_rejections, &write_failures, &snapshots_taken, &snapshot_blocking, &snapshot_total}) {
    families.push_back(std::move(*family));
  }
  AppendExporterMetrics(partitions_, families);
  if (cluster_service_) {
    // What the cluster port refused (docs/security.md): Raft traffic from outside a partition's
    // group or not decodable, and commands no gateway or partition sends.
    ClusterService::RefusalCounts refusals = cluster_service_->Refusals();
    auto dropped = Family("tern_cluster_dropped_raft_messages_total",
                          "Raft messages the cluster port dropped, by reason", MetricType::Counter);
    for (int i = 0; i < kRaftDropReasonCount; ++i) {
      AddValue(dropped, static_cast<double>(refusals.raft_dropped[i]),
               {{"reason", std::string(RaftDropReasonName(static_cast<RaftDropReason>(i)))}});
    }
    auto refused = Family("tern_cluster_refused_commands_total",
                          "Execute calls refused: not a command peers send, or beyond the "
                          "gateway's limits",
                          MetricType::Counter);
    AddValue(refused, static_cast<double>(refusals.commands_refused));
    families.push_back(std::move(dropped));
    families.push_back(std::move(refused));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace tern::broker

namespace tern::broker {

std::string Broker::PartitionsJson(bool with_checksum) {
  nlohmann::json result = nlohmann::json::array();
  for (const auto& partition : partitions_) {
    PartitionMetrics m = partition->Metrics();
    nlohmann::json entry = {
        {"partitionId", partition->id()},
        {"nodeId", config_.node_id},
        {"role", m.role == gateway::PartitionRole::kLeader     ? "LEADER"
                 : m.role == gateway::PartitionRole::kFollower ? "FOLLOWER"
                                                               : "INACTIVE"},
        {"healthy", m.healthy},
        {"term", m.term},
        {"leaderNodeId", m.leader_node_id},
        {"commitIndex", m.commit_index},
        {"appliedIndex", m.applied_index},
        {"snapshotIndex", m.snapshot_index},
    };
    if (with_checksum) {
      auto checksum = partition->StateChecksum();
      if (checksum.ok()) {
        entry["checksum"] = {{"appliedIndex", checksum->applied_index},
                             {"position", checksum->position},
                             {"value", std::to_string(checksum->checksum)}};
      } else {
        entry["checksum"] = {{"error", std::string(ToStd(checksum.status().message()))}};
      }
    }
    auto scrub = partition->JournalScrubState();
    if (!scrub.status.ok()) entry["error"] = std::string(ToStd(scrub.status.message()));
    result.push_back(std::move(entry));
  }
  for (const auto& [id, status] : failed_partitions_) {
    result.push_back({{"partitionId", id},
                      {"nodeId", config_.node_id},
                      {"role", "INACTIVE"},
                      {"healthy", false},
                      {"leaderNodeId", -1},
                      {"error", std::string(ToStd(status.message()))}});
  }
  return result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Broker::JournalMetricsText() {
  using prometheus::MetricType;
  auto bytes = Family("tern_journal_scrubbed_bytes_total",
                      "Bytes of sealed journal segments re-verified by the background scrub",
                      MetricType::Counter);
  auto passes =
      Family("tern_journal_scrub_passes_total",
             "Completed scrub passes over all sealed journal segments", MetricType::Counter);
  auto corruptions =
      Family("tern_journal_corruptions_total",
             "Damaged journal records found by the scrub or on open", MetricType::Counter);
  auto offline =
      Family("tern_partition_offline",
             "1 for a partition whose journal is damaged: it failed to open (and does not "
             "serve) or the scrub found damage (unhealthy)",
             MetricType::Gauge);
  for (const auto& partition : partitions_) {
    std::vector<prometheus::ClientMetric::Label> labels = {
        {"partition", std::to_string(partition->id())}};
    auto scrub = partition->JournalScrubState();
    AddValue(bytes, static_cast<double>(scrub.bytes_verified), labels);
    AddValue(passes, static_cast<double>(scrub.passes_completed), labels);
    AddValue(corruptions, static_cast<double>(scrub.corruptions_found), labels);
    AddValue(offline, scrub.status.ok() ? 0.0 : 1.0, labels);
  }
  for (const auto& [id, status] : failed_partitions_) {
    std::vector<prometheus::ClientMetric::Label> labels = {{"partition", std::to_string(id)}};
    AddValue(corruptions, 1.0, labels);
    AddValue(offline, 1.0, labels);
  }
  return prometheus::TextSerializer().Serialize({bytes, passes, corruptions, offline});
}

std::string Broker::IncidentsJson() {
  nlohmann::json result = nlohmann::json::array();
  for (const auto& partition : partitions_) {
    auto incidents = partition->OpenIncidents(1000);
    if (!incidents.ok()) continue;
    for (const auto& [key, incident] : *incidents) {
      result.push_back({{"key", std::to_string(key)},
                        {"partitionId", partition->id()},
                        {"errorType", incident.error_type()},
                        {"errorMessage", incident.error_message()},
                        {"bpmnProcessId", incident.bpmn_process_id()},
                        {"processInstanceKey", std::to_string(incident.process_instance_key())},
                        {"elementId", incident.element_id()},
                        {"elementInstanceKey", std::to_string(incident.element_instance_key())},
                        {"jobKey", std::to_string(incident.job_key())}});
    }
  }
  return result.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tern::broker
