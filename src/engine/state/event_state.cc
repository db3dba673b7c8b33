#include "engine/state/event_state.h"

#include "base/check.h"
#include "engine/state/codec.h"

namespace tern::engine::state {
namespace {

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

template <typename Message>
Message Parse(std::string_view bytes) {
  Message message;
  TERN_CHECK(message.ParseFromString(std::string(bytes)), "corrupt state value");
  return message;
}

std::string KeyAndName(int64_t key, std::string_view name) {
  std::string out = Int64Key(key);
  AppendString(out, name);
  return out;
}

std::string TwoStrings(std::string_view a, std::string_view b) {
  std::string out;
  AppendString(out, a);
  AppendString(out, b);
  return out;
}

std::vector<std::string> KeysWithPrefix(Transaction& txn, ColumnFamily cf,
                                        std::string_view prefix) {
  std::vector<std::string> keys;
  txn.ForEachWithPrefix(cf, prefix, [&](std::string_view key, std::string_view) {
    keys.emplace_back(key);
    return true;
  });
  return keys;
}

}  // namespace

// --- Timers ------------------------------------------------------------------------------------

std::optional<record::TimerRecord> TimerState::Get(int64_t key) {
  return GetMessage<record::TimerRecord>(txn_, ColumnFamily::kTimer, Int64Key(key));
}

void TimerState::EnsureIndexed() {
  if (indexed_) return;
  indexed_ = true;
  txn_.ForEachWithPrefix(ColumnFamily::kTimer, "", [&](std::string_view key, std::string_view v) {
    auto timer = Parse<record::TimerRecord>(v);
    int64_t timer_key = ReadInt64(key);
    due_by_key_[timer_key] = timer.due_date();
    due_.emplace(timer.due_date(), timer_key);
    return true;
  });
}

void TimerState::Put(int64_t key, const record::TimerRecord& timer) {
  EnsureIndexed();
  if (auto it = due_by_key_.find(key); it != due_by_key_.end()) {
    due_.erase({it->second, key});
  }
  PutMessage(txn_, ColumnFamily::kTimer, Int64Key(key), timer);
  txn_.Put(ColumnFamily::kTimerByOwner, Int64PairKey(OwnerOf(timer), key), "");
  due_by_key_[key] = timer.due_date();
  due_.emplace(timer.due_date(), key);
}

void TimerState::Delete(int64_t key) {
  EnsureIndexed();
  auto timer = Get(key);
  if (!timer) return;
  txn_.Delete(ColumnFamily::kTimer, Int64Key(key));
  txn_.Delete(ColumnFamily::kTimerByOwner, Int64PairKey(OwnerOf(*timer), key));
  if (auto it = due_by_key_.find(key); it != due_by_key_.end()) {
    due_.erase({it->second, key});
    due_by_key_.erase(it);
  }
}

std::vector<int64_t> TimerState::KeysOfOwner(int64_t owner_key) {
  std::vector<int64_t> keys;
  txn_.ForEachWithPrefix(ColumnFamily::kTimerByOwner, Int64Key(owner_key),
                         [&](std::string_view key, std::string_view) {
                           keys.push_back(ReadInt64(key, 8));
                           return true;
                         });
  return keys;
}

void TimerState::ForEachDueBefore(int64_t now, absl::FunctionRef<bool(int64_t)> visitor) {
  EnsureIndexed();
  std::vector<int64_t> due;
  for (const auto& [time, key] : due_) {
    if (time > now) break;
    due.push_back(key);
  }
  for (int64_t key : due) {
    if (!visitor(key)) return;
  }
}

std::optional<int64_t> TimerState::NextDueTime() {
  EnsureIndexed();
  if (due_.empty()) return std::nullopt;
  return due_.begin()->first;
}

size_t TimerState::size() {
  EnsureIndexed();
  return due_.size();
}

// --- Messages ----------------------------------------------------------------------------------

namespace {

std::string MessageNameKey(std::string_view name, std::string_view correlation_key) {
  return TwoStrings(name, correlation_key);
}

}  // namespace

std::optional<record::MessageRecord> MessageState::Get(int64_t key) {
  return GetMessage<record::MessageRecord>(txn_, ColumnFamily::kMessage, Int64Key(key));
}

void MessageState::EnsureIndexed() {
  if (indexed_) return;
  indexed_ = true;
  txn_.ForEachWithPrefix(ColumnFamily::kMessage, "", [&](std::string_view key, std::string_view v) {
    auto message = Parse<record::MessageRecord>(v);
    int64_t message_key = ReadInt64(key);
    deadline_by_key_[message_key] = message.deadline();
    deadlines_.emplace(message.deadline(), message_key);
    return true;
  });
}

void MessageState::Put(int64_t key, const record::MessageRecord& message) {
  EnsureIndexed();
  PutMessage(txn_, ColumnFamily::kMessage, Int64Key(key), message);
  std::string by_name = MessageNameKey(message.name(), message.correlation_key());
  AppendInt64(by_name, key);
  txn_.Put(ColumnFamily::kMessageByNameAndKey, by_name, "");
  if (!message.message_id().empty()) {
    std::string by_id = MessageNameKey(message.name(), message.correlation_key());
    AppendString(by_id, message.message_id());
    txn_.Put(ColumnFamily::kMessageById, by_id, Int64Key(key));
  }
  deadline_by_key_[key] = message.deadline();
  deadlines_.emplace(message.deadline(), key);
}

void MessageState::Delete(int64_t key) {
  EnsureIndexed();
  auto message = Get(key);
  if (!message) return;
  txn_.Delete(ColumnFamily::kMessage, Int64Key(key));
  std::string by_name = MessageNameKey(message->name(), message->correlation_key());
  AppendInt64(by_name, key);
  txn_.Delete(ColumnFamily::kMessageByNameAndKey, by_name);
  if (!message->message_id().empty()) {
    std::string by_id = MessageNameKey(message->name(), message->correlation_key());
    AppendString(by_id, message->message_id());
    // Only if it still names this message (a later publish may have reused the id).
    std::string current;
    if (txn_.Get(ColumnFamily::kMessageById, by_id, &current) && ReadInt64(current) == key) {
      txn_.Delete(ColumnFamily::kMessageById, by_id);
    }
  }
  for (const auto& mark : KeysWithPrefix(txn_, ColumnFamily::kMessageCorrelated, Int64Key(key))) {
    txn_.Delete(ColumnFamily::kMessageCorrelated, mark);
  }
  if (auto it = deadline_by_key_.find(key); it != deadline_by_key_.end()) {
    deadlines_.erase({it->second, key});
    deadline_by_key_.erase(it);
  }
}

std::vector<int64_t> MessageState::Buffered(std::string_view name,
                                            std::string_view correlation_key) {
  std::vector<int64_t> keys;
  std::string prefix = MessageNameKey(name, correlation_key);
  size_t prefix_size = prefix.size();
  txn_.ForEachWithPrefix(ColumnFamily::kMessageByNameAndKey, prefix,
                         [&](std::string_view key, std::string_view) {
                           keys.push_back(ReadInt64(key, prefix_size));
                           return true;
                         });
  return keys;
}

std::optional<int64_t> MessageState::KeyById(std::string_view name,
                                             std::string_view correlation_key,
                                             std::string_view message_id) {
  std::string by_id = MessageNameKey(name, correlation_key);
  AppendString(by_id, message_id);
  std::string value;
  if (!txn_.Get(ColumnFamily::kMessageById, by_id, &value)) return std::nullopt;
  return ReadInt64(value);
}

bool MessageState::IsCorrelated(int64_t message_key, std::string_view bpmn_process_id) {
  return txn_.Contains(ColumnFamily::kMessageCorrelated, KeyAndName(message_key, bpmn_process_id));
}

void MessageState::MarkCorrelated(int64_t message_key, std::string_view bpmn_process_id) {
  txn_.Put(ColumnFamily::kMessageCorrelated, KeyAndName(message_key, bpmn_process_id), "");
}

void MessageState::UnmarkCorrelated(int64_t message_key, std::string_view bpmn_process_id) {
  txn_.Delete(ColumnFamily::kMessageCorrelated, KeyAndName(message_key, bpmn_process_id));
}

void MessageState::ForEachExpiredBefore(int64_t now, absl::FunctionRef<bool(int64_t)> visitor) {
  EnsureIndexed();
  std::vector<int64_t> due;
  for (const auto& [time, key] : deadlines_) {
    if (time > now) break;
    due.push_back(key);
  }
  for (int64_t key : due) {
    if (!visitor(key)) return;
  }
}

std::optional<int64_t> MessageState::NextDueTime() {
  EnsureIndexed();
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

// --- Message subscriptions ---------------------------------------------------------------------

std::optional<tern::state::MessageSubscriptionState> MessageSubscriptionState::Get(
    int64_t element_instance_key, std::string_view message_name) {
  return GetMessage<tern::state::MessageSubscriptionState>(
      txn_, ColumnFamily::kMessageSubscription, KeyAndName(element_instance_key, message_name));
}

void MessageSubscriptionState::Put(const tern::state::MessageSubscriptionState& subscription) {
  const auto& record = subscription.record();
  PutMessage(txn_, ColumnFamily::kMessageSubscription,
             KeyAndName(record.element_instance_key(), record.message_name()), subscription);
  std::string index = TwoStrings(record.message_name(), record.correlation_key());
  AppendInt64(index, record.element_instance_key());
  txn_.Put(ColumnFamily::kMessageSubscriptionByNameAndKey, index, "");
}

void MessageSubscriptionState::Delete(int64_t element_instance_key, std::string_view message_name) {
  auto existing = Get(element_instance_key, message_name);
  if (!existing) return;
  txn_.Delete(ColumnFamily::kMessageSubscription, KeyAndName(element_instance_key, message_name));
  std::string index =
      TwoStrings(existing->record().message_name(), existing->record().correlation_key());
  AppendInt64(index, element_instance_key);
  txn_.Delete(ColumnFamily::kMessageSubscriptionByNameAndKey, index);
}

std::vector<std::pair<int64_t, std::string>> MessageSubscriptionState::Waiting(
    std::string_view message_name, std::string_view correlation_key) {
  std::vector<std::pair<int64_t, std::string>> waiting;
  std::string prefix = TwoStrings(message_name, correlation_key);
  size_t prefix_size = prefix.size();
  txn_.ForEachWithPrefix(ColumnFamily::kMessageSubscriptionByNameAndKey, prefix,
                         [&](std::string_view key, std::string_view) {
                           waiting.emplace_back(ReadInt64(key, prefix_size),
                                                std::string(message_name));
                           return true;
                         });
  return waiting;
}

std::optional<tern::state::ProcessMessageSubscriptionState> ProcessMessageSubscriptionState::Get(
    int64_t element_instance_key, std::string_view message_name) {
  return GetMessage<tern::state::ProcessMessageSubscriptionState>(
      txn_, ColumnFamily::kProcessMessageSubscription,
      KeyAndName(element_instance_key, message_name));
}

void ProcessMessageSubscriptionState::Put(
    const tern::state::ProcessMessageSubscriptionState& subscription) {
  PutMessage(txn_, ColumnFamily::kProcessMessageSubscription,
             KeyAndName(subscription.record().element_instance_key(),
                        subscription.record().message_name()),
             subscription);
}

void ProcessMessageSubscriptionState::Delete(int64_t element_instance_key,
                                             std::string_view message_name) {
  txn_.Delete(ColumnFamily::kProcessMessageSubscription,
              KeyAndName(element_instance_key, message_name));
}

std::vector<tern::state::ProcessMessageSubscriptionState>
ProcessMessageSubscriptionState::OfElement(int64_t element_instance_key) {
  std::vector<tern::state::ProcessMessageSubscriptionState> subscriptions;
  txn_.ForEachWithPrefix(
      ColumnFamily::kProcessMessageSubscription, Int64Key(element_instance_key),
      [&](std::string_view, std::string_view value) {
        subscriptions.push_back(Parse<tern::state::ProcessMessageSubscriptionState>(value));
        return true;
      });
  return subscriptions;
}

// --- Message start event subscriptions ----------------------------------------------------------

namespace {

std::string StartSubscriptionKey(const record::MessageStartEventSubscriptionRecord& s) {
  std::string key;
  AppendString(key, s.message_name());
  AppendInt64(key, s.process_definition_key());
  AppendString(key, s.start_event_id());
  return key;
}

}  // namespace

void MessageStartSubscriptionState::Put(
    const record::MessageStartEventSubscriptionRecord& subscription) {
  record::MessageStartEventSubscriptionRecord stored;
  stored.set_process_definition_key(subscription.process_definition_key());
  stored.set_bpmn_process_id(subscription.bpmn_process_id());
  stored.set_start_event_id(subscription.start_event_id());
  stored.set_message_name(subscription.message_name());
  stored.set_tenant_id(subscription.tenant_id());
  PutMessage(txn_, ColumnFamily::kMessageStartSubscription, StartSubscriptionKey(stored), stored);
}

void MessageStartSubscriptionState::Delete(
    const record::MessageStartEventSubscriptionRecord& subscription) {
  txn_.Delete(ColumnFamily::kMessageStartSubscription, StartSubscriptionKey(subscription));
}

std::vector<record::MessageStartEventSubscriptionRecord> MessageStartSubscriptionState::ByName(
    std::string_view message_name) {
  std::vector<record::MessageStartEventSubscriptionRecord> subscriptions;
  txn_.ForEachWithPrefix(
      ColumnFamily::kMessageStartSubscription, StringKey(message_name),
      [&](std::string_view, std::string_view value) {
        subscriptions.push_back(Parse<record::MessageStartEventSubscriptionRecord>(value));
        return true;
      });
  return subscriptions;
}

std::vector<record::MessageStartEventSubscriptionRecord> MessageStartSubscriptionState::OfProcess(
    int64_t process_definition_key) {
  // Only at deployment and deletion: a scan is fine.
  std::vector<record::MessageStartEventSubscriptionRecord> subscriptions;
  txn_.ForEachWithPrefix(ColumnFamily::kMessageStartSubscription, "",
                         [&](std::string_view, std::string_view value) {
                           auto s = Parse<record::MessageStartEventSubscriptionRecord>(value);
                           if (s.process_definition_key() == process_definition_key) {
                             subscriptions.push_back(std::move(s));
                           }
                           return true;
                         });
  return subscriptions;
}

std::optional<int64_t> MessageStartSubscriptionState::ActiveInstance(
    std::string_view bpmn_process_id, std::string_view correlation_key) {
  std::string value;
  if (!txn_.Get(ColumnFamily::kActiveMessageStartInstance,
                TwoStrings(bpmn_process_id, correlation_key), &value)) {
    return std::nullopt;
  }
  return ReadInt64(value);
}

void MessageStartSubscriptionState::PutActiveInstance(std::string_view bpmn_process_id,
                                                      std::string_view correlation_key,
                                                      int64_t process_instance_key) {
  txn_.Put(ColumnFamily::kActiveMessageStartInstance, TwoStrings(bpmn_process_id, correlation_key),
           Int64Key(process_instance_key));
}

void MessageStartSubscriptionState::DeleteActiveInstance(std::string_view bpmn_process_id,
                                                         std::string_view correlation_key) {
  txn_.Delete(ColumnFamily::kActiveMessageStartInstance,
              TwoStrings(bpmn_process_id, correlation_key));
}

// --- Signal subscriptions ----------------------------------------------------------------------

void SignalSubscriptionState::Put(int64_t key, const record::SignalSubscriptionRecord& s) {
  std::string by_name = StringKey(s.signal_name());
  AppendInt64(by_name, key);
  PutMessage(txn_, ColumnFamily::kSignalSubscription, by_name, s);
  txn_.Put(ColumnFamily::kSignalSubscriptionByOwner, Int64PairKey(OwnerOf(s), key),
           s.signal_name());
}

void SignalSubscriptionState::Delete(int64_t key, int64_t owner_key) {
  std::string name;
  if (!txn_.Get(ColumnFamily::kSignalSubscriptionByOwner, Int64PairKey(owner_key, key), &name)) {
    return;
  }
  std::string by_name = StringKey(name);
  AppendInt64(by_name, key);
  txn_.Delete(ColumnFamily::kSignalSubscription, by_name);
  txn_.Delete(ColumnFamily::kSignalSubscriptionByOwner, Int64PairKey(owner_key, key));
}

std::vector<std::pair<int64_t, record::SignalSubscriptionRecord>> SignalSubscriptionState::ByName(
    std::string_view signal_name) {
  std::vector<std::pair<int64_t, record::SignalSubscriptionRecord>> found;
  std::string prefix = StringKey(signal_name);
  size_t prefix_size = prefix.size();
  txn_.ForEachWithPrefix(ColumnFamily::kSignalSubscription, prefix,
                         [&](std::string_view key, std::string_view value) {
                           found.emplace_back(ReadInt64(key, prefix_size),
                                              Parse<record::SignalSubscriptionRecord>(value));
                           return true;
                         });
  return found;
}

std::vector<std::pair<int64_t, record::SignalSubscriptionRecord>> SignalSubscriptionState::OfOwner(
    int64_t owner_key) {
  std::vector<std::pair<int64_t, record::SignalSubscriptionRecord>> found;
  std::vector<std::pair<int64_t, std::string>> keys;
  txn_.ForEachWithPrefix(ColumnFamily::kSignalSubscriptionByOwner, Int64Key(owner_key),
                         [&](std::string_view key, std::string_view name) {
                           keys.emplace_back(ReadInt64(key, 8), std::string(name));
                           return true;
                         });
  for (const auto& [key, name] : keys) {
    std::string by_name = StringKey(name);
    AppendInt64(by_name, key);
    auto s = GetMessage<record::SignalSubscriptionRecord>(txn_, ColumnFamily::kSignalSubscription,
                                                          by_name);
    TERN_CHECK(s.has_value(), "signal subscription index without subscription ", key);
    found.emplace_back(key, *s);
  }
  return found;
}

// --- Event triggers ----------------------------------------------------------------------------

void EventTriggerState::Put(int64_t event_key, const record::ProcessEventRecord& trigger) {
  PutMessage(txn_, ColumnFamily::kEventTrigger, Int64PairKey(trigger.scope_key(), event_key),
             trigger);
}

void EventTriggerState::Delete(int64_t scope_key, int64_t event_key) {
  txn_.Delete(ColumnFamily::kEventTrigger, Int64PairKey(scope_key, event_key));
}

std::optional<std::pair<int64_t, record::ProcessEventRecord>> EventTriggerState::First(
    int64_t scope_key) {
  std::optional<std::pair<int64_t, record::ProcessEventRecord>> first;
  txn_.ForEachWithPrefix(ColumnFamily::kEventTrigger, Int64Key(scope_key),
                         [&](std::string_view key, std::string_view value) {
                           first.emplace(ReadInt64(key, 8),
                                         Parse<record::ProcessEventRecord>(value));
                           return false;
                         });
  return first;
}

void EventTriggerState::DeleteScope(int64_t scope_key) {
  for (const auto& key : KeysWithPrefix(txn_, ColumnFamily::kEventTrigger, Int64Key(scope_key))) {
    txn_.Delete(ColumnFamily::kEventTrigger, key);
  }
}

// --- Compensation ------------------------------------------------------------------------------

void CompensationState::Put(int64_t key, const record::CompensationSubscriptionRecord& s) {
  PutMessage(txn_, ColumnFamily::kCompensationSubscription,
             Int64PairKey(s.process_instance_key(), key), s);
}

std::optional<record::CompensationSubscriptionRecord> CompensationState::Get(
    int64_t process_instance_key, int64_t key) {
  return GetMessage<record::CompensationSubscriptionRecord>(
      txn_, ColumnFamily::kCompensationSubscription, Int64PairKey(process_instance_key, key));
}

void CompensationState::Delete(int64_t process_instance_key, int64_t key) {
  txn_.Delete(ColumnFamily::kCompensationSubscription, Int64PairKey(process_instance_key, key));
}

std::vector<std::pair<int64_t, record::CompensationSubscriptionRecord>>
CompensationState::OfInstance(int64_t process_instance_key) {
  std::vector<std::pair<int64_t, record::CompensationSubscriptionRecord>> found;
  txn_.ForEachWithPrefix(ColumnFamily::kCompensationSubscription, Int64Key(process_instance_key),
                         [&](std::string_view key, std::string_view value) {
                           found.emplace_back(ReadInt64(key, 8),
                                              Parse<record::CompensationSubscriptionRecord>(value));
                           return true;
                         });
  return found;
}

void CompensationState::DeleteInstance(int64_t process_instance_key) {
  for (const auto& key : KeysWithPrefix(txn_, ColumnFamily::kCompensationSubscription,
                                        Int64Key(process_instance_key))) {
    txn_.Delete(ColumnFamily::kCompensationSubscription, key);
  }
}

// --- Versioned definitions (decisions, forms) ------------------------------------------------

namespace {

std::string VersionKey(std::string_view tenant, std::string_view id, int64_t version) {
  std::string key = TwoStrings(tenant, id);
  AppendInt64(key, version);
  return key;
}

std::optional<int64_t> GetKey(Transaction& txn, ColumnFamily cf, std::string_view key) {
  std::string value;
  if (!txn.Get(cf, key, &value)) return std::nullopt;
  return ReadInt64(value);
}

std::string VersionTagKey(std::string_view tenant, std::string_view id,
                          std::string_view version_tag) {
  std::string key = TwoStrings(tenant, id);
  AppendString(key, version_tag);
  return key;
}

// The column families that index one kind of versioned definition.
struct DefinitionIndexes {
  ColumnFamily by_key;          // key -> record
  ColumnFamily latest;          // (tenant, id) -> key of the highest version
  ColumnFamily by_version;      // (tenant, id, version) -> key
  ColumnFamily by_deployment;   // (tenant, id, deployment key) -> key
  ColumnFamily by_version_tag;  // (tenant, id, version tag) -> key of the latest with that tag
};

constexpr DefinitionIndexes kDecisionIndexes = {
    ColumnFamily::kDecisionByKey, ColumnFamily::kLatestDecision,
    ColumnFamily::kDecisionKeyByIdAndVersion, ColumnFamily::kDecisionKeyByIdAndDeployment,
    ColumnFamily::kDecisionKeyByIdAndVersionTag};

constexpr DefinitionIndexes kFormIndexes = {
    ColumnFamily::kFormByKey, ColumnFamily::kLatestForm, ColumnFamily::kFormKeyByIdAndVersion,
    ColumnFamily::kFormKeyByIdAndDeployment, ColumnFamily::kFormKeyByIdAndVersionTag};

// What the indexes need of a definition.
struct DefinitionKeys {
  std::string_view tenant;
  std::string_view id;
  int64_t version = 0;
  int64_t key = 0;
  int64_t deployment_key = 0;
  std::string_view version_tag;
};

// The key of the highest version of (tenant, id) in the version index, if any.
std::optional<int64_t> HighestVersionKey(Transaction& txn, const DefinitionIndexes& indexes,
                                         std::string_view id_key) {
  std::optional<int64_t> highest;
  txn.ForEachWithPrefix(indexes.by_version, id_key, [&](std::string_view, std::string_view value) {
    highest = ReadInt64(value);  // versions sort ascending: the last one wins
    return true;
  });
  return highest;
}

void PutDefinition(Transaction& txn, const DefinitionIndexes& indexes,
                   const DefinitionKeys& definition, const google::protobuf::Message& record) {
  PutMessage(txn, indexes.by_key, Int64Key(definition.key), record);
  txn.Put(indexes.by_version, VersionKey(definition.tenant, definition.id, definition.version),
          Int64Key(definition.key));
  if (definition.deployment_key > 0) {
    txn.Put(indexes.by_deployment,
            VersionKey(definition.tenant, definition.id, definition.deployment_key),
            Int64Key(definition.key));
  }
  if (!definition.version_tag.empty()) {
    txn.Put(indexes.by_version_tag,
            VersionTagKey(definition.tenant, definition.id, definition.version_tag),
            Int64Key(definition.key));
  }
  const std::string id_key = TwoStrings(definition.tenant, definition.id);
  if (auto highest = HighestVersionKey(txn, indexes, id_key)) {
    txn.Put(indexes.latest, id_key, Int64Key(*highest));
  }
}

void DeleteDefinition(Transaction& txn, const DefinitionIndexes& indexes,
                      const DefinitionKeys& definition) {
  txn.Delete(indexes.by_key, Int64Key(definition.key));
  txn.Delete(indexes.by_version, VersionKey(definition.tenant, definition.id, definition.version));
  txn.Delete(indexes.by_deployment,
             VersionKey(definition.tenant, definition.id, definition.deployment_key));
  if (!definition.version_tag.empty()) {
    const std::string tag_key =
        VersionTagKey(definition.tenant, definition.id, definition.version_tag);
    if (GetKey(txn, indexes.by_version_tag, tag_key) == definition.key) {
      txn.Delete(indexes.by_version_tag, tag_key);
    }
  }
  const std::string id_key = TwoStrings(definition.tenant, definition.id);
  if (GetKey(txn, indexes.latest, id_key) == definition.key) {
    // The previous version, if any, becomes the latest.
    if (auto previous = HighestVersionKey(txn, indexes, id_key)) {
      txn.Put(indexes.latest, id_key, Int64Key(*previous));
    } else {
      txn.Delete(indexes.latest, id_key);
    }
  }
}

template <typename Record>
std::optional<Record> DefinitionByIndex(Transaction& txn, const DefinitionIndexes& indexes,
                                        ColumnFamily index, std::string_view index_key) {
  auto key = GetKey(txn, index, index_key);
  if (!key) return std::nullopt;
  return GetMessage<Record>(txn, indexes.by_key, Int64Key(*key));
}

DefinitionKeys KeysOf(const record::DecisionRecord& decision) {
  return {decision.tenant_id(),    decision.decision_id(),    decision.version(),
          decision.decision_key(), decision.deployment_key(), decision.version_tag()};
}

DefinitionKeys KeysOf(const record::FormRecord& form) {
  return {form.tenant_id(), form.form_id(),        form.version(),
          form.form_key(),  form.deployment_key(), form.version_tag()};
}

}  // namespace

// --- Decisions ---------------------------------------------------------------------------------

std::optional<record::DecisionRecord> DecisionState::ByKey(int64_t key) {
  return GetMessage<record::DecisionRecord>(txn_, ColumnFamily::kDecisionByKey, Int64Key(key));
}

std::optional<record::DecisionRecord> DecisionState::Latest(std::string_view tenant,
                                                            std::string_view id) {
  return DefinitionByIndex<record::DecisionRecord>(txn_, kDecisionIndexes, kDecisionIndexes.latest,
                                                   TwoStrings(tenant, id));
}

std::optional<record::DecisionRecord> DecisionState::ByIdAndDeployment(std::string_view tenant,
                                                                       std::string_view id,
                                                                       int64_t deployment_key) {
  return DefinitionByIndex<record::DecisionRecord>(txn_, kDecisionIndexes,
                                                   kDecisionIndexes.by_deployment,
                                                   VersionKey(tenant, id, deployment_key));
}

std::optional<record::DecisionRecord> DecisionState::ByIdAndVersionTag(
    std::string_view tenant, std::string_view id, std::string_view version_tag) {
  return DefinitionByIndex<record::DecisionRecord>(txn_, kDecisionIndexes,
                                                   kDecisionIndexes.by_version_tag,
                                                   VersionTagKey(tenant, id, version_tag));
}

std::optional<record::DecisionRequirementsRecord> DecisionState::RequirementsByKey(int64_t key) {
  return GetMessage<record::DecisionRequirementsRecord>(
      txn_, ColumnFamily::kDecisionRequirementsByKey, Int64Key(key));
}

std::optional<record::DecisionRequirementsRecord> DecisionState::LatestRequirements(
    std::string_view tenant, std::string_view id) {
  auto key = GetKey(txn_, ColumnFamily::kLatestDecisionRequirements, TwoStrings(tenant, id));
  if (!key) return std::nullopt;
  return RequirementsByKey(*key);
}

void DecisionState::Put(const record::DecisionRecord& decision) {
  PutDefinition(txn_, kDecisionIndexes, KeysOf(decision), decision);
}

void DecisionState::PutRequirements(const record::DecisionRequirementsRecord& requirements) {
  PutMessage(txn_, ColumnFamily::kDecisionRequirementsByKey,
             Int64Key(requirements.decision_requirements_key()), requirements);
  auto latest =
      LatestRequirements(requirements.tenant_id(), requirements.decision_requirements_id());
  if (!latest || latest->version() < requirements.version()) {
    txn_.Put(ColumnFamily::kLatestDecisionRequirements,
             TwoStrings(requirements.tenant_id(), requirements.decision_requirements_id()),
             Int64Key(requirements.decision_requirements_key()));
  }
}

void DecisionState::Delete(const record::DecisionRecord& decision) {
  DeleteDefinition(txn_, kDecisionIndexes, KeysOf(decision));
}

void DecisionState::DeleteRequirements(const record::DecisionRequirementsRecord& requirements) {
  txn_.Delete(ColumnFamily::kDecisionRequirementsByKey,
              Int64Key(requirements.decision_requirements_key()));
  std::string latest_key =
      TwoStrings(requirements.tenant_id(), requirements.decision_requirements_id());
  auto latest = GetKey(txn_, ColumnFamily::kLatestDecisionRequirements, latest_key);
  if (latest && *latest == requirements.decision_requirements_key()) {
    txn_.Delete(ColumnFamily::kLatestDecisionRequirements, latest_key);
  }
}

std::vector<record::DecisionRecord> DecisionState::OfRequirements(int64_t requirements_key) {
  std::vector<record::DecisionRecord> found;
  txn_.ForEachWithPrefix(ColumnFamily::kDecisionByKey, "",
                         [&](std::string_view, std::string_view value) {
                           auto d = Parse<record::DecisionRecord>(value);
                           if (d.decision_requirements_key() == requirements_key) {
                             found.push_back(std::move(d));
                           }
                           return true;
                         });
  return found;
}

// --- Forms -------------------------------------------------------------------------------------

std::optional<record::FormRecord> FormState::ByKey(int64_t key) {
  return GetMessage<record::FormRecord>(txn_, ColumnFamily::kFormByKey, Int64Key(key));
}

std::optional<record::FormRecord> FormState::Latest(std::string_view tenant, std::string_view id) {
  return DefinitionByIndex<record::FormRecord>(txn_, kFormIndexes, kFormIndexes.latest,
                                               TwoStrings(tenant, id));
}

std::optional<record::FormRecord> FormState::ByIdAndDeployment(std::string_view tenant,
                                                               std::string_view id,
                                                               int64_t deployment_key) {
  return DefinitionByIndex<record::FormRecord>(txn_, kFormIndexes, kFormIndexes.by_deployment,
                                               VersionKey(tenant, id, deployment_key));
}

std::optional<record::FormRecord> FormState::ByIdAndVersionTag(std::string_view tenant,
                                                               std::string_view id,
                                                               std::string_view version_tag) {
  return DefinitionByIndex<record::FormRecord>(txn_, kFormIndexes, kFormIndexes.by_version_tag,
                                               VersionTagKey(tenant, id, version_tag));
}

void FormState::Put(const record::FormRecord& form) {
  PutDefinition(txn_, kFormIndexes, KeysOf(form), form);
}

void FormState::Delete(const record::FormRecord& form) {
  DeleteDefinition(txn_, kFormIndexes, KeysOf(form));
}

}  // namespace tern::engine::state
