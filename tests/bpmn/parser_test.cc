#include "bpmn/parser.h"

#include "bpmn/expression.h"
#include "bpmn/model.h"
#include "bpmn/support.h"
#include "test_util.h"

namespace tern::bpmn {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::Model;
using testing::ParseError;
using testing::ParseOk;
using testing::ReadTestFile;
using testing::StartTo;
using testing::ZeebeRulesOnly;

const Element& ById(const Process& process, std::string_view id) {
  const Element* element = process.Find(id);
  EXPECT_NE(element, nullptr) << "no element " << id;
  static const Element kMissing;
  return element == nullptr ? kMissing : *element;
}

std::vector<std::string> Ids(const Process& process, const std::vector<ElementIndex>& indexes) {
  std::vector<std::string> ids;
  for (ElementIndex index : indexes) ids.push_back(process.at(index).id);
  return ids;
}

TEST(ParserTest, LoanApprovalFromCamundaModeler) {
  auto definitions = ParseOk(ReadTestFile("loan_approval.bpmn"));
  ASSERT_NE(definitions, nullptr);
  ASSERT_EQ(definitions->processes.size(), 1u);
  const Process& process = definitions->processes[0];
  EXPECT_EQ(process.id, "loan-approval");
  EXPECT_EQ(process.name, "Loan approval");
  EXPECT_TRUE(process.executable);
  EXPECT_EQ(definitions->FindProcess("loan-approval"), &process);

  const Element& root = process.root();
  EXPECT_EQ(root.type, ElementType::kProcess);
  EXPECT_EQ(root.index, 0);
  EXPECT_EQ(root.line, 3);
  EXPECT_EQ(root.flow_scope, kNoElement);
  EXPECT_THAT(Ids(process, root.children),
              ElementsAre("StartEvent_1", "Flow_0start", "check-credit", "Flow_1toGateway",
                          "Gateway_approved", "Flow_approved", "Flow_rejected", "EndEvent_approved",
                          "EndEvent_rejected"));
  EXPECT_THAT(Ids(process, root.start_events), ElementsAre("StartEvent_1"));
  EXPECT_EQ(root.none_start_event, process.Find("StartEvent_1")->index);
  EXPECT_THAT(root.event_subprocesses, IsEmpty());

  const Element& start = ById(process, "StartEvent_1");
  EXPECT_EQ(start.type, ElementType::kStartEvent);
  EXPECT_EQ(start.event_type, EventType::kNone);
  EXPECT_EQ(start.name, "Loan requested");
  EXPECT_EQ(start.line, 5);
  EXPECT_EQ(start.flow_scope, 0);
  EXPECT_THAT(Ids(process, start.outgoing), ElementsAre("Flow_0start"));
  EXPECT_THAT(start.incoming, IsEmpty());

  const Element& task = ById(process, "check-credit");
  EXPECT_EQ(task.type, ElementType::kServiceTask);
  EXPECT_EQ(task.line, 9);
  ASSERT_TRUE(task.task_definition.has_value());
  EXPECT_EQ(task.task_definition->type.text, "check-credit");
  EXPECT_FALSE(task.task_definition->type.is_feel());
  EXPECT_EQ(task.task_definition->retries.text, "5");
  ASSERT_EQ(task.task_headers.size(), 1u);
  EXPECT_EQ(task.task_headers[0].key, "bureau");
  EXPECT_EQ(task.task_headers[0].value, "experian");
  ASSERT_EQ(task.inputs.size(), 1u);
  EXPECT_EQ(task.inputs[0].source.text, "=applicant.id");
  EXPECT_EQ(task.inputs[0].target, "applicantId");
  ASSERT_EQ(task.outputs.size(), 1u);
  EXPECT_EQ(task.outputs[0].source.text, "=score >= 600");  // &gt; unescaped
  EXPECT_EQ(task.outputs[0].target, "approved");
  // FEEL is compiled at deploy; a static input source stays static (see model.h).
  EXPECT_EQ(task.inputs[0].source.is_feel(), FeelCompilerAvailable());
  EXPECT_EQ(task.outputs[0].source.is_feel(), FeelCompilerAvailable());
  EXPECT_THAT(Ids(process, task.incoming), ElementsAre("Flow_0start"));
  EXPECT_THAT(Ids(process, task.outgoing), ElementsAre("Flow_1toGateway"));
  EXPECT_FALSE(task.loop.has_value());

  const Element& gateway = ById(process, "Gateway_approved");
  EXPECT_EQ(gateway.type, ElementType::kExclusiveGateway);
  EXPECT_THAT(Ids(process, gateway.outgoing), ElementsAre("Flow_approved", "Flow_rejected"));
  EXPECT_EQ(gateway.default_flow, process.Find("Flow_rejected")->index);

  const Element& approved = ById(process, "Flow_approved");
  EXPECT_EQ(approved.type, ElementType::kSequenceFlow);
  EXPECT_EQ(approved.source, gateway.index);
  EXPECT_EQ(approved.target, process.Find("EndEvent_approved")->index);
  ASSERT_TRUE(approved.condition.has_value());
  EXPECT_EQ(approved.condition->text, "=approved");
  EXPECT_EQ(approved.condition->is_feel(), FeelCompilerAvailable());
  EXPECT_FALSE(ById(process, "Flow_rejected").condition.has_value());

  EXPECT_EQ(ById(process, "EndEvent_approved").type, ElementType::kEndEvent);
  EXPECT_EQ(ById(process, "EndEvent_rejected").event_type, EventType::kNone);
  for (const Element& element : process.elements) {
    EXPECT_EQ(&process.at(element.index), &element);
    EXPECT_TRUE(IsExecutable(element)) << element.id;
  }
}

// The same loan model in the styles other tools write: the BPMN namespace as the default
// namespace, or under the prefix "bpmn2", and Zeebe under an unusual prefix.
TEST(ParserTest, MatchesElementsByNamespaceNotPrefix) {
  const std::string default_namespace = R"(<?xml version="1.0"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:z="http://camunda.org/schema/zeebe/1.0" id="d">
  <process id="p" isExecutable="true">
    <startEvent id="s"/>
    <sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <serviceTask id="t"><extensionElements><z:taskDefinition type="work"/></extensionElements></serviceTask>
    <sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
    <endEvent id="e"/>
  </process>
</definitions>)";
  const std::string bpmn2 = R"(<?xml version="1.0"?>
<bpmn2:definitions xmlns:bpmn2="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn2:process id="p" isExecutable="true">
    <bpmn2:startEvent id="s"/>
    <bpmn2:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
    <bpmn2:serviceTask id="t"><bpmn2:extensionElements><taskDefinition xmlns="http://camunda.org/schema/zeebe/1.0" type="work"/></bpmn2:extensionElements></bpmn2:serviceTask>
    <bpmn2:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
    <bpmn2:endEvent id="e"/>
  </bpmn2:process>
</bpmn2:definitions>)";
  for (const std::string& xml : {default_namespace, bpmn2}) {
    auto definitions = ParseOk(xml);
    ASSERT_NE(definitions, nullptr);
    const Process& process = definitions->processes[0];
    EXPECT_EQ(process.elements.size(), 6u);
    const Element& task = ById(process, "t");
    EXPECT_EQ(task.type, ElementType::kServiceTask);
    ASSERT_TRUE(task.task_definition.has_value());
    EXPECT_EQ(task.task_definition->type.text, "work");
    EXPECT_EQ(task.task_definition->retries.text, "3");  // Zeebe's default
  }
}

