#include "engine/appliers.h"

#include "base/check.h"
#include "bpmn/model.h"
#include "engine/intent.h"

namespace tern::engine {
namespace {

using tern::state::ElementInstance;
using tern::state::JobState;

// How many tokens (taken sequence flows) an element consumes when it is activated: a joining
// parallel gateway one per incoming flow, any other element reached by a flow one, an element
// without incoming flows (start and boundary events) none.
int32_t TokensConsumed(const bpmn::Element& element) {
  if (element.incoming.empty()) return 0;
  if (element.type == bpmn::ElementType::kParallelGateway) {
    return static_cast<int32_t>(element.incoming.size());
  }
  return 1;
}

bool IsJoin(const bpmn::Element& element) {
  return (element.type == bpmn::ElementType::kParallelGateway ||
          element.type == bpmn::ElementType::kInclusiveGateway) &&
         element.incoming.size() > 1;
}

// Elements whose instances may have event triggers stored under their key.
bool MayHaveTriggers(const bpmn::Element& element) {
  switch (element.type) {
    case bpmn::ElementType::kIntermediateCatchEvent:
    case bpmn::ElementType::kBoundaryEvent:
    case bpmn::ElementType::kStartEvent:
    case bpmn::ElementType::kReceiveTask:
    case bpmn::ElementType::kCallActivity:
    case bpmn::ElementType::kEventBasedGateway:
    case bpmn::ElementType::kScriptTask:
    case bpmn::ElementType::kBusinessRuleTask:
    case bpmn::ElementType::kEventSubProcess:
    case bpmn::ElementType::kProcess:
      return true;
    default:
      return !element.boundary_events.empty() || !element.event_subprocesses.empty();
  }
}

tern::state::TakenFlows* FindTakenFlows(ElementInstance& scope, const std::string& gateway_id) {
  for (auto& taken : *scope.mutable_taken_flows()) {
    if (taken.gateway_id() == gateway_id) return &taken;
  }
  return nullptr;
}

}  // namespace

void EventAppliers::ApplyUserTask(const record::Record& event) {
  using Lifecycle = tern::state::UserTaskState;
  const int64_t key = event.key();
  auto set = [&](Lifecycle::LifecycleState lifecycle) {
    Lifecycle task;
    task.set_lifecycle_state(lifecycle);
    *task.mutable_record() = event.user_task();
    // Completion variables belong to the events, not to the stored task.
    task.mutable_record()->clear_variables();
    task.mutable_record()->clear_changed_attributes();
    state_.user_tasks.Put(key, task);
  };
  switch (static_cast<UserTaskIntent>(event.intent())) {
    case UserTaskIntent::kCreating:
      set(Lifecycle::CREATING);
      if (auto instance = state_.element_instances.Get(event.user_task().element_instance_key())) {
        instance->set_user_task_key(key);
        state_.element_instances.Put(*instance);
      }
      break;
    case UserTaskIntent::kCreated:
    case UserTaskIntent::kAssigned:
    case UserTaskIntent::kUpdated:
    case UserTaskIntent::kMigrated:
      set(Lifecycle::CREATED);
      break;
    case UserTaskIntent::kAssigning:
      set(Lifecycle::ASSIGNING);
      break;
    case UserTaskIntent::kUpdating:
      set(Lifecycle::UPDATING);
      break;
    case UserTaskIntent::kCompleting:
      set(Lifecycle::COMPLETING);
      break;
    case UserTaskIntent::kCanceling:
      set(Lifecycle::CANCELING);
      break;
    case UserTaskIntent::kCompleted:
    case UserTaskIntent::kCanceled:
      // Kept until the process instance ends, so that a command on a finished task is refused
      // as INVALID_STATE (naming the state) rather than NOT_FOUND, and searches show it.
      set(static_cast<UserTaskIntent>(event.intent()) == UserTaskIntent::kCompleted
              ? Lifecycle::COMPLETED
              : Lifecycle::CANCELED);
      if (auto instance = state_.element_instances.Get(event.user_task().element_instance_key());
          instance && instance->user_task_key() == key) {
        instance->set_user_task_key(0);
        state_.element_instances.Put(*instance);
      }
      break;
    default:
      TERN_UNREACHABLE("no applier for user task intent ", event.intent());
  }
}

void EventAppliers::ApplyMessageCorrelation(const record::Record& event) {
  switch (static_cast<MessageCorrelationIntent>(event.intent())) {
    case MessageCorrelationIntent::kCorrelating: {
      tern::state::PendingMessageCorrelation pending;
      pending.set_request_stream_id(event.request_stream_id());
      pending.set_request_id(event.request_id());
      *pending.mutable_record() = event.message_correlation();
      state_.pending_correlations.Put(event.key(), pending);
      break;
    }
    case MessageCorrelationIntent::kCorrelated:
    case MessageCorrelationIntent::kNotCorrelated:
      state_.pending_correlations.Delete(event.key());
      break;
    default:
      TERN_UNREACHABLE("no applier for message correlation intent ", event.intent());
  }
}

void EventAppliers::ObserveKey(int64_t key) {
  if (PartitionOfKey(key) != partition_id_) return;
  if (key > last_key()) state_.meta.SetLastKey(key);
}

void EventAppliers::Apply(const record::Record& event) {
  TERN_CHECK(event.record_type() == record::EVENT, "only events are applied");
  ObserveKey(event.key());
  switch (event.value_type()) {
    case record::PROCESS:
      if (event.intent() == ToInt(ProcessIntent::kCreated)) state_.processes.Put(event.process());
      if (event.intent() == ToInt(ProcessIntent::kDeleted)) {
        state_.processes.MarkDeleted(event.process());
      }
      break;
    case record::PROCESS_INSTANCE:
      ApplyProcessInstance(event);
      break;
    case record::PROCESS_INSTANCE_CREATION:
      if (event.process_instance_creation().await_result()) {
        tern::state::AwaitedResult awaited;
        awaited.set_request_stream_id(event.request_stream_id());
        awaited.set_request_id(event.request_id());
        *awaited.mutable_fetch_variables() = event.process_instance_creation().fetch_variables();
        state_.awaited_results.Put(event.process_instance_creation().process_instance_key(),
                                   awaited);
      }
      break;
    case record::JOB:
      ApplyJob(event);
      break;
    case record::USER_TASK:
      ApplyUserTask(event);
      break;
    case record::MESSAGE_CORRELATION:
      ApplyMessageCorrelation(event);
      break;
    case record::JOB_BATCH:
      ApplyJobBatch(event);
      break;
    case record::VARIABLE:
      state_.variables.Put(event.variable().scope_key(), event.variable().name(),
                           event.variable().value());
      break;
    case record::INCIDENT:
      ApplyIncident(event);
      break;
    case record::COMMAND_DISTRIBUTION: {
      const auto& value = event.command_distribution();
      auto intent = static_cast<CommandDistributionIntent>(event.intent());
      if (intent == CommandDistributionIntent::kDistributing) {
        state_.distributions.Put(event.key(), value);
      } else if (intent == CommandDistributionIntent::kAcknowledged) {
        state_.distributions.Delete(event.key(), value.partition_id());
      }
      break;
    }
    case record::TIMER:
      if (event.intent() == ToInt(TimerIntent::kCreated)) {
        state_.timers.Put(event.key(), event.timer());
      } else {
        state_.timers.Delete(event.key());
      }
      break;
    case record::MESSAGE:
      if (event.intent() == ToInt(MessageIntent::kPublished)) {
        state_.messages.Put(event.key(), event.message());
      } else if (event.intent() == ToInt(MessageIntent::kExpired)) {
        state_.messages.Delete(event.key());
      }
      break;
    case record::MESSAGE_SUBSCRIPTION:
      ApplyMessageSubscription(event);
      break;
    case record::PROCESS_MESSAGE_SUBSCRIPTION:
      ApplyProcessMessageSubscription(event);
      break;
    case record::MESSAGE_START_EVENT_SUBSCRIPTION:
      ApplyMessageStartSubscription(event);
      break;
    case record::SIGNAL_SUBSCRIPTION:
      if (event.intent() == ToInt(SignalSubscriptionIntent::kCreated)) {
        state_.signal_subscriptions.Put(event.key(), event.signal_subscription());
      } else {
        state_.signal_subscriptions.Delete(
            event.key(), state::SignalSubscriptionState::OwnerOf(event.signal_subscription()));
      }
      break;
    case record::PROCESS_EVENT:
      ApplyProcessEvent(event);
      break;
    case record::PROCESS_INSTANCE_BATCH:
      if (auto body = state_.element_instances.Get(
              event.process_instance_batch().batch_element_instance_key())) {
        body->set_mi_cardinality(event.process_instance_batch().cardinality());
        state_.element_instances.Put(*body);
      }
      break;
    case record::COMPENSATION_SUBSCRIPTION:
      ApplyCompensation(event);
      break;
    case record::DECISION:
      if (event.intent() == ToInt(DecisionIntent::kCreated)) {
        state_.decisions.Put(event.decision());
      } else {
        state_.decisions.Delete(event.decision());
      }
      break;
    case record::FORM:
      if (event.intent() == ToInt(FormIntent::kCreated)) {
        state_.forms.Put(event.form());
      } else {
        state_.forms.Delete(event.form());
      }
      break;
    case record::DECISION_REQUIREMENTS:
      if (event.intent() == ToInt(DecisionRequirementsIntent::kCreated)) {
        state_.decisions.PutRequirements(event.decision_requirements());
      } else {
        state_.decisions.DeleteRequirements(event.decision_requirements());
      }
      break;
    case record::CHECKPOINT:
      if (event.intent() == ToInt(CheckpointIntent::kCreated)) {
        state_.meta.SetLastCheckpoint(event.checkpoint().checkpoint_id(),
                                      event.checkpoint().checkpoint_position());
      }
      break;
    case record::DEPLOYMENT:
    case record::VARIABLE_DOCUMENT:
    case record::SIGNAL:
    case record::ESCALATION:
    case record::DECISION_EVALUATION:
    case record::PROCESS_INSTANCE_MODIFICATION:
    case record::PROCESS_INSTANCE_MIGRATION:
    case record::RESOURCE_DELETION:
      // Facts for exporters and answers; the state they imply comes with their own events.
      break;
    default:
      TERN_UNREACHABLE("no applier for value type ", record::ValueType_Name(event.value_type()));
  }
}

void EventAppliers::ApplyProcessInstance(const record::Record& event) {
  const auto& value = event.process_instance();
  auto intent = static_cast<ProcessInstanceIntent>(event.intent());
  auto process = processes_.Get(value.process_definition_key());
  TERN_CHECK(process != nullptr, "event for unknown process ", value.process_definition_key());
  const bpmn::Element* element = process->process->Find(value.element_id());
  TERN_CHECK(element != nullptr, "unknown element ", value.element_id());

  switch (intent) {
    case ProcessInstanceIntent::kElementActivating: {
      ElementInstance instance;
      instance.set_key(event.key());
      *instance.mutable_record() = value;
      instance.set_state(event.intent());
      instance.set_element_index(element->index);
      state_.element_instances.Put(instance);
      if (value.flow_scope_key() > 0) {
        auto scope = state_.element_instances.Get(value.flow_scope_key());
        TERN_CHECK(scope.has_value(), "activating ", event.key(), " in missing scope ",
                   value.flow_scope_key());
        scope->set_active_children(scope->active_children() + 1);
        int32_t consumed = TokensConsumed(*element);
        if (element->type == bpmn::ElementType::kInclusiveGateway && element->incoming.size() > 1) {
          // An inclusive join consumes a token from each incoming flow that delivered one.
          consumed = 0;
          if (auto* taken = FindTakenFlows(*scope, element->id)) consumed = taken->counts_size();
        }
        scope->set_active_sequence_flows(std::max(0, scope->active_sequence_flows() - consumed));
        if (scope->record().bpmn_element_type() ==
            static_cast<int32_t>(bpmn::ElementType::kMultiInstanceBody)) {
          scope->set_mi_created(scope->mi_created() + 1);
          instance.set_multi_instance_loop_counter(static_cast<int32_t>(scope->mi_created()));
          state_.element_instances.Put(instance);
        }
        if (IsJoin(*element)) {
          // The join consumes one token from each incoming flow.
          if (auto* taken = FindTakenFlows(*scope, element->id)) {
            auto* counts = taken->mutable_counts();
            for (auto it = counts->begin(); it != counts->end();) {
              it->set_count(it->count() - 1);
              it = it->count() <= 0 ? counts->erase(it) : it + 1;
            }
            if (counts->empty()) {
              auto* all = scope->mutable_taken_flows();
              for (auto it = all->begin(); it != all->end(); ++it) {
                if (it->gateway_id() == element->id) {
                  all->erase(it);
                  break;
                }
              }
            }
          }
        }
        state_.element_instances.Put(*scope);
        state_.element_instances.AddChild(value.flow_scope_key(), event.key());
      } else if (value.parent_element_instance_key() > 0) {
        // A called process: its call activity knows it.
        if (auto parent = state_.element_instances.Get(value.parent_element_instance_key())) {
          parent->set_called_child_key(event.key());
          state_.element_instances.Put(*parent);
        }
      }
      break;
    }
    case ProcessInstanceIntent::kElementMigrated: {
      auto instance = state_.element_instances.Get(event.key());
      TERN_CHECK(instance.has_value(), "migrating missing element instance ", event.key());
      *instance->mutable_record() = value;
      instance->set_element_index(element->index);
      state_.element_instances.Put(*instance);
      break;
    }
    case ProcessInstanceIntent::kElementActivated:
    case ProcessInstanceIntent::kElementCompleting:
    case ProcessInstanceIntent::kElementTerminating: {
      auto instance = state_.element_instances.Get(event.key());
      TERN_CHECK(instance.has_value(), "lifecycle event for missing element instance ",
                 event.key());
      instance->set_state(event.intent());
      *instance->mutable_record() = value;
      // Each phase (activation, completion) runs its own listeners from the first.
      if (intent != ProcessInstanceIntent::kElementTerminating) {
        instance->set_execution_listener_index(0);
      }
      state_.element_instances.Put(*instance);
      break;
    }
    case ProcessInstanceIntent::kElementCompleted:
    case ProcessInstanceIntent::kElementTerminated: {
      auto finished = state_.element_instances.Get(event.key());
      state_.element_instances.Delete(event.key(), value.flow_scope_key());
      state_.variables.DeleteScope(event.key());
      if (MayHaveTriggers(*element)) state_.event_triggers.DeleteScope(event.key());
      if (value.flow_scope_key() > 0) {
        auto scope = state_.element_instances.Get(value.flow_scope_key());
        TERN_CHECK(scope.has_value());
        scope->set_active_children(scope->active_children() - 1);
        TERN_CHECK(scope->active_children() >= 0, "negative children in ", scope->key());
        if (scope->record().bpmn_element_type() ==
            static_cast<int32_t>(bpmn::ElementType::kMultiInstanceBody)) {
          if (intent == ProcessInstanceIntent::kElementCompleted) {
            scope->set_mi_completed(scope->mi_completed() + 1);
          } else {
            scope->set_mi_terminated(scope->mi_terminated() + 1);
          }
        }
        if (intent == ProcessInstanceIntent::kElementCompleted &&
            element->type == bpmn::ElementType::kEndEvent &&
            element->event_type == bpmn::EventType::kTerminate) {
          // A terminate end event: the scope's other children are terminated, its pending
          // tokens dropped, and it completes when they are gone.
          scope->set_interrupted(true);
          scope->set_terminated_by_end_event(true);
          scope->set_active_sequence_flows(0);
          scope->clear_taken_flows();
        }
        state_.element_instances.Put(*scope);
      } else {
        state_.awaited_results.Delete(event.key());
        // Finished user tasks stay (COMPLETED, CANCELED) while their instance runs.
        state_.user_tasks.DeleteProcessInstance(event.key());
        if (process->uses_compensation) state_.compensations.DeleteInstance(event.key());
        if (finished && !finished->message_correlation_key().empty()) {
          state_.message_start_subscriptions.DeleteActiveInstance(
              value.bpmn_process_id(), finished->message_correlation_key());
        }
      }
      break;
    }
    case ProcessInstanceIntent::kSequenceFlowTaken: {
      auto scope = state_.element_instances.Get(value.flow_scope_key());
      TERN_CHECK(scope.has_value(), "flow taken in missing scope ", value.flow_scope_key());
      scope->set_active_sequence_flows(scope->active_sequence_flows() + 1);
      const bpmn::Element& target = process->process->at(element->target);
      if (IsJoin(target)) {
        auto* taken = FindTakenFlows(*scope, target.id);
        if (taken == nullptr) {
          taken = scope->add_taken_flows();
          taken->set_gateway_id(target.id);
        }
        tern::state::FlowCount* count = nullptr;
        for (auto& c : *taken->mutable_counts()) {
          if (c.flow_id() == element->id) count = &c;
        }
        if (count == nullptr) {
          count = taken->add_counts();
          count->set_flow_id(element->id);
        }
        count->set_count(count->count() + 1);
      }
      state_.element_instances.Put(*scope);
      break;
    }
    default:
      TERN_UNREACHABLE("no applier for process instance intent ", event.intent());
  }
}

void EventAppliers::ApplyJob(const record::Record& event) {
  const auto& value = event.job();
  auto intent = static_cast<JobIntent>(event.intent());
  switch (intent) {
    case JobIntent::kCreated: {
      JobState job;
      job.set_state(JobState::ACTIVATABLE);
      *job.mutable_record() = value;
      job.mutable_record()->clear_variables();
      state_.jobs.Put(event.key(), job);
      if (auto instance = state_.element_instances.Get(value.element_instance_key())) {
        instance->set_job_key(event.key());
        state_.element_instances.Put(*instance);
      }
      break;
    }
    case JobIntent::kCompleted:
    case JobIntent::kCanceled: {
      state_.jobs.Delete(event.key());
      if (auto instance = state_.element_instances.Get(value.element_instance_key())) {
        instance->set_job_key(0);
        if (intent == JobIntent::kCompleted && value.job_kind() == record::EXECUTION_LISTENER) {
          instance->set_execution_listener_index(instance->execution_listener_index() + 1);
        }
        state_.element_instances.Put(*instance);
      }
      break;
    }
    case JobIntent::kTimedOut:
    case JobIntent::kRecurredAfterBackoff:
    case JobIntent::kYielded: {
      auto job = state_.jobs.Get(event.key());
      TERN_CHECK(job.has_value());
      job->set_state(JobState::ACTIVATABLE);
      job->mutable_record()->set_deadline(0);
      job->mutable_record()->set_recurring_time(0);
      job->mutable_record()->clear_worker();
      state_.jobs.Put(event.key(), *job);
      break;
    }
    case JobIntent::kFailed: {
      auto job = state_.jobs.Get(event.key());
      TERN_CHECK(job.has_value());
      auto* record = job->mutable_record();
      record->set_retries(value.retries());
      record->set_error_message(value.error_message());
      record->set_retry_backoff(value.retry_backoff());
      record->set_deadline(0);
      record->clear_worker();
      if (value.retries() > 0 && value.retry_backoff() > 0) {
        job->set_state(JobState::FAILED);
        record->set_recurring_time(event.timestamp() + value.retry_backoff());
      } else if (value.retries() > 0) {
        job->set_state(JobState::ACTIVATABLE);
        record->set_recurring_time(0);
      } else {
        job->set_state(JobState::FAILED);
        record->set_recurring_time(0);
      }
      state_.jobs.Put(event.key(), *job);
      break;
    }
    case JobIntent::kErrorThrown: {
      auto job = state_.jobs.Get(event.key());
      TERN_CHECK(job.has_value());
      job->set_state(JobState::ERROR_THROWN);
      job->mutable_record()->set_error_code(value.error_code());
      job->mutable_record()->set_error_message(value.error_message());
      job->mutable_record()->set_deadline(0);
      state_.jobs.Put(event.key(), *job);
      break;
    }
    case JobIntent::kRetriesUpdated: {
      auto job = state_.jobs.Get(event.key());
      TERN_CHECK(job.has_value());
      job->mutable_record()->set_retries(value.retries());
      state_.jobs.Put(event.key(), *job);
      break;
    }
    case JobIntent::kMigrated: {
      auto job = state_.jobs.Get(event.key());
      TERN_CHECK(job.has_value());
      *job->mutable_record() = value;
      job->mutable_record()->clear_variables();
      state_.jobs.Put(event.key(), *job);
      break;
    }
    case JobIntent::kTimeoutUpdated: {
      auto job = state_.jobs.Get(event.key());
      TERN_CHECK(job.has_value());
      job->mutable_record()->set_deadline(value.deadline());
      state_.jobs.Put(event.key(), *job);
      break;
    }
    default:
      TERN_UNREACHABLE("no applier for job intent ", event.intent());
  }
}

void EventAppliers::ApplyMessageSubscription(const record::Record& event) {
  const auto& value = event.message_subscription();
  auto intent = static_cast<MessageSubscriptionIntent>(event.intent());
  auto existing =
      state_.message_subscriptions.Get(value.element_instance_key(), value.message_name());
  switch (intent) {
    case MessageSubscriptionIntent::kCreated: {
      tern::state::MessageSubscriptionState subscription;
      *subscription.mutable_record() = value;
      state_.message_subscriptions.Put(subscription);
      break;
    }
    case MessageSubscriptionIntent::kCorrelating: {
      TERN_CHECK(existing.has_value(), "correlating a missing message subscription");
      existing->set_correlating(true);
      existing->mutable_record()->set_message_key(value.message_key());
      existing->mutable_record()->set_variables(value.variables());
      state_.message_subscriptions.Put(*existing);
      state_.messages.MarkCorrelated(value.message_key(), value.bpmn_process_id());
      break;
    }
    case MessageSubscriptionIntent::kCorrelated:
      if (!existing) break;
      if (existing->record().interrupting()) {
        state_.message_subscriptions.Delete(value.element_instance_key(), value.message_name());
      } else {
        existing->set_correlating(false);
        existing->mutable_record()->clear_variables();
        state_.message_subscriptions.Put(*existing);
      }
      break;
    case MessageSubscriptionIntent::kRejected:
      state_.messages.UnmarkCorrelated(value.message_key(), value.bpmn_process_id());
      state_.message_subscriptions.Delete(value.element_instance_key(), value.message_name());
      break;
    case MessageSubscriptionIntent::kDeleted:
      state_.message_subscriptions.Delete(value.element_instance_key(), value.message_name());
      break;
    default:
      TERN_UNREACHABLE("no applier for message subscription intent ", event.intent());
  }
}

void EventAppliers::ApplyProcessMessageSubscription(const record::Record& event) {
  const auto& value = event.process_message_subscription();
  auto intent = static_cast<ProcessMessageSubscriptionIntent>(event.intent());
  switch (intent) {
    case ProcessMessageSubscriptionIntent::kCreating: {
      tern::state::ProcessMessageSubscriptionState subscription;
      *subscription.mutable_record() = value;
      subscription.set_pending_create_key(event.key());
      state_.process_message_subscriptions.Put(subscription);
      break;
    }
    case ProcessMessageSubscriptionIntent::kCorrelated: {
      auto existing = state_.process_message_subscriptions.Get(value.element_instance_key(),
                                                               value.message_name());
      if (!existing) break;
      existing->set_last_message_key(value.message_key());
      existing->set_closed(existing->record().interrupting());
      state_.process_message_subscriptions.Put(*existing);
      break;
    }
    case ProcessMessageSubscriptionIntent::kDeleted:
      state_.process_message_subscriptions.Delete(value.element_instance_key(),
                                                  value.message_name());
      break;
    default:
      TERN_UNREACHABLE("no applier for process message subscription intent ", event.intent());
  }
}

void EventAppliers::ApplyMessageStartSubscription(const record::Record& event) {
  const auto& value = event.message_start_event_subscription();
  switch (static_cast<MessageStartEventSubscriptionIntent>(event.intent())) {
    case MessageStartEventSubscriptionIntent::kCreated:
      state_.message_start_subscriptions.Put(value);
      break;
    case MessageStartEventSubscriptionIntent::kDeleted:
      state_.message_start_subscriptions.Delete(value);
      break;
    case MessageStartEventSubscriptionIntent::kCorrelated:
      state_.messages.MarkCorrelated(value.message_key(), value.bpmn_process_id());
      if (!value.correlation_key().empty()) {
        state_.message_start_subscriptions.PutActiveInstance(
            value.bpmn_process_id(), value.correlation_key(), value.process_instance_key());
        if (auto root = state_.element_instances.Get(value.process_instance_key())) {
          root->set_message_correlation_key(value.correlation_key());
          state_.element_instances.Put(*root);
        }
      }
      break;
  }
}

void EventAppliers::ApplyProcessEvent(const record::Record& event) {
  const auto& value = event.process_event();
  if (event.intent() == ToInt(ProcessEventIntent::kTriggered)) {
    state_.event_triggers.Delete(value.scope_key(), event.key());
    return;
  }
  state_.event_triggers.Put(event.key(), value);
  if (value.interrupting()) {
    // The scope accepts no further events, and tokens still travelling in it are dropped.
    if (auto scope = state_.element_instances.Get(value.scope_key())) {
      scope->set_interrupted(true);
      scope->set_active_sequence_flows(0);
      scope->clear_taken_flows();
      state_.element_instances.Put(*scope);
    }
  }
}

void EventAppliers::ApplyCompensation(const record::Record& event) {
  const auto& value = event.compensation_subscription();
  switch (static_cast<CompensationSubscriptionIntent>(event.intent())) {
    case CompensationSubscriptionIntent::kCreated:
      state_.compensations.Put(event.key(), value);
      break;
    case CompensationSubscriptionIntent::kTriggered: {
      state_.compensations.Put(event.key(), value);
      if (auto handler = state_.element_instances.Get(value.compensation_handler_instance_key())) {
        handler->set_compensation_throw_key(value.throw_event_instance_key());
        state_.element_instances.Put(*handler);
      }
      if (auto thrower = state_.element_instances.Get(value.throw_event_instance_key())) {
        thrower->set_pending_compensations(thrower->pending_compensations() + 1);
        state_.element_instances.Put(*thrower);
      }
      break;
    }
    case CompensationSubscriptionIntent::kCompleted: {
      state_.compensations.Delete(value.process_instance_key(), event.key());
      if (auto thrower = state_.element_instances.Get(value.throw_event_instance_key())) {
        thrower->set_pending_compensations(std::max(0, thrower->pending_compensations() - 1));
        state_.element_instances.Put(*thrower);
      }
      break;
    }
    case CompensationSubscriptionIntent::kDeleted:
      state_.compensations.Delete(value.process_instance_key(), event.key());
      break;
  }
}

void EventAppliers::ApplyJobBatch(const record::Record& event) {
  TERN_CHECK(event.intent() == ToInt(JobBatchIntent::kActivated));
  const auto& batch = event.job_batch();
  TERN_CHECK(batch.job_keys_size() == batch.jobs_size());
  for (int i = 0; i < batch.job_keys_size(); ++i) {
    int64_t key = batch.job_keys(i);
    auto job = state_.jobs.Get(key);
    TERN_CHECK(job.has_value(), "activated missing job ", key);
    job->set_state(JobState::ACTIVATED);
    job->mutable_record()->set_deadline(batch.jobs(i).deadline());
    job->mutable_record()->set_worker(batch.jobs(i).worker());
    job->mutable_record()->set_recurring_time(0);
    state_.jobs.Put(key, *job);
  }
}

void EventAppliers::ApplyIncident(const record::Record& event) {
  auto intent = static_cast<IncidentIntent>(event.intent());
  if (intent == IncidentIntent::kCreated) {
    tern::state::IncidentState incident;
    *incident.mutable_record() = event.incident();
    state_.incidents.Put(event.key(), incident);
    const auto& value = event.incident();
    if (value.job_key() > 0 && value.error_type() == "MESSAGE_SIZE_EXCEEDED") {
      // The job is too large to hand out: it leaves activation (keeping its retries) until the
      // incident is resolved, as in Zeebe.
      if (auto job = state_.jobs.Get(value.job_key());
          job && job->state() == JobState::ACTIVATABLE) {
        job->set_state(JobState::FAILED);
        job->mutable_record()->set_recurring_time(0);
        state_.jobs.Put(value.job_key(), *job);
      }
    }
    return;
  }
  TERN_CHECK(intent == IncidentIntent::kResolved);
  const auto& value = event.incident();
  state_.incidents.Delete(event.key());
  if (value.job_key() > 0) {
    // The job returns to the workers if it has retries left; with none, it stays failed until
    // its retries are updated (which makes it activatable again).
    if (auto job = state_.jobs.Get(value.job_key())) {
      if (job->record().retries() > 0) {
        job->set_state(JobState::ACTIVATABLE);
        state_.jobs.Put(value.job_key(), *job);
      }
    }
  }
}

}  // namespace tern::engine
