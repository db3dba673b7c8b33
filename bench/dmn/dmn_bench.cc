// tern-dmn-bench: parse+compile time of a DMN resource and single-core evaluation throughput of
// a 20-rule decision table with 3 inputs, printed beside tern-feel-bench's condition figure.
// Prints figures; never asserts on timing.
//
//   build/bin/tern-dmn-bench [iterations]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "dmn/dmn.h"
#include "feel/feel.h"

namespace {

using Clock = std::chrono::steady_clock;
using tern::feel::Value;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// 20 rules over a number (ranges and comparisons), a string (lists of literals) and a boolean,
// UNIQUE hit policy, one output: the shape of a typical pricing / routing table.
std::string TableDmn() {
  struct Rule {
    const char* amount;
    const char* category;
    const char* vip;
    const char* discount;
  };
  const Rule rules[] = {
      {"< 100", "\"books\"", "true", "0.05"},
      {"< 100", "\"books\"", "false", "0"},
      {"[100..500)", "\"books\"", "true", "0.10"},
      {"[100..500)", "\"books\"", "false", "0.02"},
      {">= 500", "\"books\"", "-", "0.15"},
      {"< 100", "\"music\",\"film\"", "true", "0.04"},
      {"< 100", "\"music\",\"film\"", "false", "0"},
      {"[100..500)", "\"music\",\"film\"", "-", "0.06"},
      {">= 500", "\"music\",\"film\"", "true", "0.12"},
      {">= 500", "\"music\",\"film\"", "false", "0.08"},
      {"< 50", "\"toys\"", "-", "0"},
      {"[50..200]", "\"toys\"", "true", "0.07"},
      {"[50..200]", "\"toys\"", "false", "0.03"},
      {"> 200", "\"toys\"", "-", "0.09"},
      {"<= 1000", "\"garden\"", "true", "0.05"},
      {"<= 1000", "\"garden\"", "false", "0.01"},
      {"> 1000", "\"garden\"", "-", "0.11"},
      {"-", "\"food\"", "true", "0.02"},
      {"-", "\"food\"", "false", "0"},
      {"-", "not(\"books\",\"music\",\"film\",\"toys\",\"garden\",\"food\")", "-", "0"},
  };
  std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="pricing" name="Pricing"
             namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="discount" name="Discount">
    <decisionTable id="table" hitPolicy="UNIQUE">
      <input id="in_amount" label="Amount"><inputExpression typeRef="number"><text>amount</text></inputExpression></input>
      <input id="in_category" label="Category"><inputExpression typeRef="string"><text>category</text></inputExpression></input>
      <input id="in_vip" label="VIP"><inputExpression typeRef="boolean"><text>vip</text></inputExpression></input>
      <output id="out_discount" name="discount" typeRef="number"/>
)";
  int i = 0;
  for (const Rule& r : rules) {
    ++i;
    xml += "      <rule id=\"r" + std::to_string(i) + "\">";
    for (const char* entry : {r.amount, r.category, r.vip}) {
      std::string text = entry;
      std::string escaped;
      for (char c : text) {
        if (c == '<') {
          escaped += "&lt;";
        } else if (c == '>') {
          escaped += "&gt;";
        } else {
          escaped += c;
        }
      }
      xml += "<inputEntry><text>" + escaped + "</text></inputEntry>";
    }
    xml += "<outputEntry><text>" + std::string(r.discount) + "</text></outputEntry></rule>\n";
  }
  xml += "    </decisionTable>\n  </decision>\n</definitions>\n";
  return xml;
}

// The engine's resolver reads variables from its state; here three values.
class Inputs : public tern::feel::VariableResolver {
 public:
  Inputs(Value amount, Value category, Value vip)
      : amount_(std::move(amount)), category_(std::move(category)), vip_(std::move(vip)) {}
  std::optional<Value> Lookup(std::string_view name) const override {
    if (name == "amount") return amount_;
    if (name == "category") return category_;
    if (name == "vip") return vip_;
    return std::nullopt;
  }

