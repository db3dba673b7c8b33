#include "bpmn/model.h"

namespace tern::bpmn {

std::string_view ElementTypeName(ElementType type) {
  switch (type) {
    case ElementType::kUnspecified:
      return "UNSPECIFIED";
    case ElementType::kProcess:
      return "PROCESS";
    case ElementType::kSubProcess:
      return "SUB_PROCESS";
    case ElementType::kEventSubProcess:
      return "EVENT_SUB_PROCESS";
    case ElementType::kCallActivity:
      return "CALL_ACTIVITY";
    case ElementType::kStartEvent:
      return "START_EVENT";
    case ElementType::kEndEvent:
      return "END_EVENT";
    case ElementType::kIntermediateCatchEvent:
      return "INTERMEDIATE_CATCH_EVENT";
    case ElementType::kIntermediateThrowEvent:
      return "INTERMEDIATE_THROW_EVENT";
    case ElementType::kBoundaryEvent:
      return "BOUNDARY_EVENT";
    case ElementType::kServiceTask:
      return "SERVICE_TASK";
    case ElementType::kSendTask:
      return "SEND_TASK";
    case ElementType::kReceiveTask:
      return "RECEIVE_TASK";
    case ElementType::kUserTask:
      return "USER_TASK";
    case ElementType::kManualTask:
      return "MANUAL_TASK";
    case ElementType::kScriptTask:
      return "SCRIPT_TASK";
    case ElementType::kBusinessRuleTask:
      return "BUSINESS_RULE_TASK";
    case ElementType::kTask:
      return "TASK";
    case ElementType::kExclusiveGateway:
      return "EXCLUSIVE_GATEWAY";
    case ElementType::kParallelGateway:
      return "PARALLEL_GATEWAY";
    case ElementType::kInclusiveGateway:
      return "INCLUSIVE_GATEWAY";
    case ElementType::kEventBasedGateway:
      return "EVENT_BASED_GATEWAY";
    case ElementType::kSequenceFlow:
      return "SEQUENCE_FLOW";
    case ElementType::kMultiInstanceBody:
      return "MULTI_INSTANCE_BODY";
    // Not in Zeebe's BpmnElementType (Zeebe rejects them at deploy); named after the BPMN
    // element so rejection messages read naturally.
    case ElementType::kComplexGateway:
      return "COMPLEX_GATEWAY";
    case ElementType::kTransaction:
      return "TRANSACTION";
    case ElementType::kAdHocSubProcess:
      return "AD_HOC_SUB_PROCESS";
  }
  return "UNSPECIFIED";
}

std::string_view EventTypeName(EventType type) {
  switch (type) {
    case EventType::kNone:
      return "NONE";
    case EventType::kMessage:
      return "MESSAGE";
    case EventType::kTimer:
      return "TIMER";
    case EventType::kError:
      return "ERROR";
    case EventType::kSignal:
      return "SIGNAL";
    case EventType::kEscalation:
      return "ESCALATION";
    case EventType::kCompensation:
      return "COMPENSATION";
    case EventType::kTerminate:
      return "TERMINATE";
    case EventType::kLink:
      return "LINK";
    case EventType::kConditional:
      return "CONDITIONAL";
    // Not in Zeebe's BpmnEventType: such events never reach a record.
    case EventType::kCancel:
      return "CANCEL";
    case EventType::kMultiple:
      return "MULTIPLE";
  }
  return "UNSPECIFIED";
}

std::string_view BpmnEventTypeName(const Element& element) {
  return element.is_event() ? EventTypeName(element.event_type) : "UNSPECIFIED";
}

}  // namespace tern::bpmn
