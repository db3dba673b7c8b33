#include "exporter/history_store.h"

#include "base/status_macros.h"
#include "base/strings.h"
#include "bpmn/model.h"
#include "engine/intent.h"
#include "exporter/history_schema.h"
#include "exporter/record_json.h"

namespace tern::exporter {

using engine::ToInt;
using Statement = std::unique_ptr<SqlStatement>;

struct HistoryStore::Statements {
  Statement read_progress, write_progress;
  Statement insert_process, delete_process;
  Statement insert_drg, delete_drg, insert_decision, delete_decision;
  Statement insert_form;
  Statement insert_process_instance, end_process_instance, migrate_process_instance;
  Statement insert_element, end_element, migrate_element;
  Statement upsert_variable, insert_variable_history;
  Statement insert_incident, resolve_incident, element_incident, instance_incidents;
  Statement insert_job, update_job;
  Statement insert_decision_evaluation;
  Statement upsert_message_subscription;
};

namespace {

constexpr int32_t kProcessType = static_cast<int32_t>(bpmn::ElementType::kProcess);
constexpr int32_t kSequenceFlowType = static_cast<int32_t>(bpmn::ElementType::kSequenceFlow);

std::string ElementTypeText(int32_t type) {
  return std::string(bpmn::ElementTypeName(static_cast<bpmn::ElementType>(type)));
}

// Binds 0 as NULL: the engine uses 0 (or -1) for "no key".
void BindKey(SqlStatement& statement, int index, int64_t key) {
  if (key <= 0) {
    statement.BindNull(index);
  } else {
    statement.BindInt(index, key);
  }
}

std::string FormId(const std::string& schema) {
  auto parsed = nlohmann::json::parse(schema, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("id") && parsed["id"].is_string()) {
    return parsed["id"].get<std::string>();
  }
  return "";
}

}  // namespace

HistoryStore::HistoryStore(std::unique_ptr<SqlConnection> connection, int32_t partition_id)
    : connection_(std::move(connection)),
      partition_id_(partition_id),
      statements_(std::make_unique<Statements>()) {}

HistoryStore::~HistoryStore() {
  if (in_transaction_) Rollback();
  statements_.reset();  // before the connection they belong to
}

absl::StatusOr<std::unique_ptr<HistoryStore>> HistoryStore::Open(
    std::unique_ptr<SqlConnection> connection, int32_t partition_id) {
  TERN_RETURN_IF_ERROR(MigrateHistorySchema(*connection));
  std::unique_ptr<HistoryStore> store(new HistoryStore(std::move(connection), partition_id));
  TERN_RETURN_IF_ERROR(store->Prepare());
  return store;
}

absl::Status HistoryStore::Prepare() {
  Statements& s = *statements_;
  auto prepare = [&](Statement& target, std::string_view sql) -> absl::Status {
    TERN_ASSIGN_OR_RETURN(target, connection_->Prepare(sql));
    return absl::OkStatus();
  };
  TERN_RETURN_IF_ERROR(
      prepare(s.read_progress,
              "SELECT position, records_applied FROM export_progress WHERE partition_id = ?1"));
  TERN_RETURN_IF_ERROR(prepare(
      s.write_progress,
      "INSERT INTO export_progress (partition_id, position, records_applied, "
      "last_record_timestamp) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (partition_id) DO UPDATE SET "
      "position = excluded.position, records_applied = excluded.records_applied, "
      "last_record_timestamp = excluded.last_record_timestamp"));
  TERN_RETURN_IF_ERROR(prepare(
      s.insert_process,
      "INSERT INTO process_definition (process_definition_key, bpmn_process_id, version, "
      "version_tag, resource_name, bpmn_xml, tenant_id, deployment_key) VALUES (?1, ?2, ?3, ?4, "
      "?5, ?6, ?7, ?8) ON CONFLICT (process_definition_key) DO NOTHING"));
  TERN_RETURN_IF_ERROR(
      prepare(s.delete_process,
              "UPDATE process_definition SET deleted = 1 WHERE process_definition_key = ?1"));
  TERN_RETURN_IF_ERROR(prepare(
      s.insert_drg,
      "INSERT INTO decision_requirements (decision_requirements_key, decision_requirements_id, "
      "name, version, resource_name, dmn_xml, tenant_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
      "ON CONFLICT (decision_requirements_key) DO NOTHING"));
  TERN_RETURN_IF_ERROR(
      prepare(s.delete_drg,
              "UPDATE decision_requirements SET deleted = 1 WHERE decision_requirements_key = ?1"));
  TERN_RETURN_IF_ERROR(prepare(
      s.insert_decision,
      "INSERT INTO decision_definition (decision_key, decision_id, name, version, version_tag, "
      "decision_requirements_key, decision_requirements_id, tenant_id, deployment_key) VALUES "
      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) ON CONFLICT (decision_key) DO NOTHING"));
  TERN_RETURN_IF_ERROR(prepare(
      s.delete_decision, "UPDATE decision_definition SET deleted = 1 WHERE decision_key = ?1"));
  TERN_RETURN_IF_ERROR(prepare(
      s.insert_form,
      "INSERT INTO form (deployment_key, resource_name, form_id, schema_json, tenant_id) VALUES "
      "(?1, ?2, ?3, ?4, ?5) ON CONFLICT (deployment_key, resource_name) DO NOTHING"));
  TERN_RETURN_IF_ERROR(prepare(
      s.insert_process_instance,
      "INSERT INTO process_instance (process_instance_key, process_definition_key, "
      "bpmn_process_id, version, state, start_date, parent_process_instance_key, "
      "parent_element_instance_key, tenant_id, partition_id) VALUES (?1, ?2, ?3, ?4, 'ACTIVE', "
      "?5, ?6, ?7, ?8, ?9) ON CONFLICT (process_instance_key) DO NOTHING"));
  TERN_RETURN_IF_ERROR(prepare(
      s.end_process_instance,
      "UPDATE process_instance SET state = ?2, end_date = ?3 WHERE process_instance_key = ?1"));
  TERN_RETURN_IF_ERROR(
      prepare(s.migrate_process_instance,
              "UPDATE process_instance SET process_definition_key = ?2, bpmn_process_id = ?3, "
              "version = ?4 WHERE process_instance_key = ?1"));
  TERN_RETURN_IF_ERROR(prepare(
      s.insert_element,
      "INSERT INTO element_instance (element_instance_key, process_instance_key, "
      "process_definition_key, bpmn_process_id, element_id, element_type, state, start_date, "
      "flow_scope_key, tenant_id, partition_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'ACTIVE', ?7, "
      "?8, ?9, ?10) ON CONFLICT (element_instance_key) DO NOTHING"));
  TERN_RETURN_IF_ERROR(prepare(
      s.end_element,
      "UPDATE element_instance SET state = ?2, end_date = ?3 WHERE element_instance_key = ?1"));
  TERN_RETURN_IF_ERROR(
      prepare(s.migrate_element,
              "UPDATE element_instance SET process_definition_key = ?2, bpmn_process_id = ?3, "
              "element_id = ?4 WHERE element_instance_key = ?1"));
  TERN_RETURN_IF_ERROR(prepare(
      s.upsert_variable,
      "INSERT INTO variable (variable_key, name, value, scope_key, process_instance_key, "
      "process_definition_key, bpmn_process_id, tenant_id, partition_id, position) VALUES (?1, "
      "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT (variable_key) DO UPDATE SET value = "
      "excluded.value, position = excluded.position"));
  TERN_RETURN_IF_ERROR(prepare(
      s.insert_variable_history,
      "INSERT INTO variable_history (partition_id, position, variable_key, intent, name, value, "
      "scope_key, process_instance_key, timestamp) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
      "ON CONFLICT (partition_id, position) DO NOTHING"));
  TERN_RETURN_IF_ERROR(prepare(
      s.insert_incident,
      "INSERT INTO incident (incident_key, process_instance_key, process_definition_key, "
      "bpmn_process_id, element_id, element_instance_key, job_key, error_type, error_message, "
      "state, creation_time, tenant_id, partition_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
      "?9, 'ACTIVE', ?10, ?11, ?12) ON CONFLICT (incident_key) DO NOTHING"));
  TERN_RETURN_IF_ERROR(prepare(s.resolve_incident,
                               "UPDATE incident SET state = 'RESOLVED', resolution_time = ?2 "
                               "WHERE incident_key = ?1 AND state = 'ACTIVE'"));
  TERN_RETURN_IF_ERROR(
      prepare(s.element_incident,
              "UPDATE element_instance SET incident_key = ?2 WHERE element_instance_key = ?1"));
  TERN_RETURN_IF_ERROR(
      prepare(s.instance_incidents,
              "UPDATE process_instance SET open_incidents = (SELECT COUNT(*) FROM incident WHERE "
              "incident.process_instance_key = ?1 AND incident.state = 'ACTIVE') WHERE "
              "process_instance_key = ?1"));
  TERN_RETURN_IF_ERROR(prepare(
      s.insert_job,
      "INSERT INTO job (job_key, type, worker, state, kind, listener_event_type, retries, "
      "custom_headers, process_instance_key, element_instance_key, element_id, bpmn_process_id, "
      "process_definition_key, creation_time, tenant_id, partition_id) VALUES (?1, ?2, ?3, "
      "'CREATED', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT (job_key) "
      "DO NOTHING"));
  // ?3..?6: -1 / '' keep the stored value (not every event carries every field).
  TERN_RETURN_IF_ERROR(
      prepare(s.update_job,
              "UPDATE job SET state = ?2, "
              "worker = CASE WHEN ?3 = '' THEN worker ELSE ?3 END, "
              "retries = CASE WHEN ?4 < 0 THEN retries ELSE ?4 END, "
              "error_message = CASE WHEN ?5 = '' THEN error_message ELSE ?5 END, "
              "error_code = CASE WHEN ?6 = '' THEN error_code ELSE ?6 END, "
              "deadline = CASE WHEN ?7 < 0 THEN deadline ELSE ?7 END, "
              "end_time = CASE WHEN ?8 < 0 THEN end_time ELSE ?8 END WHERE job_key = ?1"));
  TERN_RETURN_IF_ERROR(prepare(
      s.insert_decision_evaluation,
      "INSERT INTO decision_evaluation (decision_evaluation_key, state, decision_key, "
      "decision_id, decision_name, decision_version, decision_requirements_key, "
      "decision_requirements_id, decision_output, evaluated_decisions, failed_decision_id, "
      "evaluation_failure_message, process_instance_key, process_definition_key, "
      "bpmn_process_id, element_instance_key, element_id, evaluation_date, tenant_id, "
      "partition_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
      "?16, ?17, ?18, ?19, ?20) ON CONFLICT (decision_evaluation_key) DO NOTHING"));
  TERN_RETURN_IF_ERROR(prepare(
      s.upsert_message_subscription,
      "INSERT INTO message_subscription (element_instance_key, message_name, "
      "process_instance_key, bpmn_process_id, element_id, correlation_key, interrupting, state, "
      "last_message_key, last_updated, tenant_id, partition_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
      "?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT (element_instance_key, message_name) DO UPDATE "
      "SET state = excluded.state, last_updated = excluded.last_updated, last_message_key = "
      "COALESCE(excluded.last_message_key, message_subscription.last_message_key)"));
  return absl::OkStatus();
}

absl::StatusOr<HistoryStore::Progress> HistoryStore::ReadProgress() {
  SqlStatement& query = *statements_->read_progress;
  query.BindInt(1, partition_id_);
  TERN_ASSIGN_OR_RETURN(bool found, query.Next());
  Progress progress;
  if (found) {
    progress.position = query.ColumnInt(0);
    progress.records_applied = query.ColumnInt(1);
    query.Reset();
  }
  return progress;
}

absl::Status HistoryStore::Begin() {
  if (in_transaction_) return absl::OkStatus();
  // IMMEDIATE takes the write lock now: two partitions' connections that both read and then
  // write would otherwise deadlock on the upgrade (SQLITE_BUSY at once, not after the timeout).
  TERN_RETURN_IF_ERROR(
      connection_->Execute(connection_->dialect() == "sqlite" ? "BEGIN IMMEDIATE" : "BEGIN"));
  in_transaction_ = true;
  auto progress = ReadProgress();
  if (!progress.ok()) {
    Rollback();
    return progress.status();
  }
  progress_ = *progress;
  return absl::OkStatus();
}

absl::StatusOr<int64_t> HistoryStore::Commit() {
  if (!in_transaction_) return progress_.position;
  SqlStatement& write = *statements_->write_progress;
  write.BindInt(1, partition_id_);
  write.BindInt(2, progress_.position);
  write.BindInt(3, progress_.records_applied);
  write.BindInt(4, last_timestamp_);
  absl::Status status = write.Run();
  if (status.ok()) status = connection_->Execute("COMMIT");
  if (!status.ok()) {
    Rollback();
    return status;
  }
  in_transaction_ = false;
  return progress_.position;
}

void HistoryStore::Rollback() {
  if (!in_transaction_) return;
  (void)connection_->Execute("ROLLBACK");
  in_transaction_ = false;
}

absl::Status HistoryStore::Apply(const record::Record& record) {
  TERN_RETURN_IF_ERROR(Begin());
  if (record.position() <= progress_.position) return absl::OkStatus();  // applied before
  if (record.record_type() == record::EVENT) TERN_RETURN_IF_ERROR(ApplyEvent(record));
  progress_.position = record.position();
  ++progress_.records_applied;
  last_timestamp_ = record.timestamp();
  return absl::OkStatus();
}

absl::Status HistoryStore::ApplyEvent(const record::Record& record) {
  Statements& s = *statements_;
  const int64_t key = record.key();
  const int64_t time = record.timestamp();
  const int32_t intent = record.intent();
  switch (record.value_type()) {
    case record::DEPLOYMENT: {
      if (intent != ToInt(engine::DeploymentIntent::kCreated)) break;
      const auto& deployment = record.deployment();
      for (const auto& resource : deployment.resources()) {
        if (!resource.resource_name().ends_with(".form")) continue;
        SqlStatement& q = *s.insert_form;
        q.BindInt(1, key);
        q.BindText(2, resource.resource_name());
        q.BindText(3, FormId(resource.resource()));
        q.BindText(4, resource.resource());
        q.BindText(5, deployment.tenant_id());
        TERN_RETURN_IF_ERROR(q.Run());
      }
      break;
    }
    case record::PROCESS: {
      const auto& process = record.process();
      if (intent == ToInt(engine::ProcessIntent::kCreated)) {
        SqlStatement& q = *s.insert_process;
        q.BindInt(1, process.process_definition_key());
        q.BindText(2, process.bpmn_process_id());
        q.BindInt(3, process.version());
        q.BindText(4, process.version_tag());
        q.BindText(5, process.resource_name());
        q.BindText(6, process.resource());
        q.BindText(7, process.tenant_id());
        BindKey(q, 8, process.deployment_key());
        return q.Run();
      }
      if (intent == ToInt(engine::ProcessIntent::kDeleted)) {
        s.delete_process->BindInt(1, process.process_definition_key());
        return s.delete_process->Run();
      }
      break;
    }
    case record::DECISION_REQUIREMENTS: {
      const auto& drg = record.decision_requirements();
      if (intent == ToInt(engine::DecisionRequirementsIntent::kCreated)) {
        SqlStatement& q = *s.insert_drg;
        q.BindInt(1, drg.decision_requirements_key());
        q.BindText(2, drg.decision_requirements_id());
        q.BindText(3, drg.decision_requirements_name());
        q.BindInt(4, drg.version());
        q.BindText(5, drg.resource_name());
        q.BindText(6, drg.resource());
        q.BindText(7, drg.tenant_id());
        return q.Run();
      }
      if (intent == ToInt(engine::DecisionRequirementsIntent::kDeleted)) {
        s.delete_drg->BindInt(1, drg.decision_requirements_key());
        return s.delete_drg->Run();
      }
      break;
    }
    case record::DECISION: {
      const auto& decision = record.decision();
      if (intent == ToInt(engine::DecisionIntent::kCreated)) {
        SqlStatement& q = *s.insert_decision;
        q.BindInt(1, decision.decision_key());
        q.BindText(2, decision.decision_id());
        q.BindText(3, decision.decision_name());
        q.BindInt(4, decision.version());
        q.BindText(5, decision.version_tag());
        BindKey(q, 6, decision.decision_requirements_key());
        q.BindText(7, decision.decision_requirements_id());
        q.BindText(8, decision.tenant_id());
        BindKey(q, 9, decision.deployment_key());
        return q.Run();
      }
      if (intent == ToInt(engine::DecisionIntent::kDeleted)) {
        s.delete_decision->BindInt(1, decision.decision_key());
        return s.delete_decision->Run();
      }
      break;
    }
    case record::PROCESS_INSTANCE: {
      const auto& pi = record.process_instance();
      const int32_t type = pi.bpmn_element_type();
      if (type == kSequenceFlowType) break;
      const bool is_process = type == kProcessType;
      if (intent == ToInt(engine::ProcessInstanceIntent::kElementActivating)) {
        if (is_process) {
          SqlStatement& q = *s.insert_process_instance;
          q.BindInt(1, pi.process_instance_key());
          q.BindInt(2, pi.process_definition_key());
          q.BindText(3, pi.bpmn_process_id());
          q.BindInt(4, pi.version());
          q.BindInt(5, time);
          BindKey(q, 6, pi.parent_process_instance_key());
          BindKey(q, 7, pi.parent_element_instance_key());
          q.BindText(8, pi.tenant_id());
          q.BindInt(9, partition_id_);
          return q.Run();
        }
        SqlStatement& q = *s.insert_element;
        q.BindInt(1, key);
        q.BindInt(2, pi.process_instance_key());
        q.BindInt(3, pi.process_definition_key());
        q.BindText(4, pi.bpmn_process_id());
        q.BindText(5, pi.element_id());
        q.BindText(6, ElementTypeText(type));
        q.BindInt(7, time);
        BindKey(q, 8, pi.flow_scope_key());
        q.BindText(9, pi.tenant_id());
        q.BindInt(10, partition_id_);
        return q.Run();
      }
      const bool completed = intent == ToInt(engine::ProcessInstanceIntent::kElementCompleted);
      const bool terminated = intent == ToInt(engine::ProcessInstanceIntent::kElementTerminated);
      if (completed || terminated) {
        SqlStatement& q = is_process ? *s.end_process_instance : *s.end_element;
        q.BindInt(1, is_process ? pi.process_instance_key() : key);
        q.BindText(2, completed ? "COMPLETED" : "TERMINATED");
        q.BindInt(3, time);
        return q.Run();
      }
      if (intent == ToInt(engine::ProcessInstanceIntent::kElementMigrated)) {
        if (is_process) {
          SqlStatement& q = *s.migrate_process_instance;
          q.BindInt(1, pi.process_instance_key());
          q.BindInt(2, pi.process_definition_key());
          q.BindText(3, pi.bpmn_process_id());
          q.BindInt(4, pi.version());
          return q.Run();
        }
        SqlStatement& q = *s.migrate_element;
        q.BindInt(1, key);
        q.BindInt(2, pi.process_definition_key());
        q.BindText(3, pi.bpmn_process_id());
        q.BindText(4, pi.element_id());
        return q.Run();
      }
      break;
    }
    case record::VARIABLE: {
      const auto& variable = record.variable();
      {
        SqlStatement& q = *s.upsert_variable;
        q.BindInt(1, key);
        q.BindText(2, variable.name());
        q.BindText(3, variable.value());
        q.BindInt(4, variable.scope_key());
        q.BindInt(5, variable.process_instance_key());
        BindKey(q, 6, variable.process_definition_key());
        q.BindText(7, variable.bpmn_process_id());
        q.BindText(8, variable.tenant_id());
        q.BindInt(9, partition_id_);
        q.BindInt(10, record.position());
        TERN_RETURN_IF_ERROR(q.Run());
      }
      SqlStatement& q = *s.insert_variable_history;
      q.BindInt(1, partition_id_);
      q.BindInt(2, record.position());
      q.BindInt(3, key);
      q.BindText(4, engine::IntentName(record::VARIABLE, intent));
      q.BindText(5, variable.name());
      q.BindText(6, variable.value());
      q.BindInt(7, variable.scope_key());
      q.BindInt(8, variable.process_instance_key());
      q.BindInt(9, time);
      return q.Run();
    }
    case record::INCIDENT: {
      const auto& incident = record.incident();
      if (intent == ToInt(engine::IncidentIntent::kCreated)) {
        SqlStatement& q = *s.insert_incident;
        q.BindInt(1, key);
        q.BindInt(2, incident.process_instance_key());
        BindKey(q, 3, incident.process_definition_key());
        q.BindText(4, incident.bpmn_process_id());
        q.BindText(5, incident.element_id());
        BindKey(q, 6, incident.element_instance_key());
        BindKey(q, 7, incident.job_key());
        q.BindText(8, incident.error_type());
        q.BindText(9, incident.error_message());
        q.BindInt(10, time);
        q.BindText(11, incident.tenant_id());
        q.BindInt(12, partition_id_);
        TERN_RETURN_IF_ERROR(q.Run());
        SqlStatement& element = *s.element_incident;
        element.BindInt(1, incident.element_instance_key());
        element.BindInt(2, key);
        TERN_RETURN_IF_ERROR(element.Run());
      } else if (intent == ToInt(engine::IncidentIntent::kResolved)) {
        SqlStatement& q = *s.resolve_incident;
        q.BindInt(1, key);
        q.BindInt(2, time);
        TERN_RETURN_IF_ERROR(q.Run());
        SqlStatement& element = *s.element_incident;
        element.BindInt(1, incident.element_instance_key());
        element.BindNull(2);
        TERN_RETURN_IF_ERROR(element.Run());
      } else {
        break;
      }
      SqlStatement& count = *s.instance_incidents;
      count.BindInt(1, incident.process_instance_key());
      return count.Run();
    }
    case record::JOB: {
      const auto& job = record.job();
      if (intent == ToInt(engine::JobIntent::kCreated)) {
        SqlStatement& q = *s.insert_job;
        q.BindInt(1, key);
        q.BindText(2, job.type());
        q.BindText(3, job.worker());
        q.BindText(4, record::JobKind_Name(job.job_kind()));
        q.BindText(5, record::JobListenerEventType_Name(job.listener_event_type()));
        q.BindInt(6, job.retries());
        q.BindText(7, job.custom_headers());
        BindKey(q, 8, job.process_instance_key());
        BindKey(q, 9, job.element_instance_key());
        q.BindText(10, job.element_id());
        q.BindText(11, job.bpmn_process_id());
        BindKey(q, 12, job.process_definition_key());
        q.BindInt(13, time);
        q.BindText(14, job.tenant_id());
        q.BindInt(15, partition_id_);
        return q.Run();
      }
      std::string state(engine::IntentName(record::JOB, intent));
      bool ended = false;
      bool with_retries = false;
      switch (static_cast<engine::JobIntent>(intent)) {
        case engine::JobIntent::kCompleted:
        case engine::JobIntent::kCanceled:
          ended = true;
          break;
        case engine::JobIntent::kFailed:
        case engine::JobIntent::kRetriesUpdated:
        case engine::JobIntent::kTimedOut:
        case engine::JobIntent::kErrorThrown:
          with_retries = true;
          break;
        case engine::JobIntent::kYielded:
        case engine::JobIntent::kRecurredAfterBackoff:
          state = "CREATED";  // activatable again
          break;
        case engine::JobIntent::kTimeoutUpdated:
          state = "ACTIVATED";
          break;
        case engine::JobIntent::kMigrated:
          break;
        default:
          return absl::OkStatus();
      }
      SqlStatement& q = *s.update_job;
      q.BindInt(1, key);
      q.BindText(2, state);
      q.BindText(3, "");
      q.BindInt(4, with_retries ? job.retries() : -1);
      q.BindText(5, job.error_message());
      q.BindText(6, job.error_code());
      q.BindInt(7, intent == ToInt(engine::JobIntent::kTimeoutUpdated) ? job.deadline() : -1);
      q.BindInt(8, ended ? time : -1);
      return q.Run();
    }
    case record::JOB_BATCH: {
      if (intent != ToInt(engine::JobBatchIntent::kActivated)) break;
      const auto& batch = record.job_batch();
      for (int i = 0; i < batch.job_keys_size() && i < batch.jobs_size(); ++i) {
        const auto& job = batch.jobs(i);
        SqlStatement& q = *s.update_job;
        q.BindInt(1, batch.job_keys(i));
        q.BindText(2, "ACTIVATED");
        q.BindText(3, job.worker().empty() ? batch.worker() : job.worker());
        q.BindInt(4, job.retries());
        q.BindText(5, "");
        q.BindText(6, "");
        q.BindInt(7, job.deadline());
        q.BindInt(8, -1);
        TERN_RETURN_IF_ERROR(q.Run());
      }
      break;
    }
    case record::DECISION_EVALUATION: {
      const bool evaluated = intent == ToInt(engine::DecisionEvaluationIntent::kEvaluated);
      if (!evaluated && intent != ToInt(engine::DecisionEvaluationIntent::kFailed)) break;
      const auto& evaluation = record.decision_evaluation();
      nlohmann::json value = RecordValueJson(record);
      SqlStatement& q = *s.insert_decision_evaluation;
      q.BindInt(1, key);
      q.BindText(2, evaluated ? "EVALUATED" : "FAILED");
      BindKey(q, 3, evaluation.decision_key());
      q.BindText(4, evaluation.decision_id());
      q.BindText(5, evaluation.decision_name());
      q.BindInt(6, evaluation.decision_version());
      BindKey(q, 7, evaluation.decision_requirements_key());
      q.BindText(8, evaluation.decision_requirements_id());
      q.BindText(9, evaluation.decision_output());
      q.BindText(10, value["evaluatedDecisions"].dump(-1, ' ', false,
                                                      nlohmann::json::error_handler_t::replace));
      q.BindText(11, evaluation.failed_decision_id());
      q.BindText(12, evaluation.evaluation_failure_message());
      BindKey(q, 13, evaluation.process_instance_key());
      BindKey(q, 14, evaluation.process_definition_key());
      q.BindText(15, evaluation.bpmn_process_id());
      BindKey(q, 16, evaluation.element_instance_key());
      q.BindText(17, evaluation.element_id());
      q.BindInt(18, time);
      q.BindText(19, evaluation.tenant_id());
      q.BindInt(20, partition_id_);
      return q.Run();
    }
    case record::PROCESS_MESSAGE_SUBSCRIPTION: {
      const auto& subscription = record.process_message_subscription();
      SqlStatement& q = *s.upsert_message_subscription;
      q.BindInt(1, subscription.element_instance_key());
      q.BindText(2, subscription.message_name());
      BindKey(q, 3, subscription.process_instance_key());
      q.BindText(4, subscription.bpmn_process_id());
      q.BindText(5, subscription.element_id());
      q.BindText(6, subscription.correlation_key());
      q.BindInt(7, subscription.interrupting() ? 1 : 0);
      q.BindText(8, engine::IntentName(record::PROCESS_MESSAGE_SUBSCRIPTION, intent));
      BindKey(q, 9, subscription.message_key());
      q.BindInt(10, time);
      q.BindText(11, subscription.tenant_id());
      q.BindInt(12, partition_id_);
      return q.Run();
    }
    default:
      break;
  }
  return absl::OkStatus();
}

}  // namespace tern::exporter
