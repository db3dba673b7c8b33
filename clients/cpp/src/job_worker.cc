#include "tern/job_worker.h"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <random>

#include "core.h"
#include "tern/client.h"

namespace tern {

namespace gp = ::gateway_protocol;
using internal::ClientCore;
using internal::StreamControl;
using internal::StreamReader;
using std::chrono::milliseconds;

BackoffSupplier ExponentialBackoff(milliseconds min_delay, milliseconds max_delay, double factor,
                                   double jitter) {
  auto random = std::make_shared<std::pair<std::mutex, std::mt19937_64>>();
  random->second.seed(std::random_device{}());
  return [=](milliseconds previous) {
    double next = std::max(static_cast<double>(min_delay.count()),
                           static_cast<double>(previous.count()) * factor);
    next = std::min(next, static_cast<double>(max_delay.count()));
    double offset;
    {
      std::lock_guard lock(random->first);
      offset = std::uniform_real_distribution<double>(-jitter, jitter)(random->second);
    }
    return milliseconds(static_cast<int64_t>(std::max(0.0, next + next * offset)));
  };
}

namespace internal {

// Settings of one worker, fixed at open().
struct WorkerSettings {
  std::string type;
  JobHandler handler;
  JobFunction function;
  std::string name;
  milliseconds job_timeout{0};
  int32_t max_jobs_active = 32;
  int32_t concurrency = 1;
  milliseconds poll_interval{0};
  milliseconds request_timeout{0};
  std::vector<std::string> fetch_variables;
  std::vector<std::string> tenant_ids;
  bool stream_enabled = false;
  bool auto_complete = false;
  milliseconds fail_retry_backoff{0};
  BackoffSupplier backoff;
  int32_t activation_threshold = 0;  // poll when at most this many jobs are held
};

// The state of a running worker. Owned by the JobWorker handle and, while they run, by its
// calls, timers and handler tasks. Polls and streams call in on gRPC threads, timers on the
// client's timer thread, handlers run on the worker's own pool. Everything below mu_ is guarded
// by it, and nothing calls into gRPC while holding it (gRPC may run callbacks inline at the end
// of a call, and they take mu_): decisions are made under the lock, calls made after it.
class WorkerState : public std::enable_shared_from_this<WorkerState> {
 public:
  enum class Outcome { kComplete, kFail, kThrowError, kGiveBack };

  WorkerState(std::shared_ptr<ClientCore> core, WorkerSettings settings)
      : core_(std::move(core)),
        settings_(std::move(settings)),
        handlers_(std::make_unique<TaskRunner>(settings_.concurrency, "tern-worker")) {}

  void Start() {
    Actions actions;
    {
      std::lock_guard lock(mu_);
      if (settings_.stream_enabled) OpenStreamLocked(actions);
      MaybePollLocked(actions);
    }
    Run(actions);
  }

  void Close();
  bool IsOpen() {
    std::lock_guard lock(mu_);
    return !closing_;
  }
  JobWorkerMetrics Metrics() {
    std::lock_guard lock(mu_);
    return metrics_;
  }

  // Counts a command that answers a job (sent by a handler through its JobClient, or by the
  // worker itself).
  std::shared_ptr<CommandObserver> Observer(Outcome outcome);

 private:
  class CountingObserver;
  // gRPC calls decided under mu_, made after it is released.
  using Actions = std::vector<std::function<void()>>;
  static void Run(Actions& actions) {
    for (auto& action : actions) action();
    actions.clear();
  }

  void MaybePollLocked(Actions& actions);
  void SchedulePollLocked(milliseconds delay);
  void OnPollDone(const Status& status, bool got_jobs);

  void OpenStreamLocked(Actions& actions);
  void OnStreamDone(const Status& status);

  // A job arrived (from a poll, or the stream); returns whether the worker has room for more.
  // A stream without room is paused here, under the same lock a finishing handler resumes it
  // under, so that no resume is lost.
  bool Accept(ActivatedJob job, bool from_stream);
  void Handle(const ActivatedJob& job);
  void Finished();
  void Answer(const ActivatedJob& job, Outcome outcome, std::optional<nlohmann::json> variables,
              std::string error_code, std::string message);

  std::shared_ptr<ClientCore> core_;
  const WorkerSettings settings_;
  std::unique_ptr<TaskRunner> handlers_;

  std::mutex mu_;
  std::condition_variable idle_cv_;
  bool closing_ = false;
  bool closed_ = false;
  int32_t active_ = 0;            // jobs received whose handler has not finished
  int32_t pending_commands_ = 0;  // commands sent for jobs and not yet answered
  JobWorkerMetrics metrics_;

