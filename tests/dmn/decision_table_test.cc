#include <string>
#include <vector>

#include "dmn/dmn.h"
#include "dmn_test_util.h"
#include "gtest/gtest.h"

namespace tern::dmn {
namespace {

using feel::Value;
using testing::Definitions;
using testing::Eval;
using testing::MustParse;
using testing::Num;
using testing::Show;
using testing::Str;

struct Rule {
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
};

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '&') {
      out += "&amp;";
    } else {
      out += c;
    }
  }
  return out;
}

// A decision "d" holding a decision table. `outputs` are `<output .../>` elements' attributes
// and children, e.g. {"name=\"o\"", ...}.
std::string Table(std::string_view attrs, const std::vector<std::string>& inputs,
                  const std::vector<std::string>& outputs, const std::vector<Rule>& rules) {
  std::string xml = StrCat("<decision id=\"d\" name=\"D\"><decisionTable id=\"t\" ", attrs, ">");
  for (size_t i = 0; i < inputs.size(); ++i) {
    StrAppend(&xml, "<input id=\"in", i + 1, "\" label=\"Input ", i + 1,
              "\"><inputExpression typeRef=\"number\"><text>", Escape(inputs[i]),
              "</text></inputExpression></input>");
  }
  for (size_t o = 0; o < outputs.size(); ++o) {
    StrAppend(&xml, "<output id=\"out", o + 1, "\" ", outputs[o], "</output>");
  }
  int n = 0;
  for (const Rule& r : rules) {
    StrAppend(&xml, "<rule id=\"r", ++n, "\">");
    for (const std::string& e : r.inputs) {
      StrAppend(&xml, "<inputEntry><text>", Escape(e), "</text></inputEntry>");
    }
    for (const std::string& e : r.outputs) {
      StrAppend(&xml, "<outputEntry><text>", Escape(e), "</text></outputEntry>");
    }
    xml += "</rule>";
  }
  xml += "</decisionTable></decision>";
  return Definitions(xml);
}

const std::vector<Rule> kGrades = {
    {{">= 90"}, {"\"A\""}},
    {{">= 80"}, {"\"B\""}},
    {{"[50..80)"}, {"\"C\""}},
    {{"< 50"}, {"\"F\""}},
};

Value Eval1(const Drg& drg, int64_t x) { return Eval(drg, "d", {{"x", Num(x)}}).output; }

TEST(DecisionTable, UniqueMatchesOneRuleAndFailsOnSeveral) {
  auto drg = MustParse(Table("hitPolicy=\"UNIQUE\"", {"x"}, {"name=\"grade\">"}, kGrades));
  EXPECT_EQ(Eval1(*drg, 85), Str("B"));
  EXPECT_EQ(Eval1(*drg, 10), Str("F"));
  EvaluationResult r = Eval(*drg, "d", {{"x", Num(95)}});
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.failed_decision_id, "d");
  EXPECT_NE(r.failure_message.find("UNIQUE hit policy allows one matching rule, but rules 1 "
                                   "('r1'), 2 ('r2') matched"),
            std::string::npos)
      << r.failure_message;
  ASSERT_EQ(r.evaluated_decisions.size(), 1u);  // the failed decision is listed last
  EXPECT_EQ(r.evaluated_decisions[0].decision_id, "d");
  // No match: null.
  auto none = Eval(*drg, "d", {{"x", Str("ninety")}});
  EXPECT_FALSE(none.failed());
  EXPECT_TRUE(none.output.is_null());
}

TEST(DecisionTable, FirstAndPriorityAndAny) {
  auto first = MustParse(Table("hitPolicy=\"FIRST\"", {"x"}, {"name=\"grade\">"}, kGrades));
  EXPECT_EQ(Eval1(*first, 95), Str("A"));
  EXPECT_EQ(Eval(*first, "d", {{"x", Num(95)}}).evaluated_decisions[0].matched_rules.size(), 1u);

  // PRIORITY: outputValues order ranks the outputs; the highest-ranked match wins.
  auto priority = MustParse(
      Table("hitPolicy=\"PRIORITY\"", {"x"},
            {"name=\"grade\"><outputValues><text>\"F\",\"C\",\"B\",\"A\"</text></outputValues>"},
            kGrades));
  EXPECT_EQ(Eval1(*priority, 95), Str("B"));  // A and B match; B is listed first
  EXPECT_EQ(Eval(*priority, "d", {{"x", Num(95)}}).evaluated_decisions[0].matched_rules.size(), 2u);

  auto any =
      MustParse(Table("hitPolicy=\"ANY\"", {"x"}, {"name=\"pass\">"},
                      {{{">= 50"}, {"true"}}, {{">= 70"}, {"true"}}, {{"< 50"}, {"false"}}}));
  EXPECT_EQ(Eval1(*any, 75), Value::Bool(true));
  auto conflicting = MustParse(Table("hitPolicy=\"ANY\"", {"x"}, {"name=\"pass\">"},
                                     {{{">= 50"}, {"true"}}, {{">= 70"}, {"false"}}}));
  EvaluationResult r = Eval(*conflicting, "d", {{"x", Num(75)}});
  EXPECT_TRUE(r.failed());
  EXPECT_NE(r.failure_message.find("ANY hit policy"), std::string::npos);
}

