// PostgreSQL behind SqlConnection, with libpq. One connection per exporter instance (one per
// partition a broker leads); all brokers of a cluster share one database. Owned by its user and
// used by one thread at a time, like the SQLite connection.
//
// Statements: `?N` is rewritten to `$N` (outside string literals, quoted identifiers and
// comments) and prepared on the server at their first run, with the parameter types of that run:
// integers are sent as int8, text and NULL as "unknown", which the server types from the context
// as it would a literal (so `?3 = ''` is text and a text bound into a BIGINT column is parsed).
// int8 matters: the server would otherwise type `?7 < 0` as int4 and refuse epoch milliseconds.
// A statement bound once with NULL and once with an integer for the same parameter is prepared
// once per combination (a handful at most).
//
// Broken connections: the call that meets one fails with UNAVAILABLE; a later call reconnects
// (once per call; the exporter director's backoff paces the attempts). A transaction the
// connection was in is lost with it, so until the caller has rolled back (ROLLBACK on a broken
// connection succeeds at once) every call fails instead of reconnecting: a COMMIT must never
// land on a fresh session and report success for work that is gone. Statements prepared on the
// old session are prepared again on the new one.

#include <libpq-fe.h>

#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>
#include <vector>

#include "base/strings.h"
#include "exporter/sql.h"

namespace tern::exporter {
namespace {

constexpr Oid kInt8Oid = 20;  // pg_type.h's INT8OID, stable across releases

// The session shared by a connection and its statements: statements may be destroyed after the
// connection (they then have nothing to deallocate).
struct Session {
  PGconn* conn = nullptr;
  uint64_t generation = 0;  // bumped at each (re)connect: prepared statements belong to one
  int64_t next_statement = 0;
  // The server-side transaction was lost with a broken connection; cleared by ROLLBACK.
  bool lost_transaction = false;
  std::string url;          // with the password: never in a message
  std::string display_url;  // the URL without its password, for messages

  ~Session() {
    if (conn != nullptr) PQfinish(conn);
  }
  bool broken() const { return conn == nullptr || PQstatus(conn) == CONNECTION_BAD; }
  bool in_transaction() const {
    if (conn == nullptr) return false;
    auto status = PQtransactionStatus(conn);
    return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE;
  }
  absl::Status Connect();
  absl::Status EnsureConnected();
};

std::string Shorten(std::string_view sql) {
  std::string text(sql.substr(0, 200));
  if (sql.size() > 200) text += "...";
  return text;
}

// libpq's messages end in a newline and may span lines.
std::string OneLine(const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  std::string line;
  for (char c : text) {
    if (c == '\n' || c == '\t') c = ' ';
    if (c == ' ' && !line.empty() && line.back() == ' ') continue;
    line += c;
  }
  text = std::move(line);
  return text;
}

absl::StatusCode CodeFor(std::string_view sqlstate, bool connection_broken) {
  if (connection_broken || sqlstate.starts_with("08") || sqlstate == "57P01" ||
      sqlstate == "57P02" || sqlstate == "57P03") {
    return absl::StatusCode::kUnavailable;
  }
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") {
    return absl::StatusCode::kAborted;  // serialization failure, deadlock, lock timeout: retry
  }
  if (sqlstate.starts_with("53")) return absl::StatusCode::kResourceExhausted;
  if (sqlstate == "57014") return absl::StatusCode::kDeadlineExceeded;  // statement timeout
  return absl::StatusCode::kInternal;
}

// An error from a result (or from the connection when there is none), naming the store and what
// was run. Marks the session's transaction lost when the connection broke inside one.
absl::Status ErrorFrom(Session& session, const PGresult* result, std::string_view what,
                       bool was_in_transaction) {
  const bool broken = session.broken();
  if (broken && was_in_transaction) session.lost_transaction = true;
  std::string sqlstate;
  std::string message;
  std::string table;
  if (result != nullptr) {
    if (const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE)) sqlstate = state;
    message = OneLine(PQresultErrorMessage(result));
    if (const char* name = PQresultErrorField(result, PG_DIAG_TABLE_NAME)) table = name;
  }
  if (message.empty()) message = OneLine(PQerrorMessage(session.conn));
  if (message.empty()) message = "no answer from the server";
  std::string text = StrCat("history store ", session.display_url, ": ", what, ": ", message);
  if (!table.empty()) text += StrCat(" (table ", table, ")");
  if (!sqlstate.empty()) text += StrCat(" [SQLSTATE ", sqlstate, "]");
  if (broken) text += " (connection lost; reconnecting at the next call)";
  return absl::Status(CodeFor(sqlstate, broken), text);
}

