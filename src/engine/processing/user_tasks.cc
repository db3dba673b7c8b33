#include "engine/processing/user_tasks.h"

#include <algorithm>

#include "base/strings.h"
#include "feel/temporal.h"

namespace tern::engine {
namespace {

// Zeebe's UserTaskRecord attribute names, as UPDATE lists them in changedAttributes.
constexpr std::string_view kCandidateGroups = "candidateGroupsList";
constexpr std::string_view kCandidateUsers = "candidateUsersList";
constexpr std::string_view kDueDate = "dueDate";
constexpr std::string_view kFollowUpDate = "followUpDate";
constexpr std::string_view kPriority = "priority";

// Zeebe's verb for each command, used in its rejection messages and as the default action.
std::string_view Verb(UserTaskIntent intent) {
  switch (intent) {
    case UserTaskIntent::kAssign:
      return "assign";
    case UserTaskIntent::kClaim:
      return "claim";
    case UserTaskIntent::kUpdate:
      return "update";
    case UserTaskIntent::kComplete:
      return "complete";
    default:
      return "process";
  }
}

bool IsDateTimeOrEmpty(const std::string& text) {
  return text.empty() || feel::ParseDateTime(text).has_value();
}

}  // namespace

void UserTaskProcessor::Process(const record::Record& command) {
  const auto intent = static_cast<UserTaskIntent>(command.intent());
  switch (intent) {
    case UserTaskIntent::kAssign:
    case UserTaskIntent::kClaim:
    case UserTaskIntent::kUpdate:
    case UserTaskIntent::kComplete:
      break;
    default:
      context_.Reject(record::INVALID_ARGUMENT,
                      tern::StrCat("Expected a user task command (ASSIGN, CLAIM, UPDATE or "
                                   "COMPLETE), but got ",
                                   IntentName(record::USER_TASK, command.intent())));
      return;
  }
  const std::string_view verb = Verb(intent);
  auto stored = context_.state().user_tasks.Get(command.key());
  if (!stored) {
    context_.Reject(record::NOT_FOUND,
                    tern::StrCat("Expected to ", verb, " user task with key '", command.key(),
                                 "', but no such user task was found"));
    return;
  }
  if (stored->lifecycle_state() != tern::state::UserTaskState::CREATED) {
    context_.Reject(
        record::INVALID_STATE,
        tern::StrCat("Expected to ", verb, " user task with key '", command.key(),
                     "', but it is in state '",
                     state::UserTaskState::LifecycleName(stored->lifecycle_state()), "'"));
    return;
  }
  record::UserTaskRecord task = stored->record();
  task.set_user_task_key(command.key());
  const std::string& action = command.user_task().action();
  task.set_action(action.empty() ? std::string(verb) : action);
  switch (intent) {
    case UserTaskIntent::kAssign:
      Assign(command, std::move(task), /*claim=*/false);
      break;
    case UserTaskIntent::kClaim:
      Assign(command, std::move(task), /*claim=*/true);
      break;
    case UserTaskIntent::kUpdate:
      Update(command, std::move(task));
      break;
    default:
      Complete(command, std::move(task));
      break;
  }
}

void UserTaskProcessor::Assign(const record::Record& command, record::UserTaskRecord task,
                               bool claim) {
  const std::string& assignee = command.user_task().assignee();
  if (claim) {
    if (assignee.find_first_not_of(" \t\r\n") == std::string::npos) {
      context_.Reject(record::INVALID_STATE,
                      tern::StrCat("Expected to claim user task with key '", command.key(),
                                   "', but provided assignee is empty"));
      return;
    }
    if (!task.assignee().empty() && task.assignee() != assignee) {
      context_.Reject(record::INVALID_STATE,
                      tern::StrCat("Expected to claim user task with key '", command.key(),
                                   "', but it has already been assigned"));
      return;
    }
  }
  task.set_assignee(assignee);
  context_.AppendEvent(command.key(), UserTaskIntent::kAssigning, task);
  const record::Record& assigned =
      context_.AppendEvent(command.key(), UserTaskIntent::kAssigned, std::move(task));
  context_.Respond(assigned);
}

void UserTaskProcessor::Update(const record::Record& command, record::UserTaskRecord task) {
  const record::UserTaskRecord& changes = command.user_task();
  for (const std::string& attribute : changes.changed_attributes()) {
    if (attribute == kCandidateGroups) {
      *task.mutable_candidate_groups() = changes.candidate_groups();
    } else if (attribute == kCandidateUsers) {
      *task.mutable_candidate_users() = changes.candidate_users();
    } else if (attribute == kDueDate || attribute == kFollowUpDate) {
      const std::string& date =
          attribute == kDueDate ? changes.due_date() : changes.follow_up_date();
      if (!IsDateTimeOrEmpty(date)) {
        context_.Reject(
            record::INVALID_ARGUMENT,
            tern::StrCat("Expected to update user task with key '", command.key(), "', but ",
                         attribute, " '", date, "' is not a date and time (ISO 8601)"));
        return;
      }
      *(attribute == kDueDate ? task.mutable_due_date() : task.mutable_follow_up_date()) = date;
    } else if (attribute == kPriority) {
      if (changes.priority() < 0 || changes.priority() > 100) {
        context_.Reject(
            record::INVALID_ARGUMENT,
            tern::StrCat("Expected to update user task with key '", command.key(),
                         "', but priority ", changes.priority(), " is not between 0 and 100"));
        return;
      }
      task.set_priority(changes.priority());
    } else {
      // Zeebe ignores names it does not know; Tern refuses them so that a misspelt attribute
      // is not silently dropped.
      context_.Reject(
          record::INVALID_ARGUMENT,
          tern::StrCat("Expected to update user task with key '", command.key(), "', but '",
                       attribute,
                       "' is not an attribute that can be updated (candidateGroupsList, "
                       "candidateUsersList, dueDate, followUpDate, priority)"));
      return;
    }
  }
  *task.mutable_changed_attributes() = changes.changed_attributes();
  context_.AppendEvent(command.key(), UserTaskIntent::kUpdating, task);
  const record::Record& updated =
      context_.AppendEvent(command.key(), UserTaskIntent::kUpdated, std::move(task));
  context_.Respond(updated);
}

void UserTaskProcessor::Complete(const record::Record& command, record::UserTaskRecord task) {
  auto variables = ParseVariableDocument(command.user_task().variables());
  if (!variables.ok()) {
    context_.Reject(record::INVALID_ARGUMENT, std::string(variables.status().message()));
    return;
  }
  task.set_variables(command.user_task().variables().empty() ? "{}"
                                                             : command.user_task().variables());
  context_.AppendEvent(command.key(), UserTaskIntent::kCompleting, task);
  const record::Record& completed =
      context_.AppendEvent(command.key(), UserTaskIntent::kCompleted, task);
  context_.Respond(completed);

  const int64_t element_key = task.element_instance_key();
  auto instance = context_.state().element_instances.Get(element_key);
  if (!instance || instance->state() != ToInt(ProcessInstanceIntent::kElementActivated)) return;
  auto process = context_.processes().Get(instance->record().process_definition_key());
  TERN_CHECK(process != nullptr);
  const bpmn::Element& element = process->process->at(instance->element_index());
  // As for a job: with output mappings the variables are their inputs (local to the task);
  // without, they propagate to the scopes that define them, or the process instance.
  if (element.outputs.empty()) {
    variables_.MergePropagating(element_key, *variables);
  } else {
    variables_.MergeLocal(element_key, *variables);
  }
  context_.FollowUp(
      MakeCommand(element_key, ProcessInstanceIntent::kCompleteElement, instance->record()));
}

}  // namespace tern::engine
