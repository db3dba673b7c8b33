#include "engine/processing/bpmn_processor.h"

#include <deque>
#include <nlohmann/json.hpp>
#include <set>

#include "base/strings.h"
#include "engine/processing/decisions.h"

namespace tern::engine {
namespace {

using bpmn::ElementType;
using bpmn::EventType;
using tern::state::ElementInstance;

bool IsState(const ElementInstance& instance, ProcessInstanceIntent intent) {
  return instance.state() == ToInt(intent);
}

bool IsTerminatingOrDone(const ElementInstance& instance) {
  return IsState(instance, ProcessInstanceIntent::kElementTerminating) ||
         IsState(instance, ProcessInstanceIntent::kElementTerminated) ||
         IsState(instance, ProcessInstanceIntent::kElementCompleted);
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

// Elements whose completion may find an event trigger addressed to them (see
// ApplyOutputMappings).
bool MayHaveCompletionTrigger(const bpmn::Element& element) {
  switch (element.type) {
    case ElementType::kIntermediateCatchEvent:
    case ElementType::kBoundaryEvent:
    case ElementType::kStartEvent:
    case ElementType::kReceiveTask:
    case ElementType::kCallActivity:
      return true;
    case ElementType::kScriptTask:
      return element.script.has_value();
    case ElementType::kBusinessRuleTask:
      return element.called_decision.has_value();
    default:
      return false;
  }
}

bool FollowsEventBasedGateway(const bpmn::Process& process, const bpmn::Element& element) {
  for (bpmn::ElementIndex flow : element.incoming) {
    if (process.at(process.at(flow).source).type == ElementType::kEventBasedGateway) return true;
  }
  return false;
}

bool IsNativeUserTask(const bpmn::Element& element) {
  return element.type == ElementType::kUserTask && element.user_task.has_value() &&
         element.user_task->zeebe_user_task;
}

bool IsJobWorkerElement(const bpmn::Element& element) {
  switch (element.type) {
    case ElementType::kServiceTask:
    case ElementType::kSendTask:
      return true;
    case ElementType::kUserTask:
      return !IsNativeUserTask(element);
    case ElementType::kScriptTask:
      return !element.script.has_value();
    case ElementType::kBusinessRuleTask:
      return !element.called_decision.has_value();
    case ElementType::kIntermediateThrowEvent:
    case ElementType::kEndEvent:
      return element.event_type == EventType::kMessage;
    default:
      return false;
  }
}

std::string JsonArrayOfStrings(const std::vector<std::string>& values) {
  nlohmann::json array = nlohmann::json::array();
  for (const auto& value : values) array.push_back(value);
  return DumpJson(array);
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

bool BpmnProcessor::IsBody(const ElementInstance& instance) {
  return instance.record().bpmn_element_type() ==
         static_cast<int32_t>(ElementType::kMultiInstanceBody);
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

void BpmnProcessor::CompleteLater(const ElementInstance& instance) {
  context_.FollowUp(
      MakeCommand(instance.key(), ProcessInstanceIntent::kCompleteElement, instance.record()));
}

void BpmnProcessor::TerminateLater(int64_t element_instance_key) {
  context_.FollowUp(MakeCommand(element_instance_key, ProcessInstanceIntent::kTerminateElement,
                                record::ProcessInstanceRecord()));
}

// --- Process instances -------------------------------------------------------------------------

void BpmnProcessor::StartProcessInstance(const DeployedProcess& process,
                                         int64_t process_instance_key,
                                         const VariableDocument& variables,
                                         const std::vector<std::string>& start_element_ids,
                                         int64_t parent_process_instance_key,
                                         int64_t parent_element_instance_key) {
  const bpmn::Element& root = process.process->root();
  record::ProcessInstanceRecord value;
  value.set_bpmn_process_id(process.bpmn_process_id);
  value.set_version(process.version);
  value.set_process_definition_key(process.key);
  value.set_process_instance_key(process_instance_key);
  value.set_element_id(root.id);
  value.set_flow_scope_key(-1);
  value.set_bpmn_element_type(static_cast<int32_t>(ElementType::kProcess));
  value.set_bpmn_event_type(static_cast<int32_t>(EventType::kNone));
  value.set_parent_process_instance_key(parent_process_instance_key);
  value.set_parent_element_instance_key(parent_element_instance_key);
  value.set_tenant_id(process.tenant_id);

  context_.AppendEvent(process_instance_key, ProcessInstanceIntent::kElementActivating, value);
  variables_.MergeLocal(process_instance_key, variables);
  auto instance = context_.state().element_instances.Get(process_instance_key);
  TERN_CHECK(instance.has_value());
  Target target;
  target.process = context_.processes().Get(process.key);
  target.element = &root;
  OnActivatingRoot(*instance, target, start_element_ids);
}

void BpmnProcessor::StartProcessInstanceAtEvent(const DeployedProcess& process,
                                                int64_t process_instance_key,
                                                const bpmn::Element& start_event, int64_t event_key,
                                                const std::string& variables_json) {
  const bpmn::Element& root = process.process->root();
  record::ProcessInstanceRecord value;
  value.set_bpmn_process_id(process.bpmn_process_id);
  value.set_version(process.version);
  value.set_process_definition_key(process.key);
  value.set_process_instance_key(process_instance_key);
  value.set_element_id(root.id);
  value.set_flow_scope_key(-1);
  value.set_bpmn_element_type(static_cast<int32_t>(ElementType::kProcess));
  value.set_bpmn_event_type(static_cast<int32_t>(EventType::kNone));
  value.set_parent_process_instance_key(-1);
  value.set_parent_element_instance_key(-1);
  value.set_tenant_id(process.tenant_id);
  context_.AppendEvent(process_instance_key, ProcessInstanceIntent::kElementActivating, value);
  auto instance = context_.state().element_instances.Get(process_instance_key);
  TERN_CHECK(instance.has_value());
  // The trigger names the start event; the activation (or its retry) starts there.
  StoreTrigger(process_instance_key, start_event, event_key, variables_json, false, *instance);
  Target target;
  target.process = context_.processes().Get(process.key);
  target.element = &root;
  OnActivatingRoot(*instance, target, {});
}

void BpmnProcessor::OnActivatingRoot(ElementInstance instance, const Target& target,
                                     const std::vector<std::string>& start_element_ids) {
  const bpmn::Process& model = *target.process->process;
  const bpmn::Element& root = model.root();
  // An instance created with start instructions is activated directly, without the process's
  // start listeners, as Zeebe's creation with start instructions does.
  if (start_element_ids.empty() &&
      !RunExecutionListeners(instance, target, bpmn::ListenerEventType::kStart)) {
    return;
  }
  if (!Subscribe(instance, target, nullptr)) return;
  ElementInstance activated = Transition(instance, ProcessInstanceIntent::kElementActivated);
  if (root.start_events.size() > 1 || root.none_start_event == bpmn::kNoElement) {
    if (auto trigger = context_.state().event_triggers.First(activated.key())) {
      const bpmn::Element* start = model.Find(trigger->second.target_element_id());
      if (start != nullptr && start->type == ElementType::kStartEvent &&
          start->flow_scope == root.index) {
        ConsumeTrigger(trigger->first, trigger->second);
        ActivateTriggered(activated, *start, trigger->first, trigger->second.variables());
        return;
      }
    }
  }
  if (!start_element_ids.empty()) {
    for (const auto& element_id : start_element_ids) {
      const bpmn::Element* element = model.Find(element_id);
      TERN_CHECK(element != nullptr);
      ActivateChild(activated, *element);
    }
    return;
  }
  if (root.none_start_event != bpmn::kNoElement) {
    ActivateChild(activated, model.at(root.none_start_event));
  }
}

void BpmnProcessor::CompleteProcessInstance(const ElementInstance& instance, const Target& target) {
  if (EventBehavior::MayHaveSubscriptions(*target.element, false, false)) events_.Close(instance);
  auto awaited = context_.state().awaited_results.Get(instance.key());
  std::string result_variables;
  if (awaited) {
    std::vector<std::string> names(awaited->fetch_variables().begin(),
                                   awaited->fetch_variables().end());
    result_variables = variables_.CollectLocal(instance.key(), names);
  }
  std::string child_variables;
  if (instance.record().parent_element_instance_key() > 0) {
    child_variables = variables_.CollectLocal(instance.key(), {});
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
  if (instance.record().parent_element_instance_key() > 0) {
    OnCalledProcessFinished(instance, true, child_variables);
  }
  if (!instance.message_correlation_key().empty()) {
    CorrelateBufferedStartMessage(instance.record().bpmn_process_id(),
                                  instance.message_correlation_key(),
                                  instance.record().tenant_id());
  }
}

// --- Activation --------------------------------------------------------------------------------

record::ProcessInstanceRecord BpmnProcessor::ChildRecord(const ElementInstance& scope,
                                                         const bpmn::Element& element) const {
  record::ProcessInstanceRecord value = scope.record();
  value.set_element_id(element.id);
  value.set_flow_scope_key(scope.key());
  value.set_bpmn_element_type(static_cast<int32_t>(element.type));
  value.set_bpmn_event_type(static_cast<int32_t>(element.event_type));
  return value;
}

void BpmnProcessor::ActivateChild(const ElementInstance& scope, const bpmn::Element& element) {
  record::ProcessInstanceRecord value = ChildRecord(scope, element);
  if (element.loop && !IsBody(scope)) {
    value.set_bpmn_element_type(static_cast<int32_t>(ElementType::kMultiInstanceBody));
  }
  context_.FollowUp(
      MakeCommand(context_.NextKey(), ProcessInstanceIntent::kActivateElement, std::move(value)));
}

ElementInstance BpmnProcessor::BeginActivation(const ElementInstance& scope,
                                               const bpmn::Element& element) {
  int64_t key = context_.NextKey();
  record::ProcessInstanceRecord value = ChildRecord(scope, element);
  context_.AppendEvent(key, ProcessInstanceIntent::kElementActivating, value);
  context_.FollowUp(MakeCommand(key, ProcessInstanceIntent::kActivateElement, value));
  auto instance = context_.state().element_instances.Get(key);
  TERN_CHECK(instance.has_value());
  return *instance;
}

ElementInstance BpmnProcessor::ActivateEmptyScope(const ElementInstance& scope,
                                                  const DeployedProcess& process,
                                                  const bpmn::Element& element) {
  int64_t key = context_.NextKey();
  context_.AppendEvent(key, ProcessInstanceIntent::kElementActivating, ChildRecord(scope, element));
  auto instance = context_.state().element_instances.Get(key);
  TERN_CHECK(instance.has_value());
  Target target;
  target.process = context_.processes().Get(process.key);
  target.element = &element;
  if (!ApplyInputMappings(*instance, element)) return *instance;
  if (!Subscribe(*instance, target, nullptr)) return *instance;
  return Transition(*instance, ProcessInstanceIntent::kElementActivated);
}

void BpmnProcessor::Activate(const record::Record& command) {
  const auto& value = command.process_instance();
  if (auto existing = context_.state().element_instances.Get(command.key())) {
    // A continued activation (the instance was written earlier) or a retry after an incident.
    if (IsState(*existing, ProcessInstanceIntent::kElementActivating)) {
      OnActivating(*existing, Resolve(existing->record()));
    }
    return;
  }
  Target target = Resolve(value);
  auto scope = context_.state().element_instances.Get(value.flow_scope_key());
  if (!scope || IsTerminatingOrDone(*scope) || scope->interrupted()) {
    // The scope was left or interrupted while this activation was pending: the token is dropped.
    return;
  }
  const bpmn::Element& element = *target.element;
  if (element.type == ElementType::kInclusiveGateway && element.incoming.size() > 1) {
    // A join whose tokens an earlier activation already consumed.
    bool has_tokens = false;
    for (const auto& taken : scope->taken_flows()) {
      if (taken.gateway_id() == element.id && taken.counts_size() > 0) has_tokens = true;
    }
    if (!has_tokens) return;
  }
  context_.AppendEvent(command.key(), ProcessInstanceIntent::kElementActivating, value);
  auto instance = context_.state().element_instances.Get(command.key());
  TERN_CHECK(instance.has_value());
  OnActivating(*instance, target);
}

bool BpmnProcessor::RaiseIfChainTooLong(const ElementInstance& instance) {
  int32_t limit = context_.config().max_follow_up_chain;
  if (context_.command().chain_depth() <= limit) return false;
  incidents_.RaiseElementIncident(
      instance, "UNKNOWN",
      tern::StrCat("The process instance took more than ", limit,
                   " consecutive steps without waiting for anything (a job, a message, a "
                   "timer...): this looks like a loop without a wait state. Fix the process (or "
                   "its variables) and resolve the incident to let it continue."));
  return true;
}

bool BpmnProcessor::Subscribe(const ElementInstance& instance, const Target& target,
                              std::vector<EventBehavior::Subscription>* prepared) {
  bool is_body = IsBody(instance);
  bool is_inner = IsInner(instance);
  if (!EventBehavior::MayHaveSubscriptions(*target.element, is_body, is_inner)) return true;
  auto subscriptions =
      events_.Prepare(instance, *target.process->process, *target.element, is_body, is_inner);
  if (!subscriptions.ok()) {
    incidents_.RaiseElementIncident(instance, kExtractValueError,
                                    std::string(subscriptions.status().message()));
    return false;
  }
  if (prepared != nullptr) {
    *prepared = *std::move(subscriptions);
  } else {
    events_.Open(instance, *subscriptions);
  }
  return true;
}

void BpmnProcessor::OnActivating(ElementInstance instance, const Target& target) {
  if (instance.record().flow_scope_key() <= 0) {
    OnActivatingRoot(instance, target, {});
    return;
  }
  if (RaiseIfChainTooLong(instance)) return;
  if (IsBody(instance)) {
    ActivateBody(instance, target);
    return;
  }
  const bpmn::Element& element = *target.element;
  // Once a start listener has completed, the input mappings are in place.
  if (instance.execution_listener_index() == 0 && !ApplyInputMappings(instance, element)) return;
  if (!RunExecutionListeners(instance, target, bpmn::ListenerEventType::kStart)) return;

  if (IsJobWorkerElement(element)) {
    std::vector<EventBehavior::Subscription> subscriptions;
    if (!Subscribe(instance, target, &subscriptions)) return;
    if (!CreateJob(instance, target, subscriptions)) return;
    Transition(instance, ProcessInstanceIntent::kElementActivated);
    return;
  }
  if (IsNativeUserTask(element)) {
    std::vector<EventBehavior::Subscription> subscriptions;
    if (!Subscribe(instance, target, &subscriptions)) return;
    if (!CreateUserTask(instance, target, subscriptions)) return;
    Transition(instance, ProcessInstanceIntent::kElementActivated);
    return;
  }

  bool pass_through = false;
  switch (element.type) {
    case ElementType::kScriptTask:
      EvaluateScript(instance, target);
      return;
    case ElementType::kBusinessRuleTask:
      EvaluateDecision(instance, target);
      return;
    case ElementType::kReceiveTask:
    case ElementType::kEventBasedGateway:
      if (!Subscribe(instance, target, nullptr)) return;
      Transition(instance, ProcessInstanceIntent::kElementActivated);
      return;
    case ElementType::kIntermediateCatchEvent:
      if (element.event_type == EventType::kLink) {
        pass_through = true;
        break;
      }
      if (context_.state().event_triggers.First(instance.key())) {
        // Activated by an event-based gateway with the event that chose it.
        instance = Transition(instance, ProcessInstanceIntent::kElementActivated);
        CompleteLater(instance);
        return;
      }
      if (!Subscribe(instance, target, nullptr)) return;
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
    case ElementType::kInclusiveGateway: {
      std::vector<const bpmn::Element*> flows = ChooseInclusiveFlows(instance, target);
      if (flows.empty()) return;
      instance = Transition(instance, ProcessInstanceIntent::kElementActivated);
      instance = Transition(instance, ProcessInstanceIntent::kElementCompleting);
      Transition(instance, ProcessInstanceIntent::kElementCompleted);
      for (const bpmn::Element* flow : flows) TakeSequenceFlow(instance, *target.process, *flow);
      return;
    }
    case ElementType::kParallelGateway: {
      instance = Transition(instance, ProcessInstanceIntent::kElementActivated);
      instance = Transition(instance, ProcessInstanceIntent::kElementCompleting);
      Transition(instance, ProcessInstanceIntent::kElementCompleted);
      TakeOutgoingFlows(instance, target);
      return;
    }
    case ElementType::kSubProcess: {
      if (!Subscribe(instance, target, nullptr)) return;
      ElementInstance activated = Transition(instance, ProcessInstanceIntent::kElementActivated);
      if (element.none_start_event != bpmn::kNoElement) {
        ActivateChild(activated, target.process->process->at(element.none_start_event));
      }
      return;
    }
    case ElementType::kEventSubProcess: {
      if (!Subscribe(instance, target, nullptr)) return;
      ElementInstance activated = Transition(instance, ProcessInstanceIntent::kElementActivated);
      const bpmn::Process& model = *target.process->process;
      if (auto trigger = context_.state().event_triggers.First(activated.key())) {
        const bpmn::Element* start = model.Find(trigger->second.target_element_id());
        if (start != nullptr) {
          ConsumeTrigger(trigger->first, trigger->second);
          ActivateTriggered(activated, *start, trigger->first, trigger->second.variables());
          return;
        }
      }
      // Activated without an event (instance modification): its start event, without variables.
      if (!element.start_events.empty()) {
        ActivateChild(activated, model.at(element.start_events.front()));
      }
      return;
    }
    case ElementType::kCallActivity:
      ActivateCallActivity(instance, target);
      return;
    case ElementType::kIntermediateThrowEvent:
    case ElementType::kEndEvent:
      switch (element.event_type) {
        case EventType::kNone:
        case EventType::kTerminate:
        case EventType::kLink:
          pass_through = true;
          break;
        case EventType::kSignal: {
          auto name = expressions_.EvaluateString(*element.signal->name, instance.key());
          if (!name.ok()) {
            incidents_.RaiseElementIncident(instance, kExtractValueError,
                                            std::string(name.status().message()));
            return;
          }
          instance = Transition(instance, ProcessInstanceIntent::kElementActivated);
          ThrowSignal(instance, element, *name);
          CompleteLater(instance);
          return;
        }
        case EventType::kEscalation: {
          std::string code;
          if (element.escalation && element.escalation->code) {
            auto evaluated = expressions_.EvaluateString(*element.escalation->code, instance.key());
            if (!evaluated.ok()) {
              incidents_.RaiseElementIncident(instance, kExtractValueError,
                                              std::string(evaluated.status().message()));
              return;
            }
            code = *evaluated;
          }
          instance = Transition(instance, ProcessInstanceIntent::kElementActivated);
          if (ThrowEscalation(instance, element, code)) CompleteLater(instance);
          return;
        }
        case EventType::kError: {
          std::string code;
          if (element.error && element.error->code) {
            auto evaluated = expressions_.EvaluateString(*element.error->code, instance.key());
            if (!evaluated.ok()) {
              incidents_.RaiseElementIncident(instance, kExtractValueError,
                                              std::string(evaluated.status().message()));
              return;
            }
            code = *evaluated;
          }
          std::string available;
          if (!ThrowError(instance, code, "", &available)) {
            incidents_.RaiseElementIncident(
                instance, kUnhandledErrorEvent,
                tern::StrCat("Expected to throw an error event with the code '", code,
                             "', but it was not caught.",
                             available.empty()
                                 ? " No error events are available in the scope."
                                 : tern::StrCat(" Available error events are [", available, "]")));
          }
          // Caught: the catch event terminates the scope this end event is in.
          return;
        }
        case EventType::kCompensation: {
          instance = Transition(instance, ProcessInstanceIntent::kElementActivated);
          if (!StartCompensation(instance, target)) CompleteLater(instance);
          return;
        }
        default:
          break;
      }
      break;
    case ElementType::kStartEvent:
    case ElementType::kBoundaryEvent:
    case ElementType::kManualTask:
    case ElementType::kTask:
      pass_through = true;
      break;
    default:
      break;
  }
  if (pass_through) {
    instance = Transition(instance, ProcessInstanceIntent::kElementActivated);
    CompleteLater(instance);
    return;
  }
  // The deployment validator admits only elements the engine executes.
  TERN_UNREACHABLE("element type ", bpmn::ElementTypeName(element.type), " with ",
                   bpmn::EventTypeName(element.event_type), " is not executable");
}

// --- Completion --------------------------------------------------------------------------------

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
  const bpmn::Element& element = *target.element;
  const bpmn::Process& model = *target.process->process;
  if (instance.record().flow_scope_key() <= 0) {
    if (!RunExecutionListeners(instance, target, bpmn::ListenerEventType::kEnd)) return;
    CompleteProcessInstance(instance, target);
    return;
  }
  if (IsBody(instance)) {
    CompleteBody(instance, target);
    return;
  }
  bool inner = IsInner(instance);
  const bool end_listeners = element.has_execution_listeners(bpmn::ListenerEventType::kEnd);
  // Output mappings, then the end listeners. Once a listener has completed, the mappings are in
  // place; until all have, the completion trigger stays, so that a retry after a failed first
  // listener can apply the mappings again.
  if (instance.execution_listener_index() == 0) {
    if (!ApplyOutputMappings(instance, element, /*consume_trigger=*/!end_listeners)) return;
    if (EventBehavior::MayHaveSubscriptions(element, false, inner)) events_.Close(instance);
  }
  if (end_listeners) {
    if (!RunExecutionListeners(instance, target, bpmn::ListenerEventType::kEnd)) return;
    if (MayHaveCompletionTrigger(element)) {
      if (auto trigger = context_.state().event_triggers.First(instance.key())) {
        ConsumeTrigger(trigger->first, trigger->second);
      }
    }
  }
  bool completion_condition_met = false;
  if (inner && !CollectInnerOutput(instance, element, &completion_condition_met)) return;

  if (element.type == ElementType::kEventBasedGateway) {
    auto trigger = context_.state().event_triggers.First(instance.key());
    ElementInstance completed = Transition(instance, ProcessInstanceIntent::kElementCompleted);
    if (!trigger) {
      OnChildFinished(completed.record().flow_scope_key());
      return;
    }
    ConsumeTrigger(trigger->first, trigger->second);
    for (bpmn::ElementIndex flow_index : element.outgoing) {
      const bpmn::Element& flow = model.at(flow_index);
      const bpmn::Element& event = model.at(flow.target);
      if (event.id != trigger->second.target_element_id()) continue;
      TakeSequenceFlow(completed, *target.process, flow, /*activate_target=*/false);
      auto scope = context_.state().element_instances.Get(completed.record().flow_scope_key());
      TERN_CHECK(scope.has_value());
      ActivateTriggered(*scope, event, trigger->first, trigger->second.variables());
      return;
    }
    OnChildFinished(completed.record().flow_scope_key());
    return;
  }

  if (target.process->uses_compensation) OnCompensableCompleted(instance, target);
  ElementInstance completed = Transition(instance, ProcessInstanceIntent::kElementCompleted);
  if (element.is_for_compensation) OnCompensationHandlerCompleted(instance);
  if (inner) {
    OnInnerFinished(instance.record().flow_scope_key(), completion_condition_met);
    return;
  }
  if (element.type == ElementType::kEndEvent && element.event_type == EventType::kTerminate) {
    // The applier of ELEMENT_COMPLETED marked the scope interrupted; it completes once the other
    // children are terminated.
    int64_t scope_key = instance.record().flow_scope_key();
    auto children = context_.state().element_instances.Children(scope_key);
    for (int64_t child : children) TerminateLater(child);
    if (children.empty()) OnChildFinished(scope_key);
    return;
  }
  if (element.type == ElementType::kIntermediateThrowEvent &&
      element.event_type == EventType::kLink && element.link) {
    auto scope = context_.state().element_instances.Get(instance.record().flow_scope_key());
    TERN_CHECK(scope.has_value());
    for (const bpmn::Element& candidate : model.elements) {
      if (candidate.type == ElementType::kIntermediateCatchEvent &&
          candidate.event_type == EventType::kLink && candidate.flow_scope == element.flow_scope &&
          candidate.link && candidate.link->name == element.link->name) {
        ActivateChild(*scope, candidate);
        return;
      }
    }
    OnChildFinished(scope->key());
    return;
  }
  TakeOutgoingFlows(completed, target);
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
                                     const bpmn::Element& flow, bool activate_target) {
  record::ProcessInstanceRecord value = from.record();
  value.set_element_id(flow.id);
  value.set_bpmn_element_type(static_cast<int32_t>(ElementType::kSequenceFlow));
  value.set_bpmn_event_type(static_cast<int32_t>(EventType::kNone));
  context_.AppendEvent(context_.NextKey(), ProcessInstanceIntent::kSequenceFlowTaken, value);
  if (!activate_target) return;

  const bpmn::Element& target = process.process->at(flow.target);
  auto scope = context_.state().element_instances.Get(from.record().flow_scope_key());
  TERN_CHECK(scope.has_value());
  if (target.type == ElementType::kParallelGateway && target.incoming.size() > 1) {
    // A join activates once every incoming flow has delivered a token.
    for (const auto& taken : scope->taken_flows()) {
      if (taken.gateway_id() != target.id) continue;
      if (static_cast<size_t>(taken.counts_size()) < target.incoming.size()) return;
      ActivateChild(*scope, target);
      return;
    }
    return;
  }
  if (target.type == ElementType::kInclusiveGateway && target.incoming.size() > 1) {
    if (InclusiveJoinReady(*scope, *process.process, target)) ActivateChild(*scope, target);
    return;
  }
  ActivateChild(*scope, target);
}

void BpmnProcessor::OnChildFinished(int64_t scope_key) {
  auto scope = context_.state().element_instances.Get(scope_key);
  if (!scope) return;
  if (IsBody(*scope)) {
    OnInnerFinished(scope_key, false);
    return;
  }
  if (IsState(*scope, ProcessInstanceIntent::kElementActivated) && scope->taken_flows_size() > 0 &&
      !scope->interrupted()) {
    ActivateReadyInclusiveJoins(*scope);
  }
  if (scope->active_children() > 0) return;
  if (IsState(*scope, ProcessInstanceIntent::kElementTerminating)) {
    FinishTermination(*scope, Resolve(scope->record()));
    return;
  }
  if (!IsState(*scope, ProcessInstanceIntent::kElementActivated)) return;
  if (scope->interrupted() && !scope->terminated_by_end_event()) {
    // An interrupting event subprocess waits for the other children to be gone.
    if (auto trigger = context_.state().event_triggers.First(scope->key())) {
      Target target = Resolve(scope->record());
      const bpmn::Element* start =
          target.process->process->Find(trigger->second.target_element_id());
      ConsumeTrigger(trigger->first, trigger->second);
      if (start != nullptr && start->type == ElementType::kStartEvent) {
        ActivateEventSubprocess(*scope, *target.process->process, *start, trigger->first,
                                trigger->second.variables());
        return;
      }
    }
  }
  if (scope->active_sequence_flows() == 0) CompleteLater(*scope);
}

// --- Termination -------------------------------------------------------------------------------

void BpmnProcessor::Terminate(int64_t key) {
  auto instance = context_.state().element_instances.Get(key);
  if (!instance || IsTerminatingOrDone(*instance)) return;
  Target target = Resolve(instance->record());
  ElementInstance terminating = Transition(*instance, ProcessInstanceIntent::kElementTerminating);
  const bpmn::Element& element = *target.element;
  bool is_body = IsBody(terminating);
  if (EventBehavior::MayHaveSubscriptions(element, is_body, IsInner(terminating)) ||
      terminating.record().flow_scope_key() <= 0) {
    events_.Close(terminating);
  }
  incidents_.ResolveIncidentsOf(key, terminating.job_key());
  if (terminating.job_key() > 0) {
    if (auto job = context_.state().jobs.Get(terminating.job_key())) {
      context_.AppendEvent(terminating.job_key(), JobIntent::kCanceled, job->record());
    }
  }
  CancelUserTask(terminating);
  if (terminating.called_child_key() > 0) {
    auto child = context_.state().element_instances.Get(terminating.called_child_key());
    if (child && !IsTerminatingOrDone(*child)) {
      TerminateLater(child->key());
      return;  // finishes when the called instance is terminated
    }
  }
  if (element.is_scope() || is_body) {
    auto children = context_.state().element_instances.Children(key);
    if (!children.empty()) {
      for (int64_t child : children) TerminateLater(child);
      return;
    }
  }
  FinishTermination(terminating, target);
}

void BpmnProcessor::FinishTermination(ElementInstance instance, const Target& target) {
  const bpmn::Element& element = *target.element;
  const bpmn::Process& model = *target.process->process;
  // An interrupting boundary event of this activity waits for it to be gone.
  std::optional<std::pair<int64_t, record::ProcessEventRecord>> trigger;
  const bpmn::Element* boundary = nullptr;
  if (!element.boundary_events.empty() && (IsBody(instance) || !element.loop)) {
    trigger = context_.state().event_triggers.First(instance.key());
    if (trigger) {
      boundary = model.Find(trigger->second.target_element_id());
      ConsumeTrigger(trigger->first, trigger->second);
      if (boundary != nullptr && boundary->type != ElementType::kBoundaryEvent) boundary = nullptr;
    }
  }
  Transition(instance, ProcessInstanceIntent::kElementTerminated);
  if (instance.record().flow_scope_key() <= 0) {
    if (instance.record().parent_element_instance_key() > 0) {
      OnCalledProcessFinished(instance, false, "");
    }
    if (!instance.message_correlation_key().empty()) {
      CorrelateBufferedStartMessage(instance.record().bpmn_process_id(),
                                    instance.message_correlation_key(),
                                    instance.record().tenant_id());
    }
    return;
  }
  int64_t scope_key = instance.record().flow_scope_key();
  if (boundary != nullptr) {
    auto scope = context_.state().element_instances.Get(scope_key);
    if (scope && IsState(*scope, ProcessInstanceIntent::kElementActivated) &&
        !scope->interrupted()) {
      ActivateTriggered(*scope, *boundary, trigger->first, trigger->second.variables());
    }
  }
  if (IsInner(instance)) {
    OnInnerFinished(scope_key, false);
    return;
  }
  OnChildFinished(scope_key);
}

void BpmnProcessor::Cancel(const record::Record& command) {
  int64_t key = command.key();
  auto instance = context_.state().element_instances.Get(key);
  if (!instance || instance->record().flow_scope_key() != -1 || IsTerminatingOrDone(*instance)) {
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
                                 instance->record().parent_process_instance_key(), "' instead."));
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
    context_.FollowUp(
        MakeCommand(instance->key(), ProcessInstanceIntent::kActivateElement, instance->record()));
  } else if (IsState(*instance, ProcessInstanceIntent::kElementCompleting)) {
    context_.FollowUp(
        MakeCommand(instance->key(), ProcessInstanceIntent::kCompleteElement, instance->record()));
  }
}

// --- Variables ---------------------------------------------------------------------------------

bool BpmnProcessor::ApplyInputMappings(const ElementInstance& instance,
                                       const bpmn::Element& element) {
  if (element.inputs.empty()) return true;
  // Mappings are evaluated in the element's scope (which sees its flow scope, and for an inner
  // multi-instance instance its input element and loop counter); later mappings see earlier
  // targets, as the entries of one FEEL context do in Zeebe.
  ScopeVariableResolver resolver(variables_, instance.key());
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
                                        const bpmn::Element& element, bool consume_trigger) {
  // The variables of an event that reached the element (a message, a script's result, a called
  // process's variables): local to the element for its output mappings, otherwise propagated.
  VariableDocument event_variables;
  if (MayHaveCompletionTrigger(element)) {
    if (auto trigger = context_.state().event_triggers.First(instance.key())) {
      auto parsed = ParseVariableDocument(trigger->second.variables());
      if (parsed.ok()) event_variables = *std::move(parsed);
      if (consume_trigger) ConsumeTrigger(trigger->first, trigger->second);
    }
  }
  int64_t flow_scope = instance.record().flow_scope_key();
  // An inner multi-instance instance keeps its results for its output element.
  int64_t output_scope = IsInner(instance) ? instance.key() : flow_scope;
  if (!element.outputs.empty()) {
    if (!event_variables.empty()) variables_.MergeLocal(instance.key(), event_variables);
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
    if (output_scope > 0) {
      variables_.MergePropagating(output_scope, results);
    } else {
      variables_.MergeLocal(instance.key(), results);
    }
    return true;
  }
  if (!event_variables.empty()) {
    variables_.MergePropagating(instance.key(), event_variables);
    return true;
  }
  bool propagate_locals =
      element.type == ElementType::kStartEvent ||
      (element.type == ElementType::kBoundaryEvent && element.event_type != EventType::kError);
  if (!propagate_locals && element.type == ElementType::kIntermediateCatchEvent) {
    auto process = context_.processes().Get(instance.record().process_definition_key());
    propagate_locals = FollowsEventBasedGateway(*process->process, element);
  }
  if (propagate_locals && output_scope > 0) {
    auto locals = ParseVariableDocument(variables_.CollectLocal(instance.key(), {}));
    if (locals.ok() && !locals->empty()) variables_.MergePropagating(output_scope, *locals);
  }
  return true;
}

// --- Tasks -------------------------------------------------------------------------------------

bool BpmnProcessor::RunExecutionListeners(const ElementInstance& instance, const Target& target,
                                          bpmn::ListenerEventType event_type) {
  const bpmn::Element& element = *target.element;
  const int32_t done = instance.execution_listener_index();
  const bpmn::ExecutionListener* next = nullptr;
  int32_t seen = 0;
  for (const bpmn::ExecutionListener& listener : element.execution_listeners) {
    if (listener.event_type != event_type) continue;
    if (seen++ == done) {
      next = &listener;
      break;
    }
  }
  if (next == nullptr) return true;
  auto fail = [&](const absl::Status& status) {
    incidents_.RaiseElementIncident(instance, kExtractValueError, std::string(status.message()));
    return false;
  };
  auto type = expressions_.EvaluateString(next->type, instance.key());
  if (!type.ok()) return fail(type.status());
  auto retries = expressions_.EvaluateInt(next->retries, instance.key());
  if (!retries.ok()) return fail(retries.status());
  // Zeebe 8.6 gives listener jobs no headers (the element's task headers are its own job's).
  record::JobRecord job = NewJob(instance, target, *type, *retries, "{}");
  job.set_job_kind(record::EXECUTION_LISTENER);
  job.set_listener_event_type(event_type == bpmn::ListenerEventType::kStart
                                  ? record::LISTENER_EVENT_START
                                  : record::LISTENER_EVENT_END);
  AppendJob(std::move(job));
  return false;
}

record::JobRecord BpmnProcessor::NewJob(const ElementInstance& instance, const Target& target,
                                        const std::string& type, int64_t retries,
                                        std::string custom_headers) const {
  const DeployedProcess& process = *target.process;
  record::JobRecord job;
  job.set_type(type);
  job.set_retries(static_cast<int32_t>(std::clamp<int64_t>(retries, 0, INT32_MAX)));
  job.set_custom_headers(std::move(custom_headers));
  job.set_bpmn_process_id(process.bpmn_process_id);
  job.set_process_definition_version(process.version);
  job.set_process_definition_key(process.key);
  job.set_process_instance_key(instance.record().process_instance_key());
  job.set_element_id(target.element->id);
  job.set_element_instance_key(instance.key());
  job.set_tenant_id(instance.record().tenant_id());
  return job;
}

void BpmnProcessor::AppendJob(record::JobRecord job) {
  int64_t job_key = context_.NextKey();
  context_.AppendEvent(job_key, JobIntent::kCreated, std::move(job));
  jobs_.OnActivatable(job_key);
}

bool BpmnProcessor::CreateJob(const ElementInstance& instance, const Target& target,
                              const std::vector<EventBehavior::Subscription>& subscriptions) {
  const bpmn::Element& element = *target.element;
  TERN_CHECK(element.task_definition.has_value(), "task without definition ", element.id);
  auto fail = [&](const absl::Status& status) {
    incidents_.RaiseElementIncident(instance, kExtractValueError, std::string(status.message()));
    return false;
  };
  auto type = expressions_.EvaluateString(element.task_definition->type, instance.key());
  if (!type.ok()) return fail(type.status());
  auto retries = expressions_.EvaluateInt(element.task_definition->retries, instance.key());
  if (!retries.ok()) return fail(retries.status());
  nlohmann::ordered_json headers = nlohmann::ordered_json::object();
  for (const auto& header : element.task_headers) headers[header.key] = header.value;

  if (element.type == ElementType::kUserTask && element.user_task) {
    // Job-based user tasks carry their properties as headers, under Zeebe's names.
    const bpmn::UserTaskProperties& task = *element.user_task;
    if (task.assignee) {
      auto assignee = expressions_.EvaluateString(*task.assignee, instance.key());
      if (!assignee.ok()) return fail(assignee.status());
      if (!assignee->empty()) headers["io.camunda.zeebe:assignee"] = *assignee;
    }
    for (auto [expression, header] :
         {std::pair{&task.candidate_groups, "io.camunda.zeebe:candidateGroups"},
          std::pair{&task.candidate_users, "io.camunda.zeebe:candidateUsers"}}) {
      if (!expression->has_value()) continue;
      auto list = expressions_.EvaluateStringList(**expression, instance.key());
      if (!list.ok()) return fail(list.status());
      if (!list->empty()) headers[header] = JsonArrayOfStrings(*list);
    }
    if (!task.form_key.empty()) headers["io.camunda.zeebe:formKey"] = task.form_key;
    if (!task.form_id.empty()) {
      // A linked form: the header carries the deployed form's key, as Zeebe's does.
      auto form_key = LinkedFormKey(instance, target);
      if (!form_key) return false;
      headers["io.camunda.zeebe:formKey"] = std::to_string(*form_key);
    }
    for (auto [expression, header] :
         {std::pair{&task.due_date, "io.camunda.zeebe:dueDate"},
          std::pair{&task.follow_up_date, "io.camunda.zeebe:followUpDate"}}) {
      if (!expression->has_value()) continue;
      auto date = expressions_.EvaluateDateTimeText(**expression, instance.key());
      if (!date.ok()) return fail(date.status());
      if (!date->empty()) headers[header] = *date;
    }
  }
  events_.Open(instance, subscriptions);

  AppendJob(NewJob(instance, target, *type, *retries,
                   headers.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace)));
  return true;
}

void BpmnProcessor::EvaluateScript(ElementInstance instance, const Target& target) {
  const bpmn::Element& element = *target.element;
  auto result = expressions_.Evaluate(element.script->expression, instance.key());
  if (!result.ok()) {
    incidents_.RaiseElementIncident(instance, kExtractValueError,
                                    std::string(result.status().message()));
    return;
  }
  VariableDocument document{{element.script->result_variable, feel::ValueToJson(*result)}};
  // The result reaches the task as an event, consumed by its output mappings (as in Zeebe).
  StoreTrigger(instance.key(), element, context_.NextKey(), RenderVariableDocument(document), false,
               instance);
  instance = Transition(instance, ProcessInstanceIntent::kElementActivated);
  CompleteLater(instance);
}

void BpmnProcessor::EvaluateDecision(ElementInstance instance, const Target& target) {
  const bpmn::Element& element = *target.element;
  if (decisions_ == nullptr) {
    incidents_.RaiseElementIncident(instance, "CALLED_DECISION_ERROR",
                                    "Tern cannot evaluate decisions here");
    return;
  }
  auto result = decisions_->EvaluateForTask(instance, element);
  if (!result.ok()) {
    std::string_view type =
        absl::IsNotFound(result.status()) ? "CALLED_DECISION_ERROR" : "DECISION_EVALUATION_ERROR";
    incidents_.RaiseElementIncident(instance, type, std::string(result.status().message()));
    return;
  }
  VariableDocument document{{element.called_decision->result_variable, *result}};
  StoreTrigger(instance.key(), element, context_.NextKey(), RenderVariableDocument(document), false,
               instance);
  instance = Transition(instance, ProcessInstanceIntent::kElementActivated);
  CompleteLater(instance);
}

// --- Call activities ---------------------------------------------------------------------------

void BpmnProcessor::ActivateCallActivity(ElementInstance instance, const Target& target) {
  const bpmn::Element& element = *target.element;
  const bpmn::CalledElement& called = *element.called_element;
  auto process_id = expressions_.EvaluateString(called.process_id, instance.key());
  if (!process_id.ok()) {
    incidents_.RaiseElementIncident(instance, kExtractValueError,
                                    std::string(process_id.status().message()));
    return;
  }
  auto& processes = context_.state().processes;
  const std::string& tenant = instance.record().tenant_id();
  std::optional<int64_t> key;
  switch (called.binding.type) {
    case bpmn::BindingType::kLatest:
      key = processes.LatestKey(tenant, *process_id);
      break;
    case bpmn::BindingType::kDeployment:
      key = processes.KeyByIdAndDeployment(tenant, *process_id, target.process->deployment_key);
      break;
    case bpmn::BindingType::kVersionTag:
      key = processes.KeyByIdAndVersionTag(tenant, *process_id, called.binding.version_tag);
      break;
  }
  std::shared_ptr<const DeployedProcess> child;
  if (key && !processes.IsDeleted(*key)) child = context_.processes().Get(*key);
  if (!child) {
    std::string message;
    switch (called.binding.type) {
      case bpmn::BindingType::kLatest:
        message = tern::StrCat("Expected process with BPMN process id '", *process_id,
                               "' to be deployed, but not found.");
        break;
      case bpmn::BindingType::kDeployment:
        message = tern::StrCat(
            "Expected to call process with BPMN process id '", *process_id,
            "' with binding type 'deployment', but no such process found in the deployment with "
            "key ",
            target.process->deployment_key,
            " which contained the current process. To resolve this incident, migrate the process "
            "instance to a process definition that is deployed together with the intended "
            "process definition to call.");
        break;
      case bpmn::BindingType::kVersionTag:
        message = tern::StrCat("Expected to call process with BPMN process id '", *process_id,
                               "' and version tag '", called.binding.version_tag,
                               "', but no such process found. To resolve this incident, deploy a "
                               "process with the given process id and version tag.");
        break;
    }
    incidents_.RaiseElementIncident(instance, "CALLED_ELEMENT_ERROR", message);
    return;
  }
  if (child->process->root().none_start_event == bpmn::kNoElement) {
    incidents_.RaiseElementIncident(
        instance, "CALLED_ELEMENT_ERROR",
        tern::StrCat("Expected process with BPMN process id '", *process_id,
                     "' to have a none start event, but not found."));
    return;
  }
  if (!Subscribe(instance, target, nullptr)) return;
  ElementInstance activated = Transition(instance, ProcessInstanceIntent::kElementActivated);
  VariableDocument variables;
  if (called.propagate_all_parent_variables) {
    auto visible = ParseVariableDocument(variables_.CollectVisible(activated.key(), {}));
    if (visible.ok()) variables = *std::move(visible);
  } else if (!element.inputs.empty()) {
    auto locals = ParseVariableDocument(variables_.CollectLocal(activated.key(), {}));
    if (locals.ok()) variables = *std::move(locals);
  }
  StartProcessInstance(*child, context_.NextKey(), variables, {},
                       activated.record().process_instance_key(), activated.key());
}

void BpmnProcessor::OnCalledProcessFinished(const ElementInstance& child_root, bool completed,
                                            const std::string& child_variables) {
  auto parent =
      context_.state().element_instances.Get(child_root.record().parent_element_instance_key());
  if (!parent) return;
  if (IsState(*parent, ProcessInstanceIntent::kElementTerminating)) {
    FinishTermination(*parent, Resolve(parent->record()));
    return;
  }
  if (!IsState(*parent, ProcessInstanceIntent::kElementActivated)) return;
  if (!completed) {
    TerminateLater(parent->key());
    return;
  }
  Target target = Resolve(parent->record());
  const bpmn::Element& element = *target.element;
  if (element.called_element->propagate_all_child_variables || !element.outputs.empty()) {
    StoreTrigger(parent->key(), element, context_.NextKey(), child_variables, false, *parent);
  }
  CompleteLater(*parent);
}

// --- Gateways ----------------------------------------------------------------------------------

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

std::vector<const bpmn::Element*> BpmnProcessor::ChooseInclusiveFlows(
    const ElementInstance& instance, const Target& target) {
  const bpmn::Element& gateway = *target.element;
  const auto& model = *target.process->process;
  std::vector<const bpmn::Element*> taken;
  for (bpmn::ElementIndex index : gateway.outgoing) {
    if (index == gateway.default_flow) continue;
    const bpmn::Element& flow = model.at(index);
    if (!flow.condition) {
      taken.push_back(&flow);
      continue;
    }
    auto result = expressions_.EvaluateBool(*flow.condition, instance.key());
    if (!result.ok()) {
      incidents_.RaiseElementIncident(instance, kConditionError,
                                      std::string(result.status().message()));
      return {};
    }
    if (*result) taken.push_back(&flow);
  }
  if (taken.empty() && gateway.default_flow != bpmn::kNoElement) {
    taken.push_back(&model.at(gateway.default_flow));
  }
  if (taken.empty() && !gateway.outgoing.empty()) {
    incidents_.RaiseElementIncident(
        instance, kConditionError,
        "Expected at least one condition to evaluate to true, or to have a default flow");
  }
  return taken;
}

namespace {

// Whether a token at `from` can still reach `to` without passing `blocked` (the join itself).
bool CanReach(const bpmn::Process& process, const bpmn::Element& from, const bpmn::Element& to,
              const bpmn::Element& blocked) {
  std::deque<bpmn::ElementIndex> queue{from.index};
  std::set<bpmn::ElementIndex> seen{from.index};
  while (!queue.empty()) {
    const bpmn::Element& element = process.at(queue.front());
    queue.pop_front();
    if (element.index == to.index) return true;
    if (element.index == blocked.index) continue;
    std::vector<bpmn::ElementIndex> next;
    for (bpmn::ElementIndex flow : element.outgoing) next.push_back(process.at(flow).target);
    for (bpmn::ElementIndex boundary : element.boundary_events) next.push_back(boundary);
    for (bpmn::ElementIndex n : next) {
      if (seen.insert(n).second) queue.push_back(n);
    }
  }
  return false;
}

}  // namespace

bool BpmnProcessor::InclusiveJoinReady(const ElementInstance& scope, const bpmn::Process& process,
                                       const bpmn::Element& gateway) {
  std::set<std::string> arrived;
  int64_t tokens_at_joins = 0;
  std::vector<const bpmn::Element*> waiting_joins;
  for (const auto& taken : scope.taken_flows()) {
    for (const auto& count : taken.counts()) {
      tokens_at_joins += count.count();
      if (taken.gateway_id() == gateway.id && count.count() > 0) arrived.insert(count.flow_id());
    }
    if (taken.gateway_id() != gateway.id) {
      if (const bpmn::Element* join = process.Find(taken.gateway_id())) {
        waiting_joins.push_back(join);
      }
    }
  }
  if (arrived.empty()) return false;
  // Tokens still travelling (activations not processed yet) might head here: wait for them.
  if (scope.active_sequence_flows() > tokens_at_joins) return false;
  std::vector<const bpmn::Element*> active;
  for (int64_t child_key : context_.state().element_instances.Children(scope.key())) {
    auto child = context_.state().element_instances.Get(child_key);
    if (!child) continue;
    if (const bpmn::Element* element = process.Find(child->record().element_id())) {
      active.push_back(element);
    }
  }
  for (const bpmn::Element* join : waiting_joins) active.push_back(join);
  for (bpmn::ElementIndex flow_index : gateway.incoming) {
    const bpmn::Element& flow = process.at(flow_index);
    if (arrived.contains(flow.id)) continue;
    const bpmn::Element& source = process.at(flow.source);
    for (const bpmn::Element* element : active) {
      if (element->index == gateway.index) continue;
      if (CanReach(process, *element, source, gateway)) return false;
    }
  }
  return true;
}

void BpmnProcessor::ActivateReadyInclusiveJoins(const ElementInstance& scope) {
  auto process = context_.processes().Get(scope.record().process_definition_key());
  if (!process || !process->has_inclusive_joins) return;
  for (const auto& taken : scope.taken_flows()) {
    const bpmn::Element* gateway = process->process->Find(taken.gateway_id());
    if (gateway == nullptr || gateway->type != ElementType::kInclusiveGateway) continue;
    if (InclusiveJoinReady(scope, *process->process, *gateway)) {
      ActivateChild(scope, *gateway);
      return;
    }
  }
}

}  // namespace tern::engine
