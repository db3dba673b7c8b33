#pragma once

// raft::Storage on top of a Journal, plus the write side a partition's Raft loop needs to carry
// out a Ready: Save() appends entries and the hard state and fsyncs once (group commit);
// InstallSnapshot() replaces the log; Compact() records a snapshot the application took.
//
// The membership (ConfState) and the SnapshotMetadata are stored, serialized, in the journal's
// snapshot blob. Thread-compatible: owned by one partition's Raft loop.

#include <memory>
#include <string>
#include <vector>

#include "journal/journal.h"
#include "raft/raw_node.h"
#include "raft/storage.h"

namespace tern::journal {

class JournalStorage : public raft::Storage {
 public:
  // Opens (or creates) the journal in `dir`. `voters` is the initial membership of a new group;
  // an existing journal keeps the membership it recorded.
  static absl::StatusOr<std::unique_ptr<JournalStorage>> Open(FileSystem* fs, std::string dir,
                                                              std::vector<uint64_t> voters,
                                                              JournalOptions options = {});

  absl::StatusOr<raft::RaftState> InitialState() const override;
  absl::StatusOr<std::vector<raft::Entry>> Entries(uint64_t lo, uint64_t hi,
                                                   uint64_t max_bytes) const override;
  absl::StatusOr<uint64_t> Term(uint64_t i) const override;
  uint64_t FirstIndex() const override { return journal_->FirstIndex(); }
  uint64_t LastIndex() const override { return journal_->LastIndex(); }
  absl::StatusOr<raft::SnapshotMetadata> Snapshot() const override;

  // Steps 1-2 of the Ready contract: install the snapshot (if any), append the entries, write
  // the hard state, and fsync when `rd.must_sync`.
  absl::Status Save(const raft::Ready& rd);
  // Records a snapshot of the application's state at `index` (already durable elsewhere, e.g.
  // a RocksDB checkpoint) and drops the log up to it.
  absl::Status Compact(uint64_t index, std::string app_data);

  Journal& journal() { return *journal_; }

 private:
  JournalStorage(std::unique_ptr<Journal> journal, raft::ConfState conf)
      : journal_(std::move(journal)), conf_(std::move(conf)) {}

  std::unique_ptr<Journal> journal_;
  raft::ConfState conf_;
};

}  // namespace tern::journal
