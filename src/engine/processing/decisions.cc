#include "engine/processing/decisions.h"

#include "base/strings.h"
#include "feel/feel.h"

namespace tern::engine {
namespace {

constexpr size_t kCachedGraphs = 256;

std::string_view TenantOrDefault(const std::string& tenant) {
  return tenant.empty() ? state::kDefaultTenant : std::string_view(tenant);
}

}  // namespace

std::shared_ptr<const dmn::Drg> DecisionBehavior::Graph(int64_t decision_requirements_key) {
  if (auto it = graphs_.find(decision_requirements_key); it != graphs_.end()) return it->second;
  auto requirements = context_.state().decisions.RequirementsByKey(decision_requirements_key);
  if (!requirements) return nullptr;
  auto parsed = dmn::ParseDmn(requirements->resource(), requirements->resource_name());
  // The resource was validated when it was deployed.
  TERN_CHECK(parsed.ok(), "stored decision requirements ", decision_requirements_key,
             " no longer parse: ", parsed.status().ToString());
  Remember(decision_requirements_key, *parsed);
  return *parsed;
}

void DecisionBehavior::Remember(int64_t decision_requirements_key,
                                std::shared_ptr<const dmn::Drg> graph) {
  if (graphs_.emplace(decision_requirements_key, std::move(graph)).second) {
    order_.push_back(decision_requirements_key);
  }
  while (order_.size() > kCachedGraphs) {
    graphs_.erase(order_.front());
    order_.pop_front();
  }
}

void DecisionBehavior::Evaluate(const record::DecisionRecord& decision, const dmn::Drg& graph,
                                const feel::VariableResolver& variables,
                                record::DecisionEvaluationRecord* out) {
  feel::EvalOptions options = expressions_.Options();
  dmn::EvaluationResult result = dmn::Evaluate(graph, decision.decision_id(), variables, options);
  out->set_decision_key(decision.decision_key());
  out->set_decision_id(decision.decision_id());
  out->set_decision_name(decision.decision_name());
  out->set_decision_version(decision.version());
  out->set_decision_requirements_id(decision.decision_requirements_id());
  out->set_decision_requirements_key(decision.decision_requirements_key());
  out->set_tenant_id(decision.tenant_id());
  auto& decisions = context_.state().decisions;
  for (const dmn::EvaluatedDecision& evaluated : result.evaluated_decisions) {
    record::EvaluatedDecision* entry = out->add_evaluated_decisions();
    entry->set_decision_id(evaluated.decision_id);
    entry->set_decision_name(evaluated.decision_name);
    entry->set_decision_type(std::string(dmn::DecisionTypeName(evaluated.decision_type)));
    entry->set_decision_output(feel::ValueToJson(evaluated.output));
    entry->set_tenant_id(decision.tenant_id());
    if (auto deployed = decisions.Latest(decision.tenant_id(), evaluated.decision_id);
        deployed && deployed->decision_requirements_key() == decision.decision_requirements_key()) {
      entry->set_decision_key(deployed->decision_key());
      entry->set_decision_version(deployed->version());
    } else if (evaluated.decision_id == decision.decision_id()) {
      entry->set_decision_key(decision.decision_key());
      entry->set_decision_version(decision.version());
    }
    for (const dmn::EvaluatedInput& input : evaluated.evaluated_inputs) {
      record::EvaluatedInput* in = entry->add_evaluated_inputs();
      in->set_input_id(input.input_id);
      in->set_input_name(input.input_name);
      in->set_input_value(feel::ValueToJson(input.value));
    }
    for (const dmn::MatchedRule& rule : evaluated.matched_rules) {
      record::MatchedRule* matched = entry->add_matched_rules();
      matched->set_rule_id(rule.rule_id);
      matched->set_rule_index(rule.rule_index);
      for (const dmn::EvaluatedOutput& output : rule.evaluated_outputs) {
        record::EvaluatedOutput* o = matched->add_evaluated_outputs();
        o->set_output_id(output.output_id);
        o->set_output_name(output.output_name);
        o->set_output_value(feel::ValueToJson(output.value));
      }
    }
  }
  if (result.failed()) {
    out->set_failed_decision_id(result.failed_decision_id);
    out->set_evaluation_failure_message(tern::StrCat("Expected to evaluate decision '",
                                                     decision.decision_id(), "', but ",
                                                     result.failure_message));
    return;
  }
  out->set_decision_output(feel::ValueToJson(result.output));
}

absl::StatusOr<std::string> DecisionBehavior::EvaluateForTask(
    const tern::state::ElementInstance& instance, const bpmn::Element& element) {
  const bpmn::CalledDecision& called = *element.called_decision;
  auto decision_id = expressions_.EvaluateString(called.decision_id, instance.key());
  if (!decision_id.ok()) return absl::FailedPreconditionError(decision_id.status().message());
  const auto& value = instance.record();
  auto& decisions = context_.state().decisions;
  const std::string_view tenant = TenantOrDefault(value.tenant_id());
  std::optional<record::DecisionRecord> decision;
  switch (called.binding.type) {
    case bpmn::BindingType::kLatest:
      decision = decisions.Latest(tenant, *decision_id);
      if (!decision) {
        return absl::NotFoundError(tern::StrCat("Expected to evaluate decision '", *decision_id,
                                                "', but no decision found for id '", *decision_id,
                                                "'"));
      }
      break;
    case bpmn::BindingType::kDeployment: {
      auto process = context_.processes().Get(value.process_definition_key());
      const int64_t deployment_key = process != nullptr ? process->deployment_key : 0;
      decision = decisions.ByIdAndDeployment(tenant, *decision_id, deployment_key);
      if (!decision) {
        return absl::NotFoundError(tern::StrCat(
            "Expected to evaluate decision '", *decision_id,
            "' with binding type 'deployment', but no such decision found in the deployment with "
            "key ",
            deployment_key,
            " which contained the current process. To resolve this incident, migrate the process "
            "instance to a process definition that is deployed together with the intended "
            "decision to evaluate."));
      }
      break;
    }
    case bpmn::BindingType::kVersionTag:
      decision = decisions.ByIdAndVersionTag(tenant, *decision_id, called.binding.version_tag);
      if (!decision) {
        return absl::NotFoundError(tern::StrCat(
            "Expected to evaluate decision with id '", *decision_id, "' and version tag '",
            called.binding.version_tag,
            "', but no such decision found. To resolve this incident, deploy a decision with the "
            "given id and version tag."));
      }
      break;
  }
  auto graph = Graph(decision->decision_requirements_key());
  if (!graph) {
    return absl::NotFoundError(tern::StrCat("Expected to evaluate decision '", *decision_id,
                                            "', but its decision requirements are not deployed"));
  }
  ScopeVariableResolver variables(variables_, instance.key());
  record::DecisionEvaluationRecord evaluation;
  Evaluate(*decision, *graph, variables, &evaluation);
  evaluation.set_bpmn_process_id(value.bpmn_process_id());
  evaluation.set_process_definition_key(value.process_definition_key());
  evaluation.set_process_instance_key(value.process_instance_key());
  evaluation.set_element_id(value.element_id());
  evaluation.set_element_instance_key(instance.key());
  bool failed = !evaluation.evaluation_failure_message().empty();
  std::string failure = evaluation.evaluation_failure_message();
  std::string output = evaluation.decision_output();
  context_.AppendEvent(
      context_.NextKey(),
      failed ? DecisionEvaluationIntent::kFailed : DecisionEvaluationIntent::kEvaluated,
      std::move(evaluation));
  if (failed) return absl::FailedPreconditionError(failure);
  return output;
}

void DecisionBehavior::ProcessEvaluate(const record::Record& command) {
  const auto& request = command.decision_evaluation();
  std::string tenant(TenantOrDefault(request.tenant_id()));
  auto& decisions = context_.state().decisions;
  std::optional<record::DecisionRecord> decision;
  if (!request.decision_id().empty()) {
    decision = decisions.Latest(tenant, request.decision_id());
    if (!decision) {
      context_.Reject(
          record::INVALID_ARGUMENT,
          tern::StrCat("Expected to evaluate decision '", request.decision_id(),
                       "', but no decision found for id '", request.decision_id(), "'"));
      return;
    }
  } else if (request.decision_key() > 0) {
    decision = decisions.ByKey(request.decision_key());
    if (!decision || context_.state().processes.IsDeleted(request.decision_key())) {
      context_.Reject(record::INVALID_ARGUMENT,
                      tern::StrCat("Expected to evaluate decision with key '",
                                   request.decision_key(), "', but no such decision was found"));
      return;
    }
  } else {
    context_.Reject(record::INVALID_ARGUMENT,
                    "Expected either a decision id or a valid decision key, but none provided");
    return;
  }
  auto graph = Graph(decision->decision_requirements_key());
  if (!graph) {
    context_.Reject(record::INVALID_ARGUMENT,
                    tern::StrCat("Expected to evaluate decision '", decision->decision_id(),
                                 "', but its decision requirements are not deployed"));
    return;
  }
  feel::Value document = feel::Value::Context(std::vector<std::pair<std::string, feel::Value>>{});
  if (request.variables().find_first_not_of(" \t\r\n") != std::string::npos) {
    auto parsed = feel::ValueFromJson(request.variables());
    if (!parsed.ok() || !parsed->is_context()) {
      context_.Reject(record::INVALID_ARGUMENT,
                      tern::StrCat("Expected variables to be a JSON object, but they are not: ",
                                   parsed.ok() ? "not an object" : parsed.status().message()));
      return;
    }
    document = *std::move(parsed);
  }
  feel::ContextVariableResolver variables(document);
  record::DecisionEvaluationRecord evaluation;
  Evaluate(*decision, *graph, variables, &evaluation);
  evaluation.set_variables(request.variables());
  bool failed = !evaluation.evaluation_failure_message().empty();
  const record::Record& event = context_.AppendEvent(
      context_.NextKey(),
      failed ? DecisionEvaluationIntent::kFailed : DecisionEvaluationIntent::kEvaluated,
      std::move(evaluation));
  context_.Respond(event);
}

}  // namespace tern::engine
