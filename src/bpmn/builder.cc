#include "bpmn/builder.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "base/check.h"
#include "bpmn/expression.h"
#include "bpmn/strings.h"

namespace tern::bpmn {
namespace {

// Zeebe runs a user task without zeebe:userTask as a job of this type with one retry.
constexpr std::string_view kUserTaskJobType = "io.camunda.zeebe:userTask";

// `a` for FEEL text that is just a variable or a path into one (`=a`, `=a.b.c`); empty for
// anything else. Like Zeebe's Expression::getVariableName, used for multi-instance outputs.
std::string PathRootVariable(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.front() == '=') text = Trim(text.substr(1));
  const auto is_identifier = [](std::string_view segment) {
    if (segment.empty() ||
        !(std::isalpha(static_cast<unsigned char>(segment[0])) || segment[0] == '_')) {
      return false;
    }
    for (char c : segment) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
    return true;
  };
  const std::string_view root = text.substr(0, text.find('.'));
  for (std::string_view rest = text;;) {
    const size_t dot = rest.find('.');
    if (!is_identifier(rest.substr(0, dot))) return "";
    if (dot == std::string_view::npos) break;
    rest = rest.substr(dot + 1);
  }
  if (root == "null" || root == "true" || root == "false") return "";
  return std::string(root);
}

std::optional<ElementType> FlowElementType(const XmlNode& node) {
  static const auto* const kTypes = new absl::flat_hash_map<std::string_view, ElementType>{
      {"startEvent", ElementType::kStartEvent},
      {"endEvent", ElementType::kEndEvent},
      {"intermediateCatchEvent", ElementType::kIntermediateCatchEvent},
      {"intermediateThrowEvent", ElementType::kIntermediateThrowEvent},
      {"boundaryEvent", ElementType::kBoundaryEvent},
      {"task", ElementType::kTask},
      {"serviceTask", ElementType::kServiceTask},
      {"sendTask", ElementType::kSendTask},
      {"receiveTask", ElementType::kReceiveTask},
      {"userTask", ElementType::kUserTask},
      {"manualTask", ElementType::kManualTask},
      {"scriptTask", ElementType::kScriptTask},
      {"businessRuleTask", ElementType::kBusinessRuleTask},
      {"exclusiveGateway", ElementType::kExclusiveGateway},
      {"parallelGateway", ElementType::kParallelGateway},
      {"inclusiveGateway", ElementType::kInclusiveGateway},
      {"eventBasedGateway", ElementType::kEventBasedGateway},
      {"complexGateway", ElementType::kComplexGateway},
      {"subProcess", ElementType::kSubProcess},
      {"transaction", ElementType::kTransaction},
      {"adHocSubProcess", ElementType::kAdHocSubProcess},
      {"callActivity", ElementType::kCallActivity},
      {"sequenceFlow", ElementType::kSequenceFlow},
  };
  if (node.ns != Ns::kBpmn) return std::nullopt;
  auto it = kTypes->find(node.local);
  if (it == kTypes->end()) return std::nullopt;
  if (it->second == ElementType::kSubProcess && node.AttrOr("triggeredByEvent") == "true") {
    return ElementType::kEventSubProcess;
  }
  return it->second;
}

// BPMN flow elements the model has no type for; Zeebe rejects them as well.
bool IsForeignFlowElement(std::string_view local) {
  return local == "callChoreography" || local == "choreographyTask" || local == "subChoreography" ||
         local == "implicitThrowEvent";
}

std::optional<EventType> EventDefinitionType(std::string_view local) {
  if (local == "messageEventDefinition") return EventType::kMessage;
  if (local == "timerEventDefinition") return EventType::kTimer;
  if (local == "errorEventDefinition") return EventType::kError;
  if (local == "signalEventDefinition") return EventType::kSignal;
  if (local == "escalationEventDefinition") return EventType::kEscalation;
  if (local == "compensateEventDefinition") return EventType::kCompensation;
  if (local == "terminateEventDefinition") return EventType::kTerminate;
  if (local == "linkEventDefinition") return EventType::kLink;
  if (local == "conditionalEventDefinition") return EventType::kConditional;
  if (local == "cancelEventDefinition") return EventType::kCancel;
  return std::nullopt;
}

// Zeebe writes and reads references as plain ids; the BPMN schema types some as QNames, so
// tools may write "tns:Message_1". Try the id as written, then without a prefix.
template <typename Map>
auto Lookup(const Map& map, std::string_view ref) -> decltype(&map.begin()->second) {
  if (auto it = map.find(ref); it != map.end()) return &it->second;
  const size_t colon = ref.find(':');
  if (colon != std::string_view::npos) {
    if (auto it = map.find(ref.substr(colon + 1)); it != map.end()) return &it->second;
  }
  return nullptr;
}

struct CompiledGlobal {
  GlobalInfo* info = nullptr;
  std::optional<Expression> name;
  std::optional<Expression> code;
  std::optional<Expression> correlation_key;
};

class Builder {
 public:
  Builder(const XmlTree& tree, Problems& problems)
      : tree_(tree), problems_(problems), node_kind_(tree.nodes.size()) {}

