#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "dmn/dmn.h"
#include "dmn_test_util.h"
#include "gtest/gtest.h"

namespace tern::dmn {
namespace {

using feel::Value;
using testing::Definitions;
using testing::Eval;
using testing::LiteralDecision;
using testing::MustParse;
using testing::Num;
using testing::Show;
using testing::Str;

std::string RequiresDecision(std::string_view id) {
  return StrCat("<informationRequirement><requiredDecision href=\"#", id,
                "\"/></informationRequirement>");
}
std::string RequiresInput(std::string_view id) {
  return StrCat("<informationRequirement><requiredInput href=\"#", id,
                "\"/></informationRequirement>");
}
std::string RequiresKnowledge(std::string_view id) {
  return StrCat("<knowledgeRequirement><requiredKnowledge href=\"#", id,
                "\"/></knowledgeRequirement>");
}
std::string Input(std::string_view id, std::string_view name, std::string_view type = "") {
  return StrCat("<inputData id=\"", id, "\" name=\"", name, "\"><variable name=\"", name, "\"",
                type.empty() ? "" : StrCat(" typeRef=\"", type, "\""), "/></inputData>");
}

TEST(Evaluate, RequiredDecisionsFirstThenTheDecision) {
  auto drg = MustParse(Definitions(
      StrCat(Input("i_amount", "Amount", "number"),
             LiteralDecision("net", "Net Amount", "Amount * 0.8", RequiresInput("i_amount")),
             LiteralDecision("tax", "Tax", "Net Amount * 0.25", RequiresDecision("net")),
             LiteralDecision("total", "Total", "Net Amount + Tax",
                             StrCat(RequiresDecision("net"), RequiresDecision("tax"))))));
  EvaluationResult r = Eval(*drg, "total", {{"Amount", Num(100)}});
  ASSERT_FALSE(r.failed()) << r.failure_message;
  EXPECT_EQ(r.output, Num(100));
  ASSERT_EQ(r.evaluated_decisions.size(), 3u);  // Net Amount evaluated once
  EXPECT_EQ(r.evaluated_decisions[0].decision_id, "net");
  EXPECT_EQ(r.evaluated_decisions[0].output, Num(80));
  EXPECT_EQ(r.evaluated_decisions[1].decision_id, "tax");
  EXPECT_EQ(r.evaluated_decisions[1].decision_type, DecisionType::kLiteralExpression);
  EXPECT_EQ(r.evaluated_decisions[2].decision_id, "total");
  // By name too.
  EXPECT_EQ(Eval(*drg, "Total", {{"Amount", Num(100)}}).output, Num(100));
}

TEST(Evaluate, FailureNamesTheFailedRequiredDecision) {
  auto drg = MustParse(Definitions(StrCat(
      "<decision id=\"table\" name=\"Table\"><decisionTable><input><inputExpression><text>x"
      "</text></inputExpression></input><output name=\"o\"/><rule><inputEntry><text>-</text>"
      "</inputEntry><outputEntry><text>1</text></outputEntry></rule><rule><inputEntry><text>-"
      "</text></inputEntry><outputEntry><text>2</text></outputEntry></rule></decisionTable>"
      "</decision>",
      LiteralDecision("top", "Top", "Table + 1", RequiresDecision("table")))));
  EvaluationResult r = Eval(*drg, "top", {{"x", Num(1)}});
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.failed_decision_id, "table");
  EXPECT_TRUE(r.output.is_null());
  ASSERT_EQ(r.evaluated_decisions.size(), 1u);
  EXPECT_EQ(r.evaluated_decisions[0].decision_id, "table");

