#pragma once

// Commands on native user tasks (zeebe:userTask), as Zeebe 8.6 processes them: ASSIGN, CLAIM,
// UPDATE and COMPLETE. Each checks that the task exists (NOT_FOUND) and is CREATED, i.e. no
// other command is in progress on it (INVALID_STATE), then writes its two events (ASSIGNING and
// ASSIGNED, ...) and answers with the second. COMPLETE also puts the variables on the element
// (as a job completion does) and completes the element. The element side (creating the task,
// cancelling it with its element) is in BpmnProcessor (bpmn_user_tasks.cc).
//
// Threading: the partition thread, like every processor.

#include "engine/processing/context.h"
#include "engine/processing/variables.h"

namespace tern::engine {

class UserTaskProcessor {
 public:
  UserTaskProcessor(ProcessingContext& context, VariableBehavior& variables)
      : context_(context), variables_(variables) {}
  // USER_TASK commands from clients.
  void Process(const record::Record& command);

 private:
  void Assign(const record::Record& command, record::UserTaskRecord task, bool claim);
  void Update(const record::Record& command, record::UserTaskRecord task);
  void Complete(const record::Record& command, record::UserTaskRecord task);

  ProcessingContext& context_;
  VariableBehavior& variables_;
};

}  // namespace tern::engine
