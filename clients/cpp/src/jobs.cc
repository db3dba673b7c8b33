// ActivateJobs and StreamActivatedJobs as commands (the job worker has its own loop).

#include <condition_variable>

#include "core.h"

namespace tern {

using internal::ClientCore;
using internal::Deliver;
using internal::StreamReader;
using internal::SystemTime;
namespace gp = ::gateway_protocol;

// --- ActivateJobs ---------------------------------------------------------------------------

ActivateJobsCommand& ActivateJobsCommand::jobType(std::string type) {
  type_ = std::move(type);
  return *this;
}
ActivateJobsCommand& ActivateJobsCommand::maxJobsToActivate(int32_t max) {
  max_jobs_ = max;
  return *this;
}
ActivateJobsCommand& ActivateJobsCommand::timeout(std::chrono::milliseconds timeout) {
  job_timeout_ = timeout;
  return *this;
}
ActivateJobsCommand& ActivateJobsCommand::workerName(std::string name) {
  worker_ = std::move(name);
  return *this;
}
ActivateJobsCommand& ActivateJobsCommand::fetchVariables(std::vector<std::string> names) {
  fetch_variables_ = std::move(names);
  return *this;
}
ActivateJobsCommand& ActivateJobsCommand::tenantId(std::string tenant_id) {
  tenant_ids_.push_back(std::move(tenant_id));
  return *this;
}
ActivateJobsCommand& ActivateJobsCommand::tenantIds(std::vector<std::string> tenant_ids) {
  tenant_ids_ = std::move(tenant_ids);
  return *this;
}

namespace {

// One ActivateJobs call; retried like unary commands as long as no job arrived.
void ActivateOnce(std::shared_ptr<ClientCore> core,
                  std::shared_ptr<const gp::ActivateJobsRequest> request, SystemTime deadline,
                  int attempt, std::function<void(Result<ActivateJobsResponse>)> finish) {
  auto jobs = std::make_shared<std::vector<ActivatedJob>>();
  auto reader = StreamReader<gp::ActivateJobsResponse>::Make(
      core,
      [jobs](gp::ActivateJobsResponse& response) {
        for (auto& job : *response.mutable_jobs()) jobs->push_back(internal::ToActivatedJob(job));
        return true;
      },
      [core, request, deadline, attempt, jobs, finish](const Status& status) {
        if (!status.ok() && jobs->empty()) {
          if (internal::IsRetryable(status.code()) && attempt < core->config().retry.maxAttempts) {
            auto delay = core->RetryDelay(attempt);
            if (std::chrono::system_clock::now() + delay < deadline) {
              core->timer().PostAfter(delay, [core, request, deadline, attempt, finish] {
                ActivateOnce(core, request, deadline, attempt + 1, finish);
              });
              return;
            }
          }
          finish(status);
          return;
        }
        // Jobs that arrived are locked for us: hand them out even if the call ended badly.
        finish(ActivateJobsResponse{std::move(*jobs)});
      });
  reader->Start(&internal::Stub::async::ActivateJobs, *request, deadline);
}

}  // namespace

void ActivateJobsCommand::Dispatch(std::function<void(Result<ActivateJobsResponse>)> callback,
                                   CallbackThread thread) const {
  const auto& config = options_.core->config();
  auto request = std::make_shared<gp::ActivateJobsRequest>();
  request->set_type(type_);
  request->set_worker(worker_.value_or(config.job_worker_name));
  request->set_timeout(job_timeout_.value_or(config.job_timeout).count());
  request->set_maxjobstoactivate(max_jobs_);
  for (const auto& name : fetch_variables_) request->add_fetchvariable(name);
  auto long_poll = options_.timeout.value_or(config.request_timeout);
  request->set_requesttimeout(long_poll.count());
  if (!tenant_ids_.empty()) {
    for (const auto& tenant : tenant_ids_) request->add_tenantids(tenant);
  } else if (!config.tenant_id.empty()) {
    request->add_tenantids(config.tenant_id);
  }
  // The gateway may hold the call for the whole long poll; it then still needs time to answer.
  auto deadline = std::chrono::system_clock::now() +
                  std::max(long_poll, std::chrono::milliseconds(0)) + config.request_timeout;
  auto core = options_.core;
  auto observer = options_.observer;
  if (observer) observer->OnSend();
  ActivateOnce(core, request, deadline, 1,
               [core, observer, thread,
                callback = std::move(callback)](Result<ActivateJobsResponse> result) mutable {
                 if (observer) observer->OnDone(result.status());
                 Deliver<ActivateJobsResponse>(*core, thread, std::move(callback),
                                               std::move(result));
               });
}

// --- StreamActivatedJobs --------------------------------------------------------------------

namespace internal {

class JobStreamState {
 public:
  std::shared_ptr<StreamControl> control;
  std::mutex mu;
  std::condition_variable cv;
  bool cancelled = false;
  std::optional<Result<StreamJobsResponse>> result;
};

}  // namespace internal

StreamJobsCommand& StreamJobsCommand::jobType(std::string type) {
  type_ = std::move(type);
  return *this;
}
StreamJobsCommand& StreamJobsCommand::workerName(std::string name) {
  worker_ = std::move(name);
  return *this;
}
StreamJobsCommand& StreamJobsCommand::timeout(std::chrono::milliseconds timeout) {
  job_timeout_ = timeout;
  return *this;
}
StreamJobsCommand& StreamJobsCommand::fetchVariables(std::vector<std::string> names) {
  fetch_variables_ = std::move(names);
  return *this;
}
StreamJobsCommand& StreamJobsCommand::tenantId(std::string tenant_id) {
  tenant_ids_.push_back(std::move(tenant_id));
  return *this;
}
StreamJobsCommand& StreamJobsCommand::tenantIds(std::vector<std::string> tenant_ids) {
  tenant_ids_ = std::move(tenant_ids);
  return *this;
}
StreamJobsCommand& StreamJobsCommand::consumer(std::function<void(ActivatedJob)> consumer) {
  consumer_ = std::move(consumer);
  return *this;
}

JobStream StreamJobsCommand::send() const {
  const auto& config = core_->config();
  gp::StreamActivatedJobsRequest request;
  request.set_type(type_);
  request.set_worker(worker_.value_or(config.job_worker_name));
  request.set_timeout(job_timeout_.value_or(config.job_timeout).count());
  for (const auto& name : fetch_variables_) request.add_fetchvariable(name);
  if (!tenant_ids_.empty()) {
    for (const auto& tenant : tenant_ids_) request.add_tenantids(tenant);
  } else if (!config.tenant_id.empty()) {
    request.add_tenantids(config.tenant_id);
  }
  auto state = std::make_shared<internal::JobStreamState>();
  auto core = core_;
  auto consumer = consumer_;
  auto reader = StreamReader<gp::ActivatedJob>::Make(
      core,
      [core, consumer](gp::ActivatedJob& job) {
        if (consumer) {
          core->callbacks().Post([consumer, job = internal::ToActivatedJob(job)]() mutable {
            consumer(std::move(job));
          });
        }
        return true;
      },
      [state](const Status& status) {
        std::lock_guard lock(state->mu);
        if (status.ok() || (state->cancelled && status.code() == StatusCode::kCancelled)) {
          state->result.emplace(StreamJobsResponse{});
        } else {
          state->result.emplace(status);
        }
        state->cv.notify_all();
      });
  {
    std::lock_guard lock(state->mu);
    state->control = reader;
  }
  reader->Start(&internal::Stub::async::StreamActivatedJobs, request, std::nullopt);
  return JobStream(state);
}

JobStream::JobStream(std::shared_ptr<internal::JobStreamState> state) : state_(std::move(state)) {}
JobStream::JobStream(JobStream&&) noexcept = default;
JobStream& JobStream::operator=(JobStream&& other) noexcept {
  if (this != &other) {
    cancel();
    state_ = std::move(other.state_);
  }
  return *this;
}
JobStream::~JobStream() { cancel(); }

void JobStream::cancel() {
  if (!state_) return;
  std::shared_ptr<internal::StreamControl> control;
  {
    std::lock_guard lock(state_->mu);
    if (state_->result) return;
    state_->cancelled = true;
    control = state_->control;
  }
  if (control) control->Cancel();
}

Result<StreamJobsResponse> JobStream::get() {
  if (!state_) return Status(StatusCode::kFailedPrecondition, "moved-from JobStream");
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [&] { return state_->result.has_value(); });
  return *state_->result;
}

bool JobStream::waitFor(std::chrono::milliseconds timeout) {
  if (!state_) return true;
  std::unique_lock lock(state_->mu);
  return state_->cv.wait_for(lock, timeout, [&] { return state_->result.has_value(); });
}

}  // namespace tern
