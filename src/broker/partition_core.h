#pragma once

// One partition replica: a Raft member, its journal, its state, and (while this member leads)
// the engine processing commands. Single-threaded and free of hidden effects: time comes from
// the injected Clock, files from the injected FileSystem and StateBackend, peers from the
// injected PeerTransport. Production wraps it in a thread (partition.h); the deterministic
// simulator (tests/sim) drives many of them in one thread under a seed.
//
// The leader processes a batch of commands as soon as it has them and proposes the records the
// batch produced as one Raft entry; its state reflects the batch at once, so the next batch
// sees it. Answers are held back until the entry is committed (quorum-persisted and fsynced),
// so an answer is never given for something that could still be lost. A leader that loses
// leadership with proposals still uncommitted rebuilds its state from its snapshot and the
// committed log. Followers apply committed entries with the engine's event appliers, so their
// state is current when they take over. On start the state is rebuilt from the newest snapshot
// plus the committed log after it.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "broker/backpressure.h"
#include "broker/exporter_director.h"
#include "broker/state_backend.h"
#include "engine/engine.h"
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
  // (RESOURCE_EXHAUSTED) instead of growing the queue without bound. A last resort: the
  // adaptive limit below normally refuses long before.
  size_t max_queued_commands = 20'000;
  // Commands that finish accepted work (job completion, activation, cancel, commands from other
  // partitions) skip the limits above and the adaptive one, but not this one: beyond it they
  // are refused too (RESOURCE_EXHAUSTED, which clients retry), so that no sender, however many
  // completions it sends, grows the queue without bound. Far above any legitimate backlog.
  size_t max_queued_commands_hard = 80'000;
  // The adaptive limit on commands in flight (backpressure.h).
  CommandLimiterOptions backpressure;
  // Free space the data directory's disk needs for the partition to take on new work, how
  // often it is checked, and how long a partition whose log write failed (a full disk) stays
  // inactive before it reopens its log and state.
  DiskWatermark disk_watermark;
  int64_t disk_check_ms = 1'000;
  int64_t write_failure_retry_ms = 2'000;
  // Client commands per processing batch (one Raft entry).
  size_t max_commands_per_batch = 1'000;
  // Proposals not yet committed beyond which the leader stops taking on more work.
  size_t max_uncommitted_entries = 256;
  // Snapshot transfer to lagging followers.
  uint64_t snapshot_chunk_bytes = 1 << 20;
  uint64_t snapshot_window_chunks = 4;
  int64_t snapshot_transfer_timeout_ms = 10'000;
  // Hand leadership back to the partition's preferred leader (its first member) once that
  // member is caught up, so leadership stays spread round-robin over the brokers as in Zeebe.
  bool balance_leadership = true;
  int64_t balance_check_ms = 2'000;
  // Segment size and tail cache of the log; the simulator uses small segments so that
  // compaction (whole segments) and snapshot transfer happen within a short run.
  journal::JournalOptions journal;
  engine::EngineConfig engine;
  engine::state::RocksDbStoreOptions state;
  // Exporters fed by this partition while it leads (Partition::Open creates the director).
  ExporterOptions exporters;
};

// Carries Raft traffic to the other members of a partition's group. Sends never block and may
// lose messages (Raft recovers); snapshots travel as acknowledged chunk streams.
class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  virtual void Send(int32_t to_node_id, int32_t partition_id, raft::Message message) = 0;
  virtual void SendSnapshotChunk(int32_t to_node_id, int32_t partition_id,
                                 raft::SnapshotChunk chunk) = 0;
  virtual void SendSnapshotAck(int32_t to_node_id, int32_t partition_id,
                               raft::SnapshotChunkAck ack) = 0;
};

// Where commands for other partitions go (deployment distributions, acknowledgements...).
using CommandRouter = std::function<void(int32_t partition_id, record::Record command)>;

// A backup checkpoint (CHECKPOINT CREATED) that this replica, as leader, wrote and that is now
// committed: the partition's backup is its newest snapshot (at or before `index`) plus its log
// up to `index`.
struct CommittedCheckpoint {
  int64_t checkpoint_id = 0;
  int64_t checkpoint_position = 0;
  uint64_t index = 0;  // the Raft entry holding the CREATED event
  uint64_t term = 0;
  std::optional<SnapshotInfo> snapshot;
};

