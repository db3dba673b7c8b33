#include "exporter/history_schema.h"

#include "base/status_macros.h"
#include "base/strings.h"

namespace tern::exporter {
namespace {

// Times are epoch milliseconds (BIGINT), states are Zeebe/Camunda names. Keys are the engine's
// keys, unique across partitions (the partition id is in their high bits).
constexpr std::string_view kVersion1 = R"sql(
CREATE TABLE export_progress (
  partition_id INTEGER PRIMARY KEY,
  position BIGINT NOT NULL,
  records_applied BIGINT NOT NULL,
  last_record_timestamp BIGINT NOT NULL
);
CREATE TABLE process_definition (
  process_definition_key BIGINT PRIMARY KEY,
  bpmn_process_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  version_tag TEXT,
  resource_name TEXT,
  bpmn_xml TEXT,
  tenant_id TEXT NOT NULL,
  deployment_key BIGINT,
  deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX process_definition_by_id ON process_definition (bpmn_process_id, version);
CREATE TABLE decision_requirements (
  decision_requirements_key BIGINT PRIMARY KEY,
  decision_requirements_id TEXT NOT NULL,
  name TEXT,
  version INTEGER NOT NULL,
  resource_name TEXT,
  dmn_xml TEXT,
  tenant_id TEXT NOT NULL,
  deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE decision_definition (
  decision_key BIGINT PRIMARY KEY,
  decision_id TEXT NOT NULL,
  name TEXT,
  version INTEGER NOT NULL,
  version_tag TEXT,
  decision_requirements_key BIGINT,
  decision_requirements_id TEXT,
  tenant_id TEXT NOT NULL,
  deployment_key BIGINT,
  deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX decision_definition_by_id ON decision_definition (decision_id, version);
CREATE TABLE form (
  deployment_key BIGINT NOT NULL,
  resource_name TEXT NOT NULL,
  form_id TEXT,
  schema_json TEXT,
  tenant_id TEXT NOT NULL,
  PRIMARY KEY (deployment_key, resource_name)
);
CREATE INDEX form_by_id ON form (form_id);
CREATE TABLE process_instance (
  process_instance_key BIGINT PRIMARY KEY,
  process_definition_key BIGINT NOT NULL,
  bpmn_process_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  state TEXT NOT NULL,
  start_date BIGINT NOT NULL,
  end_date BIGINT,
  parent_process_instance_key BIGINT,
  parent_element_instance_key BIGINT,
  open_incidents INTEGER NOT NULL DEFAULT 0,
  tenant_id TEXT NOT NULL,
  partition_id INTEGER NOT NULL
);
CREATE INDEX process_instance_by_process ON process_instance (bpmn_process_id, state, start_date);
CREATE INDEX process_instance_by_definition ON process_instance (process_definition_key, state);
CREATE INDEX process_instance_by_state ON process_instance (state, start_date);
CREATE INDEX process_instance_by_parent ON process_instance (parent_process_instance_key);
CREATE INDEX process_instance_by_end ON process_instance (end_date);
CREATE TABLE element_instance (
  element_instance_key BIGINT PRIMARY KEY,
  process_instance_key BIGINT NOT NULL,
  process_definition_key BIGINT NOT NULL,
  bpmn_process_id TEXT NOT NULL,
  element_id TEXT NOT NULL,
  element_type TEXT NOT NULL,
  state TEXT NOT NULL,
  start_date BIGINT NOT NULL,
  end_date BIGINT,
  flow_scope_key BIGINT,
  incident_key BIGINT,
  tenant_id TEXT NOT NULL,
  partition_id INTEGER NOT NULL
);
CREATE INDEX element_instance_by_instance ON element_instance (process_instance_key, start_date);
CREATE INDEX element_instance_by_element ON element_instance (process_definition_key, element_id, state);
CREATE TABLE variable (
  variable_key BIGINT PRIMARY KEY,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  scope_key BIGINT NOT NULL,
  process_instance_key BIGINT NOT NULL,
  process_definition_key BIGINT,
  bpmn_process_id TEXT,
  tenant_id TEXT NOT NULL,
  partition_id INTEGER NOT NULL,
  position BIGINT NOT NULL
);
CREATE INDEX variable_by_instance ON variable (process_instance_key, name);
CREATE INDEX variable_by_scope ON variable (scope_key, name);
CREATE INDEX variable_by_name ON variable (name);
CREATE TABLE variable_history (
  partition_id INTEGER NOT NULL,
  position BIGINT NOT NULL,
  variable_key BIGINT NOT NULL,
  intent TEXT NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  scope_key BIGINT NOT NULL,
  process_instance_key BIGINT NOT NULL,
  timestamp BIGINT NOT NULL,
  PRIMARY KEY (partition_id, position)
);
CREATE INDEX variable_history_by_variable ON variable_history (variable_key, position);
CREATE INDEX variable_history_by_instance ON variable_history (process_instance_key);
CREATE TABLE incident (
  incident_key BIGINT PRIMARY KEY,
  process_instance_key BIGINT NOT NULL,
  process_definition_key BIGINT,
  bpmn_process_id TEXT,
  element_id TEXT,
  element_instance_key BIGINT,
  job_key BIGINT,
  error_type TEXT NOT NULL,
  error_message TEXT,
  state TEXT NOT NULL,
  creation_time BIGINT NOT NULL,
  resolution_time BIGINT,
  tenant_id TEXT NOT NULL,
  partition_id INTEGER NOT NULL
);
CREATE INDEX incident_by_instance ON incident (process_instance_key);
CREATE INDEX incident_by_state ON incident (state, creation_time);
CREATE TABLE job (
  job_key BIGINT PRIMARY KEY,
  type TEXT NOT NULL,
  worker TEXT,
  state TEXT NOT NULL,
  kind TEXT,
  listener_event_type TEXT,
  retries INTEGER,
  error_message TEXT,
  error_code TEXT,
  deadline BIGINT,
  custom_headers TEXT,
  process_instance_key BIGINT,
  element_instance_key BIGINT,
  element_id TEXT,
  bpmn_process_id TEXT,
  process_definition_key BIGINT,
  creation_time BIGINT NOT NULL,
  end_time BIGINT,
  tenant_id TEXT NOT NULL,
  partition_id INTEGER NOT NULL
);
CREATE INDEX job_by_instance ON job (process_instance_key);
CREATE INDEX job_by_type ON job (type, state);
CREATE TABLE user_task (
  user_task_key BIGINT PRIMARY KEY,
  element_instance_key BIGINT,
  process_instance_key BIGINT,
  process_definition_key BIGINT,
  bpmn_process_id TEXT,
  element_id TEXT,
  state TEXT NOT NULL,
  assignee TEXT,
  candidate_groups TEXT,
  candidate_users TEXT,
  due_date TEXT,
  follow_up_date TEXT,
  form_key BIGINT,
  external_form_reference TEXT,
  priority INTEGER,
  creation_time BIGINT NOT NULL,
  completion_time BIGINT,
  tenant_id TEXT NOT NULL,
  partition_id INTEGER NOT NULL
);
CREATE INDEX user_task_by_instance ON user_task (process_instance_key);
CREATE INDEX user_task_by_state ON user_task (state, assignee);
CREATE TABLE decision_evaluation (
  decision_evaluation_key BIGINT PRIMARY KEY,
  state TEXT NOT NULL,
  decision_key BIGINT,
  decision_id TEXT,
  decision_name TEXT,
  decision_version INTEGER,
  decision_requirements_key BIGINT,
  decision_requirements_id TEXT,
  decision_output TEXT,
  evaluated_decisions TEXT,
  failed_decision_id TEXT,
  evaluation_failure_message TEXT,
  process_instance_key BIGINT,
  process_definition_key BIGINT,
  bpmn_process_id TEXT,
  element_instance_key BIGINT,
  element_id TEXT,
  evaluation_date BIGINT NOT NULL,
  tenant_id TEXT NOT NULL,
  partition_id INTEGER NOT NULL
);
CREATE INDEX decision_evaluation_by_instance ON decision_evaluation (process_instance_key);
CREATE INDEX decision_evaluation_by_decision ON decision_evaluation (decision_key, evaluation_date);
CREATE TABLE message_subscription (
  element_instance_key BIGINT NOT NULL,
  message_name TEXT NOT NULL,
  process_instance_key BIGINT,
  bpmn_process_id TEXT,
  element_id TEXT,
  correlation_key TEXT,
  interrupting INTEGER,
  state TEXT NOT NULL,
  last_message_key BIGINT,
  last_updated BIGINT NOT NULL,
  tenant_id TEXT NOT NULL,
  partition_id INTEGER NOT NULL,
  PRIMARY KEY (element_instance_key, message_name)
);
CREATE INDEX message_subscription_by_instance ON message_subscription (process_instance_key);
CREATE INDEX message_subscription_by_name ON message_subscription (message_name, correlation_key);
)sql";

// The search API's queries (history_query.cc): the keys its filters join on, the columns its
// default sorts and the console's lists use.
constexpr std::string_view kVersion2 = R"sql(
CREATE INDEX process_instance_by_start ON process_instance (start_date);
CREATE INDEX element_instance_by_scope ON element_instance (flow_scope_key);
CREATE INDEX element_instance_by_instance_element ON element_instance (process_instance_key, element_id);
CREATE INDEX incident_by_definition ON incident (process_definition_key, state);
CREATE INDEX incident_by_element_instance ON incident (element_instance_key);
CREATE INDEX job_by_state ON job (state, creation_time);
CREATE INDEX job_by_element_instance ON job (element_instance_key);
CREATE INDEX decision_definition_by_requirements ON decision_definition (decision_requirements_key);
)sql";

}  // namespace

const std::vector<Migration>& HistoryMigrations() {
  static const std::vector<Migration> migrations = {
      {1, "history tables and their indexes", kVersion1},
      {2, "indexes for the search API", kVersion2},
  };
  return migrations;
}

absl::StatusOr<int> HistorySchemaVersion(SqlConnection& connection) {
  if (auto status = connection.Execute(
          "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
          "description TEXT NOT NULL)");
      !status.ok()) {
    return status;
  }
  auto query = connection.Prepare("SELECT MAX(version) FROM schema_version");
  if (!query.ok()) return query.status();
  auto row = (*query)->Next();
  if (!row.ok()) return row.status();
  int version = *row && !(*query)->ColumnIsNull(0) ? static_cast<int>((*query)->ColumnInt(0)) : 0;
  (*query)->Reset();
  return version;
}

absl::Status MigrateHistorySchema(SqlConnection& connection) {
  for (const Migration& migration : HistoryMigrations()) {
    // One transaction per migration; the version check inside it, so that a second connection
    // migrating at the same time waits for the first and then finds the version recorded.
    // The dialects differ here only: SQLite's BEGIN IMMEDIATE takes the database's write lock;
    // on PostgreSQL, where every broker of a cluster migrates the one shared database at start,
    // a transaction-scoped advisory lock makes the others wait (CREATE TABLE IF NOT EXISTS alone
    // is not safe against a concurrent CREATE) until the first has committed. 1952805486 is
    // "tern" in ASCII.
    const bool sqlite = connection.dialect() == "sqlite";
    if (auto status = connection.Execute(
            sqlite ? "BEGIN IMMEDIATE" : "BEGIN; SELECT pg_advisory_xact_lock(1952805486)");
        !status.ok()) {
      if (!sqlite) (void)connection.Execute("ROLLBACK");
      return status;
    }
    auto version = HistorySchemaVersion(connection);
    if (!version.ok()) {
      (void)connection.Execute("ROLLBACK");
      return version.status();
    }
    if (*version >= migration.version) {
      TERN_RETURN_IF_ERROR(connection.Execute("COMMIT"));
      continue;
    }
    absl::Status status = connection.Execute(migration.sql);
    if (status.ok()) {
      auto insert =
          connection.Prepare("INSERT INTO schema_version (version, description) VALUES (?1, ?2)");
      status = insert.status();
      if (status.ok()) {
        (*insert)->BindInt(1, migration.version);
        (*insert)->BindText(2, migration.description);
        status = (*insert)->Run();
      }
    }
    if (!status.ok()) {
      (void)connection.Execute("ROLLBACK");
      return absl::Status(status.code(), StrCat("history schema migration ", migration.version,
                                                " failed: ", status.message()));
    }
    TERN_RETURN_IF_ERROR(connection.Execute("COMMIT"));
  }
  return absl::OkStatus();
}

}  // namespace tern::exporter
