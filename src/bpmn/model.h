#pragma once

// The immutable executable model of a deployed BPMN resource.
//
// The parser (parser.h) turns BPMN 2.0 XML with Zeebe extension elements into a `Definitions`
// value; the engine only ever reads it. Elements are stored in one vector per process and refer
// to each other by index (`ElementIndex`), so the model has no pointers and is cheap to share
// between threads (`std::shared_ptr<const Definitions>`).
//
// The model covers every element Zeebe executes. Whether Tern executes an element yet is decided
// by `IsExecutable()` in support.h, which the validator consults; widening support means
// changing that table and teaching the engine the element, not changing this file.

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tern::feel {
class CompiledExpression;  // feel/feel.h; the model only holds compiled expressions
}  // namespace tern::feel

namespace tern::bpmn {

using ElementIndex = int32_t;
inline constexpr ElementIndex kNoElement = -1;

// An optional part of an element kept on the heap: 8 bytes when absent. An element uses one or
// two of its many optional parts (a timer, a message, a loop, a user task...); as inline
// std::optionals they made every element about 2.3 KB, so a 100,000-task model took 300 MB.
// Reads like std::optional (`if (element.loop)`, `element.loop->sequential`, `*element.timer`);
// copies are deep, so a copied element owns its parts.
template <typename T>
class Boxed {
 public:
  Boxed() = default;
  Boxed(std::nullopt_t) {}  // NOLINT: implicit, like std::optional
  Boxed(T value) : value_(std::make_unique<T>(std::move(value))) {}  // NOLINT
  Boxed(std::optional<T> value) {                                    // NOLINT
    if (value.has_value()) value_ = std::make_unique<T>(*std::move(value));
  }
  Boxed(const Boxed& other) : value_(other.value_ ? std::make_unique<T>(*other.value_) : nullptr) {}
  Boxed(Boxed&&) noexcept = default;
  Boxed& operator=(const Boxed& other) {
    if (this != &other) value_ = other.value_ ? std::make_unique<T>(*other.value_) : nullptr;
    return *this;
  }
  Boxed& operator=(Boxed&&) noexcept = default;
  ~Boxed() = default;

  template <typename... Args>
  T& emplace(Args&&... args) {
    value_ = std::make_unique<T>(std::forward<Args>(args)...);
    return *value_;
  }
  void reset() { value_.reset(); }

  bool has_value() const { return value_ != nullptr; }
  explicit operator bool() const { return has_value(); }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return value_.get(); }
  const T* operator->() const { return value_.get(); }
  const T& value() const { return *value_; }

 private:
  std::unique_ptr<T> value_;
};

// Numeric values are persisted in records and state: never renumber, only append.
enum class ElementType : uint8_t {
  kUnspecified = 0,
  kProcess = 1,
  kSubProcess = 2,
  kEventSubProcess = 3,
  kCallActivity = 4,
  kStartEvent = 5,
  kEndEvent = 6,
  kIntermediateCatchEvent = 7,
  kIntermediateThrowEvent = 8,
  kBoundaryEvent = 9,
  kServiceTask = 10,
  kSendTask = 11,
  kReceiveTask = 12,
  kUserTask = 13,
  kManualTask = 14,
  kScriptTask = 15,
  kBusinessRuleTask = 16,
  kTask = 17,  // bpmn:task, the "undefined task"
  kExclusiveGateway = 18,
  kParallelGateway = 19,
  kInclusiveGateway = 20,
  kEventBasedGateway = 21,
  kSequenceFlow = 22,
  kMultiInstanceBody = 23,  // synthetic: the scope wrapping a multi-instance activity
  // Elements Zeebe does not execute either; parsed only to be rejected by name.
  kComplexGateway = 24,
  kTransaction = 25,
  kAdHocSubProcess = 26,
};

// Numeric values are persisted: never renumber, only append.
enum class EventType : uint8_t {
  kNone = 0,
  kMessage = 1,
  kTimer = 2,
  kError = 3,
  kSignal = 4,
  kEscalation = 5,
  kCompensation = 6,
  kTerminate = 7,
  kLink = 8,
  kConditional = 9,
  kCancel = 10,
  kMultiple = 11,  // more than one event definition on one event
};

// Zeebe's names (BpmnElementType / BpmnEventType), used in records and error messages.
std::string_view ElementTypeName(ElementType type);  // e.g. "SERVICE_TASK"
std::string_view EventTypeName(EventType type);      // e.g. "TIMER"

struct Element;
// The `bpmnEventType` Zeebe writes in records for this element: "UNSPECIFIED" for elements that
// are not events (tasks, gateways, ...), EventTypeName(event_type) for events.
std::string_view BpmnEventTypeName(const Element& element);

// An attribute that may be a FEEL expression (`=...`) or a static value.
struct Expression {
  std::string text;  // as written in the XML, including the leading '=' for FEEL
  // Set when `text` starts with '='; compiled once at deploy time.
  std::shared_ptr<const feel::CompiledExpression> feel;
  bool is_feel() const { return feel != nullptr; }
  // For static expressions: the text itself (Zeebe reads numbers from static text too).
  const std::string& static_text() const { return text; }
};

