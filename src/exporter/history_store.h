#pragma once

// The history store: what the engine did, as tables (history_schema.cc), built from a
// partition's records in log order. Idempotent by (partition, position): the position applied
// last is stored per partition in the same transaction as the rows it produced, and records at
// or before it are skipped, so a record delivered again changes nothing.
//
// Used by one thread (the exporter director's) per instance; several instances (one per
// partition) may share a database.

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "exporter/sql.h"
#include "tern/record.pb.h"

namespace tern::exporter {

class HistoryStore {
 public:
  // Migrates the schema and prepares the statements.
  static absl::StatusOr<std::unique_ptr<HistoryStore>> Open(
      std::unique_ptr<SqlConnection> connection, int32_t partition_id);
  ~HistoryStore();

  // The last position applied for this store's partition (0: none) and how many records have
  // been applied in all (each position counts once, so with positions starting at 1 and none
  // missing, the two are equal).
  struct Progress {
    int64_t position = 0;
    int64_t records_applied = 0;
  };
  absl::StatusOr<Progress> ReadProgress();

  // A transaction over several records. Apply skips records at or before the stored position.
  absl::Status Begin();
  absl::Status Apply(const record::Record& record);
  // Stores the progress and commits; returns the position now durable.
  absl::StatusOr<int64_t> Commit();
  void Rollback();
  bool in_transaction() const { return in_transaction_; }

  SqlConnection& connection() { return *connection_; }

 private:
  struct Statements;
  HistoryStore(std::unique_ptr<SqlConnection> connection, int32_t partition_id);
  absl::Status Prepare();
  absl::Status ApplyEvent(const record::Record& record);

  std::unique_ptr<SqlConnection> connection_;
  int32_t partition_id_;
  std::unique_ptr<Statements> statements_;
  bool in_transaction_ = false;
  Progress progress_;  // as of the open transaction
  int64_t last_timestamp_ = 0;
};

}  // namespace tern::exporter
