// The libpq SqlConnection against a real PostgreSQL server (tests/exporter/postgres_server.h):
// ?N parameters with their types, NULLs and literals, errors that name the statement and not the
// password, reconnection after the server restarts (and a transaction lost with the connection
// is never reported committed), and three brokers migrating one database at once.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "base/strings.h"
#include "exporter/history_schema.h"
#include "exporter/history_store.h"
#include "exporter/sql.h"
#include "tests/exporter/postgres_server.h"

namespace tern::exporter {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class PostgresConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = tern::testing::PostgresServer::Shared();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *server;
    static int databases = 0;
    auto url = server_->CreateDatabase(StrCat("connection_", getpid(), "_", ++databases));
    ASSERT_TRUE(url.ok()) << url.status();
    url_ = *url;
  }

  std::unique_ptr<SqlConnection> Open() {
    auto connection = OpenPostgresql(url_);
    EXPECT_TRUE(connection.ok()) << connection.status();
    return connection.ok() ? *std::move(connection) : nullptr;
  }

  static int64_t CountRows(SqlConnection& connection, const std::string& sql) {
    auto query = connection.Prepare(sql);
    EXPECT_TRUE(query.ok()) << query.status();
    auto row = (*query)->Next();
    EXPECT_TRUE(row.ok() && *row) << row.status();
    int64_t count = (*query)->ColumnInt(0);
    (*query)->Reset();
    return count;
  }

  tern::testing::PostgresServer* server_ = nullptr;
  std::string url_;
};