absl::Status Session::Connect() {
  if (conn != nullptr) {
    PQfinish(conn);
    conn = nullptr;
  }
  // Defaults first: the URL's own parameters (expanded from dbname, after them) override them.
  const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
  const char* values[] = {"10", "tern-broker", url.c_str(), nullptr};
  conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return absl::ResourceExhaustedError("history store: libpq is out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = OneLine(PQerrorMessage(conn));
    PQfinish(conn);
    conn = nullptr;
    return absl::UnavailableError(
        StrCat("history store ", display_url, ": cannot connect: ", message));
  }
  ++generation;
  lost_transaction = false;
  // Quiet notices: CREATE TABLE IF NOT EXISTS says "already exists, skipping" at every start.
  PGresult* result = PQexec(conn, "SET client_min_messages = warning");
  absl::Status status = PQresultStatus(result) == PGRES_COMMAND_OK
                            ? absl::OkStatus()
                            : ErrorFrom(*this, result, "SET client_min_messages", false);
  PQclear(result);
  return status;
}

// Called before every round trip: reconnects a broken connection unless a transaction was lost
// with it (the caller must roll back first).
absl::Status Session::EnsureConnected() {
  if (!broken()) return absl::OkStatus();
  if (lost_transaction) {
    return absl::UnavailableError(
        StrCat("history store ", display_url,
               ": the connection was lost during a transaction, which is rolled back; roll back "
               "before going on"));
  }
  return Connect();
}

struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Result = std::unique_ptr<PGresult, ResultDeleter>;

bool IsRollback(std::string_view sql) {
  while (!sql.empty() && std::isspace(static_cast<unsigned char>(sql.front())))
    sql.remove_prefix(1);
  while (!sql.empty() &&
         (std::isspace(static_cast<unsigned char>(sql.back())) || sql.back() == ';'))
    sql.remove_suffix(1);
  if (sql.size() != 8) return false;
  for (size_t i = 0; i < 8; ++i) {
    if (std::toupper(static_cast<unsigned char>(sql[i])) != "ROLLBACK"[i]) return false;
  }
  return true;
}

class PgStatement : public SqlStatement {
 public:
  PgStatement(std::shared_ptr<Session> session, std::string original, std::string sql,
              int parameters)
      : session_(std::move(session)),
        original_(std::move(original)),
        sql_(std::move(sql)),
        values_(parameters),
        types_(parameters, 0),
        id_(session_->next_statement++) {}
  ~PgStatement() override { Deallocate(); }

  void BindInt(int index, int64_t value) override {
    if (!Valid(index)) return;
    values_[index - 1] = std::to_string(value);
    types_[index - 1] = kInt8Oid;
  }
  void BindText(int index, std::string_view value) override {
    if (!Valid(index)) return;
    values_[index - 1] = std::string(value);
    types_[index - 1] = 0;
  }
  void BindNull(int index) override {
    if (!Valid(index)) return;
    values_[index - 1].reset();
    types_[index - 1] = 0;
  }

  absl::Status Run() override {
    result_.reset();  // a query left unfinished
    row_ = -1;
    absl::Status status = Execute();
    result_.reset();
    ClearBindings();
    return status;
  }

  absl::StatusOr<bool> Next() override {
    if (!result_) {
      absl::Status status = Execute();
      if (!status.ok()) {
        result_.reset();
        ClearBindings();
        return status;
      }
      row_ = -1;
    }
    if (++row_ < PQntuples(result_.get())) return true;
    Reset();
    return false;
  }

  int ColumnCount() override { return result_ ? PQnfields(result_.get()) : 0; }
  int64_t ColumnInt(int column) override {
    if (!HasCell(column)) return 0;
    return std::strtoll(PQgetvalue(result_.get(), row_, column), nullptr, 10);
  }
  std::string ColumnText(int column) override {
    if (!HasCell(column)) return "";
    return std::string(PQgetvalue(result_.get(), row_, column),
                       PQgetlength(result_.get(), row_, column));
  }
  bool ColumnIsNull(int column) override {
    return !HasCell(column) || PQgetisnull(result_.get(), row_, column) != 0;
  }
  void Reset() override {
    result_.reset();
    row_ = -1;
    ClearBindings();
  }

