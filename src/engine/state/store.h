#pragma once

// The narrow interface between the engine and its state storage.
//
// One Transaction is open per processing batch on the partition thread: every read sees the
// batch's own earlier writes, and Commit makes the whole batch durable-in-memory at once (the
// log, not the state store, is the source of truth: state is rebuilt from a snapshot plus the
// log after a crash). The RocksDB implementation backs production; MemoryStore backs unit tests.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "engine/state/column_families.h"

namespace tern::engine::state {

class Transaction {
 public:
  virtual ~Transaction() = default;
  virtual bool Get(ColumnFamily cf, std::string_view key, std::string* value) = 0;
  virtual bool Contains(ColumnFamily cf, std::string_view key) = 0;
  virtual void Put(ColumnFamily cf, std::string_view key, std::string_view value) = 0;
  virtual void Delete(ColumnFamily cf, std::string_view key) = 0;
  // Visits the entries whose key starts with `prefix`, in ascending key order, until the visitor
  // returns false.
  void ForEachWithPrefix(
      ColumnFamily cf, std::string_view prefix,
      absl::FunctionRef<bool(std::string_view key, std::string_view value)> visitor) {
    ForEachWithPrefixFrom(cf, prefix, prefix, visitor);
  }
  // The same, starting at the first key >= `from` (a seek, for key-based paging); `from` below
  // `prefix` starts at `prefix`.
  virtual void ForEachWithPrefixFrom(
      ColumnFamily cf, std::string_view prefix, std::string_view from,
      absl::FunctionRef<bool(std::string_view key, std::string_view value)> visitor) = 0;
  // Applies the transaction's writes to the store. The transaction is empty afterwards and may
  // be used again.
  virtual void Commit() = 0;
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  // The one transaction of this store. Only the partition thread uses it.
  virtual Transaction& transaction() = 0;
  // Visits all committed entries: column families in kAllColumnFamilies order, keys ascending.
  virtual void ForEachEntry(
      absl::FunctionRef<void(ColumnFamily cf, std::string_view key, std::string_view value)>
          visitor) = 0;
  // A deterministic digest of all committed state (all column families, in key order). Two
  // replicas at the same applied position must agree; so must live state and a replay.
  uint64_t Checksum();
};

std::unique_ptr<StateStore> NewMemoryStore();

}  // namespace tern::engine::state
