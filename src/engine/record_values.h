#pragma once

// Typed helpers to put a value into a Record's oneof and name its value type.

#include "engine/intent.h"
#include "tern/record.pb.h"

namespace tern::engine {

#define TERN_RECORD_VALUE(ValueClass, accessor, value_type_enum, IntentEnum)      \
  inline void SetValue(record::Record& record, const record::ValueClass& value) { \
    record.set_value_type(record::value_type_enum);                               \
    *record.mutable_##accessor() = value;                                         \
  }                                                                               \
  inline void SetValue(record::Record& record, record::ValueClass&& value) {      \
    record.set_value_type(record::value_type_enum);                               \
    *record.mutable_##accessor() = std::move(value);                              \
  }                                                                               \
  inline constexpr record::ValueType ValueTypeOf(IntentEnum) { return record::value_type_enum; }

TERN_RECORD_VALUE(DeploymentRecord, deployment, DEPLOYMENT, DeploymentIntent)
TERN_RECORD_VALUE(ProcessRecord, process, PROCESS, ProcessIntent)
TERN_RECORD_VALUE(ProcessInstanceRecord, process_instance, PROCESS_INSTANCE, ProcessInstanceIntent)
TERN_RECORD_VALUE(ProcessInstanceCreationRecord, process_instance_creation,
                  PROCESS_INSTANCE_CREATION, ProcessInstanceCreationIntent)
TERN_RECORD_VALUE(ProcessInstanceResultRecord, process_instance_result, PROCESS_INSTANCE_RESULT,
                  ProcessInstanceResultIntent)
TERN_RECORD_VALUE(JobRecord, job, JOB, JobIntent)
TERN_RECORD_VALUE(JobBatchRecord, job_batch, JOB_BATCH, JobBatchIntent)
TERN_RECORD_VALUE(VariableRecord, variable, VARIABLE, VariableIntent)
TERN_RECORD_VALUE(VariableDocumentRecord, variable_document, VARIABLE_DOCUMENT,
                  VariableDocumentIntent)
TERN_RECORD_VALUE(IncidentRecord, incident, INCIDENT, IncidentIntent)
TERN_RECORD_VALUE(CommandDistributionRecord, command_distribution, COMMAND_DISTRIBUTION,
                  CommandDistributionIntent)
TERN_RECORD_VALUE(MessageRecord, message, MESSAGE, MessageIntent)
TERN_RECORD_VALUE(MessageSubscriptionRecord, message_subscription, MESSAGE_SUBSCRIPTION,
                  MessageSubscriptionIntent)
TERN_RECORD_VALUE(ProcessMessageSubscriptionRecord, process_message_subscription,
                  PROCESS_MESSAGE_SUBSCRIPTION, ProcessMessageSubscriptionIntent)
TERN_RECORD_VALUE(MessageStartEventSubscriptionRecord, message_start_event_subscription,
                  MESSAGE_START_EVENT_SUBSCRIPTION, MessageStartEventSubscriptionIntent)
TERN_RECORD_VALUE(TimerRecord, timer, TIMER, TimerIntent)
TERN_RECORD_VALUE(SignalRecord, signal, SIGNAL, SignalIntent)
TERN_RECORD_VALUE(SignalSubscriptionRecord, signal_subscription, SIGNAL_SUBSCRIPTION,
                  SignalSubscriptionIntent)
TERN_RECORD_VALUE(EscalationRecord, escalation, ESCALATION, EscalationIntent)
TERN_RECORD_VALUE(ProcessEventRecord, process_event, PROCESS_EVENT, ProcessEventIntent)
TERN_RECORD_VALUE(ProcessInstanceBatchRecord, process_instance_batch, PROCESS_INSTANCE_BATCH,
                  ProcessInstanceBatchIntent)
TERN_RECORD_VALUE(ProcessInstanceModificationRecord, process_instance_modification,
                  PROCESS_INSTANCE_MODIFICATION, ProcessInstanceModificationIntent)
TERN_RECORD_VALUE(ProcessInstanceMigrationRecord, process_instance_migration,
                  PROCESS_INSTANCE_MIGRATION, ProcessInstanceMigrationIntent)
TERN_RECORD_VALUE(ResourceDeletionRecord, resource_deletion, RESOURCE_DELETION,
                  ResourceDeletionIntent)
TERN_RECORD_VALUE(DecisionRecord, decision, DECISION, DecisionIntent)
TERN_RECORD_VALUE(DecisionRequirementsRecord, decision_requirements, DECISION_REQUIREMENTS,
                  DecisionRequirementsIntent)
TERN_RECORD_VALUE(DecisionEvaluationRecord, decision_evaluation, DECISION_EVALUATION,
                  DecisionEvaluationIntent)
TERN_RECORD_VALUE(CompensationSubscriptionRecord, compensation_subscription,
                  COMPENSATION_SUBSCRIPTION, CompensationSubscriptionIntent)
TERN_RECORD_VALUE(UserTaskRecord, user_task, USER_TASK, UserTaskIntent)
TERN_RECORD_VALUE(MessageCorrelationRecord, message_correlation, MESSAGE_CORRELATION,
                  MessageCorrelationIntent)
TERN_RECORD_VALUE(CheckpointRecord, checkpoint, CHECKPOINT, CheckpointIntent)
TERN_RECORD_VALUE(FormRecord, form, FORM, FormIntent)

#undef TERN_RECORD_VALUE

// Builds a command record (as a client or a processor would) with the given intent and value.
template <typename IntentEnum, typename Value>
record::Record MakeCommand(int64_t key, IntentEnum intent, Value&& value) {
  record::Record command;
  command.set_record_type(record::COMMAND);
  command.set_key(key);
  command.set_intent(ToInt(intent));
  SetValue(command, std::forward<Value>(value));
  return command;
}

// The value type named by the record's value (the oneof case); records from the gateway may
// leave value_type unset.
inline record::ValueType ValueTypeOfValue(const record::Record& record) {
  switch (record.value_case()) {
    case record::Record::kDeployment:
      return record::DEPLOYMENT;
    case record::Record::kProcess:
      return record::PROCESS;
    case record::Record::kProcessInstance:
      return record::PROCESS_INSTANCE;
    case record::Record::kProcessInstanceCreation:
      return record::PROCESS_INSTANCE_CREATION;
    case record::Record::kJob:
      return record::JOB;
    case record::Record::kJobBatch:
      return record::JOB_BATCH;
    case record::Record::kVariable:
      return record::VARIABLE;
    case record::Record::kVariableDocument:
      return record::VARIABLE_DOCUMENT;
    case record::Record::kIncident:
      return record::INCIDENT;
    case record::Record::kProcessInstanceResult:
      return record::PROCESS_INSTANCE_RESULT;
    case record::Record::kMessage:
      return record::MESSAGE;
    case record::Record::kMessageSubscription:
      return record::MESSAGE_SUBSCRIPTION;
    case record::Record::kProcessMessageSubscription:
      return record::PROCESS_MESSAGE_SUBSCRIPTION;
    case record::Record::kMessageStartEventSubscription:
      return record::MESSAGE_START_EVENT_SUBSCRIPTION;
    case record::Record::kTimer:
      return record::TIMER;
    case record::Record::kSignal:
      return record::SIGNAL;
    case record::Record::kSignalSubscription:
      return record::SIGNAL_SUBSCRIPTION;
    case record::Record::kEscalation:
      return record::ESCALATION;
    case record::Record::kError:
      return record::ERROR;
    case record::Record::kDecision:
      return record::DECISION;
    case record::Record::kDecisionRequirements:
      return record::DECISION_REQUIREMENTS;
    case record::Record::kDecisionEvaluation:
      return record::DECISION_EVALUATION;
    case record::Record::kProcessInstanceModification:
      return record::PROCESS_INSTANCE_MODIFICATION;
    case record::Record::kProcessInstanceMigration:
      return record::PROCESS_INSTANCE_MIGRATION;
    case record::Record::kResourceDeletion:
      return record::RESOURCE_DELETION;
    case record::Record::kCommandDistribution:
      return record::COMMAND_DISTRIBUTION;
    case record::Record::kClock:
      return record::CLOCK;
    case record::Record::kForm:
      return record::FORM;
    case record::Record::kProcessEvent:
      return record::PROCESS_EVENT;
    case record::Record::kProcessInstanceBatch:
      return record::PROCESS_INSTANCE_BATCH;
    case record::Record::kCompensationSubscription:
      return record::COMPENSATION_SUBSCRIPTION;
    case record::Record::kUserTask:
      return record::USER_TASK;
    case record::Record::kMessageCorrelation:
      return record::MESSAGE_CORRELATION;
    case record::Record::kCheckpoint:
      return record::CHECKPOINT;
    case record::Record::VALUE_NOT_SET:
      return record::VALUE_TYPE_UNSPECIFIED;
  }
  return record::VALUE_TYPE_UNSPECIFIED;
}

template <typename IntentEnum>
bool Is(const record::Record& record, IntentEnum intent) {
  return record.value_type() == ValueTypeOf(intent) && record.intent() == ToInt(intent);
}

}  // namespace tern::engine
