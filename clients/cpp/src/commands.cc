// Setters of the fluent commands and how each one is sent.

#include <fstream>
#include <sstream>

#include "core.h"

namespace tern {

using internal::AsyncUnary;
using internal::CommandOptions;
using internal::Deliver;
using internal::Stub;
using internal::UnaryCall;
namespace gp = ::gateway_protocol;

namespace {

std::chrono::milliseconds TimeoutOf(const CommandOptions& options) {
  return options.timeout.value_or(options.core->config().request_timeout);
}

// Sends a unary request; converts the response with `convert` and delivers the result.
template <typename R, typename Req, typename Resp, typename Convert>
void SendUnary(const CommandOptions& options, AsyncUnary<Req, Resp> method, Req request,
               Convert convert, std::function<void(Result<R>)> callback, CallbackThread thread,
               std::chrono::milliseconds timeout) {
  auto core = options.core;
  auto observer = options.observer;
  if (observer) observer->OnSend();
  UnaryCall<Req, Resp>::Start(core, method, std::move(request), timeout,
                              [core, observer, callback = std::move(callback), thread, convert](
                                  const Status& status, Resp& response) mutable {
                                if (observer) observer->OnDone(status);
                                if (!status.ok()) {
                                  Deliver<R>(*core, thread, std::move(callback), Result<R>(status));
                                } else {
                                  Deliver<R>(*core, thread, std::move(callback),
                                             Result<R>(convert(response)));
                                }
                              });
}

template <typename R, typename Req, typename Resp, typename Convert>
void SendUnary(const CommandOptions& options, AsyncUnary<Req, Resp> method, Req request,
               Convert convert, std::function<void(Result<R>)> callback, CallbackThread thread) {
  SendUnary<R>(options, method, std::move(request), convert, std::move(callback), thread,
               TimeoutOf(options));
}

// Fails a command before anything is sent.
template <typename R>
void FailEarly(const CommandOptions& options, Status status,
               std::function<void(Result<R>)> callback, CallbackThread thread) {
  if (options.observer) {
    options.observer->OnSend();
    options.observer->OnDone(status);
  }
  Deliver<R>(*options.core, thread, std::move(callback), Result<R>(std::move(status)));
}

template <typename R>
auto Empty() {
  return [](auto&) { return R{}; };
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(StatusCode::kInvalidArgument, "cannot read resource file '" + path + "'");
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    return Status(StatusCode::kInvalidArgument, "cannot read resource file '" + path + "'");
  }
  return content.str();
}

template <typename Repeated>
void AddAll(Repeated* field, const std::vector<std::string>& values) {
  for (const auto& value : values) *field->Add() = value;
}

}  // namespace