struct TaskDefinition {
  Expression type;
  Expression retries;  // static "3" when absent, as in Zeebe
};

struct TaskHeader {
  std::string key;
  std::string value;
};

// zeebe:input / zeebe:output. `target` is a dotted path such as "order.customer.id".
struct VariableMapping {
  // Output sources are always FEEL (compiled even without '='). An input source without '=' is
  // a static string, as Zeebe evaluates it (its VariableMappingTransformer quotes it).
  Expression source;
  std::string target;
};

enum class TimerKind : uint8_t { kDuration = 0, kDate = 1, kCycle = 2 };

struct TimerDefinition {
  TimerKind kind = TimerKind::kDuration;
  Expression value;  // ISO 8601 duration/date/repeating interval, or cron for cycles
};

// bpmn:message referenced by a message event or receive/send task.
struct MessageDefinition {
  std::string id;                             // bpmn:message id
  std::optional<Expression> name;             // name attribute (may be FEEL)
  std::optional<Expression> correlation_key;  // zeebe:subscription correlationKey
};

struct ErrorDefinition {
  std::string id;                  // bpmn:error id; empty for a catch-all error event
  std::optional<Expression> code;  // errorCode; absent = catch all
};

struct EscalationDefinition {
  std::string id;
  std::optional<Expression> code;  // escalationCode; absent = catch all
};

struct SignalDefinition {
  std::string id;
  std::optional<Expression> name;
};

struct LinkDefinition {
  std::string name;
};

struct CompensationDefinition {
  std::string activity_ref;  // optional activityRef on a compensation throw event
  bool wait_for_completion = true;
};

struct LoopCharacteristics {
  bool sequential = false;
  std::optional<Expression> input_collection;
  std::string input_element;
  std::string output_collection;
  std::optional<Expression> output_element;
  // The variable an outputElement such as `=result` or `=result.total` reads. Each inner
  // instance starts with it set to null locally, as Zeebe does, so that what the inner activity
  // writes stays in that instance instead of landing in a shared outer scope. Empty when the
  // expression is anything else or reads the inputElement or loopCounter.
  std::string output_element_variable;
  std::optional<Expression> completion_condition;
};

// zeebe:executionListener: a job that runs when the element starts (after its input mappings,
// before its own behaviour) or ends (after its output mappings, before it is left). Listeners of
// one phase run one after the other, in document order.
enum class ListenerEventType { kStart, kEnd };

struct ExecutionListener {
  ListenerEventType event_type = ListenerEventType::kStart;
  std::string event_type_text;  // as written, for the validator
  Expression type;
  Expression retries;  // static "3" when absent, as in Zeebe
};

// Which version of a called process or decision is used (zeebe:calledElement and
// zeebe:calledDecision bindingType): the latest, the one deployed together with the calling
// process, or the latest one carrying a version tag.
enum class BindingType { kLatest, kDeployment, kVersionTag };

struct Binding {
  BindingType type = BindingType::kLatest;
  std::string type_text = "latest";  // as written, for the validator
  std::string version_tag;           // the versionTag attribute
};

struct CalledElement {
  Expression process_id;
  bool propagate_all_child_variables = true;
  bool propagate_all_parent_variables = true;
  Binding binding;
};

struct CalledDecision {
  Expression decision_id;
  std::string result_variable;
  Binding binding;
};

struct Script {
  Expression expression;
  std::string result_variable;
};

struct UserTaskProperties {
  std::optional<Expression> assignee;
  std::optional<Expression> candidate_groups;
  std::optional<Expression> candidate_users;
  std::optional<Expression> due_date;
  std::optional<Expression> follow_up_date;
  // zeebe:priorityDefinition priority (native user tasks): FEEL or a static 0..100.
  std::optional<Expression> priority;
  std::string form_key;
  std::string form_id;
  std::string external_reference;  // zeebe:formDefinition externalReference (native user tasks)
  Binding form_binding;            // zeebe:formDefinition bindingType / versionTag
  bool zeebe_user_task = false;    // <zeebe:userTask/> present (native user task)
};

struct Element {
  ElementIndex index = kNoElement;
  std::string id;
  std::string name;
  ElementType type = ElementType::kUnspecified;
  EventType event_type = EventType::kNone;
  int line = 0;  // 1-based line of the element's start tag in the resource

  // The enclosing process, subprocess or event subprocess; kNoElement for the process itself.
  ElementIndex flow_scope = kNoElement;
  // For scopes (process, subprocess, event subprocess): the elements directly inside.
  std::vector<ElementIndex> children;
  // For scopes: their none start event (or kNoElement) and their event subprocesses.
  ElementIndex none_start_event = kNoElement;
  std::vector<ElementIndex> start_events;  // all start events of this scope
  std::vector<ElementIndex> event_subprocesses;

  // Flow nodes.
  std::vector<ElementIndex> incoming;  // sequence flows
  std::vector<ElementIndex> outgoing;  // sequence flows
  ElementIndex default_flow = kNoElement;

