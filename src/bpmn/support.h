#pragma once

// What Tern executes today. The validator rejects, at deploy time, every element that Zeebe would
// run but Tern cannot yet, naming the element and its kind, rather than letting an instance get
// stuck at runtime. Widening support means flipping entries in the two tables in support.cc (and
// teaching the engine the element); nothing else in the bpmn module needs to change.

#include <string>
#include <string_view>
#include <vector>

#include "bpmn/model.h"

namespace tern::bpmn {

enum class Support : uint8_t {
  kExecutable,    // Tern executes it
  kNotYetInTern,  // Zeebe executes it; Tern rejects it at deploy for now
  kNotInZeebe,    // Zeebe rejects it too (complex gateway, cancel events, ...)
};

// Support for an element kind: its type together with its event definition (kNone for
// elements that are not events).
Support ElementSupport(ElementType type, EventType event_type);

// Capabilities an element can use beyond its kind. An element is executable when its kind and
// every feature it uses are.
enum class Feature : uint8_t {
  kMultiInstanceParallel,
  kMultiInstanceSequential,
  kStandardLoop,         // bpmn:standardLoopCharacteristics
  kNonInterrupting,      // non-interrupting boundary event or event subprocess start event
  kCompensationHandler,  // isForCompensation="true"
  kInputMappings,        // zeebe:ioMapping / zeebe:input
  kOutputMappings,       // zeebe:ioMapping / zeebe:output
  kTaskHeaders,          // zeebe:taskHeaders
  kProperties,           // zeebe:properties (metadata only)
  kJobWorker,            // script, business rule, send, user task or message throw as a job
  kFeelScript,           // zeebe:script
  kDmnDecision,          // zeebe:calledDecision
  kZeebeUserTask,        // zeebe:userTask (native user task)
  kExecutionListeners,   // zeebe:executionListeners
  kTaskListeners,        // zeebe:taskListeners
  kLinkedResources,      // zeebe:linkedResources
  kPriorityDefinition,   // zeebe:priorityDefinition
  kPublishMessage,       // zeebe:publishMessage
  kCount,
};

Support FeatureSupport(Feature feature);
std::string_view FeatureName(Feature feature);  // e.g. "multi-instance (parallel)"

// The features of `element` that the model itself records (extension elements the model does
// not keep, such as execution listeners, are found by the parser).
std::vector<Feature> ModelFeatures(const Element& element);

// The element's kind and all of its model features are executable by Tern.
bool IsExecutable(const Element& element);

// How messages name an element's kind: "SERVICE_TASK",
// "INTERMEDIATE_CATCH_EVENT with TIMER event definition".
std::string ElementKind(const Element& element);

}  // namespace tern::bpmn