  EvaluationResult unknown = Eval(*drg, "nope");
  EXPECT_TRUE(unknown.failed());
  EXPECT_NE(unknown.failure_message.find("no decision with id 'nope'"), std::string::npos);
}

TEST(Evaluate, DecisionTypeChecksAndConversions) {
  auto drg = MustParse(Definitions(StrCat(
      "<itemDefinition name=\"tScore\"><typeRef>number</typeRef><allowedValues><text>[0..100]"
      "</text></allowedValues></itemDefinition>"
      "<itemDefinition name=\"tNames\" isCollection=\"true\"><typeRef>string</typeRef>"
      "</itemDefinition>"
      "<itemDefinition name=\"tPerson\"><itemComponent name=\"name\"><typeRef>string</typeRef>"
      "</itemComponent><itemComponent name=\"age\"><typeRef>number</typeRef></itemComponent>"
      "</itemDefinition>",
      LiteralDecision("ok", "Ok", "50", "", "tScore"),
      LiteralDecision("out_of_range", "Out Of Range", "150", "", "tScore"),
      LiteralDecision("wrong_kind", "Wrong Kind", "\"fifty\"", "", "tScore"),
      LiteralDecision("singleton", "Singleton", "[42]", "", "number"),
      LiteralDecision("names", "Names", "[\"a\", \"b\"]", "", "tNames"),
      LiteralDecision("bad_names", "Bad Names", "[\"a\", 1]", "", "tNames"),
      LiteralDecision("person", "Person", "{name: \"x\", age: 3, extra: true}", "", "tPerson"),
      LiteralDecision("not_person", "Not Person", "{name: \"x\"}", "", "tPerson"),
      LiteralDecision("date_time", "Date Time", "date(\"2024-05-01\")", "", "date and time"),
      LiteralDecision("feel_type", "Feel Type", "[1, 2]", "", "list&lt;number&gt;"),
      LiteralDecision("camunda_type", "Camunda Type", "7", "", "integer"))));
  EXPECT_EQ(Eval(*drg, "ok").output, Num(50));
  EvaluationResult out_of_range = Eval(*drg, "out_of_range");
  EXPECT_FALSE(out_of_range.failed());  // DMN: a non-conforming result is null, not an error
  EXPECT_TRUE(out_of_range.output.is_null());
  ASSERT_FALSE(out_of_range.warnings.empty());
  EXPECT_NE(out_of_range.warnings[0].find("does not conform to type 'tScore'"), std::string::npos)
      << out_of_range.warnings[0];
  EXPECT_TRUE(Eval(*drg, "wrong_kind").output.is_null());
  EXPECT_EQ(Eval(*drg, "singleton").output, Num(42));
  EXPECT_EQ(Show(Eval(*drg, "names").output), "[\"a\", \"b\"]");
  EXPECT_TRUE(Eval(*drg, "bad_names").output.is_null());
  EXPECT_EQ(Show(Eval(*drg, "person").output), "{name:\"x\", age:3, extra:true}");
  EXPECT_TRUE(Eval(*drg, "not_person").output.is_null());
  EXPECT_EQ(Show(Eval(*drg, "date_time").output), "2024-05-01T00:00:00Z");
  EXPECT_EQ(Show(Eval(*drg, "feel_type").output), "[1, 2]");
  EXPECT_EQ(Eval(*drg, "camunda_type").output, Num(7));
}

TEST(Evaluate, InputDataOfTheWrongTypeIsNull) {
  auto drg = MustParse(Definitions(StrCat(
      Input("i", "Age", "number"),
      LiteralDecision("d", "D", "if Age = null then \"missing\" else Age", RequiresInput("i")))));
  EXPECT_EQ(Eval(*drg, "d", {{"Age", Num(3)}}).output, Num(3));
  EXPECT_EQ(Eval(*drg, "d", {{"Age", Str("three")}}).output, Str("missing"));
  EXPECT_EQ(Eval(*drg, "d").output, Str("missing"));
}

TEST(Evaluate, BoxedExpressions) {
  auto drg = MustParse(Definitions(R"(
<decision id="ctx" name="Ctx"><context>
  <contextEntry><variable name="Monthly Salary"/><literalExpression><text>Salary / 12</text></literalExpression></contextEntry>
  <contextEntry><variable name="Rate-Percent" typeRef="number"/><literalExpression><text>5</text></literalExpression></contextEntry>
  <contextEntry><literalExpression><text>Monthly Salary * Rate-Percent / 100</text></literalExpression></contextEntry>
</context></decision>
<decision id="ctx_value" name="Ctx Value"><context>
  <contextEntry><variable name="a"/><literalExpression><text>1</text></literalExpression></contextEntry>
  <contextEntry><variable name="b"/><literalExpression><text>a + 1</text></literalExpression></contextEntry>
</context></decision>
<decision id="list" name="List"><list>
  <literalExpression><text>1</text></literalExpression><literalExpression><text>"two"</text></literalExpression>
</list></decision>
<decision id="relation" name="Relation"><relation>
  <column name="name"/><column name="price"/>
  <row><literalExpression><text>"widget"</text></literalExpression><literalExpression><text>25</text></literalExpression></row>
  <row><literalExpression><text>"sprocket"</text></literalExpression><literalExpression><text>15</text></literalExpression></row>
</relation></decision>
<decision id="conditional" name="Conditional"><conditional>
  <if><literalExpression><text>Salary > 1000</text></literalExpression></if>
  <then><literalExpression><text>"high"</text></literalExpression></then>
  <else><literalExpression><text>"low"</text></literalExpression></else>
</conditional></decision>
<decision id="for" name="For"><for iteratorVariable="n">
  <in><literalExpression><text>[1, 2, 3]</text></literalExpression></in>
  <return><literalExpression><text>n * n</text></literalExpression></return>
</for></decision>
<decision id="some" name="Some"><some iteratorVariable="n">
  <in><literalExpression><text>[1, 2, 3]</text></literalExpression></in>
  <satisfies><literalExpression><text>n > 2</text></literalExpression></satisfies>
</some></decision>
<decision id="every" name="Every"><every iteratorVariable="n">
  <in><literalExpression><text>[1, 2, 3]</text></literalExpression></in>
  <satisfies><literalExpression><text>n > 2</text></literalExpression></satisfies>
</every></decision>
<decision id="filter" name="Filter"><filter>
  <in><literalExpression><text>[{x: 1}, {x: 5}, {x: 9}]</text></literalExpression></in>
  <match><literalExpression><text>item.x > 2 and x &lt; 9</text></literalExpression></match>
</filter></decision>
<decision id="fn" name="Fn"><context>
  <contextEntry><variable name="Offset"/><literalExpression><text>1000</text></literalExpression></contextEntry>
  <contextEntry><variable name="double"/><functionDefinition>
    <formalParameter name="v" typeRef="number"/>
    <literalExpression><text>v * 2 + Offset + Later</text></literalExpression>
  </functionDefinition></contextEntry>
  <contextEntry><variable name="Later"/><literalExpression><text>1</text></literalExpression></contextEntry>
  <contextEntry><literalExpression><text>[double(1), double("x")]</text></literalExpression></contextEntry>
</context></decision>
<decision id="fn2" name="Fn2"><context>
  <contextEntry><variable name="Offset"/><literalExpression><text>1000</text></literalExpression></contextEntry>
  <contextEntry><variable name="double"/><functionDefinition>
    <formalParameter name="v" typeRef="number"/>
    <literalExpression><text>v * 2 + Offset</text></literalExpression>
  </functionDefinition></contextEntry>
  <contextEntry><literalExpression><text>[double(1), double("x"), double([2])]</text></literalExpression></contextEntry>
</context></decision>
)"));
  EXPECT_EQ(Eval(*drg, "ctx", {{"Salary", Num(1200)}}).output, Num(5));
  EXPECT_EQ(Eval(*drg, "ctx", {{"Salary", Num(1200)}}).evaluated_decisions[0].decision_type,
            DecisionType::kContext);
  EXPECT_EQ(Show(Eval(*drg, "ctx_value").output), "{a:1, b:2}");
  EXPECT_EQ(Show(Eval(*drg, "list").output), "[1, \"two\"]");
  EXPECT_EQ(Eval(*drg, "list").evaluated_decisions[0].decision_type, DecisionType::kList);
  EXPECT_EQ(Show(Eval(*drg, "relation").output),
            "[{name:\"widget\", price:25}, {name:\"sprocket\", price:15}]");
  EXPECT_EQ(Eval(*drg, "relation").evaluated_decisions[0].decision_type, DecisionType::kRelation);
  EXPECT_EQ(Eval(*drg, "conditional", {{"Salary", Num(2000)}}).output, Str("high"));
  EXPECT_EQ(Eval(*drg, "conditional", {{"Salary", Num(10)}}).output, Str("low"));
  EXPECT_EQ(Eval(*drg, "conditional").evaluated_decisions[0].decision_type, DecisionType::kUnknown);
  EXPECT_EQ(Show(Eval(*drg, "for").output), "[1, 4, 9]");
  EXPECT_EQ(Eval(*drg, "some").output, Value::Bool(true));
  EXPECT_EQ(Eval(*drg, "every").output, Value::Bool(false));
  EXPECT_EQ(Show(Eval(*drg, "filter").output), "[{x:5}]");
  // A boxed function sees the entries defined before it (Later is defined after: null); a
  // non-conforming argument makes the call null, a singleton list is converted to its item.
  EXPECT_EQ(Show(Eval(*drg, "fn").output), "[null, null]");
  EXPECT_EQ(Show(Eval(*drg, "fn2").output), "[1002, null, 1004]");
}

TEST(Evaluate, BusinessKnowledgeModelsAndInvocations) {
  auto drg = MustParse(Definitions(StrCat(R"(
<businessKnowledgeModel id="bkm_fee" name="Fee">
  <variable name="Fee"/>
  <encapsulatedLogic>
    <formalParameter name="amount" typeRef="number"/>
    <formalParameter name="rate" typeRef="number"/>
    <literalExpression><text>amount * rate</text></literalExpression>
  </encapsulatedLogic>
</businessKnowledgeModel>
<businessKnowledgeModel id="bkm_table" name="Classify">
  <encapsulatedLogic>
    <formalParameter name="n"/>
    <decisionTable hitPolicy="FIRST"><input><inputExpression><text>n</text></inputExpression></input>
      <output name="c"/>
      <rule><inputEntry><text>&lt; 0</text></inputEntry><outputEntry><text>"negative"</text></outputEntry></rule>
      <rule><inputEntry><text>-</text></inputEntry><outputEntry><text>"other"</text></outputEntry></rule>
    </decisionTable>
  </encapsulatedLogic>
</businessKnowledgeModel>
<businessKnowledgeModel id="bkm_fact" name="Factorial">
  <encapsulatedLogic>
    <formalParameter name="n" typeRef="number"/>
    <literalExpression><text>if n &lt;= 1 then 1 else n * Factorial(n - 1)</text></literalExpression>
  </encapsulatedLogic>
</businessKnowledgeModel>
<businessKnowledgeModel id="bkm_forever" name="Forever">
  <encapsulatedLogic>
    <formalParameter name="n"/>
    <literalExpression><text>Forever(n + 1)</text></literalExpression>
  </encapsulatedLogic>
</businessKnowledgeModel>
<decision id="literal_call" name="Literal Call">)",
                                          RequiresKnowledge("bkm_fee"), R"(
  <literalExpression><text>Fee(200, 0.1) + Fee(rate: 0.5, amount: 2)</text></literalExpression>
</decision>
<decision id="invocation" name="Invocation">)",
                                          RequiresKnowledge("bkm_fee"), R"(
  <invocation>
    <literalExpression><text>Fee</text></literalExpression>
    <binding><parameter name="rate"/><literalExpression><text>0.2</text></literalExpression></binding>
    <binding><parameter name="amount"/><literalExpression><text>Amount</text></literalExpression></binding>
  </invocation>
</decision>
<decision id="bad_binding" name="Bad Binding">)",
                                          RequiresKnowledge("bkm_fee"), R"(
  <invocation>
    <literalExpression><text>Fee</text></literalExpression>
    <binding><parameter name="percent"/><literalExpression><text>0.2</text></literalExpression></binding>
  </invocation>
</decision>
<decision id="table_call" name="Table Call">)",
                                          RequiresKnowledge("bkm_table"), R"(
  <literalExpression><text>[Classify(-1), Classify(5)]</text></literalExpression>
</decision>
<decision id="typed_args" name="Typed Args">)",
                                          RequiresKnowledge("bkm_fee"), R"(
  <literalExpression><text>Fee("1", 2)</text></literalExpression>
</decision>
<decision id="recursion" name="Recursion">)",
                                          RequiresKnowledge("bkm_fact"), R"(
  <literalExpression><text>Factorial(10)</text></literalExpression>
