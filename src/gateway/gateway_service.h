#pragma once

// The public gRPC service `gateway_protocol.Gateway`. Stateless: every request is checked,
// turned into a command for the partition that owns it, and answered from the partition's
// answer. Job activation long-polls here (parked requests wake when a partition reports new
// jobs of their type), as Zeebe's gateway does.
//
// Each RPC's logic is a transport-neutral `Execute(request, reply)`: a gateway_protocol request
// in, the answer or the (Zeebe-worded) gRPC status out through `reply`. The gRPC handlers below
// and the REST API (rest/rest_api.h) both call it, so both transports send the same commands
// through the same routing, retries and error mapping.
//
// Threading: handlers run on gRPC's callback threads or the REST server's threads; answers
// arrive on partition or transport threads. Nothing blocks.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "gateway.grpc.pb.h"
#include "gateway/auth/auth.h"
#include "gateway/broker_client.h"
#include "gateway/mapping.h"
#include "gateway/scheduler.h"

namespace tern::gateway {

struct GatewayOptions {
  RequestLimits limits;
  // Gateway-to-partition timeout when the request does not say otherwise (Zeebe: 15 s).
  int64_t request_timeout_ms = 15'000;
  // ActivateJobs long-poll timeout when requestTimeout is 0 (Zeebe: 10 s).
  int64_t long_polling_timeout_ms = 10'000;
  // The largest message sent to a client (ServerOptions::max_message_bytes; the engine's
  // EngineConfig::max_message_bytes must not be larger). Jobs that would make an
  // ActivateJobsResponse larger are given back.
  int64_t max_message_bytes = 4 << 20;
  // StreamActivatedJobs: jobs (and their bytes) queued for one stream behind the message being
  // written; more are given back at once (yielded to polling workers). The count lets a busy
  // stream keep up with thousands of jobs a second (32 halved a full-speed benchmark's
  // throughput); the bytes bound the memory a stream holds when its jobs are large.
  size_t job_push_queue_limit = 4'096;
  size_t job_push_queue_bytes = 16 << 20;
  // StreamActivatedJobs: a write the client has not taken within this time means it stopped
  // reading; its queued jobs are given back and the stream is cancelled (the client reopens).
  int64_t job_push_stall_ms = 5'000;
  std::string version = "8.6.0";
  // Who may call (docs/security.md, "Authentication"): checked once at the start of every gRPC
  // call and REST request. Null: everyone is an anonymous caller (auth-mode none).
  std::shared_ptr<auth::Authenticator> authenticator;
};

class LongPollingRegistry;

// Receives an RPC's outcome: `status` is OK and `response` the answer, or `status` is the error
// (response then default). Called exactly once, on any thread; must not block.
template <typename Response>
using Reply = std::function<void(grpc::Status status, Response response)>;

class GatewayService final : public gateway_protocol::Gateway::CallbackService {
 public:
  GatewayService(BrokerClient& brokers, GatewayOptions options);
  ~GatewayService() override;

  using Ctx = grpc::CallbackServerContext;
  using Unary = grpc::ServerUnaryReactor;

