#pragma once

// Internal: the concrete syntax-tree nodes. Built by parser.cc, evaluated by interpreter.cc.

#include <string>
#include <vector>

#include "feel/eval.h"

namespace tern::feel::internal {

class LiteralNode final : public Node {
 public:
  LiteralNode(int column, Value v) : Node(column), value_(std::move(v)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;
  const Value* Peek(EvalContext& ctx) const override;
  bool IsNumberLiteral() const override { return value_.is_number(); }
  bool IsBoolLiteral() const override { return value_.is_bool(); }
  TypePtr StaticType() const override;
  bool IsConstant() const override { return true; }
  const Value& value() const { return value_; }

 private:
  Value value_;
};

// A variable reference. `slot` indexes the free-variable table; `dynamic` is set when an
// enclosing construct (filter, for, quantifier, lambda, context literal) may bind the name.
class NameNode final : public Node {
 public:
  NameNode(int column, std::string name, int slot, bool dynamic)
      : Node(column), name_(std::move(name)), slot_(slot), dynamic_(dynamic) {}
  bool Eval(EvalContext& ctx, Value* out) const override;
  const Value* Peek(EvalContext& ctx) const override;
  const std::string& name() const { return name_; }
  bool dynamic() const { return dynamic_; }

 private:
  std::string name_;
  int slot_;
  bool dynamic_;
};

class InputNode final : public Node {
 public:
  explicit InputNode(int column) : Node(column) {}
  bool Eval(EvalContext& ctx, Value* out) const override;
};

class ListNode final : public Node {
 public:
  ListNode(int column, std::vector<NodePtr> items) : Node(column), items_(std::move(items)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;
  TypePtr StaticType() const override;
  bool IsConstant() const override {
    for (const NodePtr& n : items_) {
      if (!n->IsConstant()) return false;
    }
    return true;
  }

 private:
  std::vector<NodePtr> items_;
};

class ContextNode final : public Node {
 public:
  ContextNode(int column, std::vector<std::pair<std::string, NodePtr>> entries, bool duplicate_keys)
      : Node(column), entries_(std::move(entries)), duplicate_keys_(duplicate_keys) {}
  bool Eval(EvalContext& ctx, Value* out) const override;
  TypePtr StaticType() const override;

 private:
  std::vector<std::pair<std::string, NodePtr>> entries_;
  bool duplicate_keys_;  // DMN: a context with duplicate keys is null
};

class RangeNode final : public Node {
 public:
  RangeNode(int column, NodePtr start, NodePtr end, bool start_included, bool end_included)
      : Node(column),
        start_(std::move(start)),
        end_(std::move(end)),
        start_included_(start_included),
        end_included_(end_included) {}
  bool Eval(EvalContext& ctx, Value* out) const override;
  bool IsTwoSidedRange() const override { return start_ && end_; }
  bool IsConstant() const override {
    return (!start_ || start_->IsConstant()) && (!end_ || end_->IsConstant());
  }

 private:
  NodePtr start_;  // nullptr: unbounded
  NodePtr end_;
  bool start_included_;
  bool end_included_;
};

// `(= e)`: the closed range [e..e].
class PointRangeNode final : public Node {
 public:
  PointRangeNode(int column, NodePtr point) : Node(column), point_(std::move(point)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;
  bool IsConstant() const override { return point_->IsConstant(); }

 private:
  NodePtr point_;
};

class NegateNode final : public Node {
 public:
  NegateNode(int column, NodePtr operand) : Node(column), operand_(std::move(operand)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;
  bool IsConstant() const override { return operand_->IsConstant(); }

 private:
  NodePtr operand_;
};

enum class ArithOp : uint8_t { kAdd, kSub, kMul, kDiv, kPow };

// A left-associative chain of same-precedence arithmetic: a + b - c ...
class ArithNode final : public Node {
 public:
  ArithNode(int column, NodePtr first) : Node(column), first_(std::move(first)) {}
  void Append(ArithOp op, NodePtr operand) { rest_.emplace_back(op, std::move(operand)); }
  bool Eval(EvalContext& ctx, Value* out) const override;

