#pragma once

// Executes BPMN elements: the lifecycle of element instances (activate, complete, terminate),
// sequence flows, scopes, and the element-specific behaviour of every element type Tern runs.
//
// Lifecycle, as in Zeebe: ACTIVATE_ELEMENT -> ELEMENT_ACTIVATING -> (input mappings, element
// behaviour, event subscriptions) -> ELEMENT_ACTIVATED; COMPLETE_ELEMENT -> ELEMENT_COMPLETING ->
// (output mappings, closing subscriptions) -> ELEMENT_COMPLETED -> outgoing SEQUENCE_FLOW_TAKEN;
// TERMINATE_ELEMENT -> ELEMENT_TERMINATING -> (children, called instances) -> ELEMENT_TERMINATED.
// Execution listeners hold a phase open: start listeners run after the input mappings, before
// the element's behaviour; end listeners after the output mappings, before the element is left.
// Each listener job's completion continues the phase with ACTIVATE_ELEMENT or COMPLETE_ELEMENT;
// the element instance counts the completed listeners, so mappings are not applied twice.
// A failure in a step raises an incident and leaves the instance in ACTIVATING or COMPLETING;
// resolving the incident retries that step.
//
// Events (a timer fired, a message correlated, a signal, an error or escalation caught, a called
// process completed) reach elements as PROCESS_EVENT triggers: stored on the element instance
// they concern (TRIGGERING) and consumed by it (TRIGGERED). An intermediate catch event completes
// with the trigger's variables; an interrupting boundary event terminates its activity and is
// activated when the activity is gone; an interrupting event subprocess terminates the other
// children of its scope first; non-interrupting events activate at once.
//
// The implementation is split over bpmn_processor.cc (lifecycle, flows, tasks), bpmn_events.cc
// (triggers, errors, escalations, signals, compensation) and bpmn_multi_instance.cc.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bpmn/model.h"
#include "engine/processing/behaviors.h"
#include "engine/processing/context.h"
#include "engine/processing/events.h"
#include "engine/processing/expressions.h"
#include "engine/processing/variables.h"

namespace tern::engine {

class DecisionBehavior;

class BpmnProcessor {
 public:
  BpmnProcessor(ProcessingContext& context, VariableBehavior& variables,
                ExpressionBehavior& expressions, IncidentBehavior& incidents, JobBehavior& jobs,
                EventBehavior& events)
      : context_(context),
        variables_(variables),
        expressions_(expressions),
        incidents_(incidents),
        jobs_(jobs),
        events_(events) {}

  void set_decisions(DecisionBehavior* decisions) { decisions_ = decisions; }

  // PROCESS_INSTANCE commands: ACTIVATE_ELEMENT, COMPLETE_ELEMENT, TERMINATE_ELEMENT, CANCEL.
  void Process(const record::Record& command);
  // PROCESS_INSTANCE_BATCH ACTIVATE: the next inner instances of a parallel multi-instance body.
  void ProcessBatch(const record::Record& command);

  // Starts a new process instance: activates the process element with its variables, then its
  // none start event or the elements named by start instructions (validated by the caller).
  // Called instances name their parent.
  void StartProcessInstance(const DeployedProcess& process, int64_t process_instance_key,
                            const VariableDocument& variables,
                            const std::vector<std::string>& start_element_ids,
                            int64_t parent_process_instance_key = -1,
                            int64_t parent_element_instance_key = -1);
  // Starts a new process instance at a message, timer or signal start event, whose variables
  // become the instance's.
  void StartProcessInstanceAtEvent(const DeployedProcess& process, int64_t process_instance_key,
                                   const bpmn::Element& start_event, int64_t event_key,
                                   const std::string& variables_json);

  // Starts an instance at a message start event for a published message, and remembers the
  // instance for the message's correlation key (one active instance per key).
  // Returns the new instance's key.
  int64_t StartInstanceByMessage(const DeployedProcess& process, const bpmn::Element& start_event,
                                 int64_t message_key, const record::MessageRecord& message);

  // Retries the lifecycle step an element instance is stuck in (after an incident resolve).
  void RetryStep(int64_t element_instance_key);

  // Delivers a timer, message or signal to the element instance that subscribed to it (see
  // EventBehavior). False when the instance no longer accepts it (left, interrupted, or already
  // triggered).
  bool TriggerEvent(int64_t owner_key, std::string_view catch_element_id, int64_t event_key,
                    const std::string& variables_json);
  bool CanTrigger(int64_t owner_key, std::string_view catch_element_id);

  // Throws an error from an element instance (a job's ThrowError, an error end event) to the
  // nearest error boundary event or error event subprocess with the same code or no code. On
  // false nothing was written and `available` lists the codes of the catch events that exist.
  bool ThrowError(const tern::state::ElementInstance& thrower, std::string_view code,
                  const std::string& variables_json, std::string* available);

