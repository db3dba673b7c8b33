#pragma once

// The little of a SQL database the history store needs, behind an interface so that SQLite
// (embedded, the default) and PostgreSQL can share the schema and the store's code. Statements
// are written once, with numbered parameters `?1`, `?2` ... (a PostgreSQL backend rewrites them
// to `$1`, `$2`), and in the SQL both accept: BIGINT/INTEGER/TEXT columns, INSERT ... ON
// CONFLICT ... DO UPDATE/NOTHING, no AUTOINCREMENT, no backend-specific functions.
//
// A connection and its statements belong to one thread at a time. Reads: Prepare a SELECT, bind,
// then Next() / Column*() row by row (PostgreSQL fetches the whole result at the first Next, so
// page with LIMIT).
//
// Errors are absl::Status values naming the store (the URL without its password) and the
// statement: UNAVAILABLE when the database cannot be reached or the connection broke (a later
// call reconnects; a transaction the broken connection was in is lost, and calls fail until the
// caller has run ROLLBACK), ABORTED for a deadlock or serialization failure (retry the
// transaction), RESOURCE_EXHAUSTED for a full disk, INTERNAL otherwise.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace tern::exporter {

class SqlStatement {
 public:
  virtual ~SqlStatement() = default;
  virtual void BindInt(int index, int64_t value) = 0;
  virtual void BindText(int index, std::string_view value) = 0;
  virtual void BindNull(int index) = 0;
  // Runs the statement to completion (no rows expected) and clears the bindings' use.
  virtual absl::Status Run() = 0;
  // Steps to the next result row: true if there is one. After the last row (false) the
  // statement is ready to be bound and run again.
  virtual absl::StatusOr<bool> Next() = 0;
  virtual int ColumnCount() = 0;
  virtual int64_t ColumnInt(int column) = 0;
  virtual std::string ColumnText(int column) = 0;
  virtual bool ColumnIsNull(int column) = 0;
  // Ends a query early (before Next returned false).
  virtual void Reset() = 0;
};

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  // "sqlite" or "postgresql": for the few places where the dialects differ (DDL pragmas).
  virtual std::string_view dialect() const = 0;
  // Runs statements without parameters (DDL, BEGIN/COMMIT), separated by ';'.
  virtual absl::Status Execute(std::string_view sql) = 0;
  virtual absl::StatusOr<std::unique_ptr<SqlStatement>> Prepare(std::string_view sql) = 0;
};

// Where history goes, from `--history`: `sqlite:PATH`, `postgresql://...` or `none`.
struct HistoryUrl {
  enum class Kind { kNone, kSqlite, kPostgresql };
  Kind kind = Kind::kNone;
  std::string location;  // the SQLite file, or the PostgreSQL connection URL
};
// `default_sqlite_path` is used for an empty url ("history on, where it belongs").
absl::StatusOr<HistoryUrl> ParseHistoryUrl(std::string_view url,
                                           const std::string& default_sqlite_path);

// Opens a connection: SQLite files are created (with their directory); PostgreSQL connects
// (postgres_connection.cc).
absl::StatusOr<std::unique_ptr<SqlConnection>> OpenSqlConnection(const HistoryUrl& url);

absl::StatusOr<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path);
// `postgresql://user:password@host:port/db` or `postgres://...`, with libpq's URL parameters
// (`?sslmode=require&connect_timeout=5` ...); connect_timeout defaults to 10 s.
absl::StatusOr<std::unique_ptr<SqlConnection>> OpenPostgresql(const std::string& url);

// INVALID_ARGUMENT unless libpq can parse the URL (checked when the exporter is configured, so a
// typo stops the broker at start instead of failing every retry).
absl::Status CheckPostgresqlUrl(std::string_view url);
// The URL with its password (user:PASSWORD@ or password=...) replaced by ***: for messages.
std::string HistoryUrlForDisplay(std::string_view url);

}  // namespace tern::exporter
