#include "core.h"

#include <algorithm>
#include <cmath>

namespace tern::internal {

Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return Status();
  return Status(static_cast<StatusCode>(status.error_code()), status.error_message());
}

bool IsRetryable(StatusCode code) {
  return code == StatusCode::kUnavailable || code == StatusCode::kResourceExhausted;
}

ClientCore::ClientCore(ClientConfig config, std::shared_ptr<grpc::Channel> channel)
    : config_(std::move(config)),
      channel_(std::move(channel)),
      stub_(gp::Gateway::NewStub(channel_)),
      random_(std::random_device{}()),
      callbacks_(config_.callback_threads, "tern-callback"),
      timer_(1, "tern-timer") {}

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
