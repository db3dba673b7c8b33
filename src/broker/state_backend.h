#pragma once

// Where a partition's state lives and how it is snapshotted, behind one interface so that the
// production broker (RocksDB checkpoints on disk) and the deterministic simulator (in-memory
// stores) run the same partition code.
//
// A snapshot holds exactly the committed state at a Raft (index, term). The live state is
// always opened as a private copy of the newest usable snapshot (or empty), then brought up to
// date by applying the log after it. Snapshots travel to lagging followers as one byte stream
// (SnapshotSource on the leader, SnapshotSink on the follower).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/state/rocksdb_store.h"
#include "engine/state/store.h"

namespace tern::broker {

struct SnapshotInfo {
  uint64_t index = 0;
  uint64_t term = 0;
};

// The bytes of one snapshot, read by offset (for chunked transfer).
class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  virtual uint64_t size() const = 0;
  virtual absl::StatusOr<std::string> ReadAt(uint64_t offset, uint64_t max_bytes) = 0;
};

// A snapshot being received. Bytes arrive in order; Commit verifies and publishes it as the
// newest snapshot, after which OpenLatest can open it.
class SnapshotSink {
 public:
  virtual ~SnapshotSink() = default;
  virtual uint64_t next_offset() const = 0;
  virtual absl::Status Append(std::string_view data) = 0;
  virtual absl::Status Commit() = 0;
};

class StateBackend {
 public:
  virtual ~StateBackend() = default;

  // Opens the live state from the newest snapshot whose index is at least `min_index`, or
  // empty state when there is none and `min_index` is 0. Replaces any previous live state
  // (which must have been closed). Returns the snapshot used ({0, 0} for empty state).
  virtual absl::StatusOr<std::unique_ptr<engine::state::StateStore>> OpenLatest(
      uint64_t min_index, SnapshotInfo* opened) = 0;
  // Snapshots `live`, which must hold exactly the committed state at `info`.
  virtual absl::Status TakeSnapshot(engine::state::StateStore& live, SnapshotInfo info) = 0;
  // Deletes snapshots older than the newest one.
  virtual void DeleteOlderSnapshots() = 0;
  // Deletes snapshots newer than `index`: received ones that Raft did not install (their
  // MsgSnap came from a deposed leader) once it installs an older one instead.
  virtual void DeleteNewerSnapshots(uint64_t index) = 0;
  virtual std::optional<SnapshotInfo> Latest() = 0;

  virtual absl::StatusOr<std::unique_ptr<SnapshotSource>> Read(SnapshotInfo info) = 0;
  // Starts receiving a snapshot; an unfinished earlier one is discarded.
  virtual absl::StatusOr<std::unique_ptr<SnapshotSink>> Receive(SnapshotInfo info) = 0;

  // Memory the live state uses (memtables, caches), for metrics.
  virtual uint64_t ApproximateMemoryBytes() { return 0; }
};

// Snapshots as RocksDB checkpoints in <directory>/snapshots/<index>-<term>/, live state in
// <directory>/runtime/.
std::unique_ptr<StateBackend> NewRocksDbBackend(std::string directory,
                                                engine::state::RocksDbStoreOptions options);

// Everything in memory: for the deterministic simulator and tests.
std::unique_ptr<StateBackend> NewMemoryBackend();

}  // namespace tern::broker