  bool poll_in_flight_ = false;
  uint64_t poll_timer_ = 0;  // id of the scheduled poll, 0 = none
  milliseconds poll_backoff_{0};
  std::shared_ptr<StreamControl> poll_control_;

  bool stream_open_ = false;
  bool stream_disabled_ = false;
  bool stream_paused_ = false;
  uint64_t stream_timer_ = 0;
  milliseconds stream_backoff_{0};
  std::shared_ptr<StreamControl> stream_control_;
};

class WorkerState::CountingObserver : public CommandObserver {
 public:
  CountingObserver(std::shared_ptr<WorkerState> worker, Outcome outcome)
      : worker_(std::move(worker)), outcome_(outcome) {}
  void OnSend() override {
    std::lock_guard lock(worker_->mu_);
    ++worker_->pending_commands_;
  }
  void OnDone(const Status& status) override {
    std::lock_guard lock(worker_->mu_);
    --worker_->pending_commands_;
    auto& m = worker_->metrics_;
    if (!status.ok()) {
      ++m.commandErrors;
    } else if (outcome_ == Outcome::kComplete) {
      ++m.jobsCompleted;
    } else if (outcome_ == Outcome::kFail) {
      ++m.jobsFailed;
    } else if (outcome_ == Outcome::kThrowError) {
      ++m.jobsErrorThrown;
    }
    worker_->idle_cv_.notify_all();
  }

