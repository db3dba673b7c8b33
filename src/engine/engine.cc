#include "engine/engine.h"

#include <map>

#include "base/check.h"
#include "base/strings.h"
#include "engine/appliers.h"
#include "engine/processing/behaviors.h"
#include "engine/processing/bpmn_processor.h"
#include "engine/processing/context.h"
#include "engine/processing/decisions.h"
#include "engine/processing/event_processors.h"
#include "engine/processing/events.h"
#include "engine/processing/expressions.h"
#include "engine/processing/operations.h"
#include "engine/processing/process_cache.h"
#include "engine/processing/processors.h"
#include "engine/processing/user_tasks.h"
#include "engine/processing/variables.h"
#include "engine/state/engine_state.h"

namespace tern::engine {

// Due-work commands written per batch at most; the rest wait for the next batch so that a
// burst of expired jobs cannot make one batch huge.
inline constexpr int kMaxDueCommandsPerBatch = 500;
// Page sizes of user task queries (UserTaskQuery.limit 0, and the cap).
inline constexpr int32_t kDefaultUserTaskPage = 100;
inline constexpr int32_t kMaxUserTaskPage = 1000;

class Engine::Impl {
 public:
  Impl(EngineConfig config, state::StateStore& store, JobStreamRegistry* job_streams)
      : config_(std::move(config)),
        state_(store),
        cache_(state_.processes),
        appliers_(config_.partition_id, state_, cache_),
        context_(config_, state_, cache_, appliers_, job_streams),
        variables_(context_),
        expressions_(context_, variables_),
        incidents_(context_),
        jobs_(context_, variables_),
        events_(context_, variables_, expressions_),
        decisions_(context_, variables_, expressions_),
        bpmn_(context_, variables_, expressions_, incidents_, jobs_, events_),
        deployments_(context_, events_, decisions_),
        creations_(context_, bpmn_),
        job_processor_(context_, variables_, incidents_, jobs_, bpmn_),
        variable_documents_(context_, variables_),
        incident_processor_(context_, incidents_, jobs_, bpmn_),
        timer_processor_(context_, bpmn_, events_),
        message_processor_(context_, bpmn_, events_),
        signal_processor_(context_, bpmn_),
        modification_processor_(context_, bpmn_, variables_),
        migration_processor_(context_),
        deletion_processor_(context_, events_),
        user_task_processor_(context_, variables_) {
    bpmn_.set_decisions(&decisions_);
    last_position_ = state_.meta.LastPosition();
  }

  void BeginBatch(int64_t timestamp_ms) {
    TERN_CHECK(!in_batch_, "batch already open");
    in_batch_ = true;
    follow_ups_in_batch_ = 0;
    context_.BeginBatch(timestamp_ms, last_position_ + 1, appliers_.last_key());
  }

  void ProcessClientCommand(record::Record command) {
    TERN_CHECK(in_batch_);
    command.set_source_record_position(-1);
    command.set_value_type(ValueTypeOfValue(command));
    context_.BeginCommand(std::move(command));
    Dispatch(context_.command());
    DrainFollowUps();
  }

  void ProcessDeferredCommands() {
    TERN_CHECK(in_batch_);
    while (follow_ups_in_batch_ < config_.max_follow_ups_per_batch) {
      auto command = state_.deferred_commands.First();
      if (!command) return;
      state_.deferred_commands.Delete(command->position());
      context_.BeginLoggedCommand(*command);
      Dispatch(context_.command());
      DrainFollowUps();
    }
  }

