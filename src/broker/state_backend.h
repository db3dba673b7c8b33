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

// How long each step of a snapshot took, in microseconds, for the log line and the metrics.
// The first three run on the partition thread; `finish_us` is the part that may run elsewhere.
struct SnapshotTimings {
  int64_t flush_us = 0;       // writing the memtables out (RocksDB; most of it done ahead)
  int64_t checkpoint_us = 0;  // capturing the state: hard links and small copies (RocksDB)
  int64_t capture_us = 0;     // everything on the calling thread, the two above included
  int64_t finish_us = 0;      // syncing and publishing the snapshot, deleting older ones
};

// A snapshot captured on the partition thread whose durable part (syncing and publishing it)
// finishes later, possibly on another thread, so that a slow disk does not stop the partition's
// Raft ticks and heartbeats. Owned and polled by the partition thread. Dropping it unfinished
// does not stop it: the backend finishes (or abandons) the work before anything else touches its
// snapshots, and a crash leaves at most an unpublished directory that is ignored.
class PendingSnapshot {
 public:
  virtual ~PendingSnapshot() = default;
  // Never blocks. Once true, the snapshot is published (or failed: status()).
  virtual bool Done() = 0;
  // Blocks until Done().
  virtual void Wait() = 0;
  virtual absl::Status status() const = 0;
  virtual SnapshotTimings timings() const = 0;
};

class StateBackend {
 public:
  virtual ~StateBackend() = default;

  // Opens the live state from the newest snapshot whose index is at least `min_index`, or
  // empty state when there is none and `min_index` is 0. Replaces any previous live state
  // (which must have been closed). Returns the snapshot used ({0, 0} for empty state).
  virtual absl::StatusOr<std::unique_ptr<engine::state::StateStore>> OpenLatest(
      uint64_t min_index, SnapshotInfo* opened) = 0;
  // Snapshots `live`, which must hold exactly the committed state at `info`, before returning.
  virtual absl::Status TakeSnapshot(engine::state::StateStore& live, SnapshotInfo info) = 0;
  // Gets `live` ready for a short StartSnapshot without blocking (RocksDB: starts flushing the
  // memtables in its background threads). Called on each poll while a snapshot is due; true
  // once ready. `live` may change in between.
  virtual bool PrepareSnapshot(engine::state::StateStore& /*live*/) { return true; }
  // Like TakeSnapshot, but only what must see `live` (exactly the committed state at `info`)
  // happens before returning; syncing and publishing may finish later. Latest() shows the
  // snapshot once the handle is done. The default does everything before returning.
  virtual absl::StatusOr<std::unique_ptr<PendingSnapshot>> StartSnapshot(
      engine::state::StateStore& live, SnapshotInfo info);
  // Deletes snapshots older than the newest one (RocksDB: possibly finishing later; the
  // backend's other calls wait for it where it matters).
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
