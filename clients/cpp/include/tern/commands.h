#pragma once

// Fluent commands, one per gateway RPC. Create them from a tern::Client, set fields, then:
//
//   Result<R> r = command.send().get();         // blocking
//   std::future<Result<R>> f = command.send();  // asynchronous, as a future
//   command.send([](Result<R> r) { ... });      // asynchronous, with a callback
//
// Commands are cheap value types; sending does not change them, so a command can be sent again.
// Callbacks run on the client's callback threads (see ClientBuilder::callbackThreads) unless
// CallbackThread::kGrpc is passed, in which case they run on a gRPC thread and must not block.
//
// Every command retries on UNAVAILABLE and RESOURCE_EXHAUSTED with exponential backoff until its
// request timeout (ClientBuilder::defaultRequestTimeout, or requestTimeout() here) runs out or
// the retry policy's attempts are used up; the last error is returned. Those two codes mean the
// command was not carried out. Answers that leave the outcome unknown (UNKNOWN,
// DEADLINE_EXCEEDED, ABORTED, CANCELLED) are never retried: a create or a ThrowError sent again
// could take effect twice (docs/api-errors.md).

#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tern/status.h"
#include "tern/types.h"

namespace tern {

namespace internal {
class ClientCore;
class JobStreamState;
class WorkerState;

// Told when a command is sent and when its answer arrives; the job worker counts with it.
class CommandObserver {
 public:
  virtual ~CommandObserver() = default;
  virtual void OnSend() {}
  virtual void OnDone(const Status& status) { (void)status; }
};

// What every command carries: the client it was made by, an optional per-command timeout, and
// an optional observer.
struct CommandOptions {
  std::shared_ptr<ClientCore> core;
  std::optional<std::chrono::milliseconds> timeout;
  std::shared_ptr<CommandObserver> observer;
};

// A JSON document set in pieces: variables(json), variable(name, value) or variablesJson(text).
class VariablesField {
 public:
  void Set(nlohmann::json document) {
    document_ = std::move(document);
    text_.reset();
  }
  void SetText(std::string text) { text_ = std::move(text); }
  void Put(const std::string& name, nlohmann::json value) {
    if (text_) {
      document_ = ParseJsonDocument(*text_);
      text_.reset();
    }
    if (!document_.is_object()) document_ = nlohmann::json::object();
    document_[name] = std::move(value);
  }
  // The text sent on the wire: "" when nothing was set (the gateway reads it as no variables).
  std::string Serialize() const;

 private:
  nlohmann::json document_ = nullptr;  // null = not set
  std::optional<std::string> text_;
};
}  // namespace internal

// Where a send(callback) callback runs.
enum class CallbackThread {
  kClientExecutor,  // the client's callback threads: may block, may send further commands
  kGrpc,            // the gRPC completion thread: fastest, must not block
};

template <typename Derived, typename R>
class Command {
 public:
  using Response = R;
  using Callback = std::function<void(Result<R>)>;

  // Deadline of this command, retries included (default: the client's defaultRequestTimeout).
  Derived& requestTimeout(std::chrono::milliseconds timeout) {
    options_.timeout = timeout;
    return self();
  }

  std::future<Result<R>> send() const {
    auto promise = std::make_shared<std::promise<Result<R>>>();
    auto future = promise->get_future();
    static_cast<const Derived&>(*this).Dispatch(
        [promise](Result<R> result) { promise->set_value(std::move(result)); },
        CallbackThread::kGrpc);
    return future;
  }

  void send(Callback callback, CallbackThread thread = CallbackThread::kClientExecutor) const {
    static_cast<const Derived&>(*this).Dispatch(std::move(callback), thread);
  }

 protected:
  explicit Command(internal::CommandOptions options) : options_(std::move(options)) {}
  Derived& self() { return static_cast<Derived&>(*this); }