  void ProcessDueWork() {
    TERN_CHECK(in_batch_);
    int64_t now = context_.timestamp();
    std::vector<int64_t> timed_out;
    state_.jobs.ForEachDeadlineBefore(now, [&](int64_t key) {
      timed_out.push_back(key);
      return timed_out.size() < kMaxDueCommandsPerBatch;
    });
    std::vector<int64_t> recurring;
    state_.jobs.ForEachBackoffBefore(now, [&](int64_t key) {
      recurring.push_back(key);
      return recurring.size() < kMaxDueCommandsPerBatch;
    });
    for (int64_t key : timed_out) RunInternal(key, JobIntent::kTimeOut);
    for (int64_t key : recurring) RunInternal(key, JobIntent::kRecurAfterBackoff);
    std::vector<int64_t> due_timers;
    state_.timers.ForEachDueBefore(now, [&](int64_t key) {
      due_timers.push_back(key);
      return due_timers.size() < kMaxDueCommandsPerBatch;
    });
    for (int64_t key : due_timers) {
      auto timer = state_.timers.Get(key);
      if (!timer) continue;
      context_.BeginCommand(MakeCommand(key, TimerIntent::kTrigger, *timer));
      Dispatch(context_.command());
      DrainFollowUps();
    }
    std::vector<int64_t> expired;
    state_.messages.ForEachExpiredBefore(now, [&](int64_t key) {
      expired.push_back(key);
      return expired.size() < kMaxDueCommandsPerBatch;
    });
    for (int64_t key : expired) {
      auto message = state_.messages.Get(key);
      if (!message) continue;
      context_.BeginCommand(MakeCommand(key, MessageIntent::kExpire, *message));
      Dispatch(context_.command());
      DrainFollowUps();
    }
  }

  BatchOutput EndBatch() {
    TERN_CHECK(in_batch_);
    in_batch_ = false;
    const int64_t last_key = context_.last_key();
    BatchOutput output = context_.TakeOutput();
    if (output.batch.records_size() > 0) {
      last_position_ = output.batch.records(output.batch.records_size() - 1).position();
      state_.meta.SetLastPosition(last_position_);
    }
    if (BatchHasContent(output.batch)) {
      // A batch that only consumed deferred commands (which led nothing, e.g. an activation
      // whose scope was left meanwhile) writes no record but must still reach the replicas:
      // they drop those commands from their pending set too.
      appliers_.ObserveKey(last_key);
      output.batch.set_last_key(appliers_.last_key());
    } else {
      output.batch.clear_first_position();
    }
    state_.store().transaction().Commit();
    return output;
  }

  bool has_deferred_commands() { return !state_.deferred_commands.empty(); }
  size_t deferred_command_count() { return state_.deferred_commands.size(); }

  std::optional<int64_t> NextDueTime() {
    std::optional<int64_t> next = state_.jobs.NextDueTime();
    for (auto candidate : {state_.timers.NextDueTime(), state_.messages.NextDueTime()}) {
      if (candidate && (!next || *candidate < *next)) next = candidate;
    }
    return next;
  }

  void ApplyBatch(const record::RecordBatch& batch) {
    TERN_CHECK(!in_batch_);
    if (!BatchHasContent(batch)) return;
    TERN_CHECK(batch.records_size() == 0 || batch.first_position() == last_position_ + 1,
               "batch at position ", batch.first_position(), " does not follow ", last_position_);
    for (int64_t position : batch.processed_command_positions()) {
      state_.deferred_commands.Delete(position);
    }
    std::vector<int64_t> processed(batch.processed_command_positions().begin(),
                                   batch.processed_command_positions().end());
    for (const auto& record : batch.records()) {
      switch (record.record_type()) {
        case record::EVENT:
          appliers_.Apply(record);
          break;
        case record::COMMAND:
          if (std::find(processed.begin(), processed.end(), record.position()) == processed.end()) {
            state_.deferred_commands.Put(record);
          }
          break;
        default:
          break;
      }
    }
    appliers_.ObserveKey(batch.last_key());
    if (batch.records_size() > 0) {
      last_position_ = batch.records(batch.records_size() - 1).position();
      state_.meta.SetLastPosition(last_position_);
    }
    state_.store().transaction().Commit();
  }

  int64_t last_position() const { return last_position_; }

