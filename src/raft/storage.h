#pragma once

// The read side of a member's durable Raft state, which the state machine pulls from. The
// application writes to its storage itself while handling a Ready (see raw_node.h); Raft only
// reads. Implementations: MemoryStorage (tests, simulator) and journal::JournalStorage (disk).

#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/types.h"

namespace tern::raft {

// Error conventions for Storage implementations.
//  - kOutOfRange: the requested index lies before the first retained entry (compacted).
//  - kNotFound:   the requested index lies after the last entry (unavailable).
//  - kUnavailable from Snapshot(): a snapshot is being prepared; Raft retries later.
// Any other error is treated as fatal by the state machine (the log is unreadable).
absl::Status CompactedError();
absl::Status UnavailableError();
absl::Status SnapshotTemporarilyUnavailableError();
inline bool IsCompacted(const absl::Status& s) { return s.code() == absl::StatusCode::kOutOfRange; }
inline bool IsIndexUnavailable(const absl::Status& s) {
  return s.code() == absl::StatusCode::kNotFound;
}

struct RaftState {
  HardState hard_state;
  ConfState conf_state;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // The persisted hard state and membership. An empty ConfState means "not bootstrapped yet":
  // RawNode then takes the voters from its Config (or, joining, from the leader). The
  // membership is the one as of Snapshot().index(): Raft applies the ENTRY_CONF_CHANGE entries
  // after that index on top, so whoever records a snapshot must record the membership at its
  // index (RawNode::ConfStateAt).
  virtual absl::StatusOr<RaftState> InitialState() const = 0;

  // Entries in [lo, hi), at most `max_bytes` by EntrySize() but always at least one entry when
  // lo < hi. Requires FirstIndex() <= lo and hi <= LastIndex() + 1.
  virtual absl::StatusOr<std::vector<Entry>> Entries(uint64_t lo, uint64_t hi,
                                                     uint64_t max_bytes) const = 0;

  // Term of entry i, for i in [FirstIndex() - 1, LastIndex()]; FirstIndex() - 1 is the index of
  // the latest snapshot, whose term is kept after compaction.
  virtual absl::StatusOr<uint64_t> Term(uint64_t i) const = 0;

  // Index of the first entry still available (snapshot index + 1).
  virtual uint64_t FirstIndex() const = 0;
  // Index of the last entry; FirstIndex() - 1 when the log is empty.
  virtual uint64_t LastIndex() const = 0;

  // The most recent snapshot's metadata (index 0 when there is none).
  virtual absl::StatusOr<SnapshotMetadata> Snapshot() const = 0;
};

// An in-memory Storage. Thread-compatible; owned by one member's driver. The application applies
// each Ready to it (SetHardState, Append, ApplySnapshot) and compacts it (CreateSnapshot +
// Compact) as a disk implementation would.
class MemoryStorage : public Storage {
 public:
  MemoryStorage();
  // A storage that starts with `voters` as its membership (a bootstrapped, empty group).
  explicit MemoryStorage(std::vector<uint64_t> voters);

  absl::StatusOr<RaftState> InitialState() const override;
  absl::StatusOr<std::vector<Entry>> Entries(uint64_t lo, uint64_t hi,
                                             uint64_t max_bytes) const override;
  absl::StatusOr<uint64_t> Term(uint64_t i) const override;
  uint64_t FirstIndex() const override;
  uint64_t LastIndex() const override;
  absl::StatusOr<SnapshotMetadata> Snapshot() const override;

  void SetHardState(const HardState& hs) { hard_state_ = hs; }
  const HardState& hard_state() const { return hard_state_; }
  void SetConfState(const ConfState& cs) { conf_state_ = cs; }

  // Appends entries, replacing any existing suffix that starts at entries.front().index. Entries
  // before FirstIndex() are ignored; a gap after LastIndex() is a bug.
  void Append(const std::vector<Entry>& entries);

  // Replaces the whole log by a snapshot received from the leader. Returns an error when the
  // snapshot is older than the one already held.
  absl::Status ApplySnapshot(const SnapshotMetadata& snapshot);

  // Records a snapshot of the application's state at `index` (<= LastIndex()); log entries are
  // kept until Compact(). `conf_state` is the membership at `index` (null: unchanged since the
  // previous snapshot); it becomes InitialState()'s.
  absl::StatusOr<SnapshotMetadata> CreateSnapshot(uint64_t index, const ConfState* conf_state,
                                                  std::string data);

  // Discards entries up to and including `compact_index` (<= LastIndex()); afterwards
  // FirstIndex() == compact_index + 1 and Term(compact_index) still answers.
  absl::Status Compact(uint64_t compact_index);

 private:
  HardState hard_state_;
  ConfState conf_state_;
  SnapshotMetadata snapshot_;
  // entries_[0] is a dummy holding the index and term of the last compacted entry (or of the
  // snapshot), so Term(FirstIndex() - 1) always answers.
  std::vector<Entry> entries_;
};

}  // namespace tern::raft