  BuildOutput Build() {
    out_.definitions = std::make_shared<Definitions>();
    IndexGlobals();
    const XmlNode& root = tree_.nodes[0];
    for (int child : root.children) {
      const XmlNode& node = tree_.nodes[static_cast<size_t>(child)];
      if (node.ns == Ns::kBpmn && node.local == "process") BuildProcess(child);
    }
    CheckUniqueIds();
    return std::move(out_);
  }

 private:
  struct PendingRef {
    ElementIndex element;
    std::string_view ref;
  };
  struct PendingFlow {
    ElementIndex flow;
    const std::string_view* source;
    const std::string_view* target;
  };
  struct Association {
    std::string_view source;
    std::string_view target;
  };

  // --- globals ---------------------------------------------------------------------------

  void IndexGlobals() {
    const XmlNode& root = tree_.nodes[0];
    for (int child : root.children) {
      const XmlNode& node = tree_.nodes[static_cast<size_t>(child)];
      if (node.ns != Ns::kBpmn) continue;
      absl::flat_hash_map<std::string_view, CompiledGlobal>* map = nullptr;
      std::string_view code_attr;
      if (node.local == "message") {
        map = &messages_;
      } else if (node.local == "error") {
        map = &errors_;
        code_attr = "errorCode";
      } else if (node.local == "signal") {
        map = &signals_;
      } else if (node.local == "escalation") {
        map = &escalations_;
        code_attr = "escalationCode";
      } else {
        continue;
      }
      const std::string_view id = node.AttrOr("id");
      if (id.empty() || map->contains(id)) continue;  // reported by the id checks
      auto& info = out_.globals.emplace_back(std::make_unique<GlobalInfo>());
      info->id = id;
      info->line = node.line;
      info->name = node.Attr("name");
      if (!code_attr.empty()) info->code = node.Attr(code_attr);
      const std::string kind = Cat("bpmn:", node.local);
      node_kind_[static_cast<size_t>(child)] = kind;
      CompiledGlobal compiled;
      compiled.info = info.get();
      if (info->name != nullptr && !info->name->empty()) {
        compiled.name = GlobalExpr(*info, kind, *info->name, FeelMode::kIfPrefixed, "name");
      }
      if (info->code != nullptr && !info->code->empty()) {
        compiled.code = GlobalExpr(*info, kind, *info->code, FeelMode::kIfPrefixed, code_attr);
      }
      if (node.local == "message") {
        for (const XmlNode* ext : Children(node, Ns::kBpmn, "extensionElements")) {
          for (const XmlNode* sub : Children(*ext, Ns::kZeebe, "subscription")) {
            if (++info->subscriptions > 1) continue;
            info->correlation_key = sub->Attr("correlationKey");
            if (info->correlation_key != nullptr && !Trim(*info->correlation_key).empty()) {
              compiled.correlation_key =
                  GlobalExpr(*info, kind, *info->correlation_key, FeelMode::kAlways,
                             "zeebe:subscription correlationKey");
            }
          }
        }
      }
      map->emplace(id, std::move(compiled));
    }
  }

  std::optional<Expression> GlobalExpr(const GlobalInfo& info, std::string_view kind,
                                       std::string_view text, FeelMode mode,
                                       std::string_view what) {
    auto expression = MakeExpression(text, mode, &compiled_expressions_);
    if (!expression.ok()) {
      problems_.AddElement(info.id, kind, info.line,
                           Cat("'", what, "' is not a valid FEEL expression: ",
                               std::string(expression.status().message())));
      return std::nullopt;
    }
    return *std::move(expression);
  }

  // --- processes -------------------------------------------------------------------------

  void BuildProcess(int node_index) {
    const XmlNode& node = tree_.nodes[static_cast<size_t>(node_index)];
    Process& process = out_.definitions->processes.emplace_back();
    out_.info.emplace_back();
    process_ = &process;
    info_ = &out_.info.back();
    process.id = std::string(node.AttrOr("id"));
    process.name = std::string(node.AttrOr("name"));
    process.executable = node.AttrOr("isExecutable") == "true";
    flows_.clear();
    defaults_.clear();
    attachments_.clear();
    associations_.clear();

    // The exact size up front: growing a vector of elements one by one would hold the old and
    // the new copy at once, and release slack only with a third copy at the end.
    const size_t count = 1 + CountFlowElements(node);
    process.elements.reserve(count);
    info_->reserve(count);
    const ElementIndex root = AddElement(node_index, ElementType::kProcess, kNoElement);
    TERN_CHECK(root == 0, "the process element must come first");
    AddFlowElements(node, root);
    Resolve();
    process_ = nullptr;
    info_ = nullptr;
  }

