#include "gateway/mapping.h"

#include <nlohmann/json.hpp>

#include "base/status_macros.h"
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
    return absl::InvalidArgumentError(StrCat("Expected '", field, "' to be at most ",
                                             limits.max_variables_bytes,
                                             " bytes of JSON, but it has ", json.size(), " bytes"));
  }
  JsonChecker checker(limits.max_variables_depth);
  bool ok = nlohmann::json::sax_parse(json.begin(), json.end(), &checker,
                                      nlohmann::json::input_format_t::json, /*strict=*/true);
  if (checker.too_deep()) {
    return absl::InvalidArgumentError(StrCat("Expected '", field, "' to be nested at most ",
                                             limits.max_variables_depth,
                                             " levels deep, but it is nested deeper"));
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        StrCat("Invalid JSON value in '", field, "': ", json.substr(0, 128),
               json.size() > 128 ? "..." : "", " (", checker.error(), ")"));
  }
  if (checker.root_type() != "MAP") {
    return absl::InvalidArgumentError(
        StrCat("Expected document to be a root level object, but was '", checker.root_type(), "'"));
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
    case record::INVALID_ARGUMENT:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case record::NOT_FOUND:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case record::ALREADY_EXISTS:
      code = grpc::StatusCode::ALREADY_EXISTS;
      break;
    case record::INVALID_STATE:
      code = grpc::StatusCode::FAILED_PRECONDITION;
      break;
    case record::PROCESSING_ERROR:
      code = grpc::StatusCode::INTERNAL;
      break;
    default:
      break;
  }
  return grpc::Status(code, StrCat("Command '", intent, "' rejected with code '",
                                   record::RejectionType_Name(rejection.rejection_type()),
                                   "': ", rejection.rejection_reason()));
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
  if (status.code() == absl::StatusCode::kAborted) {
    return grpc::Status(grpc::StatusCode::UNKNOWN,
                        StrCat("The outcome of the command is unknown (it may or may not have "
                               "taken effect; check before repeating it): ",
                               ToStd(status.message())));
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

void ToDecisionMetadata(const record::DecisionMetadata& decision,
                        gateway_protocol::DecisionMetadata* out) {
  out->set_dmndecisionid(decision.decision_id());
  out->set_dmndecisionname(decision.decision_name());
  out->set_version(decision.version());
  out->set_decisionkey(decision.decision_key());
  out->set_dmndecisionrequirementsid(decision.decision_requirements_id());
  out->set_decisionrequirementskey(decision.decision_requirements_key());
  out->set_tenantid(decision.tenant_id().empty() ? std::string(kDefaultTenant)
                                                 : decision.tenant_id());
}

void ToDecisionRequirementsMetadata(const record::DecisionRequirementsMetadata& requirements,
                                    gateway_protocol::DecisionRequirementsMetadata* out) {
  out->set_dmndecisionrequirementsid(requirements.decision_requirements_id());
  out->set_dmndecisionrequirementsname(requirements.decision_requirements_name());
  out->set_version(requirements.version());
  out->set_decisionrequirementskey(requirements.decision_requirements_key());
  out->set_resourcename(requirements.resource_name());
  out->set_tenantid(requirements.tenant_id().empty() ? std::string(kDefaultTenant)
                                                     : requirements.tenant_id());
}

void ToDeployResourceResponse(const record::Record& answer,
                              gateway_protocol::DeployResourceResponse* out) {
  const record::DeploymentRecord& deployment = answer.deployment();
  out->set_key(answer.key());
  out->set_tenantid(deployment.tenant_id().empty() ? std::string(kDefaultTenant)
                                                   : deployment.tenant_id());
  for (const auto& process : deployment.processes()) {
    ToProcessMetadata(process, out->add_deployments()->mutable_process());
  }
  for (const auto& decision : deployment.decisions()) {
    ToDecisionMetadata(decision, out->add_deployments()->mutable_decision());
  }
  for (const auto& requirements : deployment.decision_requirements()) {
    ToDecisionRequirementsMetadata(requirements,
                                   out->add_deployments()->mutable_decisionrequirements());
  }
  for (const auto& form : deployment.forms()) {
    gateway_protocol::FormMetadata* metadata = out->add_deployments()->mutable_form();
    metadata->set_formid(form.form_id());
    metadata->set_version(form.version());
    metadata->set_formkey(form.form_key());
    metadata->set_resourcename(form.resource_name());
    metadata->set_tenantid(form.tenant_id().empty() ? std::string(kDefaultTenant)
                                                    : form.tenant_id());
  }
}

void ToEvaluateDecisionResponse(const record::Record& answer,
                                gateway_protocol::EvaluateDecisionResponse* out) {
  const record::DecisionEvaluationRecord& evaluation = answer.decision_evaluation();
  std::string tenant =
      evaluation.tenant_id().empty() ? std::string(kDefaultTenant) : evaluation.tenant_id();
  out->set_decisionkey(evaluation.decision_key());
  out->set_decisionid(evaluation.decision_id());
  out->set_decisionname(evaluation.decision_name());
  out->set_decisionversion(evaluation.decision_version());
  out->set_decisionrequirementsid(evaluation.decision_requirements_id());
  out->set_decisionrequirementskey(evaluation.decision_requirements_key());
  out->set_decisionoutput(evaluation.decision_output());
  out->set_faileddecisionid(evaluation.failed_decision_id());
  out->set_failuremessage(evaluation.evaluation_failure_message());
  out->set_tenantid(tenant);
  out->set_decisioninstancekey(answer.key());
  for (const auto& decision : evaluation.evaluated_decisions()) {
    gateway_protocol::EvaluatedDecision* entry = out->add_evaluateddecisions();
    entry->set_decisionkey(decision.decision_key());
    entry->set_decisionid(decision.decision_id());
    entry->set_decisionname(decision.decision_name());
    entry->set_decisionversion(decision.decision_version());
    entry->set_decisiontype(decision.decision_type());
    entry->set_decisionoutput(decision.decision_output());
    entry->set_tenantid(decision.tenant_id().empty() ? tenant : decision.tenant_id());
    for (const auto& rule : decision.matched_rules()) {
      gateway_protocol::MatchedDecisionRule* matched = entry->add_matchedrules();
      matched->set_ruleid(rule.rule_id());
      matched->set_ruleindex(rule.rule_index());
      for (const auto& output : rule.evaluated_outputs()) {
        gateway_protocol::EvaluatedDecisionOutput* o = matched->add_evaluatedoutputs();
        o->set_outputid(output.output_id());
        o->set_outputname(output.output_name());
        o->set_outputvalue(output.output_value());
      }
    }
    for (const auto& input : decision.evaluated_inputs()) {
      gateway_protocol::EvaluatedDecisionInput* in = entry->add_evaluatedinputs();
      in->set_inputid(input.input_id());
      in->set_inputname(input.input_name());
      in->set_inputvalue(input.input_value());
    }
  }
}

int32_t MessagePartitionId(std::string_view correlation_key, int32_t partition_count) {
  if (partition_count <= 1) return 1;
  // Unsigned arithmetic wraps like Java's int; each byte is sign-extended like Java's byte.
  uint32_t hash = 0;
  for (char c : correlation_key) {
    hash = 31 * hash + static_cast<uint32_t>(static_cast<int32_t>(static_cast<signed char>(c)));
  }
  int32_t remainder = static_cast<int32_t>(hash) % partition_count;  // truncates, as in Java
  return (remainder < 0 ? -remainder : remainder) + 1;
}

absl::StatusOr<record::MessageRecord> MessageFromRequest(
    const gateway_protocol::PublishMessageRequest& request, const RequestLimits& limits) {
  TERN_RETURN_IF_ERROR(CheckTenant(request.tenantid(), "PublishMessage"));
  TERN_RETURN_IF_ERROR(CheckName(request.name(), "name", true, limits));
  TERN_RETURN_IF_ERROR(CheckName(request.correlationkey(), "correlationKey", false, limits));
  TERN_RETURN_IF_ERROR(CheckName(request.messageid(), "messageId", false, limits));
  TERN_RETURN_IF_ERROR(CheckVariables(request.variables(), "variables", limits));
  if (request.timetolive() < 0) {
    return absl::InvalidArgumentError(
        StrCat("Expected 'timeToLive' to be zero or positive, but it was ", request.timetolive()));
  }
  record::MessageRecord message;
  message.set_name(request.name());
  message.set_correlation_key(request.correlationkey());
  message.set_time_to_live(request.timetolive());
  message.set_message_id(request.messageid());
  message.set_variables(request.variables());
  message.set_tenant_id(std::string(kDefaultTenant));
  return message;
}

absl::StatusOr<record::SignalRecord> SignalFromRequest(
    const gateway_protocol::BroadcastSignalRequest& request, const RequestLimits& limits) {
  TERN_RETURN_IF_ERROR(CheckTenant(request.tenantid(), "BroadcastSignal"));
  TERN_RETURN_IF_ERROR(CheckName(request.signalname(), "signalName", true, limits));
  TERN_RETURN_IF_ERROR(CheckVariables(request.variables(), "variables", limits));
  record::SignalRecord signal;
  signal.set_signal_name(request.signalname());
  signal.set_variables(request.variables());
  signal.set_tenant_id(std::string(kDefaultTenant));
  return signal;
}

absl::StatusOr<record::DecisionEvaluationRecord> DecisionEvaluationFromRequest(
    const gateway_protocol::EvaluateDecisionRequest& request, const RequestLimits& limits) {
  TERN_RETURN_IF_ERROR(CheckTenant(request.tenantid(), "EvaluateDecision"));
  TERN_RETURN_IF_ERROR(CheckName(request.decisionid(), "decisionId", false, limits));
  TERN_RETURN_IF_ERROR(CheckVariables(request.variables(), "variables", limits));
  record::DecisionEvaluationRecord evaluation;
  evaluation.set_decision_id(request.decisionid());
  evaluation.set_decision_key(request.decisionkey());
  evaluation.set_variables(request.variables());
  evaluation.set_tenant_id(std::string(kDefaultTenant));
  return evaluation;
}

absl::StatusOr<record::ProcessInstanceModificationRecord> ModificationFromRequest(
    const gateway_protocol::ModifyProcessInstanceRequest& request, const RequestLimits& limits) {
  record::ProcessInstanceModificationRecord modification;
  modification.set_process_instance_key(request.processinstancekey());
  modification.set_tenant_id(std::string(kDefaultTenant));
  for (const auto& instruction : request.activateinstructions()) {
    TERN_RETURN_IF_ERROR(
        CheckName(instruction.elementid(), "activateInstructions.elementId", true, limits));
    record::ActivateInstruction* activate = modification.add_activate_instructions();
    activate->set_element_id(instruction.elementid());
    activate->set_ancestor_scope_key(instruction.ancestorelementinstancekey());
    for (const auto& variables : instruction.variableinstructions()) {
      TERN_RETURN_IF_ERROR(CheckVariables(
          variables.variables(), "activateInstructions.variableInstructions.variables", limits));
      TERN_RETURN_IF_ERROR(CheckName(
          variables.scopeid(), "activateInstructions.variableInstructions.scopeId", false, limits));
      record::VariableInstruction* kept = activate->add_variable_instructions();
      kept->set_variables(variables.variables());
      kept->set_element_id(variables.scopeid());
    }
  }
  for (const auto& instruction : request.terminateinstructions()) {
    modification.add_terminate_instructions(instruction.elementinstancekey());
  }
  return modification;
}

absl::StatusOr<record::ProcessInstanceMigrationRecord> MigrationFromRequest(
    const gateway_protocol::MigrateProcessInstanceRequest& request, const RequestLimits& limits) {
  if (!request.has_migrationplan()) {
    return absl::InvalidArgumentError(
        "Expected 'migrationPlan' to be present, but it was not given");
  }
  record::ProcessInstanceMigrationRecord migration;
  migration.set_process_instance_key(request.processinstancekey());
  migration.set_target_process_definition_key(request.migrationplan().targetprocessdefinitionkey());
  for (const auto& mapping : request.migrationplan().mappinginstructions()) {
    TERN_RETURN_IF_ERROR(CheckName(mapping.sourceelementid(),
                                   "migrationPlan.mappingInstructions.sourceElementId", true,
                                   limits));
    TERN_RETURN_IF_ERROR(CheckName(mapping.targetelementid(),
                                   "migrationPlan.mappingInstructions.targetElementId", true,
                                   limits));
    record::MappingInstruction* kept = migration.add_mapping_instructions();
    kept->set_source_element_id(mapping.sourceelementid());
    kept->set_target_element_id(mapping.targetelementid());
  }
  return migration;
}

}  // namespace tern::gateway
