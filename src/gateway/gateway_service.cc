#include "gateway/gateway_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "base/strings.h"
#include "gateway/long_polling.h"

namespace tern::gateway {
namespace {

using gateway_protocol::ActivatedJob;
namespace gp = gateway_protocol;

// Intent numbers of the internal protocol (see engine/intent.h; persisted, never renumbered).
constexpr int32_t kDeploymentCreate = 0;
constexpr int32_t kProcessInstanceCancel = 0;
constexpr int32_t kCreationCreate = 0;
constexpr int32_t kCreationCreateWithAwaitingResult = 2;
constexpr int32_t kJobComplete = 1;
constexpr int32_t kJobFail = 5;
constexpr int32_t kJobUpdateRetries = 7;
constexpr int32_t kJobThrowError = 10;
constexpr int32_t kJobUpdateTimeout = 16;
constexpr int32_t kVariableDocumentUpdate = 0;
constexpr int32_t kIncidentResolve = 1;
constexpr int32_t kMessagePublish = 0;
constexpr int32_t kSignalBroadcast = 0;
constexpr int32_t kDecisionEvaluationEvaluate = 0;
constexpr int32_t kModificationModify = 0;
constexpr int32_t kMigrationMigrate = 0;
constexpr int32_t kResourceDeletionDelete = 0;
constexpr int32_t kMessageCorrelationCorrelate = 1;

constexpr int kPartitionBits = 51;

record::Record Command(int64_t key, int32_t intent) {
  record::Record command;
  command.set_record_type(record::COMMAND);
  command.set_key(key);
  command.set_intent(intent);
  return command;
}

int32_t PartitionOf(int64_t key) { return static_cast<int32_t>(key >> kPartitionBits); }

template <typename Response>
using Fill = std::function<void(const record::Record& answer, Response* response)>;

// Sends `command` and replies with the answer.
template <typename Response>
void SendAndReply(BrokerClient& brokers, int32_t partition_id, record::Record command,
                  int64_t timeout_ms, std::string intent, Reply<Response> reply,
                  Fill<Response> fill) {
  brokers.Send(partition_id, std::move(command), timeout_ms,
               [reply = std::move(reply), fill = std::move(fill),
                intent = std::move(intent)](absl::StatusOr<record::Record> answer) {
                 if (!answer.ok()) {
                   reply(BrokerErrorStatus(answer.status()), Response());
                 } else if (answer->record_type() == record::COMMAND_REJECTION) {
                   reply(RejectionStatus(*answer, intent), Response());
                 } else {
                   Response response;
                   if (fill) fill(*answer, &response);
                   reply(grpc::Status::OK, std::move(response));
                 }
               });
}

template <typename Response>
void Fail(const Reply<Response>& reply, const grpc::Status& status) {
  reply(status, Response());
}

// A key whose partition bits name no partition of this cluster cannot exist.
std::optional<grpc::Status> CheckKeyPartition(int64_t key, int32_t partition_count,
                                              std::string_view intent,
                                              std::string_view not_found_reason) {
  int32_t partition = PartitionOf(key);
  if (key > 0 && partition >= 1 && partition <= partition_count) return std::nullopt;
  return grpc::Status(
      grpc::StatusCode::NOT_FOUND,
      StrCat("Command '", intent, "' rejected with code 'NOT_FOUND': ", not_found_reason));
}

// Zeebe 8.6 requests may carry an operation reference, which the command's records keep.
template <typename Request>
void CopyOperationReference(const Request& request, record::Record& command) {
  if (request.has_operationreference()) {
    command.set_operation_reference(request.operationreference());
  }
}

// An operation on one process instance (modify, migrate): the key must name a partition of
// this cluster, and the command, with the request's operation reference, goes to it.
template <typename Response, typename Request>
void SendToInstancePartition(BrokerClient& brokers, int64_t timeout_ms, const Request& request,
                             std::string intent, std::string_view verb, record::Record command,
                             Reply<Response> reply) {
  int64_t key = request.processinstancekey();
  if (auto error = CheckKeyPartition(key, brokers.partition_count(), intent,
                                     StrCat("Expected to ", verb,
                                            " process instance but no process instance found "
                                            "with key '",
                                            key, "'"))) {
    return Fail(reply, *error);
  }
  CopyOperationReference(request, command);
  SendAndReply<Response>(brokers, PartitionOf(key), std::move(command), timeout_ms,
                         std::move(intent), std::move(reply), nullptr);
}

}  // namespace

GatewayService::GatewayService(BrokerClient& brokers, GatewayOptions options)
    : brokers_(brokers),
      options_(std::move(options)),
      long_polling_(std::make_unique<LongPollingRegistry>()) {
  brokers_.SetJobsAvailableListener(
      [registry = long_polling_.get()](const std::string& type) { registry->Notify(type); });
}

GatewayService::~GatewayService() { brokers_.SetJobsAvailableListener(nullptr); }

// --- Authentication ------------------------------------------------------------------------------

absl::StatusOr<auth::Principal> GatewayService::Authenticate(std::string_view authorization) {
  if (!options_.authenticator) {
    auth::Principal anonymous;
    anonymous.mechanism = "none";
    return anonymous;
  }
  auto principal = options_.authenticator->Authenticate(authorization);
  if (!principal.ok()) {
    // The reason only: messages never hold the credential (auth.h).
    spdlog::debug("refused a caller: {}", ToStd(principal.status().message()));
  }
  return principal;
}

absl::StatusOr<auth::Principal> GatewayService::Authenticate(
    const grpc::CallbackServerContext& context) {
  if (!options_.authenticator) return Authenticate(std::string_view());
  const auto& metadata = context.client_metadata();
  auto [first, last] = metadata.equal_range("authorization");
  if (first != last && std::next(first) != last) {
    return absl::UnauthenticatedError("more than one authorization header");
  }
  return Authenticate(first == last ? std::string_view()
                                    : std::string_view(first->second.data(), first->second.size()));
}

std::string_view GatewayService::AuthChallenge() const {
  return options_.authenticator ? options_.authenticator->Challenge() : std::string_view();
}

namespace {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  // absl's and gRPC's canonical codes have the same numbers.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

// A streaming call refused before it starts (authentication): finishes at once with `status`.
template <typename Message>
class RefusedStream final : public grpc::ServerWriteReactor<Message> {
 public:
  explicit RefusedStream(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

// --- gRPC handlers -------------------------------------------------------------------------------

template <typename Request, typename Response>
grpc::ServerUnaryReactor* GatewayService::Serve(Ctx* context, const Request* request,
                                                Response* response) {
  auto* reactor = context->DefaultReactor();
  // The caller, for authorization and tenants once they exist.
  auto caller = Authenticate(*context);
  if (!caller.ok()) {
    reactor->Finish(ToGrpcStatus(caller.status()));
    return reactor;
  }
  Execute(*request, Reply<Response>([reactor, response](grpc::Status status, Response answer) {
    if (status.ok()) *response = std::move(answer);
    reactor->Finish(status);
  }));
  return reactor;
}

#define TERN_GRPC_UNARY(Rpc)                                                                   \
  grpc::ServerUnaryReactor* GatewayService::Rpc(Ctx* context, const gp::Rpc##Request* request, \
                                                gp::Rpc##Response* response) {                 \
    return Serve(context, request, response);                                                  \
  }

TERN_GRPC_UNARY(Topology)
TERN_GRPC_UNARY(DeployResource)
TERN_GRPC_UNARY(DeployProcess)
TERN_GRPC_UNARY(CreateProcessInstance)
TERN_GRPC_UNARY(CreateProcessInstanceWithResult)
TERN_GRPC_UNARY(CancelProcessInstance)
TERN_GRPC_UNARY(SetVariables)
TERN_GRPC_UNARY(ResolveIncident)
TERN_GRPC_UNARY(CompleteJob)
TERN_GRPC_UNARY(FailJob)
TERN_GRPC_UNARY(ThrowError)
TERN_GRPC_UNARY(UpdateJobRetries)
TERN_GRPC_UNARY(UpdateJobTimeout)
TERN_GRPC_UNARY(PublishMessage)
TERN_GRPC_UNARY(BroadcastSignal)
TERN_GRPC_UNARY(EvaluateDecision)
TERN_GRPC_UNARY(ModifyProcessInstance)
TERN_GRPC_UNARY(MigrateProcessInstance)
TERN_GRPC_UNARY(DeleteResource)
#undef TERN_GRPC_UNARY

grpc::ServerWriteReactor<gp::ActivateJobsResponse>* GatewayService::ActivateJobs(
    Ctx* context, const gp::ActivateJobsRequest* request) {
  auto caller = Authenticate(*context);
  if (!caller.ok())
    return new RefusedStream<gp::ActivateJobsResponse>(ToGrpcStatus(caller.status()));
  return NewActivateJobsReactor(*this, context, *request);
}

grpc::ServerWriteReactor<gp::ActivatedJob>* GatewayService::StreamActivatedJobs(
    Ctx* context, const gp::StreamActivatedJobsRequest* request) {
  auto caller = Authenticate(*context);
  if (!caller.ok()) return new RefusedStream<gp::ActivatedJob>(ToGrpcStatus(caller.status()));
  return NewJobStreamReactor(*this, context, *request);
}

// --- Topology ------------------------------------------------------------------------------------

void GatewayService::Execute(const gp::TopologyRequest&, Reply<gp::TopologyResponse> reply) {
  gp::TopologyResponse response;
  ClusterTopology topology = brokers_.Topology();
  response.set_clustersize(topology.cluster_size);
  response.set_partitionscount(topology.partitions_count);
  response.set_replicationfactor(topology.replication_factor);
  response.set_gatewayversion(options_.version);
  std::sort(topology.brokers.begin(), topology.brokers.end(),
            [](const auto& a, const auto& b) { return a.node_id < b.node_id; });
  for (const auto& broker : topology.brokers) {
    auto* info = response.add_brokers();
    info->set_nodeid(broker.node_id);
    info->set_host(broker.host);
    info->set_port(broker.port);
    info->set_version(broker.version);
    for (const auto& partition : broker.partitions) {
      auto* p = info->add_partitions();
      p->set_partitionid(partition.partition_id);
      p->set_role(static_cast<gp::Partition::PartitionBrokerRole>(partition.role));
      p->set_health(static_cast<gp::Partition::PartitionBrokerHealth>(partition.health));
    }
  }
  reply(grpc::Status::OK, std::move(response));
}

// --- Deployments ---------------------------------------------------------------------------------

void GatewayService::Execute(const gp::DeployResourceRequest& request,
                             Reply<gp::DeployResourceResponse> reply) {
  if (auto s = CheckTenant(request.tenantid(), "DeployResource"); !s.ok()) {
    return Fail(reply, ToGrpc(s));
  }
  record::Record command = Command(-1, kDeploymentCreate);
  auto* deployment = command.mutable_deployment();
  deployment->set_tenant_id(std::string(kDefaultTenant));
  for (const auto& resource : request.resources()) {
    auto* kept = deployment->add_resources();
    kept->set_resource_name(resource.name());
    kept->set_resource(resource.content());
  }
  SendAndReply<gp::DeployResourceResponse>(
      brokers_, 1, std::move(command), options_.request_timeout_ms, "CREATE", std::move(reply),
      [](const record::Record& answer, gp::DeployResourceResponse* out) {
        ToDeployResourceResponse(answer, out);
      });
}

void GatewayService::Execute(const gp::DeployProcessRequest& request,
                             Reply<gp::DeployProcessResponse> reply) {
  record::Record command = Command(-1, kDeploymentCreate);
  auto* deployment = command.mutable_deployment();
  deployment->set_tenant_id(std::string(kDefaultTenant));
  deployment->set_legacy_deploy_process(true);
  for (const auto& process : request.processes()) {
    auto* kept = deployment->add_resources();
    kept->set_resource_name(process.name());
    kept->set_resource(process.definition());
  }
  SendAndReply<gp::DeployProcessResponse>(
      brokers_, 1, std::move(command), options_.request_timeout_ms, "CREATE", std::move(reply),
      [](const record::Record& answer, gp::DeployProcessResponse* out) {
        out->set_key(answer.key());
        for (const auto& process : answer.deployment().processes()) {
          ToProcessMetadata(process, out->add_processes());
        }
      });
}

// --- Process instances ---------------------------------------------------------------------------

namespace {

absl::StatusOr<record::ProcessInstanceCreationRecord> CreationFromRequest(
    const gp::CreateProcessInstanceRequest& request, const RequestLimits& limits,
    std::string_view rpc) {
  if (auto s = CheckTenant(request.tenantid(), rpc); !s.ok()) return s;
  if (auto s = CheckVariables(request.variables(), "variables", limits); !s.ok()) return s;
  if (auto s = CheckName(request.bpmnprocessid(), "bpmnProcessId", false, limits); !s.ok()) {
    return s;
  }
  record::ProcessInstanceCreationRecord creation;
  creation.set_bpmn_process_id(request.bpmnprocessid());
  creation.set_version(request.version());
  creation.set_process_definition_key(request.processdefinitionkey());
  creation.set_variables(request.variables());
  creation.set_tenant_id(std::string(kDefaultTenant));
  for (const auto& instruction : request.startinstructions()) {
    if (auto s = CheckName(instruction.elementid(), "startInstructions.elementId", true, limits);
        !s.ok()) {
      return s;
    }
    creation.add_start_instructions()->set_element_id(instruction.elementid());
  }
  return creation;
}

// Creates on one partition after another while partitions answer UNAVAILABLE (they did not
// write the command, so trying the next one cannot create a second instance). Any other error,
// including a timeout whose outcome is unknown, is final.
void CreateOnSomePartition(BrokerClient& brokers, record::Record command, int64_t timeout_ms,
                           uint32_t first, int32_t attempts_left, CommandCallback done) {
  int32_t count = std::max(1, brokers.partition_count());
  int32_t partition = static_cast<int32_t>(first % static_cast<uint32_t>(count)) + 1;
  record::Record copy = command;
  brokers.Send(partition, std::move(copy), timeout_ms,
               [&brokers, command = std::move(command), timeout_ms, first, attempts_left,
                done = std::move(done)](absl::StatusOr<record::Record> answer) mutable {
                 if (!answer.ok() && answer.status().code() == absl::StatusCode::kUnavailable &&
                     attempts_left > 1) {
                   CreateOnSomePartition(brokers, std::move(command), timeout_ms, first + 1,
                                         attempts_left - 1, std::move(done));
                   return;
                 }
                 done(std::move(answer));
               });
}

}  // namespace

void GatewayService::Execute(const gp::CreateProcessInstanceRequest& request,
                             Reply<gp::CreateProcessInstanceResponse> reply) {
  auto creation = CreationFromRequest(request, options_.limits, "CreateProcessInstance");
  if (!creation.ok()) return Fail(reply, ToGrpc(creation.status()));
  record::Record command = Command(-1, kCreationCreate);
  *command.mutable_process_instance_creation() = *std::move(creation);
  CopyOperationReference(request, command);
  CreateOnSomePartition(brokers_, std::move(command), options_.request_timeout_ms,
                        next_create_partition_++, brokers_.partition_count(),
                        [reply = std::move(reply)](absl::StatusOr<record::Record> answer) {
                          if (!answer.ok()) return Fail(reply, BrokerErrorStatus(answer.status()));
                          if (answer->record_type() == record::COMMAND_REJECTION) {
                            return Fail(reply, RejectionStatus(*answer, "CREATE"));
                          }
                          const auto& created = answer->process_instance_creation();
                          gp::CreateProcessInstanceResponse response;
                          response.set_processdefinitionkey(created.process_definition_key());
                          response.set_bpmnprocessid(created.bpmn_process_id());
                          response.set_version(created.version());
                          response.set_processinstancekey(created.process_instance_key());
                          response.set_tenantid(created.tenant_id());
                          reply(grpc::Status::OK, std::move(response));
                        });
}

void GatewayService::Execute(const gp::CreateProcessInstanceWithResultRequest& request,
                             Reply<gp::CreateProcessInstanceWithResultResponse> reply) {
  auto creation =
      CreationFromRequest(request.request(), options_.limits, "CreateProcessInstanceWithResult");
  if (!creation.ok()) return Fail(reply, ToGrpc(creation.status()));
  for (const auto& name : request.fetchvariables()) {
    if (auto s = CheckName(name, "fetchVariables", true, options_.limits); !s.ok()) {
      return Fail(reply, ToGrpc(s));
    }
    creation->add_fetch_variables(name);
  }
  record::Record command = Command(-1, kCreationCreateWithAwaitingResult);
  *command.mutable_process_instance_creation() = *std::move(creation);
  int64_t timeout_ms = request.requesttimeout() > 0
                           ? std::min<int64_t>(request.requesttimeout(), int64_t{1} << 40)
                           : options_.request_timeout_ms;
  CreateOnSomePartition(
      brokers_, std::move(command), timeout_ms, next_create_partition_++,
      brokers_.partition_count(),
      [reply = std::move(reply)](absl::StatusOr<record::Record> answer) {
        if (!answer.ok()) return Fail(reply, BrokerErrorStatus(answer.status()));
        if (answer->record_type() == record::COMMAND_REJECTION) {
          return Fail(reply, RejectionStatus(*answer, "CREATE_WITH_AWAITING_RESULT"));
        }
        const auto& result = answer->process_instance_result();
        gp::CreateProcessInstanceWithResultResponse response;
        response.set_processdefinitionkey(result.process_definition_key());
        response.set_bpmnprocessid(result.bpmn_process_id());
        response.set_version(result.version());
        response.set_processinstancekey(result.process_instance_key());
        response.set_variables(result.variables().empty() ? "{}" : result.variables());
        response.set_tenantid(result.tenant_id());
        reply(grpc::Status::OK, std::move(response));
      });
}

void GatewayService::Execute(const gp::CancelProcessInstanceRequest& request,
                             Reply<gp::CancelProcessInstanceResponse> reply) {
  int64_t key = request.processinstancekey();
  if (auto error = CheckKeyPartition(key, brokers_.partition_count(), "CANCEL",
                                     StrCat("Expected to cancel a process instance with key '", key,
                                            "', but no such process was found"))) {
    return Fail(reply, *error);
  }
  record::Record command = Command(key, kProcessInstanceCancel);
  command.mutable_process_instance()->set_process_instance_key(key);
  CopyOperationReference(request, command);
  SendAndReply<gp::CancelProcessInstanceResponse>(brokers_, PartitionOf(key), std::move(command),
                                                  options_.request_timeout_ms, "CANCEL",
                                                  std::move(reply), nullptr);
}

void GatewayService::Execute(const gp::SetVariablesRequest& request,
                             Reply<gp::SetVariablesResponse> reply) {
  int64_t key = request.elementinstancekey();
  if (auto s = CheckVariables(request.variables(), "variables", options_.limits); !s.ok()) {
    return Fail(reply, ToGrpc(s));
  }
  if (auto error = CheckKeyPartition(key, brokers_.partition_count(), "UPDATE",
                                     StrCat("Expected to update variables for element with key '",
                                            key, "', but no such element was found"))) {
    return Fail(reply, *error);
  }
  record::Record command = Command(-1, kVariableDocumentUpdate);
  auto* document = command.mutable_variable_document();
  document->set_scope_key(key);
  document->set_variables(request.variables());
  document->set_update_semantics(request.local() ? record::LOCAL : record::PROPAGATE);
  CopyOperationReference(request, command);
  SendAndReply<gp::SetVariablesResponse>(
      brokers_, PartitionOf(key), std::move(command), options_.request_timeout_ms, "UPDATE",
      std::move(reply), [](const record::Record& answer, gp::SetVariablesResponse* out) {
        out->set_key(answer.key());
      });
}

void GatewayService::Execute(const gp::ResolveIncidentRequest& request,
                             Reply<gp::ResolveIncidentResponse> reply) {
  int64_t key = request.incidentkey();
  if (auto error = CheckKeyPartition(key, brokers_.partition_count(), "RESOLVE",
                                     StrCat("Expected to resolve incident with key '", key,
                                            "', but no such incident was found"))) {
    return Fail(reply, *error);
  }
  record::Record command = Command(key, kIncidentResolve);
  command.mutable_incident();
  CopyOperationReference(request, command);
  SendAndReply<gp::ResolveIncidentResponse>(brokers_, PartitionOf(key), std::move(command),
                                            options_.request_timeout_ms, "RESOLVE",
                                            std::move(reply), nullptr);
}

// --- Jobs ----------------------------------------------------------------------------------------

void GatewayService::Execute(const gp::CompleteJobRequest& request,
                             Reply<gp::CompleteJobResponse> reply) {
  int64_t key = request.jobkey();
  if (auto s = CheckVariables(request.variables(), "variables", options_.limits); !s.ok()) {
    return Fail(reply, ToGrpc(s));
  }
  if (auto error = CheckKeyPartition(
          key, brokers_.partition_count(), "COMPLETE",
          StrCat("Expected to complete job with key '", key, "', but no such job was found"))) {
    return Fail(reply, *error);
  }
  record::Record command = Command(key, kJobComplete);
  command.mutable_job()->set_variables(request.variables());
  SendAndReply<gp::CompleteJobResponse>(brokers_, PartitionOf(key), std::move(command),
                                        options_.request_timeout_ms, "COMPLETE", std::move(reply),
                                        nullptr);
}

void GatewayService::Execute(const gp::FailJobRequest& request, Reply<gp::FailJobResponse> reply) {
  int64_t key = request.jobkey();
  if (auto s = CheckVariables(request.variables(), "variables", options_.limits); !s.ok()) {
    return Fail(reply, ToGrpc(s));
  }
  if (request.errormessage().size() > static_cast<size_t>(options_.limits.max_variables_bytes)) {
    return Fail(reply, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                    "Expected 'errorMessage' to be at most 1 MiB"));
  }
  if (auto error = CheckKeyPartition(
          key, brokers_.partition_count(), "FAIL",
          StrCat("Expected to fail job with key '", key, "', but no such job was found"))) {
    return Fail(reply, *error);
  }
  record::Record command = Command(key, kJobFail);
  auto* job = command.mutable_job();
  job->set_retries(request.retries());
  job->set_error_message(request.errormessage());
  job->set_retry_backoff(std::clamp<int64_t>(request.retrybackoff(), 0, int64_t{1} << 40));
  job->set_variables(request.variables());
  SendAndReply<gp::FailJobResponse>(brokers_, PartitionOf(key), std::move(command),
                                    options_.request_timeout_ms, "FAIL", std::move(reply), nullptr);
}

void GatewayService::Execute(const gp::ThrowErrorRequest& request,
                             Reply<gp::ThrowErrorResponse> reply) {
  int64_t key = request.jobkey();
  if (auto s = CheckVariables(request.variables(), "variables", options_.limits); !s.ok()) {
    return Fail(reply, ToGrpc(s));
  }
  if (auto s = CheckName(request.errorcode(), "errorCode", true, options_.limits); !s.ok()) {
    return Fail(reply, ToGrpc(s));
  }
  if (auto error = CheckKeyPartition(key, brokers_.partition_count(), "THROW_ERROR",
                                     StrCat("Expected to throw an error for job with key '", key,
                                            "', but no such job was found"))) {
    return Fail(reply, *error);
  }
  record::Record command = Command(key, kJobThrowError);
  auto* job = command.mutable_job();
  job->set_error_code(request.errorcode());
  job->set_error_message(request.errormessage());
  job->set_variables(request.variables());
  SendAndReply<gp::ThrowErrorResponse>(brokers_, PartitionOf(key), std::move(command),
                                       options_.request_timeout_ms, "THROW_ERROR", std::move(reply),
                                       nullptr);
}

void GatewayService::Execute(const gp::UpdateJobRetriesRequest& request,
                             Reply<gp::UpdateJobRetriesResponse> reply) {
  int64_t key = request.jobkey();
  if (auto error = CheckKeyPartition(key, brokers_.partition_count(), "UPDATE_RETRIES",
                                     StrCat("Expected to update retries of job with key '", key,
                                            "', but no such job was found"))) {
    return Fail(reply, *error);
  }
  record::Record command = Command(key, kJobUpdateRetries);
  command.mutable_job()->set_retries(request.retries());
  CopyOperationReference(request, command);
  SendAndReply<gp::UpdateJobRetriesResponse>(brokers_, PartitionOf(key), std::move(command),
                                             options_.request_timeout_ms, "UPDATE_RETRIES",
                                             std::move(reply), nullptr);
}

void GatewayService::Execute(const gp::UpdateJobTimeoutRequest& request,
                             Reply<gp::UpdateJobTimeoutResponse> reply) {
  int64_t key = request.jobkey();
  if (auto error = CheckKeyPartition(key, brokers_.partition_count(), "UPDATE_TIMEOUT",
                                     StrCat("Expected to update the timeout of job with key '", key,
                                            "', but no such job was found"))) {
    return Fail(reply, *error);
  }
  record::Record command = Command(key, kJobUpdateTimeout);
  command.mutable_job()->set_timeout(request.timeout());
  CopyOperationReference(request, command);
  SendAndReply<gp::UpdateJobTimeoutResponse>(brokers_, PartitionOf(key), std::move(command),
                                             options_.request_timeout_ms, "UPDATE_TIMEOUT",
                                             std::move(reply), nullptr);
}

// --- Messages, signals, decisions ---------------------------------------------------------------

void GatewayService::Execute(const gp::PublishMessageRequest& request,
                             Reply<gp::PublishMessageResponse> reply) {
  auto message = MessageFromRequest(request, options_.limits);
  if (!message.ok()) return Fail(reply, ToGrpc(message.status()));
  int32_t partition =
      MessagePartitionId(message->correlation_key(), std::max(1, brokers_.partition_count()));
  record::Record command = Command(-1, kMessagePublish);
  *command.mutable_message() = *std::move(message);
  SendAndReply<gp::PublishMessageResponse>(
      brokers_, partition, std::move(command), options_.request_timeout_ms, "PUBLISH",
      std::move(reply), [](const record::Record& answer, gp::PublishMessageResponse* out) {
        out->set_key(answer.key());
        out->set_tenantid(answer.message().tenant_id().empty() ? std::string(kDefaultTenant)
                                                               : answer.message().tenant_id());
      });
}

void GatewayService::Execute(const gp::BroadcastSignalRequest& request,
                             Reply<gp::BroadcastSignalResponse> reply) {
  auto signal = SignalFromRequest(request, options_.limits);
  if (!signal.ok()) return Fail(reply, ToGrpc(signal.status()));
  record::Record command = Command(-1, kSignalBroadcast);
  *command.mutable_signal() = *std::move(signal);
  // Partition 1 starts the instances of signal start events and relays the broadcast to the
  // other partitions, as the deployment partition does in Zeebe.
  SendAndReply<gp::BroadcastSignalResponse>(
      brokers_, 1, std::move(command), options_.request_timeout_ms, "BROADCAST", std::move(reply),
      [](const record::Record& answer, gp::BroadcastSignalResponse* out) {
        out->set_key(answer.key());
        out->set_tenantid(answer.signal().tenant_id().empty() ? std::string(kDefaultTenant)
                                                              : answer.signal().tenant_id());
      });
}

void GatewayService::Execute(const gp::EvaluateDecisionRequest& request,
                             Reply<gp::EvaluateDecisionResponse> reply) {
  auto evaluation = DecisionEvaluationFromRequest(request, options_.limits);
  if (!evaluation.ok()) return Fail(reply, ToGrpc(evaluation.status()));
  record::Record command = Command(-1, kDecisionEvaluationEvaluate);
  *command.mutable_decision_evaluation() = *std::move(evaluation);
  // Decisions are deployed to every partition: any of them can evaluate.
  CreateOnSomePartition(brokers_, std::move(command), options_.request_timeout_ms,
                        next_create_partition_++, brokers_.partition_count(),
                        [reply = std::move(reply)](absl::StatusOr<record::Record> answer) {
                          if (!answer.ok()) return Fail(reply, BrokerErrorStatus(answer.status()));
                          if (answer->record_type() == record::COMMAND_REJECTION) {
                            return Fail(reply, RejectionStatus(*answer, "EVALUATE"));
                          }
                          gp::EvaluateDecisionResponse response;
                          ToEvaluateDecisionResponse(*answer, &response);
                          reply(grpc::Status::OK, std::move(response));
                        });
}

// --- Operations on instances and resources ------------------------------------------------------

void GatewayService::Execute(const gp::ModifyProcessInstanceRequest& request,
                             Reply<gp::ModifyProcessInstanceResponse> reply) {
  auto modification = ModificationFromRequest(request, options_.limits);
  if (!modification.ok()) return Fail(reply, ToGrpc(modification.status()));
  record::Record command = Command(request.processinstancekey(), kModificationModify);
  *command.mutable_process_instance_modification() = *std::move(modification);
  SendToInstancePartition(brokers_, options_.request_timeout_ms, request, "MODIFY", "modify",
                          std::move(command), std::move(reply));
}

void GatewayService::Execute(const gp::MigrateProcessInstanceRequest& request,
                             Reply<gp::MigrateProcessInstanceResponse> reply) {
  auto migration = MigrationFromRequest(request, options_.limits);
  if (!migration.ok()) return Fail(reply, ToGrpc(migration.status()));
  record::Record command = Command(request.processinstancekey(), kMigrationMigrate);
  *command.mutable_process_instance_migration() = *std::move(migration);
  SendToInstancePartition(brokers_, options_.request_timeout_ms, request, "MIGRATE", "migrate",
                          std::move(command), std::move(reply));
}

void GatewayService::Execute(const gp::DeleteResourceRequest& request,
                             Reply<gp::DeleteResourceResponse> reply) {
  int64_t key = request.resourcekey();
  if (key <= 0) {
    return Fail(reply, grpc::Status(grpc::StatusCode::NOT_FOUND,
                                    StrCat("Command 'DELETE' rejected with code 'NOT_FOUND': "
                                           "Expected to delete resource but no resource found "
                                           "with key `",
                                           key, "`")));
  }
  record::Record command = Command(key, kResourceDeletionDelete);
  command.mutable_resource_deletion()->set_resource_key(key);
  command.mutable_resource_deletion()->set_tenant_id(std::string(kDefaultTenant));
  CopyOperationReference(request, command);
  // Resources are deployed on partition 1, which distributes the deletion to the others.
  SendAndReply<gp::DeleteResourceResponse>(brokers_, 1, std::move(command),
                                           options_.request_timeout_ms, "DELETE", std::move(reply),
                                           nullptr);
}

void GatewayService::Execute(const UserTaskCommand& request, Reply<record::UserTaskRecord> reply) {
  const int64_t key = request.user_task_key;
  if (auto s = CheckVariables(request.task.variables(), "variables", options_.limits); !s.ok()) {
    return Fail(reply, ToGrpc(s));
  }
  if (auto error = CheckKeyPartition(
          key, brokers_.partition_count(), request.intent_name,
          StrCat("Expected to ", absl::AsciiStrToLower(request.intent_name),
                 " user task with key '", key, "', but no such user task was found"))) {
    return Fail(reply, *error);
  }
  record::Record command = Command(key, request.intent);
  *command.mutable_user_task() = request.task;
  command.mutable_user_task()->set_user_task_key(key);
  SendAndReply<record::UserTaskRecord>(
      brokers_, PartitionOf(key), std::move(command), options_.request_timeout_ms,
      request.intent_name, std::move(reply),
      [](const record::Record& answer, record::UserTaskRecord* out) { *out = answer.user_task(); });
}

void GatewayService::Execute(const record::MessageCorrelationRecord& request,
                             Reply<record::MessageCorrelationRecord> reply) {
  if (request.name().empty()) {
    return Fail(reply, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "No name provided."));
  }
  if (auto s = CheckVariables(request.variables(), "variables", options_.limits); !s.ok()) {
    return Fail(reply, ToGrpc(s));
  }
  // The partition of the correlation key, like a publication, so that the message meets the
  // same subscriptions a published one would.
  const int32_t partition =
      MessagePartitionId(request.correlation_key(), std::max(1, brokers_.partition_count()));
  record::Record command = Command(-1, kMessageCorrelationCorrelate);
  *command.mutable_message_correlation() = request;
  SendAndReply<record::MessageCorrelationRecord>(
      brokers_, partition, std::move(command), options_.request_timeout_ms, "CORRELATE",
      std::move(reply), [](const record::Record& answer, record::MessageCorrelationRecord* out) {
        *out = answer.message_correlation();
        if (out->message_key() == 0) out->set_message_key(answer.key());
        if (out->tenant_id().empty()) out->set_tenant_id(std::string(kDefaultTenant));
      });
}

namespace {

// A search across partitions in key order: every key of partition p is below every key of
// partition p + 1, so the pages of partitions p, p + 1, ... (each after `after_key`) concatenate
// to one page in key order.
struct UserTaskSearch {
  BrokerClient* brokers = nullptr;
  record::UserTaskQuery query;
  int32_t limit = 0;
  int32_t last_partition = 0;
  record::UserTaskQueryResult collected;
  Reply<record::UserTaskQueryResult> reply;
};

void SearchFrom(std::shared_ptr<UserTaskSearch> search, int32_t partition) {
  record::UserTaskQuery query = search->query;
  query.set_limit(search->limit - search->collected.tasks_size());
  search->brokers->QueryUserTasks(
      partition, std::move(query),
      [search, partition](absl::StatusOr<record::UserTaskQueryResult> page) {
        if (!page.ok()) return search->reply(BrokerErrorStatus(page.status()), {});
        for (auto& task : *page->mutable_tasks()) *search->collected.add_tasks() = std::move(task);
        if (page->has_form()) *search->collected.mutable_form() = std::move(*page->mutable_form());
        const bool full = search->collected.tasks_size() >= search->limit;
        if (!full && partition < search->last_partition) return SearchFrom(search, partition + 1);
        search->collected.set_next_after_key(
            full ? search->collected.tasks(search->collected.tasks_size() - 1)
                       .record()
                       .user_task_key()
                 : 0);
        search->reply(grpc::Status::OK, std::move(search->collected));
      });
}

}  // namespace

void GatewayService::Execute(const record::UserTaskQuery& request,
                             Reply<record::UserTaskQueryResult> reply) {
  const int32_t partitions = std::max(1, brokers_.partition_count());
  auto search = std::make_shared<UserTaskSearch>();
  search->brokers = &brokers_;
  search->query = request;
  search->limit = request.limit() <= 0 ? 100 : std::min(request.limit(), 1000);
  search->reply = std::move(reply);
  search->last_partition = partitions;
  // A key names its partition: a get, or a search within one process instance, asks only it.
  const int64_t pinned =
      request.user_task_key() != 0 ? request.user_task_key() : request.process_instance_key();
  int32_t first = request.after_key() > 0 ? PartitionOf(request.after_key()) : 1;
  if (pinned != 0) {
    const int32_t partition = PartitionOf(pinned);
    if (pinned < 0 || partition < 1 || partition > partitions || partition < first) {
      return search->reply(grpc::Status::OK, {});
    }
    first = partition;
    search->last_partition = partition;
  }
  if (first < 1 || first > partitions) return search->reply(grpc::Status::OK, {});
  SearchFrom(std::move(search), first);
}

}  // namespace tern::gateway
