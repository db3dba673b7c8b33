#pragma once

// Typed access to the engine's column families.
//
// Processors read through these classes; only event appliers call the mutating methods. Every
// method works on the store's open transaction, so reads see the batch's earlier writes.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/functional/function_ref.h"
#include "engine/state/event_state.h"
#include "engine/state/store.h"
#include "tern/record.pb.h"
#include "tern/state.pb.h"

namespace tern::engine::state {

inline constexpr std::string_view kDefaultTenant = "<default>";

// Key generator and positions (kMeta).
class MetaState {
 public:
  explicit MetaState(Transaction& txn) : txn_(txn) {}
  // The last key handed out on this partition (keys are pre-incremented).
  int64_t LastKey(int64_t initial);
  void SetLastKey(int64_t key);
  // Position of the last record written to (or applied from) the log.
  int64_t LastPosition();
  void SetLastPosition(int64_t position);
  // The last backup checkpoint this partition recorded (id 0 and position -1: none yet).
  int64_t LastCheckpointId();
  int64_t LastCheckpointPosition();
  void SetLastCheckpoint(int64_t checkpoint_id, int64_t position);

 private:
  Transaction& txn_;
};

class ProcessState {
 public:
  explicit ProcessState(Transaction& txn) : txn_(txn) {}
  std::optional<record::ProcessRecord> ByKey(int64_t key);
  std::optional<int64_t> KeyByIdAndVersion(std::string_view tenant, std::string_view id,
                                           int32_t version);
  // The latest version's key, or nullopt when the process id was never deployed.
  std::optional<int64_t> LatestKey(std::string_view tenant, std::string_view id);
  std::optional<record::ProcessRecord> Latest(std::string_view tenant, std::string_view id);
  // The version deployed by a deployment (bindingType "deployment").
  std::optional<int64_t> KeyByIdAndDeployment(std::string_view tenant, std::string_view id,
                                              int64_t deployment_key);
  // The latest version carrying a version tag (bindingType "versionTag").
  std::optional<int64_t> KeyByIdAndVersionTag(std::string_view tenant, std::string_view id,
                                              std::string_view version_tag);
  // The highest version ever deployed (deleted versions included: versions are never reused).
  int32_t HighestVersion(std::string_view tenant, std::string_view id);
  bool IsDeleted(int64_t key);

  void Put(const record::ProcessRecord& process);
  // Deletes a definition for new instances: it leaves the version lookups (the previous version
  // becomes the latest), while its record stays for instances still running on it.
  void MarkDeleted(const record::ProcessRecord& process);

 private:
  Transaction& txn_;
};

class ElementInstanceState {
 public:
  explicit ElementInstanceState(Transaction& txn) : txn_(txn) {}
  std::optional<tern::state::ElementInstance> Get(int64_t key);
  void Put(const tern::state::ElementInstance& instance);
  void Delete(int64_t key, int64_t flow_scope_key);
  void AddChild(int64_t flow_scope_key, int64_t child_key);
  // The children of a scope instance, in key (creation) order.
  std::vector<int64_t> Children(int64_t flow_scope_key);

 private:
  Transaction& txn_;
};

class VariableState {
 public:
  explicit VariableState(Transaction& txn) : txn_(txn) {}
  // The JSON value of a variable defined directly on `scope_key`.
  std::optional<std::string> GetLocal(int64_t scope_key, std::string_view name);
  // Visits the variables defined directly on `scope_key`, by name.
  void ForEachLocal(int64_t scope_key,
                    absl::FunctionRef<void(std::string_view name, std::string_view value)> visitor);
  void Put(int64_t scope_key, std::string_view name, std::string_view json_value);
  void DeleteScope(int64_t scope_key);

 private:
  Transaction& txn_;
};

// Jobs by key (kJob), plus in-memory indexes derived from them: activatable jobs by type,
// activated jobs by deadline, failed jobs by the end of their backoff. RocksDB makes a poor
// queue (every activation would leave a tombstone that later scans must skip), so the indexes
// live in memory; they are rebuilt from kJob the first time they are needed after the state
// was opened (a snapshot plus replay restores kJob, and with it the indexes).
class JobState {
 public:
  explicit JobState(Transaction& txn) : txn_(txn) {}
  std::optional<tern::state::JobState> Get(int64_t key);
  // Stores the job and keeps the indexes in step with its state.
  void Put(int64_t key, const tern::state::JobState& job);
  void Delete(int64_t key);
  // Visits activatable jobs of `type` in key order until the visitor returns false.
  void ForEachActivatable(std::string_view type, absl::FunctionRef<bool(int64_t job_key)> visitor);
  // Visits activated jobs whose deadline is <= `now`, in deadline order.
  void ForEachDeadlineBefore(int64_t now, absl::FunctionRef<bool(int64_t job_key)> visitor);
  // Visits failed jobs whose backoff ended at or before `now`.
  void ForEachBackoffBefore(int64_t now, absl::FunctionRef<bool(int64_t job_key)> visitor);
  // The earliest deadline or backoff end, for scheduling the next check.
  std::optional<int64_t> NextDueTime();

 private:
  struct Indexed {
    std::string type;
    tern::state::JobState::State state;
    int64_t deadline = 0;
    int64_t recurring_time = 0;
  };
  void EnsureIndexed();
  void AddToIndexes(int64_t key, const tern::state::JobState& job);
  void RemoveFromIndexes(int64_t key);

