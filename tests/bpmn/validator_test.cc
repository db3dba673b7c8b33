// Zeebe's deployment rules, one test per rule (the Tern support check is off here, so each
// model exercises exactly the rule under test; support_test.cc covers the support check).

#include <string>

#include "bpmn/expression.h"
#include "test_util.h"

namespace tern::bpmn {
namespace {

using ::testing::HasSubstr;
using testing::Model;
using ::testing::Not;
using testing::ParseError;
using testing::ParseOk;
using testing::StartTo;
using testing::ZeebeRulesOnly;

std::string Errors(std::string_view body, std::string_view globals = {}) {
  return ParseError(Model(body, globals), ZeebeRulesOnly());
}

void ExpectValid(std::string_view body, std::string_view globals = {}) {
  ParseOk(Model(body, globals), ZeebeRulesOnly());
}

std::string Service(std::string_view id, std::string_view type = "work") {
  return "<bpmn:serviceTask id=\"" + std::string(id) +
         "\"><bpmn:extensionElements><zeebe:taskDefinition type=\"" + std::string(type) +
         "\"/></bpmn:extensionElements></bpmn:serviceTask>\n";
}

std::string Flow(std::string_view id, std::string_view from, std::string_view to) {
  return "<bpmn:sequenceFlow id=\"" + std::string(id) + "\" sourceRef=\"" + std::string(from) +
         "\" targetRef=\"" + std::string(to) + "\"/>\n";
}

constexpr std::string_view kMessageWithKey =
    R"(<bpmn:message id="m" name="ping"><bpmn:extensionElements><zeebe:subscription correlationKey="=id"/></bpmn:extensionElements></bpmn:message>)";

// --- collecting --------------------------------------------------------------------------

TEST(ValidatorTest, ReportsEveryProblemOnItsOwnLineInLineOrder) {
  const std::string message = Errors(StartTo("task1") +                    // lines 4-5
                                     "<bpmn:serviceTask id=\"task1\"/>\n"  // line 6
                                     + Flow("f1", "task1", "nowhere") +    // line 7
                                     "<bpmn:endEvent id=\"end\"/>\n" +     // line 8
                                     Flow("f2", "end", "task1"));          // line 9
  EXPECT_EQ(message,
            "'test.bpmn' is not a valid BPMN resource:\n"
            "- Element 'task1' (SERVICE_TASK, line 6): must have a zeebe:taskDefinition with a "
            "non-empty type\n"
            "- Element 'f1' (SEQUENCE_FLOW, line 7): targetRef 'nowhere' does not match any flow "
            "node\n"
            "- Element 'end' (END_EVENT, line 8): must not have outgoing sequence flows");
}

TEST(ValidatorTest, ElementWithoutIdIsNamedAsSuch) {
  EXPECT_THAT(Errors("<bpmn:startEvent/>"),
              HasSubstr("Element without id (START_EVENT, line 4): must have a non-empty id"));
}

TEST(ValidatorTest, NonExecutableProcessesAreNotValidated) {
  const std::string xml =
      R"(<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
<bpmn:process id="ok" isExecutable="true"><bpmn:startEvent id="s"/></bpmn:process>
<bpmn:process id="draft" isExecutable="false"><bpmn:serviceTask id="t"/></bpmn:process>
</bpmn:definitions>)";
  auto definitions = ParseOk(xml);
  ASSERT_NE(definitions, nullptr);
  EXPECT_FALSE(definitions->processes[1].executable);
}

// --- process and scopes --------------------------------------------------------------------

TEST(ValidatorTest, ProcessNeedsAStartEvent) {
  EXPECT_THAT(Errors("<bpmn:endEvent id=\"e\"/>"),
              HasSubstr("Element 'p' (PROCESS, line 3): must have at least one start event"));
}

TEST(ValidatorTest, ProcessMayHaveMessageOrTimerStartEventsOnly) {
  ExpectValid(
      R"(<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="m"/></bpmn:startEvent>)",
      R"(<bpmn:message id="m" name="go"/>)");
}

TEST(ValidatorTest, AtMostOneNoneStartEvent) {
  EXPECT_THAT(Errors("<bpmn:startEvent id=\"a\"/><bpmn:startEvent id=\"b\"/>"),
              HasSubstr("must not have more than one none start event"));
}

TEST(ValidatorTest, ProcessStartEventKinds) {
  EXPECT_THAT(
      Errors(R"(<bpmn:startEvent id="s"><bpmn:errorEventDefinition/></bpmn:startEvent>)"),
      HasSubstr("Element 's' (START_EVENT with ERROR event definition, line 4): the start event "
                "of a process must be"));
}

TEST(ValidatorTest, StartEventsMustNotHaveIncomingFlows) {
  EXPECT_THAT(Errors(StartTo("t") + Service("t") + Flow("back", "t", "start")),
              HasSubstr("Element 'start' (START_EVENT, line 4): must not have incoming"));
}

TEST(ValidatorTest, MessageStartEventsNeedDistinctNames) {
  EXPECT_THAT(
      Errors(
          R"(<bpmn:startEvent id="a"><bpmn:messageEventDefinition messageRef="m1"/></bpmn:startEvent>
<bpmn:startEvent id="b"><bpmn:messageEventDefinition messageRef="m2"/></bpmn:startEvent>)",
          R"(<bpmn:message id="m1" name="go"/><bpmn:message id="m2" name="go"/>)"),
      HasSubstr("more than one message event named 'go'"));
}

TEST(ValidatorTest, EmbeddedSubprocessNeedsExactlyOneNoneStartEvent) {
  const std::string body =
      StartTo("sub") + R"(<bpmn:subProcess id="sub"><bpmn:endEvent id="e"/></bpmn:subProcess>)";
  EXPECT_THAT(Errors(body), HasSubstr("Element 'sub' (SUB_PROCESS, line 6): must have exactly "
                                      "one start event"));
  EXPECT_THAT(Errors(StartTo("sub") + R"(<bpmn:subProcess id="sub"><bpmn:startEvent id="ss">
<bpmn:messageEventDefinition messageRef="m"/></bpmn:startEvent></bpmn:subProcess>)",
                     kMessageWithKey),
              HasSubstr("the start event of an embedded subprocess must be a none start event"));
}