  // Sequence flows.
  ElementIndex source = kNoElement;
  ElementIndex target = kNoElement;
  Boxed<Expression> condition;

  // Activities.
  std::vector<ElementIndex> boundary_events;
  Boxed<LoopCharacteristics> loop;  // multi-instance
  bool is_for_compensation = false;
  ElementIndex compensation_handler = kNoElement;  // via compensation boundary association

  // Boundary events and event subprocess start events.
  ElementIndex attached_to = kNoElement;
  bool interrupting = true;  // cancelActivity / isInterrupting

  // Zeebe extension elements.
  Boxed<TaskDefinition> task_definition;
  std::vector<TaskHeader> task_headers;
  std::vector<VariableMapping> inputs;
  std::vector<VariableMapping> outputs;
  Boxed<CalledElement> called_element;
  Boxed<CalledDecision> called_decision;
  Boxed<Script> script;
  Boxed<UserTaskProperties> user_task;
  std::map<std::string, std::string> properties;  // zeebe:properties
  std::vector<ExecutionListener> execution_listeners;

  // Event definitions (set according to event_type).
  Boxed<TimerDefinition> timer;
  Boxed<MessageDefinition> message;  // also for receive and send tasks
  Boxed<ErrorDefinition> error;
  Boxed<EscalationDefinition> escalation;
  Boxed<SignalDefinition> signal;
  Boxed<LinkDefinition> link;
  Boxed<CompensationDefinition> compensation;
  Boxed<Expression> conditional;  // conditional event condition

  bool has_execution_listeners(ListenerEventType event_type) const {
    for (const ExecutionListener& listener : execution_listeners) {
      if (listener.event_type == event_type) return true;
    }
    return false;
  }

  bool is_scope() const {
    return type == ElementType::kProcess || type == ElementType::kSubProcess ||
           type == ElementType::kEventSubProcess;
  }
  // Tasks, embedded subprocesses and call activities: the elements boundary events attach to
  // and multi-instance applies to. (An event subprocess is an activity in BPMN, but neither
  // applies to it, so it is left out.)
  bool is_activity() const {
    switch (type) {
      case ElementType::kSubProcess:
      case ElementType::kCallActivity:
      case ElementType::kServiceTask:
      case ElementType::kSendTask:
      case ElementType::kReceiveTask:
      case ElementType::kUserTask:
      case ElementType::kManualTask:
      case ElementType::kScriptTask:
      case ElementType::kBusinessRuleTask:
      case ElementType::kTask:
      case ElementType::kTransaction:
      case ElementType::kAdHocSubProcess:
        return true;
      default:
        return false;
    }
  }
  bool is_event() const {
    return type == ElementType::kStartEvent || type == ElementType::kEndEvent ||
           type == ElementType::kIntermediateCatchEvent ||
           type == ElementType::kIntermediateThrowEvent || type == ElementType::kBoundaryEvent;
  }
  bool is_gateway() const {
    return type == ElementType::kExclusiveGateway || type == ElementType::kParallelGateway ||
           type == ElementType::kInclusiveGateway || type == ElementType::kEventBasedGateway ||
           type == ElementType::kComplexGateway;
  }
};

struct Process {
  std::string id;  // bpmnProcessId
  std::string name;
  bool executable = true;
  std::string version_tag;        // <zeebe:versionTag value="..."/> ("" when absent)
  std::vector<Element> elements;  // elements[0] is the process element itself
  // Indexes of the elements with an id, sorted by id (the first of equal ids first): 4 bytes per
  // element where a std::map kept a node and a copy of the id.
  std::vector<ElementIndex> by_id;

  const Element& root() const { return elements[0]; }
  const Element& at(ElementIndex index) const { return elements.at(static_cast<size_t>(index)); }
  // The position in by_id of the element with this id, or nullptr.
  const ElementIndex* FindIndex(std::string_view element_id) const {
    auto it = std::lower_bound(by_id.begin(), by_id.end(), element_id,
                               [this](ElementIndex index, std::string_view id) {
                                 return elements[static_cast<size_t>(index)].id < id;
                               });
    if (it == by_id.end() || elements[static_cast<size_t>(*it)].id != element_id) return nullptr;
    return &*it;
  }
  const Element* Find(std::string_view element_id) const {
    const ElementIndex* index = FindIndex(element_id);
    return index == nullptr ? nullptr : &elements[static_cast<size_t>(*index)];
  }
};

// One parsed BPMN resource: every process in it.
struct Definitions {
  std::vector<Process> processes;

  const Process* FindProcess(std::string_view bpmn_process_id) const {
    for (const auto& process : processes) {
      if (process.id == bpmn_process_id) return &process;
    }
    return nullptr;
  }
};

// Heap bytes a parsed model holds (elements, their strings, lists and optional parts; compiled
// FEEL counted at a flat rate, though identical expressions share one). An estimate for cache
// budgets: 1.0-1.2x what malloc reports for large models (bench/bpmn).
size_t ApproximateMemoryBytes(const Definitions& definitions);

}  // namespace tern::bpmn
