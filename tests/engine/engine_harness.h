#pragma once

// Drives an Engine over an in-memory store the way a partition leader does, one command per
// batch, and keeps every batch so that tests can replay the log into a fresh engine.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/intent.h"
#include "engine/record_values.h"
#include "engine/state/store.h"

namespace tern::engine::testing {

class EngineHarness {
 public:
  explicit EngineHarness(EngineConfig config = {})
      : store_(state::NewMemoryStore()),
        engine_(std::make_unique<Engine>(config, *store_, nullptr)) {}

  // Processes one client command in its own batch; returns the answer (if any).
  std::optional<record::Record> Send(record::Record command) {
    command.set_has_request(true);
    command.set_request_stream_id(1);
    command.set_request_id(++request_id_);
    engine_->BeginBatch(now_ms_);
    engine_->ProcessClientCommand(std::move(command));
    auto output = engine_->EndBatch();
    Keep(output);
    std::optional<record::Record> answer;
    for (auto& response : output.responses) {
      if (response.request_id == request_id_)
        answer = response.record;
      else
        late_responses_.push_back(response);
    }
    return answer;
  }

  // Processes a command from another partition (no request attached). Answers it releases to
  // earlier requests (an awaited result, a correlation) join late_responses().
  void Deliver(record::Record command) {
    engine_->BeginBatch(now_ms_);
    engine_->ProcessClientCommand(std::move(command));
    auto output = engine_->EndBatch();
    Keep(output);
    late_responses_.insert(late_responses_.end(), output.responses.begin(), output.responses.end());
  }

  // Commands for other partitions produced so far (taken: the list is emptied).
  std::vector<OutgoingCommand> TakeOutgoing() { return std::exchange(outgoing_, {}); }

  // Runs due work and deferred commands at the current time.
  void Tick() {
    engine_->BeginBatch(now_ms_);
    engine_->ProcessDeferredCommands();
    engine_->ProcessDueWork();
    Keep(engine_->EndBatch());
  }

  void AdvanceTime(int64_t ms) { now_ms_ += ms; }
  int64_t now() const { return now_ms_; }

  record::Record Deploy(const std::string& name, const std::string& xml) {
    record::DeploymentRecord deployment;
    auto* resource = deployment.add_resources();
    resource->set_resource_name(name);
    resource->set_resource(xml);
    return *Send(MakeCommand(-1, DeploymentIntent::kCreate, deployment));
  }

  record::Record CreateInstance(const std::string& process_id, const std::string& variables = "",
                                bool await = false) {
    record::ProcessInstanceCreationRecord creation;
    creation.set_bpmn_process_id(process_id);
    creation.set_version(-1);
    creation.set_variables(variables);
    auto intent = await ? ProcessInstanceCreationIntent::kCreateWithAwaitingResult
                        : ProcessInstanceCreationIntent::kCreate;
    auto answer = Send(MakeCommand(-1, intent, creation));
    return answer ? *answer : record::Record();
  }

  record::Record ActivateJobs(const std::string& type, int max = 10, int64_t timeout = 60'000,
                              std::vector<std::string> fetch = {}) {
    record::JobBatchRecord batch;
    batch.set_type(type);
    batch.set_worker("test-worker");
    batch.set_timeout(timeout);
    batch.set_max_jobs_to_activate(max);
    for (auto& name : fetch) batch.add_fetch_variables(name);
    return *Send(MakeCommand(-1, JobBatchIntent::kActivate, batch));
  }

  record::Record CompleteJob(int64_t key, const std::string& variables = "") {
    record::JobRecord job;
    job.set_variables(variables);
    return *Send(MakeCommand(key, JobIntent::kComplete, job));
  }

  record::Record FailJob(int64_t key, int retries, const std::string& message = "",
                         int64_t backoff = 0) {
    record::JobRecord job;
    job.set_retries(retries);
    job.set_error_message(message);
    job.set_retry_backoff(backoff);
    return *Send(MakeCommand(key, JobIntent::kFail, job));
  }

  record::Record UpdateRetries(int64_t key, int retries) {
    record::JobRecord job;
    job.set_retries(retries);
    return *Send(MakeCommand(key, JobIntent::kUpdateRetries, job));
  }

  record::Record SetVariables(int64_t scope, const std::string& variables, bool local = false) {
    record::VariableDocumentRecord document;
    document.set_scope_key(scope);
    document.set_variables(variables);
    document.set_update_semantics(local ? record::LOCAL : record::PROPAGATE);
    return *Send(MakeCommand(-1, VariableDocumentIntent::kUpdate, document));
  }

  record::Record ResolveIncident(int64_t key) {
    return *Send(MakeCommand(key, IncidentIntent::kResolve, record::IncidentRecord()));
  }

  record::Record Cancel(int64_t process_instance_key) {
    return *Send(MakeCommand(process_instance_key, ProcessInstanceIntent::kCancel,
                             record::ProcessInstanceRecord()));
  }

  // All records written so far, in log order.
  std::vector<record::Record> Records() const {
    std::vector<record::Record> all;
    for (const auto& batch : batches_)
      all.insert(all.end(), batch.records().begin(), batch.records().end());
    return all;
  }

  // Events of a value type and intent, in log order.
  template <typename IntentEnum>
  std::vector<record::Record> Events(IntentEnum intent) const {
    std::vector<record::Record> matching;
    for (const auto& record : Records()) {
      if (record.record_type() == record::EVENT && Is(record, intent)) matching.push_back(record);
    }
    return matching;
  }

  // Process-instance events of an element, in log order.
  std::vector<std::string> ElementHistory(const std::string& element_id) const {
    std::vector<std::string> history;
    for (const auto& record : Records()) {
      if (record.record_type() == record::EVENT &&
          record.value_type() == record::PROCESS_INSTANCE &&
          record.process_instance().element_id() == element_id) {
        history.emplace_back(IntentName(record::PROCESS_INSTANCE, record.intent()));
      }
    }
    return history;
  }

  int CountEntries(state::ColumnFamily cf) {
    int count = 0;
    store_->transaction().ForEachWithPrefix(cf, "", [&](std::string_view, std::string_view) {
      ++count;
      return true;
    });
    return count;
  }

  const std::vector<Response>& late_responses() const { return late_responses_; }
  const std::vector<record::RecordBatch>& batches() const { return batches_; }
  Engine& engine() { return *engine_; }
  state::StateStore& store() { return *store_; }

  // Replays every batch into a fresh engine and returns its state checksum.
  uint64_t ReplayChecksum(EngineConfig config = {}) const {
    auto store = state::NewMemoryStore();
    Engine replica(config, *store, nullptr);
    for (const auto& batch : batches_) replica.ApplyBatch(batch);
    return replica.StateChecksum();
  }

 private:
  void Keep(const BatchOutput& output) {
    if (BatchHasContent(output.batch)) batches_.push_back(output.batch);
    outgoing_.insert(outgoing_.end(), output.outgoing_commands.begin(),
                     output.outgoing_commands.end());
  }

  std::unique_ptr<state::StateStore> store_;
  std::unique_ptr<Engine> engine_;
  int64_t now_ms_ = 1'700'000'000'000;
  int64_t request_id_ = 0;
  std::vector<record::RecordBatch> batches_;
  std::vector<Response> late_responses_;
  std::vector<OutgoingCommand> outgoing_;
};

}  // namespace tern::engine::testing