  Transaction& txn_;
  bool indexed_ = false;
  std::unordered_map<int64_t, Indexed> jobs_;
  std::map<std::string, std::set<int64_t>, std::less<>> activatable_;
  std::set<std::pair<int64_t, int64_t>> deadlines_;
  std::set<std::pair<int64_t, int64_t>> backoffs_;
};

class IncidentState {
 public:
  explicit IncidentState(Transaction& txn) : txn_(txn) {}
  std::optional<tern::state::IncidentState> Get(int64_t key);
  std::optional<int64_t> KeyForElementInstance(int64_t element_instance_key);
  std::optional<int64_t> KeyForJob(int64_t job_key);
  void Put(int64_t key, const tern::state::IncidentState& incident);
  void Delete(int64_t key);
  // Visits open incidents in key order until the visitor returns false.
  void ForEach(absl::FunctionRef<bool(int64_t key, const record::IncidentRecord&)> visitor);

 private:
  Transaction& txn_;
};

class AwaitedResultState {
 public:
  explicit AwaitedResultState(Transaction& txn) : txn_(txn) {}
  std::optional<tern::state::AwaitedResult> Get(int64_t process_instance_key);
  void Put(int64_t process_instance_key, const tern::state::AwaitedResult& awaited);
  void Delete(int64_t process_instance_key);

 private:
  Transaction& txn_;
};

// Follow-up commands that were written to the log for a later batch. Kept in state (not only
// in memory) so that a snapshot taken while some are pending still has them.
class DeferredCommandState {
 public:
  explicit DeferredCommandState(Transaction& txn) : txn_(txn) {}
  void Put(const record::Record& command);
  void Delete(int64_t position);
  // The pending command with the lowest position, if any.
  std::optional<record::Record> First();
  bool empty();
  size_t size();

 private:
  void EnsureLoaded();
  Transaction& txn_;
  // Positions of the pending commands (derived from the column family, loaded on first use):
  // checked on every loop of the partition, which must not cost a RocksDB scan.
  bool loaded_ = false;
  std::set<int64_t> positions_;
};

class DistributionState {
 public:
  explicit DistributionState(Transaction& txn) : txn_(txn) {}
  void Put(int64_t key, const record::CommandDistributionRecord& pending);
  void Delete(int64_t key, int32_t partition_id);
  bool Contains(int64_t key, int32_t partition_id);
  bool AnyFor(int64_t key);
  void ForEach(
      absl::FunctionRef<void(int64_t key, const record::CommandDistributionRecord&)> visitor);

 private:
  Transaction& txn_;
};

// Native user tasks (kUserTask) and their indexes by assignee, candidate group, candidate user
// and process instance, kept in step by Put and Delete. Completed and canceled tasks stay (in
// state COMPLETED or CANCELED) until their process instance ends.
class UserTaskState {
 public:
  explicit UserTaskState(Transaction& txn) : txn_(txn) {}
  std::optional<tern::state::UserTaskState> Get(int64_t key);
  void Put(int64_t key, const tern::state::UserTaskState& task);
  void Delete(int64_t key);
  // Deletes every task of a process instance (when the instance ends).
  void DeleteProcessInstance(int64_t process_instance_key);
  // The tasks matching every set field of `query`, in key order after `query.after_key`, at most
  // `limit` of them. Walks the most selective index the query names (task key, process
  // instance, assignee, candidate group, candidate user) or all tasks.
  record::UserTaskQueryResult Query(const record::UserTaskQuery& query, int32_t limit);
  // Zeebe's name of a lifecycle state, e.g. "CREATED".
  static std::string_view LifecycleName(tern::state::UserTaskState::LifecycleState state);

 private:
  void IndexEntries(int64_t key, const record::UserTaskRecord& task, bool add);
  Transaction& txn_;
};

// 8.8 message correlations waiting for a subscription's confirmation (kPendingMessageCorrelation).
class PendingCorrelationState {
 public:
  explicit PendingCorrelationState(Transaction& txn) : txn_(txn) {}
  std::optional<tern::state::PendingMessageCorrelation> Get(int64_t message_key);
  void Put(int64_t message_key, const tern::state::PendingMessageCorrelation& pending);
  void Delete(int64_t message_key);

 private:
  Transaction& txn_;
};

// All typed state of a partition, over one store.
class EngineState {
 public:
  explicit EngineState(StateStore& store)
      : store_(store),
        meta(store.transaction()),
        processes(store.transaction()),
        element_instances(store.transaction()),
        variables(store.transaction()),
        jobs(store.transaction()),
        incidents(store.transaction()),
        awaited_results(store.transaction()),
        deferred_commands(store.transaction()),
        distributions(store.transaction()),
        timers(store.transaction()),
        messages(store.transaction()),
        message_subscriptions(store.transaction()),
        process_message_subscriptions(store.transaction()),
        message_start_subscriptions(store.transaction()),
        signal_subscriptions(store.transaction()),
        event_triggers(store.transaction()),
        compensations(store.transaction()),
        decisions(store.transaction()),
        forms(store.transaction()),
        user_tasks(store.transaction()),
        pending_correlations(store.transaction()) {}

  StateStore& store() { return store_; }

 private:
  StateStore& store_;

 public:
  MetaState meta;
  ProcessState processes;
  ElementInstanceState element_instances;
  VariableState variables;
  JobState jobs;
  IncidentState incidents;
  AwaitedResultState awaited_results;
  DeferredCommandState deferred_commands;
  DistributionState distributions;
  TimerState timers;
  MessageState messages;
  MessageSubscriptionState message_subscriptions;
  ProcessMessageSubscriptionState process_message_subscriptions;
  MessageStartSubscriptionState message_start_subscriptions;
  SignalSubscriptionState signal_subscriptions;
  EventTriggerState event_triggers;
  CompensationState compensations;
  DecisionState decisions;
  FormState forms;
  UserTaskState user_tasks;
  PendingCorrelationState pending_correlations;
};

}  // namespace tern::engine::state
