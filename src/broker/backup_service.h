#pragma once

// Backups of a running cluster, in the shape of Zeebe's backup API (issue 18 item 5).
//
// Taking backup N: the broker that receives `POST /actuator/backups {"backupId": N}` sends
// CHECKPOINT CREATE N to every partition's leader (through the same client as the embedded
// gateway), which writes CHECKPOINT CREATED into the partition's log through Raft, as a no-op
// recorded in state. That entry is the partition's consistent point: everything before it is in
// the backup, nothing after. When the entry is committed, the leader (OnCheckpointCommitted, on
// its partition thread) hard-links its newest snapshot, which is at or before the entry, and its
// log segments into <partition dir>/backup-staging/N/ (fast, and safe from the compaction or
// snapshot replacement that follows), and this service's worker thread copies them into the
// store while processing goes on, cuts the copied log after the checkpoint's entry, and writes
// the manifest last (backup_store.h). Followers take no part; a partition whose leader changes
// before its backup is complete leaves it IN_PROGRESS until that broker restarts (then FAILED).
//
// Status, list and delete read the store, so any broker answers for the whole cluster when all
// brokers share the store's directory.
//
// Owned by the Broker. OnCheckpointCommitted runs on partition threads, Handle on the monitoring
// server's threads, the copies on one worker thread of its own.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "broker/backup_store.h"
#include "broker/config.h"
#include "broker/partition_core.h"
#include "gateway/broker_client.h"

namespace tern::broker {

class BackupService {
 public:
  // Without config.backup_dir the API answers that backups are not configured.
  BackupService(const BrokerConfig& config, gateway::BrokerClient* client);
  ~BackupService();

  // On a partition thread, for a checkpoint this broker's leader wrote and Raft committed.
  void OnCheckpointCommitted(int32_t partition_id, const CommittedCheckpoint& checkpoint);

  // /actuator/backups: `method` GET, POST or DELETE; `subpath` what follows the prefix ("" or
  // "/<id>"); answers with an HTTP status and a JSON body (empty for 204).
  std::pair<int, std::string> Handle(const std::string& method, const std::string& subpath,
                                     const std::string& body);

  // Blocks until every partition backup queued so far is written (tests).
  void WaitIdle();

 private:
  struct Job {
    int64_t backup_id = 0;
    int32_t partition_id = 0;
    CommittedCheckpoint checkpoint;
    std::string staging;             // hard links to the snapshot and log files
    std::string snapshot_directory;  // its name under <partition>/snapshots/
    std::string created_at;
  };

  std::pair<int, std::string> TakeBackup(const std::string& body);
  void Run();
  absl::Status Copy(const Job& job);

  const BrokerConfig config_;
  gateway::BrokerClient* client_;
  std::unique_ptr<FilesystemBackupStore> store_;  // null when backups are off

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Job> jobs_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace tern::broker
