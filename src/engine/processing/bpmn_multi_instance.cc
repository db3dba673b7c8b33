// Multi-instance activities: a body instance (type MULTI_INSTANCE_BODY, the activity's id) whose
// children are the inner instances, one per item of the input collection. Parallel bodies
// activate their inner instances in batches (PROCESS_INSTANCE_BATCH), so that a large
// collection never makes one huge batch; sequential bodies one after the other.

#include <nlohmann/json.hpp>

#include "base/strings.h"
#include "engine/processing/bpmn_processor.h"

namespace tern::engine {
namespace {

using tern::state::ElementInstance;

bool IsState(const ElementInstance& instance, ProcessInstanceIntent intent) {
  return instance.state() == ToInt(intent);
}

std::string_view Source(const bpmn::Expression& expression) {
  std::string_view text = expression.text;
  if (!text.empty() && text.front() == '=') text.remove_prefix(1);
  return text;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> BpmnProcessor::InputCollection(
    const ElementInstance& body, const bpmn::Element& element) {
  const bpmn::LoopCharacteristics& loop = *element.loop;
  if (!loop.input_collection) return absl::FailedPreconditionError("no input collection");
  auto value = expressions_.Evaluate(*loop.input_collection, body.key());
  if (!value.ok()) return value.status();
  if (!value->is_list()) {
    return absl::FailedPreconditionError(
        tern::StrCat("Expected result of the expression '", Source(*loop.input_collection),
                     "' to be 'ARRAY', but was '", ResultTypeName(*value), "'."));
  }
  std::vector<std::string> items;
  const auto& list = value->list();
  int64_t limit = context_.config().max_multi_instance_items;
  if (static_cast<int64_t>(list.size()) > limit) {
    return absl::FailedPreconditionError(tern::StrCat(
        "Expected the input collection '", Source(*loop.input_collection),
        "' of the multi-instance activity '", element.id, "' to have at most ", limit,
        " items, but it has ", list.size(),
        ". Tern limits the size of multi-instance collections (see docs/bpmn-coverage.md)."));
  }
  items.reserve(list.size());
  for (const feel::Value& item : list) items.push_back(feel::ValueToJson(item));
  return items;
}

void BpmnProcessor::ActivateBody(ElementInstance body, const Target& target) {
  const bpmn::Element& element = *target.element;
  const bpmn::LoopCharacteristics& loop = *element.loop;
  auto items = InputCollection(body, element);
  if (!items.ok()) {
    incidents_.RaiseElementIncident(body, kExtractValueError,
                                    std::string(items.status().message()));
    return;
  }
  if (!Subscribe(body, target, nullptr)) return;
  int64_t cardinality = static_cast<int64_t>(items->size());
  if (!loop.output_collection.empty()) {
    std::string nulls = "[";
    for (int64_t i = 0; i < cardinality; ++i) nulls += i == 0 ? "null" : ",null";
    nulls += "]";
    variables_.SetLocal(body.key(), loop.output_collection, nulls);
  }
  body = Transition(body, ProcessInstanceIntent::kElementActivated);
  record::ProcessInstanceBatchRecord batch;
  batch.set_process_instance_key(body.record().process_instance_key());
  batch.set_batch_element_instance_key(body.key());
  batch.set_index(0);
  batch.set_cardinality(cardinality);
  context_.AppendEvent(body.key(), ProcessInstanceBatchIntent::kActivated, batch);
  if (cardinality == 0) {
    CompleteLater(body);
    return;
  }
  if (loop.sequential) {
    ActivateInner(body, target, *items, 0, 1);
    return;
  }
  int64_t batch_size = context_.config().multi_instance_batch_size;
  int64_t end = std::min(cardinality, batch_size);
  ActivateInner(body, target, *items, 0, end);
  if (end < cardinality) {
    batch.set_index(end);
    context_.FollowUp(MakeCommand(body.key(), ProcessInstanceBatchIntent::kActivate, batch));
  }
}

void BpmnProcessor::ProcessBatch(const record::Record& command) {
  const auto& request = command.process_instance_batch();
  auto body = context_.state().element_instances.Get(request.batch_element_instance_key());
  if (!body || !IsState(*body, ProcessInstanceIntent::kElementActivated)) return;
  Target target = Resolve(body->record());
  int64_t cardinality = body->mi_cardinality();
  int64_t from = request.index();
  if (from >= cardinality) return;
  auto items = InputCollection(*body, *target.element);
  std::vector<std::string> values;
  if (items.ok()) values = *std::move(items);
  // Should the collection have changed since the body started, missing items are null.
  if (static_cast<int64_t>(values.size()) < cardinality) values.resize(cardinality, "null");
  int64_t end = std::min(cardinality, from + context_.config().multi_instance_batch_size);
  ActivateInner(*body, target, values, from, end);
  record::ProcessInstanceBatchRecord batch = request;
  batch.set_cardinality(cardinality);
  context_.AppendEvent(body->key(), ProcessInstanceBatchIntent::kActivated, batch);
  if (end < cardinality) {
    batch.set_index(end);
    context_.FollowUp(MakeCommand(body->key(), ProcessInstanceBatchIntent::kActivate, batch));
  }
}

void BpmnProcessor::ActivateInner(const ElementInstance& body, const Target& target,
                                  const std::vector<std::string>& items, int64_t from, int64_t to) {
  const bpmn::Element& element = *target.element;
  const bpmn::LoopCharacteristics& loop = *element.loop;
  for (int64_t i = from; i < to; ++i) {
    ElementInstance inner = BeginActivation(body, element);
    if (!loop.input_element.empty()) {
      variables_.SetLocal(inner.key(), loop.input_element,
                          i < static_cast<int64_t>(items.size()) ? items[i] : "null");
    }
    variables_.SetLocal(inner.key(), "loopCounter", std::to_string(i + 1));
    if (!loop.output_element_variable.empty()) {
      variables_.SetLocal(inner.key(), loop.output_element_variable, "null");
    }
  }
}

bool BpmnProcessor::CollectInnerOutput(const ElementInstance& inner, const bpmn::Element& element,
                                       bool* completion_condition_met) {
  const bpmn::LoopCharacteristics& loop = *element.loop;
  auto body = context_.state().element_instances.Get(inner.record().flow_scope_key());
  TERN_CHECK(body.has_value());
  if (!loop.output_collection.empty() && loop.output_element) {
    auto value = expressions_.Evaluate(*loop.output_element, inner.key());
    if (!value.ok()) {
      incidents_.RaiseElementIncident(inner, kExtractValueError,
                                      std::string(value.status().message()));
      return false;
    }
    auto current = context_.state().variables.GetLocal(body->key(), loop.output_collection);
    nlohmann::json collection =
        current ? nlohmann::json::parse(*current, nullptr, false) : nlohmann::json();
    if (!collection.is_array()) collection = nlohmann::json::array();
    size_t index = static_cast<size_t>(inner.multi_instance_loop_counter() - 1);
    while (collection.size() <= index) collection.push_back(nullptr);
    collection[index] = nlohmann::json::parse(feel::ValueToJson(*value), nullptr, false);
    variables_.SetLocal(body->key(), loop.output_collection,
                        collection.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  *completion_condition_met = false;
  if (loop.completion_condition) {
    ScopeVariableResolver resolver(variables_, inner.key());
    // Zeebe's counters, as they will be once this instance has completed.
    resolver.Override("numberOfInstances", feel::Value::Number(body->mi_cardinality()));
    resolver.Override("numberOfActiveInstances",
                      feel::Value::Number(int64_t{body->active_children()} - 1));
    resolver.Override("numberOfCompletedInstances", feel::Value::Number(body->mi_completed() + 1));
    resolver.Override("numberOfTerminatedInstances", feel::Value::Number(body->mi_terminated()));
    auto met = expressions_.Evaluate(*loop.completion_condition, resolver);
    if (met.ok() && !met->is_bool()) {
      met = absl::FailedPreconditionError(
          tern::StrCat("Expected result of the expression '", Source(*loop.completion_condition),
                       "' to be 'BOOLEAN', but was '", ResultTypeName(*met), "'."));
    }
    if (!met.ok()) {
      incidents_.RaiseElementIncident(inner, kConditionError, std::string(met.status().message()));
      return false;
    }
    *completion_condition_met = met->as_bool();
  }
  return true;
}

void BpmnProcessor::OnInnerFinished(int64_t body_key, bool completion_condition_met) {
  auto body = context_.state().element_instances.Get(body_key);
  if (!body) return;
  if (IsState(*body, ProcessInstanceIntent::kElementTerminating)) {
    if (body->active_children() == 0) FinishTermination(*body, Resolve(body->record()));
    return;
  }
  if (IsState(*body, ProcessInstanceIntent::kElementCompleting)) {
    if (body->active_children() == 0) CompleteLater(*body);
    return;
  }
  if (!IsState(*body, ProcessInstanceIntent::kElementActivated)) return;
  Target target = Resolve(body->record());
  const bpmn::Element& element = *target.element;
  if (completion_condition_met) {
    if (body->active_children() == 0) {
      CompleteLater(*body);
      return;
    }
    // The remaining instances are terminated; the body completes once they are gone.
    Transition(*body, ProcessInstanceIntent::kElementCompleting);
    for (int64_t child : context_.state().element_instances.Children(body_key)) {
      TerminateLater(child);
    }
    return;
  }
  if (element.loop->sequential) {
    int64_t next = body->mi_created();
    if (next < body->mi_cardinality() && body->active_children() == 0) {
      auto items = InputCollection(*body, element);
      std::vector<std::string> values;
      if (items.ok()) values = *std::move(items);
      ActivateInner(*body, target, values, next, next + 1);
      return;
    }
  }
  if (body->active_children() == 0 && body->mi_created() >= body->mi_cardinality()) {
    CompleteLater(*body);
  }
}

void BpmnProcessor::CompleteBody(ElementInstance body, const Target& target) {
  if (body.active_children() > 0) return;  // inner instances are still being terminated
  const bpmn::Element& element = *target.element;
  const bpmn::LoopCharacteristics& loop = *element.loop;
  if (!loop.output_collection.empty()) {
    auto collection = context_.state().variables.GetLocal(body.key(), loop.output_collection);
    if (collection) {
      variables_.MergePropagating(body.record().flow_scope_key(),
                                  {{loop.output_collection, *collection}});
    }
  }
  if (EventBehavior::MayHaveSubscriptions(element, true, false)) events_.Close(body);
  ElementInstance completed = Transition(body, ProcessInstanceIntent::kElementCompleted);
  TakeOutgoingFlows(completed, target);
}

}  // namespace tern::engine