  internal::CommandOptions options_;
};

// Expands to the declarations every concrete command needs.
#define TERN_COMMAND_BOILERPLATE(Name, R)                                              \
 private:                                                                              \
  friend class Command<Name, R>;                                                       \
  friend class Client;                                                                 \
  friend class JobClient;                                                              \
  friend class internal::WorkerState;                                                  \
  explicit Name(internal::CommandOptions options) : Command(std::move(options)) {}     \
  void Dispatch(std::function<void(Result<R>)> callback, CallbackThread thread) const; \
                                                                                       \
 public:

// --- Cluster --------------------------------------------------------------------------------

class TopologyRequest : public Command<TopologyRequest, Topology> {
  TERN_COMMAND_BOILERPLATE(TopologyRequest, Topology)
};

// --- Deployment -----------------------------------------------------------------------------

class DeployResourceCommand : public Command<DeployResourceCommand, DeploymentEvent> {
  TERN_COMMAND_BOILERPLATE(DeployResourceCommand, DeploymentEvent)
  // Reads the file now; the resource name is the path as given (zbctl does the same). An
  // unreadable file makes send() fail with INVALID_ARGUMENT.
  DeployResourceCommand& addResourceFile(const std::string& path);
  DeployResourceCommand& addResourceString(std::string content, std::string name);
  DeployResourceCommand& tenantId(std::string tenant_id);

 private:
  std::vector<std::pair<std::string, std::string>> resources_;  // name, content
  std::string tenant_id_;
  std::optional<Status> error_;
};

// The deprecated DeployProcess RPC (plain `zbctl deploy` still uses it). Prefer
// DeployResourceCommand.
class DeployProcessCommand : public Command<DeployProcessCommand, DeployProcessResponse> {
  TERN_COMMAND_BOILERPLATE(DeployProcessCommand, DeployProcessResponse)
  DeployProcessCommand& addResourceFile(const std::string& path);
  DeployProcessCommand& addResourceString(std::string content, std::string name);

 private:
  std::vector<std::pair<std::string, std::string>> resources_;
  std::optional<Status> error_;
};

class DeleteResourceCommand : public Command<DeleteResourceCommand, DeleteResourceResponse> {
  TERN_COMMAND_BOILERPLATE(DeleteResourceCommand, DeleteResourceResponse)
  DeleteResourceCommand& operationReference(uint64_t reference);