 private:
  std::shared_ptr<WorkerState> worker_;
  Outcome outcome_;
};

std::shared_ptr<CommandObserver> WorkerState::Observer(Outcome outcome) {
  return std::make_shared<CountingObserver>(shared_from_this(), outcome);
}

void WorkerState::MaybePollLocked(Actions& actions) {
  if (closing_ || poll_in_flight_ || poll_timer_ != 0) return;
  if (active_ > settings_.activation_threshold || active_ >= settings_.max_jobs_active) return;

  gp::ActivateJobsRequest request;
  request.set_type(settings_.type);
  request.set_worker(settings_.name);
  request.set_timeout(settings_.job_timeout.count());
  request.set_maxjobstoactivate(settings_.max_jobs_active - active_);
  for (const auto& name : settings_.fetch_variables) request.add_fetchvariable(name);
  request.set_requesttimeout(settings_.request_timeout.count());
  for (const auto& tenant : settings_.tenant_ids) request.add_tenantids(tenant);
  // The gateway may hold the call for the whole long poll and then needs time to answer.
  auto deadline = std::chrono::system_clock::now() +
                  std::max(settings_.request_timeout, milliseconds(0)) +
                  core_->config().request_timeout;
  auto self = shared_from_this();
  auto got_jobs = std::make_shared<bool>(false);
  auto reader = StreamReader<gp::ActivateJobsResponse>::Make(
      core_,
      [self, got_jobs](gp::ActivateJobsResponse& response) {
        for (auto& job : *response.mutable_jobs()) {
          *got_jobs = true;
          self->Accept(ToActivatedJob(job), false);
        }
        return true;
      },
      [self, got_jobs](const Status& status) { self->OnPollDone(status, *got_jobs); });
  poll_in_flight_ = true;
  poll_control_ = reader;
  ++metrics_.polls;
  actions.push_back([reader, request = std::move(request), deadline] {
    reader->Start(&Stub::async::ActivateJobs, request, deadline);
  });
}

void WorkerState::SchedulePollLocked(milliseconds delay) {
  if (closing_ || poll_timer_ != 0) return;
  auto self = shared_from_this();
  poll_timer_ = core_->timer().PostAfter(delay, [self] {
    Actions actions;
    {
      std::lock_guard lock(self->mu_);
      self->poll_timer_ = 0;
      self->MaybePollLocked(actions);
    }
    Run(actions);
  });
}

void WorkerState::OnPollDone(const Status& status, bool got_jobs) {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    poll_in_flight_ = false;
    poll_control_.reset();
    if (closing_) {
      idle_cv_.notify_all();
      return;
    }
    if (!status.ok() && !got_jobs) {
      ++metrics_.pollErrors;
      poll_backoff_ = settings_.backoff(poll_backoff_);
      SchedulePollLocked(poll_backoff_);
      return;
    }
    poll_backoff_ = milliseconds(0);
    if (got_jobs) {
      MaybePollLocked(actions);  // more may be waiting; else a finishing handler polls
    } else {
      SchedulePollLocked(settings_.poll_interval);
    }
  }
  Run(actions);
}

void WorkerState::OpenStreamLocked(Actions& actions) {
  if (closing_ || stream_open_ || stream_disabled_ || stream_timer_ != 0) return;
  gp::StreamActivatedJobsRequest request;
  request.set_type(settings_.type);
  request.set_worker(settings_.name);
  request.set_timeout(settings_.job_timeout.count());
  for (const auto& name : settings_.fetch_variables) request.add_fetchvariable(name);
  for (const auto& tenant : settings_.tenant_ids) request.add_tenantids(tenant);
  auto self = shared_from_this();
  auto reader = StreamReader<gp::ActivatedJob>::Make(
      core_, [self](gp::ActivatedJob& job) { return self->Accept(ToActivatedJob(job), true); },
      [self](const Status& status) { self->OnStreamDone(status); });
  stream_open_ = true;
  stream_paused_ = false;
  stream_control_ = reader;
  ++metrics_.streamsOpened;
  actions.push_back([reader, request = std::move(request)] {
    reader->Start(&Stub::async::StreamActivatedJobs, request, std::nullopt);
  });
}

void WorkerState::OnStreamDone(const Status& status) {
  std::lock_guard lock(mu_);
  stream_open_ = false;
  stream_paused_ = false;
  stream_control_.reset();
  if (closing_) {
    idle_cv_.notify_all();
    return;
  }
  if (status.code() == StatusCode::kUnimplemented) {
    // An older gateway: polling alone from now on.
    stream_disabled_ = true;
    return;
  }
  stream_backoff_ = settings_.backoff(stream_backoff_);
  auto self = shared_from_this();
  stream_timer_ = core_->timer().PostAfter(stream_backoff_, [self] {
    Actions actions;
    {
      std::lock_guard lock(self->mu_);
      self->stream_timer_ = 0;
      self->OpenStreamLocked(actions);
    }
    Run(actions);
  });
}

bool WorkerState::Accept(ActivatedJob job, bool from_stream) {
  std::lock_guard lock(mu_);
  ++metrics_.jobsActivated;
  ++active_;
  auto self = shared_from_this();
  handlers_->Post([self, job = std::move(job)] {
    self->Handle(job);
    self->Finished();
  });
  bool room = active_ < settings_.max_jobs_active;
  if (from_stream) {
    stream_backoff_ = milliseconds(0);
    if (!room) stream_paused_ = true;
  }
  return room;
}

void WorkerState::Handle(const ActivatedJob& job) {
  bool give_back;
  {
    std::lock_guard lock(mu_);
    give_back = closing_;
    if (give_back) ++metrics_.jobsGivenBack;
  }
  if (give_back) {
    Answer(job, Outcome::kGiveBack, std::nullopt, "", "");
    return;
  }

  JobClient client(core_, shared_from_this());
  std::optional<nlohmann::json> result;
  std::optional<Outcome> outcome;
  std::string error_code;
  std::string message;
  try {
    if (settings_.function) {
      result = settings_.function(job);
      outcome = Outcome::kComplete;
    } else {
      settings_.handler(job, client);
      if (!client.answered_ && settings_.auto_complete) outcome = Outcome::kComplete;
    }
  } catch (const BpmnError& error) {
    outcome = Outcome::kThrowError;
    error_code = error.errorCode();
    message = error.what();
    if (!error.variables().is_null()) result = error.variables();
  } catch (const std::exception& error) {
    outcome = Outcome::kFail;
    message = error.what();
  } catch (...) {
    outcome = Outcome::kFail;
    message = "the job handler threw an exception that is not a std::exception";
  }
  {
    std::lock_guard lock(mu_);
    ++metrics_.jobsHandled;
    if (outcome == Outcome::kFail) ++metrics_.handlerExceptions;
  }
  if (outcome) Answer(job, *outcome, std::move(result), error_code, message);
}

void WorkerState::Answer(const ActivatedJob& job, Outcome outcome,
                         std::optional<nlohmann::json> variables, std::string error_code,
                         std::string message) {
  Client client(core_);
  auto ignore = [](auto) {};
  switch (outcome) {
    case Outcome::kComplete: {
      auto command = client.newCompleteCommand(job.key);
      if (variables && !variables->is_null()) command.variables(std::move(*variables));
      command.options_.observer = Observer(outcome);
      command.send(ignore, CallbackThread::kGrpc);
      break;
    }
    case Outcome::kFail: {
      auto command = client.newFailCommand(job.key)
                         .retries(job.retries - 1)
                         .errorMessage(std::move(message))
                         .retryBackoff(settings_.fail_retry_backoff);
      command.options_.observer = Observer(outcome);
      command.send(ignore, CallbackThread::kGrpc);
      break;
    }
    case Outcome::kThrowError: {
      auto command = client.newThrowErrorCommand(job.key)
                         .errorCode(std::move(error_code))
                         .errorMessage(std::move(message));
      if (variables && !variables->is_null()) command.variables(std::move(*variables));
      command.options_.observer = Observer(outcome);
      command.send(ignore, CallbackThread::kGrpc);
      break;
    }
    case Outcome::kGiveBack: {
      // Unchanged retries and no backoff: the job can be activated again at once, as the
      // gateway does with jobs it could not deliver.
      auto command =
          client.newFailCommand(job.key)
              .retries(job.retries)
              .errorMessage("the job worker closed before it handled the job")
              .requestTimeout(std::min(core_->config().request_timeout, milliseconds(5000)));
      command.options_.observer = Observer(outcome);
      command.send(ignore, CallbackThread::kGrpc);
      break;
    }
  }
}

void WorkerState::Finished() {
  Actions actions;
  {
    std::lock_guard lock(mu_);
    --active_;
    if (!closing_) {
      MaybePollLocked(actions);
      if (stream_paused_ && active_ < settings_.max_jobs_active && stream_control_) {
        stream_paused_ = false;
        actions.push_back([control = stream_control_] { control->Resume(); });
      }
    }
    idle_cv_.notify_all();
  }
  Run(actions);
}

void WorkerState::Close() {
  std::unique_lock lock(mu_);
  if (closed_) return;
  closing_ = true;
  if (poll_timer_ != 0) {
    core_->timer().Cancel(poll_timer_);
    poll_timer_ = 0;
  }
  if (stream_timer_ != 0) {
    core_->timer().Cancel(stream_timer_);
    stream_timer_ = 0;
  }
  auto poll = poll_control_;
  auto stream = stream_control_;
  lock.unlock();
  if (poll) poll->Cancel();
  if (stream) stream->Cancel();
  // A handler cannot wait for itself; the JobWorker's destructor finishes the job.
  if (handlers_->OnRunnerThread()) return;
  lock.lock();
  idle_cv_.wait(lock, [&] {
    return !poll_in_flight_ && !stream_open_ && active_ == 0 && pending_commands_ == 0;
  });
  closed_ = true;
  lock.unlock();
  handlers_->Shutdown();
}

}  // namespace internal

