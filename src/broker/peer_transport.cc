#include "broker/peer_transport.h"

#include <grpcpp/grpcpp.h>
#include <spdlog/spdlog.h>

#include <chrono>

namespace tern::broker {
namespace {

// Beyond this much queued for one peer, new messages are dropped: a peer that cannot keep up
// is better served by Raft's probing (and a snapshot) than by an unbounded backlog.
constexpr size_t kMaxQueuedBytes = 64 << 20;
constexpr size_t kMaxBatchBytes = 4 << 20;

}  // namespace

GrpcPeerTransport::GrpcPeerTransport(int32_t node_id, const std::vector<std::string>& peers,
                                     const gateway::ClusterTlsFiles& tls)
    : node_id_(node_id) {
  auto credentials = gateway::ClusterChannelCredentials(tls);
  for (size_t i = 0; i < peers.size(); ++i) {
    if (static_cast<int32_t>(i) == node_id) {
      peers_.push_back(nullptr);
      continue;
    }
    auto peer = std::make_unique<Peer>();
    peer->node_id = static_cast<int32_t>(i);
    peer->address = peers[i];
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 250);
    args.SetMaxSendMessageSize(64 << 20);
    args.SetMaxReceiveMessageSize(64 << 20);
    peer->stub =
        cluster::BrokerService::NewStub(grpc::CreateCustomChannel(peers[i], credentials, args));
    Peer* raw = peer.get();
    peer->thread = std::thread([this, raw] { SendLoop(*raw); });
    peers_.push_back(std::move(peer));
  }
}

GrpcPeerTransport::~GrpcPeerTransport() { Stop(); }

void GrpcPeerTransport::Stop() {
  for (auto& peer : peers_) {
    if (!peer) continue;
    {
      std::lock_guard lock(peer->mutex);
      peer->stopping = true;
    }
    peer->wakeup.notify_all();
  }
  for (auto& peer : peers_) {
    if (peer && peer->thread.joinable()) peer->thread.join();
  }
}

void GrpcPeerTransport::Send(int32_t to_node_id, int32_t partition_id, raft::Message message) {
  cluster::RaftEnvelope envelope;
  envelope.set_partition_id(partition_id);
  *envelope.mutable_message() = std::move(message);
  Enqueue(to_node_id, std::move(envelope));
}

void GrpcPeerTransport::SendSnapshotChunk(int32_t to_node_id, int32_t partition_id,
                                          raft::SnapshotChunk chunk) {
  cluster::RaftEnvelope envelope;
  envelope.set_partition_id(partition_id);
  *envelope.mutable_snapshot_chunk() = std::move(chunk);
  Enqueue(to_node_id, std::move(envelope));
}

void GrpcPeerTransport::SendSnapshotAck(int32_t to_node_id, int32_t partition_id,
                                        raft::SnapshotChunkAck ack) {
  cluster::RaftEnvelope envelope;
  envelope.set_partition_id(partition_id);
  *envelope.mutable_snapshot_ack() = std::move(ack);
  Enqueue(to_node_id, std::move(envelope));
}

void GrpcPeerTransport::Enqueue(int32_t to_node_id, cluster::RaftEnvelope envelope) {
  if (to_node_id < 0 || static_cast<size_t>(to_node_id) >= peers_.size()) return;
  Peer* peer = peers_[static_cast<size_t>(to_node_id)].get();
  if (peer == nullptr) return;
  const size_t bytes = envelope.ByteSizeLong();
  {
    std::lock_guard lock(peer->mutex);
    if (peer->stopping) return;
    if (peer->queued_bytes + bytes > kMaxQueuedBytes) return;
    peer->queued_bytes += bytes;
    peer->queue.push_back(std::move(envelope));
  }
  peer->wakeup.notify_one();
}

void GrpcPeerTransport::SendLoop(Peer& peer) {
  bool last_failed = false;
  while (true) {
    cluster::RaftBatch batch;
    batch.set_from_node_id(node_id_);
    {
      std::unique_lock lock(peer.mutex);
      peer.wakeup.wait(lock, [&] { return peer.stopping || !peer.queue.empty(); });
      if (peer.stopping) return;
      size_t batch_bytes = 0;
      while (!peer.queue.empty() && batch_bytes < kMaxBatchBytes) {
        const size_t bytes = peer.queue.front().ByteSizeLong();
        batch_bytes += bytes;
        peer.queued_bytes -= bytes;
        *batch.add_envelopes() = std::move(peer.queue.front());
        peer.queue.pop_front();
      }
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    cluster::RaftBatchAck ack;
    grpc::Status status = peer.stub->Raft(&context, batch, &ack);
    if (!status.ok()) {
      // Lost; Raft resends what matters. Log a peer going away once, not every batch.
      if (!last_failed) {
        spdlog::debug("raft transport to node {} ({}) failed: {}", peer.node_id, peer.address,
                      status.error_message());
      }
      last_failed = true;
    } else {
      last_failed = false;
    }
  }
}

}  // namespace tern::broker
