#include "engine/processing/variables.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "base/strings.h"

namespace tern::engine {
namespace {

std::string_view JsonTypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::array:
      return "ARRAY";
    case nlohmann::json::value_t::string:
      return "STRING";
    case nlohmann::json::value_t::boolean:
      return "BOOLEAN";
    case nlohmann::json::value_t::null:
      return "NIL";
    case nlohmann::json::value_t::object:
      return "MAP";
    default:
      return "NUMBER";
  }
}

void AppendJsonString(std::string& out, std::string_view text) {
  out += nlohmann::json(std::string(text))
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

absl::StatusOr<VariableDocument> ParseVariableDocument(std::string_view json) {
  VariableDocument document;
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return document;
  nlohmann::json parsed = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return absl::InvalidArgumentError(tern::StrCat("Invalid JSON value: ", json.substr(0, 256)));
  }
  if (!parsed.is_object()) {
    return absl::InvalidArgumentError(tern::StrCat(
        "Expected document to be a root level object, but was '", JsonTypeName(parsed), "'"));
  }
  document.reserve(parsed.size());
  for (auto& [name, value] : parsed.items()) {
    document.emplace_back(name,
                          value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  return document;
}

std::string RenderVariableDocument(const VariableDocument& document) {
  std::string out = "{";
  for (size_t i = 0; i < document.size(); ++i) {
    if (i > 0) out += ',';
    AppendJsonString(out, document[i].first);
    out += ':';
    out += document[i].second;
  }
  out += '}';
  return out;
}

int64_t VariableBehavior::ParentScope(int64_t scope_key) {
  auto instance = context_.state().element_instances.Get(scope_key);
  if (!instance) return -1;
  return instance->record().flow_scope_key();
}

std::optional<std::string> VariableBehavior::Lookup(int64_t scope_key, std::string_view name) {
  for (int64_t scope = scope_key; scope > 0; scope = ParentScope(scope)) {
    if (auto value = context_.state().variables.GetLocal(scope, name)) return value;
  }
  return std::nullopt;
}

std::string VariableBehavior::CollectVisible(int64_t scope_key,
                                             const std::vector<std::string>& names) {
  VariableDocument document;
  if (!names.empty()) {
    std::set<std::string_view> seen;
    for (const auto& name : names) {
      if (!seen.insert(name).second) continue;
      if (auto value = Lookup(scope_key, name)) document.emplace_back(name, *value);
    }
  } else {
    std::set<std::string, std::less<>> seen;
    for (int64_t scope = scope_key; scope > 0; scope = ParentScope(scope)) {
      context_.state().variables.ForEachLocal(
          scope, [&](std::string_view name, std::string_view value) {
            if (seen.insert(std::string(name)).second) {
              document.emplace_back(std::string(name), std::string(value));
            }
          });
    }
  }
  std::sort(document.begin(), document.end());
  return RenderVariableDocument(document);
}

std::string VariableBehavior::CollectLocal(int64_t scope_key,
                                           const std::vector<std::string>& names) {
  VariableDocument document;
  context_.state().variables.ForEachLocal(
      scope_key, [&](std::string_view name, std::string_view value) {
        if (names.empty() || std::find(names.begin(), names.end(), name) != names.end()) {
          document.emplace_back(name, value);
        }
      });
  return RenderVariableDocument(document);
}

void VariableBehavior::Write(int64_t scope_key, std::string_view name,
                             std::string_view json_value) {
  auto existing = context_.state().variables.GetLocal(scope_key, name);
  if (existing && *existing == json_value) return;
  auto scope = context_.state().element_instances.Get(scope_key);
  TERN_CHECK(scope.has_value(), "variable scope ", scope_key, " does not exist");
  record::VariableRecord variable;
  variable.set_name(std::string(name));
  variable.set_value(std::string(json_value));
  variable.set_scope_key(scope_key);
  variable.set_process_instance_key(scope->record().process_instance_key());
  variable.set_process_definition_key(scope->record().process_definition_key());
  variable.set_bpmn_process_id(scope->record().bpmn_process_id());
  variable.set_tenant_id(scope->record().tenant_id());
  if (existing) {
    // An update keeps the variable's identity: the key of the event that created it is not
    // stored, so updates get a fresh key like any other event.
    context_.AppendEvent(context_.NextKey(), VariableIntent::kUpdated, std::move(variable));
  } else {
    context_.AppendEvent(context_.NextKey(), VariableIntent::kCreated, std::move(variable));
  }
}

void VariableBehavior::SetLocal(int64_t scope_key, std::string_view name,
                                std::string_view json_value) {
  Write(scope_key, name, json_value);
}

void VariableBehavior::MergeLocal(int64_t scope_key, const VariableDocument& document) {
  for (const auto& [name, value] : document) Write(scope_key, name, value);
}

void VariableBehavior::MergePropagating(int64_t scope_key, const VariableDocument& document) {
  std::vector<bool> placed(document.size(), false);
  size_t remaining = document.size();
  int64_t scope = scope_key;
  int64_t root = scope_key;
  while (scope > 0 && remaining > 0) {
    for (size_t i = 0; i < document.size(); ++i) {
      if (placed[i]) continue;
      if (context_.state().variables.GetLocal(scope, document[i].first)) {
        Write(scope, document[i].first, document[i].second);
        placed[i] = true;
        --remaining;
      }
    }
    root = scope;
    scope = ParentScope(scope);
  }
  while (scope > 0) {
    root = scope;
    scope = ParentScope(scope);
  }
  for (size_t i = 0; i < document.size(); ++i) {
    if (!placed[i]) Write(root, document[i].first, document[i].second);
  }
}

std::optional<feel::Value> ScopeVariableResolver::Lookup(std::string_view name) const {
  for (auto it = overrides_.rbegin(); it != overrides_.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  auto json = variables_.Lookup(scope_key_, name);
  if (!json) return std::nullopt;
  auto value = feel::ValueFromJson(*json);
  // Stored values are valid JSON, but one nested deeper than FEEL accepts cannot be read by an
  // expression; it then behaves like a missing variable.
  if (!value.ok()) return std::nullopt;
  return *std::move(value);
}

}  // namespace tern::engine
