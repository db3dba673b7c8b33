#pragma once

// Internal to src/dmn: the compiled form of a DMN resource. Built once by parser.cc, immutable
// afterwards, evaluated by evaluator.cc from any number of threads.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "dmn/dmn.h"
#include "feel/feel.h"

namespace tern::dmn::internal {

using feel::TypePtr;
using feel::Value;
using Compiled = std::shared_ptr<const feel::CompiledExpression>;

// Debian's Abseil has its own string_view: hash-map lookups by std::string_view go through this.
inline absl::string_view AV(std::string_view s) { return absl::string_view(s.data(), s.size()); }

struct Model;
class Evaluation;
class Scope;

// ---- Boxed expressions (DMN 1.5 chapter 7 and §8 decision tables) ----

class Expr {
 public:
  virtual ~Expr() = default;
  // The value before the expression's own typeRef is applied (see EvalExpr in evaluator.cc).
  virtual absl::StatusOr<Value> Eval(Evaluation& ev, const Scope& scope) const = 0;

  std::string id;
  int line = 0;
  TypePtr type;  // the expression's typeRef; nullptr when absent
};
using ExprPtr = std::unique_ptr<const Expr>;

class LiteralExpr final : public Expr {
 public:
  absl::StatusOr<Value> Eval(Evaluation& ev, const Scope& scope) const override;
  Compiled expr;  // nullptr for an empty literal expression (null)
};

struct ContextEntry {
  std::string name;  // empty for the final result entry
  TypePtr type;      // the entry variable's typeRef
  ExprPtr value;     // nullptr: null
};

class ContextExpr final : public Expr {
 public:
  absl::StatusOr<Value> Eval(Evaluation& ev, const Scope& scope) const override;
  std::vector<ContextEntry> entries;
  bool has_result = false;  // the last entry has no name: its value is the result
};

struct Binding {
  std::string parameter;
  ExprPtr value;  // nullptr: null
};

class InvocationExpr final : public Expr {
 public:
  absl::StatusOr<Value> Eval(Evaluation& ev, const Scope& scope) const override;
  Compiled callee;  // evaluates to the function (usually the name of a BKM)
  std::string callee_text;
  std::vector<Binding> bindings;
};

struct Parameter {
  std::string name;
  TypePtr type;  // nullptr: untyped
};

enum class FunctionKind : uint8_t { kFeel, kJava, kPmml };

class FunctionDefinitionExpr final : public Expr {
 public:
  absl::StatusOr<Value> Eval(Evaluation& ev, const Scope& scope) const override;
  FunctionKind kind = FunctionKind::kFeel;
  std::vector<Parameter> parameters;
  ExprPtr body;
  const Model* model = nullptr;  // owner; function values keep it alive
};

class ListExpr final : public Expr {
 public:
  absl::StatusOr<Value> Eval(Evaluation& ev, const Scope& scope) const override;
  std::vector<ExprPtr> items;
};

class RelationExpr final : public Expr {
 public:
  absl::StatusOr<Value> Eval(Evaluation& ev, const Scope& scope) const override;
  std::vector<std::string> columns;
  std::vector<TypePtr> column_types;
  std::vector<std::vector<ExprPtr>> rows;
};

class ConditionalExpr final : public Expr {
 public:
  absl::StatusOr<Value> Eval(Evaluation& ev, const Scope& scope) const override;
  ExprPtr condition;
  ExprPtr then_branch;
  ExprPtr else_branch;
};

// Boxed for / some / every (DMN 1.5 §7.3.9-7.3.11).
class IteratorExpr final : public Expr {
 public:
  enum class Kind : uint8_t { kFor, kSome, kEvery };
  absl::StatusOr<Value> Eval(Evaluation& ev, const Scope& scope) const override;
  Kind kind = Kind::kFor;
  std::string variable;
  ExprPtr in;
  ExprPtr body;  // return / satisfies
};

class FilterExpr final : public Expr {
 public:
  absl::StatusOr<Value> Eval(Evaluation& ev, const Scope& scope) const override;
  ExprPtr in;
  ExprPtr match;
};

// ---- Decision tables ----

enum class HitPolicy : uint8_t {
  kUnique,
  kFirst,
  kPriority,
  kAny,
  kCollect,
  kRuleOrder,
  kOutputOrder,
};
enum class Aggregation : uint8_t { kNone, kSum, kMin, kMax, kCount };

struct DtInput {
  std::string id;
  std::string name;  // label, else the expression text (Zeebe's inputName)
  Compiled expr;
  TypePtr type;      // inputExpression typeRef
  Compiled allowed;  // inputValues (unary tests); nullptr when absent
};

struct DtOutput {
  std::string id;
  std::string name;  // the output's name (context key for compound outputs)
  std::string label;
  TypePtr type;
  Compiled allowed;               // outputValues (unary tests); nullptr when absent
  std::vector<Value> priorities;  // outputValues as a list of constants (PRIORITY, OUTPUT ORDER)
  Compiled default_value;         // defaultOutputEntry
};

// One input entry or output entry cell.
struct DtCell {
  Compiled expr;
  // Fast paths (see feel::CompiledExpression).
  const feel::ConstantUnaryTests* constant_tests = nullptr;
  const Value* constant = nullptr;
};

struct DtRule {
  std::string id;
  std::vector<DtCell> inputs;
  std::vector<DtCell> outputs;
};

class DecisionTableExpr final : public Expr {
 public:
  absl::StatusOr<Value> Eval(Evaluation& ev, const Scope& scope) const override;
  HitPolicy hit_policy = HitPolicy::kUnique;
  Aggregation aggregation = Aggregation::kNone;
  std::vector<DtInput> inputs;
  std::vector<DtOutput> outputs;
  std::vector<DtRule> rules;
  // The name a single output takes in messages when the output itself has none.
  std::string result_name;
};

// ---- DRG elements ----

enum class ElementKind : uint8_t { kDecision, kInputData, kBkm, kDecisionService };

struct Element {
  virtual ~Element() = default;
  ElementKind kind = ElementKind::kDecision;
  std::string id;
  std::string name;
  TypePtr type;  // the variable's typeRef (for BKMs and services: see result_type)
  int line = 0;
  const Model* model = nullptr;
  // ParseOptions::defer_expression_errors: the first FEEL syntax error in this element's logic;
  // evaluating the element fails with it.
  std::string deferred_error;
};

// A requirement of an element on another, possibly in an imported model. `prefix` is the import
// name through which the requiring model sees it ("" for the same model): the element is then
// visible as "prefix.name".
struct Requirement {
  const Element* element = nullptr;
  std::string prefix;
};

struct InputData final : Element {};

struct Decision final : Element {
  DecisionType decision_type = DecisionType::kUnknown;
  std::string version_tag;  // zeebe:versionTag
  ExprPtr logic;            // nullptr: no decision logic (evaluates to null)
  std::vector<Requirement> required_decisions;
  std::vector<Requirement> required_inputs;
  std::vector<Requirement> required_knowledge;  // BKMs and decision services
};

struct Bkm final : Element {
  FunctionKind function_kind = FunctionKind::kFeel;
  std::vector<Parameter> parameters;
  ExprPtr body;
  TypePtr result_type;  // from the variable's function type, else the variable's type
  std::vector<Requirement> required_knowledge;
};

struct DecisionService final : Element {
  std::vector<Requirement> output_decisions;
  std::vector<Requirement> encapsulated_decisions;
  std::vector<Requirement> input_decisions;
  std::vector<Requirement> input_data;
  TypePtr result_type;
};

struct Import {
  std::string name;
  std::string namespace_uri;
  std::shared_ptr<const Model> model;  // nullptr for non-DMN imports
};

struct Model : std::enable_shared_from_this<Model> {
  std::string id;
  std::string name;
  std::string namespace_uri;
  std::string resource_name;
  std::vector<Import> imports;
  absl::flat_hash_map<std::string, TypePtr> item_definitions;
  std::vector<std::unique_ptr<Decision>> decisions;
  std::vector<std::unique_ptr<InputData>> inputs;
  std::vector<std::unique_ptr<Bkm>> bkms;
  std::vector<std::unique_ptr<DecisionService>> services;
  absl::flat_hash_map<std::string, const Element*> by_id;
  absl::flat_hash_map<std::string, const Element*> by_name;
  std::vector<DecisionInfo> decision_infos;
  std::vector<InvocableInfo> invocables;

  const Element* Find(std::string_view id_or_name) const;
};

}  // namespace tern::dmn::internal
