#pragma once

// Deployment rules (internal to the bpmn module; ParseBpmn runs them).
//
// ValidateModel checks what Zeebe's deployment validators check (bpmn-model's
// validation/zeebe/*Validator.java and the engine's deployment validators), so that a model
// Zeebe rejects is rejected here too, with a message naming each offending element, its kind
// and its line. CheckSupport then rejects what Zeebe would run but Tern cannot yet (support.h).
// Both only look at executable processes: Zeebe neither deploys nor runs the others.

#include "bpmn/builder.h"
#include "bpmn/problems.h"

namespace tern::bpmn {

void ValidateModel(const BuildOutput& built, Problems& problems);
void CheckSupport(const BuildOutput& built, Problems& problems);

}  // namespace tern::bpmn
