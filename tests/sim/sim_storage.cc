#include "sim_storage.h"

#include "base/check.h"

namespace tern::sim {

void SimRaftStorage::Do(Op op) {
  ApplyTo(*volatile_, op);
  pending_.push_back(std::move(op));
}

void SimRaftStorage::ApplyTo(raft::MemoryStorage& s, const Op& op) {
  if (auto* o = std::get_if<SetHardStateOp>(&op)) {
    s.SetHardState(o->hs);
  } else if (auto* o = std::get_if<AppendOp>(&op)) {
    s.Append(o->entries);
  } else if (auto* o = std::get_if<ApplySnapshotOp>(&op)) {
    TERN_CHECK_OK(s.ApplySnapshot(o->snapshot));
  } else if (auto* o = std::get_if<CreateSnapshotOp>(&op)) {
    absl::StatusOr<raft::SnapshotMetadata> r = s.CreateSnapshot(o->index, &o->conf, o->data);
    // An older snapshot than the one held is a no-op on replay.
    (void)r;
  } else if (auto* o = std::get_if<CompactOp>(&op)) {
    (void)s.Compact(o->index);
  }
}

void SimRaftStorage::Sync() {
  for (const Op& op : pending_) ApplyTo(*durable_, op);
  pending_.clear();
}

void SimRaftStorage::Crash(SimRng* rng) {
  size_t keep = 0;
  if (rng != nullptr && !pending_.empty()) keep = rng->Uniform(pending_.size() + 1);
  pending_.resize(keep);
  Sync();
  // MemoryStorage is a value type: the volatile view restarts as an exact copy of the disk.
  volatile_ = std::make_unique<raft::MemoryStorage>(*durable_);
}

void SimRaftStorage::Wipe() {
  pending_.clear();
  durable_ = std::make_unique<raft::MemoryStorage>(voters_);
  volatile_ = std::make_unique<raft::MemoryStorage>(voters_);
}

}  // namespace tern::sim