 private:
  NodePtr first_;
  std::vector<std::pair<ArithOp, NodePtr>> rest_;
};

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };

class CompareNode final : public Node {
 public:
  CompareNode(int column, CompareOp op, NodePtr a, NodePtr b)
      : Node(column), op_(op), a_(std::move(a)), b_(std::move(b)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;

 private:
  CompareOp op_;
  NodePtr a_;
  NodePtr b_;
};

class BetweenNode final : public Node {
 public:
  BetweenNode(int column, NodePtr x, NodePtr low, NodePtr high)
      : Node(column), x_(std::move(x)), low_(std::move(low)), high_(std::move(high)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;

 private:
  NodePtr x_, low_, high_;
};

// One positive unary test.
struct UnaryTest {
  NodePtr node;
  bool uses_input = false;    // mentions `?`: the boolean result is the answer
  bool bool_literal = false;  // `true` / `false`: compared for equality
  enum class Op : uint8_t { kDefault, kEq, kNe } op = Op::kDefault;  // `= e` / `!= e` (DMN 1.5)
};

// Evaluates a list of unary tests against an input value: true if any test matches.
bool EvalTests(EvalContext& ctx, const std::vector<UnaryTest>& tests, const Value& input,
               Value* out);

class InNode final : public Node {
 public:
  InNode(int column, NodePtr x, std::vector<UnaryTest> tests)
      : Node(column), x_(std::move(x)), tests_(std::move(tests)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;

 private:
  NodePtr x_;
  std::vector<UnaryTest> tests_;
};

// The root of a compiled unary-tests expression (DMN input entry): `-`, tests, not(tests).
class UnaryTestsNode final : public Node {
 public:
  UnaryTestsNode(int column, std::vector<UnaryTest> tests, bool negated, bool any)
      : Node(column), tests_(std::move(tests)), negated_(negated), any_(any) {}
  bool Eval(EvalContext& ctx, Value* out) const override;
  const std::vector<UnaryTest>& tests() const { return tests_; }
  bool negated() const { return negated_; }
  bool any() const { return any_; }

 private:
  std::vector<UnaryTest> tests_;
  bool negated_;
  bool any_;
};

class InstanceOfNode final : public Node {
 public:
  // `type` nullptr: a type name that could not be resolved (never matches).
  InstanceOfNode(int column, NodePtr x, TypePtr type)
      : Node(column), x_(std::move(x)), type_(std::move(type)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;

 private:
  NodePtr x_;
  TypePtr type_;
};

// n-ary `and` / `or` with FEEL three-valued logic and short-circuiting.
class LogicNode final : public Node {
 public:
  LogicNode(int column, bool is_and, std::vector<NodePtr> items)
      : Node(column), is_and_(is_and), items_(std::move(items)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;

 private:
  bool is_and_;
  std::vector<NodePtr> items_;
};

class IfNode final : public Node {
 public:
  IfNode(int column, NodePtr c, NodePtr t, NodePtr e)
      : Node(column), cond_(std::move(c)), then_(std::move(t)), else_(std::move(e)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;

 private:
  NodePtr cond_, then_, else_;
};

struct Iterator {
  std::string name;
  NodePtr domain;     // a list (or a single value)
  NodePtr range_end;  // set for `name in a..b`: domain is the start
};

class ForNode final : public Node {
 public:
  ForNode(int column, std::vector<Iterator> iterators, NodePtr body, bool uses_partial)
      : Node(column),
        iterators_(std::move(iterators)),
        body_(std::move(body)),
        uses_partial_(uses_partial) {}
  bool Eval(EvalContext& ctx, Value* out) const override;

