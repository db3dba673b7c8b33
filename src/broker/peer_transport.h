#pragma once

// Raft traffic to the other brokers over their internal gRPC API: one channel per peer and one
// sender thread per peer that cuts whatever is queued into a single RaftBatch call, so many
// partitions' messages share a round trip. Sends never block the partition threads; when a peer
// is slow or down, messages beyond a bound are dropped (Raft retransmits).

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "broker/partition_core.h"
#include "gateway/tls.h"
#include "tern/cluster.grpc.pb.h"

namespace tern::broker {

class GrpcPeerTransport : public PeerTransport {
 public:
  // `peers` holds every broker's cluster address in node-id order (this broker's included).
  // With `tls` enabled, peers are called over mutual TLS with this broker's certificate.
  GrpcPeerTransport(int32_t node_id, const std::vector<std::string>& peers,
                    const gateway::ClusterTlsFiles& tls = {});
  ~GrpcPeerTransport() override;

  void Stop();

  void Send(int32_t to_node_id, int32_t partition_id, raft::Message message) override;
  void SendSnapshotChunk(int32_t to_node_id, int32_t partition_id,
                         raft::SnapshotChunk chunk) override;
  void SendSnapshotAck(int32_t to_node_id, int32_t partition_id,
                       raft::SnapshotChunkAck ack) override;

 private:
  struct Peer {
    int32_t node_id = 0;
    std::string address;
    std::unique_ptr<cluster::BrokerService::Stub> stub;
    std::mutex mutex;
    std::condition_variable wakeup;
    std::deque<cluster::RaftEnvelope> queue;
    size_t queued_bytes = 0;
    bool stopping = false;
    std::thread thread;
  };

  void Enqueue(int32_t to_node_id, cluster::RaftEnvelope envelope);
  void SendLoop(Peer& peer);

  const int32_t node_id_;
  std::vector<std::unique_ptr<Peer>> peers_;  // by node id; null for this broker
};

}  // namespace tern::broker
