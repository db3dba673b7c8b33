#pragma once

// One partition replica on this broker: a Raft member, its journal, its state in RocksDB, and
// (while this member leads) the engine processing commands.
//
// A partition runs on its own thread. Everything else talks to it through thread-safe entry
// points that queue work (Submit, Receive, AddJobStream...) and through callbacks it calls from
// its thread.
//
// The leader processes a batch of commands as soon as it has them and proposes the records the
// batch produced as one Raft entry; state reflects the batch at once, so the next batch sees
// it. Answers are held back until the entry is committed (quorum-persisted and fsynced), so an
// answer is never given for something that could still be lost. A leader that loses
// leadership with proposals still uncommitted rebuilds its state from its snapshot and the
// committed log. Followers apply committed entries with the engine's event appliers, so their
// state is current when they take over.
//
// On start the state is rebuilt from the newest snapshot plus the committed log after it.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "engine/engine.h"
#include "engine/state/rocksdb_store.h"
#include "gateway/broker_client.h"
#include "journal/journal_storage.h"
#include "raft/raw_node.h"

namespace tern::broker {

struct PartitionConfig {
  int32_t partition_id = 1;
  int32_t partition_count = 1;
  // Raft member ids are node id + 1 (Raft reserves 0 for "nobody").
  int32_t node_id = 0;
  std::vector<int32_t> member_node_ids = {0};
  std::string directory;  // this partition's data: journal/, snapshots/, runtime/

  int64_t tick_ms = 50;
  int election_ticks = 6;   // 300-600 ms randomized
  int heartbeat_ticks = 1;  // 50 ms
  // How often the state is checkpointed so that the log before it can be dropped.
  int64_t snapshot_period_ms = 5 * 60 * 1000;
  // Commands queued but not processed yet, beyond which new ones are refused
  // (RESOURCE_EXHAUSTED) instead of growing the queue without bound.
  size_t max_queued_commands = 20'000;
  // Client commands per processing batch (one Raft entry).
  size_t max_commands_per_batch = 1'000;
  // Proposals not yet committed beyond which the leader stops taking on more work.
  size_t max_uncommitted_entries = 256;
  engine::EngineConfig engine;
  engine::state::RocksDbStoreOptions state;
};

// Sends Raft messages to other members of the partition's group.
class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  virtual void Send(int32_t to_node_id, int32_t partition_id, raft::Message message) = 0;
};

struct PartitionMetrics {
  gateway::PartitionRole role = gateway::PartitionRole::kInactive;
  bool healthy = false;
  bool ready = false;
  uint64_t term = 0;
  uint64_t commit_index = 0;
  uint64_t applied_index = 0;
  uint64_t snapshot_index = 0;
  int64_t leader_node_id = -1;
  uint64_t processed_commands = 0;
  uint64_t written_records = 0;
  uint64_t backpressure_rejections = 0;
  uint64_t appended_entries = 0;
  double append_latency_ms_total = 0;  // sum of fsync latencies, for an average
  uint64_t syncs = 0;
  uint64_t state_memory_bytes = 0;
};

class Partition {
 public:
  static absl::StatusOr<std::unique_ptr<Partition>> Open(PartitionConfig config,
                                                         base::Clock& clock,
                                                         PeerTransport* transport);
  ~Partition();

  void Start();
  // Stops the thread; queued and waiting requests are answered UNAVAILABLE.
  void Stop();

  // --- Any thread ---
  void Submit(record::Record command, int64_t timeout_ms, gateway::CommandCallback done);
  void Receive(raft::Message message);
  void AddJobStream(int64_t stream_id, gateway::JobStreamSpec spec, gateway::JobPushCallback push);
  void RemoveJobStream(int64_t stream_id);
  void SetJobsAvailableListener(std::function<void(const std::string& type)> listener);
  // Where commands for other partitions go (deployment distributions, acknowledgements...).
  // Called on the partition thread; must not block.
  using CommandRouter = std::function<void(int32_t partition_id, record::Record command)>;
  void SetCommandRouter(CommandRouter router);
  // Asks the partition to take a snapshot at the next opportunity (tests, operators).
  void RequestSnapshot();

