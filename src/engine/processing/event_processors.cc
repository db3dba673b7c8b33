#include "engine/processing/event_processors.h"

#include <set>

#include "base/strings.h"

namespace tern::engine {
namespace {

std::string_view TenantOrDefault(const std::string& tenant) {
  return tenant.empty() ? state::kDefaultTenant : std::string_view(tenant);
}

// Time-to-live values are clamped so that deadlines cannot overflow.
constexpr int64_t kMaxTimeToLiveMs = int64_t{1} << 42;

}  // namespace

// --- Timers ------------------------------------------------------------------------------------

void TimerProcessor::Trigger(const record::Record& command) {
  auto& state = context_.state();
  auto timer = state.timers.Get(command.key());
  if (!timer) {
    context_.Reject(record::NOT_FOUND,
                    tern::StrCat("Expected to trigger timer with key '", command.key(),
                                 "', but no such timer was found"));
    return;
  }
  if (timer->due_date() > context_.timestamp()) {
    context_.Reject(record::INVALID_STATE, tern::StrCat("Expected to trigger timer with key '",
                                                        command.key(), "', but it is not due yet"));
    return;
  }
  int64_t key = command.key();
  context_.AppendEvent(key, TimerIntent::kTriggered, *timer);
  auto process = context_.processes().Get(timer->process_definition_key());
  if (!process) return;
  const bpmn::Element* catch_element = process->process->Find(timer->target_element_id());
  if (catch_element == nullptr || !catch_element->timer) return;

  auto reschedule = [&](int64_t owner, int64_t scope_key) {
    if (timer->repetitions() == 1) return;
    auto text = events_.TimerText(*catch_element->timer, scope_key);
    if (!text.ok()) return;
    auto due = bpmn::timers::NextCycleDue(*text, context_.timestamp());
    if (!due.ok()) return;
    bpmn::timers::Schedule next;
    next.due_ms = *due;
    next.repetitions = timer->repetitions() < 0 ? -1 : timer->repetitions() - 1;
    events_.CreateTimer(owner, timer->process_instance_key(), timer->process_definition_key(),
                        timer->tenant_id(), timer->target_element_id(), next);
  };

  if (timer->element_instance_key() <= 0) {
    // A timer start event: a new instance at it, and the next one for a cycle.
    if (state.processes.IsDeleted(process->key)) return;
    bpmn_.StartProcessInstanceAtEvent(*process, context_.NextKey(), *catch_element, key, "");
    reschedule(-1, -1);
    return;
  }
  int64_t owner = timer->element_instance_key();
  if (!bpmn_.TriggerEvent(owner, timer->target_element_id(), key, "")) return;
  if (!catch_element->interrupting) {
    // A non-interrupting cycle fires again while its owner stays active.
    auto instance = state.element_instances.Get(owner);
    if (instance && instance->state() == ToInt(ProcessInstanceIntent::kElementActivated)) {
      reschedule(owner, owner);
    }
  }
}

// --- Messages ----------------------------------------------------------------------------------

void MessageProcessor::Publish(const record::Record& command) {
  record::MessageRecord message = command.message();
  message.set_tenant_id(std::string(TenantOrDefault(message.tenant_id())));
  auto variables = ParseVariableDocument(message.variables());
  if (!variables.ok()) {
    context_.Reject(record::INVALID_ARGUMENT, std::string(variables.status().message()));
    return;
  }
  auto& messages = context_.state().messages;
  if (!message.message_id().empty()) {
    if (auto existing =
            messages.KeyById(message.name(), message.correlation_key(), message.message_id())) {
      auto buffered = messages.Get(*existing);
      if (buffered && buffered->deadline() > context_.timestamp()) {
        context_.Reject(
            record::ALREADY_EXISTS,
            tern::StrCat("Expected to publish a new message with id '", message.message_id(),
                         "', but a message with that id was already published"));
        return;
      }
    }
  }
  int64_t ttl = std::clamp<int64_t>(message.time_to_live(), 0, kMaxTimeToLiveMs);
  message.set_time_to_live(ttl);
  message.set_deadline(context_.timestamp() + ttl);
  if (message.variables().find_first_not_of(" \t\r\n") == std::string::npos) {
    message.set_variables("{}");
  }
  int64_t key = context_.NextKey();
  const record::Record& event = context_.AppendEvent(key, MessageIntent::kPublished, message);
  context_.Respond(event);
  Correlate(key, message);
  if (ttl == 0) {
    // Only the subscriptions open right now could take it.
    context_.AppendEvent(key, MessageIntent::kExpired, message);
  }
}

void MessageProcessor::Expire(const record::Record& command) {
  auto message = context_.state().messages.Get(command.key());
  if (!message || message->deadline() > context_.timestamp()) return;
  context_.AppendEvent(command.key(), MessageIntent::kExpired, *message);
}

MessageProcessor::CorrelationOutcome MessageProcessor::Correlate(
    int64_t message_key, const record::MessageRecord& message) {
  CorrelationOutcome outcome;
  auto& state = context_.state();
  std::set<std::string> processes;
  for (const auto& [element_instance_key, name] :
       state.message_subscriptions.Waiting(message.name(), message.correlation_key())) {
    auto subscription = state.message_subscriptions.Get(element_instance_key, name);
    if (!subscription || subscription->correlating()) continue;
    const std::string& bpmn_process_id = subscription->record().bpmn_process_id();
    // A message correlates at most once per process (by BPMN process id).
    if (processes.contains(bpmn_process_id) ||
        state.messages.IsCorrelated(message_key, bpmn_process_id)) {
      continue;
    }
    processes.insert(bpmn_process_id);
    StartCorrelation(*subscription, message_key, message);
    if (outcome.subscription_process_instance_key == 0) {
      outcome.subscription_process_instance_key = subscription->record().process_instance_key();
    }
  }
  for (const auto& start : state.message_start_subscriptions.ByName(message.name())) {
    const std::string& bpmn_process_id = start.bpmn_process_id();
    if (processes.contains(bpmn_process_id) ||
        state.messages.IsCorrelated(message_key, bpmn_process_id)) {
      continue;
    }
    // One active instance per correlation key; the message waits (buffered) until it ends.
    if (!message.correlation_key().empty() && state.message_start_subscriptions.ActiveInstance(
                                                  bpmn_process_id, message.correlation_key())) {
      continue;
    }
    auto process = context_.processes().Get(start.process_definition_key());
    if (!process) continue;
    const bpmn::Element* start_event = process->process->Find(start.start_event_id());
    if (start_event == nullptr) continue;
    processes.insert(bpmn_process_id);
    const int64_t instance_key =
        bpmn_.StartInstanceByMessage(*process, *start_event, message_key, message);
    if (outcome.started_process_instance_key == 0) {
      outcome.started_process_instance_key = instance_key;
    }
  }
  return outcome;
}

void MessageProcessor::CorrelateMessage(const record::Record& command) {
  record::MessageCorrelationRecord request = command.message_correlation();
  request.set_tenant_id(std::string(TenantOrDefault(request.tenant_id())));
  auto variables = ParseVariableDocument(request.variables());
  if (!variables.ok()) {
    context_.Reject(record::INVALID_ARGUMENT, std::string(variables.status().message()));
    return;
  }
  if (request.variables().find_first_not_of(" \t\r\n") == std::string::npos) {
    request.set_variables("{}");
  }
  record::MessageRecord message;
  message.set_name(request.name());
  message.set_correlation_key(request.correlation_key());
  message.set_variables(request.variables());
  message.set_tenant_id(request.tenant_id());
  message.set_time_to_live(0);
  message.set_deadline(context_.timestamp());
  const int64_t key = context_.NextKey();
  request.set_message_key(key);
  context_.AppendEvent(key, MessageIntent::kPublished, message);
  CorrelationOutcome outcome = Correlate(key, message);
  // Only the subscriptions open right now could take it: it is not buffered.
  context_.AppendEvent(key, MessageIntent::kExpired, message);
  if (outcome.started_process_instance_key != 0) {
    request.set_process_instance_key(outcome.started_process_instance_key);
    context_.Respond(context_.AppendEvent(key, MessageCorrelationIntent::kCorrelated, request));
  } else if (outcome.subscription_process_instance_key != 0) {
    // Answered when the subscription confirms (MESSAGE_SUBSCRIPTION CORRELATE or REJECT); a
    // subscription of this partition confirms within this batch.
    request.set_process_instance_key(outcome.subscription_process_instance_key);
    context_.AppendEventRememberingRequest(key, MessageCorrelationIntent::kCorrelating, request);
  } else {
    context_.AppendEvent(key, MessageCorrelationIntent::kNotCorrelated, request);
    context_.Reject(record::NOT_FOUND,
                    tern::StrCat("Expected to find subscription for message with name '",
                                 request.name(), "' and correlation key '",
                                 request.correlation_key(), "', but none was found."));
  }
}

void MessageProcessor::FinishPendingCorrelation(int64_t message_key, int64_t process_instance_key) {
  auto pending = context_.state().pending_correlations.Get(message_key);
  if (!pending) return;
  record::MessageCorrelationRecord value = pending->record();
  if (process_instance_key != 0) {
    value.set_process_instance_key(process_instance_key);
    const record::Record& event =
        context_.AppendEvent(message_key, MessageCorrelationIntent::kCorrelated, value);
    context_.RespondTo(pending->request_stream_id(), pending->request_id(), event);
    return;
  }
  value.clear_process_instance_key();
  context_.AppendEvent(message_key, MessageCorrelationIntent::kNotCorrelated, value);
  // The rejection of the original command, addressed to its request (it is not in the log: the
  // command was accepted when it was processed).
  record::Record rejection;
  rejection.set_record_type(record::COMMAND_REJECTION);
  rejection.set_key(message_key);
  rejection.set_intent(ToInt(MessageCorrelationIntent::kCorrelate));
  SetValue(rejection, std::move(value));
  rejection.set_rejection_type(record::NOT_FOUND);
  rejection.set_rejection_reason(
      tern::StrCat("Expected to find subscription for message with name '",
                   rejection.message_correlation().name(), "' and correlation key '",
                   rejection.message_correlation().correlation_key(), "', but none was found."));
  context_.RespondTo(pending->request_stream_id(), pending->request_id(), std::move(rejection));
}

void MessageProcessor::StartCorrelation(const tern::state::MessageSubscriptionState& subscription,
                                        int64_t message_key, const record::MessageRecord& message) {
  record::MessageSubscriptionRecord correlating = subscription.record();
  correlating.set_message_key(message_key);
  correlating.set_variables(message.variables());
  context_.AppendEvent(message_key, MessageSubscriptionIntent::kCorrelating, correlating);
  record::ProcessMessageSubscriptionRecord correlate;
  correlate.set_process_instance_key(correlating.process_instance_key());
  correlate.set_element_instance_key(correlating.element_instance_key());
  correlate.set_bpmn_process_id(correlating.bpmn_process_id());
  correlate.set_message_name(correlating.message_name());
  correlate.set_correlation_key(correlating.correlation_key());
  correlate.set_interrupting(correlating.interrupting());
  correlate.set_message_key(message_key);
  correlate.set_variables(message.variables());
  correlate.set_tenant_id(correlating.tenant_id());
  context_.SendCommand(
      PartitionOfKey(correlating.element_instance_key()),
      MakeCommand(message_key, ProcessMessageSubscriptionIntent::kCorrelate, std::move(correlate)));
}

void MessageProcessor::CorrelateBuffered(
    const tern::state::MessageSubscriptionState& subscription) {
  auto& messages = context_.state().messages;
  const auto& record = subscription.record();
  for (int64_t message_key : messages.Buffered(record.message_name(), record.correlation_key())) {
    auto message = messages.Get(message_key);
    if (!message || message->deadline() <= context_.timestamp()) continue;
    if (messages.IsCorrelated(message_key, record.bpmn_process_id())) continue;
    StartCorrelation(subscription, message_key, *message);
    return;
  }
}

void MessageProcessor::ProcessSubscription(const record::Record& command) {
  const auto& request = command.message_subscription();
  auto& state = context_.state();
  auto subscription =
      state.message_subscriptions.Get(request.element_instance_key(), request.message_name());
  switch (static_cast<MessageSubscriptionIntent>(command.intent())) {
    case MessageSubscriptionIntent::kCreate: {
      if (subscription) return;  // a repeated delivery
      record::MessageSubscriptionRecord created = request;
      created.clear_message_key();
      created.clear_variables();
      context_.AppendEvent(context_.NextKey(), MessageSubscriptionIntent::kCreated, created);
      auto stored =
          state.message_subscriptions.Get(request.element_instance_key(), request.message_name());
      TERN_CHECK(stored.has_value());
      CorrelateBuffered(*stored);
      return;
    }
    case MessageSubscriptionIntent::kCorrelate: {
      if (!subscription || !subscription->correlating() ||
          subscription->record().message_key() != request.message_key()) {
        return;  // a repeat, or about a subscription that is gone
      }
      context_.AppendEvent(request.message_key(), MessageSubscriptionIntent::kCorrelated,
                           subscription->record());
      FinishPendingCorrelation(request.message_key(),
                               subscription->record().process_instance_key());
      if (!subscription->record().interrupting()) {
        // A non-interrupting subscription stays open for the next message.
        auto reopened =
            state.message_subscriptions.Get(request.element_instance_key(), request.message_name());
        if (reopened) CorrelateBuffered(*reopened);
      }
      return;
    }
    case MessageSubscriptionIntent::kReject: {
      if (!subscription || !subscription->correlating() ||
          subscription->record().message_key() != request.message_key()) {
        return;
      }
      context_.AppendEvent(request.message_key(), MessageSubscriptionIntent::kRejected,
                           subscription->record());
      // The element left before the message reached it: another instance may take it.
      if (auto message = state.messages.Get(request.message_key());
          message && message->deadline() > context_.timestamp()) {
        Correlate(request.message_key(), *message);
      }
      // An 8.8 correlation has no time to live: nothing else can take it now.
      FinishPendingCorrelation(request.message_key(), 0);
      return;
    }
    case MessageSubscriptionIntent::kDelete: {
      if (!subscription) return;
      context_.AppendEvent(context_.NextKey(), MessageSubscriptionIntent::kDeleted,
                           subscription->record());
      return;
    }
    default:
      context_.Reject(record::INVALID_ARGUMENT,
                      tern::StrCat("Unexpected message subscription command ",
                                   IntentName(record::MESSAGE_SUBSCRIPTION, command.intent())));
  }
}

void MessageProcessor::Answer(const record::ProcessMessageSubscriptionRecord& request,
                              MessageSubscriptionIntent intent) {
  record::MessageSubscriptionRecord answer;
  answer.set_process_instance_key(request.process_instance_key());
  answer.set_element_instance_key(request.element_instance_key());
  answer.set_bpmn_process_id(request.bpmn_process_id());
  answer.set_message_name(request.message_name());
  answer.set_correlation_key(request.correlation_key());
  answer.set_interrupting(request.interrupting());
  answer.set_message_key(request.message_key());
  answer.set_tenant_id(request.tenant_id());
  context_.SendCommand(events_.message_partition(request.correlation_key()),
                       MakeCommand(request.element_instance_key(), intent, std::move(answer)));
}

void MessageProcessor::ProcessCorrelate(const record::Record& command) {
  const auto& request = command.process_message_subscription();
  auto& state = context_.state();
  auto subscription = state.process_message_subscriptions.Get(request.element_instance_key(),
                                                              request.message_name());
  if (subscription && subscription->last_message_key() == request.message_key()) {
    return;  // a repeated delivery of a message that already correlated
  }
  if (!subscription || subscription->closed() ||
      !bpmn_.TriggerEvent(request.element_instance_key(), subscription->record().element_id(),
                          request.message_key(), request.variables())) {
    Answer(request, MessageSubscriptionIntent::kReject);
    return;
  }
  record::ProcessMessageSubscriptionRecord correlated = subscription->record();
  correlated.set_message_key(request.message_key());
  correlated.set_variables(request.variables());
  context_.AppendEvent(request.message_key(), ProcessMessageSubscriptionIntent::kCorrelated,
                       std::move(correlated));
  Answer(request, MessageSubscriptionIntent::kCorrelate);
}

// --- Signals -----------------------------------------------------------------------------------

void SignalProcessor::Broadcast(const record::Record& command) {
  record::SignalRecord signal = command.signal();
  signal.set_tenant_id(std::string(TenantOrDefault(signal.tenant_id())));
  auto variables = ParseVariableDocument(signal.variables());
  if (!variables.ok()) {
    context_.Reject(record::INVALID_ARGUMENT, std::string(variables.status().message()));
    return;
  }
  if (signal.variables().find_first_not_of(" \t\r\n") == std::string::npos) {
    signal.set_variables("{}");
  }
  bool from_elsewhere =
      command.source_partition_id() > 0 && command.source_partition_id() != context_.partition_id();
  int64_t key = from_elsewhere ? command.key() : context_.NextKey();
  record::Record answer;
  answer.set_record_type(record::EVENT);
  answer.set_key(key);
  answer.set_intent(ToInt(SignalIntent::kBroadcasted));
  SetValue(answer, signal);
  // Start events only where the broadcast arrived first, so one broadcast starts one instance
  // per process (as in Zeebe); catch events everywhere.
  bpmn_.BroadcastSignal(key, signal, !from_elsewhere, !from_elsewhere);
  context_.Respond(answer);
}

}  // namespace tern::engine
