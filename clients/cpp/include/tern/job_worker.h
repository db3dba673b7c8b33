#pragma once

// The job worker: activates jobs of one type and runs a handler for each, the way Zeebe's Java
// JobWorker does.
//
//   auto worker = client.newWorker()
//                     .jobType("check-credit")
//                     .handler([](const tern::ActivatedJob& job, tern::JobClient& client) {
//                       client.newCompleteCommand(job).variable("approved", true).send();
//                     })
//                     .open();
//
// Jobs come from long-polling ActivateJobs calls, and with streamEnabled(true) also from a
// StreamActivatedJobs stream (polling then only drains jobs that were waiting before the stream
// opened, and takes over while the stream is down). At most maxJobsActive jobs are held at once;
// handlers run on `concurrency` threads. Errors of the gateway (UNAVAILABLE while a broker
// restarts, RESOURCE_EXHAUSTED under back-pressure, ...) delay the next poll by the backoff.
//
// What happens to a job after its handler:
//   - the handler completed, failed or threw an error through the JobClient: nothing more;
//   - the handler threw tern::BpmnError: the worker throws that BPMN error for the job;
//   - the handler threw any other exception: the job is failed with the exception's message
//     and one retry fewer (after failRetryBackoff);
//   - the handler returned without answering and autoComplete(true) is set, or the handler is
//     a JobFunction: the job is completed (with the JobFunction's variables);
//   - otherwise the job is left alone until its timeout.
//
// close() is graceful: it stops activating, hands jobs that were received but not started back
// to the gateway (FailJob with unchanged retries), waits for running handlers and the commands
// they sent, and returns only when no handler runs or will run.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

#include "tern/commands.h"
#include "tern/status.h"
#include "tern/types.h"

namespace tern {

class Client;

namespace internal {
class ClientCore;
class WorkerState;
}  // namespace internal

// Throw from a handler to throw a BPMN error for the job (caught by an error boundary event).
class BpmnError : public std::runtime_error {
 public:
  BpmnError(std::string error_code, const std::string& message, nlohmann::json variables = nullptr)
      : std::runtime_error(message),
        error_code_(std::move(error_code)),
        variables_(std::move(variables)) {}
  const std::string& errorCode() const { return error_code_; }
  const nlohmann::json& variables() const { return variables_; }

 private:
  std::string error_code_;
  nlohmann::json variables_;
};

// What a handler answers a job with. It hands out the client's commands; the ones that finish
// a job (complete, fail, throw error) are counted by the worker and tell it that the handler
// answered, so auto-complete does not complete the job a second time.
class JobClient {
 public:
  CompleteJobCommand newCompleteCommand(int64_t job_key);
  CompleteJobCommand newCompleteCommand(const ActivatedJob& job) {
    return newCompleteCommand(job.key);
  }
  FailJobCommand newFailCommand(int64_t job_key);
  FailJobCommand newFailCommand(const ActivatedJob& job) { return newFailCommand(job.key); }
  ThrowErrorCommand newThrowErrorCommand(int64_t job_key);
  ThrowErrorCommand newThrowErrorCommand(const ActivatedJob& job) {
    return newThrowErrorCommand(job.key);
  }
  UpdateRetriesJobCommand newUpdateRetriesCommand(int64_t job_key);
  UpdateTimeoutJobCommand newUpdateTimeoutCommand(int64_t job_key);
  SetVariablesCommand newSetVariablesCommand(int64_t element_instance_key);

  // The full client, for anything else.
  Client client() const;

 private:
  friend class internal::WorkerState;
  JobClient(std::shared_ptr<internal::ClientCore> core, std::shared_ptr<internal::WorkerState> w)
      : core_(std::move(core)), worker_(std::move(w)) {}
  std::shared_ptr<internal::ClientCore> core_;
  std::shared_ptr<internal::WorkerState> worker_;
  bool answered_ = false;
};

// Handles one job; answers it through the JobClient (or throws).
using JobHandler = std::function<void(const ActivatedJob& job, JobClient& client)>;
// Handles one job and returns the variables to complete it with (an object, or null for none).
using JobFunction = std::function<nlohmann::json(const ActivatedJob& job)>;

// Delay before the next poll after a failed one, given the previous delay (0 after a success).
using BackoffSupplier = std::function<std::chrono::milliseconds(std::chrono::milliseconds)>;

// Exponential backoff with jitter: max(min_delay, previous * factor), capped at max_delay, then
// moved randomly by up to +/- jitter (a fraction) of itself.
BackoffSupplier ExponentialBackoff(
    std::chrono::milliseconds min_delay = std::chrono::milliseconds(50),
    std::chrono::milliseconds max_delay = std::chrono::seconds(5), double factor = 1.6,
    double jitter = 0.1);

// Counters since the worker opened.
struct JobWorkerMetrics {
  int64_t jobsActivated = 0;      // jobs received from polls and the stream
  int64_t jobsHandled = 0;        // handler invocations that returned or threw
  int64_t jobsCompleted = 0;      // CompleteJob answered OK
  int64_t jobsFailed = 0;         // FailJob answered OK (handler exceptions included)
  int64_t jobsErrorThrown = 0;    // ThrowError answered OK
  int64_t jobsGivenBack = 0;      // received but not started before close()
  int64_t handlerExceptions = 0;  // handlers that threw (BpmnError excluded)
  int64_t commandErrors = 0;      // complete/fail/throw-error commands that failed
  int64_t polls = 0;              // ActivateJobs calls started
  int64_t pollErrors = 0;         // ActivateJobs calls that failed
  int64_t streamsOpened = 0;      // StreamActivatedJobs calls started
};

class JobWorker {
 public:
  JobWorker(JobWorker&&) noexcept;
  JobWorker& operator=(JobWorker&&) noexcept;
  // Closes the worker (graceful, see close()).
  ~JobWorker();

