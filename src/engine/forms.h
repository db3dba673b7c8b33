#pragma once

// Camunda Forms resources (`*.form`): a JSON schema whose top-level `id` names the form. The
// engine stores the schema as deployed and reads only what links a user task to it.

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace tern::engine {

struct FormInfo {
  std::string id;           // the schema's top-level "id"
  std::string version_tag;  // its top-level "versionTag" ("" when none)
};

// Refuses, with a message naming the resource, text that is not a JSON object, an object
// without a non-empty string "id" (or with a non-string "versionTag"), and nesting deeper than
// kMaxFormDepth. Reads the text once without building a document.
inline constexpr int kMaxFormDepth = 64;
absl::StatusOr<FormInfo> ReadForm(std::string_view json, std::string_view resource_name);

}  // namespace tern::engine