  int32_t id() const { return config_.partition_id; }
  PartitionMetrics Metrics() const;

  // The state checksum and the log index it reflects, computed on the partition thread when no
  // proposal is in flight (replicas at the same index must agree).
  struct Checksum {
    uint64_t applied_index = 0;
    int64_t position = 0;
    uint64_t checksum = 0;
  };
  absl::StatusOr<Checksum> StateChecksum();
  // Open incidents on this partition (key, record), for operators.
  absl::StatusOr<std::vector<std::pair<int64_t, record::IncidentRecord>>> OpenIncidents(
      size_t limit);

 private:
  struct QueuedCommand {
    record::Record command;
    int64_t deadline_ms = 0;
    gateway::CommandCallback done;
  };
  struct PendingRequest {
    gateway::CommandCallback done;
    int64_t deadline_ms = 0;
  };
  struct InFlight {
    uint64_t term = 0;
    std::vector<engine::Response> responses;
    std::vector<engine::PushedJob> pushed_jobs;
    std::vector<std::string> jobs_available;
    std::vector<engine::OutgoingCommand> outgoing_commands;
  };
  class StreamRegistry;

  Partition(PartitionConfig config, base::Clock& clock, PeerTransport* transport);
  // Runs `task` on the partition thread and waits for it.
  absl::Status RunOnThread(std::function<void()> task);
  absl::Status Recover();
  absl::Status OpenStateFromSnapshot();

  void Run();
  void DrainInbox(int64_t now_ms);
  void ProcessBatch(int64_t now_ms);
  void HandleReadies();
  void ApplyCommitted(const raft::Entry& entry);
  void Release(InFlight& in_flight);
  void OnRoleChange(const raft::SoftState& soft_state);
  void ExpireRequests(int64_t now_ms);
  void MaybeSnapshot(int64_t now_ms);
  void MaybeRedistribute(int64_t now_ms);
  void Route(std::vector<engine::OutgoingCommand>& commands);
  absl::Status TakeSnapshot();
  void FailAll(const absl::Status& queued_error, const absl::Status& written_error);
  bool IsLeader() const { return role_ == raft::StateRole::kLeader; }

  PartitionConfig config_;
  base::Clock& clock_;
  PeerTransport* transport_;

  // Owned by the partition thread.
  std::unique_ptr<journal::JournalStorage> storage_;
  std::unique_ptr<raft::RawNode> raft_;
  std::unique_ptr<engine::state::RocksDbStore> store_;
  std::unique_ptr<StreamRegistry> streams_;
  std::unique_ptr<engine::Engine> engine_;
  raft::StateRole role_ = raft::StateRole::kFollower;
  uint64_t lead_ = 0;
  uint64_t term_ = 0;
  // The leader processes only after it has applied every entry of earlier terms, i.e. once
  // the first entry of its own term is committed.
  uint64_t leader_start_index_ = 0;
  bool processing_ready_ = false;
  uint64_t applied_index_ = 0;
  uint64_t snapshot_index_ = 0;
  int64_t last_snapshot_ms_ = 0;
  // When the leader last sent unacknowledged distributions again.
  int64_t last_redistribution_ms_ = 0;
  bool snapshot_requested_ = false;
  int64_t next_tick_ms_ = 0;
  int64_t last_timestamp_ms_ = 0;
  std::optional<int64_t> next_due_ms_;
  int64_t next_request_id_ = 0;
  std::deque<QueuedCommand> queued_;
  std::map<int64_t, PendingRequest> pending_;  // by request id
  std::map<uint64_t, InFlight> in_flight_;     // by Raft index
  InFlight unproposed_;  // answers of batches that wrote nothing, released in order

  // Shared with other threads.
  mutable std::mutex mutex_;
  std::condition_variable wakeup_;
  bool stopping_ = false;
  std::vector<QueuedCommand> inbox_commands_;
  std::vector<raft::Message> inbox_messages_;
  std::vector<std::function<void()>> inbox_tasks_;
  std::function<void(const std::string&)> jobs_available_listener_;
  CommandRouter router_;
  PartitionMetrics metrics_;
  std::thread thread_;
};

}  // namespace tern::broker
