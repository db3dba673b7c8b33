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

template <typename IntentEnum>
bool Is(const record::Record& record, IntentEnum intent) {
  return record.value_type() == ValueTypeOf(intent) && record.intent() == ToInt(intent);
}

}  // namespace tern::engine