  // How many elements AddFlowElements will add for the children of `scope_node`.
  size_t CountFlowElements(const XmlNode& scope_node) const {
    size_t count = 0;
    for (int child : scope_node.children) {
      const XmlNode& node = tree_.nodes[static_cast<size_t>(child)];
      if (node.ns != Ns::kBpmn || node.local == "association") continue;
      const std::optional<ElementType> type = FlowElementType(node);
      if (!type.has_value()) continue;
      ++count;
      if (*type == ElementType::kSubProcess || *type == ElementType::kEventSubProcess ||
          *type == ElementType::kTransaction || *type == ElementType::kAdHocSubProcess) {
        count += CountFlowElements(node);
      }
    }
    return count;
  }

  void AddFlowElements(const XmlNode& scope_node, ElementIndex scope) {
    for (int child : scope_node.children) {
      const XmlNode& node = tree_.nodes[static_cast<size_t>(child)];
      if (node.ns != Ns::kBpmn) continue;
      if (node.local == "association") {
        associations_.push_back({node.AttrOr("sourceRef"), node.AttrOr("targetRef")});
        continue;
      }
      const std::optional<ElementType> type = FlowElementType(node);
      if (!type.has_value()) {
        if (IsForeignFlowElement(node.local)) {
          problems_.AddElement(node.AttrOr("id"), Cat("bpmn:", node.local), node.line,
                               "is not supported (Zeebe does not execute it either)");
        }
        continue;  // modelling-only content: lanes, annotations, data objects, groups, ...
      }
      const ElementIndex element = AddElement(child, *type, scope);
      if (*type == ElementType::kSubProcess || *type == ElementType::kEventSubProcess ||
          *type == ElementType::kTransaction || *type == ElementType::kAdHocSubProcess) {
        AddFlowElements(node, element);
      }
    }
  }

  Element& At(ElementIndex index) { return process_->elements[static_cast<size_t>(index)]; }
  ElementInfo& InfoAt(ElementIndex index) { return (*info_)[static_cast<size_t>(index)]; }

  ElementIndex AddElement(int node_index, ElementType type, ElementIndex scope) {
    const XmlNode& node = tree_.nodes[static_cast<size_t>(node_index)];
    const auto index = static_cast<ElementIndex>(process_->elements.size());
    {
      Element& element = process_->elements.emplace_back();
      info_->emplace_back();
      element.index = index;
      element.id = std::string(node.AttrOr("id"));
      element.name = std::string(node.AttrOr("name"));
      element.type = type;
      element.line = node.line;
      element.flow_scope = scope;
    }
    node_element_.emplace(node_index,
                          std::make_pair(out_.definitions->processes.size() - 1, index));
    if (scope != kNoElement) At(scope).children.push_back(index);

    // Event definitions first: every later problem names the element's kind, which includes
    // its event type.
    if (At(index).is_event()) ParseEventDefinitions(node, index);

    switch (type) {
      case ElementType::kSequenceFlow:
        flows_.push_back({index, node.Attr("sourceRef"), node.Attr("targetRef")});
        for (const XmlNode* condition : Children(node, Ns::kBpmn, "conditionExpression")) {
          InfoAt(index).has_condition_element = true;
          const std::string_view text = Trim(condition->text);
          if (!text.empty() && !At(index).condition.has_value()) {
            At(index).condition = Expr(index, text, FeelMode::kAlways, "condition");
          }
        }
        break;
      case ElementType::kBoundaryEvent:
        At(index).interrupting = node.AttrOr("cancelActivity") != "false";
        attachments_.push_back({index, node.AttrOr("attachedToRef")});
        break;
      case ElementType::kStartEvent:
        if (scope != kNoElement && At(scope).type == ElementType::kEventSubProcess) {
          At(index).interrupting = node.AttrOr("isInterrupting") != "false";
        }
        break;
      case ElementType::kReceiveTask:
      case ElementType::kSendTask:
        if (const std::string_view* ref = node.Attr("messageRef"); ref != nullptr) {
          ResolveMessage(index, *ref);
        } else if (type == ElementType::kReceiveTask) {
          InfoAt(index).message_ref_missing = true;
        }
        break;
      default:
        break;
    }
    if (const std::string_view* ref = node.Attr("default"); ref != nullptr && !ref->empty()) {
      defaults_.push_back({index, *ref});
    }
    if (At(index).is_activity()) {
      At(index).is_for_compensation = node.AttrOr("isForCompensation") == "true";
      ParseLoopCharacteristics(node, index);
    }
    for (const XmlNode* ext : Children(node, Ns::kBpmn, "extensionElements")) {
      ParseExtensions(*ext, index);
    }
    if (type == ElementType::kUserTask) {
      Element& element = At(index);
      if (!element.user_task.has_value()) element.user_task.emplace();
      if (!element.user_task->zeebe_user_task && !element.task_definition.has_value()) {
        element.task_definition = TaskDefinition{
            .type = Expression{.text = std::string(kUserTaskJobType), .feel = nullptr},
            .retries = Expression{.text = "1", .feel = nullptr}};
      }
    }
    return index;
  }

  // --- event definitions -----------------------------------------------------------------

