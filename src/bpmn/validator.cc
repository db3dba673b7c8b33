#include "bpmn/validator.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "bpmn/strings.h"
#include "bpmn/timer_expression.h"
#if TERN_BPMN_HAVE_FEEL
#include "feel/temporal.h"
#endif

namespace tern::bpmn {
namespace {

// Static job types, message and signal names longer than this cannot be stored by the RDBMS
// exporters Zeebe supports, and are a cheap way to bloat every record (plan §4.2, B16).
constexpr size_t kMaxStaticNameBytes = 256;
constexpr size_t kMaxIdBytes = 256;
constexpr std::string_view kReservedHeaderPrefix = "io.camunda.zeebe:";

bool Blank(std::string_view text) { return Trim(text).empty(); }

bool IsFeelText(std::string_view text) { return TrimLeft(text).starts_with('='); }

// Zeebe's path rule for mapping targets: dotted identifiers, no FEEL keywords.
bool IsValidTargetPath(std::string_view path) {
  static constexpr std::string_view kReserved[] = {"null",    "true",     "false", "function",
                                                   "if",      "then",     "else",  "for",
                                                   "between", "instance", "of"};
  if (std::find(std::begin(kReserved), std::end(kReserved), path) != std::end(kReserved)) {
    return false;
  }
  for (std::string_view part : Split(path, '.')) {
    if (part.empty()) return false;
    if (!IsAlpha(part[0]) && part[0] != '_') return false;
    for (char c : part) {
      if (!IsAlnum(c) && c != '_') return false;
    }
  }
  return true;
}

// Zeebe's rule for static candidate lists: comma-separated, no empty entries.
bool IsCsvList(std::string_view text) {
  for (std::string_view item : Split(text, ',')) {
    if (Blank(item)) return false;
  }
  return true;
}

// A Java Integer.parseInt-style integer: optional sign, decimal digits, fits in 32 bits.
bool ParseStaticInt(std::string_view text, int64_t* value) {
  size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  if (i == text.size() || text.size() - i > 10) return false;
  int64_t result = 0;
  for (; i < text.size(); ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    result = result * 10 + (text[i] - '0');
  }
  result = negative ? -result : result;
  if (result < INT32_MIN || result > INT32_MAX) return false;
  *value = result;
  return true;
}

bool IsStaticDateTime(std::string_view text) {
#if TERN_BPMN_HAVE_FEEL
  return feel::ParseDateTime(text).has_value();
#else
  return !text.empty();
#endif
}

class ProcessValidator {
 public:
  ProcessValidator(const BuildOutput& built, size_t process_index, Problems& problems)
      : built_(built),
        process_(built.definitions->processes[process_index]),
        info_(built.info[process_index]),
        problems_(problems) {}

  void Run() {
    for (const Element& element : process_.elements) {
      CheckCommon(element);
      switch (element.type) {
        case ElementType::kProcess:
          CheckProcess(element);
          break;
        case ElementType::kSubProcess:
          CheckEmbeddedSubProcess(element);
          break;
        case ElementType::kEventSubProcess:
          CheckEventSubProcess(element);
          break;
        case ElementType::kSequenceFlow:
          CheckSequenceFlow(element);
          break;
        case ElementType::kStartEvent:
          CheckStartEvent(element);
          break;
        case ElementType::kEndEvent:
          CheckEndEvent(element);
          break;
        case ElementType::kIntermediateCatchEvent:
          CheckIntermediateCatchEvent(element);
          break;
        case ElementType::kIntermediateThrowEvent:
          CheckIntermediateThrowEvent(element);
          break;
        case ElementType::kBoundaryEvent:
          CheckBoundaryEvent(element);
          break;
        case ElementType::kServiceTask:
          CheckJobWorker(element, /*required=*/true);
          break;
        case ElementType::kSendTask:
          CheckMessageThrow(element);
          break;
        case ElementType::kReceiveTask:
          CheckReceiveTask(element);
          break;
        case ElementType::kScriptTask:
          CheckScriptTask(element);
          break;
        case ElementType::kBusinessRuleTask:
          CheckBusinessRuleTask(element);
          break;
        case ElementType::kUserTask:
          CheckUserTask(element);
          break;
        case ElementType::kCallActivity:
          CheckCallActivity(element);
          break;
        case ElementType::kEventBasedGateway:
          CheckEventBasedGateway(element);
          break;
        default:
          break;
      }
      if (element.is_event()) CheckEventDefinition(element);
      if (element.is_activity()) CheckActivity(element);
    }
    CheckStraightThroughLoops();
  }

 private:
  const Element& At(ElementIndex index) const { return process_.at(index); }
  const ElementInfo& Info(const Element& element) const {
    return info_[static_cast<size_t>(element.index)];
  }
  void Problem(const Element& element, std::string_view message) {
    Report(problems_, element, message);
  }

  // --- every element ---------------------------------------------------------------------