TEST(ParserTest, ElementsOfOtherNamespacesAreIgnored) {
  // A Camunda 7 extension and a foreign element named like a BPMN one must not be taken for
  // Zeebe or BPMN elements.
  const std::string xml = Model(R"(<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="t"/>
<bpmn:serviceTask id="t" xmlns:camunda="http://camunda.org/schema/1.0/bpmn">
  <bpmn:extensionElements>
    <camunda:taskDefinition type="wrong"/>
    <zeebe:taskDefinition type="right"/>
    <camunda:inputOutput><camunda:inputParameter name="x">1</camunda:inputParameter></camunda:inputOutput>
  </bpmn:extensionElements>
</bpmn:serviceTask>
<other:serviceTask xmlns:other="urn:other" id="ghost"/>
<bpmn:sequenceFlow id="f2" sourceRef="t" targetRef="e"/>
<bpmn:endEvent id="e"/>)");
  auto definitions = ParseOk(xml);
  ASSERT_NE(definitions, nullptr);
  const Process& process = definitions->processes[0];
  EXPECT_EQ(process.Find("ghost"), nullptr);
  EXPECT_EQ(ById(process, "t").task_definition->type.text, "right");
}

TEST(ParserTest, SeveralProcessesInOneResource) {
  const std::string xml = R"(<?xml version="1.0"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:collaboration id="c">
    <bpmn:participant id="pa" processRef="a"/>
    <bpmn:participant id="pb" processRef="b"/>
  </bpmn:collaboration>
  <bpmn:process id="a" name="A" isExecutable="true">
    <bpmn:laneSet id="ls"><bpmn:lane id="lane1"><bpmn:flowNodeRef>a_start</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="a_start"/>
  </bpmn:process>
  <bpmn:process id="b" isExecutable="true">
    <bpmn:startEvent id="b_start"/>
    <bpmn:textAnnotation id="note"><bpmn:text>hello</bpmn:text></bpmn:textAnnotation>
    <bpmn:association id="assoc" sourceRef="b_start" targetRef="note"/>
    <bpmn:dataObject id="data"/>
  </bpmn:process>
  <bpmn:process id="c_external" isExecutable="false"/>
</bpmn:definitions>)";
  auto definitions = ParseOk(xml);
  ASSERT_NE(definitions, nullptr);
  ASSERT_EQ(definitions->processes.size(), 3u);
  EXPECT_EQ(definitions->processes[0].id, "a");
  EXPECT_EQ(definitions->processes[0].elements.size(), 2u);  // lanes are modelling only
  EXPECT_EQ(definitions->processes[1].id, "b");
  EXPECT_EQ(definitions->processes[1].elements.size(), 2u);
  EXPECT_FALSE(definitions->processes[2].executable);
  EXPECT_NE(definitions->FindProcess("b"), nullptr);
  EXPECT_EQ(definitions->FindProcess("nope"), nullptr);
}

