#include "core.h"

#include <algorithm>
#include <cmath>
#include <mutex>

namespace tern::internal {

Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return Status();
  return Status(static_cast<StatusCode>(status.error_code()), status.error_message());
}

bool IsRetryable(StatusCode code) {
  return code == StatusCode::kUnavailable || code == StatusCode::kResourceExhausted;
}

// gRPC 1.51 on Linux runs callback-API completions on a process-wide completion queue with its
// own threads, created when the first channel makes a callback call and torn down when the last
// such channel is destroyed. Tearing it down while calls of another channel are being set up
// (clients created and dropped in quick succession) frees its completion queue twice inside
// gRPC. A channel that lives for the whole process, and has made one callback call, keeps that
// queue alive from the first client on. It points nowhere and is deliberately never destroyed.
struct CallbackQueueAnchor {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<Stub> stub;
  grpc::ClientContext context;
  gp::TopologyRequest request;
  gp::TopologyResponse response;
};

// External linkage, so the store is kept and the anchor stays reachable for leak checkers.
CallbackQueueAnchor* callback_queue_anchor = nullptr;

namespace {

void KeepCallbackQueueAlive() {
  static std::once_flag once;
  std::call_once(once, [] {
    auto* a = new CallbackQueueAnchor();
    a->channel = grpc::CreateChannel("unix:/nonexistent/tern-client-anchor",
                                     grpc::InsecureChannelCredentials());
    a->stub = gp::Gateway::NewStub(a->channel);
    a->context.set_deadline(std::chrono::system_clock::now());
    a->stub->async()->Topology(&a->context, &a->request, &a->response, [](grpc::Status) {});
    callback_queue_anchor = a;
  });
}

}  // namespace

ClientCore::ClientCore(ClientConfig config, std::shared_ptr<grpc::Channel> channel)
    : config_(std::move(config)),
      channel_(std::move(channel)),
      stub_(gp::Gateway::NewStub(channel_)),
      random_(std::random_device{}()),
      callbacks_(config_.callback_threads, "tern-callback"),
      timer_(1, "tern-timer") {
  KeepCallbackQueueAlive();
}

ClientCore::~ClientCore() {
  // Stop the threads before the stub they may use goes away.
  timer_.Shutdown();
  callbacks_.Shutdown();
}

Status ClientCore::PrepareContext(grpc::ClientContext* context,
                                  std::optional<SystemTime> deadline) {
  if (deadline) context->set_deadline(*deadline);
  if (config_.credentials) {
    CallHeaders headers;
    Status status = config_.credentials->applyCredentials(headers);
    if (!status.ok()) return status;
    for (auto& [name, value] : headers) context->AddMetadata(name, value);
  }
  return Status();
}

double ClientCore::Random() {
  std::lock_guard lock(random_mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(random_);
}

std::chrono::milliseconds ClientCore::RetryDelay(int retry) {
  const RetryPolicy& policy = config_.retry;
  double delay = static_cast<double>(policy.initialBackoff.count()) *
                 std::pow(policy.multiplier, std::max(retry - 1, 0));
  delay = std::min(delay, static_cast<double>(policy.maxBackoff.count()));
  // +/-20% so that many clients do not retry in lockstep.
  delay *= 0.8 + 0.4 * Random();
  return std::chrono::milliseconds(static_cast<int64_t>(delay));
}

}  // namespace tern::internal