  void CheckCommon(const Element& element) {
    if (element.id.empty()) {
      Problem(element, "must have a non-empty id");
    } else if (element.id.size() > kMaxIdBytes) {
      Problem(element, Cat("the id must not be longer than ", kMaxIdBytes, " bytes"));
    }
    const ElementInfo& info = Info(element);
    auto at_most_one = [&](int count, std::string_view name) {
      if (count > 1) Problem(element, Cat("must not have more than one ", name));
    };
    at_most_one(info.task_definitions, "zeebe:taskDefinition");
    at_most_one(info.io_mappings, "zeebe:ioMapping");
    at_most_one(info.task_headers, "zeebe:taskHeaders");
    at_most_one(info.called_elements, "zeebe:calledElement");
    at_most_one(info.called_decisions, "zeebe:calledDecision");
    at_most_one(info.scripts, "zeebe:script");
    at_most_one(info.user_tasks, "zeebe:userTask");
    at_most_one(info.assignment_definitions, "zeebe:assignmentDefinition");
    at_most_one(info.form_definitions, "zeebe:formDefinition");
    at_most_one(info.task_schedules, "zeebe:taskSchedule");
    at_most_one(info.priority_definitions, "zeebe:priorityDefinition");

    if (element.task_definition.has_value()) {
      const TaskDefinition& definition = *element.task_definition;
      if (Blank(definition.type.text)) {
        Problem(element, "must have a zeebe:taskDefinition with a non-empty type");
      } else if (!definition.type.is_feel() && !IsFeelText(definition.type.text) &&
                 definition.type.text.size() > kMaxStaticNameBytes) {
        Problem(element,
                Cat("the job type must not be longer than ", kMaxStaticNameBytes, " bytes"));
      }
      if (Blank(definition.retries.text)) {
        Problem(element, "zeebe:taskDefinition retries must not be empty");
      }
    }
    CheckMappings(element, element.inputs, "zeebe:input");
    CheckMappings(element, element.outputs, "zeebe:output");
    CheckTaskHeaders(element);
    at_most_one(info.execution_listener_blocks, "zeebe:executionListeners");
    at_most_one(info.version_tags, "zeebe:versionTag");
    CheckExecutionListeners(element);
    if (element.called_element)
      CheckBinding(element, element.called_element->binding, "zeebe:calledElement");
    if (element.called_decision) {
      CheckBinding(element, element.called_decision->binding, "zeebe:calledDecision");
    }

    // Conditions are evaluated only by exclusive and inclusive gateways (camunda/camunda#4645).
    if (element.type != ElementType::kExclusiveGateway &&
        element.type != ElementType::kInclusiveGateway) {
      for (ElementIndex flow : element.outgoing) {
        if (Info(At(flow)).has_condition_element) {
          Problem(element, Cat("the outgoing sequence flow '", Excerpt(At(flow).id),
                               "' has a condition, but conditional sequence flows are only "
                               "supported at exclusive or inclusive gateways"));
        }
      }
    }
  }

  void CheckMappings(const Element& element, const std::vector<VariableMapping>& mappings,
                     std::string_view what) {
    for (const VariableMapping& mapping : mappings) {
      if (Blank(mapping.source.text)) {
        Problem(element, Cat(what, " source must not be empty"));
      }
      if (mapping.target.empty()) {
        Problem(element, Cat(what, " target must not be empty"));
      } else if (!IsValidTargetPath(mapping.target)) {
        Problem(element, Cat(what, " target '", Excerpt(mapping.target),
                             "' must be a variable name or a dotted path such as 'order.id' "
                             "(and not a FEEL keyword)"));
      }
    }
  }

  // Zeebe's ZeebeBindingTypeValidator.
  void CheckBinding(const Element& element, const Binding& binding, std::string_view owner) {
    if (binding.type_text != "latest" && binding.type_text != "deployment" &&
        binding.type_text != "versionTag") {
      Problem(element,
              Cat(owner, " bindingType must be one of: deployment, latest, versionTag (not '",
                  Excerpt(binding.type_text), "')"));
      return;
    }
    const bool has_tag = !Blank(binding.version_tag);
    if (binding.type == BindingType::kVersionTag && !has_tag) {
      Problem(element, Cat(owner,
                           " versionTag must be present and not empty if bindingType is "
                           "'versionTag'"));
    } else if (binding.type != BindingType::kVersionTag && has_tag) {
      Problem(element, Cat(owner, " versionTag may only be used if bindingType is 'versionTag'"));
    }
  }

  // Zeebe's ExecutionListenersValidator and the per-element rules of its event and gateway
  // validators.
  void CheckExecutionListeners(const Element& element) {
    if (element.execution_listeners.empty()) return;
    switch (element.type) {
      case ElementType::kProcess:
      case ElementType::kSubProcess:
      case ElementType::kEventSubProcess:
      case ElementType::kCallActivity:
      case ElementType::kTask:
      case ElementType::kSendTask:
      case ElementType::kServiceTask:
      case ElementType::kScriptTask:
      case ElementType::kUserTask:
      case ElementType::kReceiveTask:
      case ElementType::kBusinessRuleTask:
      case ElementType::kManualTask:
      case ElementType::kStartEvent:
      case ElementType::kIntermediateThrowEvent:
      case ElementType::kIntermediateCatchEvent:
      case ElementType::kBoundaryEvent:
      case ElementType::kEndEvent:
      case ElementType::kExclusiveGateway:
      case ElementType::kInclusiveGateway:
      case ElementType::kParallelGateway:
      case ElementType::kEventBasedGateway:
        break;
      default:
        Problem(element,
                "execution listeners are not supported for this element; only processes, "
                "subprocesses, call activities, tasks, events and gateways can have them");
        return;
    }
    bool has_start = false;
    bool has_end = false;
    // (eventType, type) -> how often, and the pairs in document order: a map, so that a model
    // with very many listeners is still checked in n log n.
    std::map<std::pair<std::string_view, std::string_view>, int> counts;
    std::vector<std::pair<std::string_view, std::string_view>> seen;
    for (const ExecutionListener& listener : element.execution_listeners) {
      if (listener.event_type_text != "start" && listener.event_type_text != "end") {
        Problem(element, Cat("zeebe:executionListener eventType must be 'start' or 'end', not '",
                             Excerpt(listener.event_type_text), "'"));
        continue;
      }
      (listener.event_type == ListenerEventType::kStart ? has_start : has_end) = true;
      if (Blank(listener.type.text)) {
        Problem(element, "zeebe:executionListener type must not be empty");
      } else if (!listener.type.is_feel() && !IsFeelText(listener.type.text) &&
                 listener.type.text.size() > kMaxStaticNameBytes) {
        Problem(element, Cat("the execution listener job type must not be longer than ",
                             kMaxStaticNameBytes, " bytes"));
      }
      if (Blank(listener.retries.text)) {
        Problem(element, "zeebe:executionListener retries must not be empty");
      }
      const std::pair<std::string_view, std::string_view> key{listener.event_type_text,
                                                              listener.type.text};
      if (++counts[key] == 1) seen.push_back(key);
    }
    for (const auto& key : seen) {
      if (const int count = counts[key]; count > 1) {
        Problem(element,
                Cat("has ", count, " execution listeners with eventType '", key.first,
                    "' and type '", Excerpt(key.second), "'; each combination must be unique"));
      }
    }
    const bool compensation = element.event_type == EventType::kCompensation;
    if (element.type == ElementType::kBoundaryEvent && compensation && (has_start || has_end)) {
      Problem(element,
              "execution listeners of type 'start' and 'end' are not supported by compensation "
              "boundary events");
    } else if ((element.type == ElementType::kStartEvent ||
                element.type == ElementType::kBoundaryEvent) &&
               has_start) {
      Problem(element,
              Cat("execution listeners of type 'start' are not supported by ",
                  element.type == ElementType::kStartEvent ? "start" : "boundary", " events"));
    }
    if (element.type == ElementType::kEndEvent && element.event_type == EventType::kError &&
        has_end) {
      Problem(element, "execution listeners of type 'end' are not supported by error end events");
    }
    if (element.is_gateway() && has_end) {
      Problem(element, "execution listeners of type 'end' are not supported by gateways");
    }
  }

