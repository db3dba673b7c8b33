#include "gateway/long_polling.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <optional>
#include <vector>

#include "base/strings.h"
#include "gateway/gateway_service.h"

namespace tern::gateway {
namespace {

namespace gp = gateway_protocol;

constexpr int32_t kJobBatchActivate = 0;
constexpr int32_t kJobFail = 5;
constexpr int32_t kJobYield = 14;
constexpr int kPartitionBits = 51;
// Room kept in an ActivateJobsResponse for its framing.
constexpr int64_t kResponseHeadroomBytes = 16 * 1024;

// Gives a job back to its partition without using up a retry.
void FailBack(BrokerClient& brokers, int64_t key, int32_t retries, std::string_view reason) {
  record::Record command;
  command.set_record_type(record::COMMAND);
  command.set_key(key);
  command.set_intent(kJobFail);
  auto* job = command.mutable_job();
  job->set_retries(retries);
  job->set_error_message(std::string(reason));
  brokers.Send(static_cast<int32_t>(key >> kPartitionBits), std::move(command), 15'000,
               [](absl::StatusOr<record::Record>) {});
}

void Yield(BrokerClient& brokers, int64_t key) {
  record::Record command;
  command.set_record_type(record::COMMAND);
  command.set_key(key);
  command.set_intent(kJobYield);
  command.mutable_job();
  brokers.Send(static_cast<int32_t>(key >> kPartitionBits), std::move(command), 15'000,
               [](absl::StatusOr<record::Record>) {});
}

// One ActivateJobs call, whatever the transport: asks the partitions, parks, hands the jobs
// to the transport (WriteResponse, answered by WriteDone) and ends with FinishCall. The gRPC
// reactor streams each partition's jobs as a message; the REST call collects them into one.
class ActivateJobsCall : public ParkedRequest,
                         public std::enable_shared_from_this<ActivateJobsCall> {
 public:
  ActivateJobsCall(GatewayService& service, const gp::ActivateJobsRequest& request)
      : service_(service), request_(request) {}
  ~ActivateJobsCall() override = default;

  void Start() {
    self_ = shared_from_this();
    const auto& limits = service_.options().limits;
    absl::Status check = CheckName(request_.type(), "type", /*required=*/true, limits);
    if (check.ok()) check = CheckName(request_.worker(), "worker", false, limits);
    for (const auto& tenant : request_.tenantids()) {
      if (check.ok()) check = CheckTenant(tenant, "ActivateJobs");
    }
    for (const auto& name : request_.fetchvariable()) {
      if (check.ok()) check = CheckName(name, "fetchVariable", true, limits);
    }
    if (!check.ok()) {
      std::lock_guard lock(mutex_);
      FinishLocked(ToGrpc(check));
      return;
    }
    if (request_.maxjobstoactivate() < 1) {
      // The engine's own check, answered here because no partition is asked for nothing.
      std::lock_guard lock(mutex_);
      FinishLocked(grpc::Status(
          grpc::StatusCode::INVALID_ARGUMENT,
          StrCat("Command 'ACTIVATE' rejected with code 'INVALID_ARGUMENT': Expected to activate "
                 "job batch with max jobs to activate to be greater than zero, but it was '",
                 request_.maxjobstoactivate(), "'")));
      return;
    }
    remaining_ = std::min(request_.maxjobstoactivate(), limits.max_jobs_to_activate);
    int64_t long_poll_ms = request_.requesttimeout() == 0
                               ? service_.options().long_polling_timeout_ms
                               : request_.requesttimeout();
    long_poll_ms = std::min<int64_t>(long_poll_ms, int64_t{24} * 3600 * 1000);
    if (request_.requesttimeout() >= 0) {
      std::weak_ptr<ActivateJobsCall> weak = shared_from_this();
      timer_ = service_.scheduler().Schedule(
          Scheduler::Clock::now() + std::chrono::milliseconds(long_poll_ms), [weak] {
            if (auto self = weak.lock()) self->OnLongPollTimeout();
          });
    }
    std::lock_guard lock(mutex_);
    StartRoundLocked();
  }

  void OnJobsAvailable() override {
    std::lock_guard lock(mutex_);
    parked_ = false;
    if (!finished_ && !round_active_) StartRoundLocked();
  }

  // The transport took (ok) or could not deliver the response given to WriteResponse.
  void WriteDone(bool ok) {
    std::lock_guard lock(mutex_);
    writing_ = false;
    if (!ok) {
      // The client is gone: give back what it did not get.
      FailBackQueuedLocked(true);
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "The client went away"));
      return;
    }
    writes_.pop_front();
    WriteNextLocked();
  }