  // Signals: writes BROADCASTED, triggers the subscriptions of this partition (start events
  // only when `start_instances`) and, for a new broadcast, sends it to every other partition.
  void BroadcastSignal(int64_t key, const record::SignalRecord& signal, bool start_instances,
                       bool distribute);

  // --- For instance modification and migration ---------------------------------------------------
  // Activates `element` as a new child of `scope` (a follow-up command).
  void ActivateChild(const tern::state::ElementInstance& scope, const bpmn::Element& element);
  // Activates a scope element (subprocess) without starting its flow: the instance that a
  // modification needs in order to activate something inside it. Returns the new instance.
  tern::state::ElementInstance ActivateEmptyScope(const tern::state::ElementInstance& scope,
                                                  const DeployedProcess& process,
                                                  const bpmn::Element& element);
  void TerminateLater(int64_t element_instance_key);

 private:
  struct Target {
    std::shared_ptr<const DeployedProcess> process;
    const bpmn::Element* element = nullptr;
  };
  Target Resolve(const record::ProcessInstanceRecord& value);
  static bool IsBody(const tern::state::ElementInstance& instance);
  static bool IsInner(const tern::state::ElementInstance& instance) {
    return instance.multi_instance_loop_counter() > 0;
  }

  // --- Lifecycle (bpmn_processor.cc) ---------------------------------------------------------
  void Activate(const record::Record& command);
  void OnActivating(tern::state::ElementInstance instance, const Target& target);
  void OnActivatingRoot(tern::state::ElementInstance instance, const Target& target,
                        const std::vector<std::string>& start_element_ids);
  void Complete(int64_t key);
  void OnCompleting(tern::state::ElementInstance instance, const Target& target);
  void Terminate(int64_t key);
  void FinishTermination(tern::state::ElementInstance instance, const Target& target);
  void Cancel(const record::Record& command);

  tern::state::ElementInstance Transition(tern::state::ElementInstance instance,
                                          ProcessInstanceIntent intent);
  record::ProcessInstanceRecord ChildRecord(const tern::state::ElementInstance& scope,
                                            const bpmn::Element& element) const;
  // Writes ELEMENT_ACTIVATING for a new child now (so that variables or a trigger can be
  // attached to it) and continues its activation with a follow-up command.
  tern::state::ElementInstance BeginActivation(const tern::state::ElementInstance& scope,
                                               const bpmn::Element& element);
  void TakeSequenceFlow(const tern::state::ElementInstance& from, const DeployedProcess& process,
                        const bpmn::Element& flow, bool activate_target = true);
  void TakeOutgoingFlows(const tern::state::ElementInstance& completed, const Target& target);
  // After a child of `scope_key` completed or terminated: completes or terminates the scope
  // when nothing is left in it, or starts the event subprocess that interrupted it.
  void OnChildFinished(int64_t scope_key);
  void CompleteProcessInstance(const tern::state::ElementInstance& instance, const Target& target);
  void CompleteLater(const tern::state::ElementInstance& instance);

  bool ApplyInputMappings(const tern::state::ElementInstance& instance,
                          const bpmn::Element& element);
  // `consume_trigger` false leaves the completion trigger in place, so that the mappings can be
  // applied again if a later step of the completion fails before it finishes.
  bool ApplyOutputMappings(const tern::state::ElementInstance& instance,
                           const bpmn::Element& element, bool consume_trigger = true);
  // Opens the instance's event subscriptions; false after raising an incident.
  bool Subscribe(const tern::state::ElementInstance& instance, const Target& target,
                 std::vector<EventBehavior::Subscription>* prepared);
  void Unsubscribe(const tern::state::ElementInstance& instance, const bpmn::Element& element);