namespace internal {
std::string VariablesField::Serialize() const {
  if (text_) return *text_;
  if (document_.is_null()) return "";
  // Invalid UTF-8 in strings is replaced rather than thrown about.
  return document_.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace internal

// --- Topology -------------------------------------------------------------------------------

void TopologyRequest::Dispatch(std::function<void(Result<Topology>)> callback,
                               CallbackThread thread) const {
  SendUnary<Topology>(options_, &Stub::async::Topology, gp::TopologyRequest(), internal::ToTopology,
                      std::move(callback), thread);
}

// --- Deployments ----------------------------------------------------------------------------

DeployResourceCommand& DeployResourceCommand::addResourceFile(const std::string& path) {
  auto content = ReadFile(path);
  if (!content.ok()) {
    if (!error_) error_ = content.status();
  } else {
    resources_.emplace_back(path, std::move(*content));
  }
  return *this;
}

DeployResourceCommand& DeployResourceCommand::addResourceString(std::string content,
                                                                std::string name) {
  resources_.emplace_back(std::move(name), std::move(content));
  return *this;
}

DeployResourceCommand& DeployResourceCommand::tenantId(std::string tenant_id) {
  tenant_id_ = std::move(tenant_id);
  return *this;
}

void DeployResourceCommand::Dispatch(std::function<void(Result<DeploymentEvent>)> callback,
                                     CallbackThread thread) const {
  if (error_) return FailEarly(options_, *error_, std::move(callback), thread);
  gp::DeployResourceRequest request;
  for (const auto& [name, content] : resources_) {
    auto* resource = request.add_resources();
    resource->set_name(name);
    resource->set_content(content);
  }
  request.set_tenantid(tenant_id_.empty() ? options_.core->config().tenant_id : tenant_id_);
  SendUnary<DeploymentEvent>(options_, &Stub::async::DeployResource, std::move(request),
                             internal::ToDeploymentEvent, std::move(callback), thread);
}

DeployProcessCommand& DeployProcessCommand::addResourceFile(const std::string& path) {
  auto content = ReadFile(path);
  if (!content.ok()) {
    if (!error_) error_ = content.status();
  } else {
    resources_.emplace_back(path, std::move(*content));
  }
  return *this;
}

DeployProcessCommand& DeployProcessCommand::addResourceString(std::string content,
                                                              std::string name) {
  resources_.emplace_back(std::move(name), std::move(content));
  return *this;
}

void DeployProcessCommand::Dispatch(std::function<void(Result<DeployProcessResponse>)> callback,
                                    CallbackThread thread) const {
  if (error_) return FailEarly(options_, *error_, std::move(callback), thread);
  gp::DeployProcessRequest request;
  for (const auto& [name, content] : resources_) {
    auto* process = request.add_processes();
    process->set_name(name);
    process->set_definition(content);
  }
  SendUnary<DeployProcessResponse>(options_, &Stub::async::DeployProcess, std::move(request),
                                   internal::ToDeployProcessResponse, std::move(callback), thread);
}

DeleteResourceCommand& DeleteResourceCommand::operationReference(uint64_t reference) {
  operation_reference_ = reference;
  return *this;
}

void DeleteResourceCommand::Dispatch(std::function<void(Result<DeleteResourceResponse>)> callback,
                                     CallbackThread thread) const {
  gp::DeleteResourceRequest request;
  request.set_resourcekey(resource_key_);
  if (operation_reference_) request.set_operationreference(*operation_reference_);
  SendUnary<DeleteResourceResponse>(options_, &Stub::async::DeleteResource, std::move(request),
                                    Empty<DeleteResourceResponse>(), std::move(callback), thread);
}

// --- Process instances ----------------------------------------------------------------------

CreateProcessInstanceCommand& CreateProcessInstanceCommand::bpmnProcessId(std::string id) {
  bpmn_process_id_ = std::move(id);
  return *this;
}
CreateProcessInstanceCommand& CreateProcessInstanceCommand::processDefinitionKey(int64_t key) {
  process_definition_key_ = key;
  return *this;
}
CreateProcessInstanceCommand& CreateProcessInstanceCommand::version(int32_t version) {
  version_ = version;
  return *this;
}
CreateProcessInstanceCommand& CreateProcessInstanceCommand::latestVersion() {
  version_ = -1;
  return *this;
}
CreateProcessInstanceCommand& CreateProcessInstanceCommand::variables(nlohmann::json document) {
  variables_.Set(std::move(document));
  return *this;
}
CreateProcessInstanceCommand& CreateProcessInstanceCommand::variablesJson(std::string text) {
  variables_.SetText(std::move(text));
  return *this;
}
CreateProcessInstanceCommand& CreateProcessInstanceCommand::variable(const std::string& name,
                                                                     nlohmann::json value) {
  variables_.Put(name, std::move(value));
  return *this;
}
CreateProcessInstanceCommand& CreateProcessInstanceCommand::startBeforeElement(
    std::string element_id) {
  start_before_.push_back(std::move(element_id));
  return *this;
}
CreateProcessInstanceCommand& CreateProcessInstanceCommand::tenantId(std::string tenant_id) {
  tenant_id_ = std::move(tenant_id);
  return *this;
}
CreateProcessInstanceCommand& CreateProcessInstanceCommand::operationReference(uint64_t reference) {
  operation_reference_ = reference;
  return *this;
}

CreateProcessInstanceWithResultCommand CreateProcessInstanceCommand::withResult() const {
  CreateProcessInstanceWithResultCommand command(options_);
  command.create_ = std::make_shared<const CreateProcessInstanceCommand>(*this);
  return command;
}

namespace {
gp::CreateProcessInstanceRequest CreateRequest(const std::string& bpmn_process_id,
                                               int64_t process_definition_key, int32_t version,
                                               const internal::VariablesField& variables,
                                               const std::vector<std::string>& start_before,
                                               const std::string& tenant_id,
                                               std::optional<uint64_t> operation_reference,
                                               const std::string& default_tenant) {
  gp::CreateProcessInstanceRequest request;
  request.set_bpmnprocessid(bpmn_process_id);
  request.set_processdefinitionkey(process_definition_key);
  request.set_version(version);
  request.set_variables(variables.Serialize());
  for (const auto& element : start_before) request.add_startinstructions()->set_elementid(element);
  request.set_tenantid(tenant_id.empty() ? default_tenant : tenant_id);
  if (operation_reference) request.set_operationreference(*operation_reference);
  return request;
}
}  // namespace

void CreateProcessInstanceCommand::Dispatch(
    std::function<void(Result<ProcessInstanceEvent>)> callback, CallbackThread thread) const {
  auto request =
      CreateRequest(bpmn_process_id_, process_definition_key_, version_, variables_, start_before_,
                    tenant_id_, operation_reference_, options_.core->config().tenant_id);
  SendUnary<ProcessInstanceEvent>(options_, &Stub::async::CreateProcessInstance, std::move(request),
                                  internal::ToProcessInstanceEvent, std::move(callback), thread);
}

CreateProcessInstanceWithResultCommand& CreateProcessInstanceWithResultCommand::fetchVariables(
    std::vector<std::string> names) {
  fetch_variables_ = std::move(names);
  return *this;
}

void CreateProcessInstanceWithResultCommand::Dispatch(
    std::function<void(Result<ProcessInstanceResult>)> callback, CallbackThread thread) const {
  const auto& c = *create_;
  gp::CreateProcessInstanceWithResultRequest request;
  *request.mutable_request() = CreateRequest(
      c.bpmn_process_id_, c.process_definition_key_, c.version_, c.variables_, c.start_before_,
      c.tenant_id_, c.operation_reference_, options_.core->config().tenant_id);
  auto timeout = TimeoutOf(options_);
  request.set_requesttimeout(timeout.count());
  AddAll(request.mutable_fetchvariables(), fetch_variables_);
  // The gateway answers DEADLINE_EXCEEDED itself when the instance does not complete in time;
  // the call's deadline leaves it a second to say so.
  SendUnary<ProcessInstanceResult>(options_, &Stub::async::CreateProcessInstanceWithResult,
                                   std::move(request), internal::ToProcessInstanceResult,
                                   std::move(callback), thread, timeout + std::chrono::seconds(1));
}

CancelProcessInstanceCommand& CancelProcessInstanceCommand::operationReference(uint64_t reference) {
  operation_reference_ = reference;
  return *this;
}

void CancelProcessInstanceCommand::Dispatch(
    std::function<void(Result<CancelProcessInstanceResponse>)> callback,
    CallbackThread thread) const {
  gp::CancelProcessInstanceRequest request;
  request.set_processinstancekey(process_instance_key_);
  if (operation_reference_) request.set_operationreference(*operation_reference_);
  SendUnary<CancelProcessInstanceResponse>(
      options_, &Stub::async::CancelProcessInstance, std::move(request),
      Empty<CancelProcessInstanceResponse>(), std::move(callback), thread);
}

ModifyProcessInstanceCommand& ModifyProcessInstanceCommand::activateElement(
    std::string element_id) {
  return activateElement(std::move(element_id), -1);
}

ModifyProcessInstanceCommand& ModifyProcessInstanceCommand::activateElement(
    std::string element_id, int64_t ancestor_element_instance_key) {
  activate_.push_back({std::move(element_id), ancestor_element_instance_key, {}});
  return *this;
}

ModifyProcessInstanceCommand& ModifyProcessInstanceCommand::withVariables(nlohmann::json document,
                                                                          std::string scope_id) {
  if (activate_.empty()) {
    if (!error_) {
      error_ = Status(StatusCode::kInvalidArgument,
                      "withVariables() needs an activateElement() before it");
    }
    return *this;
  }
  internal::VariablesField field;
  field.Set(std::move(document));
  activate_.back().variables.emplace_back(std::move(scope_id), field.Serialize());
  return *this;
}

ModifyProcessInstanceCommand& ModifyProcessInstanceCommand::terminateElement(
    int64_t element_instance_key) {
  terminate_.push_back(element_instance_key);
  return *this;
}

ModifyProcessInstanceCommand& ModifyProcessInstanceCommand::operationReference(uint64_t reference) {
  operation_reference_ = reference;
  return *this;
}

void ModifyProcessInstanceCommand::Dispatch(
    std::function<void(Result<ModifyProcessInstanceResponse>)> callback,
    CallbackThread thread) const {
  if (error_) return FailEarly(options_, *error_, std::move(callback), thread);
  gp::ModifyProcessInstanceRequest request;
  request.set_processinstancekey(process_instance_key_);
  for (const auto& activate : activate_) {
    auto* instruction = request.add_activateinstructions();
    instruction->set_elementid(activate.element_id);
    instruction->set_ancestorelementinstancekey(activate.ancestor_key);
    for (const auto& [scope, variables] : activate.variables) {
      auto* v = instruction->add_variableinstructions();
      v->set_scopeid(scope);
      v->set_variables(variables);
    }
  }
  for (int64_t key : terminate_) request.add_terminateinstructions()->set_elementinstancekey(key);
  if (operation_reference_) request.set_operationreference(*operation_reference_);
  SendUnary<ModifyProcessInstanceResponse>(
      options_, &Stub::async::ModifyProcessInstance, std::move(request),
      Empty<ModifyProcessInstanceResponse>(), std::move(callback), thread);
}

MigrateProcessInstanceCommand& MigrateProcessInstanceCommand::migrationPlan(
    int64_t target_process_definition_key) {
  target_process_definition_key_ = target_process_definition_key;
  return *this;
}

MigrateProcessInstanceCommand& MigrateProcessInstanceCommand::addMappingInstruction(
    std::string source_element_id, std::string target_element_id) {
  mappings_.emplace_back(std::move(source_element_id), std::move(target_element_id));
  return *this;
}

MigrateProcessInstanceCommand& MigrateProcessInstanceCommand::operationReference(
    uint64_t reference) {
  operation_reference_ = reference;
  return *this;
}

void MigrateProcessInstanceCommand::Dispatch(
    std::function<void(Result<MigrateProcessInstanceResponse>)> callback,
    CallbackThread thread) const {
  gp::MigrateProcessInstanceRequest request;
  request.set_processinstancekey(process_instance_key_);
  auto* plan = request.mutable_migrationplan();
  plan->set_targetprocessdefinitionkey(target_process_definition_key_);
  for (const auto& [source, target] : mappings_) {
    auto* mapping = plan->add_mappinginstructions();
    mapping->set_sourceelementid(source);
    mapping->set_targetelementid(target);
  }
  if (operation_reference_) request.set_operationreference(*operation_reference_);
  SendUnary<MigrateProcessInstanceResponse>(
      options_, &Stub::async::MigrateProcessInstance, std::move(request),
      Empty<MigrateProcessInstanceResponse>(), std::move(callback), thread);
}

SetVariablesCommand& SetVariablesCommand::variables(nlohmann::json document) {
  variables_.Set(std::move(document));
  return *this;
}
SetVariablesCommand& SetVariablesCommand::variablesJson(std::string text) {
  variables_.SetText(std::move(text));
  return *this;
}
SetVariablesCommand& SetVariablesCommand::variable(const std::string& name, nlohmann::json value) {
  variables_.Put(name, std::move(value));
  return *this;
}
SetVariablesCommand& SetVariablesCommand::local(bool local) {
  local_ = local;
  return *this;
}
SetVariablesCommand& SetVariablesCommand::operationReference(uint64_t reference) {
  operation_reference_ = reference;
  return *this;
}

void SetVariablesCommand::Dispatch(std::function<void(Result<SetVariablesResponse>)> callback,
                                   CallbackThread thread) const {
  gp::SetVariablesRequest request;
  request.set_elementinstancekey(element_instance_key_);
  request.set_variables(variables_.Serialize());
  request.set_local(local_);
  if (operation_reference_) request.set_operationreference(*operation_reference_);
  SendUnary<SetVariablesResponse>(
      options_, &Stub::async::SetVariables, std::move(request),
      [](const gp::SetVariablesResponse& r) { return SetVariablesResponse{r.key()}; },
      std::move(callback), thread);
}

ResolveIncidentCommand& ResolveIncidentCommand::operationReference(uint64_t reference) {
  operation_reference_ = reference;
  return *this;
}

void ResolveIncidentCommand::Dispatch(std::function<void(Result<ResolveIncidentResponse>)> callback,
                                      CallbackThread thread) const {
  gp::ResolveIncidentRequest request;
  request.set_incidentkey(incident_key_);
  if (operation_reference_) request.set_operationreference(*operation_reference_);
  SendUnary<ResolveIncidentResponse>(options_, &Stub::async::ResolveIncident, std::move(request),
                                     Empty<ResolveIncidentResponse>(), std::move(callback), thread);
}

// --- Messages, signals, decisions -----------------------------------------------------------

PublishMessageCommand& PublishMessageCommand::messageName(std::string name) {
  name_ = std::move(name);
  return *this;
}
PublishMessageCommand& PublishMessageCommand::correlationKey(std::string key) {
  correlation_key_ = std::move(key);
  return *this;
}
PublishMessageCommand& PublishMessageCommand::timeToLive(std::chrono::milliseconds ttl) {
  time_to_live_ms_ = ttl.count();
  return *this;
}
PublishMessageCommand& PublishMessageCommand::messageId(std::string id) {
  message_id_ = std::move(id);
  return *this;
}
PublishMessageCommand& PublishMessageCommand::variables(nlohmann::json document) {
  variables_.Set(std::move(document));
  return *this;
}
PublishMessageCommand& PublishMessageCommand::variablesJson(std::string text) {
  variables_.SetText(std::move(text));
  return *this;
}
PublishMessageCommand& PublishMessageCommand::variable(const std::string& name,
                                                       nlohmann::json value) {
  variables_.Put(name, std::move(value));
  return *this;
}
PublishMessageCommand& PublishMessageCommand::tenantId(std::string tenant_id) {
  tenant_id_ = std::move(tenant_id);
  return *this;
}

void PublishMessageCommand::Dispatch(std::function<void(Result<PublishMessageResponse>)> callback,
                                     CallbackThread thread) const {
  gp::PublishMessageRequest request;
  request.set_name(name_);
  request.set_correlationkey(correlation_key_);
  request.set_timetolive(time_to_live_ms_);
  request.set_messageid(message_id_);
  request.set_variables(variables_.Serialize());
  request.set_tenantid(tenant_id_.empty() ? options_.core->config().tenant_id : tenant_id_);
  SendUnary<PublishMessageResponse>(
      options_, &Stub::async::PublishMessage, std::move(request),
      [](const gp::PublishMessageResponse& r) {
        return PublishMessageResponse{r.key(), r.tenantid()};
      },
      std::move(callback), thread);
}

BroadcastSignalCommand& BroadcastSignalCommand::signalName(std::string name) {
  signal_name_ = std::move(name);
  return *this;
}
BroadcastSignalCommand& BroadcastSignalCommand::variables(nlohmann::json document) {
  variables_.Set(std::move(document));
  return *this;
}
BroadcastSignalCommand& BroadcastSignalCommand::variablesJson(std::string text) {
  variables_.SetText(std::move(text));
  return *this;
}
BroadcastSignalCommand& BroadcastSignalCommand::variable(const std::string& name,
                                                         nlohmann::json value) {
  variables_.Put(name, std::move(value));
  return *this;
}
BroadcastSignalCommand& BroadcastSignalCommand::tenantId(std::string tenant_id) {
  tenant_id_ = std::move(tenant_id);
  return *this;
}

void BroadcastSignalCommand::Dispatch(std::function<void(Result<BroadcastSignalResponse>)> callback,
                                      CallbackThread thread) const {
  gp::BroadcastSignalRequest request;
  request.set_signalname(signal_name_);
  request.set_variables(variables_.Serialize());
  request.set_tenantid(tenant_id_.empty() ? options_.core->config().tenant_id : tenant_id_);
  SendUnary<BroadcastSignalResponse>(
      options_, &Stub::async::BroadcastSignal, std::move(request),
      [](const gp::BroadcastSignalResponse& r) {
        return BroadcastSignalResponse{r.key(), r.tenantid()};
      },
      std::move(callback), thread);
}

EvaluateDecisionCommand& EvaluateDecisionCommand::decisionId(std::string id) {
  decision_id_ = std::move(id);
  return *this;
}
EvaluateDecisionCommand& EvaluateDecisionCommand::decisionKey(int64_t key) {
  decision_key_ = key;
  return *this;
}
EvaluateDecisionCommand& EvaluateDecisionCommand::variables(nlohmann::json document) {
  variables_.Set(std::move(document));
  return *this;
}
EvaluateDecisionCommand& EvaluateDecisionCommand::variablesJson(std::string text) {
  variables_.SetText(std::move(text));
  return *this;
}
EvaluateDecisionCommand& EvaluateDecisionCommand::variable(const std::string& name,
                                                           nlohmann::json value) {
  variables_.Put(name, std::move(value));
  return *this;
}
EvaluateDecisionCommand& EvaluateDecisionCommand::tenantId(std::string tenant_id) {
  tenant_id_ = std::move(tenant_id);
  return *this;
}

void EvaluateDecisionCommand::Dispatch(
    std::function<void(Result<EvaluateDecisionResponse>)> callback, CallbackThread thread) const {
  gp::EvaluateDecisionRequest request;
  request.set_decisionid(decision_id_);
  request.set_decisionkey(decision_key_);
  request.set_variables(variables_.Serialize());
  request.set_tenantid(tenant_id_.empty() ? options_.core->config().tenant_id : tenant_id_);
  SendUnary<EvaluateDecisionResponse>(options_, &Stub::async::EvaluateDecision, std::move(request),
                                      internal::ToEvaluateDecisionResponse, std::move(callback),
                                      thread);
}

// --- Jobs -----------------------------------------------------------------------------------

CompleteJobCommand& CompleteJobCommand::variables(nlohmann::json document) {
  variables_.Set(std::move(document));
  return *this;
}
CompleteJobCommand& CompleteJobCommand::variablesJson(std::string text) {
  variables_.SetText(std::move(text));
  return *this;
}
CompleteJobCommand& CompleteJobCommand::variable(const std::string& name, nlohmann::json value) {
  variables_.Put(name, std::move(value));
  return *this;
}

void CompleteJobCommand::Dispatch(std::function<void(Result<CompleteJobResponse>)> callback,
                                  CallbackThread thread) const {
  gp::CompleteJobRequest request;
  request.set_jobkey(job_key_);
  request.set_variables(variables_.Serialize());
  SendUnary<CompleteJobResponse>(options_, &Stub::async::CompleteJob, std::move(request),
                                 Empty<CompleteJobResponse>(), std::move(callback), thread);
}

FailJobCommand& FailJobCommand::retries(int32_t retries) {
  retries_ = retries;
  return *this;
}
FailJobCommand& FailJobCommand::errorMessage(std::string message) {
  error_message_ = std::move(message);
  return *this;
}
FailJobCommand& FailJobCommand::retryBackoff(std::chrono::milliseconds backoff) {
  retry_backoff_ms_ = backoff.count();
  return *this;
}
FailJobCommand& FailJobCommand::variables(nlohmann::json document) {
  variables_.Set(std::move(document));
  return *this;
}
FailJobCommand& FailJobCommand::variablesJson(std::string text) {
  variables_.SetText(std::move(text));
  return *this;
}
FailJobCommand& FailJobCommand::variable(const std::string& name, nlohmann::json value) {
  variables_.Put(name, std::move(value));
  return *this;
}

void FailJobCommand::Dispatch(std::function<void(Result<FailJobResponse>)> callback,
                              CallbackThread thread) const {
  gp::FailJobRequest request;
  request.set_jobkey(job_key_);
  request.set_retries(retries_);
  request.set_errormessage(error_message_);
  request.set_retrybackoff(retry_backoff_ms_);
  request.set_variables(variables_.Serialize());
  SendUnary<FailJobResponse>(options_, &Stub::async::FailJob, std::move(request),
                             Empty<FailJobResponse>(), std::move(callback), thread);
}

ThrowErrorCommand& ThrowErrorCommand::errorCode(std::string code) {
  error_code_ = std::move(code);
  return *this;
}
ThrowErrorCommand& ThrowErrorCommand::errorMessage(std::string message) {
  error_message_ = std::move(message);
  return *this;
}
ThrowErrorCommand& ThrowErrorCommand::variables(nlohmann::json document) {
  variables_.Set(std::move(document));
  return *this;
}
ThrowErrorCommand& ThrowErrorCommand::variablesJson(std::string text) {
  variables_.SetText(std::move(text));
  return *this;
}
ThrowErrorCommand& ThrowErrorCommand::variable(const std::string& name, nlohmann::json value) {
  variables_.Put(name, std::move(value));
  return *this;
}

void ThrowErrorCommand::Dispatch(std::function<void(Result<ThrowErrorResponse>)> callback,
                                 CallbackThread thread) const {
  gp::ThrowErrorRequest request;
  request.set_jobkey(job_key_);
  request.set_errorcode(error_code_);
  request.set_errormessage(error_message_);
  request.set_variables(variables_.Serialize());
  SendUnary<ThrowErrorResponse>(options_, &Stub::async::ThrowError, std::move(request),
                                Empty<ThrowErrorResponse>(), std::move(callback), thread);
}

UpdateRetriesJobCommand& UpdateRetriesJobCommand::retries(int32_t retries) {
  retries_ = retries;
  return *this;
}
UpdateRetriesJobCommand& UpdateRetriesJobCommand::operationReference(uint64_t reference) {
  operation_reference_ = reference;
  return *this;
}

void UpdateRetriesJobCommand::Dispatch(
    std::function<void(Result<UpdateRetriesJobResponse>)> callback, CallbackThread thread) const {
  gp::UpdateJobRetriesRequest request;
  request.set_jobkey(job_key_);
  request.set_retries(retries_);
  if (operation_reference_) request.set_operationreference(*operation_reference_);
  SendUnary<UpdateRetriesJobResponse>(options_, &Stub::async::UpdateJobRetries, std::move(request),
                                      Empty<UpdateRetriesJobResponse>(), std::move(callback),
                                      thread);
}

UpdateTimeoutJobCommand& UpdateTimeoutJobCommand::timeout(std::chrono::milliseconds timeout) {
  timeout_ms_ = timeout.count();
  return *this;
}
UpdateTimeoutJobCommand& UpdateTimeoutJobCommand::operationReference(uint64_t reference) {
  operation_reference_ = reference;
  return *this;
}

void UpdateTimeoutJobCommand::Dispatch(
    std::function<void(Result<UpdateTimeoutJobResponse>)> callback, CallbackThread thread) const {
  gp::UpdateJobTimeoutRequest request;
  request.set_jobkey(job_key_);
  request.set_timeout(timeout_ms_);
  if (operation_reference_) request.set_operationreference(*operation_reference_);
  SendUnary<UpdateTimeoutJobResponse>(options_, &Stub::async::UpdateJobTimeout, std::move(request),
                                      Empty<UpdateTimeoutJobResponse>(), std::move(callback),
                                      thread);
}

}  // namespace tern
