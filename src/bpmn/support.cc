#include "bpmn/support.h"

#include "bpmn/strings.h"

namespace tern::bpmn {
namespace {

using ET = ElementType;
using EV = EventType;
constexpr Support kYes = Support::kExecutable;
constexpr Support kNotYet = Support::kNotYetInTern;
constexpr Support kNever = Support::kNotInZeebe;

struct EventSupport {
  ElementType type;
  EventType event;
  Support support;
};

// Events: where each definition may appear follows Zeebe's deployment validators (features doc
// §1.1). Any (type, event) pair missing here is something Zeebe rejects as well.
constexpr EventSupport kEventTable[] = {
    {ET::kStartEvent, EV::kNone, kYes},
    {ET::kStartEvent, EV::kMessage, kYes},
    {ET::kStartEvent, EV::kTimer, kYes},
    {ET::kStartEvent, EV::kSignal, kYes},
    {ET::kStartEvent, EV::kConditional, kNotYet},
    {ET::kStartEvent, EV::kError, kYes},       // event subprocesses only
    {ET::kStartEvent, EV::kEscalation, kYes},  // event subprocesses only

    {ET::kEndEvent, EV::kNone, kYes},
    {ET::kEndEvent, EV::kError, kYes},
    {ET::kEndEvent, EV::kMessage, kYes},
    {ET::kEndEvent, EV::kTerminate, kYes},
    {ET::kEndEvent, EV::kSignal, kYes},
    {ET::kEndEvent, EV::kEscalation, kYes},
    {ET::kEndEvent, EV::kCompensation, kYes},

    {ET::kIntermediateCatchEvent, EV::kMessage, kYes},
    {ET::kIntermediateCatchEvent, EV::kTimer, kYes},
    {ET::kIntermediateCatchEvent, EV::kSignal, kYes},
    {ET::kIntermediateCatchEvent, EV::kLink, kYes},
    {ET::kIntermediateCatchEvent, EV::kConditional, kNotYet},

    {ET::kIntermediateThrowEvent, EV::kNone, kYes},
    {ET::kIntermediateThrowEvent, EV::kMessage, kYes},
    {ET::kIntermediateThrowEvent, EV::kSignal, kYes},
    {ET::kIntermediateThrowEvent, EV::kEscalation, kYes},
    {ET::kIntermediateThrowEvent, EV::kCompensation, kYes},
    {ET::kIntermediateThrowEvent, EV::kLink, kYes},

    {ET::kBoundaryEvent, EV::kMessage, kYes},
    {ET::kBoundaryEvent, EV::kTimer, kYes},
    {ET::kBoundaryEvent, EV::kError, kYes},
    {ET::kBoundaryEvent, EV::kSignal, kYes},
    {ET::kBoundaryEvent, EV::kEscalation, kYes},
    {ET::kBoundaryEvent, EV::kCompensation, kYes},
    {ET::kBoundaryEvent, EV::kConditional, kNotYet},
};

// Everything that is not an event, indexed by ElementType.
constexpr Support NonEventSupport(ElementType type) {
  switch (type) {
    case ET::kProcess:
    case ET::kServiceTask:
    case ET::kManualTask:
    case ET::kTask:
    case ET::kExclusiveGateway:
    case ET::kParallelGateway:
    case ET::kSequenceFlow:
    case ET::kSubProcess:
    case ET::kEventSubProcess:
    case ET::kCallActivity:
    case ET::kSendTask:
    case ET::kReceiveTask:
    case ET::kUserTask:
    case ET::kScriptTask:
    case ET::kBusinessRuleTask:
    case ET::kInclusiveGateway:
    case ET::kEventBasedGateway:
    case ET::kMultiInstanceBody:
      return kYes;
    case ET::kComplexGateway:
    case ET::kTransaction:
    // Zeebe 8.7+ runs ad-hoc subprocesses; the Zeebe 8.6 protocol Tern speaks does not.
    case ET::kAdHocSubProcess:
    case ET::kUnspecified:
      return kNever;
    case ET::kStartEvent:
    case ET::kEndEvent:
    case ET::kIntermediateCatchEvent:
    case ET::kIntermediateThrowEvent:
    case ET::kBoundaryEvent:
      break;
  }
  return kNever;
}

struct FeatureEntry {
  Feature feature;
  Support support;
  std::string_view name;
};

constexpr FeatureEntry kFeatureTable[] = {
    {Feature::kMultiInstanceParallel, kYes, "multi-instance (parallel)"},
    {Feature::kMultiInstanceSequential, kYes, "multi-instance (sequential)"},
    {Feature::kStandardLoop, kNever, "a standard loop (bpmn:standardLoopCharacteristics)"},
    {Feature::kNonInterrupting, kYes, "a non-interrupting event"},
    {Feature::kCompensationHandler, kYes, "a compensation handler (isForCompensation)"},
    {Feature::kInputMappings, kYes, "input mappings (zeebe:input)"},
    {Feature::kOutputMappings, kYes, "output mappings (zeebe:output)"},
    {Feature::kTaskHeaders, kYes, "task headers (zeebe:taskHeaders)"},
    {Feature::kProperties, kYes, "zeebe:properties"},
    {Feature::kJobWorker, kYes, "a job worker implementation (zeebe:taskDefinition)"},
    {Feature::kFeelScript, kYes, "a FEEL script (zeebe:script)"},
    {Feature::kDmnDecision, kYes, "a called decision (zeebe:calledDecision)"},
    {Feature::kZeebeUserTask, kYes, "a Zeebe user task (zeebe:userTask)"},
    {Feature::kExecutionListeners, kYes, "execution listeners (zeebe:executionListeners)"},
    {Feature::kTaskListeners, kNotYet, "task listeners (zeebe:taskListeners)"},
    {Feature::kLinkedResources, kNotYet, "linked resources (zeebe:linkedResources)"},
    {Feature::kPriorityDefinition, kYes, "a priority (zeebe:priorityDefinition)"},
    {Feature::kPublishMessage, kNotYet, "zeebe:publishMessage"},
};
static_assert(std::size(kFeatureTable) == static_cast<size_t>(Feature::kCount),
              "every Feature needs a row in kFeatureTable");

constexpr bool FeatureTableInOrder() {
  for (size_t i = 0; i < std::size(kFeatureTable); ++i) {
    if (static_cast<size_t>(kFeatureTable[i].feature) != i) return false;
  }
  return true;
}
static_assert(FeatureTableInOrder(), "kFeatureTable rows must follow the Feature enum order");

}  // namespace

Support ElementSupport(ElementType type, EventType event_type) {
  const bool event_kind = type == ET::kStartEvent || type == ET::kEndEvent ||
                          type == ET::kIntermediateCatchEvent ||
                          type == ET::kIntermediateThrowEvent || type == ET::kBoundaryEvent;
  if (!event_kind) return event_type == EV::kNone ? NonEventSupport(type) : kNever;
  for (const auto& entry : kEventTable) {
    if (entry.type == type && entry.event == event_type) return entry.support;
  }
  return kNever;
}

Support FeatureSupport(Feature feature) {
  return kFeatureTable[static_cast<size_t>(feature)].support;
}

std::string_view FeatureName(Feature feature) {
  return kFeatureTable[static_cast<size_t>(feature)].name;
}

std::vector<Feature> ModelFeatures(const Element& element) {
  std::vector<Feature> features;
  if (element.loop.has_value()) {
    features.push_back(element.loop->sequential ? Feature::kMultiInstanceSequential
                                                : Feature::kMultiInstanceParallel);
  }
  if (!element.interrupting) features.push_back(Feature::kNonInterrupting);
  if (element.is_for_compensation) features.push_back(Feature::kCompensationHandler);
  if (!element.inputs.empty()) features.push_back(Feature::kInputMappings);
  if (!element.outputs.empty()) features.push_back(Feature::kOutputMappings);
  if (!element.task_headers.empty()) features.push_back(Feature::kTaskHeaders);
  if (!element.properties.empty()) features.push_back(Feature::kProperties);
  switch (element.type) {
    case ET::kScriptTask:
      features.push_back(element.script.has_value() ? Feature::kFeelScript : Feature::kJobWorker);
      break;
    case ET::kBusinessRuleTask:
      features.push_back(element.called_decision.has_value() ? Feature::kDmnDecision
                                                             : Feature::kJobWorker);
      break;
    case ET::kUserTask:
      features.push_back(element.user_task.has_value() && element.user_task->zeebe_user_task
                             ? Feature::kZeebeUserTask
                             : Feature::kJobWorker);
      break;
    case ET::kSendTask:
      features.push_back(Feature::kJobWorker);
      break;
    case ET::kIntermediateThrowEvent:
    case ET::kEndEvent:
      if (element.event_type == EV::kMessage) features.push_back(Feature::kJobWorker);
      break;
    default:
      break;
  }
  return features;
}

bool IsExecutable(const Element& element) {
  if (ElementSupport(element.type, element.event_type) != kYes) return false;
  for (Feature feature : ModelFeatures(element)) {
    if (FeatureSupport(feature) != kYes) return false;
  }
  return true;
}

std::string ElementKind(const Element& element) {
  std::string kind(ElementTypeName(element.type));
  if (element.event_type == EV::kMultiple) {
    Append(kind, " with multiple event definitions");
  } else if (element.event_type != EV::kNone) {
    Append(kind, " with ", EventTypeName(element.event_type), " event definition");
  }
  return kind;
}

}  // namespace tern::bpmn