struct PartitionEnvironment {
  base::Clock* clock = nullptr;
  journal::FileSystem* file_system = nullptr;
  std::unique_ptr<StateBackend> state;
  PeerTransport* transport = nullptr;  // none for a single-member group
  CommandRouter route;
  std::function<void(const std::string& type)> jobs_available;
  // Seeds Raft's randomized election timeouts.
  uint64_t seed = 0;
  // Free space of the disk holding the partition's directory; none in the simulator.
  std::function<absl::StatusOr<DiskSpace>()> disk_space;
  // The partition's exporters (exporter_director.h); none when no exporter is configured.
  std::shared_ptr<ExporterDirector> exporters;
  // Called on the partition thread, before the snapshot or the log can change, when a backup
  // checkpoint this leader wrote is committed (backup_service.h); none in the simulator.
  std::function<void(const CommittedCheckpoint&)> checkpoint_committed;
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
  uint64_t backpressure_rejections = 0;  // by the in-flight limit
  int64_t backpressure_limit = 0;
  int64_t commands_in_flight = 0;
  double command_latency_ms = 0;  // last window's average, submit to commit
  // Disk space of the data directory (0 when unknown) and refusals because it ran low.
  uint64_t disk_free_bytes = 0;
  uint64_t disk_total_bytes = 0;
  uint64_t disk_watermark_bytes = 0;
  bool disk_low = false;
  uint64_t disk_rejections = 0;
  // Log writes that failed (the partition then went inactive and reopened later).
  uint64_t write_failures = 0;
  uint64_t appended_entries = 0;
  double append_latency_ms_total = 0;  // time spent persisting, for an average
  uint64_t syncs = 0;
  uint64_t snapshots_sent = 0;
  uint64_t snapshots_installed = 0;
  uint64_t state_memory_bytes = 0;
  // The last snapshot's durations (microseconds): on the partition thread, where Raft waits for
  // it (the memtable flush left over after the flush ahead, the checkpoint, the journal
  // compaction), and from due to published in all.
  uint64_t snapshots_taken = 0;
  int64_t snapshot_blocking_us = 0;
  int64_t snapshot_total_us = 0;
  // Follow-up commands waiting in the log for a later batch (see EngineConfig).
  uint64_t deferred_commands = 0;
  // Export (partition_export.cc): log entries kept past the newest snapshot because an exporter
  // has not acknowledged them, committed entries not yet handed to the exporters (leader), and
  // entries compacted or skipped before every exporter had them.
  uint64_t export_retained_entries = 0;
  uint64_t export_unread_entries = 0;
  uint64_t export_skipped_entries = 0;
};

class PartitionCore {
 public:
  static absl::StatusOr<std::unique_ptr<PartitionCore>> Open(PartitionConfig config,
                                                             PartitionEnvironment environment);
  ~PartitionCore();

  void Start();
  void Submit(record::Record command, int64_t timeout_ms, gateway::CommandCallback done);
  void Receive(const raft::Message& message);
  void ReceiveSnapshotChunk(const raft::SnapshotChunk& chunk);
  void ReceiveSnapshotAck(const raft::SnapshotChunkAck& ack);
  void AddJobStream(int64_t stream_id, gateway::JobStreamSpec spec, gateway::JobPushCallback push);
  void RemoveJobStream(int64_t stream_id);
  void RequestSnapshot() { snapshot_requested_ = true; }
  // Asks Raft to hand leadership to another member (operators, tests, leader balancing).
  absl::Status TransferLeadership(int32_t to_node_id);

  // One round of work: due ticks, processing, persisting and sending, applying, timeouts,
  // snapshots.
  void Poll();
  // Whether Poll has work now (other than ticks).
  bool HasWork();
  // The monotonic time of the next tick.
  int64_t next_tick_ms() const { return next_tick_ms_; }
  // The monotonic time at which Poll has something to do next without new input: the next
  // Raft tick, or earlier when due work (a timer, a job timeout) falls due before it, so that
  // timers fire on time instead of on the next tick.
  int64_t NextWakeMillis() const;
  // Answers everything waiting with an error; used when stopping.
  void Shutdown(const absl::Status& queued_error, const absl::Status& written_error);