 private:
  bool Valid(int index) {
    if (index >= 1 && index <= static_cast<int>(values_.size())) return true;
    bad_bind_ = index;
    return false;
  }
  bool HasCell(int column) const {
    return result_ && row_ >= 0 && row_ < PQntuples(result_.get()) && column >= 0 &&
           column < PQnfields(result_.get());
  }
  void ClearBindings() {
    for (auto& value : values_) value.reset();
    std::fill(types_.begin(), types_.end(), 0);
  }
  absl::Status Execute();
  void Deallocate() {
    if (session_->broken() || session_->generation != generation_ || prepared_.empty()) return;
    // Not inside a failed transaction (the server refuses everything but ROLLBACK there); the
    // statements then live until the session ends.
    if (PQtransactionStatus(session_->conn) == PQTRANS_INERROR) return;
    std::string sql;
    for (const auto& [types, name] : prepared_) sql += StrCat("DEALLOCATE ", name, ";");
    PQclear(PQexec(session_->conn, sql.c_str()));
    prepared_.clear();
  }

  std::shared_ptr<Session> session_;
  std::string original_;  // as written (with ?N), for messages
  std::string sql_;       // with $N
  std::vector<std::optional<std::string>> values_;
  std::vector<Oid> types_;
  int64_t id_;
  int bad_bind_ = 0;
  uint64_t generation_ = 0;
  std::map<std::vector<Oid>, std::string> prepared_;  // parameter types -> server-side name
  Result result_;
  int row_ = -1;
};

class PgConnection : public SqlConnection {
 public:
  PgConnection(std::string url, std::string display_url) : session_(std::make_shared<Session>()) {
    session_->url = std::move(url);
    session_->display_url = std::move(display_url);
  }
  Session& session() { return *session_; }

  std::string_view dialect() const override { return "postgresql"; }

  absl::Status Execute(std::string_view sql) override {
    if (IsRollback(sql) && session_->broken()) {
      session_->lost_transaction = false;  // nothing left to roll back: the server did it
      return absl::OkStatus();
    }
    if (auto status = session_->EnsureConnected(); !status.ok()) return status;
    const bool was_in_transaction = session_->in_transaction();
    std::string text(sql);
    Result result(PQexec(session_->conn, text.c_str()));
    auto status = PQresultStatus(result.get());
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK && status != PGRES_EMPTY_QUERY) {
      return ErrorFrom(*session_, result.get(), StrCat("'", Shorten(sql), "'"), was_in_transaction);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::unique_ptr<SqlStatement>> Prepare(std::string_view sql) override {
    std::string rewritten;
    int parameters = 0;
    if (auto status = Rewrite(sql, rewritten, parameters); !status.ok()) return status;
    return std::unique_ptr<SqlStatement>(
        new PgStatement(session_, std::string(sql), std::move(rewritten), parameters));
  }

  // `?N` -> `$N` outside '...' literals, "..." identifiers and comments. A `?` without a
  // number is refused: the store's statements number their parameters.
  static absl::Status Rewrite(std::string_view sql, std::string& out, int& parameters) {
    out.clear();
    out.reserve(sql.size());
    parameters = 0;
    size_t i = 0;
    while (i < sql.size()) {
      char c = sql[i];
      if (c == '\'' || c == '"') {
        size_t end = i + 1;
        while (end < sql.size()) {
          if (sql[end] == c) {
            if (end + 1 < sql.size() && sql[end + 1] == c) {
              end += 2;  // '' or "" inside
              continue;
            }
            break;
          }
          ++end;
        }
        end = std::min(end + 1, sql.size());
        out.append(sql.substr(i, end - i));
        i = end;
      } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
        size_t end = sql.find('\n', i);
        if (end == std::string_view::npos) end = sql.size();
        out.append(sql.substr(i, end - i));
        i = end;
      } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
        size_t end = sql.find("*/", i + 2);
        end = end == std::string_view::npos ? sql.size() : end + 2;
        out.append(sql.substr(i, end - i));
        i = end;
      } else if (c == '?') {
        size_t end = i + 1;
        int number = 0;
        while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end])) &&
               number < 100000) {
          number = number * 10 + (sql[end] - '0');
          ++end;
        }
        if (end == i + 1 || number == 0) {
          return absl::InvalidArgumentError(StrCat(
              "history store: parameters are numbered (?1, ?2 ...) in '", Shorten(sql), "'"));
        }
        parameters = std::max(parameters, number);
        out += '$';
        out.append(sql.substr(i + 1, end - i - 1));
        i = end;
      } else {
        out += c;
        ++i;
      }
    }
    return absl::OkStatus();
  }

 private:
  std::shared_ptr<Session> session_;
};

