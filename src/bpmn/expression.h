#pragma once

// Turns attribute text into model Expressions, compiling FEEL once at deploy time (internal to
// the bpmn module).

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "bpmn/model.h"

namespace tern::bpmn {

enum class FeelMode {
  // Zeebe's rule for most attributes: FEEL when the text starts with '=', else a static value.
  kIfPrefixed,
  // Attributes Zeebe only accepts as expressions (conditions, correlation keys, input
  // collections, ...): compiled as FEEL whether or not the '=' is written.
  kAlways,
};

// Compiled FEEL by source text, for one parse: a generated model repeats the same expressions
// (`=retries`, `=orderId`) on thousands of elements, and a compiled expression is immutable, so
// they share one.
using CompiledExpressions =
    absl::flat_hash_map<std::string, std::shared_ptr<const feel::CompiledExpression>>;

// Builds the Expression for `text`. Returns the FEEL compiler's message when the text is meant
// as FEEL and does not compile. With `cache`, an expression compiled before is reused.
absl::StatusOr<Expression> MakeExpression(std::string_view text, FeelMode mode,
                                          CompiledExpressions* cache = nullptr);

// True when this build compiles FEEL (the feel module is linked in).
bool FeelCompilerAvailable();

}  // namespace tern::bpmn
