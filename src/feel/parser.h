#pragma once

// Internal: FEEL source text -> syntax tree (nodes.h). Recursive descent with an explicit
// nesting limit (kMaxParseDepth); operator chains are parsed iteratively into n-ary nodes.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "feel/eval.h"
#include "feel/feel.h"

namespace tern::feel::internal {

// `options->known_names`: names that may contain operators, keywords or extra symbols (DMN
// variables such as "Date-Time" or "values in a list"); matched literally, longest first.
// `options->type_resolver`: named types for `instance of` and typed parameters. May be null.
absl::StatusOr<std::shared_ptr<Program>> ParseExpression(std::string_view source,
                                                         const CompileOptions* options = nullptr);
absl::StatusOr<std::shared_ptr<Program>> ParseUnaryTests(std::string_view source,
                                                         const CompileOptions* options = nullptr);

}  // namespace tern::feel::internal
