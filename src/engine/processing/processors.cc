#include "engine/processing/processors.h"

#include <map>
#include <set>

#include "absl/strings/str_join.h"
#include "base/strings.h"
#include "bpmn/parser.h"
#include "bpmn/timer_expression.h"
#include "engine/distribution_checks.h"
#include "engine/forms.h"

namespace tern::engine {
namespace {

using tern::state::JobState;

std::string_view JobStateName(JobState::State state) {
  switch (state) {
    case JobState::ACTIVATABLE:
      return "ACTIVATABLE";
    case JobState::ACTIVATED:
      return "ACTIVATED";
    case JobState::FAILED:
      return "FAILED";
    case JobState::ERROR_THROWN:
      return "ERROR_THROWN";
    default:
      return "UNKNOWN";
  }
}

std::string_view TenantOrDefault(const std::string& tenant) {
  return tenant.empty() ? state::kDefaultTenant : std::string_view(tenant);
}

// Zeebe's verb for each job intent in rejection messages ("Expected to complete job ...").
std::string_view JobVerb(JobIntent intent) {
  switch (intent) {
    case JobIntent::kComplete:
      return "complete";
    case JobIntent::kFail:
      return "fail";
    case JobIntent::kThrowError:
      return "throw an error for";
    case JobIntent::kUpdateRetries:
      return "update retries of";
    case JobIntent::kUpdateTimeout:
      return "update the timeout of";
    case JobIntent::kTimeOut:
      return "time out";
    case JobIntent::kYield:
      return "yield";
    default:
      return "process";
  }
}

enum class ResourceKind { kBpmn, kDmn, kForm, kUnknown };

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

ResourceKind KindOf(std::string_view name) {
  if (EndsWith(name, ".bpmn") || EndsWith(name, ".xml")) return ResourceKind::kBpmn;
  if (EndsWith(name, ".dmn")) return ResourceKind::kDmn;
  if (EndsWith(name, ".form")) return ResourceKind::kForm;
  return ResourceKind::kUnknown;
}

}  // namespace

// --- Deployments -------------------------------------------------------------------------------

void DeploymentProcessor::CheckTimers(const bpmn::Process& process, std::string_view resource_name,
                                      std::vector<std::string>& errors) {
  // The validator checked each static text's form; here each timer is evaluated at the
  // deployment's time, which the validator cannot know (a duration past year 9999 from now, a
  // cron expression that never fires again). A timer start event's FEEL expression is evaluated
  // now, without variables.
  for (const bpmn::Element& element : process.elements) {
    if (!element.timer) continue;
    const bool process_start = element.type == bpmn::ElementType::kStartEvent &&
                               element.flow_scope == process.root().index;
    absl::Status status;
    if (!element.timer->value.is_feel()) {
      status = bpmn::timers::ScheduleFromText(
                   element.timer->kind, element.timer->value.static_text(), context_.timestamp())
                   .status();
    } else if (process_start) {
      status = events_.EvaluateTimer(*element.timer, -1).status();
    }
    if (!status.ok()) {
      errors.push_back(tern::StrCat("'", resource_name, "': Element '", element.id,
                                    "' (timer): ", status.message()));
    }
  }
}

void DeploymentProcessor::MoveStartEvents(const record::ProcessRecord& created, bool with_timers) {
  auto& processes = context_.state().processes;
  auto latest = processes.Latest(created.tenant_id(), created.bpmn_process_id());
  if (!latest || latest->process_definition_key() != created.process_definition_key()) return;
  // The newest earlier version still deployed had the start events until now.
  for (int32_t version = created.version() - 1; version > 0; --version) {
    auto previous =
        processes.KeyByIdAndVersion(created.tenant_id(), created.bpmn_process_id(), version);
    if (!previous) continue;
    events_.CloseStartEvents(*previous);
    break;
  }
  auto model = context_.processes().Get(created.process_definition_key());
  TERN_CHECK(model != nullptr);
  events_.OpenStartEvents(created, *model->process, with_timers);
}

void DeploymentProcessor::Process(const record::Record& command) {
  const auto& deployment = command.deployment();
  if (deployment.resources().empty()) {
    context_.Reject(record::INVALID_ARGUMENT,
                    "Expected to deploy at least one resource, but none given");
    return;
  }
  std::string tenant(TenantOrDefault(deployment.tenant_id()));

  struct Parsed {
    const record::DeploymentResource* resource;
    std::shared_ptr<const bpmn::Definitions> definitions;
  };
  struct ParsedDmn {
    const record::DeploymentResource* resource;
    std::shared_ptr<const dmn::Drg> graph;
  };
  struct ParsedForm {
    const record::DeploymentResource* resource;
    FormInfo info;
  };
  std::vector<Parsed> parsed;
  std::vector<ParsedDmn> parsed_dmn;
  std::vector<ParsedForm> parsed_forms;
  std::map<std::string, std::string> form_ids;  // form id -> resource name
  std::vector<std::string> errors;
  std::map<std::string, std::string> process_ids;   // bpmn process id -> resource name
  std::map<std::string, std::string> drg_ids;       // decision requirements id -> resource name
  std::map<std::string, std::string> decision_ids;  // decision id -> resource name
  std::set<std::string> resource_names;
  for (const auto& resource : deployment.resources()) {
    if (!resource_names.insert(resource.resource_name()).second) {
      // Partitions find a distributed deployment's resources by name.
      errors.push_back(tern::StrCat("Duplicated resource name '", resource.resource_name(),
                                    "' in the deployment"));
      continue;
    }
    switch (KindOf(resource.resource_name())) {
      case ResourceKind::kBpmn: {
        auto definitions = bpmn::ParseBpmn(resource.resource(), resource.resource_name());
        if (!definitions.ok()) {
          // The parser's message names the resource.
          errors.push_back(std::string(definitions.status().message()));
          break;
        }
        for (const auto& process : (*definitions)->processes) {
          if (!process.executable) continue;
          auto [it, inserted] = process_ids.emplace(process.id, resource.resource_name());
          if (!inserted) {
            errors.push_back(tern::StrCat("Duplicated process id in resources '", it->second,
                                          "' and '", resource.resource_name(), "'"));
          }
          CheckTimers(process, resource.resource_name(), errors);
        }
        parsed.push_back({&resource, *std::move(definitions)});
        break;
      }
      case ResourceKind::kDmn: {
        auto graph = dmn::ParseDmn(resource.resource(), resource.resource_name());
        if (!graph.ok()) {
          errors.push_back(std::string(graph.status().message()));
          break;
        }
        auto [it, inserted] = drg_ids.emplace((*graph)->id(), resource.resource_name());
        if (!inserted) {
          errors.push_back(tern::StrCat("Duplicated decision requirements id '", (*graph)->id(),
                                        "' in resources '", it->second, "' and '",
                                        resource.resource_name(), "'"));
        }
        for (const auto& decision : (*graph)->decisions()) {
          auto [d, fresh] = decision_ids.emplace(decision.id, resource.resource_name());
          if (!fresh) {
            errors.push_back(tern::StrCat("Duplicated decision id '", decision.id,
                                          "' in resources '", d->second, "' and '",
                                          resource.resource_name(), "'"));
          }
        }
        parsed_dmn.push_back({&resource, *std::move(graph)});
        break;
      }
      case ResourceKind::kForm: {
        auto form = ReadForm(resource.resource(), resource.resource_name());
        if (!form.ok()) {
          errors.push_back(std::string(form.status().message()));
          break;
        }
        auto [f, fresh] = form_ids.emplace(form->id, resource.resource_name());
        if (!fresh) {
          errors.push_back(tern::StrCat("Duplicated form id '", form->id, "' in resources '",
                                        f->second, "' and '", resource.resource_name(), "'"));
        }
        parsed_forms.push_back({&resource, *std::move(form)});
        break;
      }
      case ResourceKind::kUnknown:
        errors.push_back(tern::StrCat("'", resource.resource_name(), "': unknown resource type"));
        break;
    }
  }
  if (!errors.empty()) {
    context_.Reject(record::INVALID_ARGUMENT,
                    tern::StrCat("Expected to deploy new resources, but encountered the following "
                                 "errors:\n",
                                 absl::StrJoin(errors, "\n")));
    return;
  }

  int64_t deployment_key = context_.NextKey();
  record::DeploymentRecord created;
  created.set_tenant_id(tenant);
  created.set_legacy_deploy_process(deployment.legacy_deploy_process());
  auto& processes = context_.state().processes;
  auto& decisions = context_.state().decisions;
  // Zeebe 8.6 versions the resources of a deployment together: unless every resource is an
  // identical redeploy, each becomes a new version of this deployment, so that a call activity
  // or business rule task bound to its deployment finds its partners.
  bool all_duplicates = true;
  for (const auto& [resource, definitions] : parsed) {
    for (const auto& process : definitions->processes) {
      if (!process.executable) continue;
      auto latest = processes.Latest(tenant, process.id);
      all_duplicates &= latest && latest->resource_name() == resource->resource_name() &&
                        latest->resource() == resource->resource();
    }
  }
  for (const auto& [resource, graph] : parsed_dmn) {
    auto latest = decisions.LatestRequirements(tenant, graph->id());
    all_duplicates &= latest && latest->resource_name() == resource->resource_name() &&
                      latest->resource() == resource->resource();
  }
  auto& forms = context_.state().forms;
  for (const auto& [resource, info] : parsed_forms) {
    auto latest = forms.Latest(tenant, info.id);
    all_duplicates &= latest && latest->resource_name() == resource->resource_name() &&
                      latest->resource() == resource->resource();
  }
  std::vector<record::ProcessRecord> new_processes;
  for (const auto& [resource, definitions] : parsed) {
    record::DeploymentResource* kept = created.add_resources();
    kept->set_resource_name(resource->resource_name());
    for (const auto& process : definitions->processes) {
      if (!process.executable) continue;
      record::ProcessMetadata* metadata = created.add_processes();
      metadata->set_bpmn_process_id(process.id);
      metadata->set_resource_name(resource->resource_name());
      metadata->set_tenant_id(tenant);
      if (all_duplicates) {
        // An identical redeploy keeps the existing version.
        auto latest = processes.Latest(tenant, process.id);
        TERN_CHECK(latest.has_value());
        metadata->set_version(latest->version());
        metadata->set_process_definition_key(latest->process_definition_key());
        metadata->set_deployment_key(latest->deployment_key());
        metadata->set_is_duplicate(true);
        continue;
      }
      record::ProcessRecord definition;
      definition.set_bpmn_process_id(process.id);
      definition.set_version(processes.HighestVersion(tenant, process.id) + 1);
      definition.set_process_definition_key(context_.NextKey());
      definition.set_resource_name(resource->resource_name());
      definition.set_resource(resource->resource());
      definition.set_tenant_id(tenant);
      definition.set_deployment_key(deployment_key);
      definition.set_version_tag(process.version_tag);
      metadata->set_version(definition.version());
      metadata->set_process_definition_key(definition.process_definition_key());
      metadata->set_deployment_key(deployment_key);
      metadata->set_version_tag(definition.version_tag());
      context_.processes().Put(definition, definitions);
      context_.AppendEvent(definition.process_definition_key(), ProcessIntent::kCreated,
                           definition);
      new_processes.push_back(std::move(definition));
    }
  }
  bool created_decisions = false;
  for (const auto& [resource, graph] : parsed_dmn) {
    record::DecisionRequirementsMetadata* drg = created.add_decision_requirements();
    drg->set_decision_requirements_id(graph->id());
    drg->set_decision_requirements_name(graph->name());
    drg->set_resource_name(resource->resource_name());
    drg->set_tenant_id(tenant);
    auto latest = decisions.LatestRequirements(tenant, graph->id());
    if (all_duplicates) {
      drg->set_version(latest->version());
      drg->set_decision_requirements_key(latest->decision_requirements_key());
      drg->set_is_duplicate(true);
      for (const auto& decision : decisions.OfRequirements(latest->decision_requirements_key())) {
        record::DecisionMetadata* metadata = created.add_decisions();
        metadata->set_decision_id(decision.decision_id());
        metadata->set_decision_name(decision.decision_name());
        metadata->set_version(decision.version());
        metadata->set_decision_key(decision.decision_key());
        metadata->set_decision_requirements_id(decision.decision_requirements_id());
        metadata->set_decision_requirements_key(decision.decision_requirements_key());
        metadata->set_is_duplicate(true);
        metadata->set_tenant_id(tenant);
        metadata->set_deployment_key(decision.deployment_key() > 0 ? decision.deployment_key()
                                                                   : deployment_key);
      }
      continue;
    }
    created_decisions = true;
    record::DecisionRequirementsRecord requirements;
    requirements.set_decision_requirements_id(graph->id());
    requirements.set_decision_requirements_name(graph->name());
    requirements.set_version(latest ? latest->version() + 1 : 1);
    requirements.set_decision_requirements_key(context_.NextKey());
    requirements.set_resource_name(resource->resource_name());
    requirements.set_resource(resource->resource());
    requirements.set_tenant_id(tenant);
    drg->set_version(requirements.version());
    drg->set_decision_requirements_key(requirements.decision_requirements_key());
    decisions_.Remember(requirements.decision_requirements_key(), graph);
    context_.AppendEvent(requirements.decision_requirements_key(),
                         DecisionRequirementsIntent::kCreated, requirements);
    for (const auto& info : graph->decisions()) {
      record::DecisionRecord decision;
      decision.set_decision_id(info.id);
      decision.set_decision_name(info.name);
      auto previous = decisions.Latest(tenant, info.id);
      decision.set_version(previous ? previous->version() + 1 : 1);
      decision.set_decision_key(context_.NextKey());
      decision.set_decision_requirements_id(graph->id());
      decision.set_decision_requirements_key(requirements.decision_requirements_key());
      decision.set_tenant_id(tenant);
      decision.set_deployment_key(deployment_key);
      decision.set_version_tag(info.version_tag);
      record::DecisionMetadata* metadata = created.add_decisions();
      metadata->set_decision_id(decision.decision_id());
      metadata->set_decision_name(decision.decision_name());
      metadata->set_version(decision.version());
      metadata->set_decision_key(decision.decision_key());
      metadata->set_decision_requirements_id(decision.decision_requirements_id());
      metadata->set_decision_requirements_key(decision.decision_requirements_key());
      metadata->set_tenant_id(tenant);
      metadata->set_deployment_key(deployment_key);
      metadata->set_version_tag(decision.version_tag());
      context_.AppendEvent(decision.decision_key(), DecisionIntent::kCreated, std::move(decision));
    }
  }
  bool created_forms = false;
  for (const auto& [resource, info] : parsed_forms) {
    created.add_resources()->set_resource_name(resource->resource_name());
    record::FormMetadata* metadata = created.add_forms();
    metadata->set_form_id(info.id);
    metadata->set_resource_name(resource->resource_name());
    metadata->set_tenant_id(tenant);
    auto latest = forms.Latest(tenant, info.id);
    if (all_duplicates) {
      metadata->set_version(latest->version());
      metadata->set_form_key(latest->form_key());
      metadata->set_deployment_key(latest->deployment_key());
      metadata->set_version_tag(latest->version_tag());
      metadata->set_is_duplicate(true);
      continue;
    }
    created_forms = true;
    record::FormRecord form;
    form.set_form_id(info.id);
    form.set_version(latest ? latest->version() + 1 : 1);
    form.set_form_key(context_.NextKey());
    form.set_resource_name(resource->resource_name());
    form.set_resource(resource->resource());
    form.set_tenant_id(tenant);
    form.set_deployment_key(deployment_key);
    form.set_version_tag(info.version_tag);
    metadata->set_version(form.version());
    metadata->set_form_key(form.form_key());
    metadata->set_deployment_key(deployment_key);
    metadata->set_version_tag(form.version_tag());
    context_.AppendEvent(form.form_key(), FormIntent::kCreated, std::move(form));
  }
  for (const auto& process : new_processes) MoveStartEvents(process, /*with_timers=*/true);
  bool created_any = created_decisions || created_forms;
  for (const auto& process : created.processes()) created_any |= !process.is_duplicate();
  // What other partitions need: the new definitions with their keys and resources.
  record::DeploymentRecord distributed = created;
  distributed.clear_resources();
  for (const auto& resource : deployment.resources()) *distributed.add_resources() = resource;
  const record::Record& event =
      context_.AppendEvent(deployment_key, DeploymentIntent::kCreated, std::move(created));
  context_.Respond(event);
  if (!created_any || context_.config().partition_count <= 1) return;

  record::Record command;
  command.set_record_type(record::COMMAND);
  command.set_key(deployment_key);
  command.set_intent(ToInt(DeploymentIntent::kDistribute));
  SetValue(command, std::move(distributed));
  std::string serialized;
  TERN_CHECK(command.SerializeToString(&serialized));
  for (int32_t partition = 1; partition <= context_.config().partition_count; ++partition) {
    if (partition == context_.partition_id()) continue;
    record::CommandDistributionRecord pending;
    pending.set_partition_id(partition);
    pending.set_value_type(record::DEPLOYMENT);
    pending.set_intent(ToInt(DeploymentIntent::kDistribute));
    pending.set_command_value(serialized);
    context_.AppendEvent(deployment_key, CommandDistributionIntent::kDistributing, pending);
    context_.SendToPartition(partition,
                             DistributionCommand(pending, deployment_key, context_.partition_id()));
  }
}

record::Record DistributionCommand(const record::CommandDistributionRecord& pending,
                                   int64_t distribution_key, int32_t source_partition) {
  record::Record command;
  TERN_CHECK(command.ParseFromString(pending.command_value()));
  // Generic reliable commands (ProcessingContext::SendCommand) carry their own key and
  // distribution key; deployments use the deployment key as distribution key.
  if (command.distribution_key() != 0) return command;
  command.set_key(distribution_key);
  // The receiving partition answers the partition that distributed.
  command.set_source_partition_id(source_partition);
  return command;
}

void DeploymentProcessor::ProcessDistributed(const record::Record& command) {
  const auto& deployment = command.deployment();
  auto& processes = context_.state().processes;
  for (const auto& metadata : deployment.processes()) {
    if (metadata.is_duplicate()) continue;
    if (processes.ByKey(metadata.process_definition_key())) continue;  // delivered before
    const record::DeploymentResource* resource = FindResource(deployment, metadata.resource_name());
    TERN_CHECK(resource != nullptr, "distributed deployment lacks resource ",
               metadata.resource_name());
    record::ProcessRecord definition;
    definition.set_bpmn_process_id(metadata.bpmn_process_id());
    definition.set_version(metadata.version());
    definition.set_process_definition_key(metadata.process_definition_key());
    definition.set_resource_name(metadata.resource_name());
    definition.set_resource(resource->resource());
    definition.set_tenant_id(metadata.tenant_id());
    definition.set_deployment_key(command.key());
    definition.set_version_tag(metadata.version_tag());
    context_.AppendEvent(definition.process_definition_key(), ProcessIntent::kCreated, definition);
    MoveStartEvents(definition, /*with_timers=*/false);
  }
  auto& decisions = context_.state().decisions;
  for (const auto& metadata : deployment.decision_requirements()) {
    if (metadata.is_duplicate()) continue;
    if (decisions.RequirementsByKey(metadata.decision_requirements_key())) continue;
    const record::DeploymentResource* resource = FindResource(deployment, metadata.resource_name());
    TERN_CHECK(resource != nullptr, "distributed deployment lacks resource ",
               metadata.resource_name());
    record::DecisionRequirementsRecord requirements;
    requirements.set_decision_requirements_id(metadata.decision_requirements_id());
    requirements.set_decision_requirements_name(metadata.decision_requirements_name());
    requirements.set_version(metadata.version());
    requirements.set_decision_requirements_key(metadata.decision_requirements_key());
    requirements.set_resource_name(metadata.resource_name());
    requirements.set_resource(resource->resource());
    requirements.set_tenant_id(metadata.tenant_id());
    context_.AppendEvent(requirements.decision_requirements_key(),
                         DecisionRequirementsIntent::kCreated, std::move(requirements));
  }
  auto& forms = context_.state().forms;
  for (const auto& metadata : deployment.forms()) {
    if (metadata.is_duplicate() || forms.ByKey(metadata.form_key())) continue;
    const record::DeploymentResource* resource = FindResource(deployment, metadata.resource_name());
    TERN_CHECK(resource != nullptr, "distributed deployment lacks resource ",
               metadata.resource_name());
    record::FormRecord form;
    form.set_form_id(metadata.form_id());
    form.set_version(metadata.version());
    form.set_form_key(metadata.form_key());
    form.set_resource_name(metadata.resource_name());
    form.set_resource(resource->resource());
    form.set_tenant_id(metadata.tenant_id());
    form.set_deployment_key(command.key());
    form.set_version_tag(metadata.version_tag());
    context_.AppendEvent(form.form_key(), FormIntent::kCreated, std::move(form));
  }
  for (const auto& metadata : deployment.decisions()) {
    if (metadata.is_duplicate() || decisions.ByKey(metadata.decision_key())) continue;
    record::DecisionRecord decision;
    decision.set_decision_id(metadata.decision_id());
    decision.set_decision_name(metadata.decision_name());
    decision.set_version(metadata.version());
    decision.set_decision_key(metadata.decision_key());
    decision.set_decision_requirements_id(metadata.decision_requirements_id());
    decision.set_decision_requirements_key(metadata.decision_requirements_key());
    decision.set_tenant_id(metadata.tenant_id());
    decision.set_deployment_key(command.key());
    decision.set_version_tag(metadata.version_tag());
    context_.AppendEvent(decision.decision_key(), DecisionIntent::kCreated, std::move(decision));
  }
  record::DeploymentRecord summary = deployment;
  for (auto& resource : *summary.mutable_resources()) resource.clear_resource();
  context_.AppendEvent(command.key(), DeploymentIntent::kDistributed, std::move(summary));

  record::CommandDistributionRecord acknowledge;
  acknowledge.set_partition_id(context_.partition_id());
  acknowledge.set_value_type(record::DEPLOYMENT);
  acknowledge.set_intent(ToInt(DeploymentIntent::kDistribute));
  record::Record ack =
      MakeCommand(command.key(), CommandDistributionIntent::kAcknowledge, std::move(acknowledge));
  ack.set_source_partition_id(context_.partition_id());
  context_.SendToPartition(command.source_partition_id(), std::move(ack));
}

void DeploymentProcessor::ProcessAcknowledge(const record::Record& command) {
  int32_t from = command.command_distribution().partition_id();
  auto& distributions = context_.state().distributions;
  if (!distributions.Contains(command.key(), from)) return;  // a repeated acknowledgement
  context_.AppendEvent(command.key(), CommandDistributionIntent::kAcknowledged,
                       command.command_distribution());
  if (command.command_distribution().value_type() == record::DEPLOYMENT &&
      !distributions.AnyFor(command.key())) {
    record::CommandDistributionRecord finished;
    finished.set_value_type(record::DEPLOYMENT);
    context_.AppendEvent(command.key(), CommandDistributionIntent::kFinished, std::move(finished));
  }
}

// --- Process instance creation ------------------------------------------------------------------

void CreationProcessor::Process(const record::Record& command) {
  const auto& request = command.process_instance_creation();
  std::string tenant(TenantOrDefault(request.tenant_id()));
  auto& processes = context_.state().processes;
  std::optional<int64_t> key;
  if (!request.bpmn_process_id().empty()) {
    if (request.version() >= 0) {
      key = processes.KeyByIdAndVersion(tenant, request.bpmn_process_id(), request.version());
      if (!key) {
        context_.Reject(record::NOT_FOUND,
                        tern::StrCat("Expected to find process definition with process ID '",
                                     request.bpmn_process_id(), "' and version '",
                                     request.version(), "', but none found"));
        return;
      }
    } else {
      key = processes.LatestKey(tenant, request.bpmn_process_id());
      if (!key) {
        context_.Reject(record::NOT_FOUND,
                        tern::StrCat("Expected to find process definition with process ID '",
                                     request.bpmn_process_id(), "', but none found"));
        return;
      }
    }
  } else if (request.process_definition_key() > 0) {
    key = request.process_definition_key();
  } else {
    context_.Reject(record::INVALID_ARGUMENT,
                    "Expected at least a bpmnProcessId or a key greater than -1, but none given");
    return;
  }
  auto process = context_.processes().Get(*key);
  // A deleted definition keeps its model for the instances still running, but starts no more.
  if (!process || process->tenant_id != tenant || processes.IsDeleted(*key)) {
    context_.Reject(
        record::NOT_FOUND,
        tern::StrCat("Expected to find process definition with key '", *key, "', but none found"));
    return;
  }
  auto variables = ParseVariableDocument(request.variables());
  if (!variables.ok()) {
    context_.Reject(record::INVALID_ARGUMENT, std::string(variables.status().message()));
    return;
  }
  std::vector<std::string> start_ids;
  const bpmn::Process& model = *process->process;
  for (const auto& instruction : request.start_instructions()) {
    const bpmn::Element* element = model.Find(instruction.element_id());
    if (element == nullptr) {
      context_.Reject(record::INVALID_ARGUMENT,
                      tern::StrCat("Expected to create instance of process with start "
                                   "instructions but no element found with id '",
                                   instruction.element_id(), "'."));
      return;
    }
    if (element->flow_scope != 0) {
      context_.Reject(record::INVALID_ARGUMENT,
                      tern::StrCat("Expected to create instance of process with start "
                                   "instructions but the element with id '",
                                   instruction.element_id(),
                                   "' is not directly in the process; Tern starts instances only "
                                   "at elements of the process's top level."));
      return;
    }
    start_ids.push_back(instruction.element_id());
  }
  if (start_ids.empty() && model.root().none_start_event == bpmn::kNoElement) {
    context_.Reject(record::INVALID_STATE,
                    "Expected to create instance of process with none start event, but there is "
                    "no such event");
    return;
  }

  int64_t instance_key = context_.NextKey();
  record::ProcessInstanceCreationRecord created = request;
  created.set_bpmn_process_id(process->bpmn_process_id);
  created.set_version(process->version);
  created.set_process_definition_key(process->key);
  created.set_process_instance_key(instance_key);
  created.set_tenant_id(tenant);
  created.set_await_result(Is(command, ProcessInstanceCreationIntent::kCreateWithAwaitingResult) &&
                           command.has_request());
  created.clear_variables();
  // Creation is answered now; an awaited result is answered on completion (see the applier).
  const record::Record& event =
      created.await_result()
          ? context_.AppendEventRememberingRequest(instance_key,
                                                   ProcessInstanceCreationIntent::kCreated, created)
          : context_.AppendEvent(instance_key, ProcessInstanceCreationIntent::kCreated, created);
  if (!created.await_result()) context_.Respond(event);
  bpmn_.StartProcessInstance(*process, instance_key, *variables, start_ids);
}

// --- Jobs --------------------------------------------------------------------------------------

void JobProcessor::Process(const record::Record& command) {
  auto intent = static_cast<JobIntent>(command.intent());
  auto job = context_.state().jobs.Get(command.key());
  if (!job) {
    context_.Reject(record::NOT_FOUND,
                    tern::StrCat("Expected to ", JobVerb(intent), " job with key '", command.key(),
                                 "', but no such job was found"));
    return;
  }
  auto expect_state = [&](std::initializer_list<JobState::State> allowed) {
    for (auto state : allowed) {
      if (job->state() == state) return true;
    }
    context_.Reject(record::INVALID_STATE,
                    tern::StrCat("Expected to ", JobVerb(intent), " job with key '", command.key(),
                                 "', but it is in state '", JobStateName(job->state()), "'"));
    return false;
  };
  switch (intent) {
    case JobIntent::kComplete:
      if (expect_state({JobState::ACTIVATABLE, JobState::ACTIVATED})) Complete(command, *job);
      break;
    case JobIntent::kFail:
      if (expect_state({JobState::ACTIVATABLE, JobState::ACTIVATED})) Fail(command, *job);
      break;
    case JobIntent::kThrowError:
      if (expect_state({JobState::ACTIVATABLE, JobState::ACTIVATED})) ThrowError(command, *job);
      break;
    case JobIntent::kUpdateRetries:
      UpdateRetries(command, *job);
      break;
    case JobIntent::kUpdateTimeout:
      UpdateTimeout(command, *job);
      break;
    case JobIntent::kTimeOut:
      TimeOut(command, *job);
      break;
    case JobIntent::kRecurAfterBackoff:
      RecurAfterBackoff(command, *job);
      break;
    case JobIntent::kYield:
      if (expect_state({JobState::ACTIVATED})) Yield(command, *job);
      break;
    default:
      context_.Reject(
          record::INVALID_ARGUMENT,
          tern::StrCat("Unexpected job command ", IntentName(record::JOB, command.intent())));
  }
}

void JobProcessor::Complete(const record::Record& command, JobState job) {
  auto variables = ParseVariableDocument(command.job().variables());
  if (!variables.ok()) {
    context_.Reject(record::INVALID_ARGUMENT, std::string(variables.status().message()));
    return;
  }
  record::JobRecord completed = job.record();
  completed.set_variables(command.job().variables());
  const record::Record& event =
      context_.AppendEvent(command.key(), JobIntent::kCompleted, std::move(completed));
  context_.Respond(event);

  int64_t element_key = job.record().element_instance_key();
  auto instance = context_.state().element_instances.Get(element_key);
  if (!instance) return;
  if (job.record().job_kind() == record::EXECUTION_LISTENER) {
    // As in Zeebe: a start listener's variables become the element's own, an end listener's
    // those of the element's flow scope (the process's for the process itself).
    const bool start = job.record().listener_event_type() == record::LISTENER_EVENT_START;
    const int64_t flow_scope = instance->record().flow_scope_key();
    variables_.MergeLocal(start || flow_scope <= 0 ? element_key : flow_scope, *variables);
    if (instance->state() == ToInt(ProcessInstanceIntent::kElementActivating)) {
      context_.FollowUp(
          MakeCommand(element_key, ProcessInstanceIntent::kActivateElement, instance->record()));
    } else if (instance->state() == ToInt(ProcessInstanceIntent::kElementCompleting)) {
      context_.FollowUp(
          MakeCommand(element_key, ProcessInstanceIntent::kCompleteElement, instance->record()));
    }
    return;
  }
  auto process = context_.processes().Get(instance->record().process_definition_key());
  TERN_CHECK(process != nullptr);
  const bpmn::Element& element = process->process->at(instance->element_index());
  // With output mappings the job's variables are inputs to the mappings (local to the task);
  // without, they propagate to the scopes that define them, or the process instance.
  if (element.outputs.empty()) {
    variables_.MergePropagating(element_key, *variables);
  } else {
    variables_.MergeLocal(element_key, *variables);
  }
  context_.FollowUp(
      MakeCommand(element_key, ProcessInstanceIntent::kCompleteElement, instance->record()));
}

void JobProcessor::Fail(const record::Record& command, JobState job) {
  const auto& request = command.job();
  auto variables = ParseVariableDocument(request.variables());
  if (!variables.ok()) {
    context_.Reject(record::INVALID_ARGUMENT, std::string(variables.status().message()));
    return;
  }
  record::JobRecord failed = job.record();
  failed.set_retries(request.retries());
  failed.set_error_message(request.error_message());
  failed.set_retry_backoff(std::max<int64_t>(0, request.retry_backoff()));
  failed.set_variables(request.variables());
  const record::Record& event = context_.AppendEvent(command.key(), JobIntent::kFailed, failed);
  context_.Respond(event);
  int64_t element_key = job.record().element_instance_key();
  if (!variables->empty() && context_.state().element_instances.Get(element_key)) {
    variables_.MergeLocal(element_key, *variables);
  }
  if (request.retries() <= 0) {
    std::string message =
        request.error_message().empty() ? "No more retries left." : request.error_message();
    incidents_.RaiseJobIncident(command.key(), job.record(),
                                job.record().job_kind() == record::EXECUTION_LISTENER
                                    ? kExecutionListenerNoRetries
                                    : kJobNoRetries,
                                std::move(message));
  } else if (failed.retry_backoff() == 0) {
    jobs_.OnActivatable(command.key());
  }
}

void JobProcessor::ThrowError(const record::Record& command, JobState job) {
  if (job.record().job_kind() == record::EXECUTION_LISTENER) {
    context_.Reject(
        record::INVALID_STATE,
        tern::StrCat("Cannot throw BPMN error from EXECUTION_LISTENER job with key '",
                     command.key(), "', type '", job.record().type(), "' and processInstanceKey '",
                     job.record().process_instance_key(), "'"));
    return;
  }
  const auto& request = command.job();
  auto variables = ParseVariableDocument(request.variables());
  if (!variables.ok()) {
    context_.Reject(record::INVALID_ARGUMENT, std::string(variables.status().message()));
    return;
  }
  record::JobRecord thrown = job.record();
  thrown.set_error_code(request.error_code());
  thrown.set_error_message(request.error_message());
  thrown.set_variables(request.variables());
  const record::Record& event =
      context_.AppendEvent(command.key(), JobIntent::kErrorThrown, thrown);
  context_.Respond(event);
  std::string available;
  auto instance = context_.state().element_instances.Get(job.record().element_instance_key());
  if (instance && bpmn_.ThrowError(*instance, request.error_code(),
                                   RenderVariableDocument(*variables), &available)) {
    return;  // the catch event terminates the task, which cancels the job
  }
  incidents_.RaiseJobIncident(
      command.key(), job.record(), kUnhandledErrorEvent,
      tern::StrCat("Expected to throw an error event with the code '", request.error_code(),
                   "' with message '", request.error_message(), "', but it was not caught.",
                   available.empty()
                       ? " No error events are available in the scope."
                       : tern::StrCat(" Available error events are [", available, "]")));
}

void JobProcessor::UpdateRetries(const record::Record& command, JobState job) {
  int32_t retries = command.job().retries();
  if (retries < 1) {
    context_.Reject(record::INVALID_ARGUMENT,
                    tern::StrCat("Expected to update retries for job with key '", command.key(),
                                 "' with a positive amount of retries, but the amount given was '",
                                 retries, "'"));
    return;
  }
  record::JobRecord updated = job.record();
  updated.set_retries(retries);
  const record::Record& event =
      context_.AppendEvent(command.key(), JobIntent::kRetriesUpdated, std::move(updated));
  context_.Respond(event);
}

void JobProcessor::UpdateTimeout(const record::Record& command, JobState job) {
  if (job.state() != JobState::ACTIVATED) {
    context_.Reject(record::INVALID_STATE,
                    tern::StrCat("Expected to update the timeout of job with key '", command.key(),
                                 "', but it is not active"));
    return;
  }
  int64_t timeout = command.job().timeout();
  if (timeout < 1) {
    context_.Reject(
        record::INVALID_ARGUMENT,
        tern::StrCat("Expected to update the timeout of job with key '", command.key(),
                     "' with a positive timeout, but the timeout given was '", timeout, "'"));
    return;
  }
  record::JobRecord updated = job.record();
  updated.set_deadline(context_.timestamp() + std::min<int64_t>(timeout, int64_t{1} << 40));
  updated.set_timeout(timeout);
  const record::Record& event =
      context_.AppendEvent(command.key(), JobIntent::kTimeoutUpdated, std::move(updated));
  context_.Respond(event);
}

void JobProcessor::TimeOut(const record::Record& command, JobState job) {
  if (job.state() != JobState::ACTIVATED || job.record().deadline() > context_.timestamp()) {
    return;  // completed or extended since the check was scheduled
  }
  context_.AppendEvent(command.key(), JobIntent::kTimedOut, job.record());
  jobs_.OnActivatable(command.key());
}

void JobProcessor::Yield(const record::Record& command, JobState job) {
  // A pushed job its stream could not deliver. As in Zeebe it goes to polling workers only:
  // pushing it again could hand it straight back to the stream that just gave it up.
  const record::Record& event =
      context_.AppendEvent(command.key(), JobIntent::kYielded, job.record());
  context_.Respond(event);
  context_.NotifyJobsAvailable(job.record().type());
}

void JobProcessor::RecurAfterBackoff(const record::Record& command, JobState job) {
  if (job.state() != JobState::FAILED || job.record().recurring_time() == 0 ||
      job.record().recurring_time() > context_.timestamp()) {
    return;
  }
  context_.AppendEvent(command.key(), JobIntent::kRecurredAfterBackoff, job.record());
  jobs_.OnActivatable(command.key());
}

void JobProcessor::Activate(const record::Record& command) {
  const auto& request = command.job_batch();
  if (request.type().empty()) {
    context_.Reject(record::INVALID_ARGUMENT,
                    "Expected to activate job batch with type to be present, but it was blank");
    return;
  }
  if (request.max_jobs_to_activate() < 1) {
    context_.Reject(record::INVALID_ARGUMENT,
                    tern::StrCat("Expected to activate job batch with max jobs to activate to be "
                                 "greater than zero, but it was '",
                                 request.max_jobs_to_activate(), "'"));
    return;
  }
  if (request.timeout() < 1) {
    context_.Reject(record::INVALID_ARGUMENT,
                    tern::StrCat("Expected to activate job batch with timeout to be greater than "
                                 "zero, but it was '",
                                 request.timeout(), "'"));
    return;
  }
  std::set<std::string, std::less<>> tenants(request.tenant_ids().begin(),
                                             request.tenant_ids().end());
  if (tenants.empty()) tenants.emplace(state::kDefaultTenant);
  std::vector<std::string> fetch(request.fetch_variables().begin(),
                                 request.fetch_variables().end());
  // Clamped so that a huge timeout cannot overflow the deadline.
  int64_t deadline = context_.timestamp() + std::min<int64_t>(request.timeout(), int64_t{1} << 40);

  std::vector<int64_t> keys;
  context_.state().jobs.ForEachActivatable(request.type(), [&](int64_t key) {
    keys.push_back(key);
    return static_cast<int32_t>(keys.size()) < request.max_jobs_to_activate();
  });

  record::JobBatchRecord logged = request;
  logged.clear_job_keys();
  logged.clear_jobs();
  record::JobBatchRecord answer = logged;
  const int64_t max_response_bytes = jobs_.MaxActivationBytes();
  int64_t response_bytes = 0;
  for (int64_t key : keys) {
    auto job = context_.state().jobs.Get(key);
    TERN_CHECK(job.has_value());
    if (!tenants.contains(job->record().tenant_id())) continue;
    record::JobRecord activated =
        jobs_.ForWorker(key, job->record(), request.worker(), deadline, fetch);
    int64_t job_bytes = JobBehavior::ActivatedJobBytes(activated);
    if (job_bytes > max_response_bytes) {
      // It would not fit even alone: an incident says why, and the other jobs go on.
      jobs_.RaiseMessageSizeExceeded(key, job->record());
      continue;
    }
    if (response_bytes + job_bytes > max_response_bytes) {
      // The answer must fit in the gateway's message; the rest stay activatable.
      answer.set_truncated(true);
      logged.set_truncated(true);
      break;
    }
    response_bytes += job_bytes;
    answer.add_job_keys(key);
    logged.add_job_keys(key);
    *answer.add_jobs() = activated;
    activated.clear_variables();
    *logged.add_jobs() = std::move(activated);
  }
  int64_t batch_key = context_.NextKey();
  if (logged.job_keys().empty()) {
    // Nothing to activate: answer without writing an event.
    record::Record empty;
    empty.set_record_type(record::EVENT);
    empty.set_key(batch_key);
    empty.set_intent(ToInt(JobBatchIntent::kActivated));
    SetValue(empty, std::move(answer));
    context_.Respond(empty);
    return;
  }
  record::Record event =
      context_.AppendEvent(batch_key, JobBatchIntent::kActivated, std::move(logged));
  SetValue(event, std::move(answer));
  context_.Respond(event);
}

// --- Variable documents -----------------------------------------------------------------------

void VariableDocumentProcessor::Process(const record::Record& command) {
  const auto& request = command.variable_document();
  auto scope = context_.state().element_instances.Get(request.scope_key());
  if (!scope) {
    context_.Reject(record::NOT_FOUND,
                    tern::StrCat("Expected to update variables for element with key '",
                                 request.scope_key(), "', but no such element was found"));
    return;
  }
  auto variables = ParseVariableDocument(request.variables());
  if (!variables.ok()) {
    context_.Reject(record::INVALID_ARGUMENT, std::string(variables.status().message()));
    return;
  }
  record::VariableDocumentRecord updated = request;
  updated.set_tenant_id(scope->record().tenant_id());
  const record::Record& event = context_.AppendEvent(
      context_.NextKey(), VariableDocumentIntent::kUpdated, std::move(updated));
  context_.Respond(event);
  if (request.update_semantics() == record::LOCAL) {
    variables_.MergeLocal(request.scope_key(), *variables);
  } else {
    variables_.MergePropagating(request.scope_key(), *variables);
  }
}

// --- Incidents ---------------------------------------------------------------------------------

void IncidentProcessor::Process(const record::Record& command) {
  auto incident = context_.state().incidents.Get(command.key());
  if (!incident) {
    context_.Reject(record::NOT_FOUND,
                    tern::StrCat("Expected to resolve incident with key '", command.key(),
                                 "', but no such incident was found"));
    return;
  }
  const record::IncidentRecord value = incident->record();
  const record::Record& event =
      context_.AppendEvent(command.key(), IncidentIntent::kResolved, value);
  context_.Respond(event);
  if (value.job_key() > 0) {
    auto job = context_.state().jobs.Get(value.job_key());
    if (!job) return;
    if (job->state() == JobState::ACTIVATABLE) {
      jobs_.OnActivatable(value.job_key());
    } else if (job->record().retries() <= 0) {
      // The problem is still there: a job without retries cannot be worked on.
      incidents_.RaiseJobIncident(value.job_key(), job->record(), value.error_type(),
                                  value.error_message());
    }
    return;
  }
  bpmn_.RetryStep(value.element_instance_key());
}

}  // namespace tern::engine
