// Decision table evaluation (DMN 1.5 §8): inputs, rule matching, output entries, hit policies
// and aggregations. Constant input entries and output entries (the common case) are matched
// and produced without running the FEEL evaluator.
//
// Column typeRefs and input/output value lists are advisory here, as in dmn-scala (Zeebe):
// Camunda Modeler fills them in by default ("string"), so enforcing them would turn tables that
// work on Zeebe into failures. Values are converted to the column type when DMN's implicit
// conversions apply; mismatches and values outside the lists are reported as warnings.

#include <algorithm>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "base/strings.h"
#include "dmn/evaluation.h"

namespace tern::dmn::internal {
namespace {

std::string Describe(const Value& v) {
  std::string s = v.DebugString();
  if (s.size() > 200) s = s.substr(0, 200) + "...";
  return s;
}

// Position of `v` in an output's priority list (outputValues); values not listed rank last.
size_t PriorityIndex(const DtOutput& out, const Value& v) {
  for (size_t i = 0; i < out.priorities.size(); ++i) {
    if (out.priorities[i] == v) return i;
  }
  return out.priorities.size();
}

using Row = absl::InlinedVector<Value, 2>;

}  // namespace

absl::StatusOr<Value> DecisionTableExpr::Eval(Evaluation& ev, const Scope& scope) const {
  EvaluatedDecision* audit = ev.TakeAudit(this);

  // Inputs.
  absl::InlinedVector<Value, 4> in(inputs.size());
  if (audit != nullptr) audit->evaluated_inputs.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const DtInput& input = inputs[i];
    if (input.expr != nullptr) {
      absl::StatusOr<Value> v = ev.EvalFeel(*input.expr, scope);
      if (!v.ok()) return v.status();
      in[i] = ev.Convert(std::move(*v), input.type, "input", input.name);
    }
    if (input.allowed != nullptr && !in[i].is_null() && ev.collect_warnings()) {
      absl::StatusOr<Value> ok = ev.EvalTests(*input.allowed, in[i], scope);
      if (!ok.ok()) return ok.status();
      if (!ok->is_bool() || !ok->as_bool()) {
        ev.Warn(StrCat("input '", input.name, "' has the value ", Describe(in[i]),
                       ", which is not among its input values (", input.allowed->source(), ")"));
      }
    }
    if (audit != nullptr) audit->evaluated_inputs.push_back({input.id, input.name, in[i]});
  }

  // Matching rules.
  absl::InlinedVector<uint32_t, 8> matched;
  for (size_t r = 0; r < rules.size(); ++r) {
    const DtRule& rule = rules[r];
    bool match = true;
    for (size_t i = 0; i < rule.inputs.size() && i < in.size(); ++i) {
      const DtCell& cell = rule.inputs[i];
      if (cell.constant_tests != nullptr) {
        if (feel::ConstantUnaryTestsHold(*cell.constant_tests, in[i])) continue;
        match = false;
        break;
      }
      Value m;
      if (cell.expr != nullptr) {
        absl::StatusOr<Value> t = ev.EvalTests(*cell.expr, in[i], scope);
        if (!t.ok()) return t.status();
        m = std::move(*t);
      }
      if (!m.is_bool() || !m.as_bool()) {
        match = false;
        break;
      }
    }
    if (!match) continue;
    matched.push_back(static_cast<uint32_t>(r));
    if (hit_policy == HitPolicy::kFirst) break;
  }

  // Output entries of the matched rules.
  auto eval_output = [&](const DtOutput& out, const DtCell* cell) -> absl::StatusOr<Value> {
    Value v;
    if (cell != nullptr && cell->constant != nullptr) {
      v = *cell->constant;
    } else if (cell != nullptr && cell->expr != nullptr) {
      absl::StatusOr<Value> e = ev.EvalFeel(*cell->expr, scope);
      if (!e.ok()) return e.status();
      v = std::move(*e);
    }
    v = ev.Convert(std::move(v), out.type, "output", out.name.empty() ? out.label : out.name);
    if (out.allowed != nullptr && !v.is_null() && ev.collect_warnings()) {
      absl::StatusOr<Value> ok = ev.EvalTests(*out.allowed, v, scope);
      if (!ok.ok()) return ok.status();
      if (!ok->is_bool() || !ok->as_bool()) {
        ev.Warn(StrCat("output '", out.name.empty() ? out.label : out.name, "' has the value ",
                       Describe(v), ", which is not among its output values (",
                       out.allowed->source(), ")"));
      }
    }
    return v;
  };
  absl::InlinedVector<Row, 2> rows;
  for (uint32_t r : matched) {
    const DtRule& rule = rules[r];
    Row row(outputs.size());
    for (size_t o = 0; o < outputs.size(); ++o) {
      absl::StatusOr<Value> v =
          eval_output(outputs[o], o < rule.outputs.size() ? &rule.outputs[o] : nullptr);
      if (!v.ok()) return v.status();
      row[o] = std::move(*v);
    }
    if (audit != nullptr) {
      MatchedRule m;
      m.rule_id = rule.id;
      m.rule_index = static_cast<int>(r) + 1;
      m.evaluated_outputs.reserve(outputs.size());
      for (size_t o = 0; o < outputs.size(); ++o) {
        m.evaluated_outputs.push_back(
            {outputs[o].id, outputs[o].name.empty() ? outputs[o].label : outputs[o].name, row[o]});
      }
      audit->matched_rules.push_back(std::move(m));
    }
    rows.push_back(std::move(row));
  }

