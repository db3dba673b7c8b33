#pragma once

// BPMN models used by the engine tests, written the way Camunda Modeler writes them.

#include <string>

#include "base/strings.h"

namespace tern::engine::models {

inline constexpr char kHeader[] = R"(<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="Definitions_1"
  targetNamespace="http://bpmn.io/schema/bpmn">
)";

inline const std::string kOneTask = std::string(kHeader) + R"(
  <bpmn:process id="one-task" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />
    <bpmn:serviceTask id="task" name="Work">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="work" />
        <zeebe:taskHeaders><zeebe:header key="priority" value="high" /></zeebe:taskHeaders>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
)";

inline std::string LoanApproval(bool with_default) {
  std::string rejected_flow =
      with_default
          ? R"(<bpmn:sequenceFlow id="no" sourceRef="decision" targetRef="rejected-end" />)"
          : R"(<bpmn:sequenceFlow id="no" sourceRef="decision" targetRef="rejected-end">
        <bpmn:conditionExpression>=approved = false</bpmn:conditionExpression>
      </bpmn:sequenceFlow>)";
  std::string default_attr = with_default ? R"( default="no")" : "";
  return std::string(kHeader) + R"(
  <bpmn:process id="loan-approval" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="check" />
    <bpmn:serviceTask id="check" name="Check credit">
      <bpmn:extensionElements><zeebe:taskDefinition type="check-credit" /></bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="check" targetRef="decision" />
    <bpmn:exclusiveGateway id="decision")" +
         default_attr + R"(>
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>yes</bpmn:outgoing><bpmn:outgoing>no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="yes" sourceRef="decision" targetRef="approved-end">
      <bpmn:conditionExpression>=approved</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    )" + rejected_flow +
         R"(
    <bpmn:endEvent id="approved-end"><bpmn:incoming>yes</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="rejected-end"><bpmn:incoming>no</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
)";
}

inline const std::string kLoanApproval = LoanApproval(true);
inline const std::string kLoanApprovalNoDefault = LoanApproval(false);

inline const std::string kParallel = std::string(kHeader) + R"(
  <bpmn:process id="parallel" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fork" />
    <bpmn:parallelGateway id="fork">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>fa</bpmn:outgoing><bpmn:outgoing>fb</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:sequenceFlow id="fa" sourceRef="fork" targetRef="task-a" />
    <bpmn:sequenceFlow id="fb" sourceRef="fork" targetRef="task-b" />
    <bpmn:serviceTask id="task-a">
      <bpmn:extensionElements><zeebe:taskDefinition type="a" /></bpmn:extensionElements>
      <bpmn:incoming>fa</bpmn:incoming><bpmn:outgoing>ja</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:serviceTask id="task-b">
      <bpmn:extensionElements><zeebe:taskDefinition type="b" /></bpmn:extensionElements>
      <bpmn:incoming>fb</bpmn:incoming><bpmn:outgoing>jb</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="ja" sourceRef="task-a" targetRef="join" />
    <bpmn:sequenceFlow id="jb" sourceRef="task-b" targetRef="join" />
    <bpmn:parallelGateway id="join">
      <bpmn:incoming>ja</bpmn:incoming><bpmn:incoming>jb</bpmn:incoming><bpmn:outgoing>f9</bpmn:outgoing>
    </bpmn:parallelGateway>
    <bpmn:sequenceFlow id="f9" sourceRef="join" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f9</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
)";

inline const std::string kMappings = std::string(kHeader) + R"(
  <bpmn:process id="mappings" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="task" />
    <bpmn:serviceTask id="task">
      <bpmn:extensionElements>
        <zeebe:taskDefinition type="work" retries="=1 + 1" />
        <zeebe:ioMapping>
          <zeebe:input source="=order.id" target="orderId" />
          <zeebe:input source="=order.total * 2" target="doubled" />
          <zeebe:output source="=result" target="status" />
        </zeebe:ioMapping>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:serviceTask>
    <bpmn:sequenceFlow id="f2" sourceRef="task" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
)";

// start -> n manual tasks in a row -> end: a long chain without wait states.
inline std::string Chain(int n) {
  std::string xml = std::string(kHeader) + R"(<bpmn:process id="chain" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f0</bpmn:outgoing></bpmn:startEvent>)";
  for (int i = 0; i < n; ++i) {
    xml += StrCat(R"(<bpmn:sequenceFlow id="f)", i, R"(" sourceRef=")",
                  i == 0 ? std::string("start") : StrCat("m", i - 1), R"(" targetRef="m)", i,
                  R"(" />)");
    xml += StrCat(R"(<bpmn:manualTask id="m)", i, R"("><bpmn:incoming>f)", i,
                  R"(</bpmn:incoming><bpmn:outgoing>f)", i + 1,
                  R"(</bpmn:outgoing></bpmn:manualTask>)");
  }
  xml += StrCat(R"(<bpmn:sequenceFlow id="f)", n, R"(" sourceRef="m)", n - 1,
                R"(" targetRef="end" /><bpmn:endEvent id="end"><bpmn:incoming>f)", n,
                R"(</bpmn:incoming></bpmn:endEvent></bpmn:process></bpmn:definitions>)");
  return xml;
}

}  // namespace tern::engine::models
