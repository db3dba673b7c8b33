#include "exporter/history_query.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

#include "absl/time/time.h"
#include "base/clock.h"
#include "base/status_macros.h"
#include "base/strings.h"
#include "exporter/history_schema.h"

namespace tern::exporter {
namespace {

using json = nlohmann::json;

// --- The entities: 8.8 field names over the history tables ---------------------------------------

enum class Type {
  kKey,   // a key: a JSON string of digits (numbers accepted in requests)
  kInt,   // a JSON number
  kText,  // a string
  kDate,  // epoch ms in the store, RFC 3339 text in JSON
  kBool,  // 0/1 in SQL
  kJson,  // a JSON document stored as text (custom headers): answered parsed, not filterable
};

struct Field {
  std::string_view name;    // the 8.8 JSON name
  std::string_view column;  // an SQL expression over the entity's table
  Type type;
  bool output = true;       // in the answer's items
  bool filter = true;       // usable in `filter`
  bool sort = true;         // usable in `sort`
  bool omit_empty = false;  // '' is answered as absent (the store writes '' for "none")
  // A filter on rows of another table: the condition holds when such a row exists
  // (`EXISTS (SELECT 1 FROM <exists> AND <condition on column>)`).
  std::string_view exists = {};
};

struct Entity {
  std::string_view name;  // the path segment: process-instances
  std::string_view what;  // for messages: Process instance
  std::string_view table;
  std::string_view key_field;
  std::string_view base_condition;  // rows that exist for the API (deleted definitions do not)
  std::vector<Field> fields;
  // 8.8 filter fields Tern does not answer yet: 400 naming them, rather than ignoring them.
  std::vector<std::string_view> unsupported_filters;
  // Fields computed from the others; `search` is false for a get by key.
  void (*finish)(json& item, bool search) = nullptr;
};

constexpr std::string_view kNoLimit = "9223372036854775807";

void FinishVariable(json& item, bool search) {
  // 8.8 truncates values in search answers; a get by key answers the whole value.
  constexpr size_t kPreviewBytes = 8191;
  bool truncated = false;
  if (search && item.contains("value") && item["value"].is_string()) {
    std::string& value = item["value"].get_ref<std::string&>();
    if (value.size() > kPreviewBytes) {
      size_t cut = kPreviewBytes;
      while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
      value.resize(cut);
      truncated = true;
    }
  }
  if (search) item["isTruncated"] = truncated;  // VariableResult (get by key) has no such field
}

const std::vector<Entity>& AllEntities() {
  static const std::vector<Entity> entities = {
      {"process-definitions",
       "Process definition",
       "process_definition",
       "processDefinitionKey",
       "deleted = 0",
       {
           {"processDefinitionKey", "process_definition_key", Type::kKey},
           {"processDefinitionId", "bpmn_process_id", Type::kText},
           // The store keeps no name: the id stands in, as 8.8 does for unnamed processes.
           {"name", "bpmn_process_id", Type::kText},
           {"resourceName", "resource_name", Type::kText},
           {"version", "version", Type::kInt},
           {"versionTag", "version_tag", Type::kText, true, true, true, true},
           {"tenantId", "tenant_id", Type::kText},
           {"hasStartForm", "0", Type::kBool, true, true, false},
           {"isLatestVersion",
            "CASE WHEN version = (SELECT MAX(latest.version) FROM process_definition latest WHERE "
            "latest.bpmn_process_id = process_definition.bpmn_process_id AND latest.tenant_id = "
            "process_definition.tenant_id AND latest.deleted = 0) THEN 1 ELSE 0 END",
            Type::kBool, false, true, false},
       },
       {}},
      {"process-instances",
       "Process instance",
       "process_instance",
       "processInstanceKey",
       "",
       {
           {"processInstanceKey", "process_instance_key", Type::kKey},
           {"processDefinitionKey", "process_definition_key", Type::kKey},
           {"processDefinitionId", "bpmn_process_id", Type::kText},
           {"processDefinitionName", "bpmn_process_id", Type::kText},
           {"processDefinitionVersion", "version", Type::kInt},
           {"startDate", "start_date", Type::kDate},
           {"endDate", "end_date", Type::kDate},
           {"state", "state", Type::kText},
           {"hasIncident", "CASE WHEN open_incidents > 0 THEN 1 ELSE 0 END", Type::kBool},
           {"tenantId", "tenant_id", Type::kText},
           {"parentProcessInstanceKey", "parent_process_instance_key", Type::kKey},
           {"parentElementInstanceKey", "parent_element_instance_key", Type::kKey},
           // Instances with an incident (open or resolved) whose message matches.
           {"errorMessage", "i.error_message", Type::kText, false, true, false, false,
            "incident i WHERE i.process_instance_key = process_instance.process_instance_key"},
       },
       {"processDefinitionVersionTag", "batchOperationId", "hasRetriesLeft", "elementInstanceState",
        "elementId", "hasElementInstanceIncident", "incidentErrorHashCode", "tags", "$or"}},
      {"element-instances",
       "Element instance",
       "element_instance",
       "elementInstanceKey",
       "",
       {
           {"elementInstanceKey", "element_instance_key", Type::kKey},
           {"processInstanceKey", "process_instance_key", Type::kKey},
           {"processDefinitionKey", "process_definition_key", Type::kKey},
           {"processDefinitionId", "bpmn_process_id", Type::kText},
           {"startDate", "start_date", Type::kDate},
           {"endDate", "end_date", Type::kDate},
           {"elementId", "element_id", Type::kText},
           // The store keeps no element names: the id stands in.
           {"elementName", "element_id", Type::kText},
           {"type", "element_type", Type::kText},
           {"state", "state", Type::kText},
           {"hasIncident", "CASE WHEN incident_key IS NULL THEN 0 ELSE 1 END", Type::kBool},
           {"tenantId", "tenant_id", Type::kText},
           {"incidentKey", "incident_key", Type::kKey},
           {"elementInstanceScopeKey", "flow_scope_key", Type::kKey, false, true, false},
       },
       {}},
      {"variables",
       "Variable",
       "variable",
       "variableKey",
       "",
       {
           {"variableKey", "variable_key", Type::kKey},
           {"name", "name", Type::kText},
           {"value", "value", Type::kText},
           {"scopeKey", "scope_key", Type::kKey},
           {"processInstanceKey", "process_instance_key", Type::kKey},
           {"tenantId", "tenant_id", Type::kText},
           // Values are kept whole; only answers are truncated (FinishVariable).
           {"isTruncated", "0", Type::kBool, false, false, false},
       },
       {},
       FinishVariable},
      {"incidents",
       "Incident",
       "incident",
       "incidentKey",
       "",
       {
           {"incidentKey", "incident_key", Type::kKey},
           {"processDefinitionKey", "process_definition_key", Type::kKey},
           {"processDefinitionId", "bpmn_process_id", Type::kText},
           {"processInstanceKey", "process_instance_key", Type::kKey},
           {"errorType", "error_type", Type::kText},
           {"errorMessage", "error_message", Type::kText},
           {"elementId", "element_id", Type::kText},
           {"elementInstanceKey", "element_instance_key", Type::kKey},
           {"creationTime", "creation_time", Type::kDate},
           {"state", "state", Type::kText},
           {"jobKey", "job_key", Type::kKey},
           {"tenantId", "tenant_id", Type::kText},
       },
       {}},
      {"jobs",
       "Job",
       "job",
       "jobKey",
       "",
       {
           {"jobKey", "job_key", Type::kKey},
           {"type", "type", Type::kText},
           {"worker", "COALESCE(worker, '')", Type::kText},
           // 8.8 has no ACTIVATED state: an activated job is CREATED until it ends or fails.
           {"state", "CASE WHEN state = 'ACTIVATED' THEN 'CREATED' ELSE state END", Type::kText},
           {"kind", "COALESCE(kind, 'BPMN_ELEMENT')", Type::kText},
           {"listenerEventType",
            "CASE listener_event_type WHEN 'LISTENER_EVENT_START' THEN 'START' WHEN "
            "'LISTENER_EVENT_END' THEN 'END' ELSE 'UNSPECIFIED' END",
            Type::kText},
           {"retries", "COALESCE(retries, 0)", Type::kInt},
           {"errorMessage", "error_message", Type::kText, true, true, true, true},
           {"errorCode", "error_code", Type::kText, true, true, true, true},
           {"deadline", "CASE WHEN deadline > 0 THEN deadline ELSE NULL END", Type::kDate},
           {"endTime", "end_time", Type::kDate},
           {"customHeaders", "custom_headers", Type::kJson, true, false, false},
           {"processInstanceKey", "process_instance_key", Type::kKey},
           {"elementInstanceKey", "element_instance_key", Type::kKey},
           {"elementId", "element_id", Type::kText},
           {"processDefinitionId", "bpmn_process_id", Type::kText},
           {"processDefinitionKey", "process_definition_key", Type::kKey},
           {"hasFailedWithRetriesLeft",
            "CASE WHEN state = 'FAILED' AND retries > 0 THEN 1 ELSE 0 END", Type::kBool, true, true,
            false},
           {"tenantId", "tenant_id", Type::kText},
       },
       {"deniedReason", "isDenied"}},
      {"decision-definitions",
       "Decision definition",
       "decision_definition",
       "decisionDefinitionKey",
       "deleted = 0",
       {
           {"decisionDefinitionKey", "decision_key", Type::kKey},
           {"decisionDefinitionId", "decision_id", Type::kText},
           {"name", "name", Type::kText},
           {"version", "version", Type::kInt},
           {"decisionRequirementsId", "decision_requirements_id", Type::kText},
           {"decisionRequirementsKey", "decision_requirements_key", Type::kKey},
           {"tenantId", "tenant_id", Type::kText},
       },
       {}},
  };
  return entities;
}

const Entity* FindEntity(std::string_view name) {
  for (const Entity& entity : AllEntities()) {
    if (entity.name == name) return &entity;
  }
  return nullptr;
}

const Field* FindField(const Entity& entity, std::string_view name) {
  for (const Field& field : entity.fields) {
    if (field.name == name) return &field;
  }
  return nullptr;
}

std::string Names(const Entity& entity, bool Field::*usable) {
  std::string names;
  for (const Field& field : entity.fields) {
    if (!(field.*usable)) continue;
    StrAppend(&names, names.empty() ? "" : ", ", field.name);
  }
  return names;
}

// --- Cursors: base64 of the JSON array of a row's sort values -----------------------------------

constexpr std::string_view kBase64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string Base64Encode(std::string_view data) {
  std::string out;
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kBase64[(n >> shift) & 63]);
  }
  if (i + 1 == data.size()) {
    uint32_t n = uint8_t(data[i]) << 16;
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.append("==");
  } else if (i + 2 == data.size()) {
    uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8);
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(kBase64[(n >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    size_t value = kBase64.find(c);
    if (value == std::string_view::npos) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

// --- Building statements ------------------------------------------------------------------------

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

absl::Status Invalid(const std::string& message) { return absl::InvalidArgumentError(message); }

// Collects the parameters of one statement; Add returns the placeholder.
struct Params {
  std::vector<json> values;  // integers or strings
  std::string Add(json value) {
    values.push_back(std::move(value));
    return StrCat("?", values.size());
  }
};

// Far below what either database takes in one statement (SQLite 32,766, PostgreSQL 65,535), so a
// large filter is the client's 400, never the store's error.
constexpr size_t kMaxFilterValues = 2'000;

absl::Status CheckFilterSize(const Params& params) {
  if (params.values.size() <= kMaxFilterValues) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat("The filter has ", params.values.size(),
                                           " values; at most ", kMaxFilterValues, " are allowed"));
}

absl::Status Bind(SqlStatement& statement, const std::vector<json>& values, size_t count) {
  for (size_t i = 0; i < count && i < values.size(); ++i) {
    const json& value = values[i];
    const int index = static_cast<int>(i + 1);
    if (value.is_number_integer()) {
      statement.BindInt(index, value.get<int64_t>());
    } else if (value.is_string()) {
      statement.BindText(index, value.get_ref<const std::string&>());
    } else {
      statement.BindNull(index);
    }
  }
  return absl::OkStatus();
}

std::optional<int64_t> ParseInt64(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kKey:
      return "a key (a string of digits)";
    case Type::kInt:
      return "an integer";
    case Type::kText:
      return "a string";
    case Type::kDate:
      return "an RFC 3339 date-time";
    case Type::kBool:
      return "a boolean";
    case Type::kJson:
      return "a JSON document";
  }
  return "a value";
}

// One filter or cursor value as a statement parameter of the field's type.
absl::StatusOr<json> ToParam(Type type, const json& value, std::string_view path) {
  switch (type) {
    case Type::kKey:
      if (value.is_number_integer() && !value.is_number_unsigned()) return value.get<int64_t>();
      if (value.is_number_unsigned() && value.get<uint64_t>() <= uint64_t{INT64_MAX}) {
        return static_cast<int64_t>(value.get<uint64_t>());
      }
      if (value.is_string()) {
        if (auto parsed = ParseInt64(value.get_ref<const std::string&>())) return *parsed;
      }
      break;
    case Type::kInt:
      if (value.is_number_integer() && !value.is_number_unsigned()) return value.get<int64_t>();
      if (value.is_number_unsigned() && value.get<uint64_t>() <= uint64_t{INT64_MAX}) {
        return static_cast<int64_t>(value.get<uint64_t>());
      }
      break;
    case Type::kText:
      if (value.is_string()) return value;
      break;
    case Type::kDate:
      if (value.is_string()) {
        absl::Time time;
        std::string error;
        if (absl::ParseTime(absl::RFC3339_full, value.get<std::string>(), &time, &error)) {
          return absl::ToUnixMillis(time);
        }
      }
      break;
    case Type::kBool:
      if (value.is_boolean()) return value.get<bool>() ? 1 : 0;
      break;
    case Type::kJson:
      break;
  }
  return Invalid(StrCat("Expected '", path, "' to be ", TypeName(type)));
}

// Camunda's $like: * any characters, ? one character, \ escapes; in SQL LIKE with \ as escape.
std::string LikePattern(std::string_view pattern) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      char next = pattern[++i];
      if (next == '%' || next == '_' || next == '\\') out.push_back('\\');
      out.push_back(next);
    } else if (c == '*') {
      out.push_back('%');
    } else if (c == '?') {
      out.push_back('_');
    } else {
      if (c == '%' || c == '_' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
  }
  return out;
}

constexpr size_t kMaxInValues = 1'000;
constexpr size_t kMaxVariableFilters = 100;

// The SQL condition of one filter field: a plain value (equality) or an object of 8.8's
// operators ($eq, $neq, $exists, $gt, $gte, $lt, $lte, $in, $notIn, $like).
absl::StatusOr<std::string> FieldCondition(const Field& field, const json& value,
                                           const std::string& path, Params& params) {
  const std::string expr = StrCat("(", field.column, ")");
  if (!value.is_object()) {
    TERN_ASSIGN_OR_RETURN(json param, ToParam(field.type, value, path));
    return StrCat(expr, " = ", params.Add(std::move(param)));
  }
  if (value.empty()) return Invalid(StrCat("Expected '", path, "' to hold an operator"));
  const bool ordered = field.type == Type::kKey || field.type == Type::kInt ||
                       field.type == Type::kDate || field.type == Type::kText;
  std::vector<std::string> terms;
  for (const auto& [op, argument] : value.items()) {
    const std::string op_path = StrCat(path, ".", op);
    if (op == "$exists") {
      if (!argument.is_boolean())
        return Invalid(StrCat("Expected '", op_path, "' to be a boolean"));
      terms.push_back(StrCat(expr, argument.get<bool>() ? " IS NOT NULL" : " IS NULL"));
      continue;
    }
    if (op == "$in" || op == "$notIn") {
      if (!argument.is_array() || argument.empty() || argument.size() > kMaxInValues) {
        return Invalid(
            StrCat("Expected '", op_path, "' to be an array of 1 to ", kMaxInValues, " values"));
      }
      std::string list;
      for (size_t i = 0; i < argument.size(); ++i) {
        TERN_ASSIGN_OR_RETURN(json param,
                              ToParam(field.type, argument[i], StrCat(op_path, "[", i, "]")));
        StrAppend(&list, i == 0 ? "" : ", ", params.Add(std::move(param)));
      }
      terms.push_back(StrCat(expr, op == "$in" ? " IN (" : " NOT IN (", list, ")"));
      continue;
    }
    std::string_view sql_op;
    if (op == "$eq") {
      sql_op = " = ";
    } else if (op == "$neq") {
      sql_op = " <> ";
    } else if (ordered && op == "$gt") {
      sql_op = " > ";
    } else if (ordered && op == "$gte") {
      sql_op = " >= ";
    } else if (ordered && op == "$lt") {
      sql_op = " < ";
    } else if (ordered && op == "$lte") {
      sql_op = " <= ";
    } else if (field.type == Type::kText && op == "$like") {
      if (!argument.is_string()) return Invalid(StrCat("Expected '", op_path, "' to be a string"));
      terms.push_back(StrCat(expr, " LIKE ", params.Add(LikePattern(argument.get<std::string>())),
                             " ESCAPE '\\'"));
      continue;
    } else {
      return Invalid(StrCat("Unknown filter operator '", op_path, "' (", field.name, " is ",
                            TypeName(field.type), ")"));
    }
    TERN_ASSIGN_OR_RETURN(json param, ToParam(field.type, argument, op_path));
    terms.push_back(StrCat(expr, sql_op, params.Add(std::move(param))));
  }
  std::string joined;
  for (const std::string& term : terms) StrAppend(&joined, joined.empty() ? "" : " AND ", term);
  return joined;
}

// A process instance filter's `variables`: [{name, value}] where value is a string filter
// property on the variable's JSON text; each entry must hold for a variable of the instance.
absl::StatusOr<std::string> VariablesCondition(const json& value, const std::string& path,
                                               Params& params) {
  if (!value.is_array() || value.size() > kMaxVariableFilters) {
    return Invalid(StrCat("Expected '", path, "' to be an array of up to ", kMaxVariableFilters,
                          " {name, value} objects"));
  }
  static const Field kValue = {"value", "v.value", Type::kText};
  std::string all;
  for (size_t i = 0; i < value.size(); ++i) {
    const std::string entry_path = StrCat(path, "[", i, "]");
    const json& entry = value[i];
    if (!entry.is_object()) return Invalid(StrCat("Expected '", entry_path, "' to be an object"));
    for (const auto& [member, unused] : entry.items()) {
      if (member != "name" && member != "value") {
        return Invalid(StrCat("Unknown filter field '", entry_path, ".", member,
                              "' (a variable filter takes name and value)"));
      }
    }
    auto name = entry.find("name");
    if (name == entry.end() || !name->is_string()) {
      return Invalid(StrCat("Expected '", entry_path, ".name' to be a string"));
    }
    std::string condition = StrCat(
        "EXISTS (SELECT 1 FROM variable v WHERE v.process_instance_key = "
        "process_instance.process_instance_key AND v.name = ",
        params.Add(*name));
    auto wanted = entry.find("value");
    if (wanted != entry.end() && !wanted->is_null()) {
      TERN_ASSIGN_OR_RETURN(std::string on_value,
                            FieldCondition(kValue, *wanted, StrCat(entry_path, ".value"), params));
      StrAppend(&condition, " AND ", on_value);
    }
    StrAppend(&all, all.empty() ? "" : " AND ", condition, ")");
  }
  return all;
}

// The WHERE conditions of a request's `filter` (with the entity's base condition).
absl::StatusOr<std::vector<std::string>> FilterConditions(const Entity& entity, const json& request,
                                                          Params& params) {
  std::vector<std::string> conditions;
  if (!entity.base_condition.empty()) conditions.emplace_back(entity.base_condition);
  auto it = request.find("filter");
  if (it == request.end() || it->is_null()) return conditions;
  if (!it->is_object()) return Invalid("Expected 'filter' to be an object");
  for (const auto& [name, value] : it->items()) {
    const std::string path = StrCat("filter.", name);
    if (value.is_null()) continue;
    if (entity.name == "process-instances" && name == "variables") {
      TERN_ASSIGN_OR_RETURN(std::string condition, VariablesCondition(value, path, params));
      if (!condition.empty()) conditions.push_back(std::move(condition));
      continue;
    }
    const Field* field = FindField(entity, name);
    if (field == nullptr || !field->filter) {
      if (std::find(entity.unsupported_filters.begin(), entity.unsupported_filters.end(), name) !=
          entity.unsupported_filters.end()) {
        return Invalid(StrCat("Tern does not filter ", entity.name, " by '", path, "' yet"));
      }
      return Invalid(StrCat("Unknown filter field '", path, "' for ", entity.name,
                            " (known: ", Names(entity, &Field::filter), ")"));
    }
    TERN_ASSIGN_OR_RETURN(std::string condition, FieldCondition(*field, value, path, params));
    if (!field->exists.empty()) {
      condition = StrCat("EXISTS (SELECT 1 FROM ", field->exists, " AND ", condition, ")");
    }
    conditions.push_back(std::move(condition));
  }
  return conditions;
}

std::string Where(const std::vector<std::string>& conditions) {
  std::string where;
  for (const std::string& condition : conditions) {
    StrAppend(&where, where.empty() ? " WHERE " : " AND ", "(", condition, ")");
  }
  return where;
}

struct SortTerm {
  std::string expr;  // never NULL (COALESCE), so comparisons and order agree on both databases
  bool descending = false;
  bool text = false;
};

absl::StatusOr<std::vector<SortTerm>> SortTerms(const Entity& entity, const json& request) {
  std::vector<SortTerm> terms;
  bool has_key = false;
  auto add = [&](const Field& field, bool descending) {
    const bool text = field.type == Type::kText;
    terms.push_back(
        {StrCat("COALESCE(", field.column, ", ", text ? "''" : kNoLimit, ")"), descending, text});
    if (field.name == entity.key_field) has_key = true;
  };
  auto it = request.find("sort");
  if (it != request.end() && !it->is_null()) {
    if (!it->is_array()) return Invalid("Expected 'sort' to be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& sort = (*it)[i];
      const std::string path = StrCat("sort[", i, "]");
      if (!sort.is_object()) return Invalid(StrCat("Expected '", path, "' to be an object"));
      for (const auto& [name, value] : sort.items()) {
        if (name != "field" && name != "order") {
          return Invalid(StrCat("Unknown field '", path, ".", name, "'"));
        }
      }
      auto field_name = sort.find("field");
      if (field_name == sort.end() || !field_name->is_string()) {
        return Invalid(StrCat("Expected '", path, ".field' to be a string"));
      }
      const Field* field = FindField(entity, field_name->get<std::string>());
      if (field == nullptr || !field->sort) {
        return Invalid(StrCat("Unknown sort field '", field_name->get<std::string>(), "' in '",
                              path, ".field' for ", entity.name,
                              " (known: ", Names(entity, &Field::sort), ")"));
      }
      bool descending = false;
      auto order = sort.find("order");
      if (order != sort.end() && !order->is_null()) {
        std::string text = order->is_string() ? order->get<std::string>() : "";
        if (EqualsIgnoreCase(text, "desc")) {
          descending = true;
        } else if (!EqualsIgnoreCase(text, "asc")) {
          return Invalid(StrCat("Expected '", path, ".order' to be ASC or DESC"));
        }
      }
      add(*field, descending);
    }
  }
  // The key last: every row has a distinct position in the order, so cursors are exact.
  if (!has_key) add(*FindField(entity, entity.key_field), false);
  return terms;
}

struct Page {
  int limit = HistoryQuery::kDefaultPageSize;
  int64_t from = 0;
  std::optional<json> after;  // the cursor's values
  std::optional<json> before;
};

absl::StatusOr<json> DecodeCursor(const json& value, const std::string& path,
                                  const std::vector<SortTerm>& terms) {
  std::optional<std::string> decoded;
  if (value.is_string()) decoded = Base64Decode(value.get<std::string>());
  json values;
  if (decoded) values = json::parse(*decoded, nullptr, /*allow_exceptions=*/false);
  bool ok = values.is_array() && values.size() == terms.size();
  for (size_t i = 0; ok && i < terms.size(); ++i) {
    ok = terms[i].text ? values[i].is_string() : values[i].is_number_integer();
  }
  if (!ok) {
    return Invalid(StrCat("'", path,
                          "' is not a cursor of this search (a cursor is valid only with the sort "
                          "of the search that answered it)"));
  }
  return values;
}

absl::StatusOr<Page> ReadPage(const json& request, const std::vector<SortTerm>& terms) {
  Page page;
  auto it = request.find("page");
  if (it == request.end() || it->is_null()) return page;
  if (!it->is_object()) return Invalid("Expected 'page' to be an object");
  int given = 0;
  for (const auto& [name, value] : it->items()) {
    const std::string path = StrCat("page.", name);
    if (value.is_null()) continue;
    if (name == "limit") {
      if (!value.is_number_integer() || value.get<int64_t>() < 1 ||
          value.get<int64_t>() > HistoryQuery::kMaxPageSize) {
        return Invalid(
            StrCat("Expected 'page.limit' to be between 1 and ", HistoryQuery::kMaxPageSize));
      }
      page.limit = static_cast<int>(value.get<int64_t>());
    } else if (name == "from") {
      if (!value.is_number_integer() || value.get<int64_t>() < 0) {
        return Invalid("Expected 'page.from' to be a non-negative integer");
      }
      page.from = value.get<int64_t>();
      ++given;
    } else if (name == "after") {
      TERN_ASSIGN_OR_RETURN(page.after, DecodeCursor(value, path, terms));
      ++given;
    } else if (name == "before") {
      TERN_ASSIGN_OR_RETURN(page.before, DecodeCursor(value, path, terms));
      ++given;
    } else {
      return Invalid(StrCat("Unknown field '", path, "' (page takes limit, from, after, before)"));
    }
  }
  if (given > 1) return Invalid("Use one of 'page.from', 'page.after' and 'page.before'");
  return page;
}

// Rows after (or before) the cursor's row in the order of `terms`:
// (t1 > v1) OR (t1 = v1 AND t2 > v2) OR ... with > as < for descending terms.
std::string KeysetCondition(const std::vector<SortTerm>& terms, const json& values, bool forward,
                            Params& params) {
  std::string any;
  for (size_t i = 0; i < terms.size(); ++i) {
    std::string all;
    for (size_t j = 0; j < i; ++j) {
      StrAppend(&all, terms[j].expr, " = ", params.Add(values[j]), " AND ");
    }
    const bool greater = forward != terms[i].descending;
    StrAppend(&all, terms[i].expr, greater ? " > " : " < ", params.Add(values[i]));
    StrAppend(&any, any.empty() ? "" : " OR ", "(", all, ")");
  }
  return any;
}

void AddColumn(json& item, const Field& field, SqlStatement& row, int column) {
  if (row.ColumnIsNull(column)) return;
  switch (field.type) {
    case Type::kKey:
      item[field.name] = std::to_string(row.ColumnInt(column));
      return;
    case Type::kInt:
      item[field.name] = row.ColumnInt(column);
      return;
    case Type::kText: {
      std::string text = row.ColumnText(column);
      if (field.omit_empty && text.empty()) return;
      item[field.name] = std::move(text);
      return;
    }
    case Type::kDate:
      item[field.name] = base::FormatIsoMillisUtc(row.ColumnInt(column));
      return;
    case Type::kBool:
      item[field.name] = row.ColumnInt(column) != 0;
      return;
    case Type::kJson: {
      json parsed = json::parse(row.ColumnText(column), nullptr, /*allow_exceptions=*/false);
      item[field.name] = parsed.is_object() ? parsed : json::object();
      return;
    }
  }
}

absl::StatusOr<json> RunSearch(SqlConnection& connection, const Entity& entity, const json& request,
                               bool search) {
  if (!request.is_object()) return Invalid("The search request is not a JSON object");
  for (const auto& [name, value] : request.items()) {
    if (name != "filter" && name != "sort" && name != "page") {
      return Invalid(StrCat("Unknown field '", name, "' (a search takes filter, sort, page)"));
    }
  }
  Params params;
  TERN_ASSIGN_OR_RETURN(std::vector<std::string> conditions,
                        FilterConditions(entity, request, params));
  TERN_RETURN_IF_ERROR(CheckFilterSize(params));
  TERN_ASSIGN_OR_RETURN(std::vector<SortTerm> terms, SortTerms(entity, request));
  TERN_ASSIGN_OR_RETURN(Page page, ReadPage(request, terms));
  const size_t filter_params = params.values.size();
  const std::string filter_where = Where(conditions);

  // Count (capped), with the filter's parameters only.
  int64_t total = 0;
  {
    TERN_ASSIGN_OR_RETURN(
        auto count, connection.Prepare(StrCat("SELECT COUNT(*) FROM (SELECT 1 AS one FROM ",
                                              entity.table, filter_where, " LIMIT ",
                                              HistoryQuery::kMaxTotalItems + 1, ") counted")));
    TERN_RETURN_IF_ERROR(Bind(*count, params.values, filter_params));
    TERN_ASSIGN_OR_RETURN(bool found, count->Next());
    if (found) {
      total = count->ColumnInt(0);
      count->Reset();
    }
  }

  const bool backward = page.before.has_value();
  if (page.after) conditions.push_back(KeysetCondition(terms, *page.after, true, params));
  if (page.before) conditions.push_back(KeysetCondition(terms, *page.before, false, params));
  std::string select;
  int output_columns = 0;
  for (const Field& field : entity.fields) {
    if (!field.output) continue;
    StrAppend(&select, select.empty() ? "" : ", ", field.column);
    ++output_columns;
  }
  std::string order;
  for (const SortTerm& term : terms) {
    StrAppend(&select, ", ", term.expr);
    StrAppend(&order, order.empty() ? "" : ", ", term.expr,
              (term.descending != backward) ? " DESC" : " ASC");
  }
  std::string sql = StrCat("SELECT ", select, " FROM ", entity.table, Where(conditions),
                           " ORDER BY ", order, " LIMIT ", params.Add(page.limit));
  if (page.from > 0) StrAppend(&sql, " OFFSET ", params.Add(page.from));
  TERN_ASSIGN_OR_RETURN(auto statement, connection.Prepare(sql));
  TERN_RETURN_IF_ERROR(Bind(*statement, params.values, params.values.size()));
  std::vector<std::pair<json, json>> rows;  // item, sort values
  while (true) {
    TERN_ASSIGN_OR_RETURN(bool found, statement->Next());
    if (!found) break;
    json item = json::object();
    int column = 0;
    for (const Field& field : entity.fields) {
      if (!field.output) continue;
      AddColumn(item, field, *statement, column++);
    }
    json values = json::array();
    for (size_t i = 0; i < terms.size(); ++i) {
      const int c = output_columns + static_cast<int>(i);
      if (terms[i].text) {
        values.push_back(statement->ColumnText(c));
      } else {
        values.push_back(statement->ColumnInt(c));
      }
    }
    if (entity.finish != nullptr) entity.finish(item, search);
    rows.emplace_back(std::move(item), std::move(values));
  }
  if (backward) std::reverse(rows.begin(), rows.end());
  json items = json::array();
  for (auto& row : rows) items.push_back(std::move(row.first));
  json page_answer = {{"totalItems", std::min<int64_t>(total, HistoryQuery::kMaxTotalItems)},
                      {"hasMoreTotalItems", total > HistoryQuery::kMaxTotalItems}};
  if (!rows.empty()) {
    page_answer["startCursor"] = Base64Encode(rows.front().second.dump());
    page_answer["endCursor"] = Base64Encode(rows.back().second.dump());
  }
  return json{{"items", std::move(items)}, {"page", std::move(page_answer)}};
}

}  // namespace