  void Cancel() {
    std::lock_guard lock(mutex_);
    cancelled_ = true;
    if (parked_) {
      service_.long_polling().Unpark(request_.type(), shared_from_this());
      parked_ = false;
    }
    if (!writing_) {
      FailBackQueuedLocked(false);
      FinishLocked(grpc::Status::CANCELLED);
    }
  }

  // The transport is done with the call (after FinishCall): drops the self-reference.
  void Release() {
    if (timer_ != 0) service_.scheduler().Cancel(timer_);
    std::shared_ptr<ActivateJobsCall> last_reference;
    {
      std::lock_guard lock(mutex_);
      last_reference = std::move(self_);
    }
  }

 protected:
  // Hands one message of jobs to the transport; it answers with WriteDone. Called with the
  // call's mutex held; `response` stays valid until WriteDone.
  virtual void WriteResponse(const gp::ActivateJobsResponse& response) = 0;
  // Ends the call (once). Called with the call's mutex held.
  virtual void FinishCall(const grpc::Status& status) = 0;
  GatewayService& service() { return service_; }

 private:
  void StartRoundLocked() {
    round_active_ = true;
    sequence_ = service_.long_polling().Sequence(request_.type());
    partitions_left_ = std::max(1, service_.brokers().partition_count());
    // Start at a different partition each round, so no partition's jobs are always last.
    static std::atomic<uint32_t> rotation{0};
    next_partition_ = rotation++;
    resource_exhausted_ = false;
    AskNextPartitionLocked();
  }

  void AskNextPartitionLocked() {
    if (finished_ || cancelled_) {
      round_active_ = false;
      if (!writing_) FinishLocked(grpc::Status::CANCELLED);
      return;
    }
    if (remaining_ <= 0 || partitions_left_ <= 0) {
      EndRoundLocked();
      return;
    }
    int32_t count = std::max(1, service_.brokers().partition_count());
    int32_t partition = static_cast<int32_t>(next_partition_++ % count) + 1;
    --partitions_left_;

    record::Record command;
    command.set_record_type(record::COMMAND);
    command.set_key(-1);
    command.set_intent(kJobBatchActivate);
    auto* batch = command.mutable_job_batch();
    batch->set_type(request_.type());
    batch->set_worker(request_.worker());
    batch->set_timeout(request_.timeout());
    batch->set_max_jobs_to_activate(remaining_);
    for (const auto& name : request_.fetchvariable()) batch->add_fetch_variables(name);
    for (const auto& tenant : request_.tenantids()) {
      batch->add_tenant_ids(tenant.empty() ? std::string(kDefaultTenant) : tenant);
    }
    std::weak_ptr<ActivateJobsCall> weak = shared_from_this();
    service_.brokers().Send(partition, std::move(command), service_.options().request_timeout_ms,
                            [weak](absl::StatusOr<record::Record> answer) {
                              if (auto self = weak.lock()) self->OnAnswer(std::move(answer));
                            });
  }