  grpc::ServerWriteReactor<gateway_protocol::ActivateJobsResponse>* ActivateJobs(
      Ctx* context, const gateway_protocol::ActivateJobsRequest* request) override;
  grpc::ServerWriteReactor<gateway_protocol::ActivatedJob>* StreamActivatedJobs(
      Ctx* context, const gateway_protocol::StreamActivatedJobsRequest* request) override;
  Unary* CancelProcessInstance(Ctx* context,
                               const gateway_protocol::CancelProcessInstanceRequest* request,
                               gateway_protocol::CancelProcessInstanceResponse* response) override;
  Unary* CompleteJob(Ctx* context, const gateway_protocol::CompleteJobRequest* request,
                     gateway_protocol::CompleteJobResponse* response) override;
  Unary* CreateProcessInstance(Ctx* context,
                               const gateway_protocol::CreateProcessInstanceRequest* request,
                               gateway_protocol::CreateProcessInstanceResponse* response) override;
  Unary* CreateProcessInstanceWithResult(
      Ctx* context, const gateway_protocol::CreateProcessInstanceWithResultRequest* request,
      gateway_protocol::CreateProcessInstanceWithResultResponse* response) override;
  Unary* EvaluateDecision(Ctx* context, const gateway_protocol::EvaluateDecisionRequest* request,
                          gateway_protocol::EvaluateDecisionResponse* response) override;
  Unary* DeployProcess(Ctx* context, const gateway_protocol::DeployProcessRequest* request,
                       gateway_protocol::DeployProcessResponse* response) override;
  Unary* DeployResource(Ctx* context, const gateway_protocol::DeployResourceRequest* request,
                        gateway_protocol::DeployResourceResponse* response) override;
  Unary* FailJob(Ctx* context, const gateway_protocol::FailJobRequest* request,
                 gateway_protocol::FailJobResponse* response) override;
  Unary* ThrowError(Ctx* context, const gateway_protocol::ThrowErrorRequest* request,
                    gateway_protocol::ThrowErrorResponse* response) override;
  Unary* PublishMessage(Ctx* context, const gateway_protocol::PublishMessageRequest* request,
                        gateway_protocol::PublishMessageResponse* response) override;
  Unary* ResolveIncident(Ctx* context, const gateway_protocol::ResolveIncidentRequest* request,
                         gateway_protocol::ResolveIncidentResponse* response) override;
  Unary* SetVariables(Ctx* context, const gateway_protocol::SetVariablesRequest* request,
                      gateway_protocol::SetVariablesResponse* response) override;
  Unary* Topology(Ctx* context, const gateway_protocol::TopologyRequest* request,
                  gateway_protocol::TopologyResponse* response) override;
  Unary* UpdateJobRetries(Ctx* context, const gateway_protocol::UpdateJobRetriesRequest* request,
                          gateway_protocol::UpdateJobRetriesResponse* response) override;
  Unary* ModifyProcessInstance(Ctx* context,
                               const gateway_protocol::ModifyProcessInstanceRequest* request,
                               gateway_protocol::ModifyProcessInstanceResponse* response) override;
  Unary* MigrateProcessInstance(
      Ctx* context, const gateway_protocol::MigrateProcessInstanceRequest* request,
      gateway_protocol::MigrateProcessInstanceResponse* response) override;
  Unary* UpdateJobTimeout(Ctx* context, const gateway_protocol::UpdateJobTimeoutRequest* request,
                          gateway_protocol::UpdateJobTimeoutResponse* response) override;
  Unary* DeleteResource(Ctx* context, const gateway_protocol::DeleteResourceRequest* request,
                        gateway_protocol::DeleteResourceResponse* response) override;
  Unary* BroadcastSignal(Ctx* context, const gateway_protocol::BroadcastSignalRequest* request,
                         gateway_protocol::BroadcastSignalResponse* response) override;