</decision>
<decision id="forever" name="Forever Call">)",
                                          RequiresKnowledge("bkm_forever"), R"(
  <literalExpression><text>Forever(0)</text></literalExpression>
</decision>
<decision id="no_requirement" name="No Requirement">
  <literalExpression><text>Fee(1, 1)</text></literalExpression>
</decision>
)")));
  EXPECT_EQ(Eval(*drg, "literal_call").output, Num(21));
  EvaluationResult inv = Eval(*drg, "invocation", {{"Amount", Num(50)}});
  EXPECT_EQ(inv.output, Num(10));
  EXPECT_EQ(inv.evaluated_decisions[0].decision_type, DecisionType::kInvocation);
  EXPECT_TRUE(Eval(*drg, "bad_binding").output.is_null());
  EXPECT_EQ(Show(Eval(*drg, "table_call").output), "[\"negative\", \"other\"]");
  EXPECT_TRUE(Eval(*drg, "typed_args").output.is_null());
  EXPECT_EQ(Eval(*drg, "recursion").output, Num(3628800));
  // Unbounded recursion ends with an error, not a crash.
  EvaluationResult forever = Eval(*drg, "forever");
  EXPECT_TRUE(forever.failed());
  EXPECT_EQ(forever.failed_decision_id, "forever");
  EXPECT_NE(forever.failure_message.find("recursion limit"), std::string::npos)
      << forever.failure_message;
  // BKMs are visible only to the decisions that require them.
  EXPECT_TRUE(Eval(*drg, "no_requirement").output.is_null());
  // Invoked directly.
  EvaluationResult direct = InvokeBusinessKnowledgeModel(
      *drg, "Fee", {{"amount", Num(10)}, {"rate", Num(3)}}, feel::EvalOptions{});
  EXPECT_EQ(direct.output, Num(30));
}