  void OnAnswer(absl::StatusOr<record::Record> answer) {
    std::lock_guard lock(mutex_);
    if (!answer.ok()) {
      if (answer.status().code() == absl::StatusCode::kResourceExhausted)
        resource_exhausted_ = true;
      // Other partitions may still have jobs; errors matter only if nobody had any.
      last_error_ = answer.status();
      AskNextPartitionLocked();
      return;
    }
    if (answer->record_type() == record::COMMAND_REJECTION) {
      if (!sent_any_) {
        round_active_ = false;
        pending_status_ = RejectionStatus(*answer, "ACTIVATE");
        if (!writing_) FinishLocked(*pending_status_);
        return;
      }
      AskNextPartitionLocked();
      return;
    }
    const auto& batch = answer->job_batch();
    if (batch.job_keys_size() > 0) {
      gp::ActivateJobsResponse response;
      // The partition sizes its batches to the same limit; this guards against a broker
      // configured with a larger one. Jobs that do not fit are given back (as Zeebe does).
      const int64_t max_bytes = service_.options().max_message_bytes - kResponseHeadroomBytes;
      int64_t response_bytes = 0;
      for (int i = 0; i < batch.job_keys_size(); ++i) {
        gp::ActivatedJob job;
        ToActivatedJob(batch.job_keys(i), batch.jobs(i), &job);
        int64_t job_bytes = static_cast<int64_t>(job.ByteSizeLong()) + 16;
        if (response_bytes + job_bytes > max_bytes) {
          FailBack(service_.brokers(), job.key(), job.retries(),
                   StrCat("Failed to send activated jobs to client: the response is bigger than "
                          "the maximum allowed message size (",
                          service_.options().max_message_bytes, " bytes)"));
          continue;
        }
        response_bytes += job_bytes;
        *response.add_jobs() = std::move(job);
      }
      remaining_ -= response.jobs_size();  // jobs given back above may be asked for again
      if (response.jobs().empty()) {
        AskNextPartitionLocked();
        return;
      }
      sent_any_ = true;
      if (cancelled_) {
        for (const auto& job : response.jobs()) {
          FailBack(service_.brokers(), job.key(), job.retries(),
                   "Failed to send activated jobs to client: the call was cancelled");
        }
      } else {
        writes_.push_back(std::move(response));
        WriteNextLocked();
      }
    }
    AskNextPartitionLocked();
  }

  void EndRoundLocked() {
    round_active_ = false;
    if (sent_any_ || expired_) {
      done_collecting_ = true;
      if (!writing_ && writes_.empty()) FinishLocked(grpc::Status::OK);
      return;
    }
    if (resource_exhausted_) {
      FinishLocked(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                StrCat("Expected to activate jobs of type '", request_.type(),
                                       "', but no jobs available and at least one broker returned "
                                       "'RESOURCE_EXHAUSTED'. Please try again later.")));
      return;
    }
    if (request_.requesttimeout() < 0) {
      FinishLocked(grpc::Status::OK);
      return;
    }
    if (service_.long_polling().Park(request_.type(), sequence_, shared_from_this())) {
      parked_ = true;
    } else {
      StartRoundLocked();  // jobs appeared while we were asking
    }
  }

  void OnLongPollTimeout() {
    std::lock_guard lock(mutex_);
    expired_ = true;
    if (parked_) {
      service_.long_polling().Unpark(request_.type(), shared_from_this());
      parked_ = false;
    }
    if (!round_active_ && !writing_ && writes_.empty()) FinishLocked(grpc::Status::OK);
  }

  void WriteNextLocked() {
    if (writing_ || finished_) return;
    if (writes_.empty()) {
      if (pending_status_) {
        FinishLocked(*pending_status_);
      } else if (done_collecting_ || (!round_active_ && (sent_any_ || expired_))) {
        FinishLocked(grpc::Status::OK);
      }
      return;
    }
    writing_ = true;
    WriteResponse(writes_.front());
  }

  void FailBackQueuedLocked(bool include_in_flight) {
    size_t start = include_in_flight ? 0 : (writing_ ? 1 : 0);
    for (size_t i = start; i < writes_.size(); ++i) {
      for (const auto& job : writes_[i].jobs()) {
        FailBack(service_.brokers(), job.key(), job.retries(),
                 "Failed to send activated jobs to client");
      }
    }
    writes_.clear();
  }

  void FinishLocked(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    FinishCall(status);
  }

  GatewayService& service_;
  gp::ActivateJobsRequest request_;
  std::shared_ptr<ActivateJobsCall> self_;
  std::mutex mutex_;
  uint64_t timer_ = 0;
  int32_t remaining_ = 0;
  int32_t partitions_left_ = 0;
  uint32_t next_partition_ = 0;
  uint64_t sequence_ = 0;
  bool round_active_ = false;
  bool parked_ = false;
  bool writing_ = false;
  bool finished_ = false;
  bool cancelled_ = false;
  bool expired_ = false;
  bool sent_any_ = false;
  bool done_collecting_ = false;
  bool resource_exhausted_ = false;
  absl::Status last_error_;
  std::optional<grpc::Status> pending_status_;
  std::deque<gp::ActivateJobsResponse> writes_;
};

