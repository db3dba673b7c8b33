#pragma once

// Processors of the things elements wait for: due timers, published messages and the two sides
// of message subscriptions, and signal broadcasts.
//
// Message correlation across partitions (Zeebe's protocol, made reliable with
// ProcessingContext::SendCommand): the instance's partition opens a subscription
// (PROCESS_MESSAGE_SUBSCRIPTION CREATING) and sends MESSAGE_SUBSCRIPTION CREATE to the message's
// partition. There a published or buffered message marks the subscription CORRELATING and sends
// PROCESS_MESSAGE_SUBSCRIPTION CORRELATE back; the instance's partition triggers the catch event
// (CORRELATED) and confirms with MESSAGE_SUBSCRIPTION CORRELATE, or refuses with REJECT (the
// element left meanwhile) so that the message may go to another instance. Every command may
// arrive more than once: receivers ignore repeats.

#include "engine/processing/bpmn_processor.h"
#include "engine/processing/context.h"
#include "engine/processing/events.h"

namespace tern::engine {

class TimerProcessor {
 public:
  TimerProcessor(ProcessingContext& context, BpmnProcessor& bpmn, EventBehavior& events)
      : context_(context), bpmn_(bpmn), events_(events) {}
  // TIMER TRIGGER, written by the leader for a due timer.
  void Trigger(const record::Record& command);

 private:
  ProcessingContext& context_;
  BpmnProcessor& bpmn_;
  EventBehavior& events_;
};

class MessageProcessor {
 public:
  MessageProcessor(ProcessingContext& context, BpmnProcessor& bpmn, EventBehavior& events)
      : context_(context), bpmn_(bpmn), events_(events) {}
  void Publish(const record::Record& command);
  // MESSAGE_CORRELATION CORRELATE (8.8): publishes the message without a time to live and
  // answers with the process instance it correlated to (a message start event's new instance at
  // once; a waiting subscription's instance once that subscription confirmed, which for a
  // subscription on another partition is a later batch), or rejects with NOT_FOUND.
  void CorrelateMessage(const record::Record& command);
  void Expire(const record::Record& command);
  // MESSAGE_SUBSCRIPTION commands, on the message's partition.
  void ProcessSubscription(const record::Record& command);
  // PROCESS_MESSAGE_SUBSCRIPTION CORRELATE, on the instance's partition.
  void ProcessCorrelate(const record::Record& command);

 private:
  // Sends `message` to the subscriptions waiting for it (one per process) and to message start
  // events.
  struct CorrelationOutcome {
    // The first subscription the message was sent to (its confirmation comes later).
    int64_t subscription_process_instance_key = 0;
    // The first instance a message start event created.
    int64_t started_process_instance_key = 0;
  };
  CorrelationOutcome Correlate(int64_t message_key, const record::MessageRecord& message);
  // Answers a pending 8.8 correlation of `message_key`, if there is one: CORRELATED with the
  // instance, or (process_instance_key 0) NOT_CORRELATED and a NOT_FOUND rejection.
  void FinishPendingCorrelation(int64_t message_key, int64_t process_instance_key);
  // Offers the oldest buffered message the subscription can take, if any.
  void CorrelateBuffered(const tern::state::MessageSubscriptionState& subscription);
  void StartCorrelation(const tern::state::MessageSubscriptionState& subscription,
                        int64_t message_key, const record::MessageRecord& message);
  void Answer(const record::ProcessMessageSubscriptionRecord& request,
              MessageSubscriptionIntent intent);

  ProcessingContext& context_;
  BpmnProcessor& bpmn_;
  EventBehavior& events_;
};

class SignalProcessor {
 public:
  SignalProcessor(ProcessingContext& context, BpmnProcessor& bpmn)
      : context_(context), bpmn_(bpmn) {}
  // SIGNAL BROADCAST, from a client or (distributed) from another partition.
  void Broadcast(const record::Record& command);

 private:
  ProcessingContext& context_;
  BpmnProcessor& bpmn_;
};

}  // namespace tern::engine