  std::vector<OutgoingCommand> PendingOutgoingCommands() {
    TERN_CHECK(!in_batch_);
    std::vector<OutgoingCommand> pending;
    state_.distributions.ForEach([&](int64_t key, const record::CommandDistributionRecord& value) {
      pending.push_back(OutgoingCommand{value.partition_id(),
                                        DistributionCommand(value, key, config_.partition_id)});
    });
    return pending;
  }

  std::vector<std::pair<int64_t, record::IncidentRecord>> OpenIncidents(size_t limit) {
    TERN_CHECK(!in_batch_);
    std::vector<std::pair<int64_t, record::IncidentRecord>> incidents;
    state_.incidents.ForEach([&](int64_t key, const record::IncidentRecord& incident) {
      incidents.emplace_back(key, incident);
      return incidents.size() < limit;
    });
    return incidents;
  }

  std::optional<record::UserTaskView> GetUserTask(int64_t key) {
    TERN_CHECK(!in_batch_);
    record::UserTaskQuery query;
    query.set_user_task_key(key);
    auto result = state_.user_tasks.Query(query, 1);
    if (result.tasks_size() == 0) return std::nullopt;
    return result.tasks(0);
  }

  record::UserTaskQueryResult QueryUserTasks(const record::UserTaskQuery& query) {
    TERN_CHECK(!in_batch_);
    const int32_t limit =
        query.limit() <= 0 ? kDefaultUserTaskPage : std::min(query.limit(), kMaxUserTaskPage);
    record::UserTaskQueryResult result = state_.user_tasks.Query(query, limit);
    // A task's form (GET /v2/user-tasks/{key}/form): the key the task was created with.
    if (query.with_form() && query.user_task_key() != 0 && result.tasks_size() == 1) {
      const int64_t form_key = result.tasks(0).record().form_key();
      if (form_key > 0) {
        if (auto form = state_.forms.ByKey(form_key)) *result.mutable_form() = *std::move(form);
      }
    }
    return result;
  }

  uint64_t StateChecksum() {
    TERN_CHECK(!in_batch_);
    return state_.store().Checksum();
  }

 private:
  void RunInternal(int64_t job_key, JobIntent intent) {
    auto job = state_.jobs.Get(job_key);
    if (!job) return;
    context_.BeginCommand(MakeCommand(job_key, intent, job->record()));
    Dispatch(context_.command());
    DrainFollowUps();
  }

  void Dispatch(const record::Record& command) {
    DispatchToProcessor(command);
    // A reliable command from another partition: tell the sender it arrived (it stops sending
    // it again). Repeats are acknowledged too; processors treat them as no-ops.
    if (command.distribution_key() > 0 && command.source_partition_id() > 0 &&
        command.source_partition_id() != config_.partition_id) {
      record::CommandDistributionRecord acknowledge;
      acknowledge.set_partition_id(config_.partition_id);
      acknowledge.set_value_type(command.value_type());
      acknowledge.set_intent(command.intent());
      record::Record ack =
          MakeCommand(command.distribution_key(), CommandDistributionIntent::kAcknowledge,
                      std::move(acknowledge));
      ack.set_source_partition_id(config_.partition_id);
      context_.SendToPartition(command.source_partition_id(), std::move(ack));
    }
  }