  void ParseEventDefinitions(const XmlNode& node, ElementIndex index) {
    std::vector<std::pair<EventType, const XmlNode*>> definitions;
    for (int child : node.children) {
      const XmlNode& def = tree_.nodes[static_cast<size_t>(child)];
      if (def.ns != Ns::kBpmn) continue;
      if (def.local == "eventDefinitionRef") {
        Report(problems_, At(index),
               "bpmn:eventDefinitionRef is not supported; declare the event definition inside "
               "the event");
        continue;
      }
      if (auto type = EventDefinitionType(def.local)) definitions.emplace_back(*type, &def);
    }
    ElementInfo& info = InfoAt(index);
    info.event_definitions = static_cast<int>(definitions.size());
    if (definitions.empty()) return;
    if (definitions.size() > 1) {
      At(index).event_type = EventType::kMultiple;
      return;
    }
    const auto [type, def] = definitions[0];
    At(index).event_type = type;
    switch (type) {
      case EventType::kMessage:
        if (const std::string_view* ref = def->Attr("messageRef"); ref != nullptr) {
          ResolveMessage(index, *ref);
        } else {
          InfoAt(index).message_ref_missing = true;
        }
        for (const XmlNode* ext : Children(*def, Ns::kBpmn, "extensionElements")) {
          for (const XmlNode* publish : Children(*ext, Ns::kZeebe, "publishMessage")) {
            (void)publish;
            ++InfoAt(index).publish_messages;
          }
        }
        break;
      case EventType::kTimer:
        ParseTimer(*def, index);
        break;
      case EventType::kError: {
        ErrorDefinition error;
        if (const std::string_view* ref = def->Attr("errorRef"); ref != nullptr && !ref->empty()) {
          if (const CompiledGlobal* global = Lookup(errors_, *ref)) {
            error.id = std::string(global->info->id);
            error.code = global->code;
            InfoAt(index).error = global->info;
          } else {
            Report(problems_, At(index),
                   Cat("errorRef '", Excerpt(*ref), "' does not match any bpmn:error"));
          }
        } else {
          InfoAt(index).error_ref_missing = true;
        }
        At(index).error = std::move(error);
        break;
      }
      case EventType::kEscalation: {
        EscalationDefinition escalation;
        if (const std::string_view* ref = def->Attr("escalationRef");
            ref != nullptr && !ref->empty()) {
          if (const CompiledGlobal* global = Lookup(escalations_, *ref)) {
            escalation.id = std::string(global->info->id);
            escalation.code = global->code;
            InfoAt(index).escalation = global->info;
          } else {
            Report(problems_, At(index),
                   Cat("escalationRef '", Excerpt(*ref), "' does not match any bpmn:escalation"));
          }
        } else {
          InfoAt(index).escalation_ref_missing = true;
        }
        At(index).escalation = std::move(escalation);
        break;
      }
      case EventType::kSignal:
        if (const std::string_view* ref = def->Attr("signalRef"); ref != nullptr && !ref->empty()) {
          if (const CompiledGlobal* global = Lookup(signals_, *ref)) {
            At(index).signal =
                SignalDefinition{.id = std::string(global->info->id), .name = global->name};
            InfoAt(index).signal = global->info;
          } else {
            Report(problems_, At(index),
                   Cat("signalRef '", Excerpt(*ref), "' does not match any bpmn:signal"));
          }
        } else {
          InfoAt(index).signal_ref_missing = true;
        }
        break;
      case EventType::kCompensation: {
        CompensationDefinition compensation;
        compensation.activity_ref = std::string(def->AttrOr("activityRef"));
        InfoAt(index).raw_activity_ref = def->AttrOr("activityRef");
        InfoAt(index).wait_for_completion = def->AttrOr("waitForCompletion");
        compensation.wait_for_completion = def->AttrOr("waitForCompletion") != "false";
        At(index).compensation = std::move(compensation);
        break;
      }
      case EventType::kLink:
        At(index).link = LinkDefinition{.name = std::string(def->AttrOr("name"))};
        break;
      case EventType::kConditional:
        for (const XmlNode* condition : Children(*def, Ns::kBpmn, "condition")) {
          const std::string_view text = Trim(condition->text);
          if (!text.empty() && !At(index).conditional.has_value()) {
            At(index).conditional = Expr(index, text, FeelMode::kAlways, "condition");
          }
        }
        break;
      case EventType::kNone:
      case EventType::kTerminate:
      case EventType::kCancel:
      case EventType::kMultiple:
        break;
    }
  }

  void ResolveMessage(ElementIndex index, std::string_view ref) {
    if (ref.empty()) {
      InfoAt(index).message_ref_missing = true;
      return;
    }
    const CompiledGlobal* global = Lookup(messages_, ref);
    if (global == nullptr) {
      Report(problems_, At(index),
             Cat("messageRef '", Excerpt(ref), "' does not match any bpmn:message"));
      return;
    }
    At(index).message = MessageDefinition{.id = std::string(global->info->id),
                                          .name = global->name,
                                          .correlation_key = global->correlation_key};
    InfoAt(index).message = global->info;
  }

