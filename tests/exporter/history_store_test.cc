// The history store built from the records of a mixed workload driven through the engine: its
// view of instances (state, element instances, variables, incidents, jobs) equals the engine's
// state, and records delivered again change nothing. Every test runs against SQLite and against a
// real PostgreSQL server (tests/exporter/postgres_server.h), each test on a fresh database.

#include "exporter/history_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "base/strings.h"
#include "bpmn/model.h"
#include "engine/state/codec.h"
#include "engine/state/engine_state.h"
#include "exporter/history_schema.h"
#include "exporter/sql.h"
#include "tern/state.pb.h"
#include "tests/engine/engine_harness.h"
#include "tests/engine/models.h"
#include "tests/exporter/postgres_server.h"

namespace tern::exporter {
namespace {

namespace fs = std::filesystem;
using engine::MakeCommand;
using engine::testing::EngineHarness;
using state = engine::state::ColumnFamily;

std::string ReadModel(const std::string& name) {
  std::ifstream in(StrCat(TERN_SOURCE_DIR, "/tests/compat/bpmn/elements/", name));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class HistoryStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  bool postgres() const { return GetParam() == "postgresql"; }

  void SetUp() override {
    if (postgres()) {
      auto server = tern::testing::PostgresServer::Shared();
      ASSERT_TRUE(server.ok()) << server.status();
      static int databases = 0;
      auto url = (*server)->CreateDatabase(StrCat("history_", getpid(), "_", ++databases));
      ASSERT_TRUE(url.ok()) << url.status();
      url_ = *url;
      return;
    }
    path_ = fs::temp_directory_path() /
            StrCat("tern-history-test-", getpid(), "-",
                   ::testing::UnitTest::GetInstance()->current_test_info()->name(), ".db");
    Remove();
  }
  void TearDown() override {
    store_.reset();
    if (!postgres()) Remove();
  }
  void Remove() {
    for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(path_.string() + suffix);
  }

  // A new connection to this test's store.
  absl::StatusOr<std::unique_ptr<SqlConnection>> Connect() {
    return postgres() ? OpenPostgresql(url_) : OpenSqlite(path_.string());
  }

  HistoryStore& Store() {
    if (!store_) {
      auto connection = Connect();
      EXPECT_TRUE(connection.ok()) << connection.status();
      auto store = HistoryStore::Open(*std::move(connection), 1);
      EXPECT_TRUE(store.ok()) << store.status();
      store_ = *std::move(store);
    }
    return *store_;
  }

  // Applies records in transactions of `batch` records, as the sql exporter does.
  void Export(const std::vector<record::Record>& records, size_t batch = 50) {
    HistoryStore& store = Store();
    for (size_t i = 0; i < records.size(); ++i) {
      ASSERT_TRUE(store.Apply(records[i]).ok());
      if ((i + 1) % batch == 0) {
        ASSERT_TRUE(store.Commit().ok());
      }
    }
    ASSERT_TRUE(store.Commit().ok());
  }

  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    auto statement = Store().connection().Prepare(sql);
    EXPECT_TRUE(statement.ok()) << statement.status();
    std::vector<std::vector<std::string>> rows;
    while (true) {
      auto row = (*statement)->Next();
      EXPECT_TRUE(row.ok()) << row.status();
      if (!row.ok() || !*row) break;
      std::vector<std::string> columns;
      for (int i = 0; i < (*statement)->ColumnCount(); ++i) {
        columns.push_back((*statement)->ColumnText(i));
      }
      rows.push_back(std::move(columns));
    }
    return rows;
  }
  std::set<int64_t> KeySet(const std::string& sql) {
    std::set<int64_t> keys;
    for (const auto& row : Query(sql)) keys.insert(std::stoll(row[0]));
    return keys;
  }
  int64_t Count(const std::string& sql) { return std::stoll(Query(sql).at(0).at(0)); }

