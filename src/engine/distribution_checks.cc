#include "engine/distribution_checks.h"

#include <string>

#include "base/strings.h"
#include "bpmn/parser.h"
#include "dmn/dmn.h"
#include "engine/forms.h"

namespace tern::engine {

const record::DeploymentResource* FindResource(const record::DeploymentRecord& deployment,
                                               const std::string& name) {
  for (const auto& resource : deployment.resources()) {
    if (resource.resource_name() == name) return &resource;
  }
  return nullptr;
}

absl::Status CheckDistributedDeployment(const record::DeploymentRecord& deployment) {
  for (const auto& process : deployment.processes()) {
    if (process.is_duplicate()) continue;
    const auto* resource = FindResource(deployment, process.resource_name());
    absl::Status parsed = absl::InvalidArgumentError("the resource is missing");
    if (resource != nullptr) {
      auto definitions = bpmn::ParseBpmn(resource->resource(), resource->resource_name());
      if (!definitions.ok()) {
        parsed = definitions.status();
      } else if ((*definitions)->FindProcess(process.bpmn_process_id()) == nullptr) {
        parsed = absl::InvalidArgumentError("the process is not in it");
      } else {
        parsed = absl::OkStatus();
      }
    }
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(StrCat(
          "Expected the distributed deployment to carry resource '", process.resource_name(),
          "' defining process '", process.bpmn_process_id(), "': ", ToStd(parsed.message())));
    }
  }
  for (const auto& requirements : deployment.decision_requirements()) {
    if (requirements.is_duplicate()) continue;
    const auto* resource = FindResource(deployment, requirements.resource_name());
    absl::Status parsed =
        resource == nullptr
            ? absl::InvalidArgumentError("the resource is missing")
            : dmn::ParseDmn(resource->resource(), resource->resource_name()).status();
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          StrCat("Expected the distributed deployment to carry resource '",
                 requirements.resource_name(), "' defining decision requirements '",
                 requirements.decision_requirements_id(), "': ", ToStd(parsed.message())));
    }
  }
  for (const auto& form : deployment.forms()) {
    if (form.is_duplicate()) continue;
    const auto* resource = FindResource(deployment, form.resource_name());
    absl::Status parsed = absl::InvalidArgumentError("the resource is missing");
    if (resource != nullptr) {
      auto info = ReadForm(resource->resource(), resource->resource_name());
      if (!info.ok()) {
        parsed = info.status();
      } else if (info->id != form.form_id()) {
        parsed = absl::InvalidArgumentError("the form's id differs");
      } else {
        parsed = absl::OkStatus();
      }
    }
    if (!parsed.ok()) {
      return absl::InvalidArgumentError(
          StrCat("Expected the distributed deployment to carry resource '", form.resource_name(),
                 "' defining form '", form.form_id(), "': ", ToStd(parsed.message())));
    }
  }
  return absl::OkStatus();
}

}  // namespace tern::engine
