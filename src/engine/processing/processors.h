#pragma once

// Command processors other than BPMN element execution: deployments, instance creation, jobs,
// job activation, variable documents and incidents. Each validates a command against state and
// either rejects it or writes events (and answers the request).

#include "engine/processing/behaviors.h"
#include "engine/processing/bpmn_processor.h"
#include "engine/processing/context.h"
#include "engine/processing/decisions.h"
#include "engine/processing/events.h"
#include "engine/processing/variables.h"

namespace tern::engine {

// Deployments, and their distribution: partition 1 deploys, then hands the deployment to every
// other partition (DEPLOYMENT DISTRIBUTE), which stores the same process definitions under the
// same keys and acknowledges (COMMAND_DISTRIBUTION ACKNOWLEDGE). Unacknowledged distributions
// stay pending in state and are sent again until acknowledged.
class DeploymentProcessor {
 public:
  DeploymentProcessor(ProcessingContext& context, EventBehavior& events,
                      DecisionBehavior& decisions)
      : context_(context), events_(events), decisions_(decisions) {}
  void Process(const record::Record& command);
  // DEPLOYMENT DISTRIBUTE, on a partition other than 1.
  void ProcessDistributed(const record::Record& command);
  // COMMAND_DISTRIBUTION ACKNOWLEDGE, on partition 1.
  void ProcessAcknowledge(const record::Record& command);

 private:
  // Start events follow the latest version of a process: the previous version's subscriptions
  // close and the new version's open (timers only where the deployment was created).
  void MoveStartEvents(const record::ProcessRecord& created, bool with_timers);
  // Problems with timer definitions and start-event names that can be checked before any
  // instance runs (static timers: R/PT0S, negative durations, dates out of range).
  void CheckTimers(const bpmn::Process& process, std::string_view resource_name,
                   std::vector<std::string>& errors);

  ProcessingContext& context_;
  EventBehavior& events_;
  DecisionBehavior& decisions_;
};

// The DEPLOYMENT DISTRIBUTE command partition 1 sends to `target`.
record::Record DistributionCommand(const record::CommandDistributionRecord& pending,
                                   int64_t distribution_key, int32_t source_partition);

class CreationProcessor {
 public:
  CreationProcessor(ProcessingContext& context, BpmnProcessor& bpmn)
      : context_(context), bpmn_(bpmn) {}
  void Process(const record::Record& command);

 private:
  ProcessingContext& context_;
  BpmnProcessor& bpmn_;
};

class JobProcessor {
 public:
  JobProcessor(ProcessingContext& context, VariableBehavior& variables, IncidentBehavior& incidents,
               JobBehavior& jobs, BpmnProcessor& bpmn)
      : context_(context), variables_(variables), incidents_(incidents), jobs_(jobs), bpmn_(bpmn) {}
  void Process(const record::Record& command);
  // JOB_BATCH ACTIVATE.
  void Activate(const record::Record& command);

 private:
  void Complete(const record::Record& command, tern::state::JobState job);
  void Fail(const record::Record& command, tern::state::JobState job);
  void ThrowError(const record::Record& command, tern::state::JobState job);
  void UpdateRetries(const record::Record& command, tern::state::JobState job);
  void UpdateTimeout(const record::Record& command, tern::state::JobState job);
  void TimeOut(const record::Record& command, tern::state::JobState job);
  void RecurAfterBackoff(const record::Record& command, tern::state::JobState job);
  void Yield(const record::Record& command, tern::state::JobState job);

  ProcessingContext& context_;
  VariableBehavior& variables_;
  IncidentBehavior& incidents_;
  JobBehavior& jobs_;
  BpmnProcessor& bpmn_;
};

class VariableDocumentProcessor {
 public:
  VariableDocumentProcessor(ProcessingContext& context, VariableBehavior& variables)
      : context_(context), variables_(variables) {}
  void Process(const record::Record& command);

 private:
  ProcessingContext& context_;
  VariableBehavior& variables_;
};

class IncidentProcessor {
 public:
  IncidentProcessor(ProcessingContext& context, IncidentBehavior& incidents, JobBehavior& jobs,
                    BpmnProcessor& bpmn)
      : context_(context), incidents_(incidents), jobs_(jobs), bpmn_(bpmn) {}
  void Process(const record::Record& command);

 private:
  ProcessingContext& context_;
  IncidentBehavior& incidents_;
  JobBehavior& jobs_;
  BpmnProcessor& bpmn_;
};

}  // namespace tern::engine
