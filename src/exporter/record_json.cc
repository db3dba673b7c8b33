#include "exporter/record_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>

#include "bpmn/model.h"
#include "engine/intent.h"

namespace tern::exporter {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using nlohmann::json;

// Fields that hold a JSON document as text: exported as the document itself (Zeebe's value
// classes hold them as maps). A variable's `value` stays a string, as in Zeebe.
bool IsJsonDocumentField(const FieldDescriptor& field) {
  const std::string& name = field.name();
  return name == "variables" || name == "custom_headers";
}

json ParseOrString(const std::string& text) {
  if (text.empty()) return json::object();
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? json(text) : parsed;
}

std::string Base64(const std::string& bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                 (static_cast<uint8_t>(bytes[i + 1]) << 8) | static_cast<uint8_t>(bytes[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i < bytes.size()) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

json MessageJson(const Message& message);

json ScalarJson(const Message& message, const Reflection& reflection, const FieldDescriptor& field,
                int index) {
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v = repeated ? reflection.GetRepeatedInt32(message, &field, index)
                           : reflection.GetInt32(message, &field);
      if (field.name() == "bpmn_element_type") {
        return std::string(bpmn::ElementTypeName(static_cast<bpmn::ElementType>(v)));
      }
      if (field.name() == "bpmn_event_type") {
        return std::string(bpmn::EventTypeName(static_cast<bpmn::EventType>(v)));
      }
      return v;
    }
    case FieldDescriptor::CPPTYPE_INT64:
      return repeated ? reflection.GetRepeatedInt64(message, &field, index)
                      : reflection.GetInt64(message, &field);
    case FieldDescriptor::CPPTYPE_UINT32:
      return repeated ? reflection.GetRepeatedUInt32(message, &field, index)
                      : reflection.GetUInt32(message, &field);
    case FieldDescriptor::CPPTYPE_UINT64:
      return repeated ? reflection.GetRepeatedUInt64(message, &field, index)
                      : reflection.GetUInt64(message, &field);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return repeated ? reflection.GetRepeatedDouble(message, &field, index)
                      : reflection.GetDouble(message, &field);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return repeated ? reflection.GetRepeatedFloat(message, &field, index)
                      : reflection.GetFloat(message, &field);
    case FieldDescriptor::CPPTYPE_BOOL:
      return repeated ? reflection.GetRepeatedBool(message, &field, index)
                      : reflection.GetBool(message, &field);
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* value = repeated ? reflection.GetRepeatedEnum(message, &field, index)
                                   : reflection.GetEnum(message, &field);
      return value->name();
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string v = repeated ? reflection.GetRepeatedString(message, &field, index)
                               : reflection.GetString(message, &field);
      if (field.type() == FieldDescriptor::TYPE_BYTES) return Base64(v);
      if (IsJsonDocumentField(field)) return ParseOrString(v);
      return v;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageJson(repeated ? reflection.GetRepeatedMessage(message, &field, index)
                                  : reflection.GetMessage(message, &field));
  }
  return nullptr;
}

json MessageJson(const Message& message) {
  json out = json::object();
  const auto* descriptor = message.GetDescriptor();
  const Reflection& reflection = *message.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor& field = *descriptor->field(i);
    if (field.is_repeated()) {
      json items = json::array();
      for (int j = 0; j < reflection.FieldSize(message, &field); ++j) {
        items.push_back(ScalarJson(message, reflection, field, j));
      }
      out[field.json_name()] = std::move(items);
    } else {
      out[field.json_name()] = ScalarJson(message, reflection, field, 0);
    }
  }
  return out;
}

}  // namespace

std::string ValueTypeName(record::ValueType value_type) {
  return record::ValueType_Name(value_type);
}

std::string RecordTypeName(record::RecordType record_type) {
  return record::RecordType_Name(record_type);
}

json RecordValueJson(const record::Record& record) {
  const auto* descriptor = record.GetDescriptor();
  const auto* oneof = descriptor->FindOneofByName("value");
  const auto* field = record.GetReflection()->GetOneofFieldDescriptor(record, oneof);
  if (field == nullptr) return json::object();
  return MessageJson(record.GetReflection()->GetMessage(record, field));
}

json RecordJson(const record::Record& record) {
  json out = json::object();
  out["partitionId"] = record.partition_id();
  out["position"] = record.position();
  out["sourceRecordPosition"] = record.source_record_position();
  out["key"] = record.key();
  out["timestamp"] = record.timestamp();
  out["recordType"] = RecordTypeName(record.record_type());
  out["valueType"] = ValueTypeName(record.value_type());
  out["intent"] = std::string(engine::IntentName(record.value_type(), record.intent()));
  out["rejectionType"] = record::RejectionType_Name(record.rejection_type());
  out["rejectionReason"] = record.rejection_reason();
  out["recordVersion"] = 1;
  out["operationReference"] = record.operation_reference() == 0
                                  ? int64_t{-1}
                                  : static_cast<int64_t>(record.operation_reference());
  out["value"] = RecordValueJson(record);
  return out;
}

std::string RecordJsonLine(const record::Record& record) {
  // Invalid UTF-8 in a string (a variable written by a client) is replaced rather than thrown on.
  return RecordJson(record).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace tern::exporter
