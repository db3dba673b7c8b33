#pragma once

// The broker's internal gRPC API (proto/tern/cluster.proto): Raft traffic from other brokers
// goes to the local replicas; commands, topology questions and job streams come from gateways.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "broker/config.h"
#include "broker/partition.h"
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
  grpc::ServerWriteReactor<cluster::PushedJob>* StreamJobs(
      grpc::CallbackServerContext* context, const cluster::JobStreamRequest* request) override;

  template <typename Message>
  class Writer;

 private:
  Partition* Find(int32_t partition_id) const;
  void Unregister(void* writer);

  const BrokerConfig& config_;
  std::vector<Partition*> partitions_;
  std::mutex mutex_;
  bool shut_down_ = false;
  std::set<Writer<cluster::JobsAvailable>*> watchers_;
  std::set<Writer<cluster::PushedJob>*> job_streams_;
  std::atomic<int64_t> next_stream_id_{1};
};

}  // namespace tern::broker
