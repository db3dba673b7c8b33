#pragma once

// ternctl prints responses the way zbctl does: protojson with every field present, two-space
// indent, int64 values as strings, enums by name.

#include <nlohmann/json.hpp>
#include <string>

#include "tern/types.h"

namespace ternctl {

using Json = nlohmann::ordered_json;

Json ToJson(const tern::Topology& topology);
Json ToJson(const tern::DeploymentEvent& event);
Json ToJson(const tern::DeployProcessResponse& response);
Json ToJson(const tern::ProcessInstanceEvent& event);
Json ToJson(const tern::ProcessInstanceResult& result);
Json ToJson(const tern::ActivatedJob& job);
Json ToJson(const tern::ActivateJobsResponse& response);
Json ToJson(const tern::SetVariablesResponse& response);
Json ToJson(const tern::PublishMessageResponse& response);
Json ToJson(const tern::BroadcastSignalResponse& response);
Json ToJson(const tern::EvaluateDecisionResponse& response);

// Two-space indented text with a final newline.
std::string Pretty(const Json& json);

// The text zbctl prints for `status`.
std::string StatusText(const tern::Topology& topology);

}  // namespace ternctl
