#pragma once

// Entry point of the bpmn module: BPMN 2.0 XML with Zeebe extension elements in, the immutable
// executable model (model.h) out.
//
// ParseBpmn is a pure function of its input: no I/O, no clock, safe to call from any thread.
// Every expected failure is INVALID_ARGUMENT:
//  - XML the deployment must refuse (DOCTYPE, undeclared entities, invalid UTF-8, duplicate
//    attributes, more than 4 MiB, nesting deeper than 256): the first such problem, with its line;
//  - otherwise every modelling problem at once, one per line, each naming the element id, its
//    kind and its line, e.g.
//      'order.bpmn' is not a valid BPMN resource:
//      - Element 'task1' (SERVICE_TASK, line 12): must have a zeebe:taskDefinition with a non-empty
//      type
//      - Element 'timer1' (INTERMEDIATE_CATCH_EVENT with TIMER event definition, line 20): is not
//      supported by Tern yet

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "bpmn/model.h"

namespace tern::bpmn {

struct ParseOptions {
  // Reject elements Zeebe executes but Tern does not yet (support.h). Deployment always keeps
  // this on; tools and tests that only want Zeebe's rules may turn it off.
  bool check_tern_support = true;
};

absl::StatusOr<std::shared_ptr<const Definitions>> ParseBpmn(std::string_view xml,
                                                             std::string_view resource_name);

absl::StatusOr<std::shared_ptr<const Definitions>> ParseBpmn(std::string_view xml,
                                                             std::string_view resource_name,
                                                             const ParseOptions& options);

}  // namespace tern::bpmn
