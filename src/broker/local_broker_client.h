#pragma once

// The embedded gateway's view of this broker's partitions: commands go straight to the
// partition objects in-process, without serialization or sockets.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "broker/config.h"
#include "broker/partition.h"
#include "gateway/broker_client.h"

namespace tern::broker {

class LocalBrokerClient : public gateway::BrokerClient {
 public:
  LocalBrokerClient(const BrokerConfig& config, std::vector<Partition*> partitions);

  gateway::ClusterTopology Topology() override;
  int32_t partition_count() override { return config_.partitions; }
  void Send(int32_t partition_id, record::Record command, int64_t timeout_ms,
            gateway::CommandCallback done) override;
  void SetJobsAvailableListener(std::function<void(const std::string&)> listener) override;
  int64_t AddJobStream(const gateway::JobStreamSpec& spec, gateway::JobPushCallback push) override;
  void RemoveJobStream(int64_t stream_id) override;
  // The broker calls this when a partition has new activatable jobs.
  void NotifyJobsAvailable(const std::string& type);
  // Native user tasks of a partition this broker leads (get: query.user_task_key; search):
  // Partition::QueryUserTasks. UNAVAILABLE when the partition is not here or not led here.
  void QueryUserTasks(int32_t partition_id, record::UserTaskQuery query,
                      gateway::UserTaskQueryCallback done) override;

 private:
  Partition* Find(int32_t partition_id) const;

  const BrokerConfig& config_;
  std::vector<Partition*> partitions_;
  std::atomic<int64_t> next_stream_id_{1};
  std::mutex listener_mutex_;
  std::function<void(const std::string&)> jobs_listener_;
};

}  // namespace tern::broker