  // The transport-neutral commands (one per unary RPC; job activation is ActivateJobs* in
  // long_polling.h).
  void Execute(const gateway_protocol::TopologyRequest& request,
               Reply<gateway_protocol::TopologyResponse> reply);
  void Execute(const gateway_protocol::DeployResourceRequest& request,
               Reply<gateway_protocol::DeployResourceResponse> reply);
  void Execute(const gateway_protocol::DeployProcessRequest& request,
               Reply<gateway_protocol::DeployProcessResponse> reply);
  void Execute(const gateway_protocol::CreateProcessInstanceRequest& request,
               Reply<gateway_protocol::CreateProcessInstanceResponse> reply);
  void Execute(const gateway_protocol::CreateProcessInstanceWithResultRequest& request,
               Reply<gateway_protocol::CreateProcessInstanceWithResultResponse> reply);
  void Execute(const gateway_protocol::CancelProcessInstanceRequest& request,
               Reply<gateway_protocol::CancelProcessInstanceResponse> reply);
  void Execute(const gateway_protocol::SetVariablesRequest& request,
               Reply<gateway_protocol::SetVariablesResponse> reply);
  void Execute(const gateway_protocol::ResolveIncidentRequest& request,
               Reply<gateway_protocol::ResolveIncidentResponse> reply);
  void Execute(const gateway_protocol::CompleteJobRequest& request,
               Reply<gateway_protocol::CompleteJobResponse> reply);
  void Execute(const gateway_protocol::FailJobRequest& request,
               Reply<gateway_protocol::FailJobResponse> reply);
  void Execute(const gateway_protocol::ThrowErrorRequest& request,
               Reply<gateway_protocol::ThrowErrorResponse> reply);
  void Execute(const gateway_protocol::UpdateJobRetriesRequest& request,
               Reply<gateway_protocol::UpdateJobRetriesResponse> reply);
  void Execute(const gateway_protocol::UpdateJobTimeoutRequest& request,
               Reply<gateway_protocol::UpdateJobTimeoutResponse> reply);
  void Execute(const gateway_protocol::PublishMessageRequest& request,
               Reply<gateway_protocol::PublishMessageResponse> reply);
  void Execute(const gateway_protocol::BroadcastSignalRequest& request,
               Reply<gateway_protocol::BroadcastSignalResponse> reply);
  void Execute(const gateway_protocol::EvaluateDecisionRequest& request,
               Reply<gateway_protocol::EvaluateDecisionResponse> reply);
  void Execute(const gateway_protocol::ModifyProcessInstanceRequest& request,
               Reply<gateway_protocol::ModifyProcessInstanceResponse> reply);
  void Execute(const gateway_protocol::MigrateProcessInstanceRequest& request,
               Reply<gateway_protocol::MigrateProcessInstanceResponse> reply);
  void Execute(const gateway_protocol::DeleteResourceRequest& request,
               Reply<gateway_protocol::DeleteResourceResponse> reply);

  // Native user tasks and 8.8's message correlation have no gRPC RPC (Zeebe offers them over
  // REST only), so their requests are the internal records. A user task command (intent: one of
  // engine/intent.h's UserTaskIntent commands) goes to the partition of its key and answers with
  // the -ED event's record; `task` holds only what the command sets.
  struct UserTaskCommand {
    int64_t user_task_key = 0;
    int32_t intent = 0;
    std::string intent_name;  // for rejection messages: "ASSIGN", "UPDATE", "COMPLETE"
    record::UserTaskRecord task;
  };
  void Execute(const UserTaskCommand& request, Reply<record::UserTaskRecord> reply);
  // Publishes with no time to live and correlates at once; answers with the CORRELATED record
  // (message_key, process_instance_key), NOT_FOUND when nothing correlates.
  void Execute(const record::MessageCorrelationRecord& request,
               Reply<record::MessageCorrelationRecord> reply);
  // Reads user tasks from the partitions' leaders (strongly consistent: a leader has processed
  // every command it acknowledged). With user_task_key: that task's partition. Otherwise a search
  // in key order across partitions, resumed after `after_key`; next_after_key is the last key of
  // a full page (0: no more).
  void Execute(const record::UserTaskQuery& request, Reply<record::UserTaskQueryResult> reply);

  // Authentication, shared by both front doors: `authorization` is the request's header value
  // (empty when absent). UNAUTHENTICATED names the reason, never the credential. The principal
  // is what authorization and tenants will look at.
  absl::StatusOr<auth::Principal> Authenticate(std::string_view authorization);
  // The same for a gRPC call (its `authorization` metadata); the error is the call's status.
  absl::StatusOr<auth::Principal> Authenticate(const grpc::CallbackServerContext& context);
  // What a refused REST caller is told to send (WWW-Authenticate); empty without authentication.
  std::string_view AuthChallenge() const;

  BrokerClient& brokers() { return brokers_; }
  const GatewayOptions& options() const { return options_; }
  Scheduler& scheduler() { return scheduler_; }
  LongPollingRegistry& long_polling() { return *long_polling_; }

 private:
  // Runs Execute for a gRPC unary call and finishes the call with its outcome.
  template <typename Request, typename Response>
  Unary* Serve(Ctx* context, const Request* request, Response* response);

  BrokerClient& brokers_;
  GatewayOptions options_;
  Scheduler scheduler_;
  std::unique_ptr<LongPollingRegistry> long_polling_;
  std::atomic<uint32_t> next_create_partition_{0};
};

}  // namespace tern::gateway