  void ParseTimer(const XmlNode& def, ElementIndex index) {
    for (int child : def.children) {
      const XmlNode& node = tree_.nodes[static_cast<size_t>(child)];
      if (node.ns != Ns::kBpmn) continue;
      TimerKind kind;
      if (node.local == "timeDuration") {
        kind = TimerKind::kDuration;
      } else if (node.local == "timeDate") {
        kind = TimerKind::kDate;
      } else if (node.local == "timeCycle") {
        kind = TimerKind::kCycle;
      } else {
        continue;
      }
      if (++InfoAt(index).timer_values > 1) continue;
      const std::string_view text = Trim(node.text);
      if (text.empty()) {
        Report(problems_, At(index), Cat("the timer's ", node.local, " is empty"));
        continue;
      }
      if (auto value = Expr(index, text, FeelMode::kIfPrefixed, node.local)) {
        At(index).timer = TimerDefinition{.kind = kind, .value = *std::move(value)};
      }
    }
  }

  // --- activities ------------------------------------------------------------------------

  void ParseLoopCharacteristics(const XmlNode& node, ElementIndex index) {
    for (const XmlNode* standard : Children(node, Ns::kBpmn, "standardLoopCharacteristics")) {
      (void)standard;
      InfoAt(index).standard_loop = true;
      InfoAt(index).parser_features.push_back(Feature::kStandardLoop);
    }
    for (const XmlNode* mi : Children(node, Ns::kBpmn, "multiInstanceLoopCharacteristics")) {
      if (InfoAt(index).multi_instance) continue;
      InfoAt(index).multi_instance = true;
      LoopCharacteristics loop;
      loop.sequential = mi->AttrOr("isSequential") == "true";
      for (const XmlNode* ext : Children(*mi, Ns::kBpmn, "extensionElements")) {
        for (const XmlNode* zeebe : Children(*ext, Ns::kZeebe, "loopCharacteristics")) {
          if (++InfoAt(index).zeebe_loops > 1) continue;
          if (auto text = zeebe->AttrOr("inputCollection"); !Trim(text).empty()) {
            loop.input_collection =
                Expr(index, text, FeelMode::kAlways, "zeebe:loopCharacteristics inputCollection");
          }
          loop.input_element = std::string(zeebe->AttrOr("inputElement"));
          loop.output_collection = std::string(zeebe->AttrOr("outputCollection"));
          if (auto text = zeebe->AttrOr("outputElement"); !Trim(text).empty()) {
            loop.output_element =
                Expr(index, text, FeelMode::kAlways, "zeebe:loopCharacteristics outputElement");
            loop.output_element_variable = PathRootVariable(text);
            if (loop.output_element_variable == loop.input_element ||
                loop.output_element_variable == "loopCounter") {
              loop.output_element_variable.clear();
            }
          }
        }
      }
      for (const XmlNode* condition : Children(*mi, Ns::kBpmn, "completionCondition")) {
        InfoAt(index).has_completion_condition = true;
        const std::string_view text = Trim(condition->text);
        if (!text.empty() && !loop.completion_condition.has_value()) {
          loop.completion_condition = Expr(index, text, FeelMode::kAlways, "completionCondition");
        }
      }
      At(index).loop = std::move(loop);
    }
  }

  // --- Zeebe extension elements ----------------------------------------------------------