TEST(ParserTest, IsExecutableDefaultsToFalseAsInZeebe) {
  const std::string xml =
      R"(<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
<bpmn:process id="p"><bpmn:startEvent id="s"/></bpmn:process>
</bpmn:definitions>)";
  EXPECT_THAT(ParseError(xml), HasSubstr("must contain at least one executable process"));
}

TEST(ParserTest, RecordsLineOfEachStartTag) {
  const std::string xml =
      "<bpmn:definitions xmlns:bpmn=\"http://www.omg.org/spec/BPMN/20100524/MODEL\" id=\"d\">\r\n"
      "<bpmn:process id=\"p\" isExecutable=\"true\">\r\n"
      "\r\n"
      "<bpmn:startEvent\r\n  id=\"s\"/>\r\n"
      "<!-- a comment\r\n spanning lines -->\r"  // a lone CR is a line break too
      "<bpmn:endEvent id=\"e\"/>\n"
      "<bpmn:sequenceFlow id=\"f\" sourceRef=\"s\" targetRef=\"e\"/>\n"
      "</bpmn:process></bpmn:definitions>";
  auto definitions = ParseOk(xml);
  ASSERT_NE(definitions, nullptr);
  const Process& process = definitions->processes[0];
  EXPECT_EQ(process.root().line, 2);
  EXPECT_EQ(ById(process, "s").line, 4);
  EXPECT_EQ(ById(process, "e").line, 8);
  EXPECT_EQ(ById(process, "f").line, 9);
}

TEST(ParserTest, Utf8ByteOrderMarkIsAccepted) {
  const std::string xml = "\xEF\xBB\xBF" + Model(R"(<bpmn:startEvent id="s"/>)");
  auto definitions = ParseOk(xml);
  ASSERT_NE(definitions, nullptr);
  EXPECT_EQ(definitions->processes[0].root().line, 3);
  EXPECT_EQ(ById(definitions->processes[0], "s").line, 4);
}