  fs::path path_;    // SQLite
  std::string url_;  // PostgreSQL
  std::unique_ptr<HistoryStore> store_;
};

// Commands the engine sends to a partition (its own, here: there is one) are delivered as the
// broker would, until none are left.
void DeliverOutgoing(EngineHarness& h) {
  for (int round = 0; round < 10; ++round) {
    auto outgoing = h.TakeOutgoing();
    if (outgoing.empty()) return;
    for (auto& command : outgoing) h.Deliver(command.command);
  }
}

// Runs a workload with service tasks, gateways, a parallel split, a timer, a message, an
// incident (open and resolved), a call activity, multi-instance, a decision and a cancellation.
void RunMixedWorkload(EngineHarness& h) {
  for (const auto& [name, xml] : std::vector<std::pair<std::string, std::string>>{
           {"one-task.bpmn", engine::models::kOneTask},
           {"loan.bpmn", engine::models::kLoanApproval},
           {"parallel.bpmn", engine::models::kParallel},
           {"routing.dmn", ReadModel("routing.dmn")},
           {"business-rule.bpmn", ReadModel("business-rule.bpmn")},
           {"call-child.bpmn", ReadModel("call-child.bpmn")},
           {"call-parent.bpmn", ReadModel("call-parent.bpmn")},
           {"mi-parallel.bpmn", ReadModel("mi-parallel.bpmn")},
           {"message-catch.bpmn", ReadModel("message-catch.bpmn")},
           {"timer-catch.bpmn", ReadModel("timer-catch.bpmn")}}) {
    auto deployed = h.Deploy(name, xml);
    ASSERT_EQ(deployed.record_type(), record::EVENT) << name << ": " << deployed.rejection_reason();
  }
  // one-task: two complete, one fails into an incident that stays open, one into an incident
  // that is resolved, one is cancelled, one stays waiting.
  std::vector<int64_t> one_task;
  for (int i = 0; i < 6; ++i) {
    one_task.push_back(h.CreateInstance("one-task", StrCat(R"({"n": )", i, "}"))
                           .process_instance_creation()
                           .process_instance_key());
  }
  auto jobs = h.ActivateJobs("work", 5).job_batch().job_keys();
  ASSERT_EQ(jobs.size(), 5);
  h.CompleteJob(jobs[0], R"({"result": "done"})");
  h.CompleteJob(jobs[1]);
  h.FailJob(jobs[2], 0, "no retries left");
  h.FailJob(jobs[3], 0, "broken");
  auto incidents = h.Events(engine::IncidentIntent::kCreated);
  ASSERT_EQ(incidents.size(), 2u);
  h.UpdateRetries(jobs[3], 1);
  h.ResolveIncident(incidents[1].key());
  h.Cancel(one_task[5]);
  h.SetVariables(one_task[4], R"({"changed": true, "n": 40})");
  // Gateways.
  h.CreateInstance("loan-approval", R"({"approved": true})");
  h.CreateInstance("loan-approval", R"({"approved": false})");
  const auto credit = h.ActivateJobs("check-credit", 10);
  for (int64_t key : credit.job_batch().job_keys()) h.CompleteJob(key);
  // Parallel split and join, one branch left open.
  h.CreateInstance("parallel");
  const auto branch_a = h.ActivateJobs("a", 10);
  for (int64_t key : branch_a.job_batch().job_keys()) h.CompleteJob(key);
  // Decision.
  h.CreateInstance("business-rule", R"({"amount": 50})");
  h.CreateInstance("business-rule", R"({"amount": 500})");
  // Call activity: one child completes, one stays.
  h.CreateInstance("call-parent");
  h.CreateInstance("call-parent");
  auto child_jobs = h.ActivateJobs("ca-child-work", 1).job_batch().job_keys();
  for (int64_t key : child_jobs) h.CompleteJob(key);
  // Multi-instance over three items, two done.
  h.CreateInstance("mi-parallel", R"({"items": [1, 2, 3]})");
  auto mi_jobs = h.ActivateJobs("mi-par", 2).job_batch().job_keys();
  for (int64_t key : mi_jobs) h.CompleteJob(key, R"({"out": 1})");
  // Message: one correlated, one waiting.
  h.CreateInstance("message-catch", R"({"orderId": "o-1"})");
  h.CreateInstance("message-catch", R"({"orderId": "o-2"})");
  DeliverOutgoing(h);
  record::MessageRecord message;
  message.set_name("mc-paid");
  message.set_correlation_key("o-1");
  message.set_time_to_live(0);
  message.set_variables(R"({"paid": 10})");
  h.Send(MakeCommand(-1, engine::MessageIntent::kPublish, message));
  DeliverOutgoing(h);
  // Timer: one fires, then one more is started and waits.
  h.CreateInstance("timer-catch");
  h.AdvanceTime(2'000);
  h.Tick();
  h.Tick();
  h.CreateInstance("timer-catch");
}

TEST_P(HistoryStoreTest, StoreViewEqualsEngineStateAfterMixedWorkload) {
  EngineHarness h;
  RunMixedWorkload(h);
  if (HasFatalFailure()) return;
  const auto records = h.Records();
  Export(records);

  // Engine state: live element instances (process-level and others), jobs, open incidents.
  auto& txn = h.store().transaction();
  std::set<int64_t> engine_processes, engine_elements;
  txn.ForEachWithPrefix(state::kElementInstance, "",
                        [&](std::string_view key, std::string_view value) {
                          tern::state::ElementInstance instance;
                          EXPECT_TRUE(instance.ParseFromString(std::string(value)));
                          const int64_t instance_key = engine::state::ReadInt64(key);
                          if (instance.record().bpmn_element_type() ==
                              static_cast<int32_t>(bpmn::ElementType::kProcess)) {
                            engine_processes.insert(instance_key);
                          } else {
                            engine_elements.insert(instance_key);
                          }
                          return true;
                        });
  std::set<int64_t> engine_jobs, engine_incidents;
  txn.ForEachWithPrefix(state::kJob, "", [&](std::string_view key, std::string_view) {
    engine_jobs.insert(engine::state::ReadInt64(key));
    return true;
  });
  txn.ForEachWithPrefix(state::kIncident, "", [&](std::string_view key, std::string_view) {
    engine_incidents.insert(engine::state::ReadInt64(key));
    return true;
  });
  ASSERT_FALSE(engine_processes.empty());
  ASSERT_FALSE(engine_elements.empty());

  EXPECT_EQ(KeySet("SELECT process_instance_key FROM process_instance WHERE state = 'ACTIVE'"),
            engine_processes);
  EXPECT_EQ(KeySet("SELECT element_instance_key FROM element_instance WHERE state = 'ACTIVE'"),
            engine_elements);
  EXPECT_EQ(KeySet("SELECT job_key FROM job WHERE end_time IS NULL"), engine_jobs);
  EXPECT_EQ(KeySet("SELECT incident_key FROM incident WHERE state = 'ACTIVE'"), engine_incidents);
  EXPECT_EQ(engine_incidents.size(), 1u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM incident WHERE state = 'RESOLVED'"), 1);

  // Every instance the workload started is in the store; those the engine no longer holds
  // ended, with an end date, and the cancelled one as TERMINATED.
  std::set<int64_t> started;
  for (const auto& r : h.Events(engine::ProcessInstanceIntent::kElementActivating)) {
    if (r.process_instance().bpmn_element_type() ==
        static_cast<int32_t>(bpmn::ElementType::kProcess)) {
      started.insert(r.key());
    }
  }
  EXPECT_EQ(KeySet("SELECT process_instance_key FROM process_instance"), started);
  for (int64_t key : started) {
    auto row =
        Query(StrCat("SELECT state, end_date FROM process_instance WHERE "
                     "process_instance_key = ",
                     key));
    ASSERT_EQ(row.size(), 1u);
    if (engine_processes.contains(key)) {
      EXPECT_EQ(row[0][0], "ACTIVE");
      EXPECT_EQ(row[0][1], "");
    } else {
      EXPECT_THAT(row[0][0], ::testing::AnyOf("COMPLETED", "TERMINATED"));
      EXPECT_NE(row[0][1], "");
    }
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM process_instance WHERE state = 'TERMINATED'"), 1);
  // Called instances know their parent.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM process_instance WHERE bpmn_process_id = 'call-child' "
                  "AND parent_process_instance_key IS NOT NULL"),
            2);

  // Variables of every live scope: the same names and values as the engine's.
  std::set<int64_t> scopes = engine_processes;
  scopes.insert(engine_elements.begin(), engine_elements.end());
  engine::state::VariableState variables(txn);
  for (int64_t scope : scopes) {
    std::map<std::string, std::string> engine_view, store_view;
    variables.ForEachLocal(scope, [&](std::string_view name, std::string_view value) {
      engine_view[std::string(name)] = std::string(value);
    });
    for (const auto& row :
         Query(StrCat("SELECT name, value FROM variable WHERE scope_key = ", scope))) {
      store_view[row[0]] = row[1];
    }
    EXPECT_EQ(store_view, engine_view) << "scope " << scope;
  }
  // Variable history: one row per variable event.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM variable_history"),
            static_cast<int64_t>(h.Events(engine::VariableIntent::kCreated).size() +
                                 h.Events(engine::VariableIntent::kUpdated).size()));

  // Definitions (with their XML), decisions and their evaluations, message subscriptions.
  auto processes = h.Events(engine::ProcessIntent::kCreated);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM process_definition"),
            static_cast<int64_t>(processes.size()));
  EXPECT_EQ(Query(StrCat("SELECT bpmn_xml FROM process_definition WHERE "
                         "bpmn_process_id = 'one-task'"))
                .at(0)
                .at(0),
            engine::models::kOneTask);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM decision_definition"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM decision_requirements WHERE dmn_xml LIKE '%route%'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM decision_evaluation WHERE state = 'EVALUATED'"),
            static_cast<int64_t>(h.Events(engine::DecisionEvaluationIntent::kEvaluated).size()));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM decision_evaluation"), 2);
  // Message subscriptions (the instance's side): the correlated one is gone from the engine
  // (DELETED in the store), the waiting one is in both.
  int engine_subscriptions = 0;
  txn.ForEachWithPrefix(state::kProcessMessageSubscription, "",
                        [&](std::string_view, std::string_view) {
                          ++engine_subscriptions;
                          return true;
                        });
  EXPECT_EQ(Count("SELECT COUNT(*) FROM message_subscription"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM message_subscription WHERE state <> 'DELETED'"),
            engine_subscriptions);
  EXPECT_EQ(engine_subscriptions, 1);

  // Every record counted once.
  auto progress = Store().ReadProgress();
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ(progress->position, records.back().position());
  EXPECT_EQ(progress->records_applied, static_cast<int64_t>(records.size()));
}