absl::StatusOr<std::unique_ptr<HistoryQuery>> HistoryQuery::Open(
    std::unique_ptr<SqlConnection> connection) {
  TERN_RETURN_IF_ERROR(MigrateHistorySchema(*connection));
  return std::unique_ptr<HistoryQuery>(new HistoryQuery(std::move(connection)));
}

const std::vector<std::string_view>& HistoryQuery::Entities() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const Entity& entity : AllEntities()) out.push_back(entity.name);
    return out;
  }();
  return names;
}

absl::StatusOr<json> HistoryQuery::Search(std::string_view entity_name, const json& request) {
  const Entity* entity = FindEntity(entity_name);
  if (entity == nullptr) {
    return absl::NotFoundError(StrCat("'", entity_name, "' is not searchable"));
  }
  return RunSearch(*connection_, *entity, request, /*search=*/true);
}

absl::StatusOr<json> HistoryQuery::Get(std::string_view entity_name, int64_t key) {
  const Entity* entity = FindEntity(entity_name);
  if (entity == nullptr) {
    return absl::NotFoundError(StrCat("'", entity_name, "' is not searchable"));
  }
  json request = {{"filter", {{entity->key_field, std::to_string(key)}}}, {"page", {{"limit", 1}}}};
  TERN_ASSIGN_OR_RETURN(json answer, RunSearch(*connection_, *entity, request, /*search=*/false));
  if (answer["items"].empty()) {
    return absl::NotFoundError(StrCat(entity->what, " with key '", key, "' not found"));
  }
  return std::move(answer["items"][0]);
}

