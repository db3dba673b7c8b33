#pragma once

// DMN 1.1-1.5 decisions: parse a DMN resource into an immutable decision requirements graph
// (DRG) once, evaluate its decisions many times, from any thread.
//
//   auto drg = dmn::ParseDmn(xml, "discount.dmn");          // at deployment
//   feel::MapVariableResolver vars({{"amount", feel::Value::Number(500)}});
//   dmn::EvaluationResult r = dmn::Evaluate(**drg, "discount", vars, feel::EvalOptions{});
//   if (r.failed()) { /* r.failed_decision_id, r.failure_message */ }
//
// See README.md for what is supported and how results map to Zeebe's EvaluateDecision.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "feel/feel.h"

namespace tern::dmn {

// The kind of a decision's top-level expression, named as Zeebe names it.
enum class DecisionType : uint8_t {
  kDecisionTable,
  kLiteralExpression,
  kContext,
  kInvocation,
  kList,
  kRelation,
  kUnknown,  // function definitions, conditionals, iterators, filters, no logic
};
// "DECISION_TABLE", "LITERAL_EXPRESSION", "CONTEXT", "INVOCATION", "LIST", "RELATION", "UNKNOWN".
std::string_view DecisionTypeName(DecisionType type);

struct DecisionInfo {
  std::string id;
  std::string name;
  DecisionType type = DecisionType::kUnknown;
  // Camunda's <zeebe:versionTag value="..."/> in the decision's extensionElements ("" if none).
  std::string version_tag;
};

// A named, invocable element other than a decision (for tooling and the TCK runner).
struct InvocableInfo {
  enum class Kind : uint8_t { kBusinessKnowledgeModel, kDecisionService };
  Kind kind = Kind::kBusinessKnowledgeModel;
  std::string id;
  std::string name;
};

namespace internal {
struct Model;
}

// One DMN resource (its `definitions` element) with everything it imports. Immutable; share it
// freely between threads. Owned by whoever keeps the shared_ptr (the engine's deployment cache).
class DecisionRequirementsGraph {
 public:
  explicit DecisionRequirementsGraph(std::shared_ptr<const internal::Model> model);
  ~DecisionRequirementsGraph();

  const std::string& id() const;    // definitions@id (Zeebe's decisionRequirementsId)
  const std::string& name() const;  // definitions@name
  const std::string& namespace_uri() const;
  const std::string& resource_name() const;
  // Decisions of this resource (not of imported ones), in document order.
  const std::vector<DecisionInfo>& decisions() const;
  const DecisionInfo* FindDecision(std::string_view id) const;
  const DecisionInfo* FindDecisionByName(std::string_view name) const;
  // Business knowledge models and decision services of this resource, in document order.
  const std::vector<InvocableInfo>& invocables() const;
  // Namespaces of the resources this one imports.
  std::vector<std::string> imported_namespaces() const;
  // The declared type of the input data, decision, BKM or decision service called `name` (in
  // the resource with `namespace_uri`, this one when empty; imported resources are searched);
  // nullptr when unknown or untyped. Lets callers turn untyped input (JSON, XML text) into
  // typed values.
  feel::TypePtr VariableType(std::string_view name, std::string_view namespace_uri = {}) const;
  // Import paths from this resource to the resource with `namespace_uri` (each a list of import
  // names); several when it is imported along several routes, none when not imported.
  std::vector<std::vector<std::string>> ImportPaths(std::string_view namespace_uri) const;

  const internal::Model& model() const { return *model_; }
  const std::shared_ptr<const internal::Model>& shared_model() const { return model_; }