TEST_F(PostgresConnectionTest, ParametersNullsLiteralsAndBigIntegers) {
  auto connection = Open();
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(connection->dialect(), "postgresql");
  ASSERT_TRUE(connection->Execute("CREATE TABLE t (k BIGINT PRIMARY KEY, s TEXT, n INTEGER)").ok());
  auto insert = connection->Prepare(
      "INSERT INTO t (k, s, n) VALUES (?1, ?2, ?3) ON CONFLICT (k) DO UPDATE SET s = excluded.s");
  ASSERT_TRUE(insert.ok()) << insert.status();
  const int64_t big = 1'765'000'000'123;  // epoch milliseconds: beyond int4
  (*insert)->BindInt(1, big);
  (*insert)->BindText(2, "it's a '?1' -- not a parameter");
  (*insert)->BindInt(3, 7);
  ASSERT_TRUE((*insert)->Run().ok());
  // The same statement with a NULL where an integer was, then an upsert.
  (*insert)->BindInt(1, 2);
  (*insert)->BindNull(2);
  (*insert)->BindNull(3);
  ASSERT_TRUE((*insert)->Run().ok());
  (*insert)->BindInt(1, 2);
  (*insert)->BindText(2, "second");
  (*insert)->BindInt(3, 8);
  ASSERT_TRUE((*insert)->Run().ok());

  // `?2 < 0` types ?2 as int8 (the server alone would say int4 and refuse big values).
  auto update = connection->Prepare(
      "UPDATE t SET n = CASE WHEN ?2 < 0 THEN n ELSE 1 END, s = CASE WHEN "
      "?3 = '' THEN s ELSE ?3 END WHERE k = ?1");
  ASSERT_TRUE(update.ok()) << update.status();
  (*update)->BindInt(1, big);
  (*update)->BindInt(2, big);
  (*update)->BindText(3, "");
  ASSERT_TRUE((*update)->Run().ok());

  auto query = connection->Prepare("SELECT k, s, n, '?9' FROM t WHERE k >= ?1 ORDER BY k");
  ASSERT_TRUE(query.ok()) << query.status();
  (*query)->BindInt(1, 0);
  std::vector<std::vector<std::string>> rows;
  while (true) {
    auto row = (*query)->Next();
    ASSERT_TRUE(row.ok()) << row.status();
    if (!*row) break;
    ASSERT_EQ((*query)->ColumnCount(), 4);
    rows.push_back({std::to_string((*query)->ColumnInt(0)), (*query)->ColumnText(1),
                    (*query)->ColumnIsNull(2) ? "NULL" : std::to_string((*query)->ColumnInt(2)),
                    (*query)->ColumnText(3)});
  }
  EXPECT_EQ(rows, (std::vector<std::vector<std::string>>{
                      {"2", "second", "NULL", "?9"},
                      {std::to_string(big), "it's a '?1' -- not a parameter", "1", "?9"}}));
  // The statement runs again after the last row.
  (*query)->BindInt(1, big);
  auto again = (*query)->Next();
  ASSERT_TRUE(again.ok() && *again);
  EXPECT_EQ((*query)->ColumnInt(0), big);
  (*query)->Reset();

  EXPECT_EQ(connection->Prepare("SELECT ? FROM t").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PostgresConnectionTest, ErrorsNameTheStatementAndTableButNotThePassword) {
  auto connection = Open();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->Execute("CREATE TABLE u (k BIGINT PRIMARY KEY)").ok());
  auto insert = connection->Prepare("INSERT INTO u (k) VALUES (?1)");
  ASSERT_TRUE(insert.ok());
  (*insert)->BindInt(1, 1);
  ASSERT_TRUE((*insert)->Run().ok());
  (*insert)->BindInt(1, 1);
  absl::Status duplicate = (*insert)->Run();
  ASSERT_FALSE(duplicate.ok());
  std::string message(duplicate.message());
  EXPECT_THAT(message, HasSubstr("INSERT INTO u (k) VALUES (?1)"));
  EXPECT_THAT(message, HasSubstr("table u"));
  EXPECT_THAT(message, HasSubstr("23505"));
  EXPECT_THAT(message, HasSubstr("tern:***@127.0.0.1"));
  EXPECT_THAT(message, Not(HasSubstr(std::string(tern::testing::PostgresServer::kPassword))));

  absl::Status syntax = connection->Execute("CREATE TABLE nope (");
  EXPECT_EQ(syntax.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(std::string(syntax.message()), HasSubstr("CREATE TABLE nope ("));
  auto missing = connection->Prepare("SELECT k FROM no_such_table WHERE k = ?1");
  ASSERT_TRUE(missing.ok());  // prepared on the server at the first run
  (*missing)->BindInt(1, 1);
  auto row = (*missing)->Next();
  ASSERT_FALSE(row.ok());
  EXPECT_THAT(std::string(row.status().message()), HasSubstr("no_such_table"));

  auto wrong_password = OpenPostgresql(
      StrCat("postgresql://tern:wrong-password@127.0.0.1:", server_->port(), "/postgres"));
  ASSERT_FALSE(wrong_password.ok());
  EXPECT_EQ(wrong_password.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(wrong_password.status().message()), Not(HasSubstr("wrong-password")));
}

TEST_F(PostgresConnectionTest, ReconnectsAfterTheServerRestartsAndNeverCommitsALostTransaction) {
  auto connection = Open();
  ASSERT_NE(connection, nullptr);
  ASSERT_TRUE(connection->Execute("CREATE TABLE r (k BIGINT PRIMARY KEY)").ok());
  auto insert = connection->Prepare("INSERT INTO r (k) VALUES (?1)");
  ASSERT_TRUE(insert.ok());
  (*insert)->BindInt(1, 1);
  ASSERT_TRUE((*insert)->Run().ok());  // prepared on the first session

  // Idle connection, server restarted: the call that finds out fails UNAVAILABLE (or succeeds if
  // the connection was already seen to be gone); the next one reconnects.
  ASSERT_TRUE(server_->Restart().ok());
  absl::Status first = connection->Execute("SELECT 1");
  if (!first.ok()) {
    EXPECT_EQ(first.code(), absl::StatusCode::kUnavailable) << first;
    EXPECT_THAT(std::string(first.message()),
                Not(HasSubstr(std::string(tern::testing::PostgresServer::kPassword))));
  }
  ASSERT_TRUE(connection->Execute("SELECT 1").ok());
  (*insert)->BindInt(1, 2);  // prepared again on the new session
  ASSERT_TRUE((*insert)->Run().ok());

  // In a transaction: the restart loses it. COMMIT fails, and so does every call until ROLLBACK
  // (a COMMIT on a fresh session would report success for nothing).
  ASSERT_TRUE(connection->Execute("BEGIN").ok());
  (*insert)->BindInt(1, 3);
  ASSERT_TRUE((*insert)->Run().ok());
  ASSERT_TRUE(server_->Restart().ok());
  absl::Status commit = connection->Execute("COMMIT");
  EXPECT_EQ(commit.code(), absl::StatusCode::kUnavailable) << commit;
  EXPECT_EQ(connection->Execute("COMMIT").code(), absl::StatusCode::kUnavailable);
  (*insert)->BindInt(1, 4);
  EXPECT_EQ((*insert)->Run().code(), absl::StatusCode::kUnavailable);
  ASSERT_TRUE(connection->Execute("ROLLBACK").ok());
  EXPECT_EQ(CountRows(*connection, "SELECT COUNT(*) FROM r"), 2);
  EXPECT_EQ(CountRows(*connection, "SELECT COUNT(*) FROM r WHERE k = 3"), 0);
}

TEST_F(PostgresConnectionTest, ThreeBrokersMigrateOneDatabaseAtOnce) {
  std::vector<absl::Status> results(3);
  std::vector<std::thread> brokers;
  for (int i = 0; i < 3; ++i) {
    brokers.emplace_back([&, i] {
      auto connection = OpenPostgresql(url_);
      if (!connection.ok()) {
        results[i] = connection.status();
        return;
      }
      auto store = HistoryStore::Open(*std::move(connection), i + 1);
      results[i] = store.status();
    });
  }
  for (auto& broker : brokers) broker.join();
  for (const auto& result : results) EXPECT_TRUE(result.ok()) << result;
  auto connection = Open();
  ASSERT_NE(connection, nullptr);
  EXPECT_EQ(CountRows(*connection, "SELECT COUNT(*) FROM schema_version"),
            static_cast<int64_t>(HistoryMigrations().size()));
  auto version = HistorySchemaVersion(*connection);
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, HistoryMigrations().back().version);
}

}  // namespace
}  // namespace tern::exporter