TEST(Evaluate, StepBudgetEndsLongEvaluations) {
  auto drg = MustParse(Definitions(
      LiteralDecision("d", "D", "sum(for i in 1..100000 return for j in 1..100 return i * j)")));
  feel::EvalOptions options;
  options.max_steps = 10'000;
  EvaluationResult r = Eval(*drg, "d", {}, options);
  EXPECT_TRUE(r.failed());
  EXPECT_EQ(r.failed_decision_id, "d");
}

TEST(Evaluate, BkmCallsShareTheEvaluationBudget) {
  // Each call of the BKM is cheap, but 1,000 of them must count against one budget.
  auto drg = MustParse(Definitions(StrCat(
      "<businessKnowledgeModel id=\"b\" name=\"Busy\"><encapsulatedLogic>"
      "<formalParameter name=\"n\"/><literalExpression><text>sum(for i in 1..50 return i)"
      "</text></literalExpression></encapsulatedLogic></businessKnowledgeModel>",
      LiteralDecision("d", "D", "sum(for k in 1..1000 return Busy(k))", RequiresKnowledge("b")))));
  feel::EvalOptions options;
  options.max_steps = 20'000;
  EXPECT_TRUE(Eval(*drg, "d", {}, options).failed());
  options.max_steps = 1'000'000;
  EXPECT_EQ(Eval(*drg, "d", {}, options).output, Num(1275000));
}

