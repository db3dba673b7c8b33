// The table of what Tern executes today, and the deploy-time rejection of everything else.

#include "bpmn/support.h"

#include <string>

#include "test_util.h"

namespace tern::bpmn {
namespace {

using ::testing::HasSubstr;
using testing::Model;
using ::testing::Not;
using testing::ParseError;
using testing::ParseOk;
using testing::ReadTestFile;
using testing::StartTo;

TEST(SupportTest, TernExecutesTheBasicElements) {
  for (ElementType type :
       {ElementType::kProcess, ElementType::kServiceTask, ElementType::kManualTask,
        ElementType::kTask, ElementType::kExclusiveGateway, ElementType::kParallelGateway,
        ElementType::kSequenceFlow}) {
    EXPECT_EQ(ElementSupport(type, EventType::kNone), Support::kExecutable)
        << ElementTypeName(type);
  }
  EXPECT_EQ(ElementSupport(ElementType::kStartEvent, EventType::kNone), Support::kExecutable);
  EXPECT_EQ(ElementSupport(ElementType::kEndEvent, EventType::kNone), Support::kExecutable);
  EXPECT_EQ(FeatureSupport(Feature::kInputMappings), Support::kExecutable);
  EXPECT_EQ(FeatureSupport(Feature::kOutputMappings), Support::kExecutable);
  EXPECT_EQ(FeatureSupport(Feature::kTaskHeaders), Support::kExecutable);
}

TEST(SupportTest, WhatZeebeRunsButTernDoesNotYet) {
  for (ElementType type :
       {ElementType::kSubProcess, ElementType::kEventSubProcess, ElementType::kCallActivity,
        ElementType::kSendTask, ElementType::kReceiveTask, ElementType::kUserTask,
        ElementType::kScriptTask, ElementType::kBusinessRuleTask, ElementType::kInclusiveGateway,
        ElementType::kEventBasedGateway}) {
    EXPECT_EQ(ElementSupport(type, EventType::kNone), Support::kNotYetInTern)
        << ElementTypeName(type);
  }
  EXPECT_EQ(ElementSupport(ElementType::kIntermediateCatchEvent, EventType::kTimer),
            Support::kNotYetInTern);
  EXPECT_EQ(ElementSupport(ElementType::kStartEvent, EventType::kMessage), Support::kNotYetInTern);
  EXPECT_EQ(ElementSupport(ElementType::kEndEvent, EventType::kTerminate), Support::kNotYetInTern);
  EXPECT_EQ(ElementSupport(ElementType::kIntermediateThrowEvent, EventType::kNone),
            Support::kNotYetInTern);
  EXPECT_EQ(ElementSupport(ElementType::kBoundaryEvent, EventType::kError), Support::kNotYetInTern);
  EXPECT_EQ(FeatureSupport(Feature::kMultiInstanceParallel), Support::kNotYetInTern);
  EXPECT_EQ(FeatureSupport(Feature::kExecutionListeners), Support::kNotYetInTern);
}

TEST(SupportTest, WhatZeebeDoesNotRunEither) {
  EXPECT_EQ(ElementSupport(ElementType::kComplexGateway, EventType::kNone), Support::kNotInZeebe);
  EXPECT_EQ(ElementSupport(ElementType::kTransaction, EventType::kNone), Support::kNotInZeebe);
  EXPECT_EQ(ElementSupport(ElementType::kAdHocSubProcess, EventType::kNone), Support::kNotInZeebe);
  EXPECT_EQ(ElementSupport(ElementType::kEndEvent, EventType::kCancel), Support::kNotInZeebe);
  EXPECT_EQ(ElementSupport(ElementType::kBoundaryEvent, EventType::kCancel), Support::kNotInZeebe);
  EXPECT_EQ(ElementSupport(ElementType::kStartEvent, EventType::kMultiple), Support::kNotInZeebe);
  EXPECT_EQ(ElementSupport(ElementType::kIntermediateCatchEvent, EventType::kNone),
            Support::kNotInZeebe);
  EXPECT_EQ(ElementSupport(ElementType::kIntermediateThrowEvent, EventType::kTimer),
            Support::kNotInZeebe);
  EXPECT_EQ(ElementSupport(ElementType::kServiceTask, EventType::kMessage), Support::kNotInZeebe);
  EXPECT_EQ(FeatureSupport(Feature::kStandardLoop), Support::kNotInZeebe);
}

TEST(SupportTest, FeatureNamesAreDistinct) {
  for (int i = 0; i < static_cast<int>(Feature::kCount); ++i) {
    for (int j = i + 1; j < static_cast<int>(Feature::kCount); ++j) {
      EXPECT_NE(FeatureName(static_cast<Feature>(i)), FeatureName(static_cast<Feature>(j)));
    }
  }
}

TEST(SupportTest, UnsupportedTimerIsRejectedByNameKindAndLine) {
  const std::string xml = Model(StartTo("timer1") + R"(<bpmn:intermediateCatchEvent id="timer1">
<bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition>
</bpmn:intermediateCatchEvent>)");
  EXPECT_EQ(ParseError(xml),
            "'test.bpmn' is not a valid BPMN resource:\n"
            "- Element 'timer1' (INTERMEDIATE_CATCH_EVENT with TIMER event definition, line 6): "
            "is not supported by Tern yet");
}

TEST(SupportTest, ElementsZeebeCannotRunGetADistinctMessage) {
  const std::string xml = Model(StartTo("cg") + R"(<bpmn:complexGateway id="cg"/>
<bpmn:endEvent id="cancel"><bpmn:cancelEventDefinition/></bpmn:endEvent>
<bpmn:transaction id="tx"/>
<bpmn:choreographyTask id="ct"/>)");
  const std::string message = ParseError(xml);
  EXPECT_THAT(message, HasSubstr("- Element 'cg' (COMPLEX_GATEWAY, line 6): is not supported "
                                 "(Zeebe does not execute it either)"));
  EXPECT_THAT(message, HasSubstr("- Element 'cancel' (END_EVENT with CANCEL event definition, "
                                 "line 7): is not supported (Zeebe does not execute it either)"));
  EXPECT_THAT(message, HasSubstr("- Element 'tx' (TRANSACTION, line 8): is not supported (Zeebe"));
  EXPECT_THAT(message, HasSubstr("- Element 'ct' (bpmn:choreographyTask, line 9): is not "
                                 "supported (Zeebe"));
}

TEST(SupportTest, MultipleEventDefinitionsAreNotSupportedByZeebe) {
  const std::string xml = Model(R"(<bpmn:startEvent id="s">
<bpmn:messageEventDefinition messageRef="m"/><bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1H</bpmn:timeCycle></bpmn:timerEventDefinition>
</bpmn:startEvent>)",
                                R"(<bpmn:message id="m" name="x"/>)");
  EXPECT_THAT(ParseError(xml), HasSubstr("Element 's' (START_EVENT with multiple event "
                                         "definitions, line 4): is not supported (Zeebe does not "
                                         "execute it either)"));
}

TEST(SupportTest, StandardLoopIsRejected) {
  const std::string xml = Model(StartTo("t") + R"(<bpmn:task id="t">
<bpmn:standardLoopCharacteristics/></bpmn:task>)");
  EXPECT_THAT(ParseError(xml),
              HasSubstr("Element 't' (TASK, line 6): a standard loop "
                        "(bpmn:standardLoopCharacteristics) is not supported (Zeebe does not "
                        "execute it either)"));
}

TEST(SupportTest, FeaturesOfSupportedElementsAreCheckedToo) {
  const std::string xml = Model(StartTo("t") + R"(<bpmn:serviceTask id="t">
<bpmn:extensionElements>
  <zeebe:taskDefinition type="w"/>
  <zeebe:executionListeners><zeebe:executionListener eventType="start" type="l"/></zeebe:executionListeners>
</bpmn:extensionElements>
<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>
  <zeebe:loopCharacteristics inputCollection="=items"/></bpmn:extensionElements>
</bpmn:multiInstanceLoopCharacteristics>
</bpmn:serviceTask>)");
  const std::string message = ParseError(xml);
  EXPECT_THAT(message, HasSubstr("Element 't' (SERVICE_TASK, line 6): multi-instance (parallel) "
                                 "is not supported by Tern yet"));
  EXPECT_THAT(message, HasSubstr("Element 't' (SERVICE_TASK, line 6): execution listeners "
                                 "(zeebe:executionListeners) is not supported by Tern yet"));
}

TEST(SupportTest, UnsupportedKindIsReportedOnceNotPerFeature) {
  const std::string xml = Model(StartTo("s") + R"(<bpmn:scriptTask id="s">
<bpmn:extensionElements><zeebe:script expression="=1" resultVariable="r"/></bpmn:extensionElements>
</bpmn:scriptTask>)");
  const std::string message = ParseError(xml);
  EXPECT_THAT(message,
              HasSubstr("Element 's' (SCRIPT_TASK, line 6): is not supported by Tern yet"));
  EXPECT_THAT(message, Not(HasSubstr("FEEL script")));
}

TEST(SupportTest, AllElementsModelIsRejectedElementByElement) {
  const std::string message = ParseError(ReadTestFile("all_elements.bpmn"));
  for (const char* kind :
       {"'msg_start' (START_EVENT with MESSAGE event definition",
        "'timer_start' (START_EVENT with TIMER event definition",
        "'notify_each' (SERVICE_TASK, line 22): multi-instance (sequential)",
        "'charge_timeout' (BOUNDARY_EVENT with TIMER event definition",
        "'refund' (SERVICE_TASK, line 50): a compensation handler", "'shipping' (SUB_PROCESS",
        "'await_payment' (RECEIVE_TASK", "'wait_for' (EVENT_BASED_GATEWAY", "'approve' (USER_TASK",
        "'compute_total' (SCRIPT_TASK", "'decide_discount' (BUSINESS_RULE_TASK",
        "'call_invoice' (CALL_ACTIVITY", "'send_mail' (SEND_TASK", "'fork' (INCLUSIVE_GATEWAY",
        "'stop' (END_EVENT with TERMINATE event definition",
        "'cancel_handler' (EVENT_SUB_PROCESS"}) {
    EXPECT_THAT(message, HasSubstr(kind));
  }
  // Supported elements are not mentioned.
  EXPECT_THAT(message, Not(HasSubstr("'start' (")));
  EXPECT_THAT(message, Not(HasSubstr("'pack' (")));
  EXPECT_THAT(message, Not(HasSubstr("'charge' (")));
}

TEST(SupportTest, NonExecutableProcessesMayUseAnything) {
  const std::string xml =
      R"(<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
<bpmn:process id="run" isExecutable="true"><bpmn:startEvent id="s"/></bpmn:process>
<bpmn:process id="doc" isExecutable="false"><bpmn:complexGateway id="cg"/><bpmn:userTask id="u"/></bpmn:process>
</bpmn:definitions>)";
  ParseOk(xml);
}

TEST(SupportTest, IsExecutableLooksAtKindAndFeatures) {
  Element task;
  task.type = ElementType::kServiceTask;
  task.inputs.push_back({});
  EXPECT_TRUE(IsExecutable(task));
  task.loop.emplace();
  EXPECT_FALSE(IsExecutable(task));
  Element boundary;
  boundary.type = ElementType::kBoundaryEvent;
  boundary.event_type = EventType::kTimer;
  EXPECT_FALSE(IsExecutable(boundary));
  Element end;
  end.type = ElementType::kEndEvent;
  EXPECT_TRUE(IsExecutable(end));
  EXPECT_EQ(ElementKind(boundary), "BOUNDARY_EVENT with TIMER event definition");
  EXPECT_EQ(ElementKind(end), "END_EVENT");
}

}  // namespace
}  // namespace tern::bpmn
