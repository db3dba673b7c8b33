#pragma once

// Responses of the gateway as plain C++ values. Field names are the Zeebe protocol's names, so
// what you read in Zeebe's documentation (processInstanceKey, bpmnProcessId, ...) is what you
// type here. Keys are int64; JSON documents are kept as the text the gateway sent, with an
// ...AsJson() accessor that parses it.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace tern {

// Parses a JSON document sent by the gateway. "" is an empty object; text that is not JSON
// gives a value whose is_discarded() is true (the gateway always sends JSON, so this means a
// broken server).
nlohmann::json ParseJsonDocument(const std::string& text);

// --- Topology -------------------------------------------------------------------------------

enum class PartitionBrokerRole { kLeader = 0, kFollower = 1, kInactive = 2 };
enum class PartitionBrokerHealth { kHealthy = 0, kUnhealthy = 1, kDead = 2 };

struct PartitionInfo {
  int32_t partitionId = 0;
  PartitionBrokerRole role = PartitionBrokerRole::kLeader;
  PartitionBrokerHealth health = PartitionBrokerHealth::kHealthy;
};

struct BrokerInfo {
  int32_t nodeId = 0;
  std::string host;
  int32_t port = 0;
  std::vector<PartitionInfo> partitions;
  std::string version;
};

struct Topology {
  std::vector<BrokerInfo> brokers;
  int32_t clusterSize = 0;
  int32_t partitionsCount = 0;
  int32_t replicationFactor = 0;
  std::string gatewayVersion;
};

// --- Deployments ----------------------------------------------------------------------------

struct ProcessMetadata {
  std::string bpmnProcessId;
  int32_t version = 0;
  int64_t processDefinitionKey = 0;
  std::string resourceName;
  std::string tenantId;
};

struct DecisionMetadata {
  std::string dmnDecisionId;
  std::string dmnDecisionName;
  int32_t version = 0;
  int64_t decisionKey = 0;
  std::string dmnDecisionRequirementsId;
  int64_t decisionRequirementsKey = 0;
  std::string tenantId;
};

struct DecisionRequirementsMetadata {
  std::string dmnDecisionRequirementsId;
  std::string dmnDecisionRequirementsName;
  int32_t version = 0;
  int64_t decisionRequirementsKey = 0;
  std::string resourceName;
  std::string tenantId;
};

struct FormMetadata {
  std::string formId;
  int32_t version = 0;
  int64_t formKey = 0;
  std::string resourceName;
  std::string tenantId;
};

// One entry of a deployment: exactly one member is set.
struct Deployment {
  std::optional<ProcessMetadata> process;
  std::optional<DecisionMetadata> decision;
  std::optional<DecisionRequirementsMetadata> decisionRequirements;
  std::optional<FormMetadata> form;
};

// Answer to DeployResource. `deployments` keeps the gateway's order; the four typed lists hold
// the same entries grouped by kind.
struct DeploymentEvent {
  int64_t key = 0;
  std::string tenantId;
  std::vector<Deployment> deployments;
  std::vector<ProcessMetadata> processes;
  std::vector<DecisionMetadata> decisions;
  std::vector<DecisionRequirementsMetadata> decisionRequirements;
  std::vector<FormMetadata> forms;
};

// Answer to the deprecated DeployProcess RPC.
struct DeployProcessResponse {
  int64_t key = 0;
  std::vector<ProcessMetadata> processes;
};

// --- Process instances ----------------------------------------------------------------------

struct ProcessInstanceEvent {
  int64_t processDefinitionKey = 0;
  std::string bpmnProcessId;
  int32_t version = 0;
  int64_t processInstanceKey = 0;
  std::string tenantId;
};

struct ProcessInstanceResult {
  int64_t processDefinitionKey = 0;
  std::string bpmnProcessId;
  int32_t version = 0;
  int64_t processInstanceKey = 0;
  std::string variables;  // JSON object text
  std::string tenantId;

  nlohmann::json variablesAsJson() const { return ParseJsonDocument(variables); }
};

struct CancelProcessInstanceResponse {};
struct ModifyProcessInstanceResponse {};
struct MigrateProcessInstanceResponse {};
struct SetVariablesResponse {
  int64_t key = 0;
};
struct ResolveIncidentResponse {};
struct DeleteResourceResponse {};

// --- Messages and signals -------------------------------------------------------------------

struct PublishMessageResponse {
  int64_t key = 0;
  std::string tenantId;
};

struct BroadcastSignalResponse {
  int64_t key = 0;
  std::string tenantId;
};

// --- Decisions ------------------------------------------------------------------------------

struct EvaluatedDecisionInput {
  std::string inputId;
  std::string inputName;
  std::string inputValue;  // JSON value text
};

struct EvaluatedDecisionOutput {
  std::string outputId;
  std::string outputName;
  std::string outputValue;  // JSON value text
};

struct MatchedDecisionRule {
  std::string ruleId;
  int32_t ruleIndex = 0;
  std::vector<EvaluatedDecisionOutput> evaluatedOutputs;
};

struct EvaluatedDecision {
  int64_t decisionKey = 0;
  std::string decisionId;
  std::string decisionName;
  int32_t decisionVersion = 0;
  std::string decisionType;
  std::string decisionOutput;  // JSON value text
  std::vector<MatchedDecisionRule> matchedRules;
  std::vector<EvaluatedDecisionInput> evaluatedInputs;
  std::string tenantId;
};

struct EvaluateDecisionResponse {
  int64_t decisionKey = 0;
  std::string decisionId;
  std::string decisionName;
  int32_t decisionVersion = 0;
  std::string decisionRequirementsId;
  int64_t decisionRequirementsKey = 0;
  std::string decisionOutput;  // JSON value text; empty when the evaluation failed
  std::vector<EvaluatedDecision> evaluatedDecisions;
  std::string failedDecisionId;
  std::string failureMessage;
  std::string tenantId;
  int64_t decisionInstanceKey = 0;

  // The output as JSON (null when the evaluation failed).
  nlohmann::json decisionOutputAsJson() const;
};

// --- Jobs -----------------------------------------------------------------------------------

struct ActivatedJob {
  int64_t key = 0;
  std::string type;
  int64_t processInstanceKey = 0;
  std::string bpmnProcessId;
  int32_t processDefinitionVersion = 0;
  int64_t processDefinitionKey = 0;
  std::string elementId;
  int64_t elementInstanceKey = 0;
  std::string customHeaders;  // JSON object text (string -> string)
  std::string worker;
  int32_t retries = 0;
  int64_t deadline = 0;   // epoch milliseconds when the job's lock expires
  std::string variables;  // JSON object text
  std::string tenantId;

  nlohmann::json variablesAsJson() const { return ParseJsonDocument(variables); }
  nlohmann::json customHeadersAsJson() const { return ParseJsonDocument(customHeaders); }
};

struct ActivateJobsResponse {
  std::vector<ActivatedJob> jobs;
};

// A job stream ended without error (it was cancelled by the client).
struct StreamJobsResponse {};

struct CompleteJobResponse {};
struct FailJobResponse {};
struct ThrowErrorResponse {};
struct UpdateRetriesJobResponse {};
struct UpdateTimeoutJobResponse {};

}  // namespace tern