TEST(Evaluate, DecisionServices) {
  auto drg = MustParse(Definitions(
      StrCat(Input("i_x", "X", "number"), LiteralDecision("inner", "Inner", "\"never evaluated\""),
             LiteralDecision("out1", "Out 1", "X * 2", RequiresInput("i_x")),
             LiteralDecision("out2", "Out 2", "Inner + \"!\"", RequiresDecision("inner")),
             R"(<decisionService id="svc" name="Service">
           <outputDecision href="#out1"/><outputDecision href="#out2"/>
           <inputDecision href="#inner"/><inputData href="#i_x"/>
         </decisionService>
         <decisionService id="single" name="Single">
           <variable name="Single" typeRef="number"/>
           <outputDecision href="#out1"/><inputData href="#i_x"/>
         </decisionService>)",
             LiteralDecision("caller", "Caller", "[Service(3, \"hi\"), Single(5), Single(\"5\")]",
                             StrCat(RequiresKnowledge("svc"), RequiresKnowledge("single"))))));
  EXPECT_EQ(Show(Eval(*drg, "caller").output), "[{Out 1:6, Out 2:\"hi!\"}, 10, null]");
  feel::MapVariableResolver vars({{"X", Num(4)}, {"Inner", Str("given")}});
  EvaluationResult r = EvaluateDecisionService(*drg, "svc", vars, feel::EvalOptions{});
  ASSERT_FALSE(r.failed()) << r.failure_message;
  EXPECT_EQ(Show(r.output), "{Out 1:8, Out 2:\"given!\"}");
  // Input decisions not supplied are null, not evaluated.
  feel::MapVariableResolver only_x({{"X", Num(4)}});
  EXPECT_EQ(Show(EvaluateDecisionService(*drg, "svc", only_x, {}).output), "{Out 1:8, Out 2:null}");
}