  // Stops the worker gracefully; returns when no handler runs. Idempotent. From inside a
  // handler it only starts the shutdown (a handler cannot wait for itself).
  void close();
  bool isOpen() const;
  bool isClosed() const { return !isOpen(); }
  JobWorkerMetrics metrics() const;

 private:
  friend class JobWorkerBuilder;
  explicit JobWorker(std::shared_ptr<internal::WorkerState> state);
  std::shared_ptr<internal::WorkerState> state_;
};

class JobWorkerBuilder {
 public:
  JobWorkerBuilder& jobType(std::string type);
  JobWorkerBuilder& handler(JobHandler handler);
  // A handler whose return value completes the job (implies auto-complete).
  JobWorkerBuilder& handler(JobFunction function);
  // The worker name the gateway records on activated jobs (default: the client's).
  JobWorkerBuilder& name(std::string name);
  // How long an activated job stays locked to this worker (default: the client's job timeout).
  JobWorkerBuilder& timeout(std::chrono::milliseconds timeout);
  // At most this many jobs received and not finished at once (default 32).
  JobWorkerBuilder& maxJobsActive(int32_t max);
  // Handler threads (default 1).
  JobWorkerBuilder& concurrency(int32_t threads);
  // Wait between polls that found no job (default: the client's, 100 ms).
  JobWorkerBuilder& pollInterval(std::chrono::milliseconds interval);
  // Long-polling timeout of each ActivateJobs call (default: the client's request timeout).
  JobWorkerBuilder& requestTimeout(std::chrono::milliseconds timeout);
  JobWorkerBuilder& fetchVariables(std::vector<std::string> names);
  JobWorkerBuilder& tenantIds(std::vector<std::string> tenant_ids);
  // Also receive jobs through StreamActivatedJobs (default off). If the gateway does not
  // implement it, the worker falls back to polling alone.
  JobWorkerBuilder& streamEnabled(bool enabled);
  // Completes the job when a JobHandler returns without answering it (default off).
  JobWorkerBuilder& autoComplete(bool enabled);
  // Backoff of the FailJob sent when a handler throws (default 0).
  JobWorkerBuilder& failRetryBackoff(std::chrono::milliseconds backoff);
  // Delay after failed polls and failed streams (default ExponentialBackoff()).
  JobWorkerBuilder& backoff(BackoffSupplier supplier);
  // Jobs are polled again when fewer than this fraction of maxJobsActive are held (default
  // 0.3, as Zeebe's worker; 1.0 polls as soon as one slot is free).
  JobWorkerBuilder& activationThreshold(double fraction);

  // Starts the worker. INVALID_ARGUMENT when the job type or the handler is missing, or a number
  // is out of range.
  Result<JobWorker> open();

 private:
  friend class Client;
  explicit JobWorkerBuilder(std::shared_ptr<internal::ClientCore> core);
  std::shared_ptr<internal::ClientCore> core_;
  std::string type_;
  JobHandler handler_;
  JobFunction function_;
  std::string name_;
  std::chrono::milliseconds timeout_{0};
  int32_t max_jobs_active_ = 32;
  int32_t concurrency_ = 1;
  std::chrono::milliseconds poll_interval_{0};
  std::chrono::milliseconds request_timeout_{0};
  std::vector<std::string> fetch_variables_;
  std::vector<std::string> tenant_ids_;
  bool stream_enabled_ = false;
  bool auto_complete_ = false;
  std::chrono::milliseconds fail_retry_backoff_{0};
  BackoffSupplier backoff_;
  double activation_threshold_ = 0.3;
};

}  // namespace tern