// --- JobClient ------------------------------------------------------------------------------

using Outcome = internal::WorkerState::Outcome;

CompleteJobCommand JobClient::newCompleteCommand(int64_t job_key) {
  answered_ = true;
  CompleteJobCommand command = Client(core_).newCompleteCommand(job_key);
  command.options_.observer = worker_->Observer(Outcome::kComplete);
  return command;
}

FailJobCommand JobClient::newFailCommand(int64_t job_key) {
  answered_ = true;
  FailJobCommand command = Client(core_).newFailCommand(job_key);
  command.options_.observer = worker_->Observer(Outcome::kFail);
  return command;
}

ThrowErrorCommand JobClient::newThrowErrorCommand(int64_t job_key) {
  answered_ = true;
  ThrowErrorCommand command = Client(core_).newThrowErrorCommand(job_key);
  command.options_.observer = worker_->Observer(Outcome::kThrowError);
  return command;
}

UpdateRetriesJobCommand JobClient::newUpdateRetriesCommand(int64_t job_key) {
  return Client(core_).newUpdateRetriesCommand(job_key);
}

UpdateTimeoutJobCommand JobClient::newUpdateTimeoutCommand(int64_t job_key) {
  return Client(core_).newUpdateTimeoutCommand(job_key);
}

SetVariablesCommand JobClient::newSetVariablesCommand(int64_t element_instance_key) {
  return Client(core_).newSetVariablesCommand(element_instance_key);
}

Client JobClient::client() const { return Client(core_); }

// --- JobWorker ------------------------------------------------------------------------------

JobWorker::JobWorker(std::shared_ptr<internal::WorkerState> state) : state_(std::move(state)) {}
JobWorker::JobWorker(JobWorker&&) noexcept = default;
JobWorker& JobWorker::operator=(JobWorker&& other) noexcept {
  if (this != &other) {
    close();
    state_ = std::move(other.state_);
  }
  return *this;
}
JobWorker::~JobWorker() { close(); }