TEST(Evaluate, VariablesOverrideDecisionsOnlyWhenAsked) {
  auto drg = MustParse(
      Definitions(StrCat(LiteralDecision("base", "Base", "1"),
                         LiteralDecision("top", "Top", "Base + 1", RequiresDecision("base")))));
  feel::MapVariableResolver vars({{"Base", Num(41)}});
  EXPECT_EQ(Evaluate(*drg, "top", vars, {}).output, Num(2));
  EvaluationSettings tck;
  tck.variables_override_decisions = true;
  EXPECT_EQ(Evaluate(*drg, "top", vars, {}, tck).output, Num(42));
}

TEST(Evaluate, ImportsAcrossResources) {
  const std::string imported = R"(<?xml version="1.0"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" id="lib" name="Lib"
    namespace="urn:lib">
  <itemDefinition name="tPerson"><itemComponent name="name"><typeRef>string</typeRef></itemComponent></itemDefinition>
  <inputData id="who" name="Who"><variable name="Who" typeRef="string"/></inputData>
  <decision id="greeting" name="Greeting"><variable name="Greeting" typeRef="string"/>
    <informationRequirement><requiredInput href="#who"/></informationRequirement>
    <literalExpression><text>"Hello " + Who</text></literalExpression></decision>
  <businessKnowledgeModel id="shout" name="Shout"><encapsulatedLogic>
    <formalParameter name="p" typeRef="tPerson"/>
    <literalExpression><text>upper case(p.name)</text></literalExpression>
  </encapsulatedLogic></businessKnowledgeModel>
</definitions>)";
  const std::string main = R"(<?xml version="1.0"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20230324/MODEL/" id="main" name="Main"
    namespace="urn:main">
  <import namespace="urn:lib" name="lib" importType="https://www.omg.org/spec/DMN/20230324/MODEL/"/>
  <inputData id="p" name="P"><variable name="P" typeRef="lib.tPerson"/></inputData>
  <decision id="d" name="D">
    <informationRequirement><requiredDecision href="urn:lib#greeting"/></informationRequirement>
    <informationRequirement><requiredInput href="#p"/></informationRequirement>
    <knowledgeRequirement><requiredKnowledge href="urn:lib#shout"/></knowledgeRequirement>
    <literalExpression><text>lib.Greeting + ", " + lib.Shout(P)</text></literalExpression>
  </decision>