absl::Status PgStatement::Execute() {
  if (bad_bind_ != 0) {
    int index = bad_bind_;
    bad_bind_ = 0;
    return absl::InvalidArgumentError(StrCat("history store: parameter ?", index,
                                             " does not exist in '", Shorten(original_), "'"));
  }
  if (auto status = session_->EnsureConnected(); !status.ok()) return status;
  Session& session = *session_;
  if (generation_ != session.generation) {
    prepared_.clear();  // a new session: nothing of the old one exists on the server
    generation_ = session.generation;
  }
  const bool was_in_transaction = session.in_transaction();
  auto found = prepared_.find(types_);
  if (found == prepared_.end()) {
    std::string name = StrCat("tern_", id_, "_", prepared_.size());
    Result prepared(PQprepare(session.conn, name.c_str(), sql_.c_str(),
                              static_cast<int>(types_.size()), types_.data()));
    if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) {
      return ErrorFrom(session, prepared.get(), StrCat("cannot prepare '", Shorten(original_), "'"),
                       was_in_transaction);
    }
    found = prepared_.emplace(types_, std::move(name)).first;
  }
  std::vector<const char*> values(values_.size());
  for (size_t i = 0; i < values_.size(); ++i) {
    values[i] = values_[i] ? values_[i]->c_str() : nullptr;
  }
  result_.reset(PQexecPrepared(session.conn, found->second.c_str(), static_cast<int>(values.size()),
                               values.data(), nullptr, nullptr,
                               /*resultFormat=*/0));
  auto status = PQresultStatus(result_.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    absl::Status error =
        ErrorFrom(session, result_.get(), StrCat("'", Shorten(original_), "'"), was_in_transaction);
    result_.reset();
    return error;
  }
  return absl::OkStatus();
}

}  // namespace

std::string HistoryUrlForDisplay(std::string_view url) {
  std::string text(url);
  // postgresql://user:password@host...: the password between the first ':' after the scheme
  // and the last '@' of the authority.
  size_t scheme = text.find("://");
  if (scheme != std::string::npos) {
    size_t authority = scheme + 3;
    size_t end = text.find_first_of("/?", authority);
    if (end == std::string::npos) end = text.size();
    size_t at = text.rfind('@', end);
    if (at != std::string::npos && at > authority) {
      size_t colon = text.find(':', authority);
      if (colon != std::string::npos && colon < at) text.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ...?password=secret&...
  for (size_t at = text.find("password="); at != std::string::npos;
       at = text.find("password=", at + 1)) {
    if (at > 0 && text[at - 1] != '?' && text[at - 1] != '&') continue;
    size_t start = at + 9;
    size_t end = text.find('&', start);
    if (end == std::string::npos) end = text.size();
    text.replace(start, end - start, "***");
  }
  return text;
}

absl::Status CheckPostgresqlUrl(std::string_view url) {
  std::string text(url);
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(text.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? OneLine(error) : "out of memory";
    PQfreemem(error);
    return absl::InvalidArgumentError(StrCat("history: '", HistoryUrlForDisplay(url),
                                             "' is not a PostgreSQL connection URL: ", message));
  }
  PQconninfoFree(options);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<SqlConnection>> OpenPostgresql(const std::string& url) {
  if (auto status = CheckPostgresqlUrl(url); !status.ok()) return status;
  auto connection = std::make_unique<PgConnection>(url, HistoryUrlForDisplay(url));
  if (auto status = connection->session().Connect(); !status.ok()) return status;
  return std::unique_ptr<SqlConnection>(std::move(connection));
}

}  // namespace tern::exporter