 private:
  int64_t resource_key_ = 0;
  std::optional<uint64_t> operation_reference_;
};

// --- Process instances ----------------------------------------------------------------------

class CreateProcessInstanceWithResultCommand;

class CreateProcessInstanceCommand
    : public Command<CreateProcessInstanceCommand, ProcessInstanceEvent> {
  TERN_COMMAND_BOILERPLATE(CreateProcessInstanceCommand, ProcessInstanceEvent)
  CreateProcessInstanceCommand& bpmnProcessId(std::string id);
  CreateProcessInstanceCommand& processDefinitionKey(int64_t key);
  CreateProcessInstanceCommand& version(int32_t version);
  CreateProcessInstanceCommand& latestVersion();
  CreateProcessInstanceCommand& variables(nlohmann::json document);
  CreateProcessInstanceCommand& variablesJson(std::string text);
  CreateProcessInstanceCommand& variable(const std::string& name, nlohmann::json value);
  CreateProcessInstanceCommand& startBeforeElement(std::string element_id);
  CreateProcessInstanceCommand& tenantId(std::string tenant_id);
  CreateProcessInstanceCommand& operationReference(uint64_t reference);
  // The same instance, but the answer waits until the instance completed.
  CreateProcessInstanceWithResultCommand withResult() const;

 private:
  friend class CreateProcessInstanceWithResultCommand;
  std::string bpmn_process_id_;
  int64_t process_definition_key_ = -1;
  int32_t version_ = -1;
  internal::VariablesField variables_;
  std::vector<std::string> start_before_;
  std::string tenant_id_;
  std::optional<uint64_t> operation_reference_;
};

// requestTimeout() is also how long the gateway waits for the instance to complete.
class CreateProcessInstanceWithResultCommand
    : public Command<CreateProcessInstanceWithResultCommand, ProcessInstanceResult> {
  TERN_COMMAND_BOILERPLATE(CreateProcessInstanceWithResultCommand, ProcessInstanceResult)
  // Only these root-scope variables are returned (default: all).
  CreateProcessInstanceWithResultCommand& fetchVariables(std::vector<std::string> names);

 private:
  friend class CreateProcessInstanceCommand;
  std::shared_ptr<const CreateProcessInstanceCommand> create_;
  std::vector<std::string> fetch_variables_;
};

class CancelProcessInstanceCommand
    : public Command<CancelProcessInstanceCommand, CancelProcessInstanceResponse> {
  TERN_COMMAND_BOILERPLATE(CancelProcessInstanceCommand, CancelProcessInstanceResponse)
  CancelProcessInstanceCommand& operationReference(uint64_t reference);

 private:
  int64_t process_instance_key_ = 0;
  std::optional<uint64_t> operation_reference_;
};

class ModifyProcessInstanceCommand
    : public Command<ModifyProcessInstanceCommand, ModifyProcessInstanceResponse> {
  TERN_COMMAND_BOILERPLATE(ModifyProcessInstanceCommand, ModifyProcessInstanceResponse)
  // Activates the element; the engine picks the flow scope instance.
  ModifyProcessInstanceCommand& activateElement(std::string element_id);
  // Activates the element inside the given ancestor element instance.
  ModifyProcessInstanceCommand& activateElement(std::string element_id,
                                                int64_t ancestor_element_instance_key);
  // Variables for the last activateElement(), in the scope of `scope_id` (an element id; empty
  // means the process instance). send() fails with INVALID_ARGUMENT when no element was
  // activated before.
  ModifyProcessInstanceCommand& withVariables(nlohmann::json document, std::string scope_id = "");
  ModifyProcessInstanceCommand& terminateElement(int64_t element_instance_key);
  ModifyProcessInstanceCommand& operationReference(uint64_t reference);

 private:
  struct Activate {
    std::string element_id;
    int64_t ancestor_key = -1;
    std::vector<std::pair<std::string, std::string>> variables;  // scope id, JSON text
  };
  int64_t process_instance_key_ = 0;
  std::vector<Activate> activate_;
  std::vector<int64_t> terminate_;
  std::optional<uint64_t> operation_reference_;
  std::optional<Status> error_;
};

class MigrateProcessInstanceCommand
    : public Command<MigrateProcessInstanceCommand, MigrateProcessInstanceResponse> {
  TERN_COMMAND_BOILERPLATE(MigrateProcessInstanceCommand, MigrateProcessInstanceResponse)
  MigrateProcessInstanceCommand& migrationPlan(int64_t target_process_definition_key);
  MigrateProcessInstanceCommand& addMappingInstruction(std::string source_element_id,
                                                       std::string target_element_id);
  MigrateProcessInstanceCommand& operationReference(uint64_t reference);

 private:
  int64_t process_instance_key_ = 0;
  int64_t target_process_definition_key_ = 0;
  std::vector<std::pair<std::string, std::string>> mappings_;
  std::optional<uint64_t> operation_reference_;
};

class SetVariablesCommand : public Command<SetVariablesCommand, SetVariablesResponse> {
  TERN_COMMAND_BOILERPLATE(SetVariablesCommand, SetVariablesResponse)
  SetVariablesCommand& variables(nlohmann::json document);
  SetVariablesCommand& variablesJson(std::string text);
  SetVariablesCommand& variable(const std::string& name, nlohmann::json value);
  // true: set the variables in this scope only, without propagating them to parent scopes.
  SetVariablesCommand& local(bool local);
  SetVariablesCommand& operationReference(uint64_t reference);

 private:
  int64_t element_instance_key_ = 0;
  internal::VariablesField variables_;
  bool local_ = false;
  std::optional<uint64_t> operation_reference_;
};

class ResolveIncidentCommand : public Command<ResolveIncidentCommand, ResolveIncidentResponse> {
  TERN_COMMAND_BOILERPLATE(ResolveIncidentCommand, ResolveIncidentResponse)
  ResolveIncidentCommand& operationReference(uint64_t reference);

 private:
  int64_t incident_key_ = 0;
  std::optional<uint64_t> operation_reference_;
};

// --- Messages, signals, decisions -----------------------------------------------------------

class PublishMessageCommand : public Command<PublishMessageCommand, PublishMessageResponse> {
  TERN_COMMAND_BOILERPLATE(PublishMessageCommand, PublishMessageResponse)
  PublishMessageCommand& messageName(std::string name);
  PublishMessageCommand& correlationKey(std::string key);
  PublishMessageCommand& timeToLive(std::chrono::milliseconds ttl);
  PublishMessageCommand& messageId(std::string id);
  PublishMessageCommand& variables(nlohmann::json document);
  PublishMessageCommand& variablesJson(std::string text);
  PublishMessageCommand& variable(const std::string& name, nlohmann::json value);
  PublishMessageCommand& tenantId(std::string tenant_id);

