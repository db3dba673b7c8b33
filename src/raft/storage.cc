#include "raft/storage.h"

#include "base/check.h"

namespace tern::raft {

absl::Status CompactedError() {
  return absl::OutOfRangeError("requested index is unavailable due to compaction");
}
absl::Status UnavailableError() {
  return absl::NotFoundError("requested entry at index is unavailable");
}
absl::Status SnapshotTemporarilyUnavailableError() {
  return absl::UnavailableError("snapshot is temporarily unavailable");
}

MemoryStorage::MemoryStorage() : entries_(1) {}

MemoryStorage::MemoryStorage(std::vector<uint64_t> voters) : entries_(1) {
  for (uint64_t id : voters) conf_state_.add_voters(id);
  *snapshot_.mutable_conf_state() = conf_state_;
}

absl::StatusOr<RaftState> MemoryStorage::InitialState() const {
  return RaftState{hard_state_, conf_state_};
}

uint64_t MemoryStorage::FirstIndex() const { return entries_[0].index() + 1; }
uint64_t MemoryStorage::LastIndex() const { return entries_[0].index() + entries_.size() - 1; }

absl::StatusOr<std::vector<Entry>> MemoryStorage::Entries(uint64_t lo, uint64_t hi,
                                                          uint64_t max_bytes) const {
  uint64_t offset = entries_[0].index();
  if (lo <= offset) return CompactedError();
  TERN_CHECK(hi <= LastIndex() + 1, "entries' hi ", hi, " out of bound lastindex ", LastIndex());
  std::vector<Entry> out;
  uint64_t size = 0;
  for (uint64_t i = lo; i < hi; ++i) {
    const Entry& e = entries_[i - offset];
    size += EntrySize(e);
    if (!out.empty() && size > max_bytes) break;
    out.push_back(e);
  }
  return out;
}

absl::StatusOr<uint64_t> MemoryStorage::Term(uint64_t i) const {
  uint64_t offset = entries_[0].index();
  if (i < offset) return CompactedError();
  if (i - offset >= entries_.size()) return UnavailableError();
  return entries_[i - offset].term();
}

absl::StatusOr<SnapshotMetadata> MemoryStorage::Snapshot() const { return snapshot_; }

void MemoryStorage::Append(const std::vector<Entry>& entries) {
  if (entries.empty()) return;
  uint64_t first = FirstIndex();
  uint64_t last = entries.back().index();
  if (last < first) return;  // Entirely compacted already.
  size_t skip = 0;
  if (entries.front().index() < first) skip = first - entries.front().index();
  uint64_t start = entries[skip].index();
  TERN_CHECK(start <= LastIndex() + 1, "missing log entries: last ", LastIndex(), " appended ",
             start);
  entries_.resize(start - entries_[0].index());
  for (size_t i = skip; i < entries.size(); ++i) {
    TERN_CHECK(entries[i].index() == start + (i - skip), "appended entries are not contiguous");
    entries_.push_back(entries[i]);
  }
}

absl::Status MemoryStorage::ApplySnapshot(const SnapshotMetadata& snapshot) {
  if (snapshot.index() < snapshot_.index()) {
    return absl::FailedPreconditionError("snapshot is older than the current one");
  }
  snapshot_ = snapshot;
  entries_.assign(1, Entry());
  entries_[0].set_index(snapshot.index());
  entries_[0].set_term(snapshot.term());
  conf_state_ = snapshot.conf_state();
  return absl::OkStatus();
}

absl::StatusOr<SnapshotMetadata> MemoryStorage::CreateSnapshot(uint64_t index,
                                                               const ConfState* conf_state,
                                                               std::string data) {
  if (index <= snapshot_.index()) {
    return absl::FailedPreconditionError("snapshot is out of date");
  }
  TERN_CHECK(index <= LastIndex(), "snapshot ", index, " is beyond last index ", LastIndex());
  uint64_t offset = entries_[0].index();
  snapshot_.set_index(index);
  snapshot_.set_term(entries_[index - offset].term());
  if (conf_state != nullptr) {
    // The membership as of the snapshot: what InitialState() reports from now on.
    *snapshot_.mutable_conf_state() = *conf_state;
    conf_state_ = *conf_state;
  } else {
    *snapshot_.mutable_conf_state() = conf_state_;
  }
  snapshot_.set_data(std::move(data));
  return snapshot_;
}

absl::Status MemoryStorage::Compact(uint64_t compact_index) {
  uint64_t offset = entries_[0].index();
  if (compact_index <= offset) return CompactedError();
  TERN_CHECK(compact_index <= LastIndex(), "compact ", compact_index, " is out of bound ",
             LastIndex());
  size_t i = compact_index - offset;
  std::vector<Entry> rest;
  rest.reserve(entries_.size() - i);
  rest.emplace_back();
  rest[0].set_index(entries_[i].index());
  rest[0].set_term(entries_[i].term());
  for (size_t j = i + 1; j < entries_.size(); ++j) rest.push_back(std::move(entries_[j]));
  entries_ = std::move(rest);
  return absl::OkStatus();
}

}  // namespace tern::raft