  void CheckTaskHeaders(const Element& element) {
    absl::flat_hash_set<std::string_view> keys;
    for (const TaskHeader& header : element.task_headers) {
      if (header.key.starts_with(kReservedHeaderPrefix)) {
        Problem(element, Cat("task header key '", Excerpt(header.key), "' uses the prefix '",
                             kReservedHeaderPrefix, "', which is reserved for internal use"));
      }
      if (!keys.insert(header.key).second) {
        Problem(element, Cat("task headers contain the key '", Excerpt(header.key), "' twice"));
      }
    }
  }

  // --- scopes ----------------------------------------------------------------------------

  void CheckProcess(const Element& process) {
    if (process.start_events.empty()) {
      Problem(process, "must have at least one start event");
    }
    int none_starts = 0;
    std::vector<const Element*> message_starts;
    std::vector<const Element*> signal_starts;
    for (ElementIndex index : process.start_events) {
      const Element& start = At(index);
      switch (start.event_type) {
        case EventType::kNone:
          ++none_starts;
          break;
        case EventType::kMessage:
          message_starts.push_back(&start);
          break;
        case EventType::kSignal:
          signal_starts.push_back(&start);
          break;
        case EventType::kTimer:
        case EventType::kConditional:
        case EventType::kMultiple:
          break;
        default:
          Problem(start,
                  "the start event of a process must be a none, message, timer, signal or "
                  "conditional start event");
      }
    }
    if (none_starts > 1) Problem(process, "must not have more than one none start event");
    CheckDuplicateNames(process, message_starts, "message start events");
    CheckDuplicateNames(process, signal_starts, "signal start events");
    // One message may start a process through one start event only.
    absl::flat_hash_map<std::string_view, int> uses;
    for (const Element* start : message_starts) {
      if (start->message.has_value() && ++uses[start->message->id] == 2) {
        Problem(process, Cat("the message '", Excerpt(start->message->id),
                             "' is referenced by more than one start event"));
      }
    }
    CheckScope(process);
  }

  void CheckEmbeddedSubProcess(const Element& subprocess) {
    if (subprocess.start_events.size() != 1) {
      Problem(subprocess, "must have exactly one start event");
    } else if (At(subprocess.start_events[0]).event_type != EventType::kNone) {
      Problem(At(subprocess.start_events[0]),
              "the start event of an embedded subprocess must be a none start event");
    }
    CheckScope(subprocess);
  }

  void CheckEventSubProcess(const Element& subprocess) {
    if (subprocess.start_events.size() != 1) {
      Problem(subprocess, "must have exactly one start event");
    } else {
      const Element& start = At(subprocess.start_events[0]);
      switch (start.event_type) {
        case EventType::kMessage:
        case EventType::kTimer:
        case EventType::kError:
        case EventType::kSignal:
        case EventType::kEscalation:
        case EventType::kConditional:
          break;
        default:
          Problem(start,
                  "the start event of an event subprocess must be a message, timer, error, "
                  "signal, escalation or conditional start event");
      }
    }
    if (!subprocess.incoming.empty() || !subprocess.outgoing.empty()) {
      Problem(subprocess, "an event subprocess must not have incoming or outgoing sequence flows");
    }
    CheckScope(subprocess);
  }

  // Rules on the direct contents of a process, subprocess or event subprocess.
  void CheckScope(const Element& scope) {
    // Event subprocess start events are catch events of this scope: they must not overlap.
    std::vector<const Element*> starts;
    for (ElementIndex index : scope.event_subprocesses) {
      for (ElementIndex start : At(index).start_events) starts.push_back(&At(start));
    }
    CheckCatchEventOverlap(scope, starts, "event subprocesses");

    // Link events pair up by name inside one scope.
    absl::flat_hash_map<std::string_view, int> catch_names;
    std::vector<const Element*> throws;
    for (ElementIndex index : scope.children) {
      const Element& element = At(index);
      if (element.event_type != EventType::kLink || !element.link.has_value() ||
          element.link->name.empty()) {
        continue;
      }
      if (element.type == ElementType::kIntermediateCatchEvent) {
        if (++catch_names[element.link->name] == 2) {
          Problem(scope, Cat("has more than one link catch event named '",
                             Excerpt(element.link->name), "'"));
        }
      } else if (element.type == ElementType::kIntermediateThrowEvent) {
        throws.push_back(&element);
      }
    }
    for (const Element* link : throws) {
      if (!catch_names.contains(link->link->name)) {
        Problem(*link, Cat("there is no link catch event named '", Excerpt(link->link->name),
                           "' in the same scope"));
      }
    }
  }

