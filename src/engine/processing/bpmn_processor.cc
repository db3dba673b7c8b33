#include "engine/processing/bpmn_processor.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace tern::engine {
namespace {

using bpmn::ElementType;
using tern::state::ElementInstance;

bool IsState(const ElementInstance& instance, ProcessInstanceIntent intent) {
  return instance.state() == ToInt(intent);
}

bool IsTerminatingOrDone(const ElementInstance& instance) {
  return IsState(instance, ProcessInstanceIntent::kElementTerminating) ||
         IsState(instance, ProcessInstanceIntent::kElementTerminated) ||
         IsState(instance, ProcessInstanceIntent::kElementCompleted);
}

// Elements that complete as soon as they are activated.
bool PassesThrough(const bpmn::Element& element) {
  switch (element.type) {
    case ElementType::kStartEvent:
    case ElementType::kEndEvent:
    case ElementType::kManualTask:
    case ElementType::kTask:
    case ElementType::kIntermediateThrowEvent:
      return element.event_type == bpmn::EventType::kNone;
    default:
      return false;
  }
}

// Sets `value` at a dotted path (`a.b.c`) inside `document`, creating contexts on the way.
void SetAtPath(nlohmann::json& document, std::string_view path, nlohmann::json value) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    parts.emplace_back(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  nlohmann::json* node = &document;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    nlohmann::json& child = (*node)[parts[i]];
    if (!child.is_object()) child = nlohmann::json::object();
    node = &child;
  }
  (*node)[parts.back()] = std::move(value);
}

