#pragma once

// A member's view of its Raft log: the durable part (read through Storage) followed by the
// "unstable" part (entries or a snapshot the state machine has accepted but the application has
// not yet persisted). Entries move from unstable to stable when the application reports, through
// RawNode::Advance, that it persisted them.

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "raft/storage.h"
#include "raft/types.h"

namespace tern::raft {

// Entries (and possibly a snapshot) not yet persisted. entries[i] has index offset + i. When a
// snapshot is present it precedes the entries (offset == snapshot.index + 1).
class Unstable {
 public:
  std::optional<uint64_t> MaybeFirstIndex() const;
  std::optional<uint64_t> MaybeLastIndex() const;
  std::optional<uint64_t> MaybeTerm(uint64_t i) const;

  // The application persisted entries up to (i, t): drop them here. Ignored when the entry at
  // i no longer has term t (it was replaced meanwhile). Returns whether anything was dropped.
  bool StableTo(uint64_t i, uint64_t t);
  void StableSnapTo(uint64_t i);
  void Restore(const SnapshotMetadata& s);
  void TruncateAndAppend(const std::vector<Entry>& entries);
  // Entries in [lo, hi); both must lie within [offset, offset + size].
  void Slice(uint64_t lo, uint64_t hi, std::vector<Entry>* out) const;

  const std::vector<Entry>& entries() const { return entries_; }
  const std::optional<SnapshotMetadata>& snapshot() const { return snapshot_; }
  uint64_t offset() const { return offset_; }
  void set_offset(uint64_t offset) { offset_ = offset; }

 private:
  std::optional<SnapshotMetadata> snapshot_;
  std::vector<Entry> entries_;
  uint64_t offset_ = 0;
};

class RaftLog {
 public:
  // Reads the storage's index bounds; fails loudly if the storage is unreadable.
  explicit RaftLog(const Storage* storage, uint64_t max_applying_bytes);

  uint64_t FirstIndex() const;
  uint64_t LastIndex() const;
  uint64_t LastTerm() const;
  EntryId LastEntryId() const { return {LastIndex(), LastTerm()}; }
  // Term of entry i. Compacted (kOutOfRange) or unavailable (kNotFound) errors are expected;
  // any other storage error aborts.
  absl::StatusOr<uint64_t> Term(uint64_t i) const;
  // Term(i) or 0 when the entry is compacted or unavailable.
  uint64_t ZeroTermOnOutOfBounds(uint64_t i) const;
  bool MatchTerm(uint64_t i, uint64_t t) const;

  // Follower append (Raft "AppendEntries receiver"): if our entry at `index` has `log_term`,
  // appends `entries` (truncating a conflicting suffix), commits up to min(commit, last new
  // index) and returns the last new index; otherwise nullopt.
  std::optional<uint64_t> MaybeAppend(uint64_t index, uint64_t log_term, uint64_t commit,
                                      const std::vector<Entry>& entries);
  // Leader append at the end. Returns the new last index.
  uint64_t Append(const std::vector<Entry>& entries);
  // The first index among `entries` that conflicts with (or extends) the log; 0 if none.
  uint64_t FindConflict(const std::vector<Entry>& entries) const;
  // The largest index <= `index` whose term is <= `term`, and that term; used to skip over
  // whole terms when a follower rejects (fast backtracking). Returns {0, 0} if none.
  EntryId FindConflictByTerm(uint64_t index, uint64_t term) const;

  // Entries from i on, at most max_bytes (at least one).
  absl::StatusOr<std::vector<Entry>> Entries(uint64_t i, uint64_t max_bytes) const;
  absl::StatusOr<std::vector<Entry>> Slice(uint64_t lo, uint64_t hi, uint64_t max_bytes) const;
  std::vector<Entry> AllEntries() const;

  // Raft §5.4.1: a candidate's log is at least as up to date as ours.
  bool IsUpToDate(uint64_t last_index, uint64_t term) const;

  uint64_t committed() const { return committed_; }
  uint64_t applied() const { return applied_; }
  void CommitTo(uint64_t to_commit);
  // Leader commit rule (Raft §5.4.2, Figure 8): only an entry of the current term is committed
  // by counting replicas; earlier entries commit with it.
  bool MaybeCommit(uint64_t max_index, uint64_t term);
  void AppliedTo(uint64_t index);
  void SetApplied(uint64_t index);

  bool HasNextCommittedEntries() const;
  std::vector<Entry> NextCommittedEntries() const;

  bool HasUnstableEntries() const { return !unstable_.entries().empty(); }
  const std::vector<Entry>& UnstableEntries() const { return unstable_.entries(); }
  const std::optional<SnapshotMetadata>& UnstableSnapshot() const { return unstable_.snapshot(); }
  bool StableTo(uint64_t i, uint64_t t) { return unstable_.StableTo(i, t); }
  void StableSnapTo(uint64_t i) { unstable_.StableSnapTo(i); }
  // The last index known to be persisted (entries after it are unstable).
  uint64_t PersistedLastIndex() const;

  absl::StatusOr<SnapshotMetadata> Snapshot() const;
  // Replaces the log by a snapshot from the leader.
  void Restore(const SnapshotMetadata& s);

  std::string ToString() const;

 private:
  void MustCheckOutOfBounds(uint64_t lo, uint64_t hi) const;

  const Storage* storage_;
  Unstable unstable_;
  uint64_t committed_ = 0;
  uint64_t applied_ = 0;
  uint64_t max_applying_bytes_;
};

}  // namespace tern::raft