  // Two catch events that wait at the same time (boundary events of one activity, start events
  // of the event subprocesses of one scope, targets of one event-based gateway) must not react
  // to the same message, signal, error or escalation.
  void CheckCatchEventOverlap(const Element& owner, const std::vector<const Element*>& events,
                              std::string_view what) {
    std::vector<const Element*> messages;
    std::vector<const Element*> signals;
    absl::flat_hash_map<std::string, int> error_codes;
    absl::flat_hash_map<std::string, int> escalation_codes;
    int catch_all_errors = 0;
    int catch_all_escalations = 0;
    for (const Element* event : events) {
      switch (event->event_type) {
        case EventType::kMessage:
          messages.push_back(event);
          break;
        case EventType::kSignal:
          signals.push_back(event);
          break;
        case EventType::kError:
          if (!event->error.has_value() || !event->error->code.has_value()) {
            ++catch_all_errors;
          } else if (++error_codes[event->error->code->text] == 2) {
            Problem(owner, Cat("has more than one error catch event for the error code '",
                               Excerpt(event->error->code->text), "' in its ", what));
          }
          break;
        case EventType::kEscalation:
          if (!event->escalation.has_value() || !event->escalation->code.has_value()) {
            ++catch_all_escalations;
          } else if (++escalation_codes[event->escalation->code->text] == 2) {
            Problem(owner, Cat("has more than one escalation catch event for the escalation code '",
                               Excerpt(event->escalation->code->text), "' in its ", what));
          }
          break;
        default:
          break;
      }
    }
    if (catch_all_errors > 1) {
      Problem(owner, Cat("has more than one error catch event without an error code in "
                         "its ",
                         what, " (such an event catches all errors)"));
    }
    if (catch_all_escalations > 1) {
      Problem(owner, Cat("has more than one escalation catch event without an "
                         "escalation code in its ",
                         what, " (such an event catches all escalations)"));
    }
    CheckDuplicateNames(owner, messages, what);
    CheckDuplicateNames(owner, signals, what);
  }

  // Message and signal events among `events` must have distinct (static) names.
  void CheckDuplicateNames(const Element& owner, const std::vector<const Element*>& events,
                           std::string_view what) {
    absl::flat_hash_map<std::string_view, int> names;
    for (const Element* event : events) {
      const std::optional<Expression>* name = nullptr;
      std::string_view noun;
      if (event->message.has_value()) {
        name = &event->message->name;
        noun = "message";
      } else if (event->signal.has_value()) {
        name = &event->signal->name;
        noun = "signal";
      } else {
        continue;
      }
      if (!name->has_value() || (*name)->text.empty()) continue;
      if (++names[(*name)->text] == 2) {
        Problem(owner, Cat("has more than one ", noun, " event named '", Excerpt((*name)->text),
                           "' in its ", what));
      }
    }
  }

  // --- sequence flows and gateways ----------------------------------------------------------

  void CheckSequenceFlow(const Element& flow) {
    const ElementInfo& info = Info(flow);
    if (flow.source == kNoElement) return;  // reported while resolving references
    const Element& source = At(flow.source);
    if (info.has_condition_element && !flow.condition.has_value() && !info.feel_error) {
      Problem(flow, "the condition must not be empty");
    }
    const bool is_default = source.default_flow == flow.index;
    if (is_default && info.has_condition_element) {
      Problem(flow, "the default flow must not have a condition");
    }
    if ((source.type == ElementType::kExclusiveGateway ||
         source.type == ElementType::kInclusiveGateway) &&
        source.outgoing.size() > 1 && !is_default && !info.has_condition_element) {
      Problem(flow, Cat("must have a condition or be the default flow of the gateway '",
                        Excerpt(source.id), "'"));
    }
  }

  void CheckEventBasedGateway(const Element& gateway) {
    if (gateway.outgoing.size() < 2) {
      Problem(gateway, "must have at least 2 outgoing sequence flows");
    }
    std::vector<const Element*> targets;
    for (ElementIndex flow : gateway.outgoing) {
      const Element& target = At(At(flow).target);
      const bool valid =
          target.type == ElementType::kIntermediateCatchEvent &&
          (target.event_type == EventType::kMessage || target.event_type == EventType::kTimer ||
           target.event_type == EventType::kSignal || target.event_type == EventType::kConditional);
      if (!valid) {
        Problem(gateway, Cat("may only be followed by message, timer, signal or "
                             "conditional intermediate catch events, but '",
                             Excerpt(target.id), "' is a ", ElementKind(target)));
        continue;
      }
      targets.push_back(&target);
      for (ElementIndex incoming : target.incoming) {
        if (At(incoming).source != gateway.index) {
          Problem(target, Cat("follows the event-based gateway '", Excerpt(gateway.id),
                              "' and must not have other incoming sequence flows"));
          break;
        }
      }
    }
    CheckCatchEventOverlap(gateway, targets, "targets");
  }

  // --- events ----------------------------------------------------------------------------

  // Rules on the event definition itself, wherever the event is.
  void CheckEventDefinition(const Element& event) {
    const ElementInfo& info = Info(event);
    const bool is_throw =
        event.type == ElementType::kIntermediateThrowEvent || event.type == ElementType::kEndEvent;
    switch (event.event_type) {
      case EventType::kMessage:
        if (is_throw) {
          CheckMessageThrow(event);
        } else {
          CheckMessageCatch(event);
        }
        break;
      case EventType::kTimer:
        CheckTimer(event);
        break;
      case EventType::kError:
        if (is_throw) {
          if (info.error_ref_missing) {
            Problem(event, "must reference an error (errorRef)");
          } else if (info.error != nullptr &&
                     (info.error->code == nullptr || Blank(*info.error->code))) {
            Problem(event, Cat("the error '", Excerpt(info.error->id), "' (line ", info.error->line,
                               ") must have a non-empty errorCode"));
          }
        } else if (info.error != nullptr && info.error->code != nullptr &&
                   IsFeelText(*info.error->code)) {
          Problem(event, "the errorCode of an error catch event must not be an expression");
        }
        break;
      case EventType::kEscalation:
        if (is_throw) {
          if (info.escalation_ref_missing) {
            Problem(event, "must reference an escalation (escalationRef)");
          } else if (info.escalation != nullptr &&
                     (info.escalation->code == nullptr || Blank(*info.escalation->code))) {
            Problem(event, Cat("the escalation '", Excerpt(info.escalation->id), "' (line ",
                               info.escalation->line, ") must have a non-empty escalationCode"));
          }
        } else if (info.escalation != nullptr && info.escalation->code != nullptr &&
                   IsFeelText(*info.escalation->code)) {
          Problem(event,
                  "the escalationCode of an escalation catch event must not be an expression");
        }
        break;
      case EventType::kSignal:
        if (info.signal_ref_missing) {
          Problem(event, "must reference a signal (signalRef)");
        } else if (info.signal != nullptr) {
          CheckName(event, "signal", *info.signal);
        }
        break;
      case EventType::kLink:
        if (!event.link.has_value() || event.link->name.empty()) {
          Problem(event, "the link name must be present and not empty");
        }
        break;
      case EventType::kCompensation:
        CheckCompensationThrow(event);
        break;
      default:
        break;
    }
  }

