#pragma once

// Conversions between the public protocol and log records, the request checks the gateway does
// before anything reaches a partition, and the one place that turns answers and errors into
// gRPC status codes.

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gateway.pb.h"
#include "tern/record.pb.h"

namespace tern::gateway {

inline constexpr std::string_view kDefaultTenant = "<default>";

struct RequestLimits {
  // Largest variables document (bytes of JSON) a request may carry. Well below the 4 MiB
  // message limit so that the records a command produces (which repeat the variables) fit.
  int64_t max_variables_bytes = 1 << 20;
  // Deepest nesting of arrays and objects in a variables document.
  int max_variables_depth = 64;
  // Longest job type, message name, correlation key, element id, signal name, worker name.
  int64_t max_name_bytes = 256;
  // Most jobs one ActivateJobs call may ask for; larger values are clamped.
  int32_t max_jobs_to_activate = 10'000;
};

// Checks a variables document: empty or whitespace (= no variables), or a JSON object within
// the limits. Errors are INVALID_ARGUMENT with a message naming `field`.
absl::Status CheckVariables(std::string_view json, std::string_view field,
                            const RequestLimits& limits);

// Checks a name-like field: non-empty when `required`, valid UTF-8, at most max_name_bytes.
absl::Status CheckName(std::string_view value, std::string_view field, bool required,
                       const RequestLimits& limits);

// Multi-tenancy is disabled: only "" and "<default>" are accepted.
absl::Status CheckTenant(std::string_view tenant_id, std::string_view rpc);

// The status a client sees for a rejection record:
// "Command 'COMPLETE' rejected with code 'NOT_FOUND': <reason>". `intent` is the command's
// intent as Zeebe names it for the RPC (COMPLETE for CompleteJob, CREATE for DeployResource...).
grpc::Status RejectionStatus(const record::Record& rejection, std::string_view intent);
// The status for a transport-level failure between gateway and partition. A command whose
// outcome is unknown (the partition lost leadership or stopped with it in flight, which the
// broker reports as ABORTED) is answered UNKNOWN, never ABORTED: clients retry ABORTED, and a
// retried create would duplicate. docs/api-errors.md lists the codes per RPC.
grpc::Status BrokerErrorStatus(const absl::Status& status);
grpc::Status ToGrpc(const absl::Status& status);

// Answers for the RPCs whose answer is a copy of record fields.
void ToActivatedJob(int64_t key, const record::JobRecord& job, gateway_protocol::ActivatedJob* out);
void ToProcessMetadata(const record::ProcessMetadata& process,
                       gateway_protocol::ProcessMetadata* out);
void ToDecisionMetadata(const record::DecisionMetadata& decision,
                        gateway_protocol::DecisionMetadata* out);
void ToDecisionRequirementsMetadata(const record::DecisionRequirementsMetadata& requirements,
                                    gateway_protocol::DecisionRequirementsMetadata* out);
// DeployResource's answer: processes, then decisions, then decision requirements (Zeebe's order).
void ToDeployResourceResponse(const record::Record& answer,
                              gateway_protocol::DeployResourceResponse* out);
// EvaluateDecision's answer from the DECISION_EVALUATION event (EVALUATED or FAILED: a failed
// evaluation is still an OK answer, with failedDecisionId and failureMessage).
void ToEvaluateDecisionResponse(const record::Record& answer,
                                gateway_protocol::EvaluateDecisionResponse* out);

// Zeebe's partition of a message (SubscriptionUtil.getSubscriptionPartitionId): Java's
// String.hashCode run over the UTF-8 bytes of the correlation key as signed bytes,
// abs(hash % partition_count) + 1. The engine computes the same for its subscriptions.
int32_t MessagePartitionId(std::string_view correlation_key, int32_t partition_count);

// Request checks and the commands the engine expects, for the RPCs that need more than a key
// check. Errors are INVALID_ARGUMENT naming the field.
absl::StatusOr<record::MessageRecord> MessageFromRequest(
    const gateway_protocol::PublishMessageRequest& request, const RequestLimits& limits);
absl::StatusOr<record::SignalRecord> SignalFromRequest(
    const gateway_protocol::BroadcastSignalRequest& request, const RequestLimits& limits);
absl::StatusOr<record::DecisionEvaluationRecord> DecisionEvaluationFromRequest(
    const gateway_protocol::EvaluateDecisionRequest& request, const RequestLimits& limits);
absl::StatusOr<record::ProcessInstanceModificationRecord> ModificationFromRequest(
    const gateway_protocol::ModifyProcessInstanceRequest& request, const RequestLimits& limits);
absl::StatusOr<record::ProcessInstanceMigrationRecord> MigrationFromRequest(
    const gateway_protocol::MigrateProcessInstanceRequest& request, const RequestLimits& limits);

}  // namespace tern::gateway