 private:
  bool Loop(EvalContext& ctx, size_t level, Scope* scope, std::vector<Value>* results,
            bool* invalid) const;
  std::vector<Iterator> iterators_;
  NodePtr body_;
  bool uses_partial_;
};

class QuantifiedNode final : public Node {
 public:
  QuantifiedNode(int column, bool every, std::vector<Iterator> iterators, NodePtr cond)
      : Node(column), every_(every), iterators_(std::move(iterators)), cond_(std::move(cond)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;

 private:
  // Returns false on hard failure; *decided set when the result is known.
  bool Loop(EvalContext& ctx, size_t level, Scope* scope, bool* decided, bool* saw_null) const;
  bool every_;
  std::vector<Iterator> iterators_;
  NodePtr cond_;
};

class FilterNode final : public Node {
 public:
  FilterNode(int column, NodePtr base, NodePtr filter)
      : Node(column), base_(std::move(base)), filter_(std::move(filter)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;

 private:
  NodePtr base_, filter_;
};

class PathNode final : public Node {
 public:
  PathNode(int column, NodePtr base, std::string name)
      : Node(column), base_(std::move(base)), name_(std::move(name)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;

 private:
  NodePtr base_;
  std::string name_;
};

class CallNode final : public Node {
 public:
  // Call of a name: a built-in (resolved at compile time unless the name may be bound
  // lexically) or a function-valued variable.
  // `slot` is the free-variable slot when no built-in has the name: the caller may pass a
  // function value (e.g. a NativeFunction) as a variable.
  CallNode(int column, std::string name, const Builtin* builtin, bool dynamic, int slot,
           std::vector<NodePtr> args, std::vector<std::string> arg_names)
      : Node(column),
        name_(std::move(name)),
        builtin_(builtin),
        dynamic_(dynamic),
        slot_(slot),
        args_(std::move(args)),
        arg_names_(std::move(arg_names)) {}
  // Call of an arbitrary expression yielding a function.
  CallNode(int column, NodePtr callee, std::vector<NodePtr> args,
           std::vector<std::string> arg_names)
      : Node(column),
        callee_(std::move(callee)),
        args_(std::move(args)),
        arg_names_(std::move(arg_names)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;
  // Calls of pure conversion built-ins (date, time, duration, number...) with constant
  // positional arguments.
  bool IsConstant() const override;

 private:
  bool CallBuiltin(EvalContext& ctx, const Builtin& b, Value* out) const;
  bool CallValue(EvalContext& ctx, const Value& fn, Value* out) const;
  std::string name_;
  const Builtin* builtin_ = nullptr;
  bool dynamic_ = false;
  int slot_ = -1;
  NodePtr callee_;
  std::vector<NodePtr> args_;
  std::vector<std::string> arg_names_;  // empty for positional calls
};

class FunctionDefNode final : public Node {
 public:
  // `param_types`: one entry per parameter, nullptr for untyped ones; empty when no parameter
  // has a type.
  FunctionDefNode(int column, std::vector<std::string> params, std::vector<TypePtr> param_types,
                  NodePtr body)
      : Node(column),
        params_(std::move(params)),
        param_types_(std::move(param_types)),
        body_(std::move(body)),
        result_type_(body_->StaticType()) {}
  bool Eval(EvalContext& ctx, Value* out) const override;
  bool IsFunctionDefinition() const override { return true; }
  const std::vector<std::string>& params() const { return params_; }
  const std::vector<TypePtr>& param_types() const { return param_types_; }
  const TypePtr& result_type() const { return result_type_; }
  const Node& body() const { return *body_; }

 private:
  std::vector<std::string> params_;
  std::vector<TypePtr> param_types_;
  NodePtr body_;
  TypePtr result_type_;
};

// `function(a, b) external {java: {class: "...", method signature: "..."}}`: the description
// is evaluated when the definition is, giving a Java-backed function (see MakeJavaFunction).
class ExternalFunctionNode final : public Node {
 public:
  ExternalFunctionNode(int column, std::vector<std::string> params, NodePtr description)
      : Node(column), params_(std::move(params)), description_(std::move(description)) {}
  bool Eval(EvalContext& ctx, Value* out) const override;

 private:
  std::vector<std::string> params_;
  NodePtr description_;
};

}  // namespace tern::feel::internal