  auto row_value = [&](Row& row) -> Value {
    if (outputs.size() == 1) return std::move(row[0]);
    feel::ContextValue ctx;
    for (size_t o = 0; o < outputs.size(); ++o) ctx.Set(outputs[o].name, std::move(row[o]));
    return Value::Context(std::move(ctx));
  };
  const bool multiple = hit_policy == HitPolicy::kCollect || hit_policy == HitPolicy::kRuleOrder ||
                        hit_policy == HitPolicy::kOutputOrder;

  if (rows.empty()) {
    bool has_default = false;
    for (const DtOutput& o : outputs) has_default = has_default || o.default_value != nullptr;
    if (!has_default) {
      if (aggregation == Aggregation::kCount) return Value::Number(0);
      if (aggregation != Aggregation::kNone) return Value();
      return multiple ? Value::List({}) : Value();
    }
    Row row(outputs.size());
    for (size_t o = 0; o < outputs.size(); ++o) {
      if (outputs[o].default_value == nullptr) continue;
      absl::StatusOr<Value> v = ev.EvalFeel(*outputs[o].default_value, scope);
      if (!v.ok()) return v.status();
      row[o] = ev.Convert(std::move(*v), outputs[o].type, "default output", outputs[o].name);
    }
    Value v = row_value(row);
    // The default stands for the table's result (an aggregation's too).
    return multiple && aggregation == Aggregation::kNone ? Value::List({std::move(v)}) : v;
  }

  auto rule_list = [&]() {
    std::string s;
    for (uint32_t r : matched) {
      if (!s.empty()) s += ", ";
      StrAppend(&s, r + 1);
      if (!rules[r].id.empty()) StrAppend(&s, " ('", rules[r].id, "')");
    }
    return s;
  };
  auto by_priority = [&](const Row& a, const Row& b) {
    for (size_t o = 0; o < outputs.size(); ++o) {
      if (outputs[o].priorities.empty()) continue;
      size_t pa = PriorityIndex(outputs[o], a[o]);
      size_t pb = PriorityIndex(outputs[o], b[o]);
      if (pa != pb) return pa < pb;
    }
    return false;
  };

  switch (hit_policy) {
    case HitPolicy::kUnique:
      if (rows.size() > 1) {
        return absl::FailedPreconditionError(StrCat(
            "the UNIQUE hit policy allows one matching rule, but rules ", rule_list(), " matched"));
      }
      return row_value(rows[0]);
    case HitPolicy::kFirst:
      return row_value(rows[0]);
    case HitPolicy::kAny:
      for (size_t i = 1; i < rows.size(); ++i) {
        for (size_t o = 0; o < outputs.size(); ++o) {
          if (!(rows[i][o] == rows[0][o])) {
            return absl::FailedPreconditionError(
                StrCat("the ANY hit policy requires matching rules to agree, but rules ",
                       rule_list(), " have different outputs"));
          }
        }
      }
      return row_value(rows[0]);
    case HitPolicy::kPriority: {
      size_t best = 0;
      for (size_t i = 1; i < rows.size(); ++i) {
        if (by_priority(rows[i], rows[best])) best = i;
      }
      return row_value(rows[best]);
    }
    case HitPolicy::kOutputOrder:
    case HitPolicy::kRuleOrder: {
      if (hit_policy == HitPolicy::kOutputOrder) {
        std::stable_sort(rows.begin(), rows.end(), by_priority);
      }
      std::vector<Value> list;
      for (Row& row : rows) list.push_back(row_value(row));
      return Value::List(std::move(list));
    }
    case HitPolicy::kCollect:
      break;
  }

  // COLLECT.
  if (aggregation == Aggregation::kNone) {
    std::vector<Value> list;
    for (Row& row : rows) list.push_back(row_value(row));
    return Value::List(std::move(list));
  }
  if (aggregation == Aggregation::kCount) {
    return Value::Number(static_cast<int64_t>(rows.size()));
  }
  if (aggregation == Aggregation::kSum) {
    feel::Decimal sum;
    for (const Row& row : rows) {
      if (!row[0].is_number()) {
        return absl::FailedPreconditionError(
            StrCat("COLLECT SUM needs numbers, but an output is ", Describe(row[0])));
      }
      std::optional<feel::Decimal> s = sum.Add(row[0].as_number());
      if (!s) return Value();
      sum = *s;
    }
    return Value::Number(sum);
  }
  // MIN / MAX over values FEEL can order.
  size_t best = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    std::optional<int> c = feel::Compare(rows[i][0], rows[best][0]);
    if (!c) {
      return absl::FailedPreconditionError(
          StrCat("COLLECT ", aggregation == Aggregation::kMin ? "MIN" : "MAX",
                 " needs comparable values, but the outputs include ", Describe(rows[i][0]),
                 " and ", Describe(rows[best][0])));
    }
    if (aggregation == Aggregation::kMin ? *c < 0 : *c > 0) best = i;
  }
  if (rows.size() == 1 && !feel::Compare(rows[0][0], rows[0][0])) {
    return absl::FailedPreconditionError(
        StrCat("COLLECT ", aggregation == Aggregation::kMin ? "MIN" : "MAX",
               " needs comparable values, but the output is ", Describe(rows[0][0])));
  }
  return std::move(rows[best][0]);
}

}  // namespace tern::dmn::internal
