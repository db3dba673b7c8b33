#include "engine/processing/events.h"

#include <cstdlib>

#include "base/status_macros.h"
#include "base/strings.h"
#include "feel/feel.h"

namespace tern::engine {
namespace {

using bpmn::ElementType;
using bpmn::EventType;
using tern::state::ElementInstance;

std::string_view Source(const bpmn::Expression& expression) {
  std::string_view text = expression.text;
  if (!text.empty() && text.front() == '=') text.remove_prefix(1);
  return text;
}

}  // namespace

int32_t MessagePartition(std::string_view correlation_key, int32_t partition_count) {
  if (partition_count <= 1) return 1;
  uint32_t hash = 0;
  for (char c : correlation_key) {
    hash = 31 * hash + static_cast<uint32_t>(static_cast<int32_t>(static_cast<signed char>(c)));
  }
  int32_t h = static_cast<int32_t>(hash);
  int32_t remainder = h % partition_count;  // C++ truncates like Java
  return std::abs(remainder) + 1;
}

std::string_view EventKindName(EventType type) { return bpmn::EventTypeName(type); }

bool EventBehavior::MayHaveSubscriptions(const bpmn::Element& element, bool is_body,
                                         bool is_inner) {
  if (is_body) return !element.boundary_events.empty();
  switch (element.type) {
    case ElementType::kIntermediateCatchEvent:
      return element.event_type == EventType::kTimer || element.event_type == EventType::kMessage ||
             element.event_type == EventType::kSignal;
    case ElementType::kReceiveTask:
    case ElementType::kEventBasedGateway:
      return true;
    default:
      break;
  }
  if (!is_inner && !element.loop && !element.boundary_events.empty()) return true;
  return element.is_scope() && !element.event_subprocesses.empty();
}

absl::StatusOr<std::vector<EventBehavior::Subscription>> EventBehavior::Prepare(
    const ElementInstance& instance, const bpmn::Process& process, const bpmn::Element& element,
    bool is_body, bool is_inner) {
  std::vector<Subscription> out;
  int64_t scope_key = instance.key();
  if (!is_body) {
    if (element.type == ElementType::kIntermediateCatchEvent ||
        element.type == ElementType::kReceiveTask) {
      TERN_RETURN_IF_ERROR(PrepareOne(instance, element, true, scope_key, out));
    }
    if (element.type == ElementType::kEventBasedGateway) {
      for (bpmn::ElementIndex flow : element.outgoing) {
        const bpmn::Element& target = process.at(process.at(flow).target);
        TERN_RETURN_IF_ERROR(PrepareOne(instance, target, true, scope_key, out));
      }
    }
  }
  if ((is_body || !element.loop) && !is_inner) {
    for (bpmn::ElementIndex index : element.boundary_events) {
      const bpmn::Element& boundary = process.at(index);
      TERN_RETURN_IF_ERROR(PrepareOne(instance, boundary, boundary.interrupting, scope_key, out));
    }
  }
  if (!is_body && element.is_scope()) {
    for (bpmn::ElementIndex esp_index : element.event_subprocesses) {
      const bpmn::Element& esp = process.at(esp_index);
      for (bpmn::ElementIndex start_index : esp.start_events) {
        const bpmn::Element& start = process.at(start_index);
        TERN_RETURN_IF_ERROR(PrepareOne(instance, start, start.interrupting, scope_key, out));
      }
    }
  }
  return out;
}

absl::Status EventBehavior::PrepareOne(const ElementInstance& instance,
                                       const bpmn::Element& catch_element, bool interrupting,
                                       int64_t scope_key, std::vector<Subscription>& out) {
  (void)instance;
  Subscription subscription;
  subscription.catch_element = &catch_element;
  // A receive task has no event definition but waits for its message like a catch event.
  subscription.type = catch_element.type == ElementType::kReceiveTask ? EventType::kMessage
                                                                      : catch_element.event_type;
  subscription.interrupting = interrupting;
  switch (subscription.type) {
    case EventType::kTimer: {
      if (!catch_element.timer) return absl::OkStatus();
      auto schedule = EvaluateTimer(*catch_element.timer, scope_key);
      if (!schedule.ok()) return schedule.status();
      subscription.schedule = *schedule;
      break;
    }
    case EventType::kMessage: {
      if (!catch_element.message || !catch_element.message->name) return absl::OkStatus();
      auto name = expressions_.EvaluateString(*catch_element.message->name, scope_key);
      if (!name.ok()) return name.status();
      subscription.name = *name;
      if (catch_element.message->correlation_key) {
        const bpmn::Expression& expression = *catch_element.message->correlation_key;
        auto value = expressions_.Evaluate(expression, scope_key);
        if (!value.ok()) return value.status();
        if (value->is_string()) {
          subscription.correlation_key = value->as_string();
        } else if (value->is_number()) {
          subscription.correlation_key = feel::ValueToJson(*value);
        } else {
          return absl::FailedPreconditionError(
              StrCat("Failed to extract the correlation key for '", Source(expression),
                     "': The value must be either a string or a number, but was '",
                     ResultTypeName(*value), "'."));
        }
      }
      break;
    }
    case EventType::kSignal: {
      if (!catch_element.signal || !catch_element.signal->name) return absl::OkStatus();
      auto name = expressions_.EvaluateString(*catch_element.signal->name, scope_key);
      if (!name.ok()) return name.status();
      subscription.name = *name;
      break;
    }
    default:
      // Errors, escalations and compensation are found when they are thrown; link events are
      // jumps; none of them needs a subscription.
      return absl::OkStatus();
  }
  out.push_back(std::move(subscription));
  return absl::OkStatus();
}

void EventBehavior::Open(const ElementInstance& instance,
                         const std::vector<Subscription>& subscriptions) {
  const auto& owner = instance.record();
  for (const Subscription& s : subscriptions) {
    switch (s.type) {
      case EventType::kTimer:
        CreateTimer(instance.key(), owner.process_instance_key(), owner.process_definition_key(),
                    owner.tenant_id(), s.catch_element->id, s.schedule);
        break;
      case EventType::kMessage: {
        record::ProcessMessageSubscriptionRecord record;
        record.set_process_instance_key(owner.process_instance_key());
        record.set_element_instance_key(instance.key());
        record.set_bpmn_process_id(owner.bpmn_process_id());
        record.set_message_name(s.name);
        record.set_correlation_key(s.correlation_key);
        record.set_interrupting(s.interrupting);
        record.set_element_id(s.catch_element->id);
        record.set_tenant_id(owner.tenant_id());
        record::MessageSubscriptionRecord create;
        create.set_process_instance_key(owner.process_instance_key());
        create.set_element_instance_key(instance.key());
        create.set_bpmn_process_id(owner.bpmn_process_id());
        create.set_message_name(s.name);
        create.set_correlation_key(s.correlation_key);
        create.set_interrupting(s.interrupting);
        create.set_tenant_id(owner.tenant_id());
        int64_t pending = context_.SendCommand(
            message_partition(s.correlation_key),
            MakeCommand(instance.key(), MessageSubscriptionIntent::kCreate, std::move(create)));
        // The event's key names the pending command, so deleting the subscription can cancel it.
        context_.AppendEvent(pending > 0 ? pending : context_.NextKey(),
                             ProcessMessageSubscriptionIntent::kCreating, std::move(record));
        break;
      }
      case EventType::kSignal: {
        record::SignalSubscriptionRecord record;
        record.set_process_definition_key(owner.process_definition_key());
        record.set_bpmn_process_id(owner.bpmn_process_id());
        record.set_catch_event_id(s.catch_element->id);
        record.set_catch_event_instance_key(instance.key());
        record.set_signal_name(s.name);
        record.set_tenant_id(owner.tenant_id());
        context_.AppendEvent(context_.NextKey(), SignalSubscriptionIntent::kCreated,
                             std::move(record));
        break;
      }
      default:
        break;
    }
  }
}

void EventBehavior::Close(const ElementInstance& instance) {
  auto& state = context_.state();
  for (int64_t key : state.timers.KeysOfOwner(instance.key())) {
    auto timer = state.timers.Get(key);
    TERN_CHECK(timer.has_value());
    context_.AppendEvent(key, TimerIntent::kCanceled, *timer);
  }
  for (const auto& subscription : state.process_message_subscriptions.OfElement(instance.key())) {
    const auto& record = subscription.record();
    int32_t partition = message_partition(record.correlation_key());
    context_.AppendEvent(context_.NextKey(), ProcessMessageSubscriptionIntent::kDeleted, record);
    context_.CancelPending(subscription.pending_create_key(), partition);
    if (subscription.closed()) continue;  // the message side removed it when it correlated
    record::MessageSubscriptionRecord remove;
    remove.set_process_instance_key(record.process_instance_key());
    remove.set_element_instance_key(record.element_instance_key());
    remove.set_bpmn_process_id(record.bpmn_process_id());
    remove.set_message_name(record.message_name());
    remove.set_correlation_key(record.correlation_key());
    remove.set_tenant_id(record.tenant_id());
    context_.SendCommand(
        partition, MakeCommand(record.element_instance_key(), MessageSubscriptionIntent::kDelete,
                               std::move(remove)));
  }
  for (const auto& [key, subscription] : state.signal_subscriptions.OfOwner(instance.key())) {
    context_.AppendEvent(key, SignalSubscriptionIntent::kDeleted, subscription);
  }
}

void EventBehavior::CreateTimer(int64_t owner_instance_key, int64_t process_instance_key,
                                int64_t process_definition_key, const std::string& tenant,
                                const std::string& target_element_id,
                                const bpmn::timers::Schedule& schedule) {
  record::TimerRecord timer;
  timer.set_element_instance_key(owner_instance_key);
  timer.set_process_instance_key(process_instance_key);
  timer.set_due_date(schedule.due_ms);
  timer.set_target_element_id(target_element_id);
  timer.set_repetitions(schedule.repetitions);
  timer.set_process_definition_key(process_definition_key);
  timer.set_tenant_id(tenant);
  context_.AppendEvent(context_.NextKey(), TimerIntent::kCreated, std::move(timer));
}

void EventBehavior::OpenStartEvents(const record::ProcessRecord& process,
                                    const bpmn::Process& model, bool with_timers) {
  for (bpmn::ElementIndex index : model.root().start_events) {
    const bpmn::Element& start = model.at(index);
    switch (start.event_type) {
      case EventType::kTimer: {
        if (!with_timers || !start.timer) break;
        auto schedule = EvaluateTimer(*start.timer, -1);
        // Deployment checked every timer start event before writing anything.
        TERN_CHECK(schedule.ok(), "timer start event ", start.id, ": ", schedule.status());
        CreateTimer(-1, -1, process.process_definition_key(), process.tenant_id(), start.id,
                    *schedule);
        break;
      }
      case EventType::kMessage: {
        if (!start.message || !start.message->name) break;
        auto name = expressions_.EvaluateString(*start.message->name, -1);
        if (!name.ok()) break;  // checked at deployment
        record::MessageStartEventSubscriptionRecord subscription;
        subscription.set_process_definition_key(process.process_definition_key());
        subscription.set_bpmn_process_id(process.bpmn_process_id());
        subscription.set_start_event_id(start.id);
        subscription.set_message_name(*name);
        subscription.set_tenant_id(process.tenant_id());
        context_.AppendEvent(context_.NextKey(), MessageStartEventSubscriptionIntent::kCreated,
                             std::move(subscription));
        break;
      }
      case EventType::kSignal: {
        if (!start.signal || !start.signal->name) break;
        auto name = expressions_.EvaluateString(*start.signal->name, -1);
        if (!name.ok()) break;  // checked at deployment
        record::SignalSubscriptionRecord subscription;
        subscription.set_process_definition_key(process.process_definition_key());
        subscription.set_bpmn_process_id(process.bpmn_process_id());
        subscription.set_catch_event_id(start.id);
        subscription.set_catch_event_instance_key(-1);
        subscription.set_signal_name(*name);
        subscription.set_tenant_id(process.tenant_id());
        context_.AppendEvent(context_.NextKey(), SignalSubscriptionIntent::kCreated,
                             std::move(subscription));
        break;
      }
      default:
        break;
    }
  }
}

void EventBehavior::CloseStartEvents(int64_t process_definition_key) {
  auto& state = context_.state();
  for (int64_t key : state.timers.KeysOfOwner(process_definition_key)) {
    auto timer = state.timers.Get(key);
    TERN_CHECK(timer.has_value());
    context_.AppendEvent(key, TimerIntent::kCanceled, *timer);
  }
  for (const auto& subscription :
       state.message_start_subscriptions.OfProcess(process_definition_key)) {
    context_.AppendEvent(context_.NextKey(), MessageStartEventSubscriptionIntent::kDeleted,
                         subscription);
  }
  for (const auto& [key, subscription] :
       state.signal_subscriptions.OfOwner(process_definition_key)) {
    context_.AppendEvent(key, SignalSubscriptionIntent::kDeleted, subscription);
  }
}

absl::StatusOr<std::string> EventBehavior::TimerText(const bpmn::TimerDefinition& timer,
                                                     int64_t scope_key) {
  if (!timer.value.is_feel()) return timer.value.static_text();
  auto value = expressions_.Evaluate(timer.value, scope_key);
  if (!value.ok()) return value.status();
  switch (value->kind()) {
    case feel::Kind::kString:
      return value->as_string();
    case feel::Kind::kDaysTimeDuration:
      if (timer.kind == bpmn::TimerKind::kDate) break;
      return StrCat(timer.kind == bpmn::TimerKind::kCycle ? "R/" : "",
                    feel::FormatDaysTimeDuration(value->as_days_time_duration()));
    case feel::Kind::kYearsMonthsDuration:
      if (timer.kind == bpmn::TimerKind::kDate) break;
      return StrCat(timer.kind == bpmn::TimerKind::kCycle ? "R/" : "",
                    feel::FormatYearsMonthsDuration(value->as_years_months_duration()));
    case feel::Kind::kDateTime:
      if (timer.kind != bpmn::TimerKind::kDate) break;
      return feel::FormatDateTime(value->as_date_time());
    case feel::Kind::kDate:
      if (timer.kind != bpmn::TimerKind::kDate) break;
      return StrCat(feel::FormatDate(value->as_date()), "T00:00:00Z");
    default:
      break;
  }
  std::string_view expected = timer.kind == bpmn::TimerKind::kDate ? "[DATE_TIME, DATE, STRING]"
                                                                   : "[DURATION, PERIOD, STRING]";
  return absl::FailedPreconditionError(StrCat("Expected result of the expression '",
                                              Source(timer.value), "' to be one of '", expected,
                                              "', but was '", ResultTypeName(*value), "'."));
}

absl::StatusOr<bpmn::timers::Schedule> EventBehavior::EvaluateTimer(
    const bpmn::TimerDefinition& timer, int64_t scope_key) {
  auto text = TimerText(timer, scope_key);
  if (!text.ok()) return text.status();
  auto schedule = bpmn::timers::ScheduleFromText(timer.kind, *text, context_.timestamp());
  if (!schedule.ok()) return absl::FailedPreconditionError(schedule.status().message());
  return schedule;
}

}  // namespace tern::engine
