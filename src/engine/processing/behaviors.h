#pragma once

// Behaviours shared by several processors: incidents, and what happens when a job becomes
// activatable (it goes to a job stream if one is open, otherwise long-polling requests are
// told that jobs of its type are available).

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/processing/context.h"
#include "engine/processing/variables.h"

namespace tern::engine {

// Zeebe's incident error types.
inline constexpr std::string_view kIoMappingError = "IO_MAPPING_ERROR";
inline constexpr std::string_view kExtractValueError = "EXTRACT_VALUE_ERROR";
inline constexpr std::string_view kConditionError = "CONDITION_ERROR";
inline constexpr std::string_view kJobNoRetries = "JOB_NO_RETRIES";
inline constexpr std::string_view kExecutionListenerNoRetries = "EXECUTION_LISTENER_NO_RETRIES";
inline constexpr std::string_view kUnhandledErrorEvent = "UNHANDLED_ERROR_EVENT";
inline constexpr std::string_view kMessageSizeExceeded = "MESSAGE_SIZE_EXCEEDED";
inline constexpr std::string_view kFormNotFound = "FORM_NOT_FOUND";

class IncidentBehavior {
 public:
  explicit IncidentBehavior(ProcessingContext& context) : context_(context) {}
  // Raises an incident on an element instance (the instance stays in its current lifecycle
  // state until the incident is resolved).
  void RaiseElementIncident(const tern::state::ElementInstance& instance,
                            std::string_view error_type, std::string message);
  // Raises an incident for a job (no retries left, unhandled error).
  void RaiseJobIncident(int64_t job_key, const record::JobRecord& job, std::string_view error_type,
                        std::string message);
  // Resolves every incident of an element instance and of its job (used on termination).
  void ResolveIncidentsOf(int64_t element_instance_key, int64_t job_key);

 private:
  ProcessingContext& context_;
};

class JobBehavior {
 public:
  JobBehavior(ProcessingContext& context, VariableBehavior& variables)
      : context_(context), variables_(variables) {}
  // Called after an event made the job activatable. Pushes it to an open job stream (writing
  // the activation) or announces its type to long-polling requests.
  void OnActivatable(int64_t job_key);
  // Builds the job as a worker receives it: with deadline, worker and variables.
  record::JobRecord ForWorker(int64_t job_key, const record::JobRecord& stored,
                              std::string_view worker, int64_t deadline,
                              const std::vector<std::string>& fetch_variables);

  // An upper bound of the bytes `activated` (from ForWorker) takes in an ActivateJobsResponse
  // or a pushed ActivatedJob.
  static int64_t ActivatedJobBytes(const record::JobRecord& activated);
  // The bytes of activated jobs that fit in one gateway message (EngineConfig's
  // max_message_bytes less room for the response's own framing).
  int64_t MaxActivationBytes() const;
  // For a job that cannot fit in any message with the variables it would carry: raises a
  // MESSAGE_SIZE_EXCEEDED incident naming the limit (as Zeebe does). The incident takes the
  // job out of activation until it is resolved, so it never blocks its type's other jobs.
  void RaiseMessageSizeExceeded(int64_t job_key, const record::JobRecord& stored);

 private:
  ProcessingContext& context_;
  VariableBehavior& variables_;
};

}  // namespace tern::engine
