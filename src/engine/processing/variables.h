#pragma once

// Variables: scopes, lookups for FEEL, and the writes that emit VARIABLE events.
//
// Every element instance is a variable scope whose parent is its flow scope; the process
// instance is the root. A name resolves to the innermost scope that defines it. Writes follow
// Zeebe's rules:
//  - local: the variable is set on the given scope;
//  - propagating: each variable is set on the innermost scope (starting at the given one) that
//    already defines it, and otherwise on the root scope.
// Values are JSON text; documents are JSON objects.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/processing/context.h"
#include "feel/feel.h"

namespace tern::engine {

// A variables document as (name, JSON value) pairs, sorted by name.
using VariableDocument = std::vector<std::pair<std::string, std::string>>;

// Parses a JSON object document. "" and whitespace mean the empty document. Errors are
// INVALID_ARGUMENT with Zeebe's wording.
absl::StatusOr<VariableDocument> ParseVariableDocument(std::string_view json);

// Renders (name, JSON value) pairs as one JSON object.
std::string RenderVariableDocument(const VariableDocument& document);

class VariableBehavior {
 public:
  explicit VariableBehavior(ProcessingContext& context) : context_(context) {}

  // The parent scope of `scope_key`, or -1 for a root scope (or an unknown key).
  int64_t ParentScope(int64_t scope_key);
  // The JSON value visible from `scope_key`, if any.
  std::optional<std::string> Lookup(int64_t scope_key, std::string_view name);
  // All variables visible from `scope_key` (inner scopes shadow outer ones), restricted to
  // `names` when it is non-empty, as a JSON object.
  std::string CollectVisible(int64_t scope_key, const std::vector<std::string>& names);
  // The variables defined directly on `scope_key`, restricted to `names` when non-empty.
  std::string CollectLocal(int64_t scope_key, const std::vector<std::string>& names);

  void SetLocal(int64_t scope_key, std::string_view name, std::string_view json_value);
  void MergeLocal(int64_t scope_key, const VariableDocument& document);
  void MergePropagating(int64_t scope_key, const VariableDocument& document);

 private:
  // Writes CREATED or UPDATED (nothing if the value is unchanged).
  void Write(int64_t scope_key, std::string_view name, std::string_view json_value);
  ProcessingContext& context_;
};

// Resolves FEEL variables from a scope chain, with optional overrides that shadow state (used
// while evaluating a series of mappings, where later mappings see earlier targets).
class ScopeVariableResolver : public feel::VariableResolver {
 public:
  ScopeVariableResolver(VariableBehavior& variables, int64_t scope_key)
      : variables_(variables), scope_key_(scope_key) {}
  void Override(std::string name, feel::Value value) {
    overrides_.emplace_back(std::move(name), std::move(value));
  }
  std::optional<feel::Value> Lookup(std::string_view name) const override;

 private:
  VariableBehavior& variables_;
  int64_t scope_key_;
  std::vector<std::pair<std::string, feel::Value>> overrides_;
};

}  // namespace tern::engine