TEST(DecisionTable, MultipleHitPolicies) {
  const std::vector<Rule> rules = {
      {{"> 0"}, {"10"}}, {{"> 5"}, {"30"}}, {{"> 10"}, {"20"}}, {{"<= 0"}, {"1"}}};
  auto collect = MustParse(Table("hitPolicy=\"COLLECT\"", {"x"}, {"name=\"o\">"}, rules));
  EXPECT_EQ(Show(Eval1(*collect, 20)), "[10, 30, 20]");
  auto rule_order = MustParse(Table("hitPolicy=\"RULE ORDER\"", {"x"}, {"name=\"o\">"}, rules));
  EXPECT_EQ(Show(Eval1(*rule_order, 20)), "[10, 30, 20]");
  auto output_order =
      MustParse(Table("hitPolicy=\"OUTPUT ORDER\"", {"x"},
                      {"name=\"o\"><outputValues><text>30,20,10,1</text></outputValues>"}, rules));
  EXPECT_EQ(Show(Eval1(*output_order, 20)), "[30, 20, 10]");
  for (auto [aggregation, expected] : std::vector<std::pair<std::string, std::string>>{
           {"SUM", "60"}, {"MIN", "10"}, {"MAX", "30"}, {"COUNT", "3"}}) {
    auto drg = MustParse(Table(StrCat("hitPolicy=\"COLLECT\" aggregation=\"", aggregation, "\""),
                               {"x"}, {"name=\"o\">"}, rules));
    EXPECT_EQ(Show(Eval1(*drg, 20)), expected) << aggregation;
  }
  // No match: an empty list; COUNT 0; other aggregations null.
  auto empty_rules = std::vector<Rule>{{{"> 100"}, {"1"}}};
  EXPECT_EQ(
      Show(Eval1(*MustParse(Table("hitPolicy=\"COLLECT\"", {"x"}, {"name=\"o\">"}, empty_rules)),
                 0)),
      "[]");
  EXPECT_EQ(Eval1(*MustParse(Table("hitPolicy=\"COLLECT\" aggregation=\"COUNT\"", {"x"},
                                   {"name=\"o\">"}, empty_rules)),
                  0),
            Num(0));
  EXPECT_TRUE(Eval1(*MustParse(Table("hitPolicy=\"COLLECT\" aggregation=\"SUM\"", {"x"},
                                     {"name=\"o\">"}, empty_rules)),
                    0)
                  .is_null());
}

TEST(DecisionTable, AggregationOverNonNumbersFails) {
  auto drg = MustParse(Table("hitPolicy=\"COLLECT\" aggregation=\"SUM\"", {"x"}, {"name=\"o\">"},
                             {{{"-"}, {"\"a\""}}}));
  EvaluationResult r = Eval(*drg, "d", {{"x", Num(1)}});
  EXPECT_TRUE(r.failed());
  EXPECT_NE(r.failure_message.find("COLLECT SUM needs numbers"), std::string::npos);
}

TEST(DecisionTable, CompoundOutputsAndDefaults) {
  auto drg = MustParse(
      Table("", {"x"},
            {"name=\"grade\"><defaultOutputEntry><text>\"none\"</text></defaultOutputEntry>",
             "name=\"points\">"},
            {{{"> 10"}, {"\"high\"", "x * 2"}}}));
  EXPECT_EQ(Show(Eval1(*drg, 20)), "{grade:\"high\", points:40}");
  // No rule matches: the defaults, null where an output has none.
  EXPECT_EQ(Show(Eval1(*drg, 5)), "{grade:\"none\", points:null}");
}

TEST(DecisionTable, AuditListsInputsAndMatchedRules) {
  auto drg = MustParse(Table("hitPolicy=\"COLLECT\"", {"x", "y"},
                             {"name=\"a\" label=\"A\">", "label=\"Only label\" name=\"b\">"},
                             {{{"> 1", "-"}, {"1", "\"one\""}},
                              {{"> 100", "-"}, {"2", "\"two\""}},
                              {{"-", "\"k\""}, {"3", "\"three\""}}}));
  EvaluationResult r = Eval(*drg, "d", {{"x", Num(5)}, {"y", Str("k")}});
  ASSERT_FALSE(r.failed()) << r.failure_message;
  ASSERT_EQ(r.evaluated_decisions.size(), 1u);
  const EvaluatedDecision& d = r.evaluated_decisions[0];
  EXPECT_EQ(d.decision_id, "d");
  EXPECT_EQ(d.decision_name, "D");
  EXPECT_EQ(d.decision_type, DecisionType::kDecisionTable);
  EXPECT_EQ(Show(d.output), "[{a:1, b:\"one\"}, {a:3, b:\"three\"}]");
  ASSERT_EQ(d.evaluated_inputs.size(), 2u);
  EXPECT_EQ(d.evaluated_inputs[0].input_id, "in1");
  EXPECT_EQ(d.evaluated_inputs[0].input_name, "Input 1");
  EXPECT_EQ(d.evaluated_inputs[0].value, Num(5));
  EXPECT_EQ(d.evaluated_inputs[1].value, Str("k"));
  ASSERT_EQ(d.matched_rules.size(), 2u);
  EXPECT_EQ(d.matched_rules[0].rule_id, "r1");
  EXPECT_EQ(d.matched_rules[0].rule_index, 1);
  EXPECT_EQ(d.matched_rules[1].rule_id, "r3");
  EXPECT_EQ(d.matched_rules[1].rule_index, 3);
  ASSERT_EQ(d.matched_rules[1].evaluated_outputs.size(), 2u);
  EXPECT_EQ(d.matched_rules[1].evaluated_outputs[0].output_id, "out1");
  EXPECT_EQ(d.matched_rules[1].evaluated_outputs[0].output_name, "a");
  EXPECT_EQ(d.matched_rules[1].evaluated_outputs[1].output_name, "b");
  EXPECT_EQ(d.matched_rules[1].evaluated_outputs[1].value, Str("three"));
}

