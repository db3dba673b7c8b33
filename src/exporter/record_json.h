#pragma once

// A log record as Zeebe's exporters write it (io.camunda.zeebe.protocol.record.Record as JSON):
// position, key, recordType, valueType and intent as names, partitionId, timestamp, and the
// value with Zeebe's field names. Numbers stay numbers (not proto3 JSON's quoted int64s),
// variables and custom headers are JSON objects, BPMN element and event types are names.

#include <nlohmann/json.hpp>
#include <string>

#include "tern/record.pb.h"

namespace tern::exporter {

// The value part only (the record's oneof), e.g. {"bpmnProcessId": ..., "elementId": ...}.
nlohmann::json RecordValueJson(const record::Record& record);
// The whole record.
nlohmann::json RecordJson(const record::Record& record);
// RecordJson as one line (no newline at the end).
std::string RecordJsonLine(const record::Record& record);

// Zeebe's names.
std::string ValueTypeName(record::ValueType value_type);
std::string RecordTypeName(record::RecordType record_type);

}  // namespace tern::exporter
