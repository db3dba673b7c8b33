#pragma once

// Checks of records that reach this partition from another one. A deployment another partition
// distributes is stored without the checks of a new deployment (the distributing partition ran
// them), and the engine later treats a stored resource that does not parse as corrupt state.
// The broker runs this before it accepts such a command from its cluster port, so that a forged
// or damaged one is refused instead of reaching that invariant.

#include <string>

#include "absl/status/status.h"
#include "tern/record.pb.h"

namespace tern::engine {

// The deployment's resource of that name; nullptr when it has none. Names are unique within a
// deployment (a new deployment with two resources of one name is refused).
const record::DeploymentResource* FindResource(const record::DeploymentRecord& deployment,
                                               const std::string& name);

// OK when every process and decision requirements graph the deployment adds comes with a
// resource that parses and defines it; INVALID_ARGUMENT naming the resource otherwise.
absl::Status CheckDistributedDeployment(const record::DeploymentRecord& deployment);

}  // namespace tern::engine
