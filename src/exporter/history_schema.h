#pragma once

// The history store's schema as numbered migrations. Each is applied once, in order, in one
// transaction, and recorded in `schema_version`; a released migration is never edited, a change
// is a new one. The SQL is the dialect SQLite and PostgreSQL share (see sql.h).

#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "exporter/sql.h"

namespace tern::exporter {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

const std::vector<Migration>& HistoryMigrations();

// Brings the store's schema to the newest version. Safe to call from several connections at
// once (the first one applies, the others see the versions recorded).
absl::Status MigrateHistorySchema(SqlConnection& connection);

// The schema version a store is at (0: empty).
absl::StatusOr<int> HistorySchemaVersion(SqlConnection& connection);

}  // namespace tern::exporter