  void CheckName(const Element& event, std::string_view noun, const GlobalInfo& global) {
    if (global.name == nullptr || Blank(*global.name)) {
      Problem(event, Cat("the ", noun, " '", Excerpt(global.id), "' (line ", global.line,
                         ") must have a non-empty name"));
    } else if (!IsFeelText(*global.name) && global.name->size() > kMaxStaticNameBytes) {
      Problem(event,
              Cat("the ", noun, " name must not be longer than ", kMaxStaticNameBytes, " bytes"));
    }
  }

  // Message catch events, receive tasks and message start events.
  void CheckMessageCatch(const Element& element) {
    const ElementInfo& info = Info(element);
    if (info.message_ref_missing) {
      Problem(element, "must reference a message (messageRef)");
      return;
    }
    if (info.message == nullptr) return;  // unresolved: reported by the builder
    CheckName(element, "message", *info.message);
    // A process-level message start event creates the instance; there is nothing to correlate
    // to yet, so it needs no correlation key.
    const bool process_start = element.type == ElementType::kStartEvent && element.flow_scope == 0;
    if (process_start) return;
    if (info.message->subscriptions != 1) {
      Problem(element,
              Cat("the message '", Excerpt(info.message->id), "' (line ", info.message->line,
                  ") must have exactly one zeebe:subscription with a "
                  "correlationKey"));
    } else if (info.message->correlation_key == nullptr || Blank(*info.message->correlation_key)) {
      Problem(element,
              Cat("the message '", Excerpt(info.message->id), "' (line ", info.message->line,
                  ") must have a non-empty zeebe:subscription correlationKey"));
    }
  }

  // Send tasks and message throw / end events run as jobs.
  void CheckMessageThrow(const Element& element) {
    const ElementInfo& info = Info(element);
    if (info.task_definitions > 0 && info.publish_messages > 0) {
      Problem(element,
              "must have either a zeebe:taskDefinition or a zeebe:publishMessage, not both");
    } else if (info.task_definitions == 0 && info.publish_messages == 0) {
      Problem(element, "must have a zeebe:taskDefinition with a non-empty type");
    }
    if (info.publish_messages > 0 && info.message == nullptr && info.message_ref_missing) {
      Problem(element, "must reference a message (messageRef)");
    }
  }

  void CheckTimer(const Element& event) {
    const ElementInfo& info = Info(event);
    if (info.timer_values != 1) {
      Problem(event, "a timer must have exactly one of timeDuration, timeDate or timeCycle");
      return;
    }
    if (!event.timer.has_value()) return;  // empty or invalid: reported by the builder
    const TimerKind kind = event.timer->kind;
    const bool process_start = event.type == ElementType::kStartEvent && event.flow_scope == 0;
    if (process_start) {
      if (kind == TimerKind::kDuration) {
        Problem(event, "a timer start event must have a timeDate or a timeCycle");
      }
    } else if (event.type == ElementType::kIntermediateCatchEvent) {
      if (kind == TimerKind::kCycle) {
        Problem(event, "an intermediate timer catch event must have a timeDuration or a timeDate");
      }
    } else if (event.interrupting && kind == TimerKind::kCycle) {
      Problem(event, "an interrupting timer event must not have a timeCycle");
    }
    // A static text must have its kind's form; the engine also evaluates it at the deployment's
    // time (what depends on the time, e.g. a due date past the latest one, is checked there).
    if (!event.timer->value.is_feel()) {
      absl::Status form = timers::CheckTimerText(kind, event.timer->value.static_text());
      if (!form.ok()) Problem(event, std::string(form.message()));
    }
  }

  void CheckCompensationThrow(const Element& event) {
    if (event.type != ElementType::kIntermediateThrowEvent &&
        event.type != ElementType::kEndEvent) {
      return;
    }
    const ElementInfo& info = Info(event);
    if (!info.wait_for_completion.empty() && info.wait_for_completion != "true") {
      Problem(event, "the compensation waitForCompletion attribute must be true or absent");
    }
    if (info.raw_activity_ref.empty()) return;
    const Element* activity = process_.Find(info.raw_activity_ref);
    if (activity == nullptr || !activity->is_activity()) {
      Problem(event, Cat("the compensation activity '", Excerpt(info.raw_activity_ref),
                         "' does not exist"));
      return;
    }
    const bool has_compensation_boundary =
        std::any_of(activity->boundary_events.begin(), activity->boundary_events.end(),
                    [&](ElementIndex b) { return At(b).event_type == EventType::kCompensation; });
    if (!has_compensation_boundary && activity->type != ElementType::kSubProcess) {
      Problem(event, Cat("the compensation activity '", Excerpt(activity->id),
                         "' must have a compensation boundary event or be a subprocess"));
    }
    if (activity->flow_scope != event.flow_scope) {
      Problem(event, Cat("the compensation activity '", Excerpt(activity->id),
                         "' must be in the same scope as the compensation throw event"));
    }
  }

  void CheckNonInterrupting(const Element& event) {
    if (event.interrupting) return;
    switch (event.event_type) {
      case EventType::kMessage:
      case EventType::kTimer:
      case EventType::kSignal:
      case EventType::kEscalation:
      case EventType::kConditional:
        return;
      default:
        Problem(event,
                "must be interrupting: only message, timer, signal, escalation and "
                "conditional events may be non-interrupting");
    }
  }