class ActivateJobsReactor final : public grpc::ServerWriteReactor<gp::ActivateJobsResponse>,
                                  public ActivateJobsCall {
 public:
  using ActivateJobsCall::ActivateJobsCall;
  void OnWriteDone(bool ok) override { WriteDone(ok); }
  void OnCancel() override { Cancel(); }
  void OnDone() override { Release(); }

 private:
  void WriteResponse(const gp::ActivateJobsResponse& response) override { StartWrite(&response); }
  void FinishCall(const grpc::Status& status) override { Finish(status); }
};

// Collects the jobs of every partition into one answer (REST has one response per request).
// Writes are acknowledged from the scheduler thread, never inline: WriteResponse runs with the
// call's mutex held and WriteDone takes it.
class CollectedActivateJobsCall final : public ActivateJobsCall {
 public:
  CollectedActivateJobsCall(GatewayService& service, const gp::ActivateJobsRequest& request,
                            Reply<gp::ActivateJobsResponse> reply)
      : ActivateJobsCall(service, request), reply_(std::move(reply)) {}

 private:
  void WriteResponse(const gp::ActivateJobsResponse& response) override {
    for (const auto& job : response.jobs()) *collected_.add_jobs() = job;
    std::weak_ptr<ActivateJobsCall> weak = shared_from_this();
    service().scheduler().Schedule(Scheduler::Clock::now(), [weak] {
      if (auto self = weak.lock()) self->WriteDone(true);
    });
  }
  void FinishCall(const grpc::Status& status) override {
    reply_(status, status.ok() ? std::move(collected_) : gp::ActivateJobsResponse());
    auto self = shared_from_this();
    service().scheduler().Schedule(Scheduler::Clock::now(), [self] { self->Release(); });
  }

  Reply<gp::ActivateJobsResponse> reply_;
  gp::ActivateJobsResponse collected_;
};

