#pragma once

// An in-process gRPC server implementing the Gateway service with scripted answers, for unit
// tests of the client's behaviour under errors the real broker does not produce on demand
// (RESOURCE_EXHAUSTED, UNAUTHENTICATED, UNIMPLEMENTED streams, ...).

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gateway.grpc.pb.h"

namespace tern::testing {

namespace gp = ::gateway_protocol;

class FakeGateway : public gp::Gateway::Service {
 public:
  using Clock = std::chrono::steady_clock;

  // Answers, replaceable by tests before Start(). Defaults: OK with empty responses;
  // ActivateJobs returns no job; StreamActivatedJobs stays open until cancelled.
  std::function<grpc::Status(const gp::ActivateJobsRequest&,
                             grpc::ServerWriter<gp::ActivateJobsResponse>*)>
      on_activate;
  std::function<grpc::Status(grpc::ServerContext*, const gp::StreamActivatedJobsRequest&,
                             grpc::ServerWriter<gp::ActivatedJob>*)>
      on_stream;
  std::function<grpc::Status(const gp::CompleteJobRequest&)> on_complete;
  std::function<grpc::Status(const gp::FailJobRequest&)> on_fail;
  std::function<grpc::Status(const gp::ThrowErrorRequest&)> on_throw_error;
  std::function<grpc::Status(const gp::CreateProcessInstanceRequest&,
                             gp::CreateProcessInstanceResponse*)>
      on_create;
  std::function<grpc::Status(grpc::ServerContext*, gp::TopologyResponse*)> on_topology;

  // Listens on a free port of 127.0.0.1 (or with `credentials`, e.g. TLS).
  void Start(std::shared_ptr<grpc::ServerCredentials> credentials = nullptr);
  void Shutdown();
  ~FakeGateway() override { Shutdown(); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

  // What the fake received, in order.
  struct Call {
    std::string rpc;
    Clock::time_point received;
    std::string authorization;  // the "authorization" header, if any
  };
  std::vector<Call> calls();
  int CountCalls(const std::string& rpc);
  std::vector<gp::CompleteJobRequest> completes();
  std::vector<gp::FailJobRequest> fails();
  std::vector<gp::ThrowErrorRequest> throw_errors();
  std::vector<gp::ActivateJobsRequest> activates();
  // Waits until `rpc` was called `count` times (up to 30 s); returns whether it was.
  bool WaitForCalls(const std::string& rpc, int count);

  // --- Gateway::Service ---
  grpc::Status Topology(grpc::ServerContext* context, const gp::TopologyRequest* request,
                        gp::TopologyResponse* response) override;
  grpc::Status ActivateJobs(grpc::ServerContext* context, const gp::ActivateJobsRequest* request,
                            grpc::ServerWriter<gp::ActivateJobsResponse>* writer) override;
  grpc::Status StreamActivatedJobs(grpc::ServerContext* context,
                                   const gp::StreamActivatedJobsRequest* request,
                                   grpc::ServerWriter<gp::ActivatedJob>* writer) override;
  grpc::Status CompleteJob(grpc::ServerContext* context, const gp::CompleteJobRequest* request,
                           gp::CompleteJobResponse* response) override;
  grpc::Status FailJob(grpc::ServerContext* context, const gp::FailJobRequest* request,
                       gp::FailJobResponse* response) override;
  grpc::Status ThrowError(grpc::ServerContext* context, const gp::ThrowErrorRequest* request,
                          gp::ThrowErrorResponse* response) override;
  grpc::Status CreateProcessInstance(grpc::ServerContext* context,
                                     const gp::CreateProcessInstanceRequest* request,
                                     gp::CreateProcessInstanceResponse* response) override;

 private:
  void Record(grpc::ServerContext* context, const std::string& rpc);

  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
  std::vector<gp::CompleteJobRequest> completes_;
  std::vector<gp::FailJobRequest> fails_;
  std::vector<gp::ThrowErrorRequest> throw_errors_;
  std::vector<gp::ActivateJobsRequest> activates_;
};

// A job as the gateway would send it.
gp::ActivatedJob MakeJob(int64_t key, const std::string& type, int retries = 3,
                         const std::string& variables = "{}");

}  // namespace tern::testing