TEST_P(HistoryStoreTest, RecordsDeliveredAgainChangeNothing) {
  EngineHarness h;
  RunMixedWorkload(h);
  if (HasFatalFailure()) return;
  const auto records = h.Records();
  const size_t half = records.size() / 2;
  Export(std::vector<record::Record>(records.begin(), records.begin() + half));
  auto counts = [&] {
    return std::vector<int64_t>{Count("SELECT COUNT(*) FROM process_instance"),
                                Count("SELECT COUNT(*) FROM element_instance"),
                                Count("SELECT COUNT(*) FROM variable_history"),
                                Count("SELECT COUNT(*) FROM job"),
                                Count("SELECT COUNT(*) FROM incident")};
  };
  // Everything again from the start (a new leader from an older acknowledged position), in
  // different batches; then the rest.
  Export(records, 7);
  const auto once = counts();
  Export(records, 13);
  EXPECT_EQ(counts(), once);
  auto progress = Store().ReadProgress();
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ(progress->records_applied, static_cast<int64_t>(records.size()));
}

TEST_P(HistoryStoreTest, RolledBackBatchLeavesNoTrace) {
  EngineHarness h;
  h.Deploy("one-task.bpmn", engine::models::kOneTask);
  h.CreateInstance("one-task");
  const auto records = h.Records();
  HistoryStore& store = Store();
  for (const auto& record : records) ASSERT_TRUE(store.Apply(record).ok());
  store.Rollback();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM process_instance"), 0);
  auto progress = store.ReadProgress();
  ASSERT_TRUE(progress.ok());
  EXPECT_EQ(progress->position, 0);
  Export(records);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM process_instance"), 1);
}

