#pragma once

// A broker process: its partition replicas, the embedded gateway and the monitoring endpoint.

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "broker/backup_service.h"
#include "broker/cluster_service.h"
#include "broker/config.h"
#include "broker/data_dir.h"
#include "broker/history_search.h"
#include "broker/local_broker_client.h"
#include "broker/monitoring.h"
#include "broker/partition.h"
#include "broker/peer_transport.h"
#include "gateway/cluster_client.h"
#include "gateway/gateway_service.h"
#include "gateway/rest/rest_server.h"
#include "gateway/server.h"

namespace prometheus {
class Registry;
}

namespace tern::broker {

class Broker {
 public:
  static absl::StatusOr<std::unique_ptr<Broker>> Start(BrokerConfig config, base::Clock& clock);
  ~Broker();
  // Stops accepting requests, finishes open ones briefly, stops partitions.
  void Stop();

  bool Healthy() const;
  bool Ready() const;
  std::string MetricsText();
  // Journal scrubbing per partition, and partitions that failed to open (corrupt journal).
  std::string JournalMetricsText();
  std::string PartitionsJson(bool with_checksum);
  std::string IncidentsJson();
  // How far the history store is behind the log: "records=N, seconds=S" over the partitions
  // exporting here (the history exporter's lag), for the REST API's Tern-History-Lag header.
  std::string HistoryLag() const;
  const BrokerConfig& config() const { return config_; }
  int gateway_port() const { return gateway_server_ ? gateway_server_->port() : 0; }
  int rest_port() const { return rest_server_ ? rest_server_->port() : 0; }

 private:
  explicit Broker(BrokerConfig config) : config_(std::move(config)) {}
  // How this broker reaches partitions: in-process when it is the whole cluster, otherwise
  // over the internal API (which also reaches its own partitions).
  gateway::BrokerClient* broker_client();

  BrokerConfig config_;
  std::unique_ptr<DataDirLock> lock_;
  std::vector<std::unique_ptr<Partition>> partitions_;
  // Partitions whose data is corrupt (kDataLoss on open): they stay offline, reported by
  // /partitions, /health and the metrics, while the other partitions serve.
  std::vector<std::pair<int32_t, absl::Status>> failed_partitions_;
  std::unique_ptr<GrpcPeerTransport> transport_;
  std::unique_ptr<ClusterService> cluster_service_;
  std::unique_ptr<grpc::Server> cluster_server_;
  std::unique_ptr<LocalBrokerClient> local_client_;
  std::unique_ptr<gateway::ClusterBrokerClient> cluster_client_;
  std::unique_ptr<gateway::GatewayService> gateway_service_;
  // The REST API's searches over the history store (none with history off).
  std::unique_ptr<HistorySearch> history_search_;
  std::unique_ptr<gateway::GatewayServer> gateway_server_;
  std::unique_ptr<gateway::rest::RestServer> rest_server_;
  std::unique_ptr<BackupService> backups_;
  std::unique_ptr<MonitoringServer> monitoring_;
  bool stopped_ = false;
};

}  // namespace tern::broker
