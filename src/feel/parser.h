#pragma once

// Internal: FEEL source text -> syntax tree (nodes.h). Recursive descent with an explicit
// nesting limit (kMaxParseDepth); operator chains are parsed iteratively into n-ary nodes.

#include <memory>
#include <string_view>

#include "absl/status/statusor.h"
#include "feel/eval.h"

namespace tern::feel::internal {

absl::StatusOr<std::shared_ptr<Program>> ParseExpression(std::string_view source);
absl::StatusOr<std::shared_ptr<Program>> ParseUnaryTests(std::string_view source);

}  // namespace tern::feel::internal
