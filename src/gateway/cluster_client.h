#pragma once

// The gateway's view of a cluster: it reaches every broker over the brokers' internal gRPC API
// (proto/tern/cluster.proto), one channel per broker. The standalone tern-gateway and a
// clustered broker's embedded gateway both use it.
//
// Topology: every broker is asked for its partitions' roles every `topology_refresh_ms`; a
// partition's leader is the broker that reports it as leader in the highest term. Each
// question's deadline comes from that broker's measured round trips (rtt_estimator.h), so a
// slow link (100 ms each way) still answers in time, and a broker still answering the last
// question is not asked again meanwhile.
//
// Sending: a command goes to the partition's leader. It is sent again, to the leader known
// then, only when the first attempt was definitely not written: the broker answered "not the
// leader" (UNAVAILABLE), or the channel was down before the call left. Any other failure leaves
// the outcome unknown and ends the command with UNKNOWN (or DEADLINE_EXCEEDED), so a create is
// never repeated after an ambiguous failure.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gateway/broker_client.h"
#include "gateway/rtt_estimator.h"
#include "gateway/tls.h"

namespace tern::gateway {

struct ClusterClientOptions {
  // Every broker's internal (cluster) address, host:port.
  std::vector<std::string> brokers;
  int64_t topology_refresh_ms = 100;
  // Partitions of the cluster, when known up front (an embedded gateway knows its broker's
  // configuration); otherwise learned from the first broker that answers.
  int32_t partition_count = 0;
  // Delay between attempts while a partition has no known leader.
  int64_t retry_delay_ms = 25;
  // Mutual TLS to the brokers' cluster ports, when enabled.
  ClusterTlsFiles tls;
};

class ClusterBrokerClient : public BrokerClient {
 public:
  explicit ClusterBrokerClient(ClusterClientOptions options);
  ~ClusterBrokerClient() override;

  // Starts the topology, jobs-available and retry threads.
  void Start();
  // Stops every thread and call; commands still waiting end with UNAVAILABLE.
  void Stop();
  // Waits until some broker has answered a topology request (true) or the time is up.
  bool WaitForTopology(int64_t timeout_ms);

  ClusterTopology Topology() override;
  int32_t partition_count() override;
  void Send(int32_t partition_id, record::Record command, int64_t timeout_ms,
            CommandCallback done) override;
  void SetJobsAvailableListener(std::function<void(const std::string& type)> listener) override;
  int64_t AddJobStream(const JobStreamSpec& spec, JobPushCallback push) override;
  void RemoveJobStream(int64_t stream_id) override;
  void QueryUserTasks(int32_t partition_id, record::UserTaskQuery query,
                      UserTaskQueryCallback done) override;

  // The node id of the broker that leads the partition, or -1.
  int32_t LeaderOf(int32_t partition_id);
  // The deadline of the next topology question to a broker, or -1 if it never answered.
  int64_t TopologyDeadlineMs(int32_t node_id);

 private:
  struct Peer;
  struct Attempt;
  struct Stream;
  struct TopologyCall;

  void RefreshTopologyLoop();
  void AskTopology(Peer& peer, std::unique_ptr<TopologyCall> call);
  void RebuildTopologyLocked(int64_t now);
  void WatchJobsLoop(size_t peer_index);
  void RetryLoop();
  void TrySend(std::shared_ptr<Attempt> attempt);
  void RetryLater(std::shared_ptr<Attempt> attempt);
  void Forget(int32_t partition_id, int32_t node_id);
  Peer* PeerForNode(int32_t node_id);

  ClusterClientOptions options_;
  std::vector<std::unique_ptr<Peer>> peers_;

  std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool started_ = false;
  bool topology_known_ = false;
  ClusterTopology topology_;
  // partition id -> (term, node id) of the leader.
  std::map<int32_t, std::pair<uint64_t, int32_t>> leaders_;
  std::multimap<int64_t, std::shared_ptr<Attempt>> retries_;  // by due time (steady ms)
  std::function<void(const std::string&)> jobs_listener_;
  std::map<int64_t, std::unique_ptr<Stream>> streams_;
  std::atomic<int64_t> next_stream_id_{1};
  std::atomic<int64_t> calls_in_flight_{0};

  std::vector<std::thread> threads_;
};

}  // namespace tern::gateway
