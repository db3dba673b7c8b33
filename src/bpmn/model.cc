#include "bpmn/model.h"

namespace tern::bpmn {

std::string_view ElementTypeName(ElementType type) {
  switch (type) {
    case ElementType::kUnspecified:
      return "UNSPECIFIED";
    case ElementType::kProcess:
      return "PROCESS";
    case ElementType::kSubProcess:
      return "SUB_PROCESS";
    case ElementType::kEventSubProcess:
      return "EVENT_SUB_PROCESS";
    case ElementType::kCallActivity:
      return "CALL_ACTIVITY";
    case ElementType::kStartEvent:
      return "START_EVENT";
    case ElementType::kEndEvent:
      return "END_EVENT";
    case ElementType::kIntermediateCatchEvent:
      return "INTERMEDIATE_CATCH_EVENT";
    case ElementType::kIntermediateThrowEvent:
      return "INTERMEDIATE_THROW_EVENT";
    case ElementType::kBoundaryEvent:
      return "BOUNDARY_EVENT";
    case ElementType::kServiceTask:
      return "SERVICE_TASK";
    case ElementType::kSendTask:
      return "SEND_TASK";
    case ElementType::kReceiveTask:
      return "RECEIVE_TASK";
    case ElementType::kUserTask:
      return "USER_TASK";
    case ElementType::kManualTask:
      return "MANUAL_TASK";
    case ElementType::kScriptTask:
      return "SCRIPT_TASK";
    case ElementType::kBusinessRuleTask:
      return "BUSINESS_RULE_TASK";
    case ElementType::kTask:
      return "TASK";
    case ElementType::kExclusiveGateway:
      return "EXCLUSIVE_GATEWAY";
    case ElementType::kParallelGateway:
      return "PARALLEL_GATEWAY";
    case ElementType::kInclusiveGateway:
      return "INCLUSIVE_GATEWAY";
    case ElementType::kEventBasedGateway:
      return "EVENT_BASED_GATEWAY";
    case ElementType::kSequenceFlow:
      return "SEQUENCE_FLOW";
    case ElementType::kMultiInstanceBody:
      return "MULTI_INSTANCE_BODY";
    // Not in Zeebe's BpmnElementType (Zeebe rejects them at deploy); named after the BPMN
    // element so rejection messages read naturally.
    case ElementType::kComplexGateway:
      return "COMPLEX_GATEWAY";
    case ElementType::kTransaction:
      return "TRANSACTION";
    case ElementType::kAdHocSubProcess:
      return "AD_HOC_SUB_PROCESS";
  }
  return "UNSPECIFIED";
}

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kNone:
      return "NONE";
    case EventType::kMessage:
      return "MESSAGE";
    case EventType::kTimer:
      return "TIMER";
    case EventType::kError:
      return "ERROR";
    case EventType::kSignal:
      return "SIGNAL";
    case EventType::kEscalation:
      return "ESCALATION";
    case EventType::kCompensation:
      return "COMPENSATION";
    case EventType::kTerminate:
      return "TERMINATE";
    case EventType::kLink:
      return "LINK";
    case EventType::kConditional:
      return "CONDITIONAL";
    // Not in Zeebe's BpmnEventType: such events never reach a record.
    case EventType::kCancel:
      return "CANCEL";
    case EventType::kMultiple:
      return "MULTIPLE";
  }
  return "UNSPECIFIED";
}

std::string_view BpmnEventTypeName(const Element& element) {
  return element.is_event() ? EventTypeName(element.event_type) : "UNSPECIFIED";
}