TEST(DecisionTable, InputEntriesOfEveryForm) {
  // Constant entries (matched without the evaluator) and entries that need it (variables, `?`,
  // functions) must agree with FEEL's unary-test semantics.
  struct Case {
    std::string entry;
    Value input;
    bool matches;
  };
  const Case cases[] = {
      {"-", Value(), true},
      {"5", Num(5), true},
      {"5", Str("5"), false},
      {"\"a\",\"b\"", Str("b"), true},
      {"not(\"a\",\"b\")", Str("c"), true},
      {"not(\"a\",\"b\")", Num(1), false},  // comparing a number with strings is null
      {"[1..10)", Num(10), false},
      {"]1..10]", Num(10), true},
      {"< 5, > 10", Num(11), true},
      {">= date(\"2024-01-01\")", Value::Date(*feel::ParseDate("2024-02-01")), true},
      {"null", Value(), true},
      {"true", Value::Bool(true), true},
      {"= 3", Num(3), true},
      {"!= 3", Num(4), true},
      {"? > limit", Num(7), true},
      {"limit + 1", Num(6), true},
      {"count(?) > 1", Value::List({Num(1), Num(2)}), true},
      {"string length(?) = 3", Str("abc"), true},
      {"[1, 2, 3]", Num(2), true},
  };
  for (const Case& c : cases) {
    auto drg = MustParse(Definitions(
        StrCat("<decision id=\"d\" name=\"D\"><decisionTable><input><inputExpression>"
               "<text>x</text></inputExpression></input><output name=\"o\"/><rule><inputEntry>"
               "<text>",
               Escape(c.entry),
               "</text></inputEntry><outputEntry><text>\"hit\"</text></outputEntry></rule>"
               "</decisionTable></decision>")));
    ASSERT_NE(drg, nullptr) << c.entry;
    EvaluationResult r = Eval(*drg, "d", {{"x", c.input}, {"limit", Num(5)}});
    ASSERT_FALSE(r.failed()) << c.entry << ": " << r.failure_message;
    EXPECT_EQ(r.output == Str("hit"), c.matches) << c.entry << " with " << Show(c.input);
  }
}

TEST(DecisionTable, ColumnTypesAndValueListsAreAdvisory) {
  // As in dmn-scala: a typeRef="string" column (Camunda Modeler's default) still matches a
  // number, and values outside the input/output value lists only produce warnings.
  const std::string xml = Definitions(
      "<decision id=\"d\" name=\"D\"><decisionTable><input><inputExpression typeRef=\"string\">"
      "<text>x</text></inputExpression><inputValues><text>1,2</text></inputValues></input>"
      "<output name=\"o\" typeRef=\"string\"><outputValues><text>\"a\"</text></outputValues>"
      "</output><rule><inputEntry><text>3</text></inputEntry><outputEntry><text>42</text>"
      "</outputEntry></rule></decisionTable></decision>");
  auto drg = MustParse(xml);
  EvaluationResult r = Eval(*drg, "d", {{"x", Num(3)}});
  ASSERT_FALSE(r.failed()) << r.failure_message;
  EXPECT_EQ(r.output, Num(42));
  std::string warnings;
  for (const std::string& w : r.warnings) warnings += w + "\n";
  EXPECT_NE(warnings.find("not among its input values"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("not among its output values"), std::string::npos) << warnings;
  EXPECT_NE(warnings.find("does not conform to type 'string'"), std::string::npos) << warnings;
}

TEST(DecisionTable, NoInputsMatchesEveryRule) {
  auto drg =
      MustParse(Table("hitPolicy=\"COLLECT\"", {}, {"name=\"o\">"}, {{{}, {"1"}}, {{}, {"2"}}}));
  EXPECT_EQ(Show(Eval(*drg, "d").output), "[1, 2]");
}

}  // namespace
}  // namespace tern::dmn