  void CheckStartEvent(const Element& start) {
    if (!start.incoming.empty()) Problem(start, "must not have incoming sequence flows");
    CheckNonInterrupting(start);
  }

  void CheckEndEvent(const Element& end) {
    if (!end.outgoing.empty()) Problem(end, "must not have outgoing sequence flows");
  }

  void CheckIntermediateCatchEvent(const Element& event) {
    if (Info(event).event_definitions != 1) {
      Problem(event, "must have exactly one event definition");
    }
  }

  void CheckIntermediateThrowEvent(const Element& event) {
    if (Info(event).event_definitions > 1) {
      Problem(event, "must have at most one event definition");
    }
  }

  void CheckBoundaryEvent(const Element& event) {
    const ElementInfo& info = Info(event);
    if (!event.incoming.empty()) Problem(event, "must not have incoming sequence flows");
    if (info.event_definitions != 1) Problem(event, "must have exactly one event definition");
    CheckNonInterrupting(event);
    if (event.attached_to == kNoElement) return;
    const Element& activity = At(event.attached_to);
    if (event.event_type == EventType::kEscalation && activity.type != ElementType::kSubProcess &&
        activity.type != ElementType::kCallActivity) {
      Problem(event,
              "an escalation boundary event may only be attached to a subprocess or a "
              "call activity");
    }
    if (event.event_type == EventType::kCompensation &&
        (!event.outgoing.empty() || !info.has_association)) {
      Problem(event,
              "a compensation boundary event must have a compensation association and no "
              "outgoing sequence flows");
    }
  }

  // --- activities ------------------------------------------------------------------------

  void CheckActivity(const Element& activity) {
    std::vector<const Element*> boundaries;
    for (ElementIndex index : activity.boundary_events) boundaries.push_back(&At(index));
    CheckCatchEventOverlap(activity, boundaries, "boundary events");

    const ElementInfo& info = Info(activity);
    if (info.multi_instance) {
      if (info.zeebe_loops != 1) {
        Problem(activity,
                "a multi-instance activity must have exactly one "
                "zeebe:loopCharacteristics extension element");
      }
      if (activity.loop.has_value()) {
        const LoopCharacteristics& loop = *activity.loop;
        if (info.zeebe_loops == 1 && !loop.input_collection.has_value() &&
            !HasFeelErrorOn(activity)) {
          Problem(activity,
                  "zeebe:loopCharacteristics inputCollection must be present and not "
                  "empty");
        }
        const bool has_output_element = loop.output_element.has_value();
        if (!loop.output_collection.empty() && !has_output_element) {
          Problem(activity,
                  "zeebe:loopCharacteristics outputElement must be present when "
                  "outputCollection is set");
        } else if (loop.output_collection.empty() && has_output_element) {
          Problem(activity,
                  "zeebe:loopCharacteristics outputCollection must be present when "
                  "outputElement is set");
        }
        if (info.has_completion_condition && !loop.completion_condition.has_value() &&
            !HasFeelErrorOn(activity)) {
          Problem(activity, "the completionCondition must not be empty");
        }
      }
    }
    if (activity.is_for_compensation) {
      switch (activity.type) {
        case ElementType::kServiceTask:
        case ElementType::kUserTask:
        case ElementType::kSendTask:
        case ElementType::kScriptTask:
        case ElementType::kManualTask:
        case ElementType::kTask:
          break;
        default:
          Problem(activity,
                  "a compensation handler must be a service, user, send, script, "
                  "manual or undefined task");
      }
      if (!activity.incoming.empty() || !activity.outgoing.empty()) {
        Problem(activity,
                "a compensation handler must not have incoming or outgoing sequence "
                "flows");
      }
      if (!activity.boundary_events.empty()) {
        Problem(activity, "a compensation handler must not have boundary events");
      }
    }
  }

  // The builder already reported a FEEL error for this element; do not add "missing" on top.
  bool HasFeelErrorOn(const Element& element) const { return Info(element).feel_error; }

  void CheckJobWorker(const Element& task, bool required) {
    if (required && Info(task).task_definitions == 0) {
      Problem(task, "must have a zeebe:taskDefinition with a non-empty type");
    }
  }

  void CheckReceiveTask(const Element& task) {
    CheckMessageCatch(task);
    if (!task.message.has_value() || !task.message->name.has_value()) return;
    for (ElementIndex index : task.boundary_events) {
      const Element& boundary = At(index);
      if (boundary.message.has_value() && boundary.message->name.has_value() &&
          boundary.message->name->text == task.message->name->text) {
        Problem(task, Cat("must not wait for the same message name as its boundary "
                          "event '",
                          Excerpt(boundary.id), "'"));
      }
    }
  }

  void CheckScriptTask(const Element& task) {
    const ElementInfo& info = Info(task);
    if ((info.scripts > 0) == (info.task_definitions > 0)) {
      Problem(task, "must have either a zeebe:script or a zeebe:taskDefinition extension element");
    }
    if (task.script.has_value()) {
      if (Blank(task.script->expression.text)) {
        Problem(task, "zeebe:script expression must not be empty");
      }
      if (task.script->result_variable.empty()) {
        Problem(task, "zeebe:script resultVariable must not be empty");
      }
    }
  }

  void CheckBusinessRuleTask(const Element& task) {
    const ElementInfo& info = Info(task);
    if ((info.called_decisions > 0) == (info.task_definitions > 0)) {
      Problem(task,
              "must have either a zeebe:calledDecision or a zeebe:taskDefinition extension "
              "element");
    }
    if (task.called_decision.has_value()) {
      if (Blank(task.called_decision->decision_id.text)) {
        Problem(task, "zeebe:calledDecision decisionId must not be empty");
      }
      if (task.called_decision->result_variable.empty()) {
        Problem(task, "zeebe:calledDecision resultVariable must not be empty");
      }
    }
  }

