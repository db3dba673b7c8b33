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

TEST(SupportTest, TernExecutesTheElementsTheEngineRuns) {
  for (ElementType type :
       {ElementType::kSubProcess, ElementType::kEventSubProcess, ElementType::kCallActivity,
        ElementType::kSendTask, ElementType::kReceiveTask, ElementType::kUserTask,
        ElementType::kScriptTask, ElementType::kBusinessRuleTask, ElementType::kInclusiveGateway,
        ElementType::kEventBasedGateway}) {
    EXPECT_EQ(ElementSupport(type, EventType::kNone), Support::kExecutable)
        << ElementTypeName(type);
  }
  EXPECT_EQ(ElementSupport(ElementType::kIntermediateCatchEvent, EventType::kTimer),
            Support::kExecutable);
  EXPECT_EQ(ElementSupport(ElementType::kStartEvent, EventType::kMessage), Support::kExecutable);
  EXPECT_EQ(ElementSupport(ElementType::kEndEvent, EventType::kTerminate), Support::kExecutable);
  EXPECT_EQ(ElementSupport(ElementType::kBoundaryEvent, EventType::kError), Support::kExecutable);
  EXPECT_EQ(FeatureSupport(Feature::kMultiInstanceParallel), Support::kExecutable);
  EXPECT_EQ(FeatureSupport(Feature::kFeelScript), Support::kExecutable);
  EXPECT_EQ(FeatureSupport(Feature::kDmnDecision), Support::kExecutable);
  EXPECT_EQ(FeatureSupport(Feature::kZeebeUserTask), Support::kExecutable);
  EXPECT_EQ(FeatureSupport(Feature::kPriorityDefinition), Support::kExecutable);
}

TEST(SupportTest, WhatZeebeRunsButTernDoesNotYet) {
  EXPECT_EQ(ElementSupport(ElementType::kIntermediateCatchEvent, EventType::kConditional),
            Support::kNotYetInTern);
  EXPECT_EQ(ElementSupport(ElementType::kStartEvent, EventType::kConditional),
            Support::kNotYetInTern);
  EXPECT_EQ(ElementSupport(ElementType::kBoundaryEvent, EventType::kConditional),
            Support::kNotYetInTern);
  EXPECT_EQ(FeatureSupport(Feature::kTaskListeners), Support::kNotYetInTern);
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

TEST(SupportTest, UnsupportedConditionalEventIsRejectedByNameKindAndLine) {
  const std::string xml = Model(StartTo("cond1") + R"(<bpmn:intermediateCatchEvent id="cond1">
<bpmn:conditionalEventDefinition><bpmn:condition>=x &gt; 1</bpmn:condition></bpmn:conditionalEventDefinition>
</bpmn:intermediateCatchEvent>)");
  EXPECT_EQ(ParseError(xml),
            "'test.bpmn' is not a valid BPMN resource:\n"
            "- Element 'cond1' (INTERMEDIATE_CATCH_EVENT with CONDITIONAL event definition, "
            "line 6): is not supported by Tern yet");
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
  <zeebe:taskListeners><zeebe:taskListener eventType="complete" type="l"/></zeebe:taskListeners>
</bpmn:extensionElements>
<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>
  <zeebe:loopCharacteristics inputCollection="=items"/></bpmn:extensionElements>
</bpmn:multiInstanceLoopCharacteristics>
</bpmn:serviceTask>)");
  const std::string message = ParseError(xml);
  EXPECT_THAT(message, Not(HasSubstr("multi-instance")));
  EXPECT_THAT(message, HasSubstr("Element 't' (SERVICE_TASK, line 6): task listeners "
                                 "(zeebe:taskListeners) is not supported by Tern yet"));
}

TEST(SupportTest, UnsupportedKindIsReportedOnceNotPerFeature) {
  const std::string xml = Model(StartTo("c") + R"(<bpmn:intermediateCatchEvent id="c">
<bpmn:extensionElements><zeebe:ioMapping><zeebe:output source="=1" target="r"/></zeebe:ioMapping></bpmn:extensionElements>
<bpmn:conditionalEventDefinition><bpmn:condition>=x &gt; 1</bpmn:condition></bpmn:conditionalEventDefinition>
</bpmn:intermediateCatchEvent>)");
  const std::string message = ParseError(xml);
  EXPECT_THAT(message, HasSubstr("Element 'c' (INTERMEDIATE_CATCH_EVENT with CONDITIONAL event "
                                 "definition, line 6): is not supported by Tern yet"));
  EXPECT_THAT(message, Not(HasSubstr("output mappings")));
}

// Everything in the model runs except its native Zeebe user task.
TEST(SupportTest, AllElementsModelIsExecutable) {
  // Its last unsupported element was the native user task 'approve'.
  ParseOk(ReadTestFile("all_elements.bpmn"));
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
  EXPECT_TRUE(IsExecutable(task));
  Element user;
  user.type = ElementType::kUserTask;
  user.user_task.emplace();
  user.user_task->zeebe_user_task = true;
  EXPECT_TRUE(IsExecutable(user));
  Element conditional;
  conditional.type = ElementType::kBoundaryEvent;
  conditional.event_type = EventType::kConditional;
  EXPECT_FALSE(IsExecutable(conditional));
  Element boundary;
  boundary.type = ElementType::kBoundaryEvent;
  boundary.event_type = EventType::kTimer;
  EXPECT_TRUE(IsExecutable(boundary));
  Element end;
  end.type = ElementType::kEndEvent;
  EXPECT_TRUE(IsExecutable(end));
  EXPECT_EQ(ElementKind(boundary), "BOUNDARY_EVENT with TIMER event definition");
  EXPECT_EQ(ElementKind(end), "END_EVENT");
}

}  // namespace
}  // namespace tern::bpmn
