// Deterministic random-input smoke tests: mutated DMN resources must be rejected with
// INVALID_ARGUMENT or parse, and whatever parses must evaluate to a result or a failure value,
// never crash or hang (the budgets bound every evaluation).

#include <cstdint>
#include <string>
#include <vector>

#include "dmn/dmn.h"
#include "dmn_test_util.h"
#include "gtest/gtest.h"

namespace tern::dmn {
namespace {

using testing::Definitions;

// splitmix64: reproducible across platforms.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(Next() % n); }

 private:
  uint64_t state_;
};

const std::string& Seed() {
  static const std::string* seed = new std::string(Definitions(R"(
<itemDefinition name="tPerson"><itemComponent name="age"><typeRef>number</typeRef></itemComponent>
  <itemComponent name="tags" isCollection="true"><typeRef>string</typeRef></itemComponent></itemDefinition>
<inputData id="i1" name="Person"><variable name="Person" typeRef="tPerson"/></inputData>
<inputData id="i2" name="Amount"><variable name="Amount" typeRef="number"/></inputData>
<businessKnowledgeModel id="b1" name="Rate"><encapsulatedLogic>
  <formalParameter name="age" typeRef="number"/>
  <decisionTable hitPolicy="FIRST"><input><inputExpression><text>age</text></inputExpression></input>
    <output name="r"/>
    <rule><inputEntry><text>&lt; 18</text></inputEntry><outputEntry><text>0.5</text></outputEntry></rule>
    <rule><inputEntry><text>[18..65)</text></inputEntry><outputEntry><text>1</text></outputEntry></rule>
    <rule><inputEntry><text>-</text></inputEntry><outputEntry><text>0.8</text></outputEntry></rule>
  </decisionTable></encapsulatedLogic></businessKnowledgeModel>
<decision id="d1" name="Price">
  <informationRequirement><requiredInput href="#i1"/></informationRequirement>
  <informationRequirement><requiredInput href="#i2"/></informationRequirement>
  <knowledgeRequirement><requiredKnowledge href="#b1"/></knowledgeRequirement>
  <context>
    <contextEntry><variable name="rate"/><invocation><literalExpression><text>Rate</text></literalExpression>
      <binding><parameter name="age"/><literalExpression><text>Person.age</text></literalExpression></binding></invocation></contextEntry>
    <contextEntry><variable name="tagged"/><literalExpression><text>count(Person.tags[item = "vip"]) > 0</text></literalExpression></contextEntry>
    <contextEntry><literalExpression><text>if tagged then Amount * rate * 0.9 else Amount * rate</text></literalExpression></contextEntry>
  </context>
</decision>
<decision id="d2" name="Summary">
  <informationRequirement><requiredDecision href="#d1"/></informationRequirement>
  <decisionTable hitPolicy="COLLECT" aggregation="SUM">
    <input><inputExpression typeRef="number"><text>Price</text></inputExpression></input>
    <output name="o"/>
    <rule><inputEntry><text>&gt; 10</text></inputEntry><outputEntry><text>Price</text></outputEntry></rule>
    <rule><inputEntry><text>-</text></inputEntry><outputEntry><text>1</text></outputEntry></rule>
  </decisionTable>
</decision>
<decision id="d3" name="Loop"><for iteratorVariable="n">
  <in><literalExpression><text>[1..Amount]</text></literalExpression></in>
  <return><literalExpression><text>n * n</text></literalExpression></return></for></decision>
<decisionService id="s1" name="Service"><outputDecision href="#d2"/><inputData href="#i1"/><inputData href="#i2"/></decisionService>
)"));
  return *seed;
}

std::string Mutate(const std::string& in, Rng& rng) {
  std::string s = in;
  static const char* const kSnippets[] = {
      "<",   ">",          "&",       "&amp;", "\"",           "]]>", "<!--",
      "-->", "<decision>", "</text>", "#",     "href=\"#d2\"", "(",   "[",
      "..",  "\xC3",       "\xFF",    "\n",    "100000000",    "null"};
  const int edits = 1 + static_cast<int>(rng.Below(4));
  for (int e = 0; e < edits && !s.empty(); ++e) {
    const size_t pos = rng.Below(s.size());
    switch (rng.Below(5)) {
      case 0:
        s[pos] = static_cast<char>(rng.Below(256));
        break;
      case 1:
        s.erase(pos, 1 + rng.Below(16));
        break;
      case 2:
        s.insert(pos, kSnippets[rng.Below(std::size(kSnippets))]);
        break;
      case 3: {
        const size_t from = rng.Below(s.size());
        const size_t len = std::min<size_t>(1 + rng.Below(200), s.size() - from);
        s.insert(pos, s.substr(from, len));
        break;
      }
      default:
        s.resize(pos);
        break;
    }
  }
  return s;
}

// Replaces the FEEL text of one <text> element with a random token soup (XML-escaped), so the
// model stays well-formed and the damage reaches the compiler and the evaluator.
std::string MutateFeel(const std::string& in, Rng& rng) {
  std::vector<size_t> starts;
  for (size_t p = in.find("<text>"); p != std::string::npos; p = in.find("<text>", p + 1)) {
    starts.push_back(p + 6);
  }
  const size_t start = starts[rng.Below(starts.size())];
  const size_t end = in.find("</text>", start);
  static const char* const kTokens[] = {"Amount", "Person", ".age",        "rate",
                                        "Rate(",  ")",      "(",           "[",
                                        "]",      "{",      "}",           ":",
                                        ",",      "1",      "0",           "-1",
                                        "1e400",  "\"x\"",  "+",           "*",
                                        "/",      "**",     "&lt;",        "&gt;",
                                        "=",      "..",     "for",         "i",
                                        "in",     "return", "if",          "then",
                                        "else",   "some",   "every",       "satisfies",
                                        "null",   "?",      "item",        "function(a)",
                                        "a",      "count(", "sum(",        "date(\"2024-01-01\")",
                                        "not(",   "-",      "instance of", "number",
                                        "list<",  "&gt;"};
  std::string feel;
  const size_t n = 1 + rng.Below(12);
  for (size_t i = 0; i < n; ++i) {
    feel += kTokens[rng.Below(std::size(kTokens))];
    feel += ' ';
  }
  return in.substr(0, start) + feel + in.substr(end);
}

TEST(DmnFuzz, MutatedResourcesFailCleanly) {
  ASSERT_TRUE(ParseDmn(Seed(), "seed.dmn").ok());
  Rng rng(20260701);
  int parsed = 0;
  feel::EvalOptions options;
  options.max_steps = 20'000;
  options.max_collection_size = 10'000;
  for (int i = 0; i < 1500; ++i) {
    const std::string xml = i % 2 == 0 ? Mutate(Seed(), rng) : MutateFeel(Seed(), rng);
    ParseOptions parse_options;
    parse_options.defer_expression_errors = i % 4 == 1;
    absl::StatusOr<std::shared_ptr<const Drg>> drg = ParseDmn(xml, "fuzz.dmn", parse_options);
    if (!drg.ok()) {
      EXPECT_EQ(drg.status().code(), absl::StatusCode::kInvalidArgument) << drg.status();
      continue;
    }
    ++parsed;
    feel::MapVariableResolver vars(
        {{"Person",
          feel::Value::Context({{"age", feel::Value::Number(30)},
                                {"tags", feel::Value::List({feel::Value::String("vip")})}})},
         {"Amount", feel::Value::Number(static_cast<int64_t>(rng.Below(200)))}});
    for (const DecisionInfo& d : (*drg)->decisions()) {
      EvaluationResult r = Evaluate(**drg, d.id, vars, options);
      if (r.failed()) {
        EXPECT_FALSE(r.failure_message.empty());
      }
    }
    for (const InvocableInfo& inv : (*drg)->invocables()) {
      if (inv.kind == InvocableInfo::Kind::kDecisionService) {
        EvaluateDecisionService(**drg, inv.id, vars, options);
      }
    }
  }
  // Some mutations leave a valid model (edits inside text, comments): those were evaluated.
  EXPECT_GT(parsed, 0);
}

TEST(DmnFuzz, DeeplyNestedBoxedExpressions) {
  // Boxed contexts nested as deep as the XML limit allows: parsed and evaluated without
  // exhausting the stack (each level is one frame of the builder and of the evaluator).
  std::string body = "<decision id=\"d\" name=\"D\">";
  const int depth = 120;  // two XML levels per context (context, contextEntry)
  for (int i = 0; i < depth; ++i) body += "<context><contextEntry>";
  body += "<literalExpression><text>1</text></literalExpression>";
  for (int i = 0; i < depth; ++i) body += "</contextEntry></context>";
  body += "</decision>";
  auto drg = testing::MustParse(Definitions(body));
  ASSERT_NE(drg, nullptr);
  EXPECT_EQ(testing::Eval(*drg, "d").output, feel::Value::Number(1));
}

}  // namespace
}  // namespace tern::dmn
