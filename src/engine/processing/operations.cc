#include "engine/processing/operations.h"

#include <map>
#include <set>

#include "base/strings.h"

namespace tern::engine {
namespace {

using bpmn::ElementType;
using tern::state::ElementInstance;

bool IsActive(const ElementInstance& instance) {
  return instance.state() == ToInt(ProcessInstanceIntent::kElementActivating) ||
         instance.state() == ToInt(ProcessInstanceIntent::kElementActivated) ||
         instance.state() == ToInt(ProcessInstanceIntent::kElementCompleting);
}

// The flow scopes of `element`, outermost first, without the process itself.
std::vector<const bpmn::Element*> ScopeChain(const bpmn::Process& process,
                                             const bpmn::Element& element) {
  std::vector<const bpmn::Element*> chain;
  for (bpmn::ElementIndex scope = element.flow_scope; scope > 0;
       scope = process.at(scope).flow_scope) {
    chain.insert(chain.begin(), &process.at(scope));
  }
  return chain;
}

void CollectActive(state::EngineState& state, int64_t key, std::vector<ElementInstance>& out) {
  for (int64_t child : state.element_instances.Children(key)) {
    auto instance = state.element_instances.Get(child);
    if (!instance) continue;
    out.push_back(*instance);
    CollectActive(state, child, out);
  }
}

}  // namespace

// --- Modification ------------------------------------------------------------------------------

void ModificationProcessor::Modify(const record::Record& command) {
  const auto& request = command.process_instance_modification();
  auto& state = context_.state();
  int64_t instance_key =
      request.process_instance_key() > 0 ? request.process_instance_key() : command.key();
  auto root = state.element_instances.Get(instance_key);
  if (!root || root->record().flow_scope_key() != -1 || !IsActive(*root)) {
    context_.Reject(record::NOT_FOUND,
                    tern::StrCat("Expected to modify process instance but no process instance "
                                 "found with key '",
                                 instance_key, "'"));
    return;
  }
  auto process = context_.processes().Get(root->record().process_definition_key());
  TERN_CHECK(process != nullptr);
  const bpmn::Process& model = *process->process;
  const std::string& process_id = process->bpmn_process_id;
  auto reject = [&](std::string_view what, std::string_view detail) {
    context_.Reject(record::INVALID_ARGUMENT,
                    tern::StrCat("Expected to modify instance of process '", process_id,
                                 "' but it contains one or more ", what, ": '", detail, "'"));
  };

  struct Activation {
    const bpmn::Element* element;
    ElementInstance ancestor;
    std::vector<const bpmn::Element*> chain;  // scopes below the ancestor, outermost first
  };
  std::vector<Activation> activations;
  for (const auto& instruction : request.activate_instructions()) {
    const bpmn::Element* element = model.Find(instruction.element_id());
    if (element == nullptr || element->type == ElementType::kProcess) {
      reject("activate instructions with an element that could not be found",
             instruction.element_id());
      return;
    }
    if (element->type == ElementType::kSequenceFlow || element->type == ElementType::kStartEvent ||
        element->type == ElementType::kBoundaryEvent) {
      reject("activate instructions for elements of an unsupported type",
             tern::StrCat(element->id, " (", bpmn::ElementTypeName(element->type), ")"));
      return;
    }
    std::vector<const bpmn::Element*> chain = ScopeChain(model, *element);
    for (const bpmn::Element* scope : chain) {
      if (scope->loop) {
        reject("activate instructions for elements that are inside a multi-instance element",
               element->id);
        return;
      }
    }
    Activation activation{element, *root, chain};
    if (instruction.ancestor_scope_key() > 0 && instruction.ancestor_scope_key() != root->key()) {
      auto ancestor = state.element_instances.Get(instruction.ancestor_scope_key());
      bool valid = ancestor && ancestor->record().process_instance_key() == root->key() &&
                   IsActive(*ancestor);
      size_t position = chain.size();
      if (valid) {
        for (size_t i = 0; i < chain.size(); ++i) {
          if (chain[i]->id == ancestor->record().element_id()) position = i;
        }
        valid = position < chain.size();
      }
      if (!valid) {
        reject(
            "activate instructions with an ancestor scope key that does not exist, or is not "
            "in an active state, or is not an ancestor of the element",
            std::to_string(instruction.ancestor_scope_key()));
        return;
      }
      activation.ancestor = *ancestor;
      activation.chain.erase(activation.chain.begin(),
                             activation.chain.begin() + static_cast<long>(position) + 1);
    }
    for (const auto& variables : instruction.variable_instructions()) {
      if (variables.element_id().empty()) continue;
      const bpmn::Element* scope = model.Find(variables.element_id());
      bool ancestor = scope == element;
      for (const bpmn::Element* s : chain) ancestor |= s == scope;
      if (scope == nullptr || !ancestor) {
        reject(
            "variable instructions with a scope element id that could not be found or is not "
            "the element or one of its flow scopes",
            variables.element_id());
        return;
      }
      if (!ParseVariableDocument(variables.variables()).ok()) {
        reject("variable instructions with variables that are not a JSON object",
               variables.element_id());
        return;
      }
    }
    activations.push_back(std::move(activation));
  }
  std::set<int64_t> terminate;
  for (int64_t key : request.terminate_instructions()) {
    auto instance = state.element_instances.Get(key);
    if (!instance || instance->record().process_instance_key() != root->key() ||
        instance->record().flow_scope_key() <= 0 || !IsActive(*instance)) {
      reject("terminate instructions with an element instance that could not be found",
             std::to_string(key));
      return;
    }
    terminate.insert(key);
  }

  record::ProcessInstanceModificationRecord modified = request;
  modified.set_process_instance_key(root->key());
  modified.set_tenant_id(root->record().tenant_id());
  const record::Record& event = context_.AppendEvent(
      root->key(), ProcessInstanceModificationIntent::kModified, std::move(modified));
  context_.Respond(event);

  std::set<int64_t> receiving;  // scope instances that get new children
  for (size_t a = 0; a < activations.size(); ++a) {
    const Activation& activation = activations[a];
    const auto& instruction = request.activate_instructions(static_cast<int>(a));
    ElementInstance scope = activation.ancestor;
    std::map<std::string, int64_t> scope_keys{{"", root->key()}};
    scope_keys[scope.record().element_id()] = scope.key();
    for (const bpmn::Element* scope_element : activation.chain) {
      std::optional<ElementInstance> existing;
      for (int64_t child : state.element_instances.Children(scope.key())) {
        auto instance = state.element_instances.Get(child);
        if (instance && instance->record().element_id() == scope_element->id &&
            IsActive(*instance) && !terminate.contains(child)) {
          existing = instance;
          break;
        }
      }
      scope = existing ? *existing : bpmn_.ActivateEmptyScope(scope, *process, *scope_element);
      scope_keys[scope_element->id] = scope.key();
    }
    receiving.insert(scope.key());
    for (const auto& variables : instruction.variable_instructions()) {
      if (variables.element_id() == activation.element->id) continue;
      auto document = ParseVariableDocument(variables.variables());
      auto it = scope_keys.find(variables.element_id());
      if (document.ok() && it != scope_keys.end()) variables_.MergeLocal(it->second, *document);
    }
    std::vector<const record::VariableInstruction*> own;
    for (const auto& variables : instruction.variable_instructions()) {
      if (variables.element_id() == activation.element->id) own.push_back(&variables);
    }
    if (own.empty() || activation.element->loop) {
      bpmn_.ActivateChild(scope, *activation.element);
      continue;
    }
    // Variables for the element itself are local to its new instance.
    int64_t key = context_.NextKey();
    record::ProcessInstanceRecord value = scope.record();
    value.set_element_id(activation.element->id);
    value.set_flow_scope_key(scope.key());
    value.set_bpmn_element_type(static_cast<int32_t>(activation.element->type));
    value.set_bpmn_event_type(static_cast<int32_t>(activation.element->event_type));
    context_.AppendEvent(key, ProcessInstanceIntent::kElementActivating, value);
    for (const auto* variables : own) {
      auto document = ParseVariableDocument(variables->variables());
      if (document.ok()) variables_.MergeLocal(key, *document);
    }
    context_.FollowUp(MakeCommand(key, ProcessInstanceIntent::kActivateElement, value));
  }

  // A scope left without children by the terminations is terminated too (so is the process
  // instance, when nothing is left in it), unless something is activated in it.
  std::set<int64_t> closing = terminate;
  bool grew = true;
  while (grew) {
    grew = false;
    for (int64_t key : std::vector<int64_t>(closing.begin(), closing.end())) {
      auto instance = state.element_instances.Get(key);
      if (!instance) continue;
      int64_t parent_key = instance->record().flow_scope_key();
      if (parent_key <= 0 || closing.contains(parent_key) || receiving.contains(parent_key)) {
        continue;
      }
      auto parent = state.element_instances.Get(parent_key);
      if (!parent || parent->active_sequence_flows() > 0) continue;
      bool all = true;
      for (int64_t sibling : state.element_instances.Children(parent_key)) {
        all &= closing.contains(sibling);
      }
      if (all) {
        closing.insert(parent_key);
        grew = true;
      }
    }
  }
  for (int64_t key : closing) {
    auto instance = state.element_instances.Get(key);
    if (!instance) continue;
    if (closing.contains(instance->record().flow_scope_key())) continue;
    bpmn_.TerminateLater(key);
  }
}

// --- Migration ---------------------------------------------------------------------------------

void MigrationProcessor::Migrate(const record::Record& command) {
  const auto& request = command.process_instance_migration();
  auto& state = context_.state();
  int64_t instance_key =
      request.process_instance_key() > 0 ? request.process_instance_key() : command.key();
  auto root = state.element_instances.Get(instance_key);
  if (!root || root->record().flow_scope_key() != -1 || !IsActive(*root)) {
    context_.Reject(record::NOT_FOUND,
                    tern::StrCat("Expected to migrate process instance but no process instance "
                                 "found with key '",
                                 instance_key, "'"));
    return;
  }
  auto target = context_.processes().Get(request.target_process_definition_key());
  if (!target || state.processes.IsDeleted(request.target_process_definition_key())) {
    context_.Reject(record::NOT_FOUND,
                    tern::StrCat("Expected to migrate process instance to process definition but "
                                 "no process definition found with key '",
                                 request.target_process_definition_key(), "'"));
    return;
  }
  auto source = context_.processes().Get(root->record().process_definition_key());
  TERN_CHECK(source != nullptr);
  const bpmn::Process& from = *source->process;
  const bpmn::Process& to = *target->process;
  auto invalid = [&](record::RejectionType type, std::string reason) {
    context_.Reject(type, tern::StrCat("Expected to migrate process instance '", instance_key,
                                       "' but ", reason));
  };

  std::map<std::string, std::string> mapping;
  for (const auto& instruction : request.mapping_instructions()) {
    if (from.Find(instruction.source_element_id()) == nullptr) {
      invalid(record::INVALID_ARGUMENT,
              tern::StrCat("mapping instructions contain a non-existing source element id '",
                           instruction.source_element_id(),
                           "'. Elements provided in mapping instructions must exist in the source "
                           "process definition."));
      return;
    }
    if (to.Find(instruction.target_element_id()) == nullptr) {
      invalid(record::INVALID_ARGUMENT,
              tern::StrCat("mapping instructions contain a non-existing target element id '",
                           instruction.target_element_id(),
                           "'. Elements provided in mapping instructions must exist in the target "
                           "process definition."));
      return;
    }
    if (!mapping.emplace(instruction.source_element_id(), instruction.target_element_id()).second) {
      invalid(record::INVALID_ARGUMENT,
              tern::StrCat("the mapping instructions contain the source element id '",
                           instruction.source_element_id(), "' more than once"));
      return;
    }
  }
  if (!from.root().event_subprocesses.empty() || !to.root().event_subprocesses.empty()) {
    invalid(record::INVALID_STATE,
            "the source or target process has event subprocesses. Tern migrates process "
            "instances without event subscriptions only.");
    return;
  }
  std::vector<ElementInstance> active;
  CollectActive(state, root->key(), active);
  if (root->active_sequence_flows() > 0 || root->taken_flows_size() > 0) {
    invalid(record::INVALID_STATE,
            "it has tokens on sequence flows. Migrate it while its elements are waiting.");
    return;
  }
  for (const ElementInstance& instance : active) {
    const std::string& id = instance.record().element_id();
    auto it = mapping.find(id);
    if (it == mapping.end()) {
      invalid(record::INVALID_STATE,
              tern::StrCat("active element with id '", id, "' is not mapped."));
      return;
    }
    const bpmn::Element& source_element = *from.Find(id);
    const bpmn::Element& target_element = *to.Find(it->second);
    if (source_element.type != target_element.type ||
        source_element.loop.has_value() != target_element.loop.has_value()) {
      invalid(
          record::INVALID_STATE,
          tern::StrCat("active element with id '", id, "' and type '",
                       bpmn::ElementTypeName(source_element.type),
                       "' is mapped to an element with id '", target_element.id,
                       "' and different type '", bpmn::ElementTypeName(target_element.type), "'."));
      return;
    }
    auto native_user_task = [](const bpmn::Element& element) {
      return element.type == ElementType::kUserTask && element.user_task.has_value() &&
             element.user_task->zeebe_user_task;
    };
    if (native_user_task(source_element) != native_user_task(target_element)) {
      // As Zeebe: a job-based user task and a native one are different implementations.
      invalid(record::INVALID_STATE,
              tern::StrCat("active element with id '", id, "' is mapped to an element with id '",
                           target_element.id,
                           "' and a different user task implementation (job-based and "
                           "zeebe:userTask)."));
      return;
    }
    for (const bpmn::Element* element : {&source_element, &target_element}) {
      bool subscribes = !element->boundary_events.empty() ||
                        element->type == ElementType::kIntermediateCatchEvent ||
                        element->type == ElementType::kReceiveTask ||
                        element->type == ElementType::kEventBasedGateway ||
                        element->type == ElementType::kCallActivity ||
                        !element->event_subprocesses.empty();
      if (subscribes) {
        invalid(record::INVALID_STATE,
                tern::StrCat("active element with id '", id,
                             "' has event subscriptions (boundary events, catch events, event "
                             "subprocesses) or calls a process. Migrating such elements is not "
                             "possible yet."));
        return;
      }
    }
    // The element's flow scope must map to the target element's flow scope.
    std::string source_scope =
        source_element.flow_scope > 0 ? from.at(source_element.flow_scope).id : "";
    std::string target_scope =
        target_element.flow_scope > 0 ? to.at(target_element.flow_scope).id : "";
    std::string mapped_scope = source_scope.empty() ? "" : mapping[source_scope];
    if (mapped_scope != target_scope) {
      invalid(record::INVALID_STATE,
              tern::StrCat("the flow scope of active element with id '", id,
                           "' is changed. The flow scope of the active element is expected to be '",
                           mapped_scope.empty() ? to.id : mapped_scope, "' but was '",
                           target_scope.empty() ? to.id : target_scope, "'."));
      return;
    }
    if (instance.active_sequence_flows() > 0 || instance.taken_flows_size() > 0) {
      invalid(record::INVALID_STATE,
              tern::StrCat("element with id '", id,
                           "' has tokens on sequence flows. Migrate it while its elements are "
                           "waiting."));
      return;
    }
  }

  record::ProcessInstanceMigrationRecord migrated = request;
  migrated.set_process_instance_key(root->key());
  const record::Record& event = context_.AppendEvent(
      root->key(), ProcessInstanceMigrationIntent::kMigrated, std::move(migrated));
  context_.Respond(event);

  auto migrate = [&](const ElementInstance& instance, const std::string& element_id) {
    record::ProcessInstanceRecord value = instance.record();
    value.set_process_definition_key(target->key);
    value.set_bpmn_process_id(target->bpmn_process_id);
    value.set_version(target->version);
    value.set_element_id(element_id);
    context_.AppendEvent(instance.key(), ProcessInstanceIntent::kElementMigrated, value);
    if (instance.job_key() > 0) {
      if (auto job = state.jobs.Get(instance.job_key())) {
        record::JobRecord moved = job->record();
        moved.set_process_definition_key(target->key);
        moved.set_bpmn_process_id(target->bpmn_process_id);
        moved.set_process_definition_version(target->version);
        moved.set_element_id(element_id);
        context_.AppendEvent(instance.job_key(), JobIntent::kMigrated, std::move(moved));
      }
    }
    if (instance.user_task_key() > 0) {
      if (auto task = state.user_tasks.Get(instance.user_task_key())) {
        record::UserTaskRecord moved = task->record();
        moved.set_user_task_key(instance.user_task_key());
        moved.set_process_definition_key(target->key);
        moved.set_bpmn_process_id(target->bpmn_process_id);
        moved.set_process_definition_version(target->version);
        moved.set_element_id(element_id);
        context_.AppendEvent(instance.user_task_key(), UserTaskIntent::kMigrated, std::move(moved));
      }
    }
  };
  migrate(*root, to.id);
  for (const ElementInstance& instance : active) {
    migrate(instance, mapping[instance.record().element_id()]);
  }
}

// --- Resource deletion -------------------------------------------------------------------------

void ResourceDeletionProcessor::Delete(const record::Record& command) {
  int64_t key = command.resource_deletion().resource_key() > 0
                    ? command.resource_deletion().resource_key()
                    : command.key();
  auto& state = context_.state();
  bool from_elsewhere =
      command.source_partition_id() > 0 && command.source_partition_id() != context_.partition_id();
  record::ResourceDeletionRecord deletion;
  deletion.set_resource_key(key);
  deletion.set_tenant_id(std::string(state::kDefaultTenant));

  auto process = state.processes.ByKey(key);
  auto requirements = state.decisions.RequirementsByKey(key);
  if ((!process && !requirements) || state.processes.IsDeleted(key)) {
    if (from_elsewhere) return;  // a repeated delivery
    context_.Reject(
        record::NOT_FOUND,
        tern::StrCat("Expected to delete resource but no resource found with key `", key, "`"));
    return;
  }
  context_.AppendEvent(key, ResourceDeletionIntent::kDeleting, deletion);
  if (process) {
    deletion.set_tenant_id(process->tenant_id());
    bool was_latest =
        state.processes.LatestKey(process->tenant_id(), process->bpmn_process_id()) == key;
    context_.AppendEvent(key, ProcessIntent::kDeleting, *process);
    if (was_latest) events_.CloseStartEvents(key);
    record::ProcessRecord deleted = *process;
    deleted.clear_resource();
    context_.AppendEvent(key, ProcessIntent::kDeleted, std::move(deleted));
    if (was_latest) {
      // The previous version takes over the start events.
      if (auto previous =
              state.processes.Latest(process->tenant_id(), process->bpmn_process_id())) {
        if (auto model = context_.processes().Get(previous->process_definition_key())) {
          events_.OpenStartEvents(*previous, *model->process, !from_elsewhere);
        }
      }
    }
  } else {
    for (const auto& decision : state.decisions.OfRequirements(key)) {
      context_.AppendEvent(decision.decision_key(), DecisionIntent::kDeleted, decision);
    }
    record::DecisionRequirementsRecord deleted = *requirements;
    deleted.clear_resource();
    context_.AppendEvent(key, DecisionRequirementsIntent::kDeleted, std::move(deleted));
  }
  const record::Record& event =
      context_.AppendEvent(key, ResourceDeletionIntent::kDeleted, deletion);
  context_.Respond(event);
  if (from_elsewhere) return;
  for (int32_t partition = 1; partition <= context_.config().partition_count; ++partition) {
    if (partition == context_.partition_id()) continue;
    context_.SendCommand(partition, MakeCommand(key, ResourceDeletionIntent::kDelete, deletion));
  }
}

}  // namespace tern::engine
