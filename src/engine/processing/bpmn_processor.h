#pragma once

// Executes BPMN elements: the lifecycle of element instances (activate, complete, terminate),
// sequence flows, scopes, and the element-specific behaviour of each supported element type.
//
// Lifecycle, as in Zeebe: ACTIVATE_ELEMENT -> ELEMENT_ACTIVATING -> (input mappings, element
// behaviour) -> ELEMENT_ACTIVATED; COMPLETE_ELEMENT -> ELEMENT_COMPLETING -> (output mappings)
// -> ELEMENT_COMPLETED -> outgoing SEQUENCE_FLOW_TAKEN; TERMINATE_ELEMENT ->
// ELEMENT_TERMINATING -> ELEMENT_TERMINATED. A failure in a step raises an incident and leaves
// the instance in ACTIVATING or COMPLETING; resolving the incident retries that step.

#include <cstdint>
#include <vector>

#include "bpmn/model.h"
#include "engine/processing/behaviors.h"
#include "engine/processing/context.h"
#include "engine/processing/expressions.h"
#include "engine/processing/variables.h"

namespace tern::engine {

class BpmnProcessor {
 public:
  BpmnProcessor(ProcessingContext& context, VariableBehavior& variables,
                ExpressionBehavior& expressions, IncidentBehavior& incidents, JobBehavior& jobs)
      : context_(context),
        variables_(variables),
        expressions_(expressions),
        incidents_(incidents),
        jobs_(jobs) {}

  // PROCESS_INSTANCE commands: ACTIVATE_ELEMENT, COMPLETE_ELEMENT, TERMINATE_ELEMENT, CANCEL.
  void Process(const record::Record& command);

  // Starts a new process instance: activates the process element with its variables, then its
  // none start event or the elements named by start instructions. The caller has validated
  // the instructions.
  void StartProcessInstance(const DeployedProcess& process, int64_t process_instance_key,
                            const VariableDocument& variables,
                            const std::vector<std::string>& start_element_ids);

  // Retries the lifecycle step an element instance is stuck in (after an incident resolve).
  void RetryStep(int64_t element_instance_key);

 private:
  struct Target {
    std::shared_ptr<const DeployedProcess> process;
    const bpmn::Element* element = nullptr;
  };
  Target Resolve(const record::ProcessInstanceRecord& value);

  void Activate(const record::Record& command);
  void OnActivating(tern::state::ElementInstance instance, const Target& target);
  void Complete(int64_t key);
  void OnCompleting(tern::state::ElementInstance instance, const Target& target);
  void Terminate(int64_t key);
  void Cancel(const record::Record& command);

  // Lifecycle transitions: write the event, return the instance as the event left it.
  tern::state::ElementInstance Transition(tern::state::ElementInstance instance,
                                          ProcessInstanceIntent intent);
  void ActivateChild(const tern::state::ElementInstance& scope, const DeployedProcess& process,
                     const bpmn::Element& element);
  void TakeSequenceFlow(const tern::state::ElementInstance& from, const DeployedProcess& process,
                        const bpmn::Element& flow);
  void TakeOutgoingFlows(const tern::state::ElementInstance& completed, const Target& target);
  // After a child of `scope_key` completed or terminated: completes or terminates the scope
  // when nothing is left in it.
  void OnChildFinished(int64_t scope_key);
  void CompleteProcessInstance(const tern::state::ElementInstance& instance);

  bool ApplyInputMappings(const tern::state::ElementInstance& instance,
                          const bpmn::Element& element);
  bool ApplyOutputMappings(const tern::state::ElementInstance& instance,
                           const bpmn::Element& element);
  bool CreateJob(const tern::state::ElementInstance& instance, const DeployedProcess& process,
                 const bpmn::Element& element);
  // The outgoing flow an exclusive gateway takes; nullptr after raising an incident.
  const bpmn::Element* ChooseExclusiveFlow(const tern::state::ElementInstance& instance,
                                           const Target& target);

  ProcessingContext& context_;
  VariableBehavior& variables_;
  ExpressionBehavior& expressions_;
  IncidentBehavior& incidents_;
  JobBehavior& jobs_;
};

}  // namespace tern::engine
