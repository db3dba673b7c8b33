#pragma once

// The filesystem backup store: where partition backups are written, how their state is read
// back (for /actuator/backups), and how a backup is verified and restored into a data directory.
//
// Layout under the store's root (one directory shared by every broker of the cluster):
//   <backup id>/partition-<p>/status.json    IN_PROGRESS or FAILED, with times and the reason;
//                                            rewritten atomically (write, rename)
//   <backup id>/partition-<p>/snapshot/...   the partition's snapshot at or before the checkpoint
//                                            (absent when the partition had none yet)
//   <backup id>/partition-<p>/journal/...    the Raft log from that snapshot up to and including
//                                            the checkpoint's entry, nothing after it
//   <backup id>/partition-<p>/manifest.json  written last, after everything above is synced:
//                                            every file's path, size and CRC32C. A partition
//                                            backup without it is incomplete and never restored.
//
// Thread-safe in the sense that it holds no state: every call reads or writes the files. Writers
// of one partition backup are one thread of one broker (its leader's backup worker).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace tern::broker {

// Zeebe's names (BackupStatusCode).
enum class BackupState { kDoesNotExist, kInProgress, kCompleted, kFailed, kIncomplete };
std::string_view BackupStateName(BackupState state);

struct BackupFile {
  std::string path;  // relative to the partition backup's directory
  uint64_t size = 0;
  uint32_t crc32c = 0;
};

// What a partition backup holds; the manifest's content.
struct PartitionBackupManifest {
  int64_t backup_id = 0;
  int32_t partition_id = 0;
  int32_t node_id = 0;  // the leader that took it
  int64_t checkpoint_position = 0;
  uint64_t checkpoint_index = 0;  // the Raft entry holding the checkpoint
  uint64_t checkpoint_term = 0;
  uint64_t snapshot_index = 0;  // 0: no snapshot, the log starts at index 1
  uint64_t snapshot_term = 0;
  // The snapshot's directory name under <partition>/snapshots/, as the state backend names it.
  std::string snapshot_directory;
  std::string broker_version;
  std::string created_at;    // RFC 3339, UTC
  std::string completed_at;  // RFC 3339, UTC
  std::vector<BackupFile> files;
};

struct PartitionBackupStatus {
  int32_t partition_id = 0;
  BackupState state = BackupState::kDoesNotExist;
  std::string failure_reason;
  std::string created_at;
  std::string last_updated_at;
  std::string snapshot_id;  // "<index>-<term>", empty without a snapshot
  int64_t checkpoint_position = -1;
  std::string broker_version;
};

struct BackupStatus {
  int64_t backup_id = 0;
  BackupState state = BackupState::kDoesNotExist;
  std::string failure_reason;
  std::vector<PartitionBackupStatus> partitions;
};

// The current time as RFC 3339 UTC with microseconds, as Zeebe prints its backup times.
std::string NowRfc3339();

class FilesystemBackupStore {
 public:
  explicit FilesystemBackupStore(std::string root) : root_(std::move(root)) {}
  const std::string& root() const { return root_; }

  std::string BackupDir(int64_t backup_id) const;
  std::string PartitionDir(int64_t backup_id, int32_t partition_id) const;

  absl::Status MarkInProgress(int64_t backup_id, int32_t partition_id, int32_t node_id);
  absl::Status MarkFailed(int64_t backup_id, int32_t partition_id, int32_t node_id,
                          std::string_view reason);
  // Checksums every file under the partition backup's directory (except the status file),
  // syncs them, and writes the manifest last. `manifest.files` is filled in here.
  absl::Status Complete(PartitionBackupManifest manifest);

  // The backup's state over partitions 1..partition_count: COMPLETED when every partition is,
  // FAILED when one failed, IN_PROGRESS while one is being written, INCOMPLETE when some are
  // missing, DOES_NOT_EXIST when none is there.
  BackupStatus Status(int64_t backup_id, int32_t partition_count) const;
  // Every backup in the store, by id.
  std::vector<BackupStatus> List(int32_t partition_count) const;
  absl::Status Delete(int64_t backup_id);
  // Partition backups this node left IN_PROGRESS (it stopped or crashed meanwhile): FAILED now.
  void FailAbandoned(int32_t node_id);

  // Reads a partition backup's manifest and checks every file it names against its size and
  // checksum. DATA_LOSS naming the file when one is missing, shorter or longer, or altered;
  // FAILED_PRECONDITION when the manifest is missing (an incomplete backup).
  absl::StatusOr<PartitionBackupManifest> Verify(int64_t backup_id, int32_t partition_id) const;

 private:
  absl::Status WriteStatus(int64_t backup_id, int32_t partition_id, int32_t node_id,
                           BackupState state, std::string_view reason);
  PartitionBackupStatus PartitionStatus(int64_t backup_id, int32_t partition_id) const;

  std::string root_;
};

// Rebuilds the data directory `data_dir` for the partitions in `partition_ids` from backup
// `backup_id`: verifies every partition backup first (nothing is written if one is corrupt or
// incomplete), then copies each one's snapshot and log into <data_dir>/partition-<p>/. Refuses
// (FAILED_PRECONDITION) when a partition's directory already holds data.
absl::Status RestorePartitions(const FilesystemBackupStore& store, int64_t backup_id,
                               const std::vector<int32_t>& partition_ids,
                               const std::string& data_dir);

}  // namespace tern::broker
