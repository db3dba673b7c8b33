#include "engine/state/column_families.h"

#include "base/check.h"

namespace tern::engine::state {

std::string_view ColumnFamilyName(ColumnFamily cf) {
  switch (cf) {
    case ColumnFamily::kMeta:
      return "meta";
    case ColumnFamily::kProcessByKey:
      return "process_by_key";
    case ColumnFamily::kProcessKeyByIdAndVersion:
      return "process_key_by_id_and_version";
    case ColumnFamily::kLatestProcessVersion:
      return "latest_process_version";
    case ColumnFamily::kElementInstance:
      return "element_instance";
    case ColumnFamily::kElementInstanceChild:
      return "element_instance_child";
    case ColumnFamily::kVariable:
      return "variable";
    case ColumnFamily::kJob:
      return "job";
    case ColumnFamily::kIncident:
      return "incident";
    case ColumnFamily::kIncidentByElementInstance:
      return "incident_by_element_instance";
    case ColumnFamily::kIncidentByJob:
      return "incident_by_job";
    case ColumnFamily::kAwaitedResult:
      return "awaited_result";
    case ColumnFamily::kDeferredCommand:
      return "deferred_command";
    case ColumnFamily::kPendingDistribution:
      return "pending_distribution";
    case ColumnFamily::kTimer:
      return "timer";
    case ColumnFamily::kTimerByOwner:
      return "timer_by_owner";
    case ColumnFamily::kMessage:
      return "message";
    case ColumnFamily::kMessageByNameAndKey:
      return "message_by_name_and_key";
    case ColumnFamily::kMessageById:
      return "message_by_id";
    case ColumnFamily::kMessageCorrelated:
      return "message_correlated";
    case ColumnFamily::kMessageSubscription:
      return "message_subscription";
    case ColumnFamily::kMessageSubscriptionByNameAndKey:
      return "message_subscription_by_name_and_key";
    case ColumnFamily::kProcessMessageSubscription:
      return "process_message_subscription";
    case ColumnFamily::kMessageStartSubscription:
      return "message_start_subscription";
    case ColumnFamily::kActiveMessageStartInstance:
      return "active_message_start_instance";
    case ColumnFamily::kSignalSubscription:
      return "signal_subscription";
    case ColumnFamily::kSignalSubscriptionByOwner:
      return "signal_subscription_by_owner";
    case ColumnFamily::kEventTrigger:
      return "event_trigger";
    case ColumnFamily::kCompensationSubscription:
      return "compensation_subscription";
    case ColumnFamily::kDeletedResource:
      return "deleted_resource";
    case ColumnFamily::kProcessVersionHighWater:
      return "process_version_high_water";
    case ColumnFamily::kDecisionByKey:
      return "decision_by_key";
    case ColumnFamily::kLatestDecision:
      return "latest_decision";
    case ColumnFamily::kDecisionKeyByIdAndVersion:
      return "decision_key_by_id_and_version";
    case ColumnFamily::kDecisionRequirementsByKey:
      return "decision_requirements_by_key";
    case ColumnFamily::kLatestDecisionRequirements:
      return "latest_decision_requirements";
    case ColumnFamily::kProcessKeyByIdAndDeployment:
      return "process_key_by_id_and_deployment";
    case ColumnFamily::kProcessKeyByIdAndVersionTag:
      return "process_key_by_id_and_version_tag";
    case ColumnFamily::kDecisionKeyByIdAndDeployment:
      return "decision_key_by_id_and_deployment";
    case ColumnFamily::kDecisionKeyByIdAndVersionTag:
      return "decision_key_by_id_and_version_tag";
    case ColumnFamily::kUserTask:
      return "user_task";
    case ColumnFamily::kUserTaskByAssignee:
      return "user_task_by_assignee";
    case ColumnFamily::kUserTaskByCandidateGroup:
      return "user_task_by_candidate_group";
    case ColumnFamily::kUserTaskByCandidateUser:
      return "user_task_by_candidate_user";
    case ColumnFamily::kUserTaskByProcessInstance:
      return "user_task_by_process_instance";
    case ColumnFamily::kPendingMessageCorrelation:
      return "pending_message_correlation";
    case ColumnFamily::kFormByKey:
      return "form_by_key";
    case ColumnFamily::kLatestForm:
      return "latest_form";
    case ColumnFamily::kFormKeyByIdAndVersion:
      return "form_key_by_id_and_version";
    case ColumnFamily::kFormKeyByIdAndDeployment:
      return "form_key_by_id_and_deployment";
    case ColumnFamily::kFormKeyByIdAndVersionTag:
      return "form_key_by_id_and_version_tag";
  }
  TERN_UNREACHABLE("unknown column family ", static_cast<int>(cf));
}

}  // namespace tern::engine::state