  void CheckUserTask(const Element& task) {
    if (!task.user_task.has_value()) return;
    const UserTaskProperties& user = *task.user_task;
    const ElementInfo& info = Info(task);
    if (info.form_definitions == 1) {
      if (user.zeebe_user_task) {
        if (Blank(user.form_id) == Blank(user.external_reference)) {
          Problem(task,
                  "zeebe:formDefinition must have exactly one of formId and "
                  "externalReference for Zeebe user tasks");
        }
      } else if (Blank(user.form_id) == Blank(user.form_key)) {
        Problem(task, "zeebe:formDefinition must have exactly one of formId and formKey");
      }
    }
    for (const auto& [list, name] : {std::pair{&user.candidate_groups, "candidateGroups"},
                                     std::pair{&user.candidate_users, "candidateUsers"}}) {
      if (list->has_value() && !(*list)->is_feel() && !IsFeelText((*list)->text) &&
          !IsCsvList((*list)->text)) {
        Problem(task, Cat("zeebe:assignmentDefinition ", name,
                          " must be a comma-separated list such as 'a,b,c'"));
      }
    }
    // Zeebe's ZeebeTaskSchedule rule: static dates must be ISO 8601 date-times with an offset
    // or zone (the engine evaluates FEEL ones when the task is created).
    for (const auto& [date, name] :
         {std::pair{&user.due_date, "dueDate"}, std::pair{&user.follow_up_date, "followUpDate"}}) {
      if (!date->has_value() || (*date)->is_feel() || IsFeelText((*date)->text) ||
          Blank((*date)->text)) {
        continue;
      }
      if (!IsStaticDateTime(Trim((*date)->text))) {
        Problem(task, Cat("zeebe:taskSchedule ", name, " '", Excerpt((*date)->text),
                          "' must be a valid DateTime String, e.g. '2023-03-02T15:35+02:00'"));
      }
    }
    // Zeebe's ZeebePriorityDefinition rules: mandatory, and a static one is an integer 0..100.
    if (user.priority.has_value()) {
      const std::string_view text = Trim(user.priority->text);
      if (text.empty()) {
        Problem(task, "zeebe:priorityDefinition priority must not be empty");
      } else if (!user.priority->is_feel() && !IsFeelText(text)) {
        int64_t value = 0;
        if (!ParseStaticInt(text, &value)) {
          Problem(task, Cat("zeebe:priorityDefinition priority '", Excerpt(text),
                            "' must be a valid Number between 0 and 100"));
        } else if (value < 0 || value > 100) {
          Problem(task, Cat("zeebe:priorityDefinition priority: Priority must be a number "
                            "between 0 and 100, but was '",
                            Excerpt(text), "'"));
        }
      }
    }
    if (info.form_definitions == 1 && !Blank(user.form_id)) {
      CheckBinding(task, user.form_binding, "zeebe:formDefinition");
    }
  }

  void CheckCallActivity(const Element& activity) {
    if (Info(activity).called_elements == 0) {
      Problem(activity, "must have a zeebe:calledElement extension element");
    } else if (activity.called_element.has_value() &&
               Blank(activity.called_element->process_id.text)) {
      Problem(activity, "zeebe:calledElement processId must not be empty");
    }
  }

  // --- straight-through loops --------------------------------------------------------------

  // Zeebe rejects loops of elements that complete immediately (undefined and manual tasks,
  // throw events, FEEL script tasks, ...): an instance would run forever without a wait state.
  // Loops of gateways alone are allowed, as in Zeebe.
  bool IsStraightThrough(const Element& element) const {
    switch (element.type) {
      case ElementType::kManualTask:
      case ElementType::kTask:
      case ElementType::kExclusiveGateway:
      case ElementType::kInclusiveGateway:
      case ElementType::kParallelGateway:
      case ElementType::kStartEvent:
      case ElementType::kEndEvent:
      case ElementType::kSubProcess:
      case ElementType::kCallActivity:
        return true;
      case ElementType::kIntermediateThrowEvent:
        return element.event_type != EventType::kMessage;  // message throws are jobs
      case ElementType::kScriptTask:
        return element.script.has_value();
      case ElementType::kBusinessRuleTask:
        return element.called_decision.has_value();
      default:
        return false;
    }
  }

  static bool CountsAsLoopBody(const Element& element) {
    switch (element.type) {
      case ElementType::kManualTask:
      case ElementType::kTask:
      case ElementType::kCallActivity:
      case ElementType::kIntermediateThrowEvent:
      case ElementType::kScriptTask:
      case ElementType::kBusinessRuleTask:
        return true;
      default:
        return false;
    }
  }

  std::vector<ElementIndex> Successors(const Element& element) const {
    std::vector<ElementIndex> next;
    if (element.type == ElementType::kSubProcess) {
      if (element.none_start_event != kNoElement) next.push_back(element.none_start_event);
      return next;
    }
    if (element.type == ElementType::kCallActivity) {
      // Only a process calling itself is visible within one process.
      if (element.called_element.has_value() && !element.called_element->process_id.is_feel() &&
          element.called_element->process_id.text == process_.id &&
          process_.root().none_start_event != kNoElement) {
        next.push_back(process_.root().none_start_event);
      }
      return next;
    }
    const std::vector<ElementIndex>* flows = &element.outgoing;
    if (flows->empty() && element.flow_scope != kNoElement &&
        At(element.flow_scope).type == ElementType::kSubProcess) {
      flows = &At(element.flow_scope).outgoing;  // implicit end: the subprocess completes
    }
    for (ElementIndex flow : *flows) {
      if (At(flow).target != kNoElement) next.push_back(At(flow).target);
    }
    return next;
  }