 private:
  std::string name_;
  std::string correlation_key_;
  int64_t time_to_live_ms_ = 3'600'000;  // one hour, as Zeebe's clients default
  std::string message_id_;
  internal::VariablesField variables_;
  std::string tenant_id_;
};

class BroadcastSignalCommand : public Command<BroadcastSignalCommand, BroadcastSignalResponse> {
  TERN_COMMAND_BOILERPLATE(BroadcastSignalCommand, BroadcastSignalResponse)
  BroadcastSignalCommand& signalName(std::string name);
  BroadcastSignalCommand& variables(nlohmann::json document);
  BroadcastSignalCommand& variablesJson(std::string text);
  BroadcastSignalCommand& variable(const std::string& name, nlohmann::json value);
  BroadcastSignalCommand& tenantId(std::string tenant_id);

 private:
  std::string signal_name_;
  internal::VariablesField variables_;
  std::string tenant_id_;
};

class EvaluateDecisionCommand : public Command<EvaluateDecisionCommand, EvaluateDecisionResponse> {
  TERN_COMMAND_BOILERPLATE(EvaluateDecisionCommand, EvaluateDecisionResponse)
  // The latest version of the decision with this id (wins over decisionKey).
  EvaluateDecisionCommand& decisionId(std::string id);
  EvaluateDecisionCommand& decisionKey(int64_t key);
  EvaluateDecisionCommand& variables(nlohmann::json document);
  EvaluateDecisionCommand& variablesJson(std::string text);
  EvaluateDecisionCommand& variable(const std::string& name, nlohmann::json value);
  EvaluateDecisionCommand& tenantId(std::string tenant_id);

 private:
  std::string decision_id_;
  int64_t decision_key_ = 0;
  internal::VariablesField variables_;
  std::string tenant_id_;
};

// --- Jobs -----------------------------------------------------------------------------------

// Activates up to maxJobsToActivate jobs. requestTimeout() is the long-polling timeout: when no
// job is available the gateway waits that long for one (default: the client's request timeout;
// a negative value returns at once). The call's deadline is that plus a margin.
class ActivateJobsCommand : public Command<ActivateJobsCommand, ActivateJobsResponse> {
  TERN_COMMAND_BOILERPLATE(ActivateJobsCommand, ActivateJobsResponse)
  ActivateJobsCommand& jobType(std::string type);
  ActivateJobsCommand& maxJobsToActivate(int32_t max);
  // How long the activated jobs are locked for this worker (default: the client's job timeout).
  ActivateJobsCommand& timeout(std::chrono::milliseconds timeout);
  ActivateJobsCommand& workerName(std::string name);
  ActivateJobsCommand& fetchVariables(std::vector<std::string> names);
  ActivateJobsCommand& tenantId(std::string tenant_id);
  ActivateJobsCommand& tenantIds(std::vector<std::string> tenant_ids);

 private:
  std::string type_;
  int32_t max_jobs_ = 32;
  std::optional<std::chrono::milliseconds> job_timeout_;
  std::optional<std::string> worker_;
  std::vector<std::string> fetch_variables_;
  std::vector<std::string> tenant_ids_;
};

class CompleteJobCommand : public Command<CompleteJobCommand, CompleteJobResponse> {
  TERN_COMMAND_BOILERPLATE(CompleteJobCommand, CompleteJobResponse)
  CompleteJobCommand& variables(nlohmann::json document);
  CompleteJobCommand& variablesJson(std::string text);
  CompleteJobCommand& variable(const std::string& name, nlohmann::json value);

 private:
  int64_t job_key_ = 0;
  internal::VariablesField variables_;
};

class FailJobCommand : public Command<FailJobCommand, FailJobResponse> {
  TERN_COMMAND_BOILERPLATE(FailJobCommand, FailJobResponse)
  // Remaining retries; 0 or less raises an incident.
  FailJobCommand& retries(int32_t retries);
  FailJobCommand& errorMessage(std::string message);
  // How long the job waits before it can be activated again.
  FailJobCommand& retryBackoff(std::chrono::milliseconds backoff);
  FailJobCommand& variables(nlohmann::json document);
  FailJobCommand& variablesJson(std::string text);
  FailJobCommand& variable(const std::string& name, nlohmann::json value);