std::string DumpJson(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

BpmnProcessor::Target BpmnProcessor::Resolve(const record::ProcessInstanceRecord& value) {
  Target target;
  target.process = context_.processes().Get(value.process_definition_key());
  TERN_CHECK(target.process != nullptr, "unknown process ", value.process_definition_key());
  target.element = target.process->process->Find(value.element_id());
  TERN_CHECK(target.element != nullptr, "unknown element ", value.element_id());
  return target;
}

void BpmnProcessor::Process(const record::Record& command) {
  switch (static_cast<ProcessInstanceIntent>(command.intent())) {
    case ProcessInstanceIntent::kActivateElement:
      Activate(command);
      break;
    case ProcessInstanceIntent::kCompleteElement:
      Complete(command.key());
      break;
    case ProcessInstanceIntent::kTerminateElement:
      Terminate(command.key());
      break;
    case ProcessInstanceIntent::kCancel:
      Cancel(command);
      break;
    default:
      context_.Reject(record::INVALID_ARGUMENT,
                      tern::StrCat("Unexpected process instance command intent ",
                                   IntentName(record::PROCESS_INSTANCE, command.intent())));
  }
}

ElementInstance BpmnProcessor::Transition(ElementInstance instance, ProcessInstanceIntent intent) {
  context_.AppendEvent(instance.key(), intent, instance.record());
  instance.set_state(ToInt(intent));
  return instance;
}

void BpmnProcessor::StartProcessInstance(const DeployedProcess& process,
                                         int64_t process_instance_key,
                                         const VariableDocument& variables,
                                         const std::vector<std::string>& start_element_ids) {
  const bpmn::Element& root = process.process->root();
  record::ProcessInstanceRecord value;
  value.set_bpmn_process_id(process.bpmn_process_id);
  value.set_version(process.version);
  value.set_process_definition_key(process.key);
  value.set_process_instance_key(process_instance_key);
  value.set_element_id(root.id);
  value.set_flow_scope_key(-1);
  value.set_bpmn_element_type(static_cast<int32_t>(ElementType::kProcess));
  value.set_bpmn_event_type(static_cast<int32_t>(bpmn::EventType::kNone));
  value.set_parent_process_instance_key(-1);
  value.set_parent_element_instance_key(-1);
  value.set_tenant_id(process.tenant_id);

  context_.AppendEvent(process_instance_key, ProcessInstanceIntent::kElementActivating, value);
  variables_.MergeLocal(process_instance_key, variables);
  auto instance = context_.state().element_instances.Get(process_instance_key);
  TERN_CHECK(instance.has_value());
  ElementInstance activated = Transition(*instance, ProcessInstanceIntent::kElementActivated);

  if (start_element_ids.empty()) {
    TERN_CHECK(root.none_start_event != bpmn::kNoElement);
    ActivateChild(activated, process, process.process->at(root.none_start_event));
    return;
  }
  for (const auto& element_id : start_element_ids) {
    const bpmn::Element* element = process.process->Find(element_id);
    TERN_CHECK(element != nullptr);
    ActivateChild(activated, process, *element);
  }
}

void BpmnProcessor::ActivateChild(const ElementInstance& scope, const DeployedProcess& process,
                                  const bpmn::Element& element) {
  record::ProcessInstanceRecord value = scope.record();
  value.set_element_id(element.id);
  value.set_flow_scope_key(scope.key());
  value.set_bpmn_element_type(static_cast<int32_t>(element.type));
  value.set_bpmn_event_type(static_cast<int32_t>(element.event_type));
  value.set_parent_process_instance_key(scope.record().parent_process_instance_key());
  value.set_parent_element_instance_key(scope.record().parent_element_instance_key());
  (void)process;
  context_.FollowUp(
      MakeCommand(context_.NextKey(), ProcessInstanceIntent::kActivateElement, std::move(value)));
}

void BpmnProcessor::Activate(const record::Record& command) {
  const auto& value = command.process_instance();
  Target target = Resolve(value);
  if (auto existing = context_.state().element_instances.Get(command.key())) {
    // A retry after an incident: the instance is still activating.
    if (IsState(*existing, ProcessInstanceIntent::kElementActivating)) {
      OnActivating(*existing, target);
    }
    return;
  }
  auto scope = context_.state().element_instances.Get(value.flow_scope_key());
  if (!scope || IsTerminatingOrDone(*scope)) {
    // The scope was terminated while this activation was pending: the token is dropped.
    return;
  }
  context_.AppendEvent(command.key(), ProcessInstanceIntent::kElementActivating, value);
  auto instance = context_.state().element_instances.Get(command.key());
  TERN_CHECK(instance.has_value());
  OnActivating(*instance, target);
}

void BpmnProcessor::OnActivating(ElementInstance instance, const Target& target) {
  const bpmn::Element& element = *target.element;
  if (!ApplyInputMappings(instance, element)) return;

  switch (element.type) {
    case ElementType::kServiceTask:
      if (!CreateJob(instance, *target.process, element)) return;
      Transition(instance, ProcessInstanceIntent::kElementActivated);
      return;
    case ElementType::kExclusiveGateway: {
      const bpmn::Element* flow = ChooseExclusiveFlow(instance, target);
      if (flow == nullptr) return;
      instance = Transition(instance, ProcessInstanceIntent::kElementActivated);
      instance = Transition(instance, ProcessInstanceIntent::kElementCompleting);
      Transition(instance, ProcessInstanceIntent::kElementCompleted);
      TakeSequenceFlow(instance, *target.process, *flow);
      return;
    }
    case ElementType::kParallelGateway: {
      instance = Transition(instance, ProcessInstanceIntent::kElementActivated);
      instance = Transition(instance, ProcessInstanceIntent::kElementCompleting);
      Transition(instance, ProcessInstanceIntent::kElementCompleted);
      TakeOutgoingFlows(instance, target);
      return;
    }
    default:
      break;
  }
  if (PassesThrough(element)) {
    Transition(instance, ProcessInstanceIntent::kElementActivated);
    context_.FollowUp(MakeCommand(instance.key(), ProcessInstanceIntent::kCompleteElement,
                                  instance.record()));
    return;
  }
  // The deployment validator admits only elements the engine executes.
  TERN_UNREACHABLE("element type ", bpmn::ElementTypeName(element.type), " is not executable");
}

void BpmnProcessor::Complete(int64_t key) {
  auto instance = context_.state().element_instances.Get(key);
  if (!instance) return;
  if (IsState(*instance, ProcessInstanceIntent::kElementActivated)) {
    instance = Transition(*instance, ProcessInstanceIntent::kElementCompleting);
  } else if (!IsState(*instance, ProcessInstanceIntent::kElementCompleting)) {
    // Terminating, or completed by an earlier command: nothing to do.
    return;
  }
  OnCompleting(*instance, Resolve(instance->record()));
}

void BpmnProcessor::OnCompleting(ElementInstance instance, const Target& target) {
  if (!ApplyOutputMappings(instance, *target.element)) return;
  if (target.element->type == ElementType::kProcess) {
    CompleteProcessInstance(instance);
    return;
  }
  instance = Transition(instance, ProcessInstanceIntent::kElementCompleted);
  TakeOutgoingFlows(instance, target);
}

void BpmnProcessor::CompleteProcessInstance(const ElementInstance& instance) {
  auto awaited = context_.state().awaited_results.Get(instance.key());
  std::string result_variables;
  if (awaited) {
    std::vector<std::string> names(awaited->fetch_variables().begin(),
                                   awaited->fetch_variables().end());
    result_variables = variables_.CollectLocal(instance.key(), names);
  }
  Transition(instance, ProcessInstanceIntent::kElementCompleted);
  if (awaited) {
    record::Record answer;
    answer.set_record_type(record::EVENT);
    answer.set_key(instance.key());
    answer.set_intent(ToInt(ProcessInstanceResultIntent::kCompleted));
    answer.set_timestamp(context_.timestamp());
    answer.set_partition_id(context_.partition_id());
    record::ProcessInstanceResultRecord result;
    result.set_bpmn_process_id(instance.record().bpmn_process_id());
    result.set_version(instance.record().version());
    result.set_process_definition_key(instance.record().process_definition_key());
    result.set_process_instance_key(instance.key());
    result.set_variables(result_variables);
    result.set_tenant_id(instance.record().tenant_id());
    SetValue(answer, std::move(result));
    context_.RespondTo(awaited->request_stream_id(), awaited->request_id(), std::move(answer));
  }
}

void BpmnProcessor::TakeOutgoingFlows(const ElementInstance& completed, const Target& target) {
  const bpmn::Element& element = *target.element;
  if (element.outgoing.empty()) {
    OnChildFinished(completed.record().flow_scope_key());
    return;
  }
  for (bpmn::ElementIndex flow_index : element.outgoing) {
    TakeSequenceFlow(completed, *target.process, target.process->process->at(flow_index));
  }
}

void BpmnProcessor::TakeSequenceFlow(const ElementInstance& from, const DeployedProcess& process,
                                     const bpmn::Element& flow) {
  record::ProcessInstanceRecord value = from.record();
  value.set_element_id(flow.id);
  value.set_bpmn_element_type(static_cast<int32_t>(ElementType::kSequenceFlow));
  value.set_bpmn_event_type(static_cast<int32_t>(bpmn::EventType::kNone));
  context_.AppendEvent(context_.NextKey(), ProcessInstanceIntent::kSequenceFlowTaken, value);

  const bpmn::Element& target = process.process->at(flow.target);
  auto scope = context_.state().element_instances.Get(from.record().flow_scope_key());
  TERN_CHECK(scope.has_value());
  if (target.type == ElementType::kParallelGateway && target.incoming.size() > 1) {
    // A join activates once every incoming flow has delivered a token.
    for (const auto& taken : scope->taken_flows()) {
      if (taken.gateway_id() != target.id) continue;
      if (static_cast<size_t>(taken.counts_size()) < target.incoming.size()) return;
      ActivateChild(*scope, process, target);
      return;
    }
    return;
  }
  ActivateChild(*scope, process, target);
}

void BpmnProcessor::OnChildFinished(int64_t scope_key) {
  auto scope = context_.state().element_instances.Get(scope_key);
  if (!scope) return;
  if (scope->active_children() > 0) return;
  if (IsState(*scope, ProcessInstanceIntent::kElementTerminating)) {
    Transition(*scope, ProcessInstanceIntent::kElementTerminated);
    if (scope->record().flow_scope_key() > 0) OnChildFinished(scope->record().flow_scope_key());
    return;
  }
  if (IsState(*scope, ProcessInstanceIntent::kElementActivated) &&
      scope->active_sequence_flows() == 0) {
    context_.FollowUp(
        MakeCommand(scope->key(), ProcessInstanceIntent::kCompleteElement, scope->record()));
  }
}

void BpmnProcessor::Terminate(int64_t key) {
  auto instance = context_.state().element_instances.Get(key);
  if (!instance || IsTerminatingOrDone(*instance)) return;
  Target target = Resolve(instance->record());
  ElementInstance terminating = Transition(*instance, ProcessInstanceIntent::kElementTerminating);
  incidents_.ResolveIncidentsOf(key, terminating.job_key());
  if (terminating.job_key() > 0) {
    if (auto job = context_.state().jobs.Get(terminating.job_key())) {
      context_.AppendEvent(terminating.job_key(), JobIntent::kCanceled, job->record());
    }
  }
  if (target.element->is_scope()) {
    auto children = context_.state().element_instances.Children(key);
    if (!children.empty()) {
      for (int64_t child : children) {
        context_.FollowUp(MakeCommand(child, ProcessInstanceIntent::kTerminateElement,
                                      record::ProcessInstanceRecord()));
      }
      return;
    }
  }
  Transition(terminating, ProcessInstanceIntent::kElementTerminated);
  if (terminating.record().flow_scope_key() > 0) {
    OnChildFinished(terminating.record().flow_scope_key());
  }
}

void BpmnProcessor::Cancel(const record::Record& command) {
  int64_t key = command.key();
  auto instance = context_.state().element_instances.Get(key);
  if (!instance || instance->record().flow_scope_key() != -1 ||
      IsTerminatingOrDone(*instance)) {
    context_.Reject(record::NOT_FOUND,
                    tern::StrCat("Expected to cancel a process instance with key '", key,
                                 "', but no such process was found"));
    return;
  }
  if (instance->record().parent_process_instance_key() > 0) {
    context_.Reject(record::INVALID_STATE,
                    tern::StrCat("Expected to cancel a process instance with key '", key,
                                 "', but it is created by a parent process instance. Cancel the "
                                 "root process instance '",
                                 instance->record().parent_process_instance_key(),
                                 "' instead."));
    return;
  }
  record::Record answer;
  answer.set_record_type(record::EVENT);
  answer.set_key(key);
  answer.set_intent(ToInt(ProcessInstanceIntent::kElementTerminating));
  SetValue(answer, instance->record());
  context_.Respond(answer);
  Terminate(key);
}

void BpmnProcessor::RetryStep(int64_t element_instance_key) {
  auto instance = context_.state().element_instances.Get(element_instance_key);
  if (!instance) return;
  if (IsState(*instance, ProcessInstanceIntent::kElementActivating)) {
    context_.FollowUp(MakeCommand(instance->key(), ProcessInstanceIntent::kActivateElement,
                                  instance->record()));
  } else if (IsState(*instance, ProcessInstanceIntent::kElementCompleting)) {
    context_.FollowUp(MakeCommand(instance->key(), ProcessInstanceIntent::kCompleteElement,
                                  instance->record()));
  }
}

bool BpmnProcessor::ApplyInputMappings(const ElementInstance& instance,
                                       const bpmn::Element& element) {
  if (element.inputs.empty()) return true;
  // Mappings are evaluated in the flow scope; later mappings see earlier targets, as the
  // entries of one FEEL context do in Zeebe.
  ScopeVariableResolver resolver(variables_, instance.record().flow_scope_key());
  nlohmann::json document = nlohmann::json::object();
  for (const auto& mapping : element.inputs) {
    auto value = expressions_.Evaluate(mapping.source, resolver);
    if (!value.ok()) {
      incidents_.RaiseElementIncident(instance, kIoMappingError,
                                      std::string(value.status().message()));
      return false;
    }
    SetAtPath(document, mapping.target,
              nlohmann::json::parse(feel::ValueToJson(*value), nullptr, false));
    std::string root = std::string(mapping.target.substr(0, mapping.target.find('.')));
    auto root_value = feel::ValueFromJson(DumpJson(document[root]));
    if (root_value.ok()) resolver.Override(root, *root_value);
  }
  VariableDocument locals;
  for (auto& [name, value] : document.items()) locals.emplace_back(name, DumpJson(value));
  variables_.MergeLocal(instance.key(), locals);
  return true;
}

bool BpmnProcessor::ApplyOutputMappings(const ElementInstance& instance,
                                        const bpmn::Element& element) {
  if (element.outputs.empty()) return true;
  ScopeVariableResolver resolver(variables_, instance.key());
  nlohmann::json document = nlohmann::json::object();
  for (const auto& mapping : element.outputs) {
    auto value = expressions_.Evaluate(mapping.source, resolver);
    if (!value.ok()) {
      incidents_.RaiseElementIncident(instance, kIoMappingError,
                                      std::string(value.status().message()));
      return false;
    }
    SetAtPath(document, mapping.target,
              nlohmann::json::parse(feel::ValueToJson(*value), nullptr, false));
  }
  VariableDocument results;
  for (auto& [name, value] : document.items()) results.emplace_back(name, DumpJson(value));
  int64_t flow_scope = instance.record().flow_scope_key();
  if (flow_scope > 0) {
    variables_.MergePropagating(flow_scope, results);
  } else {
    variables_.MergeLocal(instance.key(), results);
  }
  return true;
}

bool BpmnProcessor::CreateJob(const ElementInstance& instance, const DeployedProcess& process,
                              const bpmn::Element& element) {
  TERN_CHECK(element.task_definition.has_value(), "task without definition ", element.id);
  auto type = expressions_.EvaluateString(element.task_definition->type, instance.key());
  if (!type.ok()) {
    incidents_.RaiseElementIncident(instance, kExtractValueError,
                                    std::string(type.status().message()));
    return false;
  }
  auto retries = expressions_.EvaluateInt(element.task_definition->retries, instance.key());
  if (!retries.ok()) {
    incidents_.RaiseElementIncident(instance, kExtractValueError,
                                    std::string(retries.status().message()));
    return false;
  }
  nlohmann::ordered_json headers = nlohmann::ordered_json::object();
  for (const auto& header : element.task_headers) headers[header.key] = header.value;

  record::JobRecord job;
  job.set_type(*type);
  job.set_retries(static_cast<int32_t>(std::clamp<int64_t>(*retries, 0, INT32_MAX)));
  job.set_custom_headers(
      headers.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  job.set_bpmn_process_id(process.bpmn_process_id);
  job.set_process_definition_version(process.version);
  job.set_process_definition_key(process.key);
  job.set_process_instance_key(instance.record().process_instance_key());
  job.set_element_id(element.id);
  job.set_element_instance_key(instance.key());
  job.set_tenant_id(instance.record().tenant_id());
  int64_t job_key = context_.NextKey();
  context_.AppendEvent(job_key, JobIntent::kCreated, std::move(job));
  jobs_.OnActivatable(job_key);
  return true;
}

const bpmn::Element* BpmnProcessor::ChooseExclusiveFlow(const ElementInstance& instance,
                                                        const Target& target) {
  const bpmn::Element& gateway = *target.element;
  const auto& model = *target.process->process;
  if (gateway.outgoing.size() == 1 && !model.at(gateway.outgoing[0]).condition) {
    return &model.at(gateway.outgoing[0]);
  }
  for (bpmn::ElementIndex index : gateway.outgoing) {
    if (index == gateway.default_flow) continue;
    const bpmn::Element& flow = model.at(index);
    if (!flow.condition) continue;
    auto result = expressions_.EvaluateBool(*flow.condition, instance.key());
    if (!result.ok()) {
      incidents_.RaiseElementIncident(instance, kConditionError,
                                      std::string(result.status().message()));
      return nullptr;
    }
    if (*result) return &flow;
  }
  if (gateway.default_flow != bpmn::kNoElement) return &model.at(gateway.default_flow);
  incidents_.RaiseElementIncident(
      instance, kConditionError,
      "Expected at least one condition to evaluate to true, or to have a default flow");
  return nullptr;
}

}  // namespace tern::engine