  void DispatchToProcessor(const record::Record& command) {
    switch (command.value_type()) {
      case record::DEPLOYMENT:
        if (command.intent() == ToInt(DeploymentIntent::kCreate)) {
          deployments_.Process(command);
          return;
        }
        if (command.intent() == ToInt(DeploymentIntent::kDistribute)) {
          deployments_.ProcessDistributed(command);
          return;
        }
        break;
      case record::COMMAND_DISTRIBUTION:
        if (command.intent() == ToInt(CommandDistributionIntent::kAcknowledge)) {
          deployments_.ProcessAcknowledge(command);
          return;
        }
        break;
      case record::PROCESS_INSTANCE_CREATION:
        creations_.Process(command);
        return;
      case record::PROCESS_INSTANCE:
        bpmn_.Process(command);
        return;
      case record::JOB:
        job_processor_.Process(command);
        return;
      case record::JOB_BATCH:
        if (command.intent() == ToInt(JobBatchIntent::kActivate)) {
          job_processor_.Activate(command);
          return;
        }
        break;
      case record::VARIABLE_DOCUMENT:
        if (command.intent() == ToInt(VariableDocumentIntent::kUpdate)) {
          variable_documents_.Process(command);
          return;
        }
        break;
      case record::INCIDENT:
        if (command.intent() == ToInt(IncidentIntent::kResolve)) {
          incident_processor_.Process(command);
          return;
        }
        break;
      case record::TIMER:
        if (command.intent() == ToInt(TimerIntent::kTrigger)) {
          timer_processor_.Trigger(command);
          return;
        }
        break;
      case record::MESSAGE:
        if (command.intent() == ToInt(MessageIntent::kPublish)) {
          message_processor_.Publish(command);
          return;
        }
        if (command.intent() == ToInt(MessageIntent::kExpire)) {
          message_processor_.Expire(command);
          return;
        }
        break;
      case record::MESSAGE_SUBSCRIPTION:
        message_processor_.ProcessSubscription(command);
        return;
      case record::PROCESS_MESSAGE_SUBSCRIPTION:
        if (command.intent() == ToInt(ProcessMessageSubscriptionIntent::kCorrelate)) {
          message_processor_.ProcessCorrelate(command);
          return;
        }
        break;
      case record::SIGNAL:
        if (command.intent() == ToInt(SignalIntent::kBroadcast)) {
          signal_processor_.Broadcast(command);
          return;
        }
        break;
      case record::PROCESS_INSTANCE_BATCH:
        if (command.intent() == ToInt(ProcessInstanceBatchIntent::kActivate)) {
          bpmn_.ProcessBatch(command);
          return;
        }
        break;
      case record::PROCESS_INSTANCE_MODIFICATION:
        if (command.intent() == ToInt(ProcessInstanceModificationIntent::kModify)) {
          modification_processor_.Modify(command);
          return;
        }
        break;
      case record::PROCESS_INSTANCE_MIGRATION:
        if (command.intent() == ToInt(ProcessInstanceMigrationIntent::kMigrate)) {
          migration_processor_.Migrate(command);
          return;
        }
        break;
      case record::RESOURCE_DELETION:
        if (command.intent() == ToInt(ResourceDeletionIntent::kDelete)) {
          deletion_processor_.Delete(command);
          return;
        }
        break;
      case record::USER_TASK:
        user_task_processor_.Process(command);
        return;
      case record::MESSAGE_CORRELATION:
        if (command.intent() == ToInt(MessageCorrelationIntent::kCorrelate)) {
          message_processor_.CorrelateMessage(command);
          return;
        }
        break;
      case record::DECISION_EVALUATION:
        if (command.intent() == ToInt(DecisionEvaluationIntent::kEvaluate)) {
          decisions_.ProcessEvaluate(command);
          return;
        }
        break;
      case record::CHECKPOINT:
        if (command.intent() == ToInt(CheckpointIntent::kCreate)) {
          ProcessCheckpoint(command);
          return;
        }
        break;
      default:
        break;
    }
    context_.Reject(
        record::INVALID_ARGUMENT,
        tern::StrCat("Tern does not process ", record::ValueType_Name(command.value_type()),
                     " commands with intent ", IntentName(command.value_type(), command.intent()),
                     " yet"));
  }

  // A backup point: recorded in state (replicas and replays record it too), nothing else. The
  // broker backs the partition up when the CREATED event is committed on the leader. An id not
  // larger than the last one is IGNORED, so a retried or stale request never goes back in time.
  void ProcessCheckpoint(const record::Record& command) {
    const int64_t id = command.checkpoint().checkpoint_id();
    record::CheckpointRecord value;
    if (id > state_.meta.LastCheckpointId()) {
      value.set_checkpoint_id(id);
      value.set_checkpoint_position(command.position());
      context_.Respond(context_.AppendEvent(id, CheckpointIntent::kCreated, std::move(value)));
      return;
    }
    value.set_checkpoint_id(state_.meta.LastCheckpointId());
    value.set_checkpoint_position(state_.meta.LastCheckpointPosition());
    context_.Respond(context_.AppendEvent(id, CheckpointIntent::kIgnored, std::move(value)));
  }