 private:
  std::shared_ptr<const internal::Model> model_;
};

using Drg = DecisionRequirementsGraph;

// Parses one DMN resource. Expected failures are INVALID_ARGUMENT listing every problem, one per
// line, each naming the element id and kind:
//   'x.dmn' is not a valid DMN resource:
//   - Element 'd1' (DECISION, line 12): FEEL syntax error: expected ')' at column 7 in '...'
// Imports of other DMN models are reported as problems: use ParseDmnResources for those.
struct ParseOptions {
  // A FEEL expression that does not compile normally rejects the resource (as Zeebe rejects the
  // deployment). When set, it instead fails the decision, business knowledge model or service
  // that contains it, with the syntax error as failure message, and the rest of the model
  // stays usable (how DMN tools such as the TCK runners load models).
  bool defer_expression_errors = false;
};

absl::StatusOr<std::shared_ptr<const DecisionRequirementsGraph>> ParseDmn(
    std::string_view xml, std::string_view resource_name);
absl::StatusOr<std::shared_ptr<const DecisionRequirementsGraph>> ParseDmn(
    std::string_view xml, std::string_view resource_name, const ParseOptions& options);

// Several resources that may import each other (DMN `import` by namespace). Returns one graph
// per resource, in the order given; the first invalid resource fails the whole call.
struct DmnResource {
  std::string name;
  std::string xml;
};
absl::StatusOr<std::vector<std::shared_ptr<const DecisionRequirementsGraph>>> ParseDmnResources(
    const std::vector<DmnResource>& resources, const ParseOptions& options = {});

// Reads only the `definitions` element: namespace and imported namespaces. For callers that
// must order resources themselves.
struct DmnHeader {
  std::string id;
  std::string name;
  std::string namespace_uri;
  std::vector<std::string> imported_namespaces;
};
absl::StatusOr<DmnHeader> ReadDmnHeader(std::string_view xml, std::string_view resource_name);

// ---- Evaluation ----

struct EvaluatedInput {
  std::string input_id;
  std::string input_name;  // the input's label, else its expression text
  feel::Value value;
};

struct EvaluatedOutput {
  std::string output_id;
  std::string output_name;  // the output's name, else its label
  feel::Value value;
};

struct MatchedRule {
  std::string rule_id;
  int rule_index = 0;  // 1-based position in the table
  std::vector<EvaluatedOutput> evaluated_outputs;
};

struct EvaluatedDecision {
  std::string decision_id;
  std::string decision_name;
  DecisionType decision_type = DecisionType::kUnknown;
  feel::Value output;
  // Decision tables only.
  std::vector<EvaluatedInput> evaluated_inputs;
  std::vector<MatchedRule> matched_rules;
};

// The outcome of evaluating a decision. Failures are values: a decision that cannot be
// evaluated (hit policy violated, budget exhausted, unknown decision...) sets
// `failed_decision_id` and `failure_message`; `evaluated_decisions` then lists what was
// evaluated before it, the failed one last.
struct EvaluationResult {
  feel::Value output;
  // Required decisions first, the requested decision last.
  std::vector<EvaluatedDecision> evaluated_decisions;
  std::string failed_decision_id;
  std::string failure_message;
  // Why values became null (type mismatches, missing variables, ...), for diagnostics.
  std::vector<std::string> warnings;

  bool failed() const { return !failure_message.empty(); }
};

struct EvaluationSettings {
  // Decisions whose name is a variable take that variable's value instead of being evaluated
  // (the DMN TCK supplies "pre-evaluated" decisions this way). Off for the engine: there
  // process variables never shadow decisions.
  bool variables_override_decisions = false;
  // Collect `EvaluationResult::warnings` (slower).
  bool collect_warnings = false;
};

// Evaluates a decision of the graph (by id, or by name when no id matches) with the caller's
// variables visible to every decision of the main resource (input data are variables by name;
// inputs of imported resources are looked up as `importName.inputName` or nested contexts).
EvaluationResult Evaluate(const DecisionRequirementsGraph& drg, std::string_view decision_id,
                          const feel::VariableResolver& variables,
                          const feel::EvalOptions& options);
EvaluationResult Evaluate(const DecisionRequirementsGraph& drg, std::string_view decision_id,
                          const feel::VariableResolver& variables, const feel::EvalOptions& options,
                          const EvaluationSettings& settings);

// Invokes a decision service (by id or name) the way a caller outside the model does: its input
// data and input decisions take the variables of the same names (missing ones are null), and its
// output decisions are evaluated. `output` is the single output decision's value, or a context
// of all of them by name; `evaluated_decisions` has each output decision's value.
EvaluationResult EvaluateDecisionService(const DecisionRequirementsGraph& drg,
                                         std::string_view service_id,
                                         const feel::VariableResolver& variables,
                                         const feel::EvalOptions& options);

// Invokes a business knowledge model (by id or name) with named arguments.
EvaluationResult InvokeBusinessKnowledgeModel(
    const DecisionRequirementsGraph& drg, std::string_view bkm_id,
    const std::vector<std::pair<std::string, feel::Value>>& arguments,
    const feel::EvalOptions& options);

}  // namespace tern::dmn