absl::StatusOr<std::string> HistoryQuery::ReadText(std::string_view sql, int64_t key,
                                                   std::string_view what) {
  TERN_ASSIGN_OR_RETURN(auto statement, connection_->Prepare(sql));
  statement->BindInt(1, key);
  TERN_ASSIGN_OR_RETURN(bool found, statement->Next());
  if (!found || statement->ColumnIsNull(0)) {
    if (found) statement->Reset();
    return absl::NotFoundError(StrCat(what, " with key '", key, "' not found"));
  }
  std::string text = statement->ColumnText(0);
  statement->Reset();
  return text;
}

absl::StatusOr<std::string> HistoryQuery::ProcessDefinitionXml(int64_t key) {
  return ReadText(
      "SELECT bpmn_xml FROM process_definition WHERE process_definition_key = ?1 AND deleted = 0",
      key, "Process definition");
}

absl::StatusOr<std::string> HistoryQuery::DecisionDefinitionXml(int64_t key) {
  return ReadText(
      "SELECT r.dmn_xml FROM decision_definition d JOIN decision_requirements r ON "
      "r.decision_requirements_key = d.decision_requirements_key WHERE d.decision_key = ?1 AND "
      "d.deleted = 0",
      key, "Decision definition");
}

absl::StatusOr<json> HistoryQuery::Statistics(std::string_view scope_condition,
                                              const std::string& process_filter,
                                              std::vector<json> params) {
  std::string sql = StrCat(
      "SELECT element_id, "
      "SUM(CASE WHEN state = 'ACTIVE' AND incident_key IS NULL THEN 1 ELSE 0 END), "
      "SUM(CASE WHEN state = 'ACTIVE' AND incident_key IS NOT NULL THEN 1 ELSE 0 END), "
      "SUM(CASE WHEN state = 'COMPLETED' THEN 1 ELSE 0 END), "
      "SUM(CASE WHEN state = 'TERMINATED' THEN 1 ELSE 0 END) "
      "FROM element_instance WHERE ",
      scope_condition);
  if (!process_filter.empty()) {
    StrAppend(&sql,
              " AND process_instance_key IN (SELECT process_instance_key FROM process_instance",
              process_filter, ")");
  }
  StrAppend(&sql, " GROUP BY element_id ORDER BY element_id");
  TERN_ASSIGN_OR_RETURN(auto statement, connection_->Prepare(sql));
  TERN_RETURN_IF_ERROR(Bind(*statement, params, params.size()));
  json items = json::array();
  while (true) {
    TERN_ASSIGN_OR_RETURN(bool found, statement->Next());
    if (!found) break;
    items.push_back({{"elementId", statement->ColumnText(0)},
                     {"active", statement->ColumnInt(1)},
                     {"incidents", statement->ColumnInt(2)},
                     {"completed", statement->ColumnInt(3)},
                     {"canceled", statement->ColumnInt(4)}});
  }
  return json{{"items", std::move(items)}};
}