 private:
  int64_t job_key_ = 0;
  int32_t retries_ = 0;
  std::string error_message_;
  int64_t retry_backoff_ms_ = 0;
  internal::VariablesField variables_;
};

class ThrowErrorCommand : public Command<ThrowErrorCommand, ThrowErrorResponse> {
  TERN_COMMAND_BOILERPLATE(ThrowErrorCommand, ThrowErrorResponse)
  ThrowErrorCommand& errorCode(std::string code);
  ThrowErrorCommand& errorMessage(std::string message);
  ThrowErrorCommand& variables(nlohmann::json document);
  ThrowErrorCommand& variablesJson(std::string text);
  ThrowErrorCommand& variable(const std::string& name, nlohmann::json value);

 private:
  int64_t job_key_ = 0;
  std::string error_code_;
  std::string error_message_;
  internal::VariablesField variables_;
};

class UpdateRetriesJobCommand : public Command<UpdateRetriesJobCommand, UpdateRetriesJobResponse> {
  TERN_COMMAND_BOILERPLATE(UpdateRetriesJobCommand, UpdateRetriesJobResponse)
  UpdateRetriesJobCommand& retries(int32_t retries);
  UpdateRetriesJobCommand& operationReference(uint64_t reference);

 private:
  int64_t job_key_ = 0;
  int32_t retries_ = 0;
  std::optional<uint64_t> operation_reference_;
};

class UpdateTimeoutJobCommand : public Command<UpdateTimeoutJobCommand, UpdateTimeoutJobResponse> {
  TERN_COMMAND_BOILERPLATE(UpdateTimeoutJobCommand, UpdateTimeoutJobResponse)
  // The job's new lock duration, counted from now.
  UpdateTimeoutJobCommand& timeout(std::chrono::milliseconds timeout);
  UpdateTimeoutJobCommand& operationReference(uint64_t reference);

 private:
  int64_t job_key_ = 0;
  int64_t timeout_ms_ = 0;
  std::optional<uint64_t> operation_reference_;
};

#undef TERN_COMMAND_BOILERPLATE

// A running StreamActivatedJobs call. Dropping the handle cancels the stream.
class JobStream {
 public:
  JobStream(JobStream&&) noexcept;
  JobStream& operator=(JobStream&&) noexcept;
  ~JobStream();

  // Ends the stream (jobs the gateway pushed afterwards are given back by the gateway).
  void cancel();
  // Waits until the stream ended: a StreamJobsResponse after cancel(), the error otherwise.
  Result<StreamJobsResponse> get();
  // True when the stream ended within `timeout`.
  bool waitFor(std::chrono::milliseconds timeout);

 private:
  friend class StreamJobsCommand;
  explicit JobStream(std::shared_ptr<internal::JobStreamState> state);
  std::shared_ptr<internal::JobStreamState> state_;
};

// Opens a job stream: the gateway pushes every job of the type that becomes activatable after
// the stream opened (jobs that were already waiting are not pushed: poll for those). The
// consumer runs on the client's callback threads.
class StreamJobsCommand {
 public:
  StreamJobsCommand& jobType(std::string type);
  StreamJobsCommand& workerName(std::string name);
  StreamJobsCommand& timeout(std::chrono::milliseconds timeout);
  StreamJobsCommand& fetchVariables(std::vector<std::string> names);
  StreamJobsCommand& tenantId(std::string tenant_id);
  StreamJobsCommand& tenantIds(std::vector<std::string> tenant_ids);
  StreamJobsCommand& consumer(std::function<void(ActivatedJob)> consumer);
  // Opens the stream; it stays open until cancelled or the gateway ends it.
  JobStream send() const;

 private:
  friend class Client;
  explicit StreamJobsCommand(std::shared_ptr<internal::ClientCore> core) : core_(std::move(core)) {}
  std::shared_ptr<internal::ClientCore> core_;
  std::string type_;
  std::optional<std::string> worker_;
  std::optional<std::chrono::milliseconds> job_timeout_;
  std::vector<std::string> fetch_variables_;
  std::vector<std::string> tenant_ids_;
  std::function<void(ActivatedJob)> consumer_;
};

}  // namespace tern
