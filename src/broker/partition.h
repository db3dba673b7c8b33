#pragma once

// A partition replica on its own thread: the thread-safe shell around PartitionCore. Other
// threads (gRPC handlers, the transport) hand it work through the entry points below, which
// queue the work and wake the thread; callbacks run on the partition thread.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "base/clock.h"
#include "broker/partition_core.h"

namespace tern::broker {

class Partition {
 public:
  // Opens the replica with its journal on the real file system and its state in RocksDB under
  // config.directory.
  static absl::StatusOr<std::unique_ptr<Partition>> Open(PartitionConfig config, base::Clock& clock,
                                                         PeerTransport* transport);
  ~Partition();

  void Start();
  // Stops the thread; queued and waiting requests are answered with errors.
  void Stop();

  // --- Any thread ---
  void Submit(record::Record command, int64_t timeout_ms, gateway::CommandCallback done);
  void Receive(raft::Message message);
  void ReceiveSnapshotChunk(raft::SnapshotChunk chunk);
  void ReceiveSnapshotAck(raft::SnapshotChunkAck ack);
  void AddJobStream(int64_t stream_id, gateway::JobStreamSpec spec, gateway::JobPushCallback push);
  void RemoveJobStream(int64_t stream_id);
  void SetJobsAvailableListener(std::function<void(const std::string& type)> listener);
  void SetCommandRouter(CommandRouter router);
  // Receives this partition's committed backup checkpoints, on the partition thread.
  void SetCheckpointListener(std::function<void(const CommittedCheckpoint&)> listener);
  // Asks the partition to take a snapshot at the next opportunity (tests, operators).
  void RequestSnapshot();
  absl::Status TransferLeadership(int32_t to_node_id);

  int32_t id() const { return id_; }
  PartitionMetrics Metrics() const;
  // The exporters' metrics (empty when none is configured); the director, for tests.
  std::vector<ExporterMetrics> ExporterMetricsSnapshot() const;
  const std::shared_ptr<ExporterDirector>& exporters() const { return exporters_; }
  // Background verification of the journal's sealed segments (journal::Journal::ScrubStep),
  // a budget of bytes per period on the partition thread.
  struct JournalScrub {
    uint64_t bytes_verified = 0;
    uint64_t passes_completed = 0;
    uint64_t corruptions_found = 0;
    absl::Status status;  // the corruption found, if any; the replica is unhealthy then
  };
  JournalScrub JournalScrubState() const;
  static constexpr int64_t kJournalScrubPeriodMs = 1'000;
  static constexpr uint64_t kJournalScrubBytesPerPeriod = 4ull << 20;
  absl::StatusOr<PartitionCore::Checksum> StateChecksum();
  absl::StatusOr<std::vector<std::pair<int64_t, record::IncidentRecord>>> OpenIncidents(
      size_t limit);
  // Native user tasks of this partition (get by key: query.user_task_key), answered on the
  // partition thread between batches, so the answer includes every command this leader has
  // acknowledged. `done` runs on the partition thread (it must not block) or, when the partition
  // is stopping, at once; UNAVAILABLE when this replica does not lead the partition (ask the
  // leader) or is stopping.
  using UserTaskQueryCallback =
      std::function<void(absl::StatusOr<record::UserTaskQueryResult> result)>;
  void QueryUserTasks(record::UserTaskQuery query, UserTaskQueryCallback done);

 private:
  explicit Partition(int32_t id, base::Clock& clock) : id_(id), clock_(clock) {}
  void Run();
  void MaybeScrubJournal();
  // Queues `task` for the partition thread.
  void Post(std::function<void()> task);
  // Runs `task` on the partition thread and waits for it.
  absl::Status RunOnThread(std::function<void()> task);

  const int32_t id_;
  base::Clock& clock_;
  std::unique_ptr<PartitionCore> core_;  // used only on the partition thread

  mutable std::mutex mutex_;
  std::condition_variable wakeup_;
  bool stopping_ = false;
  std::vector<std::function<void()>> inbox_;
  // Submissions in the inbox, and those refused because it was full. The caps are the
  // partition's queue limits (PartitionConfig): soft for new work, hard for every command.
  size_t max_inbox_submissions_ = 0;
  size_t max_inbox_submissions_hard_ = 0;
  size_t inbox_submissions_ = 0;
  uint64_t inbox_rejections_ = 0;
  std::function<void(const std::string&)> jobs_available_listener_;
  CommandRouter router_;
  std::function<void(const CommittedCheckpoint&)> checkpoint_listener_;
  PartitionMetrics metrics_;
  JournalScrub journal_scrub_;         // guarded by mutex_
  int64_t next_journal_scrub_ms_ = 0;  // partition thread only
  // Set at Open; thread-safe itself.
  std::shared_ptr<ExporterDirector> exporters_;
  std::thread thread_;
};

}  // namespace tern::broker