// Pushes jobs to one StreamActivatedJobs call. Jobs wait in a bounded queue behind the message
// being written; a client that stops reading makes that write hang (HTTP/2 flow control), so a
// write not taken within job_push_stall_ms gives every queued job back and cancels the call.
// Jobs the transport already accepted count as delivered (as in Zeebe) and stay with the worker
// until their timeout.
class JobStreamReactor final : public grpc::ServerWriteReactor<gp::ActivatedJob>,
                               public std::enable_shared_from_this<JobStreamReactor> {
 public:
  JobStreamReactor(GatewayService& service, grpc::CallbackServerContext* context,
                   const gp::StreamActivatedJobsRequest& request)
      : service_(service), context_(context), request_(request) {}

  void Start() {
    self_ = shared_from_this();
    const auto& limits = service_.options().limits;
    absl::Status check;
    if (request_.type().find_first_not_of(" \t\r\n") == std::string::npos) {
      check = absl::InvalidArgumentError(
          "Expected to stream activated jobs with type to be present, but it was blank");
    } else if (request_.timeout() < 1) {
      check = absl::InvalidArgumentError(
          StrCat("Expected to stream activated jobs with timeout to be greater than zero, but it "
                 "was '",
                 request_.timeout(), "'"));
    } else {
      check = CheckName(request_.type(), "type", true, limits);
      if (check.ok()) check = CheckName(request_.worker(), "worker", false, limits);
      for (const auto& tenant : request_.tenantids()) {
        if (check.ok()) check = CheckTenant(tenant, "StreamActivatedJobs");
      }
    }
    if (!check.ok()) {
      std::lock_guard lock(mutex_);
      FinishLocked(ToGrpc(check));
      return;
    }
    JobStreamSpec spec;
    spec.type = request_.type();
    spec.worker = request_.worker();
    spec.timeout_ms = std::min<int64_t>(request_.timeout(), int64_t{1} << 40);
    spec.fetch_variables.assign(request_.fetchvariable().begin(), request_.fetchvariable().end());
    spec.tenant_ids.assign(request_.tenantids().begin(), request_.tenantids().end());
    std::weak_ptr<JobStreamReactor> weak = shared_from_this();
    int64_t id = service_.brokers().AddJobStream(
        spec,
        [weak, &brokers = service_.brokers()](int32_t, int64_t key, const record::JobRecord& job) {
          auto self = weak.lock();
          if (!self || !self->Push(key, job)) Yield(brokers, key);
        });
    std::lock_guard lock(mutex_);
    stream_id_ = id;
    if (finished_) service_.brokers().RemoveJobStream(id);
  }

  // Queues a job for the client; false (the caller gives the job back) when the stream is
  // closed, stalled or its queue is full.
  bool Push(int64_t key, const record::JobRecord& job) {
    std::lock_guard lock(mutex_);
    if (finished_ || stalled_) return false;
    size_t queued = writes_.size() - (writing_ ? 1 : 0);
    if (queued >= service_.options().job_push_queue_limit) return false;
    gp::ActivatedJob activated;
    ToActivatedJob(key, job, &activated);
    const size_t bytes = activated.ByteSizeLong();
    // One job is always taken, however large; beyond that the queue is bounded in bytes too.
    if (queued > 0 && queued_bytes_ + bytes > service_.options().job_push_queue_bytes) {
      return false;
    }
    queued_bytes_ += bytes;
    writes_.push_back(std::move(activated));
    WriteNextLocked();
    return true;
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mutex_);
    writing_ = false;
    if (!ok) {
      CloseLocked(grpc::Status(grpc::StatusCode::CANCELLED, "The client went away"), true);
      return;
    }
    queued_bytes_ -= std::min(queued_bytes_, writes_.front().ByteSizeLong());
    writes_.pop_front();
    WriteNextLocked();
  }

  void OnCancel() override {
    std::lock_guard lock(mutex_);
    CloseLocked(grpc::Status::CANCELLED, !writing_);
  }

  void OnDone() override {
    std::shared_ptr<JobStreamReactor> last_reference;
    {
      std::lock_guard lock(mutex_);
      if (stall_timer_ != 0) service_.scheduler().Cancel(stall_timer_);
      stall_timer_ = 0;
      last_reference = std::move(self_);
    }
  }

 private:
  void WriteNextLocked() {
    if (writing_ || finished_ || writes_.empty()) return;
    writing_ = true;
    ++write_sequence_;
    write_started_ = Scheduler::Clock::now();
    if (stall_timer_ == 0) ScheduleStallCheckLocked(write_started_);
    StartWrite(&writes_.front());
  }

  // One timer per stream at a time, moved along while writes complete.
  void ScheduleStallCheckLocked(Scheduler::Clock::time_point write_started) {
    std::weak_ptr<JobStreamReactor> weak = shared_from_this();
    uint64_t sequence = write_sequence_;
    stall_timer_ = service_.scheduler().Schedule(
        write_started + std::chrono::milliseconds(service_.options().job_push_stall_ms),
        [weak, sequence] {
          if (auto self = weak.lock()) self->OnStallCheck(sequence);
        });
  }

  void OnStallCheck(uint64_t sequence) {
    {
      std::lock_guard lock(mutex_);
      stall_timer_ = 0;
      if (finished_ || !writing_) return;
      if (write_sequence_ != sequence) {
        ScheduleStallCheckLocked(write_started_);  // a later write; check it in its turn
        return;
      }
      // The client stopped reading: hand back what it has not got and end the call, so the
      // engine stops choosing this stream. The cancelled write gives its job back too.
      stalled_ = true;
      spdlog::warn(
          "job stream for type '{}' (worker '{}') took no job for {} ms: giving back {} queued "
          "jobs and closing it",
          request_.type(), request_.worker(), service_.options().job_push_stall_ms, writes_.size());
      for (size_t i = 1; i < writes_.size(); ++i) Yield(service_.brokers(), writes_[i].key());
      writes_.erase(writes_.begin() + 1, writes_.end());
      if (stream_id_ != 0) {
        service_.brokers().RemoveJobStream(stream_id_);
        stream_id_ = 0;
      }
    }
    // Outside the lock: gRPC may run OnCancel on this thread.
    context_->TryCancel();
  }

  void CloseLocked(const grpc::Status& status, bool include_in_flight) {
    if (stream_id_ != 0) {
      service_.brokers().RemoveJobStream(stream_id_);
      stream_id_ = 0;
    }
    size_t start = (include_in_flight || !writing_) ? 0 : 1;
    for (size_t i = start; i < writes_.size(); ++i) Yield(service_.brokers(), writes_[i].key());
    writes_.erase(writes_.begin() + static_cast<std::ptrdiff_t>(std::min(start, writes_.size())),
                  writes_.end());
    FinishLocked(status);
  }

  void FinishLocked(const grpc::Status& status) {
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  GatewayService& service_;
  grpc::CallbackServerContext* context_;
  gp::StreamActivatedJobsRequest request_;
  std::shared_ptr<JobStreamReactor> self_;
  std::mutex mutex_;
  int64_t stream_id_ = 0;
  bool writing_ = false;
  bool finished_ = false;
  bool stalled_ = false;
  uint64_t write_sequence_ = 0;
  Scheduler::Clock::time_point write_started_;
  uint64_t stall_timer_ = 0;
  std::deque<gp::ActivatedJob> writes_;
  size_t queued_bytes_ = 0;  // of the jobs in writes_
};

}  // namespace