absl::StatusOr<json> HistoryQuery::ProcessDefinitionElementStatistics(
    int64_t process_definition_key, const json& request) {
  if (!request.is_object()) return Invalid("The request is not a JSON object");
  for (const auto& [name, value] : request.items()) {
    if (name != "filter") {
      return Invalid(StrCat("Unknown field '", name, "' (statistics take a filter only)"));
    }
  }
  Params params;
  const std::string scope = StrCat("process_definition_key = ", params.Add(process_definition_key));
  // The filter takes the process instance fields, except the definition's own.
  json filter_request = json::object();
  if (request.contains("filter")) filter_request["filter"] = request["filter"];
  TERN_ASSIGN_OR_RETURN(std::vector<std::string> conditions,
                        FilterConditions(*FindEntity("process-instances"), filter_request, params));
  TERN_RETURN_IF_ERROR(CheckFilterSize(params));
  return Statistics(scope, Where(conditions), std::move(params.values));
}

absl::StatusOr<json> HistoryQuery::ProcessInstanceElementStatistics(int64_t process_instance_key) {
  return Statistics("process_instance_key = ?1", "", {json(process_instance_key)});
}

absl::StatusOr<std::vector<HistoryQuery::PartitionProgress>> HistoryQuery::Progress() {
  TERN_ASSIGN_OR_RETURN(
      auto statement,
      connection_->Prepare("SELECT partition_id, position, last_record_timestamp FROM "
                           "export_progress ORDER BY partition_id"));
  std::vector<PartitionProgress> progress;
  while (true) {
    TERN_ASSIGN_OR_RETURN(bool found, statement->Next());
    if (!found) break;
    progress.push_back({static_cast<int32_t>(statement->ColumnInt(0)), statement->ColumnInt(1),
                        statement->ColumnInt(2)});
  }
  return progress;
}

}  // namespace tern::exporter
