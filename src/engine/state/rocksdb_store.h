#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/state/store.h"

namespace tern::engine::state {

struct RocksDbStoreOptions {
  // Memory budget shared by all column families' memtables and the block cache. Small by
  // default: the working set of a partition is the running instances, not history.
  size_t memtable_budget_bytes = 32 << 20;
  size_t block_cache_bytes = 16 << 20;
};

// A StateStore in a RocksDB database with one column family per ColumnFamily id.
//
// The write-ahead log is disabled: the partition's Raft log is the source of truth, and state
// is recovered from a snapshot (a RocksDB checkpoint) plus replay of the log after it.
class RocksDbStore : public StateStore {
 public:
  // Opens or creates the database in `directory`.
  static absl::StatusOr<std::unique_ptr<RocksDbStore>> Open(const std::string& directory,
                                                            const RocksDbStoreOptions& options);
  // Flushes memtables and writes a consistent copy of the committed state to `directory` (hard
  // links where possible). The directory must not exist. Nothing of it is synced (the live
  // database never syncs): the caller syncs the files before relying on them.
  virtual absl::Status CreateCheckpoint(const std::string& directory) = 0;
  // Flushes the memtables to table files: with `wait`, before returning; without, it hands them
  // to RocksDB's background threads and returns at once (FlushPending says when they are
  // written), so that a CreateCheckpoint soon after has little left to flush on its caller's
  // thread.
  virtual absl::Status FlushMemtables(bool wait) = 0;
  // Whether memtables handed to a flush are still being written out.
  virtual bool FlushPending() = 0;
  // Approximate memory used by memtables and the block cache.
  virtual uint64_t ApproximateMemoryBytes() = 0;
};

}  // namespace tern::engine::state
