#include "bpmn/parser.h"

#include "bpmn/builder.h"
#include "bpmn/problems.h"
#include "bpmn/validator.h"
#include "bpmn/xml_reader.h"

namespace tern::bpmn {

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
  return std::shared_ptr<const Definitions>(std::move(built.definitions));
}

}  // namespace tern::bpmn
