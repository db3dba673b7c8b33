#pragma once

// What a simulated member's Raft loop needs from its disk, with two implementations:
//  - MemorySimDisk: raft::MemoryStorage with an fsync watermark (SimRaftStorage); fast.
//  - JournalSimDisk: the real journal (src/journal) on a MemFileSystem whose crashes drop
//    unsynced bytes and may leave torn tails, so journal recovery runs under the simulation.
//
// Owned by one simulated member; single-threaded.

#include <memory>
#include <string>
#include <vector>

#include "journal/file_system.h"
#include "journal/journal_storage.h"
#include "raft/raw_node.h"
#include "sim_rng.h"
#include "sim_storage.h"

namespace tern::sim {

class SimDisk {
 public:
  virtual ~SimDisk() = default;
  virtual const raft::Storage* storage() const = 0;
  // Steps 1-2 of the Ready contract (fsync when rd.must_sync).
  virtual void Save(const raft::Ready& rd) = 0;
  // The application took a snapshot at `applied` (<= last index), where the membership was
  // `conf`; keep `keep` entries before it.
  virtual void Snapshot(uint64_t applied, std::string app_data, const raft::ConfState& conf,
                        uint64_t keep) = 0;
  // The latest durable snapshot (what a restarted application restores).
  virtual raft::SnapshotMetadata DurableSnapshot() const = 0;
  // Process death: unsynced writes are lost (maybe partly kept, torn).
  virtual void Crash(SimRng* rng) = 0;
  // Total data loss.
  virtual void Wipe() = 0;
};

class MemorySimDisk : public SimDisk {
 public:
  explicit MemorySimDisk(std::vector<uint64_t> voters) : s_(voters) {}
  const raft::Storage* storage() const override { return s_.storage(); }
  void Save(const raft::Ready& rd) override;
  void Snapshot(uint64_t applied, std::string app_data, const raft::ConfState& conf,
                uint64_t keep) override;
  raft::SnapshotMetadata DurableSnapshot() const override;
  void Crash(SimRng* rng) override { s_.Crash(rng); }
  void Wipe() override { s_.Wipe(); }

 private:
  SimRaftStorage s_;
};

class JournalSimDisk : public SimDisk {
 public:
  explicit JournalSimDisk(std::vector<uint64_t> voters);
  const raft::Storage* storage() const override { return js_.get(); }
  void Save(const raft::Ready& rd) override;
  // JournalStorage::Compact records the membership it was opened with: seeds with the journal
  // disk do not change membership (that is the broker side's part of issue 17).
  void Snapshot(uint64_t applied, std::string app_data, const raft::ConfState& conf,
                uint64_t keep) override;
  raft::SnapshotMetadata DurableSnapshot() const override;
  void Crash(SimRng* rng) override;
  void Wipe() override;
  uint64_t torn_bytes() const { return torn_bytes_; }

 private:
  void Open();

  std::vector<uint64_t> voters_;
  std::unique_ptr<journal::MemFileSystem> fs_;
  std::unique_ptr<journal::JournalStorage> js_;
  uint64_t torn_bytes_ = 0;
};

}  // namespace tern::sim