TEST(ValidatorTest, EventSubprocessRules) {
  const std::string none_start = StartTo("e") + "<bpmn:endEvent id=\"e\"/>" +
                                 R"(<bpmn:subProcess id="esp" triggeredByEvent="true">
<bpmn:startEvent id="es"/></bpmn:subProcess>)";
  EXPECT_THAT(Errors(none_start), HasSubstr("Element 'es' (START_EVENT, line 7): the start event "
                                            "of an event subprocess must be"));
  const std::string with_flow = StartTo("esp") +
                                R"(<bpmn:subProcess id="esp" triggeredByEvent="true">
<bpmn:startEvent id="es"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent></bpmn:subProcess>)";
  EXPECT_THAT(Errors(with_flow), HasSubstr("must not have incoming or outgoing sequence flows"));
  const std::string error_non_interrupting = StartTo("e") + "<bpmn:endEvent id=\"e\"/>" +
                                             R"(<bpmn:subProcess id="esp" triggeredByEvent="true">
<bpmn:startEvent id="es" isInterrupting="false"><bpmn:errorEventDefinition/></bpmn:startEvent></bpmn:subProcess>)";
  EXPECT_THAT(Errors(error_non_interrupting),
              HasSubstr("must be interrupting: only message, timer"));
}

// --- sequence flows and gateways ------------------------------------------------------------

TEST(ValidatorTest, SequenceFlowEndsMustResolve) {
  const std::string message =
      Errors("<bpmn:startEvent id=\"s\"/>\n<bpmn:sequenceFlow id=\"f\" targetRef=\"gone\"/>");
  EXPECT_THAT(message, HasSubstr("Element 'f' (SEQUENCE_FLOW, line 5): is missing the attribute "
                                 "'sourceRef'"));
  EXPECT_THAT(message, HasSubstr("targetRef 'gone' does not match any flow node"));
}

TEST(ValidatorTest, SequenceFlowMustStayInItsScope) {
  const std::string body = StartTo("sub") + R"(<bpmn:subProcess id="sub">
<bpmn:startEvent id="ss"/></bpmn:subProcess>
<bpmn:sequenceFlow id="cross" sourceRef="start" targetRef="ss"/>)";
  EXPECT_THAT(Errors(body), HasSubstr("Element 'cross' (SEQUENCE_FLOW, line 8): connects 'start' "
                                      "and 'ss', but a sequence flow must stay inside"));
}

TEST(ValidatorTest, ConditionsOnlyOnFlowsLeavingExclusiveOrInclusiveGateways) {
  const std::string body =
      StartTo("t") + Service("t") + R"(<bpmn:sequenceFlow id="c" sourceRef="t" targetRef="e">
<bpmn:conditionExpression>=x</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:endEvent id="e"/>)";
  EXPECT_THAT(Errors(body), HasSubstr("Element 't' (SERVICE_TASK, line 6): the outgoing sequence "
                                      "flow 'c' has a condition, but conditional sequence flows "
                                      "are only supported at exclusive or inclusive gateways"));
}

std::string Gateway(std::string_view attributes, std::string_view flows) {
  return StartTo("gw") + "<bpmn:exclusiveGateway id=\"gw\" " + std::string(attributes) + "/>\n" +
         std::string(flows) + "<bpmn:endEvent id=\"a\"/><bpmn:endEvent id=\"b\"/>";
}