  int32_t id() const { return config_.partition_id; }
  PartitionMetrics Metrics() const { return metrics_; }
  struct Checksum {
    uint64_t applied_index = 0;
    int64_t position = 0;
    uint64_t checksum = 0;
  };
  // The state checksum, when this replica has applied everything it knows to be committed and
  // holds nothing uncommitted (replicas at the same index must agree).
  absl::StatusOr<Checksum> StateChecksum();
  std::vector<std::pair<int64_t, record::IncidentRecord>> OpenIncidents(size_t limit) {
    if (!engine_) return {};  // inactive after a failed write
    return engine_->OpenIncidents(limit);
  }
  // Native user tasks of this partition, read from the engine's state between batches. Only a
  // leader that processes answers (a follower may lag behind what was acknowledged): it has
  // processed every command it acknowledged, so the answer includes all of them.
  absl::StatusOr<record::UserTaskQueryResult> QueryUserTasks(const record::UserTaskQuery& query) {
    if (!engine_ || !is_leader() || !processing_ready_) {
      return absl::UnavailableError("this replica does not lead the partition");
    }
    return engine_->QueryUserTasks(query);
  }
  bool is_leader() const { return role_ == raft::StateRole::kLeader; }
  bool processing_ready() const { return processing_ready_; }
  // The journal, for the scrubber on the partition thread; null while the log is not open.
  journal::Journal* journal() { return storage_ ? &storage_->journal() : nullptr; }
  // For the simulator's checks.
  const raft::RawNode& raft() const { return *raft_; }
  uint64_t applied_index() const { return applied_index_; }

 private:
  struct QueuedCommand {
    record::Record command;
    int64_t deadline_ms = 0;
    gateway::CommandCallback done;
    // When the limiter admitted it; -1 for commands the partition queued itself.
    int64_t admitted_ms = -1;
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
    // Admission times of the commands this batch processed: they leave the limiter when it
    // commits.
    std::vector<int64_t> admitted_ms;
    // Backup checkpoints this batch created (index and snapshot filled in when committed).
    std::vector<CommittedCheckpoint> checkpoints;
  };
  struct OutgoingSnapshot {
    raft::Message message;  // the MSG_SNAP to step on the receiver after the last chunk
    std::unique_ptr<SnapshotSource> source;
    uint64_t acked = 0;
    uint64_t sent = 0;
    int64_t last_progress_ms = 0;
  };
  struct IncomingSnapshot {
    uint64_t index = 0;
    uint64_t term = 0;
    std::unique_ptr<SnapshotSink> sink;
  };
  class StreamRegistry;

  PartitionCore(PartitionConfig config, PartitionEnvironment environment);
  absl::Status Recover();
  absl::Status OpenState(uint64_t min_index);

  void ProcessBatch(int64_t now_ms);
  void HandleReadies();
  // Keeps `<directory>/recovering` in step with Raft's data-loss recovery (see Recover):
  // written before anything of the recovery is persisted, removed after its end is persisted.
  // Returns false when the marker could not be written: nothing may be persisted then.
  bool SyncRecoveryMarker();
  void ApplyCommitted(const raft::Entry& entry);
  void InstallSnapshot(const raft::SnapshotMetadata& snapshot);
  void Release(InFlight& in_flight);
  void Route(std::vector<engine::OutgoingCommand>& commands);
  void OnRoleChange(const raft::SoftState& soft_state);
  void ExpireRequests(int64_t now_ms);
  // Snapshots without holding up Raft: the memtables are flushed ahead in the background
  // (PrepareSnapshot), the state is captured on this thread once proposals have committed, and
  // the snapshot is synced and published in the background (pending_snapshot_); the journal is
  // compacted when it is published.
  void MaybeSnapshot(int64_t now_ms);
  absl::Status StartSnapshot();
  // Takes in a pending snapshot once it is published; with `wait`, waits for it first (before
  // anything else touches the snapshots or the state store is replaced).
  void FinishSnapshot(bool wait);
  void MaybeRedistribute(int64_t now_ms);
  void MaybeBalanceLeadership(int64_t now_ms);
  void StartSnapshotTransfer(const raft::Message& message);
  void PumpSnapshotTransfers(int64_t now_ms);
  void UpdateMetrics();
  void MaybeCheckDisk(int64_t now_ms);
  // A log write failed (a full disk): answer everything, drop Raft, journal and state, and
  // reopen them from disk after a delay, as a restart would, instead of aborting the process.
  void SuspendAfterWriteFailure(const absl::Status& cause);
  void MaybeResume(int64_t now_ms);
  // At open: true (and the partition inactive until space is back) when the disk has too little
  // free space to open the log and state safely.
  bool WaitForDiskSpaceToOpen();
  bool suspended() const { return suspended_until_ms_.has_value(); }
  // Applies a committed entry to the state; false (and the replica refused) when it cannot be.
  bool ApplyEntry(const raft::Entry& entry);
  // Stops this replica for good (until restart): its log holds something it cannot apply.
  void Refuse(absl::Status cause);
  // Export (partition_export.cc). Start/Stop follow processing leadership; Pump offers committed
  // entries to the director and writes its acknowledged positions to the log; the positions
  // are applied on every replica (ApplyExporterPositions) and read back after OpenState.
  void StartExport();
  void StopExport();
  void PumpExport(int64_t now_ms);
  void ApplyExporterPositions(const record::RecordBatch& batch);
  void LoadExporterPositions();
  // The index to compact the log to after a snapshot at `snapshot_index`: no further than the
  // exporters have acknowledged, within the configured cap.
  uint64_t ExportCompactionIndex(uint64_t snapshot_index);

