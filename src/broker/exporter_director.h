#pragma once

// Feeds a partition's committed records to its exporters (src/exporter/exporter.h), in log
// order, on the partition's leader.
//
// Owned by the Partition (shared with its PartitionCore and, for metrics, the Broker). Two
// sides:
//   - the partition thread (PartitionCore) activates it when the replica starts processing as
//     leader, with the positions acknowledged so far (from replicated state), offers it committed
//     log entries while it has room, and reads back the acknowledged positions to propose them
//     to the log (docs/exporters.md);
//   - the director's own thread decodes the entries and calls the exporters, so a slow or
//     failing sink never holds up processing: the partition only stops offering while the
//     director's buffer is full, and the log keeps what is not exported yet.
// A failing exporter (an error status or an exception) is closed, and opened again after a
// backoff (doubling up to a limit), then given every record after its acknowledged position
// again; the other exporters go on meanwhile.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "exporter/exporter.h"
#include "tern/record.pb.h"

namespace tern::broker {

struct ExporterOptions {
  std::vector<exporter::ExporterSpec> exporters;  // none: no director, no hold-back
  std::string data_dir;                           // the broker's, for the exporters' files
  // Records decoded and waiting for the slowest exporter, beyond which the partition stops
  // offering entries (they stay in the log and are read again later).
  size_t max_buffered_records = 50'000;
  // Backoff of a failing exporter.
  int64_t min_retry_ms = 100;
  int64_t max_retry_ms = 10'000;
  // How often the leader writes the acknowledged positions to the log when they moved.
  int64_t position_interval_ms = 1'000;
  // A caught-up exporter is flushed at most this often. Flushing at every catch-up made the
  // SQLite history store commit (and fsync) after every few records at moderate load; those
  // fsyncs queued behind and in front of the Raft journal's and took a 3-broker cluster's
  // create->complete p50 at 500 instances/s from 36 ms (history off) to 146 ms.
  int64_t min_flush_interval_ms = 200;
  // The log is kept from the slowest exporter's position on, but never more than this many
  // entries behind the newest snapshot: a sink down for longer loses the records in between
  // (logged, and counted in tern_exporter_skipped_records_total) instead of filling the disk.
  uint64_t max_retained_entries = 1'000'000;
};

using ExporterFactory =
    std::function<absl::StatusOr<std::unique_ptr<exporter::Exporter>>(std::string_view type)>;

// Metrics of one exporter of one partition.
struct ExporterMetrics {
  std::string id;
  int64_t acknowledged_position = 0;
  int64_t lag_records = 0;  // newest record handed to the director minus acknowledged
  double lag_seconds = 0;   // record time of the newest record minus that of the acknowledged
  uint64_t errors = 0;      // failed Open/Export/Flush calls (exceptions included)
  uint64_t exported_records = 0;
  bool failing = false;  // waiting to retry after an error
};

class ExporterDirector {
 public:
  // Creates and configures every exporter; an error names the bad one (a configuration error).
  static absl::StatusOr<std::shared_ptr<ExporterDirector>> Create(
      int32_t partition_id, const ExporterOptions& options,
      ExporterFactory factory = exporter::CreateExporter);
  ~ExporterDirector();

  const ExporterOptions& options() const { return options_; }
  int32_t partition_id() const { return partition_id_; }

  // --- partition thread ---
  // Starts exporting (this replica processes as leader) from the acknowledged positions by
  // exporter id (missing: 0, from the start). Entries offered before are dropped.
  void Activate(const std::map<std::string, int64_t>& acknowledged);
  // Stops exporting (leadership lost, partition closing): exporters are closed after the call
  // they are in; nothing waits for them.
  void Deactivate();
  bool active() const;
  // Whether an entry offered now would be taken.
  bool WantsMore() const;
  // A committed entry's data (a RecordBatch), with its log index. Decoded on the director's
  // thread; entries without records only advance the exported index.
  void Offer(uint64_t index, std::string data);
  struct Progress {
    std::map<std::string, int64_t> acknowledged;  // by exporter id
    // Every record in entries up to this index is acknowledged by every exporter (0: none
    // known since Activate).
    uint64_t exported_index = 0;
  };
  Progress progress() const;

  // --- any thread ---
  std::vector<ExporterMetrics> Metrics() const;
  // Blocks until every offered entry is exported and acknowledged by every exporter, or the
  // deadline passes (tests and orderly shutdown).
  bool WaitIdle(int64_t timeout_ms) const;

 private:
  struct Slot;
  struct Entry {
    uint64_t index = 0;
    int64_t last_position = 0;  // of this entry, or of the one before when it has no records
    std::vector<record::Record> records;
  };
  class SlotController;

  ExporterDirector(int32_t partition_id, ExporterOptions options);
  void Run();
  // One round over the exporters; returns whether anything was done.
  bool Round();
  void Fail(Slot& slot, const absl::Status& status, const char* call);
  void DropExported();

  const int32_t partition_id_;
  const ExporterOptions options_;

  mutable std::mutex mutex_;
  mutable std::condition_variable wakeup_;
  mutable std::condition_variable idle_;
  bool stopping_ = false;
  bool active_ = false;
  uint64_t generation_ = 0;  // bumped by Activate and Deactivate
  std::map<std::string, int64_t> activated_positions_;
  std::deque<std::pair<uint64_t, std::string>> offered_;  // raw, not decoded yet
  size_t buffered_records_ = 0;                           // decoded + estimated raw
  Progress progress_;
  std::vector<ExporterMetrics> metrics_;
  bool busy_ = false;  // the thread has work it has not finished

  // Director thread only.
  uint64_t seen_generation_ = 0;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::deque<Entry> entries_;
  int64_t last_offered_position_ = 0;
  int64_t last_offered_timestamp_ = 0;
  uint64_t last_offered_index_ = 0;
  uint64_t exported_index_ = 0;

  std::thread thread_;
};

}  // namespace tern::broker
