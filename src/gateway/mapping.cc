#include "gateway/mapping.h"

#include <nlohmann/json.hpp>

#include "base/strings.h"

namespace tern::gateway {
namespace {

// Validates JSON without building a document: counts depth and reports the root's type, so a
// 10,000-deep document costs nothing and cannot overflow a stack.
class JsonChecker : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit JsonChecker(int max_depth) : max_depth_(max_depth) {}

  bool null() override { return Scalar("NIL"); }
  bool boolean(bool) override { return Scalar("BOOLEAN"); }
  bool number_integer(number_integer_t) override { return Scalar("NUMBER"); }
  bool number_unsigned(number_unsigned_t) override { return Scalar("NUMBER"); }
  bool number_float(number_float_t, const string_t&) override { return Scalar("NUMBER"); }
  bool string(string_t&) override { return Scalar("STRING"); }
  bool binary(binary_t&) override { return Scalar("BINARY"); }
  bool start_object(std::size_t) override { return Open("MAP"); }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open("ARRAY"); }
  bool end_array() override { return Close(); }
  bool key(string_t&) override { return true; }
  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception&) override {
    if (error_.empty()) error_ = StrCat("Invalid JSON at position ", position);
    return false;
  }

  const std::string& root_type() const { return root_type_; }
  const std::string& error() const { return error_; }
  bool too_deep() const { return too_deep_; }

 private:
  bool Scalar(const char* type) {
    if (root_type_.empty()) root_type_ = type;
    return true;
  }
  bool Open(const char* type) {
    if (root_type_.empty()) root_type_ = type;
    if (++depth_ > max_depth_) {
      too_deep_ = true;
      return false;
    }
    return true;
  }
  bool Close() {
    --depth_;
    return true;
  }

  int max_depth_;
  int depth_ = 0;
  bool too_deep_ = false;
  std::string root_type_;
  std::string error_;
};

// Rejects bytes that are not UTF-8 (overlong forms and surrogates included).
bool IsValidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t extra;
    uint32_t code_point;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      extra = 1;
      code_point = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      code_point = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      code_point = c & 0x07;
    } else {
      return false;
    }
    if (i + extra >= text.size()) return false;
    for (size_t k = 1; k <= extra; ++k) {
      unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    static constexpr uint32_t kMinimum[] = {0, 0x80, 0x800, 0x10000};
    if (code_point < kMinimum[extra] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += extra + 1;
  }
  return true;
}

}  // namespace

absl::Status CheckVariables(std::string_view json, std::string_view field,
                            const RequestLimits& limits) {
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return absl::OkStatus();
  if (static_cast<int64_t>(json.size()) > limits.max_variables_bytes) {
    return absl::InvalidArgumentError(
        StrCat("Expected '", field, "' to be at most ", limits.max_variables_bytes,
               " bytes of JSON, but it has ", json.size(), " bytes"));
  }
  JsonChecker checker(limits.max_variables_depth);
  bool ok = nlohmann::json::sax_parse(json.begin(), json.end(), &checker,
                                      nlohmann::json::input_format_t::json, /*strict=*/true);
  if (checker.too_deep()) {
    return absl::InvalidArgumentError(StrCat("Expected '", field,
                                             "' to be nested at most ", limits.max_variables_depth,
                                             " levels deep, but it is nested deeper"));
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        StrCat("Invalid JSON value in '", field, "': ", json.substr(0, 128),
               json.size() > 128 ? "..." : "", " (", checker.error(), ")"));
  }
  if (checker.root_type() != "MAP") {
    return absl::InvalidArgumentError(
        StrCat("Expected document to be a root level object, but was '", checker.root_type(),
               "'"));
  }
  return absl::OkStatus();
}

absl::Status CheckName(std::string_view value, std::string_view field, bool required,
                       const RequestLimits& limits) {
  if (required && value.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return absl::InvalidArgumentError(
        StrCat("Expected '", field, "' to be present, but it was blank"));
  }
  if (static_cast<int64_t>(value.size()) > limits.max_name_bytes) {
    return absl::InvalidArgumentError(StrCat("Expected '", field, "' to be at most ",
                                             limits.max_name_bytes, " bytes, but it has ",
                                             value.size(), " bytes"));
  }
  if (!IsValidUtf8(value)) {
    return absl::InvalidArgumentError(StrCat("Expected '", field, "' to be valid UTF-8"));
  }
  return absl::OkStatus();
}

absl::Status CheckTenant(std::string_view tenant_id, std::string_view rpc) {
  if (tenant_id.empty() || tenant_id == kDefaultTenant) return absl::OkStatus();
  return absl::InvalidArgumentError(StrCat("Expected to handle gRPC request ", rpc,
                                           " with tenant identifier '", tenant_id,
                                           "', but multi-tenancy is disabled"));
}

grpc::Status RejectionStatus(const record::Record& rejection, std::string_view intent) {
  grpc::StatusCode code = grpc::StatusCode::UNKNOWN;
  switch (rejection.rejection_type()) {
    case record::INVALID_ARGUMENT: code = grpc::StatusCode::INVALID_ARGUMENT; break;
    case record::NOT_FOUND: code = grpc::StatusCode::NOT_FOUND; break;
    case record::ALREADY_EXISTS: code = grpc::StatusCode::ALREADY_EXISTS; break;
    case record::INVALID_STATE: code = grpc::StatusCode::FAILED_PRECONDITION; break;
    case record::PROCESSING_ERROR: code = grpc::StatusCode::INTERNAL; break;
    default: break;
  }
  return grpc::Status(code, StrCat("Command '", intent, "' rejected with code '",
                                   record::RejectionType_Name(rejection.rejection_type()), "': ",
                                   rejection.rejection_reason()));
}

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(ToStd(status.message())));
}

grpc::Status BrokerErrorStatus(const absl::Status& status) {
  if (status.code() == absl::StatusCode::kDeadlineExceeded) {
    return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                        StrCat("Time out between gateway and broker: ", ToStd(status.message())));
  }
  return ToGrpc(status);
}

void ToActivatedJob(int64_t key, const record::JobRecord& job,
                    gateway_protocol::ActivatedJob* out) {
  out->set_key(key);
  out->set_type(job.type());
  out->set_processinstancekey(job.process_instance_key());
  out->set_bpmnprocessid(job.bpmn_process_id());
  out->set_processdefinitionversion(job.process_definition_version());
  out->set_processdefinitionkey(job.process_definition_key());
  out->set_elementid(job.element_id());
  out->set_elementinstancekey(job.element_instance_key());
  out->set_customheaders(job.custom_headers().empty() ? "{}" : job.custom_headers());
  out->set_worker(job.worker());
  out->set_retries(job.retries());
  out->set_deadline(job.deadline());
  out->set_variables(job.variables().empty() ? "{}" : job.variables());
  out->set_tenantid(job.tenant_id().empty() ? std::string(kDefaultTenant) : job.tenant_id());
}

void ToProcessMetadata(const record::ProcessMetadata& process,
                       gateway_protocol::ProcessMetadata* out) {
  out->set_bpmnprocessid(process.bpmn_process_id());
  out->set_version(process.version());
  out->set_processdefinitionkey(process.process_definition_key());
  out->set_resourcename(process.resource_name());
  out->set_tenantid(process.tenant_id().empty() ? std::string(kDefaultTenant)
                                                : process.tenant_id());
}

}  // namespace tern::gateway
