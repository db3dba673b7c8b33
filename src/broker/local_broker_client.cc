#include "broker/local_broker_client.h"

#include "base/strings.h"
#include "broker/version.h"

namespace tern::broker {

LocalBrokerClient::LocalBrokerClient(const BrokerConfig& config, std::vector<Partition*> partitions)
    : config_(config), partitions_(std::move(partitions)) {}

Partition* LocalBrokerClient::Find(int32_t partition_id) const {
  for (Partition* partition : partitions_) {
    if (partition->id() == partition_id) return partition;
  }
  return nullptr;
}

gateway::ClusterTopology LocalBrokerClient::Topology() {
  gateway::ClusterTopology topology;
  topology.cluster_size = config_.cluster_size;
  topology.partitions_count = config_.partitions;
  topology.replication_factor = config_.replication_factor;
  gateway::BrokerStatus self;
  self.node_id = config_.node_id;
  auto colon = config_.cluster_address.rfind(':');
  self.host = config_.cluster_address.substr(0, colon);
  self.port = colon == std::string::npos ? 0 : std::stoi(config_.cluster_address.substr(colon + 1));
  self.version = std::string(kTernProtocolVersion);
  for (Partition* partition : partitions_) {
    PartitionMetrics metrics = partition->Metrics();
    gateway::PartitionStatus status;
    status.partition_id = partition->id();
    status.role = metrics.role;
    status.health =
        metrics.healthy ? gateway::PartitionHealth::kHealthy : gateway::PartitionHealth::kUnhealthy;
    self.partitions.push_back(status);
  }
  topology.brokers.push_back(std::move(self));
  return topology;
}

void LocalBrokerClient::Send(int32_t partition_id, record::Record command, int64_t timeout_ms,
                             gateway::CommandCallback done) {
  Partition* partition = Find(partition_id);
  if (partition == nullptr) {
    done(absl::UnavailableError(StrCat("partition ", partition_id, " is not on this broker")));
    return;
  }
  partition->Submit(std::move(command), timeout_ms, std::move(done));
}

void LocalBrokerClient::QueryUserTasks(int32_t partition_id, record::UserTaskQuery query,
                                       gateway::UserTaskQueryCallback done) {
  Partition* partition = Find(partition_id);
  if (partition == nullptr) {
    done(absl::UnavailableError(StrCat("partition ", partition_id, " is not on this broker")));
    return;
  }
  partition->QueryUserTasks(std::move(query), std::move(done));
}

void LocalBrokerClient::SetJobsAvailableListener(std::function<void(const std::string&)> listener) {
  std::lock_guard lock(listener_mutex_);
  jobs_listener_ = std::move(listener);
}

void LocalBrokerClient::NotifyJobsAvailable(const std::string& type) {
  std::function<void(const std::string&)> listener;
  {
    std::lock_guard lock(listener_mutex_);
    listener = jobs_listener_;
  }
  if (listener) listener(type);
}

int64_t LocalBrokerClient::AddJobStream(const gateway::JobStreamSpec& spec,
                                        gateway::JobPushCallback push) {
  int64_t id = next_stream_id_++;
  for (Partition* partition : partitions_) partition->AddJobStream(id, spec, push);
  return id;
}

void LocalBrokerClient::RemoveJobStream(int64_t stream_id) {
  for (Partition* partition : partitions_) partition->RemoveJobStream(stream_id);
}

}  // namespace tern::broker
