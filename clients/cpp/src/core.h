#pragma once

// Internals shared by the commands, streams and the job worker: the channel, the retry loop of
// unary calls and a reader for server streams. Not installed.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "gateway.grpc.pb.h"
#include "task_runner.h"
#include "tern/client.h"
#include "tern/commands.h"
#include "tern/status.h"

namespace tern::internal {

namespace gp = ::gateway_protocol;
using Stub = gp::Gateway::Stub;
using SystemTime = std::chrono::system_clock::time_point;

Status FromGrpc(const grpc::Status& status);
bool IsRetryable(StatusCode code);

// Owns the channel, the stub and the client's threads. Shared by every Client copy, command,
// stream and worker; thread-safe.
class ClientCore {
 public:
  ClientCore(ClientConfig config, std::shared_ptr<grpc::Channel> channel);
  ~ClientCore();

  const ClientConfig& config() const { return config_; }
  class Stub::async* async() {
    return stub_->async();
  }
  Stub& stub() { return *stub_; }
  // Runs send(callback) callbacks and stream consumers.
  TaskRunner& callbacks() { return callbacks_; }
  // Runs retry timers and worker poll timers; its tasks never block.
  TaskRunner& timer() { return timer_; }

  // Sets the deadline and the credentials' headers.
  Status PrepareContext(grpc::ClientContext* context, std::optional<SystemTime> deadline);
  // Delay before retry number `retry` (1-based), with jitter.
  std::chrono::milliseconds RetryDelay(int retry);
  double Random();  // uniform in [0, 1)

 private:
  ClientConfig config_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<Stub> stub_;
  std::mutex random_mu_;
  std::mt19937_64 random_;
  TaskRunner callbacks_;
  TaskRunner timer_;
};

// Delivers a result on the requested thread.
template <typename R>
void Deliver(ClientCore& core, CallbackThread thread, std::function<void(Result<R>)> callback,
             Result<R> result) {
  if (thread == CallbackThread::kGrpc) {
    callback(std::move(result));
  } else {
    core.callbacks().Post([callback = std::move(callback), result = std::move(result)]() mutable {
      callback(std::move(result));
    });
  }
}

// Drops a reference to a call on the client's timer thread. A call may hold the last
// reference to the ClientCore, and the channel must not be destroyed on a gRPC thread: the
// channel's destructor shuts down the completion queue that thread is serving (gRPC 1.51 then
// frees it twice).
template <typename T>
void ReleaseOnTimer(std::shared_ptr<T> call) {
  auto* core = call->core();
  core->timer().Post([call = std::move(call)]() mutable { call.reset(); });
}

template <typename Req, typename Resp>
using AsyncUnary = void (Stub::async::*)(grpc::ClientContext*, const Req*, Resp*,
                                         std::function<void(grpc::Status)>);

// One unary command: sends, retries retryable errors with backoff until the attempts or the
// deadline run out, then calls `done` once (on a gRPC or timer thread).
template <typename Req, typename Resp>
class UnaryCall : public std::enable_shared_from_this<UnaryCall<Req, Resp>> {
 public:
  using Done = std::function<void(const Status&, Resp&)>;

  static void Start(std::shared_ptr<ClientCore> core, AsyncUnary<Req, Resp> method, Req request,
                    std::chrono::milliseconds timeout, Done done) {
    auto call = std::make_shared<UnaryCall>();
    call->core_ = std::move(core);
    call->method_ = method;
    call->request_ = std::move(request);
    call->deadline_ = std::chrono::system_clock::now() + timeout;
    call->done_ = std::move(done);
    call->Attempt();
  }

  ClientCore* core() const { return core_.get(); }

 private:
  void Attempt() {
    ++attempt_;
    context_ = std::make_unique<grpc::ClientContext>();
    response_.Clear();
    Status prepared = core_->PrepareContext(context_.get(), deadline_);
    if (!prepared.ok()) {
      done_(prepared, response_);
      return;
    }
    auto self = this->shared_from_this();
    (core_->async()->*method_)(context_.get(), &request_, &response_,
                               [self](grpc::Status status) mutable {
                                 self->OnDone(status);
                                 ReleaseOnTimer(std::move(self));
                               });
  }

  void OnDone(const grpc::Status& grpc_status) {
    Status status = FromGrpc(grpc_status);
    if (!status.ok()) {
      auto* credentials = core_->config().credentials.get();
      if (status.code() == StatusCode::kUnauthenticated && credentials != nullptr &&
          !auth_retried_ && credentials->shouldRetryRequest(status)) {
        auth_retried_ = true;
        auto self = this->shared_from_this();
        core_->timer().Post([self] { self->Attempt(); });
        return;
      }
      if (IsRetryable(status.code()) && attempt_ < core_->config().retry.maxAttempts) {
        auto delay = core_->RetryDelay(attempt_);
        if (std::chrono::system_clock::now() + delay < deadline_) {
          auto self = this->shared_from_this();
          core_->timer().PostAfter(delay, [self] { self->Attempt(); });
          return;
        }
      }
    }
    done_(status, response_);
  }

