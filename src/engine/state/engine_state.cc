#include "engine/state/engine_state.h"

#include "base/check.h"
#include "engine/state/codec.h"

namespace tern::engine::state {
namespace {

constexpr std::string_view kLastKey = "last_key";
constexpr std::string_view kLastPosition = "last_position";
constexpr std::string_view kLastCheckpointId = "last_checkpoint_id";
constexpr std::string_view kLastCheckpointPosition = "last_checkpoint_position";

template <typename Message>
std::optional<Message> GetMessage(Transaction& txn, ColumnFamily cf, std::string_view key) {
  std::string bytes;
  if (!txn.Get(cf, key, &bytes)) return std::nullopt;
  Message message;
  TERN_CHECK(message.ParseFromString(bytes), "corrupt value in ", ColumnFamilyName(cf));
  return message;
}

template <typename Message>
void PutMessage(Transaction& txn, ColumnFamily cf, std::string_view key, const Message& message) {
  std::string bytes;
  TERN_CHECK(message.SerializeToString(&bytes));
  txn.Put(cf, key, bytes);
}

std::optional<int64_t> GetInt64(Transaction& txn, ColumnFamily cf, std::string_view key) {
  std::string bytes;
  if (!txn.Get(cf, key, &bytes)) return std::nullopt;
  return ReadInt64(bytes);
}

std::string ProcessVersionKey(std::string_view tenant, std::string_view id, int32_t version) {
  std::string key;
  AppendString(key, tenant);
  AppendString(key, id);
  AppendInt64(key, version);
  return key;
}

std::string TenantIdKey(std::string_view tenant, std::string_view id) {
  std::string key;
  AppendString(key, tenant);
  AppendString(key, id);
  return key;
}

std::string ProcessDeploymentKey(std::string_view tenant, std::string_view id,
                                 int64_t deployment_key) {
  std::string key = TenantIdKey(tenant, id);
  AppendInt64(key, deployment_key);
  return key;
}

std::string ProcessVersionTagKey(std::string_view tenant, std::string_view id,
                                 std::string_view version_tag) {
  std::string key = TenantIdKey(tenant, id);
  AppendString(key, version_tag);
  return key;
}

}  // namespace

int64_t MetaState::LastKey(int64_t initial) {
  return GetInt64(txn_, ColumnFamily::kMeta, kLastKey).value_or(initial);
}

void MetaState::SetLastKey(int64_t key) { txn_.Put(ColumnFamily::kMeta, kLastKey, Int64Key(key)); }

int64_t MetaState::LastPosition() {
  return GetInt64(txn_, ColumnFamily::kMeta, kLastPosition).value_or(0);
}

void MetaState::SetLastPosition(int64_t position) {
  txn_.Put(ColumnFamily::kMeta, kLastPosition, Int64Key(position));
}

int64_t MetaState::LastCheckpointId() {
  return GetInt64(txn_, ColumnFamily::kMeta, kLastCheckpointId).value_or(0);
}

int64_t MetaState::LastCheckpointPosition() {
  return GetInt64(txn_, ColumnFamily::kMeta, kLastCheckpointPosition).value_or(-1);
}

void MetaState::SetLastCheckpoint(int64_t checkpoint_id, int64_t position) {
  txn_.Put(ColumnFamily::kMeta, kLastCheckpointId, Int64Key(checkpoint_id));
  txn_.Put(ColumnFamily::kMeta, kLastCheckpointPosition, Int64Key(position));
}

std::optional<record::ProcessRecord> ProcessState::ByKey(int64_t key) {
  return GetMessage<record::ProcessRecord>(txn_, ColumnFamily::kProcessByKey, Int64Key(key));
}

std::optional<int64_t> ProcessState::KeyByIdAndVersion(std::string_view tenant, std::string_view id,
                                                       int32_t version) {
  return GetInt64(txn_, ColumnFamily::kProcessKeyByIdAndVersion,
                  ProcessVersionKey(tenant, id, version));
}

std::optional<int64_t> ProcessState::LatestKey(std::string_view tenant, std::string_view id) {
  return GetInt64(txn_, ColumnFamily::kLatestProcessVersion, TenantIdKey(tenant, id));
}

std::optional<record::ProcessRecord> ProcessState::Latest(std::string_view tenant,
                                                          std::string_view id) {
  auto key = LatestKey(tenant, id);
  if (!key) return std::nullopt;
  return ByKey(*key);
}

int32_t ProcessState::HighestVersion(std::string_view tenant, std::string_view id) {
  int32_t highest = 0;
  if (auto stored =
          GetInt64(txn_, ColumnFamily::kProcessVersionHighWater, TenantIdKey(tenant, id))) {
    highest = static_cast<int32_t>(*stored);
  }
  if (auto latest = Latest(tenant, id)) highest = std::max(highest, latest->version());
  return highest;
}

std::optional<int64_t> ProcessState::KeyByIdAndDeployment(std::string_view tenant,
                                                          std::string_view id,
                                                          int64_t deployment_key) {
  return GetInt64(txn_, ColumnFamily::kProcessKeyByIdAndDeployment,
                  ProcessDeploymentKey(tenant, id, deployment_key));
}

std::optional<int64_t> ProcessState::KeyByIdAndVersionTag(std::string_view tenant,
                                                          std::string_view id,
                                                          std::string_view version_tag) {
  return GetInt64(txn_, ColumnFamily::kProcessKeyByIdAndVersionTag,
                  ProcessVersionTagKey(tenant, id, version_tag));
}

bool ProcessState::IsDeleted(int64_t key) {
  return txn_.Contains(ColumnFamily::kDeletedResource, Int64Key(key));
}

void ProcessState::MarkDeleted(const record::ProcessRecord& process) {
  const std::string& tenant = process.tenant_id();
  const std::string& id = process.bpmn_process_id();
  int32_t highest = HighestVersion(tenant, id);
  txn_.Put(ColumnFamily::kProcessVersionHighWater, TenantIdKey(tenant, id), Int64Key(highest));
  txn_.Put(ColumnFamily::kDeletedResource, Int64Key(process.process_definition_key()), "");
  txn_.Delete(ColumnFamily::kProcessKeyByIdAndVersion,
              ProcessVersionKey(tenant, id, process.version()));
  txn_.Delete(ColumnFamily::kProcessKeyByIdAndDeployment,
              ProcessDeploymentKey(tenant, id, process.deployment_key()));
  if (!process.version_tag().empty() &&
      KeyByIdAndVersionTag(tenant, id, process.version_tag()) == process.process_definition_key()) {
    // As in Zeebe, an older version with the same tag does not take its place.
    txn_.Delete(ColumnFamily::kProcessKeyByIdAndVersionTag,
                ProcessVersionTagKey(tenant, id, process.version_tag()));
  }
  auto latest = LatestKey(tenant, id);
  if (latest && *latest == process.process_definition_key()) {
    std::optional<int64_t> previous;
    txn_.ForEachWithPrefix(ColumnFamily::kProcessKeyByIdAndVersion, TenantIdKey(tenant, id),
                           [&](std::string_view, std::string_view value) {
                             previous = ReadInt64(value);
                             return true;
                           });
    if (previous) {
      txn_.Put(ColumnFamily::kLatestProcessVersion, TenantIdKey(tenant, id), Int64Key(*previous));
    } else {
      txn_.Delete(ColumnFamily::kLatestProcessVersion, TenantIdKey(tenant, id));
    }
  }
}

void ProcessState::Put(const record::ProcessRecord& process) {
  const std::string& tenant = process.tenant_id();
  PutMessage(txn_, ColumnFamily::kProcessByKey, Int64Key(process.process_definition_key()),
             process);
  txn_.Put(ColumnFamily::kProcessKeyByIdAndVersion,
           ProcessVersionKey(tenant, process.bpmn_process_id(), process.version()),
           Int64Key(process.process_definition_key()));
  if (process.deployment_key() > 0) {
    txn_.Put(ColumnFamily::kProcessKeyByIdAndDeployment,
             ProcessDeploymentKey(tenant, process.bpmn_process_id(), process.deployment_key()),
             Int64Key(process.process_definition_key()));
  }
  if (!process.version_tag().empty()) {
    // The version deployed last wins the tag.
    txn_.Put(ColumnFamily::kProcessKeyByIdAndVersionTag,
             ProcessVersionTagKey(tenant, process.bpmn_process_id(), process.version_tag()),
             Int64Key(process.process_definition_key()));
  }
  auto latest = Latest(tenant, process.bpmn_process_id());
  if (!latest || latest->version() < process.version()) {
    txn_.Put(ColumnFamily::kLatestProcessVersion, TenantIdKey(tenant, process.bpmn_process_id()),
             Int64Key(process.process_definition_key()));
  }
}

std::optional<tern::state::ElementInstance> ElementInstanceState::Get(int64_t key) {
  return GetMessage<tern::state::ElementInstance>(txn_, ColumnFamily::kElementInstance,
                                                  Int64Key(key));
}

void ElementInstanceState::Put(const tern::state::ElementInstance& instance) {
  PutMessage(txn_, ColumnFamily::kElementInstance, Int64Key(instance.key()), instance);
}

void ElementInstanceState::Delete(int64_t key, int64_t flow_scope_key) {
  txn_.Delete(ColumnFamily::kElementInstance, Int64Key(key));
  if (flow_scope_key > 0) {
    txn_.Delete(ColumnFamily::kElementInstanceChild, Int64PairKey(flow_scope_key, key));
  }
}

void ElementInstanceState::AddChild(int64_t flow_scope_key, int64_t child_key) {
  txn_.Put(ColumnFamily::kElementInstanceChild, Int64PairKey(flow_scope_key, child_key), "");
}

std::vector<int64_t> ElementInstanceState::Children(int64_t flow_scope_key) {
  std::vector<int64_t> children;
  txn_.ForEachWithPrefix(ColumnFamily::kElementInstanceChild, Int64Key(flow_scope_key),
                         [&](std::string_view key, std::string_view) {
                           children.push_back(ReadInt64(key, 8));
                           return true;
                         });
  return children;
}

std::optional<std::string> VariableState::GetLocal(int64_t scope_key, std::string_view name) {
  std::string key = Int64Key(scope_key);
  key.append(name);
  std::string value;
  if (!txn_.Get(ColumnFamily::kVariable, key, &value)) return std::nullopt;
  return value;
}

void VariableState::ForEachLocal(
    int64_t scope_key, absl::FunctionRef<void(std::string_view, std::string_view)> visitor) {
  txn_.ForEachWithPrefix(ColumnFamily::kVariable, Int64Key(scope_key),
                         [&](std::string_view key, std::string_view value) {
                           visitor(key.substr(8), value);
                           return true;
                         });
}

void VariableState::Put(int64_t scope_key, std::string_view name, std::string_view json_value) {
  // The scope key is fixed-width, so the name needs no length prefix.
  std::string key = Int64Key(scope_key);
  key.append(name);
  txn_.Put(ColumnFamily::kVariable, key, json_value);
}

void VariableState::DeleteScope(int64_t scope_key) {
  std::vector<std::string> keys;
  txn_.ForEachWithPrefix(ColumnFamily::kVariable, Int64Key(scope_key),
                         [&](std::string_view key, std::string_view) {
                           keys.emplace_back(key);
                           return true;
                         });
  for (const auto& key : keys) txn_.Delete(ColumnFamily::kVariable, key);
}

std::optional<tern::state::JobState> JobState::Get(int64_t key) {
  return GetMessage<tern::state::JobState>(txn_, ColumnFamily::kJob, Int64Key(key));
}

void JobState::EnsureIndexed() {
  if (indexed_) return;
  indexed_ = true;
  txn_.ForEachWithPrefix(ColumnFamily::kJob, "", [&](std::string_view key, std::string_view value) {
    tern::state::JobState job;
    TERN_CHECK(job.ParseFromString(std::string(value)), "corrupt job");
    AddToIndexes(ReadInt64(key), job);
    return true;
  });
}

void JobState::AddToIndexes(int64_t key, const tern::state::JobState& job) {
  Indexed entry{job.record().type(), job.state(), 0, 0};
  switch (job.state()) {
    case tern::state::JobState::ACTIVATABLE:
      activatable_[entry.type].insert(key);
      break;
    case tern::state::JobState::ACTIVATED:
      TERN_CHECK(job.record().deadline() > 0, "activated job ", key, " without deadline");
      entry.deadline = job.record().deadline();
      deadlines_.emplace(entry.deadline, key);
      break;
    case tern::state::JobState::FAILED:
      // A failed job with retries left waits out its backoff; without retries it waits for an
      // incident to be resolved.
      if (job.record().recurring_time() > 0) {
        entry.recurring_time = job.record().recurring_time();
        backoffs_.emplace(entry.recurring_time, key);
      }
      break;
    default:
      break;
  }
  jobs_[key] = std::move(entry);
}

void JobState::RemoveFromIndexes(int64_t key) {
  auto it = jobs_.find(key);
  if (it == jobs_.end()) return;
  const Indexed& entry = it->second;
  if (entry.state == tern::state::JobState::ACTIVATABLE) {
    auto type = activatable_.find(entry.type);
    if (type != activatable_.end()) {
      type->second.erase(key);
      if (type->second.empty()) activatable_.erase(type);
    }
  }
  if (entry.deadline > 0) deadlines_.erase({entry.deadline, key});
  if (entry.recurring_time > 0) backoffs_.erase({entry.recurring_time, key});
  jobs_.erase(it);
}

void JobState::Put(int64_t key, const tern::state::JobState& job) {
  EnsureIndexed();
  RemoveFromIndexes(key);
  PutMessage(txn_, ColumnFamily::kJob, Int64Key(key), job);
  AddToIndexes(key, job);
}

void JobState::Delete(int64_t key) {
  EnsureIndexed();
  RemoveFromIndexes(key);
  txn_.Delete(ColumnFamily::kJob, Int64Key(key));
}

void JobState::ForEachActivatable(std::string_view type, absl::FunctionRef<bool(int64_t)> visitor) {
  EnsureIndexed();
  auto it = activatable_.find(type);
  if (it == activatable_.end()) return;
  // Copied: the visitor may change the index.
  std::vector<int64_t> keys(it->second.begin(), it->second.end());
  for (int64_t key : keys) {
    if (!visitor(key)) return;
  }
}

void JobState::ForEachDeadlineBefore(int64_t now, absl::FunctionRef<bool(int64_t)> visitor) {
  EnsureIndexed();
  std::vector<int64_t> due;
  for (const auto& [deadline, key] : deadlines_) {
    if (deadline > now) break;
    due.push_back(key);
  }
  for (int64_t key : due) {
    if (!visitor(key)) return;
  }
}

void JobState::ForEachBackoffBefore(int64_t now, absl::FunctionRef<bool(int64_t)> visitor) {
  EnsureIndexed();
  std::vector<int64_t> due;
  for (const auto& [time, key] : backoffs_) {
    if (time > now) break;
    due.push_back(key);
  }
  for (int64_t key : due) {
    if (!visitor(key)) return;
  }
}

std::optional<int64_t> JobState::NextDueTime() {
  EnsureIndexed();
  std::optional<int64_t> next;
  if (!deadlines_.empty()) next = deadlines_.begin()->first;
  if (!backoffs_.empty()) {
    next = next ? std::min(*next, backoffs_.begin()->first) : backoffs_.begin()->first;
  }
  return next;
}

std::optional<tern::state::IncidentState> IncidentState::Get(int64_t key) {
  return GetMessage<tern::state::IncidentState>(txn_, ColumnFamily::kIncident, Int64Key(key));
}

std::optional<int64_t> IncidentState::KeyForElementInstance(int64_t element_instance_key) {
  return GetInt64(txn_, ColumnFamily::kIncidentByElementInstance, Int64Key(element_instance_key));
}

std::optional<int64_t> IncidentState::KeyForJob(int64_t job_key) {
  return GetInt64(txn_, ColumnFamily::kIncidentByJob, Int64Key(job_key));
}

void IncidentState::Put(int64_t key, const tern::state::IncidentState& incident) {
  PutMessage(txn_, ColumnFamily::kIncident, Int64Key(key), incident);
  const auto& record = incident.record();
  if (record.job_key() > 0) {
    txn_.Put(ColumnFamily::kIncidentByJob, Int64Key(record.job_key()), Int64Key(key));
  } else if (record.element_instance_key() > 0) {
    txn_.Put(ColumnFamily::kIncidentByElementInstance, Int64Key(record.element_instance_key()),
             Int64Key(key));
  }
}

void IncidentState::Delete(int64_t key) {
  auto incident = Get(key);
  if (!incident) return;
  const auto& record = incident->record();
  if (record.job_key() > 0) {
    txn_.Delete(ColumnFamily::kIncidentByJob, Int64Key(record.job_key()));
  } else if (record.element_instance_key() > 0) {
    txn_.Delete(ColumnFamily::kIncidentByElementInstance, Int64Key(record.element_instance_key()));
  }
  txn_.Delete(ColumnFamily::kIncident, Int64Key(key));
}

void IncidentState::ForEach(
    absl::FunctionRef<bool(int64_t, const record::IncidentRecord&)> visitor) {
  txn_.ForEachWithPrefix(ColumnFamily::kIncident, "",
                         [&](std::string_view key, std::string_view value) {
                           tern::state::IncidentState incident;
                           TERN_CHECK(incident.ParseFromString(std::string(value)));
                           return visitor(ReadInt64(key), incident.record());
                         });
}

std::optional<tern::state::AwaitedResult> AwaitedResultState::Get(int64_t process_instance_key) {
  return GetMessage<tern::state::AwaitedResult>(txn_, ColumnFamily::kAwaitedResult,
                                                Int64Key(process_instance_key));
}

void AwaitedResultState::Put(int64_t process_instance_key,
                             const tern::state::AwaitedResult& awaited) {
  PutMessage(txn_, ColumnFamily::kAwaitedResult, Int64Key(process_instance_key), awaited);
}

void AwaitedResultState::Delete(int64_t process_instance_key) {
  txn_.Delete(ColumnFamily::kAwaitedResult, Int64Key(process_instance_key));
}

void DeferredCommandState::EnsureLoaded() {
  if (loaded_) return;
  loaded_ = true;
  txn_.ForEachWithPrefix(ColumnFamily::kDeferredCommand, "",
                         [&](std::string_view key, std::string_view) {
                           positions_.insert(ReadInt64(key));
                           return true;
                         });
}

void DeferredCommandState::Put(const record::Record& command) {
  EnsureLoaded();
  PutMessage(txn_, ColumnFamily::kDeferredCommand, Int64Key(command.position()), command);
  positions_.insert(command.position());
}

void DeferredCommandState::Delete(int64_t position) {
  EnsureLoaded();
  if (positions_.erase(position) == 0) return;
  txn_.Delete(ColumnFamily::kDeferredCommand, Int64Key(position));
}

bool DeferredCommandState::empty() {
  EnsureLoaded();
  return positions_.empty();
}

size_t DeferredCommandState::size() {
  EnsureLoaded();
  return positions_.size();
}

std::optional<record::Record> DeferredCommandState::First() {
  EnsureLoaded();
  if (positions_.empty()) return std::nullopt;
  return GetMessage<record::Record>(txn_, ColumnFamily::kDeferredCommand,
                                    Int64Key(*positions_.begin()));
}

void DistributionState::Put(int64_t key, const record::CommandDistributionRecord& pending) {
  PutMessage(txn_, ColumnFamily::kPendingDistribution, Int64PairKey(key, pending.partition_id()),
             pending);
}

void DistributionState::Delete(int64_t key, int32_t partition_id) {
  txn_.Delete(ColumnFamily::kPendingDistribution, Int64PairKey(key, partition_id));
}

bool DistributionState::Contains(int64_t key, int32_t partition_id) {
  return txn_.Contains(ColumnFamily::kPendingDistribution, Int64PairKey(key, partition_id));
}

bool DistributionState::AnyFor(int64_t key) {
  bool any = false;
  txn_.ForEachWithPrefix(ColumnFamily::kPendingDistribution, Int64Key(key),
                         [&](std::string_view, std::string_view) {
                           any = true;
                           return false;
                         });
  return any;
}

void DistributionState::ForEach(
    absl::FunctionRef<void(int64_t, const record::CommandDistributionRecord&)> visitor) {
  txn_.ForEachWithPrefix(ColumnFamily::kPendingDistribution, "",
                         [&](std::string_view key, std::string_view value) {
                           record::CommandDistributionRecord pending;
                           TERN_CHECK(pending.ParseFromString(std::string(value)));
                           visitor(ReadInt64(key), pending);
                           return true;
                         });
}

// --- User tasks --------------------------------------------------------------------------------

std::optional<tern::state::UserTaskState> UserTaskState::Get(int64_t key) {
  return GetMessage<tern::state::UserTaskState>(txn_, ColumnFamily::kUserTask, Int64Key(key));
}

void UserTaskState::IndexEntries(int64_t key, const record::UserTaskRecord& task, bool add) {
  auto entry = [&](ColumnFamily cf, std::string index_key) {
    AppendInt64(index_key, key);
    if (add) {
      txn_.Put(cf, index_key, "");
    } else {
      txn_.Delete(cf, index_key);
    }
  };
  if (!task.assignee().empty())
    entry(ColumnFamily::kUserTaskByAssignee, StringKey(task.assignee()));
  for (const std::string& group : task.candidate_groups()) {
    entry(ColumnFamily::kUserTaskByCandidateGroup, StringKey(group));
  }
  for (const std::string& user : task.candidate_users()) {
    entry(ColumnFamily::kUserTaskByCandidateUser, StringKey(user));
  }
  entry(ColumnFamily::kUserTaskByProcessInstance, Int64Key(task.process_instance_key()));
}

void UserTaskState::Put(int64_t key, const tern::state::UserTaskState& task) {
  if (auto previous = Get(key)) IndexEntries(key, previous->record(), /*add=*/false);
  PutMessage(txn_, ColumnFamily::kUserTask, Int64Key(key), task);
  IndexEntries(key, task.record(), /*add=*/true);
}

void UserTaskState::Delete(int64_t key) {
  auto previous = Get(key);
  if (!previous) return;
  IndexEntries(key, previous->record(), /*add=*/false);
  txn_.Delete(ColumnFamily::kUserTask, Int64Key(key));
}

void UserTaskState::DeleteProcessInstance(int64_t process_instance_key) {
  const std::string prefix = Int64Key(process_instance_key);
  std::vector<int64_t> keys;
  txn_.ForEachWithPrefix(ColumnFamily::kUserTaskByProcessInstance, prefix,
                         [&](std::string_view key, std::string_view) {
                           keys.push_back(ReadInt64(key, prefix.size()));
                           return true;
                         });
  for (int64_t key : keys) Delete(key);
}

std::string_view UserTaskState::LifecycleName(tern::state::UserTaskState::LifecycleState state) {
  switch (state) {
    case tern::state::UserTaskState::CREATING:
      return "CREATING";
    case tern::state::UserTaskState::CREATED:
      return "CREATED";
    case tern::state::UserTaskState::ASSIGNING:
      return "ASSIGNING";
    case tern::state::UserTaskState::UPDATING:
      return "UPDATING";
    case tern::state::UserTaskState::COMPLETING:
      return "COMPLETING";
    case tern::state::UserTaskState::CANCELING:
      return "CANCELING";
    case tern::state::UserTaskState::COMPLETED:
      return "COMPLETED";
    case tern::state::UserTaskState::CANCELED:
      return "CANCELED";
    default:
      return "NOT_FOUND";
  }
}

namespace {

bool Contains(const google::protobuf::RepeatedPtrField<std::string>& values,
              std::string_view value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

bool Matches(const record::UserTaskQuery& query, const tern::state::UserTaskState& task) {
  const record::UserTaskRecord& r = task.record();
  if (!query.state().empty() &&
      UserTaskState::LifecycleName(task.lifecycle_state()) != query.state()) {
    return false;
  }
  if (!query.assignee().empty() && r.assignee() != query.assignee()) return false;
  if (!query.candidate_user().empty() && !Contains(r.candidate_users(), query.candidate_user())) {
    return false;
  }
  if (!query.candidate_group().empty() &&
      !Contains(r.candidate_groups(), query.candidate_group())) {
    return false;
  }
  if (query.process_instance_key() != 0 &&
      r.process_instance_key() != query.process_instance_key()) {
    return false;
  }
  if (query.process_definition_key() != 0 &&
      r.process_definition_key() != query.process_definition_key()) {
    return false;
  }
  if (query.element_instance_key() != 0 &&
      r.element_instance_key() != query.element_instance_key()) {
    return false;
  }
  if (!query.element_id().empty() && r.element_id() != query.element_id()) return false;
  if (!query.bpmn_process_id().empty() && r.bpmn_process_id() != query.bpmn_process_id()) {
    return false;
  }
  if (!query.tenant_id().empty() && r.tenant_id() != query.tenant_id()) return false;
  return true;
}

}  // namespace

record::UserTaskQueryResult UserTaskState::Query(const record::UserTaskQuery& query,
                                                 int32_t limit) {
  record::UserTaskQueryResult result;
  if (limit <= 0) return result;
  bool more = false;
  // Returns false once the page is full (and one more match proves there is a next page).
  auto offer_task = [&](int64_t key, const tern::state::UserTaskState& task_state) {
    const tern::state::UserTaskState* task = &task_state;
    if (!Matches(query, *task)) return true;
    if (result.tasks_size() == limit) {
      more = true;
      return false;
    }
    auto* view = result.add_tasks();
    *view->mutable_record() = task->record();
    view->mutable_record()->set_user_task_key(key);
    view->set_state(std::string(LifecycleName(task->lifecycle_state())));
    return true;
  };
  auto offer = [&](int64_t key) {
    if (key <= query.after_key()) return true;
    auto task = Get(key);
    return !task || offer_task(key, *task);
  };
  if (query.user_task_key() != 0) {
    offer(query.user_task_key());
    return result;
  }
  // Index entries are (value, task key): seek past after_key within the value's prefix.
  auto walk_index = [&](ColumnFamily cf, std::string prefix) {
    std::string from = prefix;
    AppendInt64(from, query.after_key() + 1);
    txn_.ForEachWithPrefixFrom(cf, prefix, from, [&](std::string_view key, std::string_view) {
      return offer(ReadInt64(key, prefix.size()));
    });
  };
  if (query.process_instance_key() != 0) {
    walk_index(ColumnFamily::kUserTaskByProcessInstance, Int64Key(query.process_instance_key()));
  } else if (!query.assignee().empty()) {
    walk_index(ColumnFamily::kUserTaskByAssignee, StringKey(query.assignee()));
  } else if (!query.candidate_group().empty()) {
    walk_index(ColumnFamily::kUserTaskByCandidateGroup, StringKey(query.candidate_group()));
  } else if (!query.candidate_user().empty()) {
    walk_index(ColumnFamily::kUserTaskByCandidateUser, StringKey(query.candidate_user()));
  } else {
    txn_.ForEachWithPrefixFrom(ColumnFamily::kUserTask, "", Int64Key(query.after_key() + 1),
                               [&](std::string_view key, std::string_view value) {
                                 tern::state::UserTaskState task;
                                 TERN_CHECK(task.ParseFromString(std::string(value)),
                                            "corrupt value in user_task");
                                 return offer_task(ReadInt64(key), task);
                               });
  }
  if (more && result.tasks_size() > 0) {
    result.set_next_after_key(result.tasks(result.tasks_size() - 1).record().user_task_key());
  }
  return result;
}

std::optional<tern::state::PendingMessageCorrelation> PendingCorrelationState::Get(
    int64_t message_key) {
  return GetMessage<tern::state::PendingMessageCorrelation>(
      txn_, ColumnFamily::kPendingMessageCorrelation, Int64Key(message_key));
}

void PendingCorrelationState::Put(int64_t message_key,
                                  const tern::state::PendingMessageCorrelation& pending) {
  PutMessage(txn_, ColumnFamily::kPendingMessageCorrelation, Int64Key(message_key), pending);
}

void PendingCorrelationState::Delete(int64_t message_key) {
  txn_.Delete(ColumnFamily::kPendingMessageCorrelation, Int64Key(message_key));
}

}  // namespace tern::engine::state
