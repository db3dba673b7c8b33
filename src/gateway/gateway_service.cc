#include "gateway/gateway_service.h"

#include <algorithm>
#include <deque>
#include <optional>
#include <vector>

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

// Sends `command` and finishes the unary call with the answer.
template <typename Response>
grpc::ServerUnaryReactor* SendAndFinish(grpc::CallbackServerContext* context, BrokerClient& brokers,
                                        int32_t partition_id, record::Record command,
                                        int64_t timeout_ms, std::string intent, Response* response,
                                        Fill<Response> fill) {
  auto* reactor = context->DefaultReactor();
  brokers.Send(partition_id, std::move(command), timeout_ms,
               [reactor, response, fill = std::move(fill),
                intent = std::move(intent)](absl::StatusOr<record::Record> answer) {
                 if (!answer.ok()) {
                   reactor->Finish(BrokerErrorStatus(answer.status()));
                 } else if (answer->record_type() == record::COMMAND_REJECTION) {
                   reactor->Finish(RejectionStatus(*answer, intent));
                 } else {
                   if (fill) fill(*answer, response);
                   reactor->Finish(grpc::Status::OK);
                 }
               });
  return reactor;
}

grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                    const grpc::Status& status) {
  auto* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
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
grpc::ServerUnaryReactor* SendToInstancePartition(grpc::CallbackServerContext* context,
                                                  BrokerClient& brokers, int64_t timeout_ms,
                                                  const Request& request, std::string intent,
                                                  std::string_view verb, record::Record command,
                                                  Response* response) {
  int64_t key = request.processinstancekey();
  if (auto error = CheckKeyPartition(key, brokers.partition_count(), intent,
                                     StrCat("Expected to ", verb,
                                            " process instance but no process instance found "
                                            "with key '",
                                            key, "'"))) {
    return FinishNow(context, *error);
  }
  CopyOperationReference(request, command);
  return SendAndFinish<Response>(context, brokers, PartitionOf(key), std::move(command), timeout_ms,
                                 std::move(intent), response, nullptr);
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

// --- Topology ------------------------------------------------------------------------------------

grpc::ServerUnaryReactor* GatewayService::Topology(Ctx* context, const gp::TopologyRequest*,
                                                   gp::TopologyResponse* response) {
  ClusterTopology topology = brokers_.Topology();
  response->set_clustersize(topology.cluster_size);
  response->set_partitionscount(topology.partitions_count);
  response->set_replicationfactor(topology.replication_factor);
  response->set_gatewayversion(options_.version);
  std::sort(topology.brokers.begin(), topology.brokers.end(),
            [](const auto& a, const auto& b) { return a.node_id < b.node_id; });
  for (const auto& broker : topology.brokers) {
    auto* info = response->add_brokers();
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
  return FinishNow(context, grpc::Status::OK);
}

// --- Deployments ---------------------------------------------------------------------------------

grpc::ServerUnaryReactor* GatewayService::DeployResource(Ctx* context,
                                                         const gp::DeployResourceRequest* request,
                                                         gp::DeployResourceResponse* response) {
  if (auto s = CheckTenant(request->tenantid(), "DeployResource"); !s.ok()) {
    return FinishNow(context, ToGrpc(s));
  }
  record::Record command = Command(-1, kDeploymentCreate);
  auto* deployment = command.mutable_deployment();
  deployment->set_tenant_id(std::string(kDefaultTenant));
  for (const auto& resource : request->resources()) {
    auto* kept = deployment->add_resources();
    kept->set_resource_name(resource.name());
    kept->set_resource(resource.content());
  }
  return SendAndFinish<gp::DeployResourceResponse>(
      context, brokers_, 1, std::move(command), options_.request_timeout_ms, "CREATE", response,
      [](const record::Record& answer, gp::DeployResourceResponse* out) {
        ToDeployResourceResponse(answer, out);
      });
}

grpc::ServerUnaryReactor* GatewayService::DeployProcess(Ctx* context,
                                                        const gp::DeployProcessRequest* request,
                                                        gp::DeployProcessResponse* response) {
  record::Record command = Command(-1, kDeploymentCreate);
  auto* deployment = command.mutable_deployment();
  deployment->set_tenant_id(std::string(kDefaultTenant));
  deployment->set_legacy_deploy_process(true);
  for (const auto& process : request->processes()) {
    auto* kept = deployment->add_resources();
    kept->set_resource_name(process.name());
    kept->set_resource(process.definition());
  }
  return SendAndFinish<gp::DeployProcessResponse>(
      context, brokers_, 1, std::move(command), options_.request_timeout_ms, "CREATE", response,
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

grpc::ServerUnaryReactor* GatewayService::CreateProcessInstance(
    Ctx* context, const gp::CreateProcessInstanceRequest* request,
    gp::CreateProcessInstanceResponse* response) {
  auto creation = CreationFromRequest(*request, options_.limits, "CreateProcessInstance");
  if (!creation.ok()) return FinishNow(context, ToGrpc(creation.status()));
  record::Record command = Command(-1, kCreationCreate);
  *command.mutable_process_instance_creation() = *std::move(creation);
  CopyOperationReference(*request, command);
  auto* reactor = context->DefaultReactor();
  CreateOnSomePartition(brokers_, std::move(command), options_.request_timeout_ms,
                        next_create_partition_++, brokers_.partition_count(),
                        [reactor, response](absl::StatusOr<record::Record> answer) {
                          if (!answer.ok())
                            return reactor->Finish(BrokerErrorStatus(answer.status()));
                          if (answer->record_type() == record::COMMAND_REJECTION) {
                            return reactor->Finish(RejectionStatus(*answer, "CREATE"));
                          }
                          const auto& created = answer->process_instance_creation();
                          response->set_processdefinitionkey(created.process_definition_key());
                          response->set_bpmnprocessid(created.bpmn_process_id());
                          response->set_version(created.version());
                          response->set_processinstancekey(created.process_instance_key());
                          response->set_tenantid(created.tenant_id());
                          reactor->Finish(grpc::Status::OK);
                        });
  return reactor;
}

grpc::ServerUnaryReactor* GatewayService::CreateProcessInstanceWithResult(
    Ctx* context, const gp::CreateProcessInstanceWithResultRequest* request,
    gp::CreateProcessInstanceWithResultResponse* response) {
  auto creation =
      CreationFromRequest(request->request(), options_.limits, "CreateProcessInstanceWithResult");
  if (!creation.ok()) return FinishNow(context, ToGrpc(creation.status()));
  for (const auto& name : request->fetchvariables()) {
    if (auto s = CheckName(name, "fetchVariables", true, options_.limits); !s.ok()) {
      return FinishNow(context, ToGrpc(s));
    }
    creation->add_fetch_variables(name);
  }
  record::Record command = Command(-1, kCreationCreateWithAwaitingResult);
  *command.mutable_process_instance_creation() = *std::move(creation);
  int64_t timeout_ms = request->requesttimeout() > 0
                           ? std::min<int64_t>(request->requesttimeout(), int64_t{1} << 40)
                           : options_.request_timeout_ms;
  auto* reactor = context->DefaultReactor();
  CreateOnSomePartition(
      brokers_, std::move(command), timeout_ms, next_create_partition_++,
      brokers_.partition_count(), [reactor, response](absl::StatusOr<record::Record> answer) {
        if (!answer.ok()) return reactor->Finish(BrokerErrorStatus(answer.status()));
        if (answer->record_type() == record::COMMAND_REJECTION) {
          return reactor->Finish(RejectionStatus(*answer, "CREATE_WITH_AWAITING_RESULT"));
        }
        const auto& result = answer->process_instance_result();
        response->set_processdefinitionkey(result.process_definition_key());
        response->set_bpmnprocessid(result.bpmn_process_id());
        response->set_version(result.version());
        response->set_processinstancekey(result.process_instance_key());
        response->set_variables(result.variables().empty() ? "{}" : result.variables());
        response->set_tenantid(result.tenant_id());
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::ServerUnaryReactor* GatewayService::CancelProcessInstance(
    Ctx* context, const gp::CancelProcessInstanceRequest* request,
    gp::CancelProcessInstanceResponse* response) {
  int64_t key = request->processinstancekey();
  if (auto error = CheckKeyPartition(key, brokers_.partition_count(), "CANCEL",
                                     StrCat("Expected to cancel a process instance with key '", key,
                                            "', but no such process was found"))) {
    return FinishNow(context, *error);
  }
  record::Record command = Command(key, kProcessInstanceCancel);
  command.mutable_process_instance()->set_process_instance_key(key);
  CopyOperationReference(*request, command);
  return SendAndFinish<gp::CancelProcessInstanceResponse>(
      context, brokers_, PartitionOf(key), std::move(command), options_.request_timeout_ms,
      "CANCEL", response, nullptr);
}

grpc::ServerUnaryReactor* GatewayService::SetVariables(Ctx* context,
                                                       const gp::SetVariablesRequest* request,
                                                       gp::SetVariablesResponse* response) {
  int64_t key = request->elementinstancekey();
  if (auto s = CheckVariables(request->variables(), "variables", options_.limits); !s.ok()) {
    return FinishNow(context, ToGrpc(s));
  }
  if (auto error = CheckKeyPartition(key, brokers_.partition_count(), "UPDATE",
                                     StrCat("Expected to update variables for element with key '",
                                            key, "', but no such element was found"))) {
    return FinishNow(context, *error);
  }
  record::Record command = Command(-1, kVariableDocumentUpdate);
  auto* document = command.mutable_variable_document();
  document->set_scope_key(key);
  document->set_variables(request->variables());
  document->set_update_semantics(request->local() ? record::LOCAL : record::PROPAGATE);
  CopyOperationReference(*request, command);
  return SendAndFinish<gp::SetVariablesResponse>(
      context, brokers_, PartitionOf(key), std::move(command), options_.request_timeout_ms,
      "UPDATE", response, [](const record::Record& answer, gp::SetVariablesResponse* out) {
        out->set_key(answer.key());
      });
}

grpc::ServerUnaryReactor* GatewayService::ResolveIncident(Ctx* context,
                                                          const gp::ResolveIncidentRequest* request,
                                                          gp::ResolveIncidentResponse* response) {
  int64_t key = request->incidentkey();
  if (auto error = CheckKeyPartition(key, brokers_.partition_count(), "RESOLVE",
                                     StrCat("Expected to resolve incident with key '", key,
                                            "', but no such incident was found"))) {
    return FinishNow(context, *error);
  }
  record::Record command = Command(key, kIncidentResolve);
  command.mutable_incident();
  CopyOperationReference(*request, command);
  return SendAndFinish<gp::ResolveIncidentResponse>(context, brokers_, PartitionOf(key),
                                                    std::move(command), options_.request_timeout_ms,
                                                    "RESOLVE", response, nullptr);
}

// --- Jobs ----------------------------------------------------------------------------------------

grpc::ServerUnaryReactor* GatewayService::CompleteJob(Ctx* context,
                                                      const gp::CompleteJobRequest* request,
                                                      gp::CompleteJobResponse* response) {
  int64_t key = request->jobkey();
  if (auto s = CheckVariables(request->variables(), "variables", options_.limits); !s.ok()) {
    return FinishNow(context, ToGrpc(s));
  }
  if (auto error = CheckKeyPartition(
          key, brokers_.partition_count(), "COMPLETE",
          StrCat("Expected to complete job with key '", key, "', but no such job was found"))) {
    return FinishNow(context, *error);
  }
  record::Record command = Command(key, kJobComplete);
  command.mutable_job()->set_variables(request->variables());
  return SendAndFinish<gp::CompleteJobResponse>(context, brokers_, PartitionOf(key),
                                                std::move(command), options_.request_timeout_ms,
                                                "COMPLETE", response, nullptr);
}

grpc::ServerUnaryReactor* GatewayService::FailJob(Ctx* context, const gp::FailJobRequest* request,
                                                  gp::FailJobResponse* response) {
  int64_t key = request->jobkey();
  if (auto s = CheckVariables(request->variables(), "variables", options_.limits); !s.ok()) {
    return FinishNow(context, ToGrpc(s));
  }
  if (request->errormessage().size() > static_cast<size_t>(options_.limits.max_variables_bytes)) {
    return FinishNow(context, grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                           "Expected 'errorMessage' to be at most 1 MiB"));
  }
  if (auto error = CheckKeyPartition(
          key, brokers_.partition_count(), "FAIL",
          StrCat("Expected to fail job with key '", key, "', but no such job was found"))) {
    return FinishNow(context, *error);
  }
  record::Record command = Command(key, kJobFail);
  auto* job = command.mutable_job();
  job->set_retries(request->retries());
  job->set_error_message(request->errormessage());
  job->set_retry_backoff(std::clamp<int64_t>(request->retrybackoff(), 0, int64_t{1} << 40));
  job->set_variables(request->variables());
  return SendAndFinish<gp::FailJobResponse>(context, brokers_, PartitionOf(key), std::move(command),
                                            options_.request_timeout_ms, "FAIL", response, nullptr);
}

grpc::ServerUnaryReactor* GatewayService::ThrowError(Ctx* context,
                                                     const gp::ThrowErrorRequest* request,
                                                     gp::ThrowErrorResponse* response) {
  int64_t key = request->jobkey();
  if (auto s = CheckVariables(request->variables(), "variables", options_.limits); !s.ok()) {
    return FinishNow(context, ToGrpc(s));
  }
  if (auto s = CheckName(request->errorcode(), "errorCode", true, options_.limits); !s.ok()) {
    return FinishNow(context, ToGrpc(s));
  }
  if (auto error = CheckKeyPartition(key, brokers_.partition_count(), "THROW_ERROR",
                                     StrCat("Expected to throw an error for job with key '", key,
                                            "', but no such job was found"))) {
    return FinishNow(context, *error);
  }
  record::Record command = Command(key, kJobThrowError);
  auto* job = command.mutable_job();
  job->set_error_code(request->errorcode());
  job->set_error_message(request->errormessage());
  job->set_variables(request->variables());
  return SendAndFinish<gp::ThrowErrorResponse>(context, brokers_, PartitionOf(key),
                                               std::move(command), options_.request_timeout_ms,
                                               "THROW_ERROR", response, nullptr);
}

grpc::ServerUnaryReactor* GatewayService::UpdateJobRetries(
    Ctx* context, const gp::UpdateJobRetriesRequest* request,
    gp::UpdateJobRetriesResponse* response) {
  int64_t key = request->jobkey();
  if (auto error = CheckKeyPartition(key, brokers_.partition_count(), "UPDATE_RETRIES",
                                     StrCat("Expected to update retries of job with key '", key,
                                            "', but no such job was found"))) {
    return FinishNow(context, *error);
  }
  record::Record command = Command(key, kJobUpdateRetries);
  command.mutable_job()->set_retries(request->retries());
  CopyOperationReference(*request, command);
  return SendAndFinish<gp::UpdateJobRetriesResponse>(
      context, brokers_, PartitionOf(key), std::move(command), options_.request_timeout_ms,
      "UPDATE_RETRIES", response, nullptr);
}

grpc::ServerUnaryReactor* GatewayService::UpdateJobTimeout(
    Ctx* context, const gp::UpdateJobTimeoutRequest* request,
    gp::UpdateJobTimeoutResponse* response) {
  int64_t key = request->jobkey();
  if (auto error = CheckKeyPartition(key, brokers_.partition_count(), "UPDATE_TIMEOUT",
                                     StrCat("Expected to update the timeout of job with key '", key,
                                            "', but no such job was found"))) {
    return FinishNow(context, *error);
  }
  record::Record command = Command(key, kJobUpdateTimeout);
  command.mutable_job()->set_timeout(request->timeout());
  CopyOperationReference(*request, command);
  return SendAndFinish<gp::UpdateJobTimeoutResponse>(
      context, brokers_, PartitionOf(key), std::move(command), options_.request_timeout_ms,
      "UPDATE_TIMEOUT", response, nullptr);
}

grpc::ServerWriteReactor<gp::ActivateJobsResponse>* GatewayService::ActivateJobs(
    Ctx* context, const gp::ActivateJobsRequest* request) {
  return NewActivateJobsReactor(*this, context, *request);
}

grpc::ServerWriteReactor<gp::ActivatedJob>* GatewayService::StreamActivatedJobs(
    Ctx* context, const gp::StreamActivatedJobsRequest* request) {
  return NewJobStreamReactor(*this, context, *request);
}

// --- Messages, signals, decisions ---------------------------------------------------------------

grpc::ServerUnaryReactor* GatewayService::PublishMessage(Ctx* context,
                                                         const gp::PublishMessageRequest* request,
                                                         gp::PublishMessageResponse* response) {
  auto message = MessageFromRequest(*request, options_.limits);
  if (!message.ok()) return FinishNow(context, ToGrpc(message.status()));
  int32_t partition =
      MessagePartitionId(message->correlation_key(), std::max(1, brokers_.partition_count()));
  record::Record command = Command(-1, kMessagePublish);
  *command.mutable_message() = *std::move(message);
  return SendAndFinish<gp::PublishMessageResponse>(
      context, brokers_, partition, std::move(command), options_.request_timeout_ms, "PUBLISH",
      response, [](const record::Record& answer, gp::PublishMessageResponse* out) {
        out->set_key(answer.key());
        out->set_tenantid(answer.message().tenant_id().empty() ? std::string(kDefaultTenant)
                                                               : answer.message().tenant_id());
      });
}

grpc::ServerUnaryReactor* GatewayService::BroadcastSignal(Ctx* context,
                                                          const gp::BroadcastSignalRequest* request,
                                                          gp::BroadcastSignalResponse* response) {
  auto signal = SignalFromRequest(*request, options_.limits);
  if (!signal.ok()) return FinishNow(context, ToGrpc(signal.status()));
  record::Record command = Command(-1, kSignalBroadcast);
  *command.mutable_signal() = *std::move(signal);
  // Partition 1 starts the instances of signal start events and relays the broadcast to the
  // other partitions, as the deployment partition does in Zeebe.
  return SendAndFinish<gp::BroadcastSignalResponse>(
      context, brokers_, 1, std::move(command), options_.request_timeout_ms, "BROADCAST", response,
      [](const record::Record& answer, gp::BroadcastSignalResponse* out) {
        out->set_key(answer.key());
        out->set_tenantid(answer.signal().tenant_id().empty() ? std::string(kDefaultTenant)
                                                              : answer.signal().tenant_id());
      });
}

grpc::ServerUnaryReactor* GatewayService::EvaluateDecision(
    Ctx* context, const gp::EvaluateDecisionRequest* request,
    gp::EvaluateDecisionResponse* response) {
  auto evaluation = DecisionEvaluationFromRequest(*request, options_.limits);
  if (!evaluation.ok()) return FinishNow(context, ToGrpc(evaluation.status()));
  record::Record command = Command(-1, kDecisionEvaluationEvaluate);
  *command.mutable_decision_evaluation() = *std::move(evaluation);
  // Decisions are deployed to every partition: any of them can evaluate.
  auto* reactor = context->DefaultReactor();
  CreateOnSomePartition(brokers_, std::move(command), options_.request_timeout_ms,
                        next_create_partition_++, brokers_.partition_count(),
                        [reactor, response](absl::StatusOr<record::Record> answer) {
                          if (!answer.ok())
                            return reactor->Finish(BrokerErrorStatus(answer.status()));
                          if (answer->record_type() == record::COMMAND_REJECTION) {
                            return reactor->Finish(RejectionStatus(*answer, "EVALUATE"));
                          }
                          ToEvaluateDecisionResponse(*answer, response);
                          reactor->Finish(grpc::Status::OK);
                        });
  return reactor;
}

// --- Operations on instances and resources ------------------------------------------------------

grpc::ServerUnaryReactor* GatewayService::ModifyProcessInstance(
    Ctx* context, const gp::ModifyProcessInstanceRequest* request,
    gp::ModifyProcessInstanceResponse* response) {
  auto modification = ModificationFromRequest(*request, options_.limits);
  if (!modification.ok()) return FinishNow(context, ToGrpc(modification.status()));
  record::Record command = Command(request->processinstancekey(), kModificationModify);
  *command.mutable_process_instance_modification() = *std::move(modification);
  return SendToInstancePartition(context, brokers_, options_.request_timeout_ms, *request, "MODIFY",
                                 "modify", std::move(command), response);
}

grpc::ServerUnaryReactor* GatewayService::MigrateProcessInstance(
    Ctx* context, const gp::MigrateProcessInstanceRequest* request,
    gp::MigrateProcessInstanceResponse* response) {
  auto migration = MigrationFromRequest(*request, options_.limits);
  if (!migration.ok()) return FinishNow(context, ToGrpc(migration.status()));
  record::Record command = Command(request->processinstancekey(), kMigrationMigrate);
  *command.mutable_process_instance_migration() = *std::move(migration);
  return SendToInstancePartition(context, brokers_, options_.request_timeout_ms, *request,
                                 "MIGRATE", "migrate", std::move(command), response);
}

grpc::ServerUnaryReactor* GatewayService::DeleteResource(Ctx* context,
                                                         const gp::DeleteResourceRequest* request,
                                                         gp::DeleteResourceResponse* response) {
  int64_t key = request->resourcekey();
  if (key <= 0) {
    return FinishNow(context,
                     grpc::Status(grpc::StatusCode::NOT_FOUND,
                                  StrCat("Command 'DELETE' rejected with code 'NOT_FOUND': "
                                         "Expected to delete resource but no resource found "
                                         "with key `",
                                         key, "`")));
  }
  record::Record command = Command(key, kResourceDeletionDelete);
  command.mutable_resource_deletion()->set_resource_key(key);
  command.mutable_resource_deletion()->set_tenant_id(std::string(kDefaultTenant));
  CopyOperationReference(*request, command);
  // Resources are deployed on partition 1, which distributes the deletion to the others.
  return SendAndFinish<gp::DeleteResourceResponse>(context, brokers_, 1, std::move(command),
                                                   options_.request_timeout_ms, "DELETE", response,
                                                   nullptr);
}

}  // namespace tern::gateway
