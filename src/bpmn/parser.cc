#include "bpmn/parser.h"

#include "bpmn/builder.h"
#include "bpmn/problems.h"
#include "bpmn/validator.h"
#include "bpmn/xml_reader.h"

namespace tern::bpmn {
namespace {

// Vectors grown element by element keep up to twice their size; a deployed model lives as long
// as its process is cached, so give the slack back once the model is complete.
void ReleaseSlack(Definitions& definitions) {
  for (Process& process : definitions.processes) {
    process.elements.shrink_to_fit();
    for (Element& element : process.elements) {
      for (std::vector<ElementIndex>* indexes :
           {&element.children, &element.start_events, &element.event_subprocesses,
            &element.incoming, &element.outgoing, &element.boundary_events}) {
        indexes->shrink_to_fit();
      }
      element.task_headers.shrink_to_fit();
      element.inputs.shrink_to_fit();
      element.outputs.shrink_to_fit();
      element.execution_listeners.shrink_to_fit();
    }
  }
}

}  // namespace

absl::StatusOr<std::shared_ptr<const Definitions>> ParseBpmn(std::string_view xml,
                                                             std::string_view resource_name) {
  return ParseBpmn(xml, resource_name, ParseOptions{});
}

absl::StatusOr<std::shared_ptr<const Definitions>> ParseBpmn(std::string_view xml,
                                                             std::string_view resource_name,
                                                             const ParseOptions& options) {
  auto tree = ReadXml(xml, resource_name);
  if (!tree.ok()) return tree.status();
  Problems problems;
  BuildOutput built = BuildModel(**tree, problems);
  ValidateModel(built, problems);
  if (options.check_tern_support) CheckSupport(built, problems);
  if (!problems.empty()) return problems.ToStatus(resource_name);
  ReleaseSlack(*built.definitions);
  return std::shared_ptr<const Definitions>(std::move(built.definitions));
}

}  // namespace tern::bpmn
