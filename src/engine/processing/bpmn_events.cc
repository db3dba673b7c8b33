// Events reaching elements: triggers, boundary events, event subprocesses, errors, escalations,
// signals, compensation and message start events. See bpmn_processor.h.

#include <algorithm>

#include "base/strings.h"
#include "engine/processing/bpmn_processor.h"

namespace tern::engine {
namespace {

using bpmn::ElementType;
using bpmn::EventType;
using tern::state::ElementInstance;

bool IsActivated(const ElementInstance& instance) {
  return instance.state() == ToInt(ProcessInstanceIntent::kElementActivated);
}

// Which catch event of `candidates` takes an error or escalation `code`: one with the same code
// first, otherwise one without a code (catch-all).
template <typename CodeOf>
const bpmn::Element* MatchCode(const std::vector<const bpmn::Element*>& candidates,
                               std::string_view code, CodeOf code_of) {
  for (const bpmn::Element* element : candidates) {
    auto catch_code = code_of(*element);
    if (catch_code && *catch_code == code) return element;
  }
  for (const bpmn::Element* element : candidates) {
    if (!code_of(*element)) return element;
  }
  return nullptr;
}

std::optional<std::string> ErrorCodeOf(const bpmn::Element& element) {
  if (!element.error || !element.error->code) return std::nullopt;
  return element.error->code->static_text();
}

std::optional<std::string> EscalationCodeOf(const bpmn::Element& element) {
  if (!element.escalation || !element.escalation->code) return std::nullopt;
  return element.escalation->code->static_text();
}

}  // namespace

// --- Triggers ----------------------------------------------------------------------------------

void BpmnProcessor::StoreTrigger(int64_t scope_key, const bpmn::Element& target, int64_t event_key,
                                 const std::string& variables_json, bool interrupting,
                                 const ElementInstance& scope) {
  record::ProcessEventRecord trigger;
  trigger.set_scope_key(scope_key);
  trigger.set_target_element_id(target.id);
  trigger.set_variables(variables_json);
  trigger.set_process_definition_key(scope.record().process_definition_key());
  trigger.set_process_instance_key(scope.record().process_instance_key());
  trigger.set_tenant_id(scope.record().tenant_id());
  trigger.set_interrupting(interrupting);
  context_.AppendEvent(event_key, ProcessEventIntent::kTriggering, std::move(trigger));
}

void BpmnProcessor::ConsumeTrigger(int64_t event_key, const record::ProcessEventRecord& trigger) {
  context_.AppendEvent(event_key, ProcessEventIntent::kTriggered, trigger);
}

void BpmnProcessor::ActivateTriggered(const ElementInstance& scope, const bpmn::Element& element,
                                      int64_t event_key, const std::string& variables_json) {
  ElementInstance instance = BeginActivation(scope, element);
  StoreTrigger(instance.key(), element, event_key, variables_json, false, instance);
}

void BpmnProcessor::ActivateEventSubprocess(const ElementInstance& scope,
                                            const bpmn::Process& process,
                                            const bpmn::Element& start_event, int64_t event_key,
                                            const std::string& variables_json) {
  const bpmn::Element& esp = process.at(start_event.flow_scope);
  ElementInstance instance = BeginActivation(scope, esp);
  StoreTrigger(instance.key(), start_event, event_key, variables_json, false, instance);
}

void BpmnProcessor::InterruptScope(const ElementInstance& scope) {
  auto children = context_.state().element_instances.Children(scope.key());
  for (int64_t child : children) TerminateLater(child);
  if (children.empty()) OnChildFinished(scope.key());
}

bool BpmnProcessor::CanTrigger(int64_t owner_key, std::string_view catch_element_id) {
  auto owner = context_.state().element_instances.Get(owner_key);
  if (!owner || !IsActivated(*owner) || owner->interrupted()) return false;
  Target target = Resolve(owner->record());
  return target.process->process->Find(catch_element_id) != nullptr;
}

bool BpmnProcessor::TriggerEvent(int64_t owner_key, std::string_view catch_element_id,
                                 int64_t event_key, const std::string& variables_json) {
  auto owner = context_.state().element_instances.Get(owner_key);
  if (!owner || !IsActivated(*owner) || owner->interrupted()) return false;
  Target target = Resolve(owner->record());
  const bpmn::Process& model = *target.process->process;
  const bpmn::Element* catch_element = model.Find(catch_element_id);
  if (catch_element == nullptr) return false;
  const bpmn::Element& element = *target.element;
  bool body = IsBody(*owner);

  if (!body && (catch_element == &element || element.type == ElementType::kEventBasedGateway)) {
    // The element waits for this event itself: it completes with the event's variables.
    if (context_.state().event_triggers.First(owner_key)) return false;  // already triggered
    StoreTrigger(owner_key, *catch_element, event_key, variables_json, false, *owner);
    CompleteLater(*owner);
    return true;
  }
  if (catch_element->type == ElementType::kBoundaryEvent &&
      catch_element->attached_to == element.index) {
    if (catch_element->interrupting) {
      StoreTrigger(owner_key, *catch_element, event_key, variables_json, true, *owner);
      TerminateLater(owner_key);
      return true;
    }
    auto scope = context_.state().element_instances.Get(owner->record().flow_scope_key());
    if (!scope || !IsActivated(*scope) || scope->interrupted()) return false;
    ActivateTriggered(*scope, *catch_element, event_key, variables_json);
    return true;
  }
  if (!body && catch_element->type == ElementType::kStartEvent &&
      catch_element->flow_scope != bpmn::kNoElement &&
      model.at(catch_element->flow_scope).type == ElementType::kEventSubProcess &&
      model.at(catch_element->flow_scope).flow_scope == element.index) {
    if (catch_element->interrupting) {
      StoreTrigger(owner_key, *catch_element, event_key, variables_json, true, *owner);
      auto interrupted = context_.state().element_instances.Get(owner_key);
      TERN_CHECK(interrupted.has_value());
      InterruptScope(*interrupted);
      return true;
    }
    ActivateEventSubprocess(*owner, model, *catch_element, event_key, variables_json);
    return true;
  }
  return false;
}

// --- Errors and escalations --------------------------------------------------------------------

bool BpmnProcessor::ThrowError(const ElementInstance& thrower, std::string_view code,
                               const std::string& variables_json, std::string* available) {
  std::vector<std::string> codes;
  auto note = [&](const bpmn::Element& element) {
    auto c = ErrorCodeOf(element);
    std::string entry = c ? tern::StrCat("'", *c, "'") : "catch-all";
    if (std::find(codes.begin(), codes.end(), entry) == codes.end()) codes.push_back(entry);
  };
  ElementInstance current = thrower;
  for (int depth = 0; depth < 10'000; ++depth) {
    Target target = Resolve(current.record());
    const bpmn::Process& model = *target.process->process;
    const bpmn::Element& element = *target.element;
    if (!IsInner(current) && (IsBody(current) || !element.loop)) {
      std::vector<const bpmn::Element*> boundaries;
      for (bpmn::ElementIndex index : element.boundary_events) {
        const bpmn::Element& boundary = model.at(index);
        if (boundary.event_type != EventType::kError) continue;
        boundaries.push_back(&boundary);
        note(boundary);
      }
      const bpmn::Element* match = MatchCode(boundaries, code, ErrorCodeOf);
      if (match != nullptr && IsActivated(current) && !current.interrupted()) {
        StoreTrigger(current.key(), *match, context_.NextKey(), variables_json, true, current);
        TerminateLater(current.key());
        return true;
      }
    }
    if (current.record().flow_scope_key() <= 0) {
      // The root of a called process: the error travels on to the call activity.
      auto parent =
          context_.state().element_instances.Get(current.record().parent_element_instance_key());
      if (current.record().parent_element_instance_key() <= 0 || !parent) break;
      current = *parent;
      continue;
    }
    auto scope = context_.state().element_instances.Get(current.record().flow_scope_key());
    if (!scope) break;
    if (!IsBody(*scope)) {
      Target scope_target = Resolve(scope->record());
      std::vector<const bpmn::Element*> starts;
      for (bpmn::ElementIndex esp : scope_target.element->event_subprocesses) {
        for (bpmn::ElementIndex start : model.at(esp).start_events) {
          const bpmn::Element& start_event = model.at(start);
          if (start_event.event_type != EventType::kError) continue;
          starts.push_back(&start_event);
          note(start_event);
        }
      }
      const bpmn::Element* match = MatchCode(starts, code, ErrorCodeOf);
      if (match != nullptr && IsActivated(*scope) && !scope->interrupted()) {
        StoreTrigger(scope->key(), *match, context_.NextKey(), variables_json, true, *scope);
        auto interrupted = context_.state().element_instances.Get(scope->key());
        TERN_CHECK(interrupted.has_value());
        InterruptScope(*interrupted);
        return true;
      }
    }
    current = *scope;
  }
  if (available != nullptr) {
    std::string joined;
    for (const auto& c : codes) joined += joined.empty() ? c : tern::StrCat(", ", c);
    *available = joined;
  }
  return false;
}

bool BpmnProcessor::ThrowEscalation(const ElementInstance& thrower, const bpmn::Element& element,
                                    const std::string& code) {
  record::EscalationRecord escalation;
  escalation.set_process_instance_key(thrower.record().process_instance_key());
  escalation.set_escalation_code(code);
  escalation.set_throw_element_id(element.id);
  ElementInstance current = thrower;
  for (int depth = 0; depth < 10'000; ++depth) {
    Target target = Resolve(current.record());
    const bpmn::Process& model = *target.process->process;
    const bpmn::Element& current_element = *target.element;
    const bpmn::Element* match = nullptr;
    ElementInstance owner;
    bool boundary = false;
    if (current.key() != thrower.key() && !IsInner(current) &&
        (IsBody(current) || !current_element.loop)) {
      std::vector<const bpmn::Element*> boundaries;
      for (bpmn::ElementIndex index : current_element.boundary_events) {
        if (model.at(index).event_type == EventType::kEscalation) {
          boundaries.push_back(&model.at(index));
        }
      }
      match = MatchCode(boundaries, code, EscalationCodeOf);
      if (match != nullptr && IsActivated(current) && !current.interrupted()) {
        owner = current;
        boundary = true;
      } else {
        match = nullptr;
      }
    }
    if (match == nullptr) {
      if (current.record().flow_scope_key() <= 0) {
        auto parent =
            context_.state().element_instances.Get(current.record().parent_element_instance_key());
        if (current.record().parent_element_instance_key() <= 0 || !parent) break;
        current = *parent;
        continue;
      }
      auto scope = context_.state().element_instances.Get(current.record().flow_scope_key());
      if (!scope) break;
      if (!IsBody(*scope)) {
        Target scope_target = Resolve(scope->record());
        std::vector<const bpmn::Element*> starts;
        for (bpmn::ElementIndex esp : scope_target.element->event_subprocesses) {
          for (bpmn::ElementIndex start : model.at(esp).start_events) {
            if (model.at(start).event_type == EventType::kEscalation) {
              starts.push_back(&model.at(start));
            }
          }
        }
        match = MatchCode(starts, code, EscalationCodeOf);
        if (match != nullptr && IsActivated(*scope) && !scope->interrupted()) {
          owner = *scope;
        } else {
          match = nullptr;
        }
      }
      if (match == nullptr) {
        current = *scope;
        continue;
      }
    }
    escalation.set_catch_element_id(match->id);
    context_.AppendEvent(context_.NextKey(), EscalationIntent::kEscalated, escalation);
    int64_t event_key = context_.NextKey();
    if (match->interrupting) {
      StoreTrigger(owner.key(), *match, event_key, "", true, owner);
      if (boundary) {
        TerminateLater(owner.key());
      } else {
        auto interrupted = context_.state().element_instances.Get(owner.key());
        TERN_CHECK(interrupted.has_value());
        InterruptScope(*interrupted);
      }
      return false;
    }
    if (boundary) {
      auto scope = context_.state().element_instances.Get(owner.record().flow_scope_key());
      if (scope && IsActivated(*scope) && !scope->interrupted()) {
        ActivateTriggered(*scope, *match, event_key, "");
      }
    } else {
      ActivateEventSubprocess(owner, model, *match, event_key, "");
    }
    return true;
  }
  // Zeebe's rule: an escalation nobody catches is no failure; the thrower continues.
  context_.AppendEvent(context_.NextKey(), EscalationIntent::kNotEscalated, escalation);
  return true;
}

// --- Signals -----------------------------------------------------------------------------------

void BpmnProcessor::ThrowSignal(const ElementInstance& thrower, const bpmn::Element& element,
                                const std::string& name) {
  (void)element;
  record::SignalRecord signal;
  signal.set_signal_name(name);
  // The throw event's input mappings are the signal's variables.
  signal.set_variables(variables_.CollectLocal(thrower.key(), {}));
  signal.set_tenant_id(thrower.record().tenant_id());
  BroadcastSignal(context_.NextKey(), signal, true, true);
}

void BpmnProcessor::BroadcastSignal(int64_t key, const record::SignalRecord& signal,
                                    bool start_instances, bool distribute) {
  context_.AppendEvent(key, SignalIntent::kBroadcasted, signal);
  auto subscriptions = context_.state().signal_subscriptions.ByName(signal.signal_name());
  for (const auto& [subscription_key, subscription] : subscriptions) {
    if (subscription.catch_event_instance_key() <= 0) {
      if (!start_instances) continue;
      auto process = context_.processes().Get(subscription.process_definition_key());
      if (!process) continue;
      const bpmn::Element* start = process->process->Find(subscription.catch_event_id());
      if (start == nullptr) continue;
      StartProcessInstanceAtEvent(*process, context_.NextKey(), *start, key, signal.variables());
      continue;
    }
    TriggerEvent(subscription.catch_event_instance_key(), subscription.catch_event_id(), key,
                 signal.variables());
  }
  if (!distribute) return;
  for (int32_t partition = 1; partition <= context_.config().partition_count; ++partition) {
    if (partition == context_.partition_id()) continue;
    context_.SendCommand(partition, MakeCommand(key, SignalIntent::kBroadcast, signal));
  }
}

// --- Messages ----------------------------------------------------------------------------------

int64_t BpmnProcessor::StartInstanceByMessage(const DeployedProcess& process,
                                              const bpmn::Element& start_event, int64_t message_key,
                                              const record::MessageRecord& message) {
  int64_t instance_key = context_.NextKey();
  StartProcessInstanceAtEvent(process, instance_key, start_event, message_key, message.variables());
  record::MessageStartEventSubscriptionRecord correlated;
  correlated.set_process_definition_key(process.key);
  correlated.set_bpmn_process_id(process.bpmn_process_id);
  correlated.set_start_event_id(start_event.id);
  correlated.set_message_name(message.name());
  correlated.set_process_instance_key(instance_key);
  correlated.set_message_key(message_key);
  correlated.set_correlation_key(message.correlation_key());
  correlated.set_variables(message.variables());
  correlated.set_tenant_id(process.tenant_id);
  context_.AppendEvent(context_.NextKey(), MessageStartEventSubscriptionIntent::kCorrelated,
                       std::move(correlated));
  return instance_key;
}

void BpmnProcessor::CorrelateBufferedStartMessage(const std::string& bpmn_process_id,
                                                  const std::string& correlation_key,
                                                  const std::string& tenant) {
  // The instance a message started is gone: the next buffered message for its correlation key
  // may start the next one.
  auto& state = context_.state();
  auto latest = state.processes.LatestKey(tenant, bpmn_process_id);
  if (!latest) return;
  auto process = context_.processes().Get(*latest);
  if (!process) return;
  if (state.message_start_subscriptions.ActiveInstance(bpmn_process_id, correlation_key)) return;
  for (bpmn::ElementIndex index : process->process->root().start_events) {
    const bpmn::Element& start = process->process->at(index);
    if (start.event_type != EventType::kMessage || !start.message || !start.message->name) {
      continue;
    }
    auto name = expressions_.EvaluateString(*start.message->name, -1);
    if (!name.ok()) continue;
    for (int64_t message_key : state.messages.Buffered(*name, correlation_key)) {
      auto message = state.messages.Get(message_key);
      if (!message || message->deadline() <= context_.timestamp()) continue;
      if (state.messages.IsCorrelated(message_key, bpmn_process_id)) continue;
      StartInstanceByMessage(*process, start, message_key, *message);
      return;
    }
  }
}

// --- Compensation ------------------------------------------------------------------------------

void BpmnProcessor::OnCompensableCompleted(const ElementInstance& instance, const Target& target) {
  const bpmn::Element& element = *target.element;
  const bpmn::Process& model = *target.process->process;
  if (IsInner(instance)) return;
  const auto& value = instance.record();
  auto subscribe = [&](const std::string& handler_id) {
    record::CompensationSubscriptionRecord subscription;
    subscription.set_tenant_id(value.tenant_id());
    subscription.set_process_instance_key(value.process_instance_key());
    subscription.set_process_definition_key(value.process_definition_key());
    subscription.set_compensable_activity_id(element.id);
    subscription.set_compensable_activity_instance_key(instance.key());
    subscription.set_compensable_activity_scope_key(value.flow_scope_key());
    subscription.set_compensation_handler_id(handler_id);
    context_.AppendEvent(context_.NextKey(), CompensationSubscriptionIntent::kCreated,
                         std::move(subscription));
  };
  if (element.compensation_handler != bpmn::kNoElement) {
    subscribe(model.at(element.compensation_handler).id);
  }
  if (element.type == ElementType::kSubProcess) {
    // A completed subprocess with compensable activities inside is compensable as a whole.
    for (const auto& [key, subscription] :
         context_.state().compensations.OfInstance(value.process_instance_key())) {
      if (subscription.compensable_activity_scope_key() == instance.key() &&
          subscription.throw_event_instance_key() == 0) {
        subscribe("");
        break;
      }
    }
  }
}

bool BpmnProcessor::StartCompensation(const ElementInstance& thrower, const Target& target) {
  const bpmn::Element& element = *target.element;
  const bpmn::Process& model = *target.process->process;
  auto& state = context_.state();
  int64_t scope_key = thrower.record().flow_scope_key();
  auto scope = state.element_instances.Get(scope_key);
  if (!scope) return false;
  // A compensation event in an event subprocess compensates the scope the subprocess is in.
  if (Resolve(scope->record()).element->type == ElementType::kEventSubProcess) {
    scope_key = scope->record().flow_scope_key();
  }
  std::string activity_ref = element.compensation ? element.compensation->activity_ref : "";
  auto all = state.compensations.OfInstance(thrower.record().process_instance_key());
  std::vector<std::pair<int64_t, record::CompensationSubscriptionRecord>> handlers;
  std::vector<int64_t> scopes{scope_key};
  for (size_t i = 0; i < scopes.size(); ++i) {
    bool top = i == 0;
    for (const auto& [key, subscription] : all) {
      if (subscription.compensable_activity_scope_key() != scopes[i]) continue;
      if (subscription.throw_event_instance_key() != 0) continue;  // already compensating
      if (top && !activity_ref.empty() && subscription.compensable_activity_id() != activity_ref) {
        continue;
      }
      if (subscription.compensation_handler_id().empty()) {
        // A completed subprocess: compensate what completed inside it.
        scopes.push_back(subscription.compensable_activity_instance_key());
        context_.AppendEvent(key, CompensationSubscriptionIntent::kDeleted, subscription);
        continue;
      }
      handlers.emplace_back(key, subscription);
    }
  }
  // The most recently completed activity is compensated first.
  std::sort(handlers.begin(), handlers.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  for (auto& [key, subscription] : handlers) {
    const bpmn::Element* handler = model.Find(subscription.compensation_handler_id());
    if (handler == nullptr) continue;
    ElementInstance handler_instance = BeginActivation(*scope, *handler);
    subscription.set_compensation_handler_instance_key(handler_instance.key());
    subscription.set_throw_event_id(element.id);
    subscription.set_throw_event_instance_key(thrower.key());
    context_.AppendEvent(key, CompensationSubscriptionIntent::kTriggered, subscription);
  }
  return !handlers.empty();
}

void BpmnProcessor::OnCompensationHandlerCompleted(const ElementInstance& handler) {
  auto& state = context_.state();
  for (const auto& [key, subscription] :
       state.compensations.OfInstance(handler.record().process_instance_key())) {
    if (subscription.compensation_handler_instance_key() != handler.key()) continue;
    context_.AppendEvent(key, CompensationSubscriptionIntent::kCompleted, subscription);
    auto thrower = state.element_instances.Get(subscription.throw_event_instance_key());
    if (thrower && IsActivated(*thrower) && thrower->pending_compensations() <= 0) {
      CompleteLater(*thrower);
    }
    return;
  }
}

}  // namespace tern::engine