  PartitionConfig config_;
  PartitionEnvironment environment_;
  base::Clock& clock_;

  std::unique_ptr<journal::JournalStorage> storage_;
  std::unique_ptr<raft::RawNode> raft_;
  std::unique_ptr<engine::state::StateStore> store_;
  std::unique_ptr<StreamRegistry> streams_;
  std::unique_ptr<engine::Engine> engine_;
  raft::StateRole role_ = raft::StateRole::kFollower;
  uint64_t lead_ = 0;
  uint64_t term_ = 0;
  // The leader processes only after it has applied every entry of earlier terms, i.e. once
  // the first entry of its own term is committed.
  uint64_t leader_start_index_ = 0;
  bool processing_ready_ = false;
  bool recovery_marker_ = false;  // `<directory>/recovering` exists
  uint64_t applied_index_ = 0;
  uint64_t snapshot_index_ = 0;
  int64_t last_snapshot_ms_ = 0;
  bool snapshot_requested_ = false;
  // Since when a due snapshot waits for its flush ahead (-1: not due).
  int64_t snapshot_due_since_ms_ = -1;
  std::unique_ptr<PendingSnapshot> pending_snapshot_;
  SnapshotInfo pending_snapshot_info_;
  int64_t pending_snapshot_blocking_us_ = 0;
  int64_t last_redistribution_ms_ = 0;
  int64_t last_balance_check_ms_ = 0;
  int64_t next_tick_ms_ = 0;
  int64_t last_timestamp_ms_ = 0;
  std::optional<int64_t> next_due_ms_;
  int64_t next_request_id_ = 0;
  std::deque<QueuedCommand> queued_;
  std::map<int64_t, PendingRequest> pending_;               // by request id
  std::map<uint64_t, InFlight> in_flight_;                  // by Raft index
  std::map<int32_t, OutgoingSnapshot> outgoing_snapshots_;  // by receiving node
  std::optional<IncomingSnapshot> incoming_snapshot_;
  CommandLimiter limiter_;
  DiskSpace disk_;
  uint64_t disk_threshold_bytes_ = 0;
  bool disk_low_ = false;
  int64_t last_disk_check_ms_ = -1;
  int64_t last_low_disk_snapshot_ms_ = -1;
  std::optional<int64_t> suspended_until_ms_;
  std::string suspend_cause_;
  PartitionMetrics metrics_;
  // Not OK once the replica refused to go on (Refuse): it then answers UNAVAILABLE and takes
  // no part in Raft.
  absl::Status refused_;
  uint64_t dropped_heartbeats_ = 0;
  // Export state: replicated (exporter_positions_, exported_index_) and the leader's feed.
  std::map<std::string, int64_t> exporter_positions_;
  uint64_t exported_index_ = 0;
  uint64_t export_next_index_ = 0;
  int64_t last_export_proposal_ms_ = 0;
};

}  // namespace tern::broker