void JobWorker::close() {
  if (state_) state_->Close();
}

bool JobWorker::isOpen() const { return state_ && state_->IsOpen(); }

JobWorkerMetrics JobWorker::metrics() const {
  return state_ ? state_->Metrics() : JobWorkerMetrics{};
}

// --- JobWorkerBuilder -----------------------------------------------------------------------

JobWorkerBuilder::JobWorkerBuilder(std::shared_ptr<internal::ClientCore> core)
    : core_(std::move(core)) {}

JobWorkerBuilder& JobWorkerBuilder::jobType(std::string type) {
  type_ = std::move(type);
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::handler(JobHandler handler) {
  handler_ = std::move(handler);
  function_ = nullptr;
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::handler(JobFunction function) {
  function_ = std::move(function);
  handler_ = nullptr;
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::name(std::string name) {
  name_ = std::move(name);
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::timeout(milliseconds timeout) {
  timeout_ = timeout;
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::maxJobsActive(int32_t max) {
  max_jobs_active_ = max;
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::concurrency(int32_t threads) {
  concurrency_ = threads;
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::pollInterval(milliseconds interval) {
  poll_interval_ = interval;
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::requestTimeout(milliseconds timeout) {
  request_timeout_ = timeout;
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::fetchVariables(std::vector<std::string> names) {
  fetch_variables_ = std::move(names);
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::tenantIds(std::vector<std::string> tenant_ids) {
  tenant_ids_ = std::move(tenant_ids);
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::streamEnabled(bool enabled) {
  stream_enabled_ = enabled;
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::autoComplete(bool enabled) {
  auto_complete_ = enabled;
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::failRetryBackoff(milliseconds backoff) {
  fail_retry_backoff_ = backoff;
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::backoff(BackoffSupplier supplier) {
  backoff_ = std::move(supplier);
  return *this;
}
JobWorkerBuilder& JobWorkerBuilder::activationThreshold(double fraction) {
  activation_threshold_ = fraction;
  return *this;
}

Result<JobWorker> JobWorkerBuilder::open() {
  auto invalid = [](std::string message) {
    return Status(StatusCode::kInvalidArgument, std::move(message));
  };
  if (type_.empty()) return invalid("the job worker needs a jobType");
  if (!handler_ && !function_) return invalid("the job worker needs a handler");
  if (max_jobs_active_ < 1) return invalid("maxJobsActive must be at least 1");
  if (concurrency_ < 1) return invalid("concurrency must be at least 1");
  if (timeout_.count() < 0) return invalid("timeout must not be negative");
  if (poll_interval_.count() < 0) return invalid("pollInterval must not be negative");
  if (fail_retry_backoff_.count() < 0) return invalid("failRetryBackoff must not be negative");
  if (!(activation_threshold_ > 0.0 && activation_threshold_ <= 1.0)) {
    return invalid("activationThreshold must be in (0, 1]");
  }
  const auto& config = core_->config();
  internal::WorkerSettings settings;
  settings.type = type_;
  settings.handler = handler_;
  settings.function = function_;
  settings.name = name_.empty() ? config.job_worker_name : name_;
  settings.job_timeout = timeout_.count() > 0 ? timeout_ : config.job_timeout;
  settings.max_jobs_active = max_jobs_active_;
  settings.concurrency = concurrency_;
  settings.poll_interval = poll_interval_.count() > 0 ? poll_interval_ : config.job_poll_interval;
  settings.request_timeout =
      request_timeout_.count() != 0 ? request_timeout_ : config.request_timeout;
  settings.fetch_variables = fetch_variables_;
  settings.tenant_ids = tenant_ids_;
  if (settings.tenant_ids.empty() && !config.tenant_id.empty()) {
    settings.tenant_ids.push_back(config.tenant_id);
  }
  settings.stream_enabled = stream_enabled_;
  settings.auto_complete = auto_complete_;
  settings.fail_retry_backoff = fail_retry_backoff_;
  settings.backoff = backoff_ ? backoff_ : ExponentialBackoff();
  settings.activation_threshold =
      std::clamp(static_cast<int32_t>(std::floor(max_jobs_active_ * activation_threshold_)), 0,
                 max_jobs_active_ - 1);
  auto state = std::make_shared<internal::WorkerState>(core_, std::move(settings));
  state->Start();
  return JobWorker(state);
}

}  // namespace tern
