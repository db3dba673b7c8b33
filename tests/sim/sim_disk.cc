#include "sim_disk.h"

#include "base/check.h"

namespace tern::sim {

void MemorySimDisk::Save(const raft::Ready& rd) {
  if (rd.snapshot) s_.ApplySnapshot(*rd.snapshot);
  if (!rd.entries.empty()) s_.Append(rd.entries);
  if (rd.hard_state) s_.SetHardState(*rd.hard_state);
  if (rd.must_sync) s_.Sync();
}

void MemorySimDisk::Snapshot(uint64_t applied, std::string app_data, const raft::ConfState& conf,
                             uint64_t keep) {
  const raft::MemoryStorage& view = s_.view();
  s_.CreateSnapshot(applied, std::move(app_data), conf);
  uint64_t compact = applied > keep ? applied - keep : 0;
  if (compact >= view.FirstIndex()) s_.Compact(compact);
  s_.Sync();
}

raft::SnapshotMetadata MemorySimDisk::DurableSnapshot() const {
  absl::StatusOr<raft::SnapshotMetadata> snap = s_.durable().Snapshot();
  TERN_CHECK_OK(snap.status());
  return *snap;
}

JournalSimDisk::JournalSimDisk(std::vector<uint64_t> voters)
    : voters_(std::move(voters)), fs_(std::make_unique<journal::MemFileSystem>()) {
  Open();
}

void JournalSimDisk::Open() {
  // Small segments, so rolling, sealing and whole-segment compaction happen often.
  absl::StatusOr<std::unique_ptr<journal::JournalStorage>> js = journal::JournalStorage::Open(
      fs_.get(), "/raft", voters_,
      journal::JournalOptions{.segment_bytes = 2048, .tail_cache_bytes = 512});
  TERN_CHECK_OK(js.status());
  js_ = *std::move(js);
  torn_bytes_ += js_->journal().recovery().torn_bytes_truncated;
}

void JournalSimDisk::Save(const raft::Ready& rd) { TERN_CHECK_OK(js_->Save(rd)); }

void JournalSimDisk::Snapshot(uint64_t applied, std::string app_data, const raft::ConfState&,
                              uint64_t) {
  // The journal compacts whole segments only; `keep` is implied by the segment size.
  TERN_CHECK_OK(js_->Compact(applied, std::move(app_data)));
}

raft::SnapshotMetadata JournalSimDisk::DurableSnapshot() const {
  absl::StatusOr<raft::SnapshotMetadata> snap = js_->Snapshot();
  TERN_CHECK_OK(snap.status());
  return *snap;
}

void JournalSimDisk::Crash(SimRng* rng) {
  js_.reset();
  fs_->Crash(rng->Chance(0.5) ? rng->Next() | 1 : 0);
  Open();
}

void JournalSimDisk::Wipe() {
  js_.reset();
  fs_ = std::make_unique<journal::MemFileSystem>();
  Open();
}

}  // namespace tern::sim
