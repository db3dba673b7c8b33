#include "fake_gateway.h"

#include <algorithm>
#include <thread>

namespace tern::testing {

void FakeGateway::Start(std::shared_ptr<grpc::ServerCredentials> credentials) {
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0",
                           credentials ? credentials : grpc::InsecureServerCredentials(), &port_);
  builder.RegisterService(this);
  server_ = builder.BuildAndStart();
  if (!server_ || port_ == 0) throw std::runtime_error("fake gateway cannot listen");
}

void FakeGateway::Shutdown() {
  if (!server_) return;
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  server_->Wait();
  server_.reset();
}

void FakeGateway::Record(grpc::ServerContext* context, const std::string& rpc) {
  std::string authorization;
  auto headers = context->client_metadata();
  auto it = headers.find("authorization");
  if (it != headers.end()) authorization = std::string(it->second.data(), it->second.size());
  std::lock_guard lock(mu_);
  calls_.push_back({rpc, Clock::now(), authorization});
  cv_.notify_all();
}

std::vector<FakeGateway::Call> FakeGateway::calls() {
  std::lock_guard lock(mu_);
  return calls_;
}

int FakeGateway::CountCalls(const std::string& rpc) {
  std::lock_guard lock(mu_);
  return static_cast<int>(
      std::count_if(calls_.begin(), calls_.end(), [&](const Call& c) { return c.rpc == rpc; }));
}

std::vector<gp::CompleteJobRequest> FakeGateway::completes() {
  std::lock_guard lock(mu_);
  return completes_;
}

std::vector<gp::FailJobRequest> FakeGateway::fails() {
  std::lock_guard lock(mu_);
  return fails_;
}

std::vector<gp::ThrowErrorRequest> FakeGateway::throw_errors() {
  std::lock_guard lock(mu_);
  return throw_errors_;
}

std::vector<gp::ActivateJobsRequest> FakeGateway::activates() {
  std::lock_guard lock(mu_);
  return activates_;
}

bool FakeGateway::WaitForCalls(const std::string& rpc, int count) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::seconds(30), [&] {
    return std::count_if(calls_.begin(), calls_.end(),
                         [&](const Call& c) { return c.rpc == rpc; }) >= count;
  });
}

grpc::Status FakeGateway::Topology(grpc::ServerContext* context, const gp::TopologyRequest*,
                                   gp::TopologyResponse* response) {
  Record(context, "Topology");
  if (on_topology) return on_topology(context, response);
  response->set_clustersize(1);
  response->set_partitionscount(1);
  response->set_replicationfactor(1);
  response->set_gatewayversion("fake");
  return grpc::Status::OK;
}

grpc::Status FakeGateway::ActivateJobs(grpc::ServerContext* context,
                                       const gp::ActivateJobsRequest* request,
                                       grpc::ServerWriter<gp::ActivateJobsResponse>* writer) {
  {
    std::lock_guard lock(mu_);
    activates_.push_back(*request);
  }
  Record(context, "ActivateJobs");
  if (on_activate) return on_activate(*request, writer);
  return grpc::Status::OK;
}

grpc::Status FakeGateway::StreamActivatedJobs(grpc::ServerContext* context,
                                              const gp::StreamActivatedJobsRequest* request,
                                              grpc::ServerWriter<gp::ActivatedJob>* writer) {
  Record(context, "StreamActivatedJobs");
  if (on_stream) return on_stream(context, *request, writer);
  while (!context->IsCancelled()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return grpc::Status::CANCELLED;
}

grpc::Status FakeGateway::CompleteJob(grpc::ServerContext* context,
                                      const gp::CompleteJobRequest* request,
                                      gp::CompleteJobResponse*) {
  {
    std::lock_guard lock(mu_);
    completes_.push_back(*request);
  }
  Record(context, "CompleteJob");
  return on_complete ? on_complete(*request) : grpc::Status::OK;
}

grpc::Status FakeGateway::FailJob(grpc::ServerContext* context, const gp::FailJobRequest* request,
                                  gp::FailJobResponse*) {
  {
    std::lock_guard lock(mu_);
    fails_.push_back(*request);
  }
  Record(context, "FailJob");
  return on_fail ? on_fail(*request) : grpc::Status::OK;
}

grpc::Status FakeGateway::ThrowError(grpc::ServerContext* context,
                                     const gp::ThrowErrorRequest* request,
                                     gp::ThrowErrorResponse*) {
  {
    std::lock_guard lock(mu_);
    throw_errors_.push_back(*request);
  }
  Record(context, "ThrowError");
  return on_throw_error ? on_throw_error(*request) : grpc::Status::OK;
}

grpc::Status FakeGateway::CreateProcessInstance(grpc::ServerContext* context,
                                                const gp::CreateProcessInstanceRequest* request,
                                                gp::CreateProcessInstanceResponse* response) {
  Record(context, "CreateProcessInstance");
  return on_create ? on_create(*request, response) : grpc::Status::OK;
}

gp::ActivatedJob MakeJob(int64_t key, const std::string& type, int retries,
                         const std::string& variables) {
  gp::ActivatedJob job;
  job.set_key(key);
  job.set_type(type);
  job.set_processinstancekey(key + 1000);
  job.set_bpmnprocessid("process");
  job.set_processdefinitionversion(1);
  job.set_processdefinitionkey(1);
  job.set_elementid("task");
  job.set_elementinstancekey(key + 2000);
  job.set_customheaders("{}");
  job.set_worker("test");
  job.set_retries(retries);
  job.set_deadline(0);
  job.set_variables(variables);
  job.set_tenantid("<default>");
  return job;
}

}  // namespace tern::testing