namespace {

// A heap block: what it asks for plus malloc's header, rounded to 16 bytes.
size_t Block(size_t bytes) { return bytes == 0 ? 0 : (bytes + 8 + 15) / 16 * 16; }

size_t StringBytes(const std::string& s) {
  return s.capacity() > 15 ? Block(s.capacity() + 1) : 0;  // short strings live inline
}

// A compiled expression is a small tree; identical texts share one (expression.h).
constexpr size_t kCompiledExpressionBytes = 256;

size_t ExpressionBytes(const Expression& e) {
  return StringBytes(e.text) + (e.feel != nullptr ? kCompiledExpressionBytes : 0);
}

template <typename T>
size_t VectorBytes(const std::vector<T>& v) {
  return Block(v.capacity() * sizeof(T));
}

template <typename T, typename Inner>
size_t BoxedBytes(const Boxed<T>& boxed, Inner inner) {
  return boxed ? Block(sizeof(T)) + inner(*boxed) : 0;
}

size_t OptionalExpressionBytes(const std::optional<Expression>& e) {
  return e ? ExpressionBytes(*e) : 0;
}

size_t ElementHeapBytes(const Element& e) {
  size_t bytes = StringBytes(e.id) + StringBytes(e.name);
  bytes += VectorBytes(e.children) + VectorBytes(e.start_events) +
           VectorBytes(e.event_subprocesses) + VectorBytes(e.incoming) + VectorBytes(e.outgoing) +
           VectorBytes(e.boundary_events) + VectorBytes(e.task_headers) + VectorBytes(e.inputs) +
           VectorBytes(e.outputs) + VectorBytes(e.execution_listeners);
  for (const TaskHeader& h : e.task_headers) bytes += StringBytes(h.key) + StringBytes(h.value);
  for (const auto* mappings : {&e.inputs, &e.outputs}) {
    for (const VariableMapping& m : *mappings) {
      bytes += ExpressionBytes(m.source) + StringBytes(m.target);
    }
  }
  for (const ExecutionListener& l : e.execution_listeners) {
    bytes += ExpressionBytes(l.type) + ExpressionBytes(l.retries);
  }
  for (const auto& [key, value] : e.properties) {
    bytes += Block(64) + StringBytes(key) + StringBytes(value);  // a std::map node
  }
  auto expression = [](const Expression& x) { return ExpressionBytes(x); };
  bytes += BoxedBytes(e.condition, expression) + BoxedBytes(e.conditional, expression);
  bytes += BoxedBytes(e.task_definition, [](const TaskDefinition& t) {
    return ExpressionBytes(t.type) + ExpressionBytes(t.retries);
  });
  bytes += BoxedBytes(e.loop, [](const LoopCharacteristics& l) {
    return OptionalExpressionBytes(l.input_collection) + StringBytes(l.input_element) +
           StringBytes(l.output_collection) + OptionalExpressionBytes(l.output_element) +
           StringBytes(l.output_element_variable) + OptionalExpressionBytes(l.completion_condition);
  });
  bytes += BoxedBytes(e.called_element,
                      [](const CalledElement& c) { return ExpressionBytes(c.process_id); });
  bytes += BoxedBytes(e.called_decision, [](const CalledDecision& c) {
    return ExpressionBytes(c.decision_id) + StringBytes(c.result_variable);
  });
  bytes += BoxedBytes(e.script, [](const Script& s) {
    return ExpressionBytes(s.expression) + StringBytes(s.result_variable);
  });
  bytes += BoxedBytes(e.user_task, [](const UserTaskProperties& u) {
    return OptionalExpressionBytes(u.assignee) + OptionalExpressionBytes(u.candidate_groups) +
           OptionalExpressionBytes(u.candidate_users) + OptionalExpressionBytes(u.due_date) +
           OptionalExpressionBytes(u.follow_up_date) + StringBytes(u.form_key) +
           StringBytes(u.form_id) + StringBytes(u.external_reference) +
           OptionalExpressionBytes(u.priority) + StringBytes(u.form_binding.type_text) +
           StringBytes(u.form_binding.version_tag);
  });
  bytes += BoxedBytes(e.timer, [](const TimerDefinition& t) { return ExpressionBytes(t.value); });
  bytes += BoxedBytes(e.message, [](const MessageDefinition& m) {
    return StringBytes(m.id) + OptionalExpressionBytes(m.name) +
           OptionalExpressionBytes(m.correlation_key);
  });
  bytes += BoxedBytes(e.error, [](const ErrorDefinition& x) {
    return StringBytes(x.id) + OptionalExpressionBytes(x.code);
  });
  bytes += BoxedBytes(e.escalation, [](const EscalationDefinition& x) {
    return StringBytes(x.id) + OptionalExpressionBytes(x.code);
  });
  bytes += BoxedBytes(e.signal, [](const SignalDefinition& x) {
    return StringBytes(x.id) + OptionalExpressionBytes(x.name);
  });
  bytes += BoxedBytes(e.link, [](const LinkDefinition& x) { return StringBytes(x.name); });
  bytes += BoxedBytes(e.compensation,
                      [](const CompensationDefinition& x) { return StringBytes(x.activity_ref); });
  return bytes;
}

}  // namespace

size_t ApproximateMemoryBytes(const Definitions& definitions) {
  size_t bytes = Block(sizeof(Definitions)) + VectorBytes(definitions.processes);
  for (const Process& process : definitions.processes) {
    bytes += StringBytes(process.id) + StringBytes(process.name) +
             StringBytes(process.version_tag) + VectorBytes(process.elements) +
             VectorBytes(process.by_id);
    for (const Element& element : process.elements) bytes += ElementHeapBytes(element);
  }
  return bytes;
}

}  // namespace tern::bpmn
