#pragma once

// State of the things elements wait for: timers, messages and their subscriptions, signal
// subscriptions, stored event triggers, compensation subscriptions, and decisions.
//
// As for jobs, what is polled on every loop of the partition (due timers, expiring messages) is
// indexed in memory, derived from the column families and rebuilt on first use after the state
// was opened: RocksDB makes a poor queue. Everything else is looked up by key or short prefix.
// Only event appliers call the mutating methods.

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/functional/function_ref.h"
#include "engine/state/store.h"
#include "tern/record.pb.h"
#include "tern/state.pb.h"

namespace tern::engine::state {

// Timers by key, by owner (element instance, or process definition for start events) and, in
// memory, by due date.
class TimerState {
 public:
  explicit TimerState(Transaction& txn) : txn_(txn) {}
  std::optional<record::TimerRecord> Get(int64_t key);
  void Put(int64_t key, const record::TimerRecord& timer);
  void Delete(int64_t key);
  std::vector<int64_t> KeysOfOwner(int64_t owner_key);
  // Visits timers due at or before `now` in due order until the visitor returns false.
  void ForEachDueBefore(int64_t now, absl::FunctionRef<bool(int64_t key)> visitor);
  std::optional<int64_t> NextDueTime();
  size_t size();

  static int64_t OwnerOf(const record::TimerRecord& timer) {
    return timer.element_instance_key() > 0 ? timer.element_instance_key()
                                            : timer.process_definition_key();
  }

 private:
  void EnsureIndexed();
  Transaction& txn_;
  bool indexed_ = false;
  std::unordered_map<int64_t, int64_t> due_by_key_;
  std::set<std::pair<int64_t, int64_t>> due_;
};

// Published messages (on the partition of their correlation key) while their time to live runs.
class MessageState {
 public:
  explicit MessageState(Transaction& txn) : txn_(txn) {}
  std::optional<record::MessageRecord> Get(int64_t key);
  void Put(int64_t key, const record::MessageRecord& message);
  // Removes the message with its indexes and correlation marks.
  void Delete(int64_t key);
  // Buffered messages with this name and correlation key, in publish order.
  std::vector<int64_t> Buffered(std::string_view name, std::string_view correlation_key);
  std::optional<int64_t> KeyById(std::string_view name, std::string_view correlation_key,
                                 std::string_view message_id);
  bool IsCorrelated(int64_t message_key, std::string_view bpmn_process_id);
  void MarkCorrelated(int64_t message_key, std::string_view bpmn_process_id);
  void UnmarkCorrelated(int64_t message_key, std::string_view bpmn_process_id);
  void ForEachExpiredBefore(int64_t now, absl::FunctionRef<bool(int64_t key)> visitor);
  std::optional<int64_t> NextDueTime();

 private:
  void EnsureIndexed();
  Transaction& txn_;
  bool indexed_ = false;
  std::unordered_map<int64_t, int64_t> deadline_by_key_;
  std::set<std::pair<int64_t, int64_t>> deadlines_;
};

// The message partition's side of message subscriptions.
class MessageSubscriptionState {
 public:
  explicit MessageSubscriptionState(Transaction& txn) : txn_(txn) {}
  std::optional<tern::state::MessageSubscriptionState> Get(int64_t element_instance_key,
                                                           std::string_view message_name);
  void Put(const tern::state::MessageSubscriptionState& subscription);
  void Delete(int64_t element_instance_key, std::string_view message_name);
  // (element instance key, message name) of the subscriptions waiting for this message, in
  // element instance key order.
  std::vector<std::pair<int64_t, std::string>> Waiting(std::string_view message_name,
                                                       std::string_view correlation_key);

 private:
  Transaction& txn_;
};

// The process instance partition's side of message subscriptions.
class ProcessMessageSubscriptionState {
 public:
  explicit ProcessMessageSubscriptionState(Transaction& txn) : txn_(txn) {}
  std::optional<tern::state::ProcessMessageSubscriptionState> Get(int64_t element_instance_key,
                                                                  std::string_view message_name);
  void Put(const tern::state::ProcessMessageSubscriptionState& subscription);
  void Delete(int64_t element_instance_key, std::string_view message_name);
  std::vector<tern::state::ProcessMessageSubscriptionState> OfElement(int64_t element_instance_key);