  std::shared_ptr<ClientCore> core_;
  AsyncUnary<Req, Resp> method_ = nullptr;
  Req request_;
  Resp response_;
  std::unique_ptr<grpc::ClientContext> context_;
  SystemTime deadline_;
  Done done_;
  int attempt_ = 0;
  bool auth_retried_ = false;
};

template <typename Resp>
class StreamReader;

// Control of a server-stream call, shared by the reader and whoever started it. Create it
// before starting the call so it can be stored first; safe to use before the call started and
// after it ended. Never call it while holding a lock that the stream's callbacks take: gRPC may
// run callbacks inline at the end of the calls it makes.
class StreamControl {
 public:
  virtual ~StreamControl() = default;
  // Ends the call; the reader's `done` callback still runs.
  virtual void Cancel() = 0;
  // Resumes reading after the `message` callback returned false.
  virtual void Resume() = 0;
};

template <typename Req, typename Resp>
using AsyncStream = void (Stub::async::*)(grpc::ClientContext*, const Req*,
                                          grpc::ClientReadReactor<Resp>*);

// Reads a server stream. `message` is called for each message on a gRPC thread; returning false
// pauses reading until Resume() (HTTP/2 flow control then holds the server back). `done` is
// called once with the final status. Keeps itself alive until the call is done.
template <typename Resp>
class StreamReader : public grpc::ClientReadReactor<Resp>,
                     public StreamControl,
                     public std::enable_shared_from_this<StreamReader<Resp>> {
 public:
  using Message = std::function<bool(Resp&)>;
  using Done = std::function<void(const Status&)>;

  StreamReader(std::shared_ptr<ClientCore> core, Message message, Done done)
      : core_(std::move(core)), message_fn_(std::move(message)), done_(std::move(done)) {}

  // Makes a reader; Start() it after storing it as the call's control.
  static std::shared_ptr<StreamReader> Make(std::shared_ptr<ClientCore> core, Message message,
                                            Done done) {
    return std::make_shared<StreamReader>(std::move(core), std::move(message), std::move(done));
  }

  template <typename Req>
  void Start(AsyncStream<Req, Resp> method, const Req& request,
             std::optional<SystemTime> deadline) {
    Status prepared = core_->PrepareContext(&context_, deadline);
    if (!prepared.ok()) {
      Done done = std::move(done_);
      {
        std::lock_guard lock(mu_);
        finished_ = true;
      }
      done(prepared);
      return;
    }
    bool cancelled;
    {
      std::lock_guard lock(mu_);
      self_ = this->shared_from_this();
      cancelled = cancelled_;
    }
    (core_->async()->*method)(&context_, &request, this);
    if (cancelled) context_.TryCancel();
    // The read flow continues outside reactions (Resume), so it holds the call open until a
    // read fails.
    this->AddHold();
    this->StartRead(&message_);
    this->StartCall();
  }

  ClientCore* core() const { return core_.get(); }

  void Cancel() override {
    std::shared_ptr<StreamReader> keep;
    bool read = false;
    {
      std::lock_guard lock(mu_);
      cancelled_ = true;
      if (finished_ || !self_) return;  // done, or not started (Start() checks cancelled_)
      keep = self_;
      if (paused_) {
        // The failing read releases the hold so the call can finish.
        paused_ = false;
        read = true;
      }
    }
    context_.TryCancel();
    if (read) this->StartRead(&message_);
  }

  void Resume() override {
    std::shared_ptr<StreamReader> keep;
    {
      std::lock_guard lock(mu_);
      if (finished_ || !self_) return;
      if (!paused_) {
        resume_pending_ = true;
        return;
      }
      paused_ = false;
      keep = self_;
    }
    this->StartRead(&message_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      this->RemoveHold();
      return;
    }
    bool more = message_fn_(message_);
    {
      std::lock_guard lock(mu_);
      if (!more && !resume_pending_ && !cancelled_) {
        paused_ = true;
        return;
      }
      resume_pending_ = false;
    }
    this->StartRead(&message_);
  }

  void OnDone(const grpc::Status& status) override {
    std::shared_ptr<StreamReader> self;
    Done done;
    {
      std::lock_guard lock(mu_);
      finished_ = true;
      self = std::move(self_);
      done = std::move(done_);
    }
    done(FromGrpc(status));
    ReleaseOnTimer(std::move(self));
  }

 private:
  std::shared_ptr<ClientCore> core_;
  Message message_fn_;
  Done done_;
  grpc::ClientContext context_;
  Resp message_;

  std::mutex mu_;
  std::shared_ptr<StreamReader> self_;  // set while the call runs
  bool finished_ = false;
  bool paused_ = false;
  bool resume_pending_ = false;
  bool cancelled_ = false;
};

// Conversions between the wire messages and the public types (convert.cc).
Topology ToTopology(const gp::TopologyResponse& response);
ProcessMetadata ToProcessMetadata(const gp::ProcessMetadata& process);
DeploymentEvent ToDeploymentEvent(const gp::DeployResourceResponse& response);
DeployProcessResponse ToDeployProcessResponse(const gp::DeployProcessResponse& response);
ProcessInstanceEvent ToProcessInstanceEvent(const gp::CreateProcessInstanceResponse& response);
ProcessInstanceResult ToProcessInstanceResult(
    const gp::CreateProcessInstanceWithResultResponse& response);
EvaluateDecisionResponse ToEvaluateDecisionResponse(const gp::EvaluateDecisionResponse& response);
ActivatedJob ToActivatedJob(gp::ActivatedJob& job);  // moves the strings out

}  // namespace tern::internal
