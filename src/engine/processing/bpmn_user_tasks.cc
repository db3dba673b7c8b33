// Native user tasks (zeebe:userTask) on the element side: creating the task when the element is
// activated, cancelling it when the element is terminated. The commands on a task (assign,
// claim, update, complete) are in user_tasks.cc.

#include <algorithm>

#include "base/strings.h"
#include "engine/processing/bpmn_processor.h"
#include "nlohmann/json.hpp"

namespace tern::engine {

using tern::state::ElementInstance;

namespace {

// Zeebe's default priority of a user task without zeebe:priorityDefinition.
constexpr int64_t kDefaultUserTaskPriority = 50;

// The form a user task links to with zeebe:formDefinition formId, per its binding type, or
// NOT_FOUND with the message of the incident that waits for the form to be deployed.
absl::StatusOr<record::FormRecord> LinkedForm(state::FormState& forms,
                                              const bpmn::UserTaskProperties& properties,
                                              std::string_view tenant, int64_t deployment_key) {
  const std::string& id = properties.form_id;
  std::optional<record::FormRecord> form;
  switch (properties.form_binding.type) {
    case bpmn::BindingType::kLatest:
      form = forms.Latest(tenant, id);
      if (!form) {
        return absl::NotFoundError(tern::StrCat(
            "Expected to find a form with id '", id,
            "', but no form with this id is deployed. To resolve this incident, deploy a form "
            "with this id."));
      }
      break;
    case bpmn::BindingType::kDeployment:
      form = forms.ByIdAndDeployment(tenant, id, deployment_key);
      if (!form) {
        return absl::NotFoundError(tern::StrCat(
            "Expected to use form '", id,
            "' with binding type 'deployment', but no such form was deployed with the process "
            "(deployment key ",
            deployment_key,
            "). To resolve this incident, migrate the process instance to a process definition "
            "deployed together with the form."));
      }
      break;
    case bpmn::BindingType::kVersionTag:
      form = forms.ByIdAndVersionTag(tenant, id, properties.form_binding.version_tag);
      if (!form) {
        return absl::NotFoundError(tern::StrCat(
            "Expected to use form '", id, "' with version tag '",
            properties.form_binding.version_tag,
            "', but no such form is deployed. To resolve this incident, deploy a form with this "
            "id and version tag."));
      }
      break;
  }
  return *std::move(form);
}

}  // namespace

bool BpmnProcessor::CreateUserTask(const ElementInstance& instance, const Target& target,
                                   const std::vector<EventBehavior::Subscription>& subscriptions) {
  const bpmn::Element& element = *target.element;
  const bpmn::UserTaskProperties& properties = *element.user_task;
  // Every expression is evaluated before anything is written: a failure leaves the element in
  // ACTIVATING with an incident, and resolving it runs this again from the start.
  auto fail = [&](std::string_view attribute, const absl::Status& status) {
    incidents_.RaiseElementIncident(
        instance, kExtractValueError,
        tern::StrCat("Failed to evaluate ", attribute, " of user task '", element.id,
                     "': ", status.message()));
    return false;
  };
  record::UserTaskRecord task;
  if (properties.assignee) {
    auto assignee = expressions_.EvaluateString(*properties.assignee, instance.key());
    if (!assignee.ok()) return fail("zeebe:assignmentDefinition assignee", assignee.status());
    task.set_assignee(*assignee);
  }
  for (auto [expression, list, attribute] :
       {std::tuple{&properties.candidate_groups, task.mutable_candidate_groups(),
                   "zeebe:assignmentDefinition candidateGroups"},
        std::tuple{&properties.candidate_users, task.mutable_candidate_users(),
                   "zeebe:assignmentDefinition candidateUsers"}}) {
    if (!expression->has_value()) continue;
    auto values = expressions_.EvaluateStringList(**expression, instance.key());
    if (!values.ok()) return fail(attribute, values.status());
    for (std::string& value : *values) *list->Add() = std::move(value);
  }
  for (auto [expression, out, attribute] :
       {std::tuple{&properties.due_date, task.mutable_due_date(), "zeebe:taskSchedule dueDate"},
        std::tuple{&properties.follow_up_date, task.mutable_follow_up_date(),
                   "zeebe:taskSchedule followUpDate"}}) {
    if (!expression->has_value()) continue;
    auto date = expressions_.EvaluateDateTimeText(**expression, instance.key());
    if (!date.ok()) return fail(attribute, date.status());
    *out = *std::move(date);
  }
  int64_t priority = kDefaultUserTaskPriority;
  if (properties.priority) {
    auto value = expressions_.EvaluateInt(*properties.priority, instance.key());
    if (!value.ok()) return fail("zeebe:priorityDefinition priority", value.status());
    if (*value < 0 || *value > 100) {
      return fail(
          "zeebe:priorityDefinition priority",
          absl::InvalidArgumentError(tern::StrCat(
              "Expected priority to be a number between 0 and 100, but was '", *value, "'.")));
    }
    priority = *value;
  }
  task.set_priority(static_cast<int32_t>(priority));
  task.set_form_id(properties.form_id);
  task.set_external_form_reference(properties.external_reference);
  if (!properties.form_id.empty()) {
    auto form_key = LinkedFormKey(instance, target);
    if (!form_key) return false;
    task.set_form_key(*form_key);
  }
  nlohmann::ordered_json headers = nlohmann::ordered_json::object();
  for (const auto& header : element.task_headers) headers[header.key] = header.value;
  task.set_custom_headers(
      headers.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
  const DeployedProcess& process = *target.process;
  task.set_bpmn_process_id(process.bpmn_process_id);
  task.set_process_definition_version(process.version);
  task.set_process_definition_key(process.key);
  task.set_process_instance_key(instance.record().process_instance_key());
  task.set_element_id(element.id);
  task.set_element_instance_key(instance.key());
  task.set_tenant_id(instance.record().tenant_id());
  task.set_creation_timestamp(context_.timestamp());

  events_.Open(instance, subscriptions);
  const int64_t key = context_.NextKey();
  task.set_user_task_key(key);
  context_.AppendEvent(key, UserTaskIntent::kCreating, task);
  context_.AppendEvent(key, UserTaskIntent::kCreated, std::move(task));
  return true;
}

std::optional<int64_t> BpmnProcessor::LinkedFormKey(const ElementInstance& instance,
                                                    const Target& target) {
  const std::string& tenant = instance.record().tenant_id();
  auto form = LinkedForm(context_.state().forms, *target.element->user_task,
                         tenant.empty() ? state::kDefaultTenant : std::string_view(tenant),
                         target.process->deployment_key);
  if (!form.ok()) {
    incidents_.RaiseElementIncident(instance, kFormNotFound, std::string(form.status().message()));
    return std::nullopt;
  }
  return form->form_key();
}

void BpmnProcessor::CancelUserTask(const ElementInstance& instance) {
  if (instance.user_task_key() <= 0) return;
  auto task = context_.state().user_tasks.Get(instance.user_task_key());
  if (!task) return;
  record::UserTaskRecord record = task->record();
  record.set_user_task_key(instance.user_task_key());
  context_.AppendEvent(instance.user_task_key(), UserTaskIntent::kCanceling, record);
  context_.AppendEvent(instance.user_task_key(), UserTaskIntent::kCanceled, std::move(record));
}

}  // namespace tern::engine
