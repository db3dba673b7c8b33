#include <string>

#include "dmn/dmn.h"
#include "dmn_test_util.h"
#include "gtest/gtest.h"

namespace tern::dmn {
namespace {

using testing::Definitions;
using testing::LiteralDecision;
using testing::MustParse;

TEST(ParseDmn, ExposesDrgAndDecisions) {
  auto drg = MustParse(Definitions(
      StrCat(LiteralDecision("d1", "First", "1"),
             "<decision id=\"d2\" name=\"Second\"><decisionTable><input><inputExpression>"
             "<text>x</text></inputExpression></input><output name=\"o\"/></decisionTable>"
             "</decision>",
             "<decision id=\"d3\" name=\"Third\"><context/></decision>",
             "<businessKnowledgeModel id=\"b1\" name=\"Helper\"/>"),
      testing::kDmn15, "my-drg", "My DRG"));
  ASSERT_NE(drg, nullptr);
  EXPECT_EQ(drg->id(), "my-drg");
  EXPECT_EQ(drg->name(), "My DRG");
  EXPECT_EQ(drg->namespace_uri(), "http://tern.test/dmn");
  EXPECT_EQ(drg->resource_name(), "test.dmn");
  ASSERT_EQ(drg->decisions().size(), 3u);
  EXPECT_EQ(drg->decisions()[0].id, "d1");
  EXPECT_EQ(drg->decisions()[0].name, "First");
  EXPECT_EQ(drg->decisions()[0].type, DecisionType::kLiteralExpression);
  EXPECT_EQ(drg->decisions()[1].type, DecisionType::kDecisionTable);
  EXPECT_EQ(drg->decisions()[2].type, DecisionType::kContext);
  EXPECT_EQ(DecisionTypeName(drg->decisions()[1].type), "DECISION_TABLE");
  EXPECT_EQ(drg->FindDecision("d2")->name, "Second");
  EXPECT_EQ(drg->FindDecisionByName("Third")->id, "d3");
  EXPECT_EQ(drg->FindDecision("nope"), nullptr);
  ASSERT_EQ(drg->invocables().size(), 1u);
  EXPECT_EQ(drg->invocables()[0].kind, InvocableInfo::Kind::kBusinessKnowledgeModel);
}

TEST(ParseDmn, AcceptsEveryDmnVersionNamespace) {
  for (std::string_view ns : {"http://www.omg.org/spec/DMN/20151101/dmn.xsd",
                              "http://www.omg.org/spec/DMN/20180521/MODEL/",
                              "https://www.omg.org/spec/DMN/20191111/MODEL/",
                              "https://www.omg.org/spec/DMN/20211108/MODEL/",
                              "https://www.omg.org/spec/DMN/20230324/MODEL/"}) {
    auto drg = ParseDmn(Definitions(LiteralDecision("d", "D", "1 + 1"), ns), "v.dmn");
    ASSERT_TRUE(drg.ok()) << ns << ": " << drg.status();
    EXPECT_EQ(Evaluate(**drg, "d", feel::MapVariableResolver(), {}).output, feel::Value::Number(2))
        << ns;
  }
}

TEST(ParseDmn, PrefixedElementsAndDmn11QNameTypes) {
  const std::string xml = R"(<?xml version="1.0"?>
<dmn:definitions xmlns:dmn="http://www.omg.org/spec/DMN/20151101/dmn.xsd"
    xmlns:feel="http://www.omg.org/spec/FEEL/20140401" xmlns:tns="urn:t"
    id="d11" name="D11" namespace="urn:t">
  <dmn:itemDefinition name="tAge"><dmn:typeRef>feel:number</dmn:typeRef></dmn:itemDefinition>
  <dmn:decision id="d" name="D">
    <dmn:variable name="D" typeRef="tns:tAge"/>
    <dmn:literalExpression><dmn:text>"not a number"</dmn:text></dmn:literalExpression>
  </dmn:decision>
</dmn:definitions>)";
  auto drg = MustParse(xml);
  ASSERT_NE(drg, nullptr);
  // tns:tAge resolves to the item definition, a number: the string does not conform.
  EvaluationResult r = testing::Eval(*drg, "d");
  EXPECT_FALSE(r.failed());
  EXPECT_TRUE(r.output.is_null());
}

TEST(ParseDmn, ReportsEveryProblemWithElementIdKindAndLine) {
  const std::string xml = Definitions(
      StrCat(LiteralDecision("bad1", "Bad 1", "1 +"), "\n",
             "<decision id=\"bad2\" name=\"Bad 2\"><decisionTable hitPolicy=\"SOMETIMES\">"
             "<input><inputExpression><text>x</text></inputExpression></input>"
             "<output name=\"o\"/><rule><inputEntry><text>&gt;</text></inputEntry>"
             "<outputEntry><text>1</text></outputEntry></rule></decisionTable></decision>"));
  auto drg = ParseDmn(xml, "orders.dmn");
  ASSERT_FALSE(drg.ok());
  EXPECT_EQ(drg.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string message(drg.status().message());
  EXPECT_NE(message.find("'orders.dmn' is not a valid DMN resource:"), std::string::npos)
      << message;
  EXPECT_NE(message.find("Element 'bad1' (DECISION, line 3): FEEL syntax error"), std::string::npos)
      << message;
  EXPECT_NE(message.find("Element 'bad2' (DECISION, line 4): unknown hit policy 'SOMETIMES'"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("in '>'"), std::string::npos) << message;
}

TEST(ParseDmn, StructuralProblems) {
  struct Case {
    std::string body;
    std::string problem;
  };
  const Case cases[] = {
      {LiteralDecision("d", "D", "1") + LiteralDecision("d", "E", "2"), "duplicate id 'd'"},
      {"<decision id=\"d\" name=\"D\"><informationRequirement><requiredDecision "
       "href=\"#missing\"/></informationRequirement></decision>",
       "reference '#missing' names no element"},
      {"<decision id=\"d\" name=\"D\"><decisionTable hitPolicy=\"UNIQUE\"><input>"
       "<inputExpression><text>x</text></inputExpression></input><output name=\"o\"/>"
       "<rule><outputEntry><text>1</text></outputEntry></rule></decisionTable></decision>",
       "has 0 input entries and 1 output entries; the table has 1 inputs and 1 outputs"},
      {"<decision id=\"d\" name=\"D\"><decisionTable hitPolicy=\"PRIORITY\"><input>"
       "<inputExpression><text>x</text></inputExpression></input><output name=\"o\"/>"
       "</decisionTable></decision>",
       "PRIORITY and OUTPUT ORDER hit policies need output values"},
      {"<decision id=\"d\" name=\"D\"><decisionTable><input><inputExpression><text>x</text>"
       "</inputExpression></input><output name=\"a\"/><output/></decisionTable></decision>",
       "every output of a decision table with several outputs needs a name"},
      {"<decision id=\"a\" name=\"A\"><informationRequirement><requiredDecision href=\"#b\"/>"
       "</informationRequirement><literalExpression><text>B</text></literalExpression>"
       "</decision><decision id=\"b\" name=\"B\"><informationRequirement><requiredDecision "
       "href=\"#a\"/></informationRequirement><literalExpression><text>A</text>"
       "</literalExpression></decision>",
       "required decisions form a cycle"},
      {"<decision id=\"d\" name=\"D\"><literalExpression expressionLanguage=\"juel\">"
       "<text>${x}</text></literalExpression></decision>",
       "expression language 'juel' is not supported"},
      {"<import namespace=\"urn:other\" name=\"other\" "
       "importType=\"https://www.omg.org/spec/DMN/20230324/MODEL/\"/>",
       "imported DMN model with namespace 'urn:other' is not available"},
  };
  for (const Case& c : cases) {
    auto drg = ParseDmn(Definitions(c.body), "p.dmn");
    ASSERT_FALSE(drg.ok()) << c.problem;
    EXPECT_NE(std::string(drg.status().message()).find(c.problem), std::string::npos)
        << drg.status().message();
  }
}

TEST(ParseDmn, RejectsUnsafeOrMalformedXml) {
  struct Case {
    std::string xml;
    std::string problem;
  };
  const std::string nested_open(300, 'x');
  std::string deep = "<definitions xmlns=\"https://www.omg.org/spec/DMN/20230324/MODEL/\">";
  for (int i = 0; i < 300; ++i) deep += "<a>";
  for (int i = 0; i < 300; ++i) deep += "</a>";
  deep += "</definitions>";
  const Case cases[] = {
      {"<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY x \"y\">]><definitions/>",
       "DOCTYPE is not allowed"},
      {Definitions(LiteralDecision("d", "D", "\"&xxe;\"")), "unresolved entity reference '&xxe;'"},
      {Definitions(LiteralDecision("d", "D", "\"\xC3\x28\"")), "invalid UTF-8"},
      {Definitions(LiteralDecision("d", "D", "\"\x01\"")), "control character 0x01"},
      {deep, "nested deeper than 256 levels"},
      {"<definitions xmlns=\"https://www.omg.org/spec/DMN/20230324/MODEL/\"><decision>",
       "malformed XML"},
      {"<process xmlns=\"http://www.omg.org/spec/BPMN/20100524/MODEL\"/>",
       "the root element must be a DMN 'definitions' element"},
      {"<definitions xmlns=\"https://www.omg.org/spec/DMN/20230324/MODEL/\"><x:y/></definitions>",
       "undeclared namespace prefix 'x'"},
      {"<definitions xmlns=\"https://www.omg.org/spec/DMN/20230324/MODEL/\" a=\"1\" a=\"2\"/>",
       "duplicate attribute"},
  };
  for (const Case& c : cases) {
    auto drg = ParseDmn(c.xml, "x.dmn");
    ASSERT_FALSE(drg.ok()) << c.problem;
    EXPECT_EQ(drg.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(std::string(drg.status().message()).find(c.problem), std::string::npos)
        << drg.status().message();
  }
  std::string big = Definitions(StrCat("<!--", std::string(5 << 20, 'x'), "-->"));
  auto too_big = ParseDmn(big, "big.dmn");
  ASSERT_FALSE(too_big.ok());
  EXPECT_NE(std::string(too_big.status().message()).find("larger than 4194304 bytes"),
            std::string::npos);
}

TEST(ParseDmn, DeferredExpressionErrorsFailOnlyTheirDecision) {
  const std::string xml = Definitions(
      StrCat(LiteralDecision("good", "Good", "1 + 1"), LiteralDecision("bad", "Bad", "1 +")));
  EXPECT_FALSE(ParseDmn(xml, "x.dmn").ok());
  ParseOptions options;
  options.defer_expression_errors = true;
  auto drg = ParseDmn(xml, "x.dmn", options);
  ASSERT_TRUE(drg.ok()) << drg.status();
  EXPECT_EQ(testing::Eval(**drg, "good").output, feel::Value::Number(2));
  EvaluationResult bad = testing::Eval(**drg, "bad");
  EXPECT_TRUE(bad.failed());
  EXPECT_EQ(bad.failed_decision_id, "bad");
  EXPECT_NE(bad.failure_message.find("FEEL syntax error"), std::string::npos)
      << bad.failure_message;
}

TEST(ReadDmnHeader, NamespaceAndImports) {
  auto header =
      ReadDmnHeader(Definitions("<import namespace=\"urn:a\" name=\"a\" "
                                "importType=\"https://www.omg.org/spec/DMN/20230324/MODEL/\"/>"
                                "<import namespace=\"urn:xsd\" name=\"x\" "
                                "importType=\"http://www.w3.org/2001/XMLSchema\"/>"),
                    "h.dmn");
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->id, "drg");
  EXPECT_EQ(header->namespace_uri, "http://tern.test/dmn");
  EXPECT_EQ(header->imported_namespaces, std::vector<std::string>{"urn:a"});
}

}  // namespace
}  // namespace tern::dmn
