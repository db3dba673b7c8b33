// Bad-input rows B1-B6 of the reliability plan (§5.7) and the other XML-level defences: each
// input must be rejected with INVALID_ARGUMENT naming the problem and its line, quickly and
// without crashing. (No timing assertions: ctest's timeout catches a hang.)

#include <string>

#include "bpmn/xml_reader.h"
#include "test_util.h"

namespace tern::bpmn {
namespace {

using ::testing::HasSubstr;
using testing::Model;
using testing::ParseError;
using testing::ParseOk;

// B1: external entity (XXE) via DOCTYPE.
TEST(XmlSafetyTest, B1DoctypeWithExternalEntityIsRejected) {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE foo [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="p" name="&xxe;" isExecutable="true"><bpmn:startEvent id="s"/></bpmn:process>
</bpmn:definitions>)";
  const std::string message = ParseError(xml);
  EXPECT_THAT(message, HasSubstr("DOCTYPE is not allowed"));
  EXPECT_THAT(message, HasSubstr("Line 2"));
  EXPECT_THAT(message, ::testing::Not(HasSubstr("root:")));  // nothing was read
}

TEST(XmlSafetyTest, DoctypeWithoutEntitiesIsRejectedToo) {
  const std::string xml = "<!doctype html>\n" + Model(R"(<bpmn:startEvent id="s"/>)");
  EXPECT_THAT(ParseError(xml), HasSubstr("DOCTYPE is not allowed"));
}

// B2: billion laughs, ten nested entity levels.
TEST(XmlSafetyTest, B2BillionLaughsIsRejected) {
  std::string xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n<!ENTITY lol \"lol\">\n";
  for (int level = 1; level <= 9; ++level) {
    xml += "<!ENTITY lol" + std::to_string(level) + " \"";
    for (int k = 0; k < 10; ++k) {
      xml += "&lol" + (level == 1 ? std::string() : std::to_string(level - 1)) + ";";
    }
    xml += "\">\n";
  }
  xml +=
      "]>\n<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">"
      "<bpmn:process id=\"p\" name=\"&lol9;\"/></bpmn:definitions>";
  EXPECT_THAT(ParseError(xml), HasSubstr("DOCTYPE is not allowed"));
}

// Entity declarations are refused wherever they appear, not only after "<!DOCTYPE".
TEST(XmlSafetyTest, MarkupDeclarationsAreRejected) {
  const std::string xml = Model("<!ENTITY x \"y\">\n<bpmn:startEvent id=\"s\"/>");
  EXPECT_THAT(ParseError(xml), HasSubstr("markup declarations"));
}

// B3: 1,000,000-deep nesting. Unclosed, so the input stays under the 4 MiB limit and the depth
// check is what rejects it.
TEST(XmlSafetyTest, B3MillionDeepNestingIsRejected) {
  std::string xml =
      "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\">\n";
  xml.reserve(3'100'000);
  for (int i = 0; i < 1'000'000; ++i) xml += "<a>";
  const std::string message = ParseError(xml);
  EXPECT_THAT(message, HasSubstr("nested deeper than 256 levels"));
  EXPECT_THAT(message, HasSubstr("Line 2"));
}

TEST(XmlSafetyTest, B3MillionDeepWellFormedNestingIsRejectedBySize) {
  std::string xml;
  xml.reserve(7'100'000);
  for (int i = 0; i < 1'000'000; ++i) xml += "<a>";
  for (int i = 0; i < 1'000'000; ++i) xml += "</a>";
  EXPECT_THAT(ParseError(xml), HasSubstr("at most 4194304 bytes"));
}

TEST(XmlSafetyTest, DepthLimitIsExact) {
  // definitions + process + 254 more levels = 256: accepted as XML (the extra elements are not
  // BPMN). One more level is rejected.
  auto nested = [](int levels) {
    std::string inner;
    for (int i = 0; i < levels; ++i) inner += "<x:a xmlns:x=\"urn:x\">";
    for (int i = 0; i < levels; ++i) inner += "</x:a>";
    return Model("<bpmn:startEvent id=\"s\"/>" + inner);
  };
  ParseOk(nested(254));
  EXPECT_THAT(ParseError(nested(255)), HasSubstr("nested deeper than 256 levels"));
}

TEST(XmlSafetyTest, OversizedResourceIsRejected) {
  std::string xml = Model("<bpmn:startEvent id=\"s\"/>");
  xml.insert(xml.size() - 30, std::string(kMaxResourceBytes, ' '));
  EXPECT_THAT(ParseError(xml), HasSubstr("bytes are allowed"));
}

TEST(XmlSafetyTest, TooManyElementsAreRejected) {
  std::string body;
  for (size_t i = 0; i <= kMaxXmlElements; ++i) body += "<a/>";
  EXPECT_THAT(ParseError(Model(body)), HasSubstr("XML elements"));
}

// B5: invalid UTF-8.
TEST(XmlSafetyTest, B5InvalidUtf8IsRejectedWithItsOffset) {
  std::string xml = Model("<bpmn:startEvent id=\"s\" name=\"caf\xC3\"/>");
  const std::string message = ParseError(xml);
  EXPECT_THAT(message, HasSubstr("invalid UTF-8"));
  EXPECT_THAT(message, HasSubstr("byte offset " + std::to_string(xml.find('\xC3'))));
  EXPECT_THAT(message, HasSubstr("Line 4"));
}

TEST(XmlSafetyTest, OverlongAndSurrogateEncodingsAreRejected) {
  for (std::string bad :
       {std::string("\xC0\xAF"), std::string("\xE0\x80\xAF"), std::string("\xED\xA0\x80"),
        std::string("\xF4\x90\x80\x80"), std::string("\xFF"), std::string("\xEF\xBF\xBE")}) {
    const std::string xml = Model("<bpmn:startEvent id=\"s\" name=\"" + bad + "\"/>");
    EXPECT_THAT(ParseError(xml), ::testing::AnyOf(HasSubstr("UTF-8"), HasSubstr("not allowed")))
        << "input bytes: " << bad.size();
  }
}

TEST(XmlSafetyTest, ControlCharactersAreRejected) {
  EXPECT_THAT(ParseError(Model(std::string("<bpmn:startEvent id=\"s\x01\"/>"))),
              HasSubstr("control character 0x01"));
  EXPECT_THAT(ParseError(Model(std::string("<bpmn:startEvent id=\"s\"/>\0", 26))),
              HasSubstr("control character 0x00"));
}

TEST(XmlSafetyTest, Utf16IsRejected) {
  const std::string xml("\xFF\xFE<\0b\0", 6);
  EXPECT_THAT(ParseError(xml), HasSubstr("UTF-8"));
}

// B5: duplicate attribute.
TEST(XmlSafetyTest, B5DuplicateAttributeIsRejected) {
  const std::string xml = Model(R"(<bpmn:startEvent id="s" name="a" name="b"/>)");
  const std::string message = ParseError(xml);
  EXPECT_THAT(message, HasSubstr("duplicate attribute 'name'"));
  EXPECT_THAT(message, HasSubstr("Line 4"));
}

// B5: duplicate element id, naming both lines.
TEST(XmlSafetyTest, B5DuplicateElementIdIsRejectedNamingBothLines) {
  const std::string xml = Model(R"(<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t"/>
<bpmn:task id="t"/>
<bpmn:endEvent id="t"/>)");
  const std::string message = ParseError(xml);
  EXPECT_THAT(message, HasSubstr("Element 't' (END_EVENT, line 7): the id is not unique: the "
                                 "element at line 6 (TASK) has it too"));
}

TEST(XmlSafetyTest, DuplicateIdsAcrossDiagramAndGlobalsAreRejected) {
  const std::string xml = Model(R"(<bpmn:startEvent id="s"/>)",
                                R"(<bpmn:message id="s" name="m"/>
<bpmndi:BPMNDiagram xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" id="s"/>)");
  const std::string message = ParseError(xml);
  EXPECT_THAT(message, HasSubstr("Element 's' (bpmn:message, line 6)"));
  EXPECT_THAT(message, HasSubstr("Element 's' (bpmndi:BPMNDiagram, line 7)"));
}

// B6: an entity reference pugixml would leave in the text.
TEST(XmlSafetyTest, B6UnresolvedEntityInAttributeIsRejected) {
  const std::string xml = Model(R"(<bpmn:startEvent id="s" name="&foo;"/>)");
  const std::string message = ParseError(xml);
  EXPECT_THAT(message, HasSubstr("unresolved entity reference '&foo;'"));
  EXPECT_THAT(message, HasSubstr("Line 4"));
}

TEST(XmlSafetyTest, UnresolvedEntityInTextIsRejected) {
  const std::string xml = Model(
      R"(<bpmn:startEvent id="s"><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:startEvent>)");
  EXPECT_THAT(ParseError(xml), HasSubstr("unresolved entity reference '&xxe;'"));
}

TEST(XmlSafetyTest, BareAmpersandAndBadCharacterReferencesAreRejected) {
  EXPECT_THAT(ParseError(Model(R"(<bpmn:startEvent id="s" name="a & b"/>)")),
              HasSubstr("must be escaped"));
  EXPECT_THAT(ParseError(Model(R"(<bpmn:startEvent id="s" name="&#0;"/>)")),
              HasSubstr("invalid character reference"));
  EXPECT_THAT(ParseError(Model(R"(<bpmn:startEvent id="s" name="&#xD800;"/>)")),
              HasSubstr("invalid character reference"));
  EXPECT_THAT(ParseError(Model(R"(<bpmn:startEvent id="s" name="&#99999999999;"/>)")),
              HasSubstr("invalid character reference"));
}

TEST(XmlSafetyTest, ReferencesInCommentsAndCdataAreLeftAlone) {
  const std::string xml = Model(R"(<!-- &nbsp; is fine in a comment -->
<bpmn:startEvent id="s"><bpmn:documentation><![CDATA[&copy; <b>raw</b>]]></bpmn:documentation></bpmn:startEvent>)");
  ParseOk(xml);
}

TEST(XmlSafetyTest, MalformedXmlIsRejectedWithItsLine) {
  const std::string message = ParseError(Model("<bpmn:startEvent id=\"s\">\n</bpmn:endEvent>"));
  EXPECT_THAT(message, HasSubstr("not well-formed XML"));
  EXPECT_THAT(message, HasSubstr("Line 5"));
}

TEST(XmlSafetyTest, UndeclaredPrefixIsRejected) {
  EXPECT_THAT(ParseError(Model("<foo:bar/>")), HasSubstr("namespace prefix 'foo' is not declared"));
}

TEST(XmlSafetyTest, RootMustBeBpmnDefinitions) {
  EXPECT_THAT(ParseError("<definitions id=\"d\"/>"), HasSubstr("root element must be BPMN"));
  EXPECT_THAT(ParseError(""), HasSubstr("not well-formed"));
  EXPECT_THAT(ParseError("<?xml version=\"1.0\"?>"), HasSubstr("not well-formed"));
}

TEST(XmlSafetyTest, MessagesNameTheResource) {
  auto result = ParseBpmn("<x/>", "orders/order-v2.bpmn");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(std::string(result.status().message()),
              HasSubstr("'orders/order-v2.bpmn' is not a valid BPMN resource:\n- "));
}

}  // namespace
}  // namespace tern::bpmn