TEST(ValidatorTest, ExclusiveGatewayFlowsNeedConditionOrDefault) {
  const std::string body = Gateway("", R"(<bpmn:sequenceFlow id="fa" sourceRef="gw" targetRef="a">
<bpmn:conditionExpression>=x</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="fb" sourceRef="gw" targetRef="b"/>
)");
  EXPECT_THAT(Errors(body), HasSubstr("Element 'fb' (SEQUENCE_FLOW, line 9): must have a "
                                      "condition or be the default flow of the gateway 'gw'"));
  ExpectValid(Gateway("default=\"fb\"", R"(<bpmn:sequenceFlow id="fa" sourceRef="gw" targetRef="a">
<bpmn:conditionExpression>=x</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="fb" sourceRef="gw" targetRef="b"/>
)"));
}

TEST(ValidatorTest, ExclusiveGatewayWithOneOutgoingFlowNeedsNoCondition) {
  ExpectValid(StartTo("gw") + "<bpmn:exclusiveGateway id=\"gw\"/>" + Flow("f", "gw", "e") +
              "<bpmn:endEvent id=\"e\"/>");
}

TEST(ValidatorTest, DefaultFlowRules) {
  EXPECT_THAT(
      Errors(Gateway("default=\"f_start\"", Flow("fa", "gw", "a") + Flow("fb", "gw", "b"))),
      HasSubstr("default flow 'f_start' must be an outgoing sequence flow of this element"));
  EXPECT_THAT(Errors(Gateway("default=\"zzz\"", Flow("fa", "gw", "a"))),
              HasSubstr("default flow 'zzz' does not match any sequence flow"));
  EXPECT_THAT(
      Errors(Gateway("default=\"fa\"", R"(<bpmn:sequenceFlow id="fa" sourceRef="gw" targetRef="a">
<bpmn:conditionExpression>=x</bpmn:conditionExpression></bpmn:sequenceFlow>)")),
      HasSubstr("the default flow must not have a condition"));
}

TEST(ValidatorTest, ConditionMustNotBeEmpty) {
  EXPECT_THAT(
      Errors(Gateway("default=\"fb\"", R"(<bpmn:sequenceFlow id="fa" sourceRef="gw" targetRef="a">
<bpmn:conditionExpression>  </bpmn:conditionExpression></bpmn:sequenceFlow>)" +
                                           Flow("fb", "gw", "b"))),
      HasSubstr("Element 'fa' (SEQUENCE_FLOW, line 7): the condition must not be empty"));
}

TEST(ValidatorTest, EventBasedGatewayRules) {
  EXPECT_THAT(Errors(StartTo("g") + "<bpmn:eventBasedGateway id=\"g\"/>" + Flow("f", "g", "t") +
                     Service("t")),
              ::testing::AllOf(HasSubstr("must have at least 2 outgoing sequence flows"),
                               HasSubstr("may only be followed by message, timer, signal or "
                                         "conditional intermediate catch events, but 't' is a "
                                         "SERVICE_TASK")));
  const std::string timer =
      R"(<bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition>)";
  const std::string body = StartTo("g") + "<bpmn:eventBasedGateway id=\"g\"/>" +
                           Flow("f1", "g", "c1") + Flow("f2", "g", "c2") +
                           "<bpmn:intermediateCatchEvent id=\"c1\">" + timer +
                           "</bpmn:intermediateCatchEvent><bpmn:intermediateCatchEvent id=\"c2\">" +
                           timer + "</bpmn:intermediateCatchEvent>" + Flow("extra", "start", "c2");
  EXPECT_THAT(Errors(body),
              HasSubstr("follows the event-based gateway 'g' and must not have other incoming"));
}

// --- tasks ---------------------------------------------------------------------------------

TEST(ValidatorTest, ServiceTaskNeedsATaskType) {
  EXPECT_THAT(Errors(StartTo("t") + "<bpmn:serviceTask id=\"t\"/>"),
              HasSubstr("Element 't' (SERVICE_TASK, line 6): must have a zeebe:taskDefinition "
                        "with a non-empty type"));
  EXPECT_THAT(Errors(StartTo("t") + Service("t", "")),
              HasSubstr("must have a zeebe:taskDefinition with a non-empty type"));
  EXPECT_THAT(Errors(StartTo("t") + R"(<bpmn:serviceTask id="t"><bpmn:extensionElements>
<zeebe:taskDefinition type="a"/><zeebe:taskDefinition type="b"/></bpmn:extensionElements></bpmn:serviceTask>)"),
              HasSubstr("must not have more than one zeebe:taskDefinition"));
  EXPECT_THAT(Errors(StartTo("t") + R"(<bpmn:serviceTask id="t"><bpmn:extensionElements>
<zeebe:taskDefinition type="a" retries=""/></bpmn:extensionElements></bpmn:serviceTask>)"),
              HasSubstr("retries must not be empty"));
  EXPECT_THAT(Errors(StartTo("t") + Service("t", std::string(300, 'x'))),
              HasSubstr("the job type must not be longer than 256 bytes"));
}

TEST(ValidatorTest, SendScriptAndBusinessRuleTasksNeedAnImplementation) {
  EXPECT_THAT(Errors(StartTo("t") + "<bpmn:sendTask id=\"t\"/>"),
              HasSubstr("Element 't' (SEND_TASK, line 6): must have a zeebe:taskDefinition"));
  EXPECT_THAT(Errors(StartTo("t") + "<bpmn:scriptTask id=\"t\"/>"),
              HasSubstr("must have either a zeebe:script or a zeebe:taskDefinition"));
  EXPECT_THAT(Errors(StartTo("t") + R"(<bpmn:scriptTask id="t"><bpmn:extensionElements>
<zeebe:script expression="=1"/><zeebe:taskDefinition type="x"/></bpmn:extensionElements></bpmn:scriptTask>)"),
              HasSubstr("must have either a zeebe:script or a zeebe:taskDefinition"));
  EXPECT_THAT(Errors(StartTo("t") + R"(<bpmn:scriptTask id="t"><bpmn:extensionElements>
<zeebe:script expression="=1"/></bpmn:extensionElements></bpmn:scriptTask>)"),
              HasSubstr("zeebe:script resultVariable must not be empty"));
  EXPECT_THAT(Errors(StartTo("t") + "<bpmn:businessRuleTask id=\"t\"/>"),
              HasSubstr("must have either a zeebe:calledDecision or a zeebe:taskDefinition"));
  EXPECT_THAT(Errors(StartTo("t") + R"(<bpmn:businessRuleTask id="t"><bpmn:extensionElements>
<zeebe:calledDecision resultVariable="r"/></bpmn:extensionElements></bpmn:businessRuleTask>)"),
              HasSubstr("zeebe:calledDecision decisionId must not be empty"));
}

TEST(ValidatorTest, UserTaskRules) {
  ExpectValid(StartTo("u") + "<bpmn:userTask id=\"u\"/>");  // a job of Zeebe's user task type
  EXPECT_THAT(Errors(StartTo("u") + R"(<bpmn:userTask id="u"><bpmn:extensionElements>
<zeebe:formDefinition formKey="k" formId="i"/></bpmn:extensionElements></bpmn:userTask>)"),
              HasSubstr("must have exactly one of formId and formKey"));
  EXPECT_THAT(Errors(StartTo("u") + R"(<bpmn:userTask id="u"><bpmn:extensionElements>
<zeebe:userTask/><zeebe:formDefinition formKey="k"/></bpmn:extensionElements></bpmn:userTask>)"),
              HasSubstr("must have exactly one of formId and externalReference"));
  EXPECT_THAT(Errors(StartTo("u") + R"(<bpmn:userTask id="u"><bpmn:extensionElements>
<zeebe:assignmentDefinition candidateGroups="a,,b"/></bpmn:extensionElements></bpmn:userTask>)"),
              HasSubstr("candidateGroups must be a comma-separated list"));
}

std::string NativeUserTask(std::string_view extensions) {
  return StartTo("u") + "<bpmn:userTask id=\"u\"><bpmn:extensionElements><zeebe:userTask/>" +
         std::string(extensions) + "</bpmn:extensionElements></bpmn:userTask>";
}

TEST(ValidatorTest, NativeUserTaskRules) {
  ExpectValid(NativeUserTask(""));
  ExpectValid(NativeUserTask(
      R"(<zeebe:assignmentDefinition assignee="=owner" candidateGroups="a,b" candidateUsers="=users"/>
<zeebe:taskSchedule dueDate="2023-03-02T15:35+02:00" followUpDate="=later"/>
<zeebe:priorityDefinition priority="100"/><zeebe:formDefinition formId="f"/>)"));
  ExpectValid(NativeUserTask(R"(<zeebe:priorityDefinition priority="=urgency * 10"/>)"));
  ExpectValid(NativeUserTask(R"(<zeebe:formDefinition externalReference="https://forms/x"/>)"));
  ExpectValid(NativeUserTask(R"(<zeebe:formDefinition formId="f" bindingType="deployment"/>)"));
  EXPECT_THAT(Errors(NativeUserTask(R"(<zeebe:priorityDefinition priority="101"/>)")),
              HasSubstr("Element 'u' (USER_TASK, line 6): zeebe:priorityDefinition priority: "
                        "Priority must be a number between 0 and 100, but was '101'"));
  EXPECT_THAT(Errors(NativeUserTask(R"(<zeebe:priorityDefinition priority="-1"/>)")),
              HasSubstr("between 0 and 100, but was '-1'"));
  EXPECT_THAT(Errors(NativeUserTask(R"(<zeebe:priorityDefinition priority="high"/>)")),
              HasSubstr("zeebe:priorityDefinition priority 'high' must be a valid Number "
                        "between 0 and 100"));
  EXPECT_THAT(Errors(NativeUserTask(R"(<zeebe:priorityDefinition priority=""/>)")),
              HasSubstr("zeebe:priorityDefinition priority must not be empty"));
  EXPECT_THAT(
      Errors(NativeUserTask(
          R"(<zeebe:priorityDefinition priority="1"/><zeebe:priorityDefinition priority="2"/>)")),
      HasSubstr("must not have more than one zeebe:priorityDefinition"));
  EXPECT_THAT(Errors(NativeUserTask(R"(<zeebe:taskSchedule dueDate="tomorrow"/>)")),
              HasSubstr("zeebe:taskSchedule dueDate 'tomorrow' must be a valid DateTime String"));
  EXPECT_THAT(Errors(NativeUserTask(R"(<zeebe:taskSchedule followUpDate="2023-13-45T00:00Z"/>)")),
              HasSubstr("zeebe:taskSchedule followUpDate"));
  EXPECT_THAT(Errors(NativeUserTask(R"(<zeebe:formDefinition formId="f" bindingType="newest"/>)")),
              HasSubstr("zeebe:formDefinition bindingType must be one of: deployment, latest, "
                        "versionTag (not 'newest')"));
  EXPECT_THAT(
      Errors(NativeUserTask(R"(<zeebe:formDefinition formId="f" bindingType="versionTag"/>)")),
      HasSubstr("zeebe:formDefinition versionTag must be present and not empty"));
  EXPECT_THAT(Errors(NativeUserTask(R"(<zeebe:formDefinition formId="f" externalReference="x"/>)")),
              HasSubstr("must have exactly one of formId and externalReference"));
  EXPECT_THAT(Errors(NativeUserTask(R"(<zeebe:assignmentDefinition candidateUsers="a, ,b"/>)")),
              HasSubstr("zeebe:assignmentDefinition candidateUsers must be a comma-separated"));
}

TEST(ValidatorTest, CallActivityNeedsAProcessId) {
  EXPECT_THAT(Errors(StartTo("c") + "<bpmn:callActivity id=\"c\"/>"),
              HasSubstr("must have a zeebe:calledElement extension element"));
  EXPECT_THAT(Errors(StartTo("c") + R"(<bpmn:callActivity id="c"><bpmn:extensionElements>
<zeebe:calledElement processId=""/></bpmn:extensionElements></bpmn:callActivity>)"),
              HasSubstr("zeebe:calledElement processId must not be empty"));
}

TEST(ValidatorTest, MultiInstanceRules) {
  auto mi = [](std::string_view inside) {
    return StartTo("t") +
           "<bpmn:serviceTask id=\"t\"><bpmn:extensionElements><zeebe:taskDefinition "
           "type=\"w\"/></bpmn:extensionElements><bpmn:multiInstanceLoopCharacteristics>" +
           std::string(inside) + "</bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>";
  };
  EXPECT_THAT(Errors(mi("")), HasSubstr("must have exactly one zeebe:loopCharacteristics"));
  EXPECT_THAT(
      Errors(mi(
          R"(<bpmn:extensionElements><zeebe:loopCharacteristics inputElement="x"/></bpmn:extensionElements>)")),
      HasSubstr("inputCollection must be present and not empty"));
  EXPECT_THAT(
      Errors(mi(
          R"(<bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=xs" outputCollection="ys"/></bpmn:extensionElements>)")),
      HasSubstr("outputElement must be present when outputCollection is set"));
  EXPECT_THAT(
      Errors(mi(
          R"(<bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=xs" outputElement="=y"/></bpmn:extensionElements>)")),
      HasSubstr("outputCollection must be present when outputElement is set"));
  ExpectValid(mi(
      R"(<bpmn:extensionElements><zeebe:loopCharacteristics inputCollection="=xs"/></bpmn:extensionElements>)"));
}

TEST(ValidatorTest, MappingTargetsMustBePaths) {
  auto mapped = [](std::string_view mapping) {
    return StartTo("t") +
           "<bpmn:serviceTask id=\"t\"><bpmn:extensionElements><zeebe:taskDefinition "
           "type=\"w\"/><zeebe:ioMapping>" +
           std::string(mapping) + "</zeebe:ioMapping></bpmn:extensionElements></bpmn:serviceTask>";
  };
  ExpectValid(mapped(R"(<zeebe:input source="=a" target="order.customer_id"/>)"));
  EXPECT_THAT(Errors(mapped(R"(<zeebe:input source="=a" target="1x"/>)")),
              HasSubstr("zeebe:input target '1x' must be a variable name or a dotted path"));
  EXPECT_THAT(Errors(mapped(R"(<zeebe:output source="=a" target="null"/>)")),
              HasSubstr("zeebe:output target 'null' must be"));
  EXPECT_THAT(Errors(mapped(R"(<zeebe:input target="a"/>)")),
              HasSubstr("zeebe:input source must not be empty"));
  EXPECT_THAT(Errors(mapped(R"(<zeebe:input source="=a" target="a."/>)")),
              HasSubstr("must be a variable name"));
}

TEST(ValidatorTest, TaskHeaderRules) {
  auto headers = [](std::string_view inside) {
    return StartTo("t") +
           "<bpmn:serviceTask id=\"t\"><bpmn:extensionElements><zeebe:taskDefinition "
           "type=\"w\"/><zeebe:taskHeaders>" +
           std::string(inside) + "</zeebe:taskHeaders></bpmn:extensionElements></bpmn:serviceTask>";
  };
  EXPECT_THAT(Errors(headers(R"(<zeebe:header key="io.camunda.zeebe:x" value="1"/>)")),
              HasSubstr("reserved for internal use"));
  EXPECT_THAT(
      Errors(headers(R"(<zeebe:header key="a" value="1"/><zeebe:header key="a" value="2"/>)")),
      HasSubstr("task headers contain the key 'a' twice"));
}

TEST(ValidatorTest, ExecutionListenerRules) {
  const auto listeners = [](std::string_view inside) {
    return "<bpmn:extensionElements><zeebe:executionListeners>" + std::string(inside) +
           "</zeebe:executionListeners></bpmn:extensionElements>";
  };
  const auto task = [&](std::string_view inside) {
    return StartTo("t") +
           "<bpmn:serviceTask id=\"t\"><bpmn:extensionElements><zeebe:taskDefinition "
           "type=\"w\"/><zeebe:executionListeners>" +
           std::string(inside) +
           "</zeebe:executionListeners></bpmn:extensionElements></bpmn:serviceTask>";
  };
  ExpectValid(
      task(R"(<zeebe:executionListener eventType="start" type="a"/>)"
           R"(<zeebe:executionListener eventType="start" type="=&quot;b&quot;" retries="=2"/>)"
           R"(<zeebe:executionListener eventType="end" type="a"/>)"));
  EXPECT_THAT(Errors(task(R"(<zeebe:executionListener eventType="begin" type="a"/>)")),
              HasSubstr("zeebe:executionListener eventType must be 'start' or 'end', not 'begin'"));
  EXPECT_THAT(Errors(task(R"(<zeebe:executionListener eventType="start" type=""/>)")),
              HasSubstr("zeebe:executionListener type must not be empty"));
  EXPECT_THAT(Errors(task(R"(<zeebe:executionListener eventType="start" type="a" retries=" "/>)")),
              HasSubstr("zeebe:executionListener retries must not be empty"));
  EXPECT_THAT(Errors(task(R"(<zeebe:executionListener eventType="end" type="a"/>)"
                          R"(<zeebe:executionListener eventType="end" type="a"/>)")),
              HasSubstr("has 2 execution listeners with eventType 'end' and type 'a'"));

  // Start events and boundary events have no start listeners, error end events and gateways no
  // end listeners, compensation boundary events none at all.
  EXPECT_THAT(
      Errors("<bpmn:startEvent id=\"start\">" +
             listeners(R"(<zeebe:executionListener eventType="start" type="a"/>)") +
             "</bpmn:startEvent>"),
      HasSubstr("Element 'start' (START_EVENT, line 4): execution listeners of type 'start' are "
                "not supported by start events"));
  ExpectValid("<bpmn:startEvent id=\"start\">" +
              listeners(R"(<zeebe:executionListener eventType="end" type="a"/>)") +
              "</bpmn:startEvent>");
  EXPECT_THAT(Errors(StartTo("g") + "<bpmn:parallelGateway id=\"g\">" +
                     listeners(R"(<zeebe:executionListener eventType="end" type="a"/>)") +
                     "</bpmn:parallelGateway>"),
              HasSubstr("execution listeners of type 'end' are not supported by gateways"));
  EXPECT_THAT(Errors(StartTo("e") + "<bpmn:endEvent id=\"e\">" +
                         listeners(R"(<zeebe:executionListener eventType="end" type="a"/>)") +
                         "<bpmn:errorEventDefinition errorRef=\"err\"/></bpmn:endEvent>",
                     R"(<bpmn:error id="err" errorCode="E"/>)"),
              HasSubstr("execution listeners of type 'end' are not supported by error end events"));
  EXPECT_THAT(
      Errors(StartTo("t") + Service("t") + "<bpmn:boundaryEvent id=\"b\" attachedToRef=\"t\">" +
             listeners(R"(<zeebe:executionListener eventType="start" type="a"/>)") +
             "<bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration>"
             "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"),
      HasSubstr("execution listeners of type 'start' are not supported by boundary events"));
}

TEST(ValidatorTest, BindingTypeRules) {
  const auto call = [](std::string_view attributes) {
    return StartTo("c") +
           "<bpmn:callActivity id=\"c\"><bpmn:extensionElements><zeebe:calledElement "
           "processId=\"child\" " +
           std::string(attributes) + "/></bpmn:extensionElements></bpmn:callActivity>";
  };
  ExpectValid(call(""));
  ExpectValid(call(R"(bindingType="latest")"));
  ExpectValid(call(R"(bindingType="deployment")"));
  ExpectValid(call(R"(bindingType="versionTag" versionTag="v1.0")"));
  EXPECT_THAT(Errors(call(R"(bindingType="newest")")),
              HasSubstr("zeebe:calledElement bindingType must be one of: deployment, latest, "
                        "versionTag (not 'newest')"));
  EXPECT_THAT(Errors(call(R"(bindingType="versionTag")")),
              HasSubstr("zeebe:calledElement versionTag must be present and not empty if "
                        "bindingType is 'versionTag'"));
  EXPECT_THAT(Errors(call(R"(versionTag="v1")")),
              HasSubstr("zeebe:calledElement versionTag may only be used if bindingType is "
                        "'versionTag'"));
  EXPECT_THAT(
      Errors(StartTo("d") +
             "<bpmn:businessRuleTask id=\"d\"><bpmn:extensionElements><zeebe:calledDecision "
             "decisionId=\"x\" resultVariable=\"r\" bindingType=\"versionTag\" "
             "versionTag=\" \"/></bpmn:extensionElements></bpmn:businessRuleTask>"),
      HasSubstr("zeebe:calledDecision versionTag must be present and not empty"));
}

TEST(ValidatorTest, ReceiveTaskNeedsAMessage) {
  EXPECT_THAT(Errors(StartTo("r") + "<bpmn:receiveTask id=\"r\"/>"),
              HasSubstr("Element 'r' (RECEIVE_TASK, line 6): must reference a message"));
  EXPECT_THAT(Errors(StartTo("r") + "<bpmn:receiveTask id=\"r\" messageRef=\"nope\"/>"),
              HasSubstr("messageRef 'nope' does not match any bpmn:message"));
  EXPECT_THAT(Errors(StartTo("r") + R"(<bpmn:receiveTask id="r" messageRef="m"/>
<bpmn:boundaryEvent id="b" attachedToRef="r"><bpmn:messageEventDefinition messageRef="m"/></bpmn:boundaryEvent>)",
                     kMessageWithKey),
              HasSubstr("must not wait for the same message name as its boundary event 'b'"));
}

// --- events --------------------------------------------------------------------------------

std::string Catch(std::string_view definition) {
  return StartTo("c") + "<bpmn:intermediateCatchEvent id=\"c\">" + std::string(definition) +
         "</bpmn:intermediateCatchEvent>";
}

TEST(ValidatorTest, MessageCatchEventsNeedNameAndCorrelationKey) {
  ExpectValid(Catch(R"(<bpmn:messageEventDefinition messageRef="m"/>)"), kMessageWithKey);
  EXPECT_THAT(Errors(Catch("<bpmn:messageEventDefinition/>")),
              HasSubstr("Element 'c' (INTERMEDIATE_CATCH_EVENT with MESSAGE event definition, "
                        "line 6): must reference a message (messageRef)"));
  EXPECT_THAT(Errors(Catch(R"(<bpmn:messageEventDefinition messageRef="m"/>)"),
                     R"(<bpmn:message id="m"/>)"),
              ::testing::AllOf(HasSubstr("the message 'm' (line 8) must have a non-empty name"),
                               HasSubstr("must have exactly one zeebe:subscription")));
  EXPECT_THAT(
      Errors(
          Catch(R"(<bpmn:messageEventDefinition messageRef="m"/>)"),
          R"(<bpmn:message id="m" name="x"><bpmn:extensionElements><zeebe:subscription correlationKey=""/></bpmn:extensionElements></bpmn:message>)"),
      HasSubstr("must have a non-empty zeebe:subscription correlationKey"));
  EXPECT_THAT(Errors(Catch(R"(<bpmn:messageEventDefinition messageRef="m"/>)"),
                     "<bpmn:message id=\"m\" name=\"" + std::string(300, 'n') +
                         "\"><bpmn:extensionElements><zeebe:subscription correlationKey=\"=k\"/>"
                         "</bpmn:extensionElements></bpmn:message>"),
              HasSubstr("the message name must not be longer than 256 bytes"));
}

TEST(ValidatorTest, IntermediateCatchEventNeedsOneDefinition) {
  EXPECT_THAT(Errors(Catch("")), HasSubstr("must have exactly one event definition"));
}

TEST(ValidatorTest, TimerRules) {
  EXPECT_THAT(
      Errors(Catch(
          R"(<bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration><bpmn:timeDate>2030-01-01T00:00:00Z</bpmn:timeDate></bpmn:timerEventDefinition>)")),
      HasSubstr("a timer must have exactly one of timeDuration, timeDate or timeCycle"));
  EXPECT_THAT(Errors(Catch("<bpmn:timerEventDefinition/>")),
              HasSubstr("a timer must have exactly one of"));
  EXPECT_THAT(
      Errors(Catch(
          R"(<bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1M</bpmn:timeCycle></bpmn:timerEventDefinition>)")),
      HasSubstr("an intermediate timer catch event must have a timeDuration or a timeDate"));
  EXPECT_THAT(
      Errors(Catch(
          R"(<bpmn:timerEventDefinition><bpmn:timeDuration> </bpmn:timeDuration></bpmn:timerEventDefinition>)")),
      HasSubstr("the timer's timeDuration is empty"));
  EXPECT_THAT(
      Errors(
          R"(<bpmn:startEvent id="s"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:startEvent>)"),
      HasSubstr("a timer start event must have a timeDate or a timeCycle"));
  ExpectValid(
      R"(<bpmn:startEvent id="s"><bpmn:timerEventDefinition><bpmn:timeDate>=later</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:startEvent>)");
}

TEST(ValidatorTest, StaticTimerTextsAreCheckedAtDeploy) {
  EXPECT_THAT(
      Errors(Catch(
          R"(<bpmn:timerEventDefinition><bpmn:timeDuration>P1X</bpmn:timeDuration></bpmn:timerEventDefinition>)")),
      HasSubstr("Invalid duration 'P1X'"));
  EXPECT_THAT(
      Errors(Catch(
          R"(<bpmn:timerEventDefinition><bpmn:timeDuration>-PT1M</bpmn:timeDuration></bpmn:timerEventDefinition>)")),
      HasSubstr("the duration must not be negative"));
  EXPECT_THAT(
      Errors(Catch(
          R"(<bpmn:timerEventDefinition><bpmn:timeDate>2030-13-01T00:00:00Z</bpmn:timeDate></bpmn:timerEventDefinition>)")),
      HasSubstr("2030-13-01T00:00:00Z"));
  EXPECT_THAT(
      Errors(
          R"(<bpmn:startEvent id="s"><bpmn:timerEventDefinition><bpmn:timeCycle>0 0 25 * * ?</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>)"),
      HasSubstr("Invalid timer cycle"));
  // FEEL expressions are evaluated when the timer opens, not at deploy.
  ExpectValid(
      R"(<bpmn:startEvent id="s"><bpmn:timerEventDefinition><bpmn:timeCycle>=cycle</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>)");
  ExpectValid(
      R"(<bpmn:startEvent id="s"><bpmn:timerEventDefinition><bpmn:timeCycle>0 0/15 * * * ?</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>)");
}

std::string Boundary(std::string_view attributes, std::string_view definition,
                     std::string_view activity = {}) {
  const std::string task = activity.empty() ? Service("t") : std::string(activity);
  return StartTo("t") + task + "<bpmn:boundaryEvent id=\"b\" " + std::string(attributes) + ">" +
         std::string(definition) + "</bpmn:boundaryEvent>";
}

TEST(ValidatorTest, BoundaryEventRules) {
  const std::string cycle =
      R"(<bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1M</bpmn:timeCycle></bpmn:timerEventDefinition>)";
  ExpectValid(Boundary("attachedToRef=\"t\" cancelActivity=\"false\"", cycle));
  EXPECT_THAT(Errors(Boundary("attachedToRef=\"t\"", cycle)),
              HasSubstr("an interrupting timer event must not have a timeCycle"));
  EXPECT_THAT(Errors(Boundary("", cycle)),
              HasSubstr("must be attached to an activity (attachedToRef is missing)"));
  EXPECT_THAT(
      Errors(Boundary("attachedToRef=\"start\"", cycle)),
      HasSubstr("is attached to 'start' (START_EVENT), but must be attached to an activity"));
  EXPECT_THAT(Errors(Boundary("attachedToRef=\"t\" cancelActivity=\"false\"",
                              "<bpmn:errorEventDefinition/>")),
              HasSubstr("must be interrupting: only message, timer"));
  EXPECT_THAT(Errors(Boundary("attachedToRef=\"t\"", "<bpmn:escalationEventDefinition/>")),
              HasSubstr("an escalation boundary event may only be attached to a subprocess or a "
                        "call activity"));
  EXPECT_THAT(Errors(Boundary("attachedToRef=\"t\"", "")),
              HasSubstr("must have exactly one event definition"));
  EXPECT_THAT(
      Errors(Boundary("attachedToRef=\"t\"", "<bpmn:errorEventDefinition/>") +
             "<bpmn:boundaryEvent id=\"b2\" attachedToRef=\"t\"><bpmn:errorEventDefinition/>"
             "</bpmn:boundaryEvent>"),
      HasSubstr("Element 't' (SERVICE_TASK, line 6): has more than one error catch event "
                "without an error code in its boundary events"));
  EXPECT_THAT(
      Errors(
          Boundary("attachedToRef=\"t\"", R"(<bpmn:messageEventDefinition messageRef="m"/>)") +
              R"(<bpmn:boundaryEvent id="b2" attachedToRef="t"><bpmn:messageEventDefinition messageRef="m"/></bpmn:boundaryEvent>)",
          kMessageWithKey),
      HasSubstr("has more than one message event named 'ping' in its boundary events"));
  EXPECT_THAT(Errors(Boundary("attachedToRef=\"t\"", "<bpmn:errorEventDefinition/>") +
                     Flow("in", "start", "b")),
              HasSubstr("Element 'b' (BOUNDARY_EVENT with ERROR event definition, line 7): must "
                        "not have incoming sequence flows"));
}

TEST(ValidatorTest, ErrorEventRules) {
  EXPECT_THAT(
      Errors(StartTo("e") + "<bpmn:endEvent id=\"e\"><bpmn:errorEventDefinition/></bpmn:endEvent>"),
      HasSubstr("must reference an error (errorRef)"));
  EXPECT_THAT(
      Errors(
          StartTo("e") +
              R"(<bpmn:endEvent id="e"><bpmn:errorEventDefinition errorRef="err"/></bpmn:endEvent>)",
          R"(<bpmn:error id="err"/>)"),
      HasSubstr("the error 'err' (line 8) must have a non-empty errorCode"));
  EXPECT_THAT(
      Errors(Boundary("attachedToRef=\"t\"", R"(<bpmn:errorEventDefinition errorRef="err"/>)"),
             R"(<bpmn:error id="err" errorCode="=code"/>)"),
      HasSubstr("the errorCode of an error catch event must not be an expression"));
  EXPECT_THAT(
      Errors(StartTo("e") +
             R"(<bpmn:endEvent id="e"><bpmn:errorEventDefinition errorRef="zz"/></bpmn:endEvent>)"),
      HasSubstr("errorRef 'zz' does not match any bpmn:error"));
}

TEST(ValidatorTest, EscalationAndSignalRules) {
  EXPECT_THAT(
      Errors(
          StartTo("e") +
              R"(<bpmn:endEvent id="e"><bpmn:escalationEventDefinition escalationRef="x"/></bpmn:endEvent>)",
          R"(<bpmn:escalation id="x"/>)"),
      HasSubstr("the escalation 'x' (line 8) must have a non-empty escalationCode"));
  EXPECT_THAT(Errors(StartTo("e") +
                     "<bpmn:endEvent id=\"e\"><bpmn:signalEventDefinition/></bpmn:endEvent>"),
              HasSubstr("must reference a signal (signalRef)"));
  EXPECT_THAT(
      Errors(
          StartTo("e") +
              R"(<bpmn:endEvent id="e"><bpmn:signalEventDefinition signalRef="s1"/></bpmn:endEvent>)",
          R"(<bpmn:signal id="s1"/>)"),
      HasSubstr("the signal 's1' (line 8) must have a non-empty name"));
}

TEST(ValidatorTest, LinkEventsPairByName) {
  const std::string link_throw =
      StartTo("lt") +
      R"(<bpmn:intermediateThrowEvent id="lt"><bpmn:linkEventDefinition name="a"/></bpmn:intermediateThrowEvent>)";
  EXPECT_THAT(Errors(link_throw),
              HasSubstr("Element 'lt' (INTERMEDIATE_THROW_EVENT with LINK event definition, line "
                        "6): there is no link catch event named 'a' in the same scope"));
  const std::string catches =
      R"(<bpmn:intermediateCatchEvent id="c1"><bpmn:linkEventDefinition name="a"/></bpmn:intermediateCatchEvent>
<bpmn:intermediateCatchEvent id="c2"><bpmn:linkEventDefinition name="a"/></bpmn:intermediateCatchEvent>)";
  EXPECT_THAT(Errors(link_throw + catches),
              HasSubstr("has more than one link catch event named 'a'"));
  EXPECT_THAT(
      Errors(
          StartTo("lt") +
          R"(<bpmn:intermediateThrowEvent id="lt"><bpmn:linkEventDefinition/></bpmn:intermediateThrowEvent>)"),
      HasSubstr("the link name must be present and not empty"));
}

TEST(ValidatorTest, CompensationRules) {
  const std::string handler =
      R"(<bpmn:serviceTask id="h" isForCompensation="true"><bpmn:extensionElements><zeebe:taskDefinition type="undo"/></bpmn:extensionElements></bpmn:serviceTask>)";
  EXPECT_THAT(Errors(Boundary("attachedToRef=\"t\"", "<bpmn:compensateEventDefinition/>") +
                     handler + Flow("out", "b", "h")),
              ::testing::AllOf(HasSubstr("a compensation boundary event must have a compensation "
                                         "association and no outgoing sequence flows"),
                               HasSubstr("a compensation handler must not have incoming or "
                                         "outgoing sequence flows")));
  EXPECT_THAT(
      Errors(
          StartTo("u") +
          R"(<bpmn:intermediateThrowEvent id="u"><bpmn:compensateEventDefinition activityRef="nope" waitForCompletion="false"/></bpmn:intermediateThrowEvent>)"),
      ::testing::AllOf(HasSubstr("the compensation activity 'nope' does not exist"),
                       HasSubstr("waitForCompletion attribute must be true or absent")));
  EXPECT_THAT(
      Errors(
          StartTo("u") + Service("t") +
          R"(<bpmn:intermediateThrowEvent id="u"><bpmn:compensateEventDefinition activityRef="t"/></bpmn:intermediateThrowEvent>)"),
      HasSubstr("must have a compensation boundary event or be a subprocess"));
}

TEST(ValidatorTest, EndEventsHaveNoOutgoingFlows) {
  EXPECT_THAT(
      Errors(StartTo("e") + "<bpmn:endEvent id=\"e\"/>" + Flow("x", "e", "t") + Service("t")),
      HasSubstr("Element 'e' (END_EVENT, line 6): must not have outgoing sequence flows"));
}

// --- loops -------------------------------------------------------------------------------

TEST(ValidatorTest, StraightThroughLoopsAreRejected) {
  const std::string body = StartTo("a") + "<bpmn:task id=\"a\"/>" + Flow("f1", "a", "gw") +
                           "<bpmn:exclusiveGateway id=\"gw\"/>" + Flow("f2", "gw", "b") +
                           "<bpmn:manualTask id=\"b\"/>" + Flow("f3", "b", "a");
  EXPECT_THAT(Errors(body),
              HasSubstr("Element 'p' (PROCESS, line 3): must not contain a straight-through "
                        "processing loop (elements without a wait state that would run forever): "
                        "a > gw > b > a"));
}

TEST(ValidatorTest, LoopsWithAWaitStateOrOnlyGatewaysAreAllowed) {
  ExpectValid(StartTo("a") + "<bpmn:task id=\"a\"/>" + Flow("f1", "a", "t") + Service("t") +
              Flow("f2", "t", "a"));
  ExpectValid(StartTo("g1") + "<bpmn:exclusiveGateway id=\"g1\"/>" + Flow("f1", "g1", "g2") +
              "<bpmn:exclusiveGateway id=\"g2\"/>" + Flow("f2", "g2", "g1"));
}

TEST(ValidatorTest, LoopThroughSubprocessIsFound) {
  const std::string body = StartTo("sub") + R"(<bpmn:subProcess id="sub">
<bpmn:startEvent id="ss"/><bpmn:sequenceFlow id="sf" sourceRef="ss" targetRef="inner"/><bpmn:task id="inner"/>
</bpmn:subProcess>)" + Flow("back", "sub", "sub");
  EXPECT_THAT(Errors(body), HasSubstr("straight-through processing loop"));
}

// --- FEEL --------------------------------------------------------------------------------

TEST(ValidatorTest, FeelSyntaxErrorsNameTheElementAndAttribute) {
  if (!FeelCompilerAvailable()) GTEST_SKIP() << "built without the feel module";
  EXPECT_THAT(
      Errors(Gateway("default=\"fb\"", R"(<bpmn:sequenceFlow id="fa" sourceRef="gw" targetRef="a">
<bpmn:conditionExpression>= x &gt;</bpmn:conditionExpression></bpmn:sequenceFlow>)" +
                                           Flow("fb", "gw", "b"))),
      ::testing::AllOf(HasSubstr("Element 'fa' (SEQUENCE_FLOW, line 7): 'condition' is not "
                                 "a valid FEEL expression: "),
                       Not(HasSubstr("must not be empty"))));
  EXPECT_THAT(Errors(StartTo("t") + Service("t", "=if")),
              HasSubstr("'zeebe:taskDefinition type' is not a valid FEEL expression"));
  EXPECT_THAT(
      Errors(
          Catch(R"(<bpmn:messageEventDefinition messageRef="m"/>)"),
          R"(<bpmn:message id="m" name="x"><bpmn:extensionElements><zeebe:subscription correlationKey="a +"/></bpmn:extensionElements></bpmn:message>)"),
      HasSubstr("Element 'm' (bpmn:message, line 8): 'zeebe:subscription correlationKey' "
                "is not a valid FEEL expression"));
}

TEST(ValidatorTest, FeelIsCompiledOnceAtDeploy) {
  if (!FeelCompilerAvailable()) GTEST_SKIP() << "built without the feel module";
  auto definitions = ParseOk(
      Model(Gateway("default=\"fb\"", R"(<bpmn:sequenceFlow id="fa" sourceRef="gw" targetRef="a">
<bpmn:conditionExpression>=x &gt; 1</bpmn:conditionExpression></bpmn:sequenceFlow>)" +
                                          Flow("fb", "gw", "b"))));
  ASSERT_NE(definitions, nullptr);
  const Process& process = definitions->processes[0];
  EXPECT_TRUE(process.Find("fa")->condition->is_feel());
  // Static values stay static; always-FEEL attributes are compiled without the '='.
  EXPECT_FALSE(process.Find("start")->condition.has_value());
}

}  // namespace
}  // namespace tern::bpmn