TEST(ParserTest, NamesKeepUnicodeAndEscapes) {
  const std::string xml =
      Model(R"(<bpmn:startEvent id="s" name="Bestellung &#x2705; &amp; Prüfung &lt;1&gt;"/>)");
  auto definitions = ParseOk(xml);
  ASSERT_NE(definitions, nullptr);
  EXPECT_EQ(ById(definitions->processes[0], "s").name,
            "Bestellung \xE2\x9C\x85 & Pr\xC3\xBC"
            "fung <1>");
}

// Every element kind Zeebe knows, parsed with the Tern support check off.
TEST(ParserTest, AllElementKinds) {
  auto definitions = ParseOk(ReadTestFile("all_elements.bpmn"), ZeebeRulesOnly());
  ASSERT_NE(definitions, nullptr);
  const Process& process = *definitions->FindProcess("order");
  const Element& root = process.root();

  // Start events of the process.
  EXPECT_THAT(Ids(process, root.start_events), ElementsAre("start", "msg_start", "timer_start"));
  EXPECT_EQ(root.none_start_event, process.Find("start")->index);
  const Element& msg_start = ById(process, "msg_start");
  EXPECT_EQ(msg_start.event_type, EventType::kMessage);
  ASSERT_TRUE(msg_start.message.has_value());
  EXPECT_EQ(msg_start.message->id, "msg_order");
  EXPECT_EQ(msg_start.message->name->text, "order-placed");
  const Element& timer_start = ById(process, "timer_start");
  ASSERT_TRUE(timer_start.timer.has_value());
  EXPECT_EQ(timer_start.timer->kind, TimerKind::kCycle);
  EXPECT_EQ(timer_start.timer->value.text, "R3/PT10M");

  // Service task with multi-instance.
  const Element& mi = ById(process, "notify_each");
  ASSERT_TRUE(mi.loop.has_value());
  EXPECT_TRUE(mi.loop->sequential);
  EXPECT_EQ(mi.loop->input_collection->text, "=customers");
  EXPECT_EQ(mi.loop->input_element, "customer");
  EXPECT_EQ(mi.loop->output_collection, "results");
  EXPECT_EQ(mi.loop->output_element->text, "=result");
  EXPECT_EQ(mi.loop->output_element_variable, "result");
  EXPECT_EQ(mi.loop->completion_condition->text, "=numberOfCompletedInstances >= 2");

  // Boundary events.
  const Element& task = ById(process, "charge");
  EXPECT_THAT(Ids(process, task.boundary_events),
              ElementsAre("charge_timeout", "charge_failed", "charge_comp"));
  const Element& timeout = ById(process, "charge_timeout");
  EXPECT_EQ(timeout.type, ElementType::kBoundaryEvent);
  EXPECT_EQ(timeout.attached_to, task.index);
  EXPECT_FALSE(timeout.interrupting);
  EXPECT_EQ(timeout.timer->kind, TimerKind::kCycle);
  const Element& failed = ById(process, "charge_failed");
  EXPECT_TRUE(failed.interrupting);
  EXPECT_EQ(failed.error->id, "err_card");
  EXPECT_EQ(failed.error->code->text, "CARD_DECLINED");

  // Embedded subprocess with its own scope.
  const Element& sub = ById(process, "shipping");
  EXPECT_EQ(sub.type, ElementType::kSubProcess);
  EXPECT_EQ(ById(process, "ship_start").flow_scope, sub.index);
  EXPECT_EQ(sub.none_start_event, process.Find("ship_start")->index);
  EXPECT_THAT(Ids(process, sub.children),
              ElementsAre("ship_start", "sf_s1", "pack", "sf_s2", "ship_end"));

  // Event subprocess.
  const Element& esp = ById(process, "cancel_handler");
  EXPECT_EQ(esp.type, ElementType::kEventSubProcess);
  EXPECT_THAT(Ids(process, root.event_subprocesses), ElementsAre("cancel_handler"));
  EXPECT_EQ(esp.none_start_event, kNoElement);
  EXPECT_THAT(Ids(process, esp.start_events), ElementsAre("cancel_start"));
  const Element& cancel_start = ById(process, "cancel_start");
  EXPECT_FALSE(cancel_start.interrupting);
  EXPECT_EQ(cancel_start.message->correlation_key->text, "=orderId");

  // Receive task and message catch events share the message definition.
  const Element& receive = ById(process, "await_payment");
  EXPECT_EQ(receive.type, ElementType::kReceiveTask);
  EXPECT_EQ(receive.message->id, "msg_paid");
  EXPECT_EQ(receive.message->name->text, "=\"paid-\" + orderId");
  EXPECT_EQ(receive.message->correlation_key->text, "orderId");  // always FEEL, no '='
  EXPECT_EQ(receive.message->correlation_key->is_feel(), FeelCompilerAvailable());
  EXPECT_EQ(receive.message->name->is_feel(), FeelCompilerAvailable());

  // Event-based gateway and its targets.
  const Element& ebg = ById(process, "wait_for");
  EXPECT_EQ(ebg.type, ElementType::kEventBasedGateway);
  EXPECT_EQ(ById(process, "wait_signal").signal->name->text, "go");
  EXPECT_EQ(ById(process, "wait_timer").timer->kind, TimerKind::kDuration);

  // Other tasks.
  const Element& user = ById(process, "approve");
  ASSERT_TRUE(user.user_task.has_value());
  EXPECT_TRUE(user.user_task->zeebe_user_task);
  EXPECT_EQ(user.user_task->assignee->text, "=manager");
  EXPECT_EQ(user.user_task->candidate_groups->text, "sales,finance");
  EXPECT_EQ(user.user_task->form_id, "approval-form");
  EXPECT_EQ(user.user_task->due_date->text, "2025-01-01T10:00:00Z");
  EXPECT_FALSE(user.task_definition.has_value());
  const Element& job_user = ById(process, "review");
  ASSERT_TRUE(job_user.task_definition.has_value());
  EXPECT_EQ(job_user.task_definition->type.text, "io.camunda.zeebe:userTask");
  EXPECT_EQ(job_user.user_task->form_key, "camunda-forms:bpmn:form1");

  const Element& script = ById(process, "compute_total");
  EXPECT_EQ(script.script->expression.text, "=sum(items.price)");
  EXPECT_EQ(script.script->result_variable, "total");
  const Element& rule = ById(process, "decide_discount");
  EXPECT_EQ(rule.called_decision->decision_id.text, "discount");
  EXPECT_EQ(rule.called_decision->result_variable, "discount");
  const Element& call = ById(process, "call_invoice");
  EXPECT_EQ(call.called_element->process_id.text, "invoice");
  EXPECT_FALSE(call.called_element->propagate_all_child_variables);
  EXPECT_TRUE(call.called_element->propagate_all_parent_variables);
  EXPECT_EQ(call.properties.at("owner"), "billing");
  const Element& send = ById(process, "send_mail");
  EXPECT_EQ(send.task_definition->type.text, "=\"mail-\" + channel");

  // Throw events.
  EXPECT_EQ(ById(process, "raise").escalation->code->text, "LATE");
  EXPECT_EQ(ById(process, "link_out").link->name, "again");
  EXPECT_EQ(ById(process, "link_in").link->name, "again");
  EXPECT_EQ(ById(process, "stop").event_type, EventType::kTerminate);
  EXPECT_EQ(ById(process, "broadcast").signal->id, "sig_go");

  // Compensation: the boundary event's association names the handler.
  EXPECT_EQ(task.compensation_handler, process.Find("refund")->index);
  EXPECT_TRUE(ById(process, "refund").is_for_compensation);
  EXPECT_EQ(ById(process, "undo").compensation->activity_ref, "charge");

  // Inclusive gateway with a default flow.
  const Element& inclusive = ById(process, "fork");
  EXPECT_EQ(inclusive.type, ElementType::kInclusiveGateway);
  EXPECT_EQ(inclusive.default_flow, process.Find("sf_fork_b")->index);
}

TEST(ParserTest, WhichAttributesAreFeelWithoutTheEqualsSign) {
  const std::string xml = Model(R"(<bpmn:startEvent id="s"/>
<bpmn:sequenceFlow id="f" sourceRef="s" targetRef="t"/>
<bpmn:serviceTask id="t"><bpmn:extensionElements>
  <zeebe:taskDefinition type="static-type" retries="=r"/>
  <zeebe:ioMapping>
    <zeebe:input source="literal" target="a"/>
    <zeebe:output source="b" target="c"/>
  </zeebe:ioMapping>
</bpmn:extensionElements></bpmn:serviceTask>)");
  auto definitions = ParseOk(xml);
  ASSERT_NE(definitions, nullptr);
  const Element& task = ById(definitions->processes[0], "t");
  EXPECT_FALSE(task.task_definition->type.is_feel());
  EXPECT_EQ(task.task_definition->type.static_text(), "static-type");
  EXPECT_EQ(task.task_definition->retries.is_feel(), FeelCompilerAvailable());
  EXPECT_FALSE(task.inputs[0].source.is_feel());  // Zeebe reads it as the string "literal"
  EXPECT_EQ(task.inputs[0].source.text, "literal");
  EXPECT_EQ(task.outputs[0].source.is_feel(), FeelCompilerAvailable());  // always an expression
  EXPECT_EQ(task.outputs[0].source.text, "b");
}

TEST(ParserTest, ReferencesMayCarryANamespacePrefix) {
  const std::string xml = Model(
      R"(<bpmn:startEvent id="s"><bpmn:messageEventDefinition messageRef="tns:m"/></bpmn:startEvent>)",
      R"(<bpmn:message id="m" name="hello"/>)");
  auto definitions = ParseOk(xml, ZeebeRulesOnly());
  ASSERT_NE(definitions, nullptr);
  EXPECT_EQ(ById(definitions->processes[0], "s").message->id, "m");
}

TEST(ParserTest, ModelIsSharedImmutable) {
  auto result = ParseBpmn(ReadTestFile("loan_approval.bpmn"), "loan.bpmn");
  ASSERT_TRUE(result.ok()) << result.status();
  std::shared_ptr<const Definitions> copy = *result;
  EXPECT_EQ(copy.use_count(), 2);
}

TEST(ParserTest, NamesOfTypes) {
  EXPECT_EQ(ElementTypeName(ElementType::kServiceTask), "SERVICE_TASK");
  EXPECT_EQ(ElementTypeName(ElementType::kEventSubProcess), "EVENT_SUB_PROCESS");
  EXPECT_EQ(ElementTypeName(ElementType::kMultiInstanceBody), "MULTI_INSTANCE_BODY");
  EXPECT_EQ(ElementTypeName(ElementType::kBusinessRuleTask), "BUSINESS_RULE_TASK");
  EXPECT_EQ(ElementTypeName(ElementType::kTask), "TASK");
  EXPECT_EQ(EventTypeName(EventType::kTimer), "TIMER");
  EXPECT_EQ(EventTypeName(EventType::kNone), "NONE");
  EXPECT_EQ(EventTypeName(EventType::kCompensation), "COMPENSATION");
  Element task;
  task.type = ElementType::kServiceTask;
  EXPECT_EQ(BpmnEventTypeName(task), "UNSPECIFIED");
  Element start;
  start.type = ElementType::kStartEvent;
  EXPECT_EQ(BpmnEventTypeName(start), "NONE");
  start.event_type = EventType::kMessage;
  EXPECT_EQ(BpmnEventTypeName(start), "MESSAGE");
}

// Zeebe starts each inner instance with the variable an outputElement reads set to null locally;
// the parser finds that variable when the expression is a name or a path into one.
TEST(ParserTest, MultiInstanceOutputElementVariable) {
  const auto variable_of = [](std::string_view output_element) {
    auto definitions =
        ParseOk(Model(StartTo("task") +
                      R"(<bpmn:serviceTask id="task"><bpmn:extensionElements>)"
                      R"(<zeebe:taskDefinition type="t"/></bpmn:extensionElements>)"
                      R"(<bpmn:multiInstanceLoopCharacteristics><bpmn:extensionElements>)"
                      R"(<zeebe:loopCharacteristics inputCollection="=items" )"
                      R"(inputElement="item" outputCollection="out" outputElement=")" +
                      std::string(output_element) +
                      R"("/></bpmn:extensionElements>)"
                      R"(</bpmn:multiInstanceLoopCharacteristics></bpmn:serviceTask>)"));
    if (definitions == nullptr) return std::string("<parse failed>");
    return ById(definitions->processes[0], "task").loop->output_element_variable;
  };
  EXPECT_EQ(variable_of("=result"), "result");
  EXPECT_EQ(variable_of("= order.total "), "order");
  EXPECT_EQ(variable_of("result"), "result");
  EXPECT_EQ(variable_of("=item"), "") << "the inputElement is already local";
  EXPECT_EQ(variable_of("=item.price"), "");
  EXPECT_EQ(variable_of("=loopCounter"), "");
  EXPECT_EQ(variable_of("=item * 10"), "");
  EXPECT_EQ(variable_of("={a: result}"), "");
  EXPECT_EQ(variable_of("=null"), "");
}

}  // namespace
}  // namespace tern::bpmn