  void DrainFollowUps() {
    auto& follow_ups = context_.follow_ups();
    while (!follow_ups.empty()) {
      if (follow_ups_in_batch_ >= config_.max_follow_ups_per_batch) {
        // Out of budget: log the rest unprocessed; a later batch (or a new leader) runs them.
        while (!follow_ups.empty()) {
          const record::Record& logged = context_.Defer(std::move(follow_ups.front()));
          follow_ups.pop_front();
          state_.deferred_commands.Put(logged);
        }
        return;
      }
      ++follow_ups_in_batch_;
      record::Record command = std::move(follow_ups.front());
      follow_ups.pop_front();
      context_.BeginFollowUp(std::move(command));
      Dispatch(context_.command());
    }
  }

  EngineConfig config_;
  state::EngineState state_;
  ProcessCache cache_;
  EventAppliers appliers_;
  ProcessingContext context_;
  VariableBehavior variables_;
  ExpressionBehavior expressions_;
  IncidentBehavior incidents_;
  JobBehavior jobs_;
  EventBehavior events_;
  DecisionBehavior decisions_;
  BpmnProcessor bpmn_;
  DeploymentProcessor deployments_;
  CreationProcessor creations_;
  JobProcessor job_processor_;
  VariableDocumentProcessor variable_documents_;
  IncidentProcessor incident_processor_;
  TimerProcessor timer_processor_;
  MessageProcessor message_processor_;
  SignalProcessor signal_processor_;
  ModificationProcessor modification_processor_;
  MigrationProcessor migration_processor_;
  ResourceDeletionProcessor deletion_processor_;
  UserTaskProcessor user_task_processor_;

  bool in_batch_ = false;
  int32_t follow_ups_in_batch_ = 0;
  int64_t last_position_ = 0;
};

Engine::Engine(EngineConfig config, state::StateStore& store, JobStreamRegistry* job_streams)
    : impl_(std::make_unique<Impl>(std::move(config), store, job_streams)) {}
Engine::~Engine() = default;
void Engine::BeginBatch(int64_t timestamp_ms) { impl_->BeginBatch(timestamp_ms); }
void Engine::ProcessClientCommand(record::Record command) {
  impl_->ProcessClientCommand(std::move(command));
}
void Engine::ProcessDeferredCommands() { impl_->ProcessDeferredCommands(); }
void Engine::ProcessDueWork() { impl_->ProcessDueWork(); }
BatchOutput Engine::EndBatch() { return impl_->EndBatch(); }
bool Engine::has_deferred_commands() { return impl_->has_deferred_commands(); }
size_t Engine::deferred_command_count() { return impl_->deferred_command_count(); }
std::optional<int64_t> Engine::NextDueTime() { return impl_->NextDueTime(); }
void Engine::ApplyBatch(const record::RecordBatch& batch) { impl_->ApplyBatch(batch); }
int64_t Engine::last_position() const { return impl_->last_position(); }
std::vector<OutgoingCommand> Engine::PendingOutgoingCommands() {
  return impl_->PendingOutgoingCommands();
}
std::vector<std::pair<int64_t, record::IncidentRecord>> Engine::OpenIncidents(size_t limit) {
  return impl_->OpenIncidents(limit);
}
uint64_t Engine::StateChecksum() { return impl_->StateChecksum(); }
std::optional<record::UserTaskView> Engine::GetUserTask(int64_t user_task_key) {
  return impl_->GetUserTask(user_task_key);
}
record::UserTaskQueryResult Engine::QueryUserTasks(const record::UserTaskQuery& query) {
  return impl_->QueryUserTasks(query);
}

}  // namespace tern::engine