  void CheckStraightThroughLoops() {
    // Tarjan's strongly connected components, iteratively, over straight-through elements.
    const size_t n = process_.elements.size();
    std::vector<int> order(n, -1);
    std::vector<int> low(n, 0);
    std::vector<bool> on_stack(n, false);
    std::vector<ElementIndex> stack;
    std::vector<std::vector<ElementIndex>> successors(n);
    for (const Element& element : process_.elements) {
      if (!IsStraightThrough(element)) continue;
      for (ElementIndex next : Successors(element)) {
        if (IsStraightThrough(At(next)))
          successors[static_cast<size_t>(element.index)].push_back(next);
      }
    }
    int counter = 0;
    struct Frame {
      ElementIndex node;
      size_t next_child;
    };
    for (const Element& start : process_.elements) {
      if (!IsStraightThrough(start) || order[static_cast<size_t>(start.index)] >= 0) continue;
      std::vector<Frame> frames{{start.index, 0}};
      order[static_cast<size_t>(start.index)] = low[static_cast<size_t>(start.index)] = counter++;
      stack.push_back(start.index);
      on_stack[static_cast<size_t>(start.index)] = true;
      while (!frames.empty()) {
        Frame& frame = frames.back();
        const auto v = static_cast<size_t>(frame.node);
        if (frame.next_child < successors[v].size()) {
          const ElementIndex w = successors[v][frame.next_child++];
          const auto wi = static_cast<size_t>(w);
          if (order[wi] < 0) {
            order[wi] = low[wi] = counter++;
            stack.push_back(w);
            on_stack[wi] = true;
            frames.push_back({w, 0});
          } else if (on_stack[wi]) {
            low[v] = std::min(low[v], order[wi]);
          }
          continue;
        }
        if (low[v] == order[v]) {
          std::vector<ElementIndex> component;
          ElementIndex w;
          do {
            w = stack.back();
            stack.pop_back();
            on_stack[static_cast<size_t>(w)] = false;
            component.push_back(w);
          } while (w != frame.node);
          if (ReportLoop(component, successors)) return;  // one loop per process, as Zeebe
        }
        const ElementIndex finished = frame.node;
        frames.pop_back();
        if (!frames.empty()) {
          const auto parent = static_cast<size_t>(frames.back().node);
          low[parent] = std::min(low[parent], low[static_cast<size_t>(finished)]);
        }
      }
    }
  }

  bool ReportLoop(const std::vector<ElementIndex>& component,
                  const std::vector<std::vector<ElementIndex>>& successors) {
    const absl::flat_hash_set<ElementIndex> members(component.begin(), component.end());
    const ElementIndex first = component.front();
    const bool self_loop = std::find(successors[static_cast<size_t>(first)].begin(),
                                     successors[static_cast<size_t>(first)].end(),
                                     first) != successors[static_cast<size_t>(first)].end();
    if (component.size() == 1 && !self_loop) return false;
    // Start the reported cycle at the loop-body element with the smallest id, for stable output.
    const Element* body = nullptr;
    for (ElementIndex index : component) {
      if (CountsAsLoopBody(At(index)) && (body == nullptr || At(index).id < body->id)) {
        body = &At(index);
      }
    }
    if (body == nullptr) return false;
    // Breadth-first search inside the component for the shortest way back to `body`.
    absl::flat_hash_map<ElementIndex, ElementIndex> parent;
    std::vector<ElementIndex> queue{body->index};
    ElementIndex last = kNoElement;
    for (size_t head = 0; head < queue.size() && last == kNoElement; ++head) {
      for (ElementIndex next : successors[static_cast<size_t>(queue[head])]) {
        if (!members.contains(next)) continue;
        if (next == body->index) {
          last = queue[head];
          break;
        }
        if (parent.emplace(next, queue[head]).second) queue.push_back(next);
      }
    }
    std::vector<std::string_view> path{body->id};
    std::vector<std::string_view> reversed;
    for (ElementIndex at = last; at != body->index && at != kNoElement;) {
      reversed.push_back(At(at).id);
      auto it = parent.find(at);
      at = it == parent.end() ? kNoElement : it->second;
    }
    path.insert(path.end(), reversed.rbegin(), reversed.rend());
    path.push_back(body->id);
    Problem(process_.root(),
            Cat("must not contain a straight-through processing loop (elements without "
                "a wait state that would run forever): ",
                Join(path, " > ")));
    return true;
  }

  const BuildOutput& built_;
  const Process& process_;
  const std::vector<ElementInfo>& info_;
  Problems& problems_;
};

void CheckElementSupport(const Element& element, const ElementInfo& info, Problems& problems) {
  switch (ElementSupport(element.type, element.event_type)) {
    case Support::kExecutable:
      break;
    case Support::kNotYetInTern:
      Report(problems, element, "is not supported by Tern yet");
      return;
    case Support::kNotInZeebe:
      Report(problems, element, "is not supported (Zeebe does not execute it either)");
      return;
  }
  std::vector<Feature> features = ModelFeatures(element);
  features.insert(features.end(), info.parser_features.begin(), info.parser_features.end());
  std::sort(features.begin(), features.end());
  features.erase(std::unique(features.begin(), features.end()), features.end());
  for (Feature feature : features) {
    switch (FeatureSupport(feature)) {
      case Support::kExecutable:
        break;
      case Support::kNotYetInTern:
        Report(problems, element, Cat(FeatureName(feature), " is not supported by Tern yet"));
        break;
      case Support::kNotInZeebe:
        Report(problems, element,
               Cat(FeatureName(feature),
                   " is not supported (Zeebe does not execute it "
                   "either)"));
        break;
    }
  }
}

}  // namespace

void ValidateModel(const BuildOutput& built, Problems& problems) {
  const auto& processes = built.definitions->processes;
  if (std::none_of(processes.begin(), processes.end(),
                   [](const Process& p) { return p.executable; })) {
    problems.AddAt(0, "must contain at least one executable process (isExecutable=\"true\")");
  }
  for (size_t i = 0; i < processes.size(); ++i) {
    if (!processes[i].executable) continue;
    ProcessValidator(built, i, problems).Run();
  }
}

void CheckSupport(const BuildOutput& built, Problems& problems) {
  const auto& processes = built.definitions->processes;
  for (size_t i = 0; i < processes.size(); ++i) {
    if (!processes[i].executable) continue;
    for (const Element& element : processes[i].elements) {
      CheckElementSupport(element, built.info[i][static_cast<size_t>(element.index)], problems);
    }
  }
}

}  // namespace tern::bpmn