</definitions>)";
  auto graphs = ParseDmnResources({{"main.dmn", main}, {"lib.dmn", imported}});
  ASSERT_TRUE(graphs.ok()) << graphs.status();
  const Drg& drg = *(*graphs)[0];
  EXPECT_EQ(drg.imported_namespaces(), std::vector<std::string>{"urn:lib"});
  EXPECT_EQ(drg.ImportPaths("urn:lib"), std::vector<std::vector<std::string>>{{"lib"}});
  EXPECT_EQ(drg.VariableType("P")->name, "tPerson");
  feel::MapVariableResolver vars({{"P", Value::Context({{"name", Str("ann")}})},
                                  {"lib", Value::Context({{"Who", Str("Bob")}})}});
  EvaluationResult r = Evaluate(drg, "d", vars, {});
  ASSERT_FALSE(r.failed()) << r.failure_message;
  EXPECT_EQ(r.output, Str("Hello Bob, ANN"));
  // The imported decision is listed too, in evaluation order.
  ASSERT_EQ(r.evaluated_decisions.size(), 2u);
  EXPECT_EQ(r.evaluated_decisions[0].decision_id, "greeting");
  // Import cycles and missing imports are reported.
  auto missing = ParseDmnResources({{"main.dmn", main}});
  EXPECT_FALSE(missing.ok());
}

TEST(Evaluate, FunctionValuesOutliveTheirEvaluationAndGraph) {
  feel::Value fn;
  {
    auto drg = MustParse(Definitions(StrCat(
        "<businessKnowledgeModel id=\"b\" name=\"Twice\"><encapsulatedLogic>"
        "<formalParameter name=\"n\"/><literalExpression><text>n * 2</text></literalExpression>"
        "</encapsulatedLogic></businessKnowledgeModel>",
        LiteralDecision("d", "D", "Twice", RequiresKnowledge("b")))));
    EvaluationResult r = Eval(*drg, "d");
    ASSERT_TRUE(r.output.is_function()) << Show(r.output);
    fn = r.output;
  }
  // The graph is gone; the function keeps what it needs.
  absl::StatusOr<Value> v = feel::InvokeFunction(fn, {Num(21)}, feel::EvalOptions{});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, Num(42));
}

TEST(Evaluate, ConcurrentEvaluationsOfOneGraph) {
  auto drg = MustParse(Definitions(StrCat(
      Input("i", "N", "number"),
      "<businessKnowledgeModel id=\"b\" name=\"Sq\"><encapsulatedLogic><formalParameter "
      "name=\"n\"/><literalExpression><text>n * n</text></literalExpression>"
      "</encapsulatedLogic></businessKnowledgeModel>",
      LiteralDecision("d", "D", "Sq(N) + 1", StrCat(RequiresInput("i"), RequiresKnowledge("b"))))));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 500; ++i) {
        const int64_t n = t * 1000 + i;
        feel::MapVariableResolver vars({{"N", Num(n)}});
        if (!(Evaluate(*drg, "d", vars, {}).output == Num(n * n + 1))) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(Evaluate, BusinessKnowledgeModelsShadowBuiltins) {
  auto drg = MustParse(Definitions(
      StrCat("<businessKnowledgeModel id=\"b\" name=\"abs\"><encapsulatedLogic>"
             "<formalParameter name=\"n\"/><literalExpression><text>\"mine \" + string(n)</text>"
             "</literalExpression></encapsulatedLogic></businessKnowledgeModel>",
             LiteralDecision("d", "D", "[abs(-2), floor(2.5)]", RequiresKnowledge("b")),
             LiteralDecision("e", "E", "abs(-2)"))));
  EXPECT_EQ(Show(Eval(*drg, "d").output), "[\"mine -2\", 2]");
  // Where the BKM is not required, the built-in is called.
  EXPECT_EQ(Show(Eval(*drg, "e").output), "2");
}

TEST(Evaluate, NamesWithSpecialCharacters) {
  auto drg = MustParse(Definitions(StrCat(
      Input("i1", "Date-Time of Order"), Input("i2", "values in a list"), Input("i3", "Age 1"),
      LiteralDecision("d", "D", "[Date-Time of Order, count(values in a list), Age 1 + 1]",
                      StrCat(RequiresInput("i1"), RequiresInput("i2"), RequiresInput("i3"))))));
  EvaluationResult r = Eval(*drg, "d",
                            {{"Date-Time of Order", Str("x")},
                             {"values in a list", Value::List({Num(1), Num(2)})},
                             {"Age 1", Num(4)}});
  EXPECT_EQ(Show(r.output), "[\"x\", 2, 5]");
}

}  // namespace
}  // namespace tern::dmn
