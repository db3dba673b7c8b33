#include "engine/processing/behaviors.h"

#include <algorithm>

#include "base/strings.h"

namespace tern::engine {

void IncidentBehavior::RaiseElementIncident(const tern::state::ElementInstance& instance,
                                            std::string_view error_type, std::string message) {
  const auto& element = instance.record();
  record::IncidentRecord incident;
  incident.set_error_type(std::string(error_type));
  incident.set_error_message(std::move(message));
  incident.set_bpmn_process_id(element.bpmn_process_id());
  incident.set_process_definition_key(element.process_definition_key());
  incident.set_process_instance_key(element.process_instance_key());
  incident.set_element_id(element.element_id());
  incident.set_element_instance_key(instance.key());
  incident.set_variable_scope_key(instance.key());
  incident.set_tenant_id(element.tenant_id());
  context_.AppendEvent(context_.NextKey(), IncidentIntent::kCreated, std::move(incident));
}

void IncidentBehavior::RaiseJobIncident(int64_t job_key, const record::JobRecord& job,
                                        std::string_view error_type, std::string message) {
  record::IncidentRecord incident;
  incident.set_error_type(std::string(error_type));
  incident.set_error_message(std::move(message));
  incident.set_bpmn_process_id(job.bpmn_process_id());
  incident.set_process_definition_key(job.process_definition_key());
  incident.set_process_instance_key(job.process_instance_key());
  incident.set_element_id(job.element_id());
  incident.set_element_instance_key(job.element_instance_key());
  incident.set_job_key(job_key);
  incident.set_variable_scope_key(job.element_instance_key());
  incident.set_tenant_id(job.tenant_id());
  context_.AppendEvent(context_.NextKey(), IncidentIntent::kCreated, std::move(incident));
}

void IncidentBehavior::ResolveIncidentsOf(int64_t element_instance_key, int64_t job_key) {
  auto& incidents = context_.state().incidents;
  if (auto key = incidents.KeyForElementInstance(element_instance_key)) {
    auto incident = incidents.Get(*key);
    TERN_CHECK(incident.has_value());
    context_.AppendEvent(*key, IncidentIntent::kResolved, incident->record());
  }
  if (job_key > 0) {
    if (auto key = incidents.KeyForJob(job_key)) {
      auto incident = incidents.Get(*key);
      TERN_CHECK(incident.has_value());
      context_.AppendEvent(*key, IncidentIntent::kResolved, incident->record());
    }
  }
}

record::JobRecord JobBehavior::ForWorker(int64_t job_key, const record::JobRecord& stored,
                                         std::string_view worker, int64_t deadline,
                                         const std::vector<std::string>& fetch_variables) {
  (void)job_key;
  record::JobRecord job = stored;
  job.set_worker(std::string(worker));
  job.set_deadline(deadline);
  job.set_variables(variables_.CollectVisible(stored.element_instance_key(), fetch_variables));
  if (job.custom_headers().empty()) job.set_custom_headers("{}");
  return job;
}

namespace {

// What an ActivatedJob adds to a response beyond the job record's own bytes (field tags and
// lengths, the key); generous so the estimate stays an upper bound.
constexpr int64_t kActivatedJobOverheadBytes = 256;
// Room kept in a message for the response's framing and the gRPC message header.
constexpr int64_t kMessageHeadroomBytes = 16 * 1024;

std::string DescribeBytes(int64_t bytes) {
  constexpr int64_t kMiB = int64_t{1} << 20;
  if (bytes % kMiB == 0) return tern::StrCat(bytes / kMiB, " MB");
  return tern::StrCat(bytes, " bytes");
}

}  // namespace

int64_t JobBehavior::ActivatedJobBytes(const record::JobRecord& activated) {
  return static_cast<int64_t>(activated.ByteSizeLong()) + kActivatedJobOverheadBytes;
}

int64_t JobBehavior::MaxActivationBytes() const {
  return std::max<int64_t>(kMessageHeadroomBytes,
                           context_.config().max_message_bytes - kMessageHeadroomBytes);
}

void JobBehavior::RaiseMessageSizeExceeded(int64_t job_key, const record::JobRecord& stored) {
  IncidentBehavior incidents(context_);
  incidents.RaiseJobIncident(
      job_key, stored, kMessageSizeExceeded,
      tern::StrCat("The job with key '", job_key,
                   "' can not be activated because it is larger than the configured message "
                   "size (",
                   DescribeBytes(context_.config().max_message_bytes),
                   "). Try to reduce the size by reducing the number of fetched variables or "
                   "modifying the variable values."));
}

void JobBehavior::OnActivatable(int64_t job_key) {
  auto job = context_.state().jobs.Get(job_key);
  TERN_CHECK(job.has_value() && job->state() == tern::state::JobState::ACTIVATABLE);
  const auto& stored = job->record();
  JobStreamRegistry* streams = context_.job_streams();
  std::optional<JobStreamRegistry::Stream> stream;
  if (streams != nullptr) stream = streams->Pick(stored.type(), stored.tenant_id());
  if (!stream) {
    context_.NotifyJobsAvailable(stored.type());
    return;
  }
  int64_t deadline = context_.timestamp() + stream->timeout_ms;
  record::JobRecord activated =
      ForWorker(job_key, stored, stream->worker, deadline, stream->fetch_variables);
  if (ActivatedJobBytes(activated) > MaxActivationBytes()) {
    // The stream could never receive it; polling workers would not fit it either.
    RaiseMessageSizeExceeded(job_key, stored);
    return;
  }

  record::JobBatchRecord batch;
  batch.set_type(stored.type());
  batch.set_worker(stream->worker);
  batch.set_timeout(stream->timeout_ms);
  batch.set_max_jobs_to_activate(1);
  batch.add_job_keys(job_key);
  record::JobRecord* logged = batch.add_jobs();
  *logged = activated;
  // The log keeps the activation, not a copy of the variables.
  logged->clear_variables();
  context_.AppendEvent(context_.NextKey(), JobBatchIntent::kActivated, std::move(batch));
  context_.PushJob(PushedJob{stream->stream_id, job_key, std::move(activated)});
}

}  // namespace tern::engine