 private:
  Value amount_, category_, vip_;
};

class ConditionVars : public tern::feel::VariableResolver {
 public:
  std::optional<Value> Lookup(std::string_view name) const override {
    if (name == "amount") return amount_;
    if (name == "status") return status_;
    return std::nullopt;
  }

 private:
  Value amount_ = Value::Number(500);
  Value status_ = Value::String("new");
};

}  // namespace

int main(int argc, char** argv) {
  using namespace tern;
  const int64_t iterations = argc > 1 ? std::atoll(argv[1]) : 2'000'000;
  const std::string xml = TableDmn();

  // Parse + compile the resource (XML checks, model, 60 unary tests, 20 outputs).
  const int parse_runs = 2'000;
  auto start = Clock::now();
  std::shared_ptr<const dmn::Drg> drg;
  for (int i = 0; i < parse_runs; ++i) {
    auto parsed = dmn::ParseDmn(xml, "pricing.dmn");
    if (!parsed.ok()) {
      std::fprintf(stderr, "parse failed: %s\n", std::string(parsed.status().message()).c_str());
      return 1;
    }
    drg = *parsed;
  }
  const double parse_s = Seconds(Clock::now() - start);

  // A spread of inputs so every rule (and the no-match path) is exercised.
  std::vector<Inputs> inputs;
  const char* categories[] = {"books", "music", "film", "toys", "garden", "food", "other"};
  const int amounts[] = {10, 75, 150, 499, 500, 900, 1500};
  for (const char* c : categories) {
    for (int a : amounts) {
      for (bool vip : {true, false}) {
        inputs.emplace_back(Value::Number(a), Value::String(c), Value::Bool(vip));
      }
    }
  }
  feel::EvalOptions options;
  int64_t matched = 0;
  for (int i = 0; i < 100'000; ++i) {
    matched += !dmn::Evaluate(*drg, "discount", inputs[i % inputs.size()], options).failed();
  }
  matched = 0;
  start = Clock::now();
  for (int64_t i = 0; i < iterations; ++i) {
    dmn::EvaluationResult r =
        dmn::Evaluate(*drg, "discount", inputs[static_cast<size_t>(i) % inputs.size()], options);
    matched += !r.failed() && !r.evaluated_decisions.empty() &&
               !r.evaluated_decisions[0].matched_rules.empty();
  }
  const double table_s = Seconds(Clock::now() - start);

  // tern-feel-bench's condition, for comparison.
  auto condition = feel::CompiledExpression::Compile("amount < 10000 and status = \"new\"");
  ConditionVars condition_vars;
  const int64_t condition_runs = iterations * 4;
  int64_t trues = 0;
  start = Clock::now();
  for (int64_t i = 0; i < condition_runs; ++i) {
    absl::StatusOr<Value> v = feel::Evaluate(**condition, condition_vars, options);
    trues += v.ok() && v->is_bool() && v->as_bool();
  }
  const double condition_s = Seconds(Clock::now() - start);

  std::printf(
      "DMN resource: 1 decision table, 20 rules, 3 inputs (number, string, boolean), "
      "%zu bytes\n",
      xml.size());
  std::printf("parse+compile: %.1f us per resource (%d runs)\n", parse_s / parse_runs * 1e6,
              parse_runs);
  std::printf(
      "decision table: %.0f ns per evaluation, %.0f evaluations/s on one core (with the audit: "
      "inputs, matched rules; %lld iterations, %lld with a match)\n",
      table_s / static_cast<double>(iterations) * 1e9, static_cast<double>(iterations) / table_s,
      static_cast<long long>(iterations), static_cast<long long>(matched));
  std::printf(
      "FEEL condition `amount < 10000 and status = \"new\"`: %.1f ns per evaluation, "
      "%.2f million evaluations/s on one core\n",
      condition_s / static_cast<double>(condition_runs) * 1e9,
      static_cast<double>(condition_runs) / condition_s / 1e6);
  return trues == 0 ? 1 : 0;
}