  void ParseExtensions(const XmlNode& extensions, ElementIndex index) {
    for (int child : extensions.children) {
      const XmlNode& ext = tree_.nodes[static_cast<size_t>(child)];
      if (ext.ns != Ns::kZeebe) continue;
      ElementInfo& info = InfoAt(index);
      Element& element = At(index);
      const std::string_view name = ext.local;
      if (name == "taskDefinition") {
        if (++info.task_definitions > 1) continue;
        TaskDefinition definition;
        definition.type = ExprOrEmpty(index, ext.AttrOr("type"), FeelMode::kIfPrefixed,
                                      "zeebe:taskDefinition type");
        const std::string_view* retries = ext.Attr("retries");
        definition.retries =
            ExprOrEmpty(index, retries == nullptr ? std::string_view("3") : *retries,
                        FeelMode::kIfPrefixed, "zeebe:taskDefinition retries");
        At(index).task_definition = std::move(definition);
      } else if (name == "taskHeaders") {
        ++info.task_headers;
        for (const XmlNode* header : Children(ext, Ns::kZeebe, "header")) {
          element.task_headers.push_back(
              {std::string(header->AttrOr("key")), std::string(header->AttrOr("value"))});
        }
      } else if (name == "ioMapping") {
        ++info.io_mappings;
        for (int m : ext.children) {
          const XmlNode& mapping = tree_.nodes[static_cast<size_t>(m)];
          if (mapping.ns != Ns::kZeebe || (mapping.local != "input" && mapping.local != "output")) {
            continue;
          }
          const bool input = mapping.local == "input";
          // Zeebe evaluates an input source without '=' as a string literal, but only accepts
          // output sources that are expressions.
          VariableMapping variable;
          variable.source = ExprOrEmpty(index, mapping.AttrOr("source"),
                                        input ? FeelMode::kIfPrefixed : FeelMode::kAlways,
                                        input ? "zeebe:input source" : "zeebe:output source");
          variable.target = std::string(mapping.AttrOr("target"));
          (input ? At(index).inputs : At(index).outputs).push_back(std::move(variable));
        }
      } else if (name == "calledElement") {
        if (++info.called_elements > 1) continue;
        CalledElement called;
        called.process_id = ExprOrEmpty(index, ext.AttrOr("processId"), FeelMode::kIfPrefixed,
                                        "zeebe:calledElement processId");
        called.propagate_all_child_variables = ext.AttrOr("propagateAllChildVariables") != "false";
        called.propagate_all_parent_variables =
            ext.AttrOr("propagateAllParentVariables") != "false";
        called.binding = ReadBinding(ext);
        At(index).called_element = std::move(called);
      } else if (name == "calledDecision") {
        if (++info.called_decisions > 1) continue;
        CalledDecision decision;
        decision.decision_id = ExprOrEmpty(index, ext.AttrOr("decisionId"), FeelMode::kIfPrefixed,
                                           "zeebe:calledDecision decisionId");
        decision.result_variable = std::string(ext.AttrOr("resultVariable"));
        decision.binding = ReadBinding(ext);
        At(index).called_decision = std::move(decision);
      } else if (name == "script") {
        if (++info.scripts > 1) continue;
        Script script;
        script.expression = ExprOrEmpty(index, ext.AttrOr("expression"), FeelMode::kAlways,
                                        "zeebe:script expression");
        script.result_variable = std::string(ext.AttrOr("resultVariable"));
        At(index).script = std::move(script);
      } else if (name == "assignmentDefinition") {
        if (++info.assignment_definitions > 1) continue;
        UserTaskProperties& user = UserTask(index);
        user.assignee = OptionalExpr(index, ext, "assignee", "zeebe:assignmentDefinition");
        user.candidate_groups =
            OptionalExpr(index, ext, "candidateGroups", "zeebe:assignmentDefinition");
        user.candidate_users =
            OptionalExpr(index, ext, "candidateUsers", "zeebe:assignmentDefinition");
      } else if (name == "formDefinition") {
        if (++info.form_definitions > 1) continue;
        UserTaskProperties& user = UserTask(index);
        user.form_key = std::string(ext.AttrOr("formKey"));
        user.form_id = std::string(ext.AttrOr("formId"));
        user.external_reference = std::string(ext.AttrOr("externalReference"));
        user.form_binding = ReadBinding(ext);
      } else if (name == "taskSchedule") {
        if (++info.task_schedules > 1) continue;
        UserTaskProperties& user = UserTask(index);
        user.due_date = OptionalExpr(index, ext, "dueDate", "zeebe:taskSchedule");
        user.follow_up_date = OptionalExpr(index, ext, "followUpDate", "zeebe:taskSchedule");
      } else if (name == "userTask") {
        ++info.user_tasks;
        UserTask(index).zeebe_user_task = true;
      } else if (name == "properties") {
        ++info.properties_elements;
        for (const XmlNode* property : Children(ext, Ns::kZeebe, "property")) {
          At(index).properties.emplace(std::string(property->AttrOr("name")),
                                       std::string(property->AttrOr("value")));
        }
      } else if (name == "executionListeners") {
        info.parser_features.push_back(Feature::kExecutionListeners);
        if (++info.execution_listener_blocks > 1) continue;
        for (const XmlNode* node : Children(ext, Ns::kZeebe, "executionListener")) {
          ExecutionListener listener;
          listener.event_type_text = std::string(node->AttrOr("eventType"));
          listener.event_type = listener.event_type_text == "end" ? ListenerEventType::kEnd
                                                                  : ListenerEventType::kStart;
          listener.type = ExprOrEmpty(index, node->AttrOr("type"), FeelMode::kIfPrefixed,
                                      "zeebe:executionListener type");
          const std::string_view* retries = node->Attr("retries");
          listener.retries =
              ExprOrEmpty(index, retries == nullptr ? std::string_view("3") : *retries,
                          FeelMode::kIfPrefixed, "zeebe:executionListener retries");
          element.execution_listeners.push_back(std::move(listener));
        }
      } else if (name == "taskListeners") {
        info.parser_features.push_back(Feature::kTaskListeners);
      } else if (name == "linkedResources") {
        info.parser_features.push_back(Feature::kLinkedResources);
      } else if (name == "priorityDefinition") {
        if (++info.priority_definitions > 1) continue;
        info.parser_features.push_back(Feature::kPriorityDefinition);
        // Zeebe requires the attribute; an empty one is reported by the validator.
        UserTask(index).priority = ExprOrEmpty(index, ext.AttrOr("priority"), FeelMode::kIfPrefixed,
                                               "zeebe:priorityDefinition priority");
      } else if (name == "publishMessage") {
        ++info.publish_messages;
      } else if (name == "versionTag" && element.type == ElementType::kProcess) {
        if (++info.version_tags > 1) continue;
        process_->version_tag = std::string(Trim(ext.AttrOr("value")));
      }
      // Anything else in the Zeebe namespace (versionTag, userTaskForm, modeler template data)
      // carries no execution semantics Tern must honour.
    }
    if (InfoAt(index).publish_messages > 0) {
      InfoAt(index).parser_features.push_back(Feature::kPublishMessage);
    }
  }