 private:
  Transaction& txn_;
};

class MessageStartSubscriptionState {
 public:
  explicit MessageStartSubscriptionState(Transaction& txn) : txn_(txn) {}
  void Put(const record::MessageStartEventSubscriptionRecord& subscription);
  void Delete(const record::MessageStartEventSubscriptionRecord& subscription);
  std::vector<record::MessageStartEventSubscriptionRecord> ByName(std::string_view message_name);
  std::vector<record::MessageStartEventSubscriptionRecord> OfProcess(
      int64_t process_definition_key);
  // The instance created by a message start event for this correlation key, while it is active.
  std::optional<int64_t> ActiveInstance(std::string_view bpmn_process_id,
                                        std::string_view correlation_key);
  void PutActiveInstance(std::string_view bpmn_process_id, std::string_view correlation_key,
                         int64_t process_instance_key);
  void DeleteActiveInstance(std::string_view bpmn_process_id, std::string_view correlation_key);

 private:
  Transaction& txn_;
};

class SignalSubscriptionState {
 public:
  explicit SignalSubscriptionState(Transaction& txn) : txn_(txn) {}
  void Put(int64_t key, const record::SignalSubscriptionRecord& subscription);
  void Delete(int64_t key, int64_t owner_key);
  std::vector<std::pair<int64_t, record::SignalSubscriptionRecord>> ByName(
      std::string_view signal_name);
  std::vector<std::pair<int64_t, record::SignalSubscriptionRecord>> OfOwner(int64_t owner_key);

  static int64_t OwnerOf(const record::SignalSubscriptionRecord& subscription) {
    return subscription.catch_event_instance_key() > 0 ? subscription.catch_event_instance_key()
                                                       : subscription.process_definition_key();
  }

 private:
  Transaction& txn_;
};

// Events that reached an element and wait to be consumed by it (see ProcessEventRecord).
class EventTriggerState {
 public:
  explicit EventTriggerState(Transaction& txn) : txn_(txn) {}
  void Put(int64_t event_key, const record::ProcessEventRecord& trigger);
  void Delete(int64_t scope_key, int64_t event_key);
  // The oldest trigger waiting on the scope.
  std::optional<std::pair<int64_t, record::ProcessEventRecord>> First(int64_t scope_key);
  void DeleteScope(int64_t scope_key);

 private:
  Transaction& txn_;
};

class CompensationState {
 public:
  explicit CompensationState(Transaction& txn) : txn_(txn) {}
  void Put(int64_t key, const record::CompensationSubscriptionRecord& subscription);
  std::optional<record::CompensationSubscriptionRecord> Get(int64_t process_instance_key,
                                                            int64_t key);
  void Delete(int64_t process_instance_key, int64_t key);
  std::vector<std::pair<int64_t, record::CompensationSubscriptionRecord>> OfInstance(
      int64_t process_instance_key);
  void DeleteInstance(int64_t process_instance_key);

 private:
  Transaction& txn_;
};

// Deployed decisions and their decision requirements graphs (DMN resources).
class DecisionState {
 public:
  explicit DecisionState(Transaction& txn) : txn_(txn) {}
  std::optional<record::DecisionRecord> ByKey(int64_t key);
  std::optional<record::DecisionRecord> Latest(std::string_view tenant, std::string_view id);
  // The version deployed by a deployment, and the latest version carrying a version tag.
  std::optional<record::DecisionRecord> ByIdAndDeployment(std::string_view tenant,
                                                          std::string_view id,
                                                          int64_t deployment_key);
  std::optional<record::DecisionRecord> ByIdAndVersionTag(std::string_view tenant,
                                                          std::string_view id,
                                                          std::string_view version_tag);
  std::optional<record::DecisionRequirementsRecord> RequirementsByKey(int64_t key);
  std::optional<record::DecisionRequirementsRecord> LatestRequirements(std::string_view tenant,
                                                                       std::string_view id);
  void Put(const record::DecisionRecord& decision);
  void PutRequirements(const record::DecisionRequirementsRecord& requirements);
  void Delete(const record::DecisionRecord& decision);
  void DeleteRequirements(const record::DecisionRequirementsRecord& requirements);
  // The decisions of a decision requirements graph.
  std::vector<record::DecisionRecord> OfRequirements(int64_t requirements_key);

 private:
  Transaction& txn_;
};

// Deployed forms (Camunda Forms JSON schemas), found by key or as user tasks link them.
class FormState {
 public:
  explicit FormState(Transaction& txn) : txn_(txn) {}
  std::optional<record::FormRecord> ByKey(int64_t key);
  std::optional<record::FormRecord> Latest(std::string_view tenant, std::string_view id);
  std::optional<record::FormRecord> ByIdAndDeployment(std::string_view tenant, std::string_view id,
                                                      int64_t deployment_key);
  std::optional<record::FormRecord> ByIdAndVersionTag(std::string_view tenant, std::string_view id,
                                                      std::string_view version_tag);
  void Put(const record::FormRecord& form);
  void Delete(const record::FormRecord& form);

 private:
  Transaction& txn_;
};

}  // namespace tern::engine::state