  // Runs the element's execution listeners of one phase, one job at a time: creates the job of
  // the first listener whose job has not completed yet. True when all have completed (the phase
  // goes on); false while a listener job is pending or after raising an incident.
  bool RunExecutionListeners(const tern::state::ElementInstance& instance, const Target& target,
                             bpmn::ListenerEventType event_type);
  // A job of the instance's element, not yet written; AppendJob writes it (JOB CREATED) and
  // offers it to waiting workers.
  record::JobRecord NewJob(const tern::state::ElementInstance& instance, const Target& target,
                           const std::string& type, int64_t retries,
                           std::string custom_headers) const;
  void AppendJob(record::JobRecord job);
  bool CreateJob(const tern::state::ElementInstance& instance, const Target& target,
                 const std::vector<EventBehavior::Subscription>& subscriptions);
  // Native user tasks (bpmn_user_tasks.cc): evaluates the task's expressions and writes
  // CREATING and CREATED; false after raising an incident (nothing written then).
  bool CreateUserTask(const tern::state::ElementInstance& instance, const Target& target,
                      const std::vector<EventBehavior::Subscription>& subscriptions);
  // The key of the deployed form a user task (native or job-based) links to with formId, by
  // its binding type; nullopt after raising a FORM_NOT_FOUND incident.
  std::optional<int64_t> LinkedFormKey(const tern::state::ElementInstance& instance,
                                       const Target& target);
  // CANCELING and CANCELED for the element's open user task, if it has one.
  void CancelUserTask(const tern::state::ElementInstance& instance);
  // The outgoing flow an exclusive gateway takes; nullptr after raising an incident.
  const bpmn::Element* ChooseExclusiveFlow(const tern::state::ElementInstance& instance,
                                           const Target& target);
  // The flows an inclusive gateway takes; empty after raising an incident.
  std::vector<const bpmn::Element*> ChooseInclusiveFlows(
      const tern::state::ElementInstance& instance, const Target& target);
  bool InclusiveJoinReady(const tern::state::ElementInstance& scope, const bpmn::Process& process,
                          const bpmn::Element& gateway);
  void ActivateReadyInclusiveJoins(const tern::state::ElementInstance& scope);

  void ActivateCallActivity(tern::state::ElementInstance instance, const Target& target);
  void OnCalledProcessFinished(const tern::state::ElementInstance& child_root, bool completed,
                               const std::string& child_variables);
  void EvaluateScript(tern::state::ElementInstance instance, const Target& target);
  void EvaluateDecision(tern::state::ElementInstance instance, const Target& target);
  bool RaiseIfChainTooLong(const tern::state::ElementInstance& instance);

  // --- Events (bpmn_events.cc) ---------------------------------------------------------------
  void StoreTrigger(int64_t scope_key, const bpmn::Element& target, int64_t event_key,
                    const std::string& variables_json, bool interrupting,
                    const tern::state::ElementInstance& scope);
  void ConsumeTrigger(int64_t event_key, const record::ProcessEventRecord& trigger);
  // Activates an element with an event's variables (boundary event, event subprocess start
  // event, event after an event-based gateway).
  void ActivateTriggered(const tern::state::ElementInstance& scope, const bpmn::Element& element,
                         int64_t event_key, const std::string& variables_json);
  void ActivateEventSubprocess(const tern::state::ElementInstance& scope,
                               const bpmn::Process& process, const bpmn::Element& start_event,
                               int64_t event_key, const std::string& variables_json);
  // Interrupts `scope` for an interrupting event subprocess: terminates its children, then the
  // event subprocess starts (OnChildFinished).
  void InterruptScope(const tern::state::ElementInstance& scope);
  // Throws an escalation; returns false when an interrupting catch event took over (the thrower
  // must not continue).
  bool ThrowEscalation(const tern::state::ElementInstance& thrower, const bpmn::Element& element,
                       const std::string& code);
  void ThrowSignal(const tern::state::ElementInstance& thrower, const bpmn::Element& element,
                   const std::string& name);
  // Starts the compensation handlers a compensation throw event asks for; false when there is
  // none to wait for.
  bool StartCompensation(const tern::state::ElementInstance& thrower, const Target& target);
  void OnCompensableCompleted(const tern::state::ElementInstance& instance, const Target& target);
  void OnCompensationHandlerCompleted(const tern::state::ElementInstance& handler);
  void CorrelateBufferedStartMessage(const std::string& bpmn_process_id,
                                     const std::string& correlation_key, const std::string& tenant);

  // --- Multi-instance (bpmn_multi_instance.cc) -----------------------------------------------
  void ActivateBody(tern::state::ElementInstance body, const Target& target);
  absl::StatusOr<std::vector<std::string>> InputCollection(const tern::state::ElementInstance& body,
                                                           const bpmn::Element& element);
  // Activates inner instances [from, to) of a body.
  void ActivateInner(const tern::state::ElementInstance& body, const Target& target,
                     const std::vector<std::string>& items, int64_t from, int64_t to);
  // Before an inner instance completes: its output element. False after an incident.
  bool CollectInnerOutput(const tern::state::ElementInstance& inner, const bpmn::Element& element,
                          bool* completion_condition_met);
  void OnInnerFinished(int64_t body_key, bool completion_condition_met);
  void CompleteBody(tern::state::ElementInstance body, const Target& target);

  ProcessingContext& context_;
  VariableBehavior& variables_;
  ExpressionBehavior& expressions_;
  IncidentBehavior& incidents_;
  JobBehavior& jobs_;
  EventBehavior& events_;
  DecisionBehavior* decisions_ = nullptr;
};

}  // namespace tern::engine