  UserTaskProperties& UserTask(ElementIndex index) {
    Element& element = At(index);
    if (!element.user_task.has_value()) element.user_task.emplace();
    return *element.user_task;
  }

  static Binding ReadBinding(const XmlNode& ext) {
    Binding binding;
    binding.type_text = std::string(ext.AttrOr("bindingType", "latest"));
    binding.type = binding.type_text == "deployment"   ? BindingType::kDeployment
                   : binding.type_text == "versionTag" ? BindingType::kVersionTag
                                                       : BindingType::kLatest;
    binding.version_tag = std::string(ext.AttrOr("versionTag"));
    return binding;
  }

  std::optional<Expression> OptionalExpr(ElementIndex index, const XmlNode& ext,
                                         std::string_view attribute, std::string_view owner) {
    const std::string_view* text = ext.Attr(attribute);
    if (text == nullptr || text->empty()) return std::nullopt;
    return Expr(index, *text, FeelMode::kIfPrefixed, Cat(owner, " ", attribute));
  }

  // For required attributes: an empty text stays an empty static Expression, which the
  // validator reports; a FEEL error is reported here.
  Expression ExprOrEmpty(ElementIndex index, std::string_view text, FeelMode mode,
                         std::string_view what) {
    if (Trim(text).empty()) return Expression{.text = std::string(text), .feel = nullptr};
    auto expression = Expr(index, text, mode, what);
    return expression.has_value() ? *std::move(expression)
                                  : Expression{.text = std::string(text), .feel = nullptr};
  }

  std::optional<Expression> Expr(ElementIndex index, std::string_view text, FeelMode mode,
                                 std::string_view what) {
    auto expression = MakeExpression(text, mode, &compiled_expressions_);
    if (!expression.ok()) {
      InfoAt(index).feel_error = true;
      Report(problems_, At(index),
             Cat("'", what,
                 "' is not a valid FEEL expression: ", std::string(expression.status().message())));
      return std::nullopt;
    }
    return *std::move(expression);
  }

  // --- references ------------------------------------------------------------------------

  void Resolve() {
    Process& process = *process_;
    for (const Element& element : process.elements) {
      if (!element.id.empty()) process.by_id.push_back(element.index);
    }
    std::stable_sort(process.by_id.begin(), process.by_id.end(),
                     [&](ElementIndex a, ElementIndex b) { return At(a).id < At(b).id; });
    // As Lookup: the reference as written, then without a QName prefix.
    auto find = [&](std::string_view ref) -> const ElementIndex* {
      if (const ElementIndex* index = process.FindIndex(ref)) return index;
      const size_t colon = ref.find(':');
      return colon == std::string_view::npos ? nullptr : process.FindIndex(ref.substr(colon + 1));
    };

    for (const PendingFlow& pending : flows_) {
      const ElementIndex source = ResolveFlowEnd(pending.flow, pending.source, "sourceRef", find);
      const ElementIndex target = ResolveFlowEnd(pending.flow, pending.target, "targetRef", find);
      if (source == kNoElement || target == kNoElement) continue;
      if (At(source).flow_scope != At(pending.flow).flow_scope ||
          At(target).flow_scope != At(pending.flow).flow_scope) {
        Report(problems_, At(pending.flow),
               Cat("connects '", Excerpt(At(source).id), "' and '", Excerpt(At(target).id),
                   "', but a sequence flow must stay inside the scope it is declared in"));
        continue;
      }
      At(pending.flow).source = source;
      At(pending.flow).target = target;
      At(source).outgoing.push_back(pending.flow);
      At(target).incoming.push_back(pending.flow);
    }

    for (const PendingRef& pending : defaults_) {
      const ElementIndex* flow = find(pending.ref);
      if (flow == nullptr || At(*flow).type != ElementType::kSequenceFlow) {
        Report(problems_, At(pending.element),
               Cat("default flow '", Excerpt(pending.ref), "' does not match any sequence flow"));
        continue;
      }
      if (At(*flow).source != pending.element) {
        // Only report when the flow resolved; an unresolved source was reported above.
        if (At(*flow).source != kNoElement) {
          Report(problems_, At(pending.element),
                 Cat("default flow '", Excerpt(pending.ref),
                     "' must be an outgoing sequence flow of this element"));
        }
        continue;
      }
      At(pending.element).default_flow = *flow;
    }

    for (const PendingRef& pending : attachments_) {
      Element& boundary = At(pending.element);
      if (pending.ref.empty()) {
        Report(problems_, boundary, "must be attached to an activity (attachedToRef is missing)");
        continue;
      }
      const ElementIndex* activity = find(pending.ref);
      if (activity == nullptr) {
        Report(problems_, boundary,
               Cat("attachedToRef '", Excerpt(pending.ref), "' does not match any element"));
        continue;
      }
      if (!At(*activity).is_activity()) {
        Report(problems_, boundary,
               Cat("is attached to '", Excerpt(pending.ref), "' (", ElementKind(At(*activity)),
                   "), but must be attached to an activity"));
        continue;
      }
      if (At(*activity).flow_scope != boundary.flow_scope) {
        Report(problems_, boundary,
               Cat("must be declared in the same scope as the activity '", Excerpt(pending.ref),
                   "' it is attached to"));
        continue;
      }
      boundary.attached_to = *activity;
      At(*activity).boundary_events.push_back(pending.element);
    }

    for (const Association& association : associations_) {
      const ElementIndex* source = find(association.source);
      if (source == nullptr) continue;
      InfoAt(*source).has_association = true;
      const Element& boundary = At(*source);
      if (boundary.type != ElementType::kBoundaryEvent ||
          boundary.event_type != EventType::kCompensation || boundary.attached_to == kNoElement) {
        continue;
      }
      if (const ElementIndex* handler = find(association.target)) {
        At(boundary.attached_to).compensation_handler = *handler;
      }
    }

    for (const Element& element : process.elements) {
      if (element.flow_scope == kNoElement) continue;
      Element& scope = At(element.flow_scope);
      if (element.type == ElementType::kStartEvent) {
        scope.start_events.push_back(element.index);
        if (element.event_type == EventType::kNone && scope.none_start_event == kNoElement &&
            scope.type != ElementType::kEventSubProcess) {
          scope.none_start_event = element.index;
        }
      } else if (element.type == ElementType::kEventSubProcess) {
        scope.event_subprocesses.push_back(element.index);
      }
    }
  }

