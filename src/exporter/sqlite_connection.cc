// SQLite behind SqlConnection: one connection per exporter instance (one per partition), on
// the same file. WAL mode lets readers (the search API, an operator's sqlite3 shell) read while a
// partition writes; writers from several partitions take turns, waiting up to busy_timeout.

#include <sqlite3.h>

#include <filesystem>

#include "base/strings.h"
#include "exporter/sql.h"

namespace tern::exporter {
namespace {

absl::Status SqliteError(sqlite3* db, std::string_view what) {
  int code = sqlite3_extended_errcode(db);
  std::string message = StrCat(what, ": ", sqlite3_errmsg(db));
  if ((code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED) {
    return absl::UnavailableError(message);
  }
  if ((code & 0xff) == SQLITE_FULL || (code & 0xff) == SQLITE_IOERR) {
    return absl::ResourceExhaustedError(message);
  }
  return absl::InternalError(message);
}

class SqliteStatement : public SqlStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* statement) : db_(db), statement_(statement) {}
  ~SqliteStatement() override { sqlite3_finalize(statement_); }

  void BindInt(int index, int64_t value) override { sqlite3_bind_int64(statement_, index, value); }
  void BindText(int index, std::string_view value) override {
    sqlite3_bind_text64(statement_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                        SQLITE_UTF8);
  }
  void BindNull(int index) override { sqlite3_bind_null(statement_, index); }

  absl::Status Run() override {
    int rc;
    while ((rc = sqlite3_step(statement_)) == SQLITE_ROW) {
    }
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
    if (rc != SQLITE_DONE) return SqliteError(db_, sqlite3_sql(statement_));
    return absl::OkStatus();
  }

  absl::StatusOr<bool> Next() override {
    int rc = sqlite3_step(statement_);
    if (rc == SQLITE_ROW) return true;
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
    if (rc != SQLITE_DONE) return SqliteError(db_, sqlite3_sql(statement_));
    return false;
  }

  int ColumnCount() override { return sqlite3_column_count(statement_); }
  int64_t ColumnInt(int column) override { return sqlite3_column_int64(statement_, column); }
  std::string ColumnText(int column) override {
    const auto* text = sqlite3_column_text(statement_, column);
    int size = sqlite3_column_bytes(statement_, column);
    return text == nullptr ? std::string() : std::string(reinterpret_cast<const char*>(text), size);
  }
  bool ColumnIsNull(int column) override {
    return sqlite3_column_type(statement_, column) == SQLITE_NULL;
  }
  void Reset() override {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* statement_;
};

class SqliteConnection : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override { sqlite3_close_v2(db_); }

  std::string_view dialect() const override { return "sqlite"; }

  absl::Status Execute(std::string_view sql) override {
    std::string text(sql);
    char* error = nullptr;
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error != nullptr ? error : "unknown error";
      sqlite3_free(error);
      absl::Status status = SqliteError(db_, "");
      return absl::Status(status.code(), StrCat(message, " (in: ", text.substr(0, 200), ")"));
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<SqlStatement>> Prepare(std::string_view sql) override {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &statement, nullptr) != SQLITE_OK) {
      return SqliteError(db_, StrCat("cannot prepare '", sql, "'"));
    }
    return std::make_unique<SqliteStatement>(db_, statement);
  }

 private:
  sqlite3* db_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<SqlConnection>> OpenSqlite(const std::string& path) {
  std::error_code error;
  auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, error);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return absl::UnavailableError(StrCat("cannot open the history store ", path, ": ", message));
  }
  auto connection = std::make_unique<SqliteConnection>(db);
  sqlite3_busy_timeout(db, 10'000);
  // WAL: readers do not block the writer. synchronous=FULL syncs the WAL at every commit: a
  // position is acknowledged (and the log compacted past it) only after its transaction commits,
  // so a commit lost to a power failure would be a hole in the history.
  auto status = connection->Execute(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;");
  if (!status.ok()) return status;
  return connection;
}

absl::StatusOr<HistoryUrl> ParseHistoryUrl(std::string_view url,
                                           const std::string& default_sqlite_path) {
  HistoryUrl parsed;
  if (url.empty() || url == "sqlite" || url == "sqlite:") {
    parsed.kind = HistoryUrl::Kind::kSqlite;
    parsed.location = default_sqlite_path;
    return parsed;
  }
  if (url == "none" || url == "off") return parsed;
  if (url.starts_with("sqlite:")) {
    parsed.kind = HistoryUrl::Kind::kSqlite;
    std::string_view path = url.substr(7);
    // sqlite:///abs/path and sqlite://rel are accepted as well as sqlite:PATH.
    if (path.starts_with("//")) path.remove_prefix(2);
    parsed.location = std::string(path);
    return parsed;
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    if (auto status = CheckPostgresqlUrl(url); !status.ok()) return status;
    parsed.kind = HistoryUrl::Kind::kPostgresql;
    parsed.location = std::string(url);
    return parsed;
  }
  return absl::InvalidArgumentError(StrCat("history: '", HistoryUrlForDisplay(url),
                                           "' is not a history store (expected sqlite:PATH, "
                                           "postgresql://user:password@host:port/db or none)"));
}

absl::StatusOr<std::unique_ptr<SqlConnection>> OpenSqlConnection(const HistoryUrl& url) {
  switch (url.kind) {
    case HistoryUrl::Kind::kSqlite:
      return OpenSqlite(url.location);
    case HistoryUrl::Kind::kPostgresql:
      return OpenPostgresql(url.location);
    case HistoryUrl::Kind::kNone:
      break;
  }
  return absl::InvalidArgumentError("history is turned off");
}

}  // namespace tern::exporter