TEST_P(HistoryStoreTest, SchemaIsMigratedOnceAndVersioned) {
  Store();
  auto version = HistorySchemaVersion(Store().connection());
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, HistoryMigrations().back().version);
  // A second store on the same database (another partition) finds the schema in place.
  auto connection = Connect();
  ASSERT_TRUE(connection.ok());
  auto second = HistoryStore::Open(*std::move(connection), 2);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM schema_version"),
            static_cast<int64_t>(HistoryMigrations().size()));
}

TEST(HistoryUrlTest, ParsesTheDocumentedForms) {
  auto sqlite = ParseHistoryUrl("sqlite:/var/lib/tern/history.db", "/d/history.db");
  ASSERT_TRUE(sqlite.ok());
  EXPECT_EQ(sqlite->kind, HistoryUrl::Kind::kSqlite);
  EXPECT_EQ(sqlite->location, "/var/lib/tern/history.db");
  auto fallback = ParseHistoryUrl("", "/d/history.db");
  ASSERT_TRUE(fallback.ok());
  EXPECT_EQ(fallback->location, "/d/history.db");
  auto none = ParseHistoryUrl("none", "/d/history.db");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->kind, HistoryUrl::Kind::kNone);
  auto postgres = ParseHistoryUrl("postgresql://tern:secret@localhost:5432/tern", "");
  ASSERT_TRUE(postgres.ok());
  EXPECT_EQ(postgres->kind, HistoryUrl::Kind::kPostgresql);
  // Nothing listens on port 1: UNAVAILABLE, naming the server but not the password.
  auto unreachable = ParseHistoryUrl("postgresql://tern:secret@127.0.0.1:1/tern", "");
  ASSERT_TRUE(unreachable.ok());
  auto opened = OpenSqlConnection(*unreachable);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(std::string(opened.status().message()),
              ::testing::HasSubstr("postgresql://tern:***@127.0.0.1:1/tern"));
  EXPECT_THAT(std::string(opened.status().message()),
              ::testing::Not(::testing::HasSubstr("secret")));
  auto unparsable = ParseHistoryUrl("postgres://tern:secret@db/tern?no_such_option=1", "");
  EXPECT_EQ(unparsable.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(unparsable.status().message()),
              ::testing::Not(::testing::HasSubstr("secret")));
  EXPECT_EQ(HistoryUrlForDisplay("postgresql://u:p%40ss@h/db?password=x&sslmode=require"),
            "postgresql://u:***@h/db?password=***&sslmode=require");
  EXPECT_FALSE(ParseHistoryUrl("mysql://x", "").ok());
}

INSTANTIATE_TEST_SUITE_P(Stores, HistoryStoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace tern::exporter
