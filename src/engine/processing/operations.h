#pragma once

// Operations on running instances and deployed resources: ModifyProcessInstance,
// MigrateProcessInstance and DeleteResource.

#include "engine/processing/bpmn_processor.h"
#include "engine/processing/context.h"
#include "engine/processing/events.h"

namespace tern::engine {

class ModificationProcessor {
 public:
  ModificationProcessor(ProcessingContext& context, BpmnProcessor& bpmn,
                        VariableBehavior& variables)
      : context_(context), bpmn_(bpmn), variables_(variables) {}
  void Modify(const record::Record& command);

 private:
  ProcessingContext& context_;
  BpmnProcessor& bpmn_;
  VariableBehavior& variables_;
};

class MigrationProcessor {
 public:
  explicit MigrationProcessor(ProcessingContext& context) : context_(context) {}
  void Migrate(const record::Record& command);

 private:
  ProcessingContext& context_;
};

class ResourceDeletionProcessor {
 public:
  ResourceDeletionProcessor(ProcessingContext& context, EventBehavior& events)
      : context_(context), events_(events) {}
  void Delete(const record::Record& command);

 private:
  ProcessingContext& context_;
  EventBehavior& events_;
};

}  // namespace tern::engine
