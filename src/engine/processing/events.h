#pragma once

// What element instances wait for: opening and closing their timers, message subscriptions and
// signal subscriptions, and the start-event subscriptions of deployed processes.
//
// An element instance owns the subscriptions of the events it waits for while it is active:
//  - its own definition (intermediate catch event, receive task);
//  - the events after an event-based gateway;
//  - the boundary events of an activity (for a multi-instance activity: of its body);
//  - the start events of the event subprocesses of a scope (process, subprocess).
// Subscriptions are evaluated all at once first (Prepare: expressions may fail, raising an
// incident) and only then written (Open), so a retried activation never opens one twice.
//
// Message subscriptions live on two partitions: the process side on the instance's partition,
// the message side on the partition of hash(correlation key), reached with reliable
// cross-partition commands (ProcessingContext::SendCommand).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "bpmn/model.h"
#include "bpmn/timer_expression.h"
#include "engine/processing/context.h"
#include "engine/processing/expressions.h"
#include "engine/processing/variables.h"

namespace tern::engine {

// Zeebe's partition of a message: abs(javaStringHash(correlationKey) % partitionCount) + 1, with
// Java's String.hashCode run over the UTF-8 bytes as signed bytes.
int32_t MessagePartition(std::string_view correlation_key, int32_t partition_count);

// Zeebe's name of a boundary event's or catch event's definition kind, for messages.
std::string_view EventKindName(bpmn::EventType type);

class EventBehavior {
 public:
  struct Subscription {
    const bpmn::Element* catch_element = nullptr;
    bpmn::EventType type = bpmn::EventType::kNone;
    bpmn::timers::Schedule schedule;  // timers
    std::string name;                 // message or signal name
    std::string correlation_key;
    bool interrupting = true;
  };

  EventBehavior(ProcessingContext& context, VariableBehavior& variables,
                ExpressionBehavior& expressions)
      : context_(context), variables_(variables), expressions_(expressions) {}

  // Whether an instance of `element` can own subscriptions (saves lookups for elements that
  // cannot). `is_body`: the instance is a multi-instance body; `is_inner`: an inner instance.
  static bool MayHaveSubscriptions(const bpmn::Element& element, bool is_body, bool is_inner);

  // Evaluates what the instance waits for. A failure's message is an incident's.
  absl::StatusOr<std::vector<Subscription>> Prepare(const tern::state::ElementInstance& instance,
                                                    const bpmn::Process& process,
                                                    const bpmn::Element& element, bool is_body,
                                                    bool is_inner);
  void Open(const tern::state::ElementInstance& instance,
            const std::vector<Subscription>& subscriptions);
  // Closes every timer, message and signal subscription the instance owns.
  void Close(const tern::state::ElementInstance& instance);

  // Timer start events and message/signal start event subscriptions of a deployed process
  // version. Timers only on the partition that created the deployment (one timer per cluster);
  // message and signal subscriptions on every partition.
  void OpenStartEvents(const record::ProcessRecord& process, const bpmn::Process& model,
                       bool with_timers);
  void CloseStartEvents(int64_t process_definition_key);

  // Evaluates a timer definition; `scope_key` <= 0 evaluates without variables (start events).
  absl::StatusOr<bpmn::timers::Schedule> EvaluateTimer(const bpmn::TimerDefinition& timer,
                                                       int64_t scope_key);
  // The text of a timer definition (static text, or the FEEL result as Zeebe coerces it).
  absl::StatusOr<std::string> TimerText(const bpmn::TimerDefinition& timer, int64_t scope_key);

  void CreateTimer(int64_t owner_instance_key, int64_t process_instance_key,
                   int64_t process_definition_key, const std::string& tenant,
                   const std::string& target_element_id, const bpmn::timers::Schedule& schedule);

  int32_t message_partition(std::string_view correlation_key) const {
    return MessagePartition(correlation_key, context_.config().partition_count);
  }

 private:
  absl::Status PrepareOne(const tern::state::ElementInstance& instance,
                          const bpmn::Element& catch_element, bool interrupting, int64_t scope_key,
                          std::vector<Subscription>& out);

  ProcessingContext& context_;
  VariableBehavior& variables_;
  ExpressionBehavior& expressions_;
};

}  // namespace tern::engine
