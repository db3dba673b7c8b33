#pragma once

// The broker's internal gRPC API (proto/tern/cluster.proto): Raft traffic from other brokers
// goes to the local replicas; commands, topology questions and job streams come from gateways.
// The port has no authentication yet (docs/security.md), so Raft traffic from outside a
// partition's group is dropped and counted, and Execute takes only the commands gateways and
// partitions send, within the gateway's limits (peer_checks.h).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "broker/config.h"
#include "broker/partition.h"
#include "broker/peer_checks.h"
#include "tern/cluster.grpc.pb.h"

namespace tern::broker {

class ClusterService final : public cluster::BrokerService::CallbackService {
 public:
  ClusterService(const BrokerConfig& config, std::vector<Partition*> partitions);
  ~ClusterService() override;

  // Ends every open stream; call before shutting the server down.
  void Shutdown();
  // Tells watching gateways that jobs of `type` became activatable on a local partition.
  void NotifyJobsAvailable(int32_t partition_id, const std::string& type);

  cluster::BrokerInfo Info();

  // What the port refused since start, for /metrics.
  struct RefusalCounts {
    uint64_t raft_dropped[kRaftDropReasonCount] = {};
    uint64_t commands_refused = 0;
  };
  RefusalCounts Refusals() const;

  grpc::ServerUnaryReactor* Raft(grpc::CallbackServerContext* context,
                                 const cluster::RaftBatch* request,
                                 cluster::RaftBatchAck* response) override;
  grpc::ServerUnaryReactor* Execute(grpc::CallbackServerContext* context,
                                    const cluster::ExecuteRequest* request,
                                    cluster::ExecuteResponse* response) override;
  grpc::ServerUnaryReactor* Topology(grpc::CallbackServerContext* context,
                                     const cluster::TopologyRequest* request,
                                     cluster::BrokerInfo* response) override;
  grpc::ServerWriteReactor<cluster::JobsAvailable>* WatchJobsAvailable(
      grpc::CallbackServerContext* context, const cluster::WatchJobsRequest* request) override;
  grpc::ServerUnaryReactor* QueryUserTasks(grpc::CallbackServerContext* context,
                                           const cluster::QueryUserTasksRequest* request,
                                           cluster::QueryUserTasksResponse* response) override;
  grpc::ServerWriteReactor<cluster::PushedJob>* StreamJobs(
      grpc::CallbackServerContext* context, const cluster::JobStreamRequest* request) override;

  template <typename Message>
  class Writer;

 private:
  Partition* Find(int32_t partition_id) const;
  // UNAVAILABLE: this broker holds no replica of the partition (the gateway's map is stale).
  absl::Status NoReplica(int32_t partition_id) const;
  void Unregister(void* writer);
  // Counts a dropped envelope and logs it, at most every few seconds per reason: a flood of
  // forged messages must not flood the log too.
  void CountDrop(const RaftDrop& drop, int32_t from_node_id);

  const BrokerConfig& config_;
  std::vector<Partition*> partitions_;
  // The node ids holding replicas of each local partition, for checking Raft senders.
  std::map<int32_t, std::vector<int32_t>> members_;
  std::mutex mutex_;
  bool shut_down_ = false;
  std::set<Writer<cluster::JobsAvailable>*> watchers_;
  std::set<Writer<cluster::PushedJob>*> job_streams_;
  std::atomic<int64_t> next_stream_id_{1};
  std::atomic<uint64_t> raft_dropped_[kRaftDropReasonCount] = {};
  std::atomic<int64_t> last_drop_log_ms_[kRaftDropReasonCount] = {};
  std::atomic<uint64_t> commands_refused_{0};
  std::atomic<int64_t> last_refusal_log_ms_{0};
};

}  // namespace tern::broker
