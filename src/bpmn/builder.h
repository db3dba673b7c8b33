#pragma once

// Builds the model (model.h) from the namespace-resolved XML tree, resolving references and
// compiling expressions. Facts that rules need but the model does not keep (how many event
// definitions an element had, which extension elements appeared twice, ...) come back beside the
// model in ElementInfo. Internal to the bpmn module.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "bpmn/model.h"
#include "bpmn/problems.h"
#include "bpmn/support.h"
#include "bpmn/xml_reader.h"

namespace tern::bpmn {

// A global bpmn:message / error / signal / escalation.
struct GlobalInfo {
  std::string_view id;
  int line = 0;
  const std::string_view* name = nullptr;  // name attribute, if present
  const std::string_view* code = nullptr;  // errorCode / escalationCode, if present
  int subscriptions = 0;                   // zeebe:subscription elements (messages)
  const std::string_view* correlation_key = nullptr;
};

struct ElementInfo {
  int event_definitions = 0;  // *EventDefinition children (0 for non-events)
  int timer_values = 0;       // timeDuration / timeDate / timeCycle children of the timer
  const GlobalInfo* message = nullptr;
  const GlobalInfo* error = nullptr;
  const GlobalInfo* signal = nullptr;
  const GlobalInfo* escalation = nullptr;
  bool message_ref_missing = false;  // a message event / receive task without messageRef
  bool signal_ref_missing = false;
  bool escalation_ref_missing = false;
  bool error_ref_missing = false;
  std::string_view wait_for_completion;  // compensateEventDefinition attribute as written
  std::string_view raw_activity_ref;     // compensateEventDefinition activityRef
  bool has_association = false;          // a bpmn:association starts at this element

  // Zeebe extension elements, counted so "at most one" rules can be checked.
  int task_definitions = 0;
  int io_mappings = 0;
  int task_headers = 0;
  int called_elements = 0;
  int called_decisions = 0;
  int scripts = 0;
  int user_tasks = 0;
  int assignment_definitions = 0;
  int form_definitions = 0;
  int task_schedules = 0;
  int priority_definitions = 0;
  int zeebe_loops = 0;  // zeebe:loopCharacteristics inside the multi-instance marker
  int properties_elements = 0;
  int publish_messages = 0;
  int execution_listener_blocks = 0;   // zeebe:executionListeners
  int version_tags = 0;                // zeebe:versionTag (on the process)
  bool multi_instance = false;         // bpmn:multiInstanceLoopCharacteristics present
  bool standard_loop = false;          // bpmn:standardLoopCharacteristics present
  bool has_condition_element = false;  // sequence flow with a conditionExpression element
  bool has_completion_condition = false;
  bool feel_error = false;  // a FEEL expression on this element did not compile (reported)
  std::vector<Feature> parser_features;  // features the model itself does not record
};

struct BuildOutput {
  std::shared_ptr<Definitions> definitions;
  std::vector<std::vector<ElementInfo>> info;  // [process][element], parallel to the model
  std::vector<std::unique_ptr<GlobalInfo>> globals;
};

BuildOutput BuildModel(const XmlTree& tree, Problems& problems);

// Reports the element through `problems` with its id, kind and line.
void Report(Problems& problems, const Element& element, std::string_view message);

}  // namespace tern::bpmn
