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

}  // namespace tern::engine::state