uint64_t LongPollingRegistry::Sequence(const std::string& type) {
  std::lock_guard lock(mutex_);
  return sequences_[type];
}

bool LongPollingRegistry::Park(const std::string& type, uint64_t seen_sequence,
                               const std::shared_ptr<ParkedRequest>& request) {
  std::lock_guard lock(mutex_);
  if (sequences_[type] != seen_sequence) return false;
  parked_[type].insert(request);
  return true;
}

void LongPollingRegistry::Unpark(const std::string& type,
                                 const std::shared_ptr<ParkedRequest>& request) {
  std::lock_guard lock(mutex_);
  auto it = parked_.find(type);
  if (it == parked_.end()) return;
  it->second.erase(request);
  if (it->second.empty()) parked_.erase(it);
}

void LongPollingRegistry::Notify(const std::string& type) {
  std::set<std::shared_ptr<ParkedRequest>> woken;
  {
    std::lock_guard lock(mutex_);
    ++sequences_[type];
    auto it = parked_.find(type);
    if (it == parked_.end()) return;
    woken.swap(it->second);
    parked_.erase(it);
  }
  for (const auto& request : woken) request->OnJobsAvailable();
}

grpc::ServerWriteReactor<gp::ActivateJobsResponse>* NewActivateJobsReactor(
    GatewayService& service, grpc::CallbackServerContext* context,
    const gp::ActivateJobsRequest& request) {
  (void)context;  // cancellation arrives through OnCancel
  auto reactor = std::make_shared<ActivateJobsReactor>(service, request);
  reactor->Start();
  return reactor.get();
}

void ActivateJobsCollected(GatewayService& service, const gp::ActivateJobsRequest& request,
                           Reply<gp::ActivateJobsResponse> reply) {
  auto call = std::make_shared<CollectedActivateJobsCall>(service, request, std::move(reply));
  call->Start();
}

grpc::ServerWriteReactor<gp::ActivatedJob>* NewJobStreamReactor(
    GatewayService& service, grpc::CallbackServerContext* context,
    const gp::StreamActivatedJobsRequest& request) {
  auto reactor = std::make_shared<JobStreamReactor>(service, context, request);
  reactor->Start();
  return reactor.get();
}

}  // namespace tern::gateway