  template <typename Find>
  ElementIndex ResolveFlowEnd(ElementIndex flow, const std::string_view* ref,
                              std::string_view attribute, const Find& find) {
    if (ref == nullptr || Trim(*ref).empty()) {
      Report(problems_, At(flow), Cat("is missing the attribute '", attribute, "'"));
      return kNoElement;
    }
    const ElementIndex* node = find(*ref);
    if (node == nullptr || At(*node).type == ElementType::kSequenceFlow ||
        At(*node).type == ElementType::kProcess) {
      Report(problems_, At(flow),
             Cat(attribute, " '", Excerpt(*ref), "' does not match any flow node"));
      return kNoElement;
    }
    return *node;
  }

  // --- ids -------------------------------------------------------------------------------

  void CheckUniqueIds() {
    absl::flat_hash_map<std::string_view, const XmlId*> seen;
    for (const XmlId& id : tree_.ids) {
      if (id.value.empty()) continue;
      auto [it, inserted] = seen.emplace(id.value, &id);
      if (inserted) continue;
      const XmlId& first = *it->second;
      problems_.AddElement(id.value, KindOfNode(id), id.line,
                           Cat("the id is not unique: the element at line ", first.line, " (",
                               KindOfNode(first), ") has it too"));
    }
  }

  std::string KindOfNode(const XmlId& id) const {
    if (id.node >= 0) {
      if (auto it = node_element_.find(id.node); it != node_element_.end()) {
        const auto& [process, element] = it->second;
        return ElementKind(
            out_.definitions->processes[process].elements[static_cast<size_t>(element)]);
      }
      if (!node_kind_[static_cast<size_t>(id.node)].empty()) {
        return node_kind_[static_cast<size_t>(id.node)];
      }
    }
    return std::string(id.qname);
  }

  std::vector<const XmlNode*> Children(const XmlNode& node, Ns ns, std::string_view local) const {
    std::vector<const XmlNode*> out;
    for (int child : node.children) {
      const XmlNode& candidate = tree_.nodes[static_cast<size_t>(child)];
      if (candidate.ns == ns && candidate.local == local) out.push_back(&candidate);
    }
    return out;
  }

  const XmlTree& tree_;
  Problems& problems_;
  BuildOutput out_;
  std::vector<std::string> node_kind_;  // "bpmn:message" etc. for materialized globals
  absl::flat_hash_map<int, std::pair<size_t, ElementIndex>> node_element_;
  absl::flat_hash_map<std::string_view, CompiledGlobal> messages_;
  absl::flat_hash_map<std::string_view, CompiledGlobal> errors_;
  absl::flat_hash_map<std::string_view, CompiledGlobal> signals_;
  absl::flat_hash_map<std::string_view, CompiledGlobal> escalations_;
  CompiledExpressions compiled_expressions_;

  // State of the process being built.
  Process* process_ = nullptr;
  std::vector<ElementInfo>* info_ = nullptr;
  std::vector<PendingFlow> flows_;
  std::vector<PendingRef> defaults_;
  std::vector<PendingRef> attachments_;
  std::vector<Association> associations_;
};

}  // namespace

void Report(Problems& problems, const Element& element, std::string_view message) {
  problems.AddElement(element.id, ElementKind(element), element.line, message);
}

BuildOutput BuildModel(const XmlTree& tree, Problems& problems) {
  Builder builder(tree, problems);
  return builder.Build();
}

}  // namespace tern::bpmn
