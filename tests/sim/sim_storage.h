#pragma once

// Simulated durable Raft storage with an fsync watermark. Writes land in a volatile view that
// Raft reads; Sync() makes them durable; Crash() throws away everything written since the last
// Sync (optionally keeping a random prefix of it, as a disk that flushed part of its cache
// would). Modelled on RocksDB's FaultInjectionTestFS: "the state of the file system as of the
// last sync".
//
// Owned by one simulated node; single-threaded.

#include <memory>
#include <variant>
#include <vector>

#include "raft/storage.h"
#include "sim_rng.h"

namespace tern::sim {

class SimRaftStorage {
 public:
  explicit SimRaftStorage(std::vector<uint64_t> voters)
      : voters_(voters),
        durable_(std::make_unique<raft::MemoryStorage>(voters)),
        volatile_(std::make_unique<raft::MemoryStorage>(voters)) {}

  // What Raft reads: everything written, synced or not.
  const raft::Storage* storage() const { return volatile_.get(); }
  const raft::MemoryStorage& view() const { return *volatile_; }
  const raft::MemoryStorage& durable() const { return *durable_; }

  void SetHardState(const raft::HardState& hs) { Do(SetHardStateOp{hs}); }
  void Append(std::vector<raft::Entry> entries) { Do(AppendOp{std::move(entries)}); }
  void ApplySnapshot(const raft::SnapshotMetadata& s) { Do(ApplySnapshotOp{s}); }
  // `conf` is the membership at `index` (what the restarted member starts from).
  void CreateSnapshot(uint64_t index, std::string data, raft::ConfState conf) {
    Do(CreateSnapshotOp{index, data, std::move(conf)});
  }
  void Compact(uint64_t index) { Do(CompactOp{index}); }

  void Sync();
  bool HasUnsynced() const { return !pending_.empty(); }
  // Loses unsynced writes; with `rng`, a random prefix of them survives.
  void Crash(SimRng* rng);
  // The disk is gone: start empty (a replaced or wiped data directory).
  void Wipe();

 private:
  struct SetHardStateOp {
    raft::HardState hs;
  };
  struct AppendOp {
    std::vector<raft::Entry> entries;
  };
  struct ApplySnapshotOp {
    raft::SnapshotMetadata snapshot;
  };
  struct CreateSnapshotOp {
    uint64_t index;
    std::string data;
    raft::ConfState conf;
  };
  struct CompactOp {
    uint64_t index;
  };
  using Op = std::variant<SetHardStateOp, AppendOp, ApplySnapshotOp, CreateSnapshotOp, CompactOp>;

  void Do(Op op);
  static void ApplyTo(raft::MemoryStorage& s, const Op& op);

  std::vector<uint64_t> voters_;
  std::unique_ptr<raft::MemoryStorage> durable_;
  std::unique_ptr<raft::MemoryStorage> volatile_;
  std::vector<Op> pending_;
};

}  // namespace tern::sim
