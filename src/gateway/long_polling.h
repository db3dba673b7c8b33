#pragma once

// Job activation: ActivateJobs with long polling, and the StreamActivatedJobs push stream.
//
// An ActivateJobs call asks the partitions for jobs in turn; each partition that hands out
// jobs produces one response message. When none has jobs, the call parks until a partition
// reports new jobs of its type (then it asks again) or its long-poll timeout ends (then it
// finishes with no jobs). Jobs that cannot be delivered to the client are failed back without
// using up a retry, so they are activatable again at once.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "gateway.grpc.pb.h"

namespace tern::gateway {

class GatewayService;

class ParkedRequest {
 public:
  virtual ~ParkedRequest() = default;
  virtual void OnJobsAvailable() = 0;
};

// Parked ActivateJobs calls by job type.
class LongPollingRegistry {
 public:
  // A counter per type that moves on every notification; a call compares it before and after
  // asking the partitions, so a notification that raced with the asking is not missed.
  uint64_t Sequence(const std::string& type);
  // Parks `request` unless notifications arrived since `seen_sequence`; returns whether parked.
  bool Park(const std::string& type, uint64_t seen_sequence,
            const std::shared_ptr<ParkedRequest>& request);
  void Unpark(const std::string& type, const std::shared_ptr<ParkedRequest>& request);
  void Notify(const std::string& type);

 private:
  std::mutex mutex_;
  std::map<std::string, uint64_t> sequences_;
  std::map<std::string, std::set<std::shared_ptr<ParkedRequest>>> parked_;
};

grpc::ServerWriteReactor<gateway_protocol::ActivateJobsResponse>* NewActivateJobsReactor(
    GatewayService& service, grpc::CallbackServerContext* context,
    const gateway_protocol::ActivateJobsRequest& request);

// ActivateJobs for a transport with one answer per request (REST): the jobs of every partition
// asked in the round, in one response. Same checks, long polling and errors as the gRPC call.
void ActivateJobsCollected(
    GatewayService& service, const gateway_protocol::ActivateJobsRequest& request,
    std::function<void(grpc::Status, gateway_protocol::ActivateJobsResponse)> reply);

grpc::ServerWriteReactor<gateway_protocol::ActivatedJob>* NewJobStreamReactor(
    GatewayService& service, grpc::CallbackServerContext* context,
    const gateway_protocol::StreamActivatedJobsRequest& request);

}  // namespace tern::gateway
