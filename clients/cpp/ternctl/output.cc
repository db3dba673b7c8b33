#include "output.h"

#include <algorithm>

namespace ternctl {

namespace {

// protojson writes 64-bit integers as strings (JavaScript numbers cannot hold them).
std::string Int64(int64_t value) { return std::to_string(value); }

const char* RoleName(tern::PartitionBrokerRole role) {
  switch (role) {
    case tern::PartitionBrokerRole::kLeader:
      return "LEADER";
    case tern::PartitionBrokerRole::kFollower:
      return "FOLLOWER";
    case tern::PartitionBrokerRole::kInactive:
      return "INACTIVE";
  }
  return "LEADER";
}

const char* HealthName(tern::PartitionBrokerHealth health) {
  switch (health) {
    case tern::PartitionBrokerHealth::kHealthy:
      return "HEALTHY";
    case tern::PartitionBrokerHealth::kUnhealthy:
      return "UNHEALTHY";
    case tern::PartitionBrokerHealth::kDead:
      return "DEAD";
  }
  return "HEALTHY";
}

Json Process(const tern::ProcessMetadata& p) {
  Json j;
  j["bpmnProcessId"] = p.bpmnProcessId;
  j["version"] = p.version;
  j["processDefinitionKey"] = Int64(p.processDefinitionKey);
  j["resourceName"] = p.resourceName;
  j["tenantId"] = p.tenantId;
  return j;
}

Json Decision(const tern::DecisionMetadata& d) {
  Json j;
  j["dmnDecisionId"] = d.dmnDecisionId;
  j["dmnDecisionName"] = d.dmnDecisionName;
  j["version"] = d.version;
  j["decisionKey"] = Int64(d.decisionKey);
  j["dmnDecisionRequirementsId"] = d.dmnDecisionRequirementsId;
  j["decisionRequirementsKey"] = Int64(d.decisionRequirementsKey);
  j["tenantId"] = d.tenantId;
  return j;
}

Json Drg(const tern::DecisionRequirementsMetadata& d) {
  Json j;
  j["dmnDecisionRequirementsId"] = d.dmnDecisionRequirementsId;
  j["dmnDecisionRequirementsName"] = d.dmnDecisionRequirementsName;
  j["version"] = d.version;
  j["decisionRequirementsKey"] = Int64(d.decisionRequirementsKey);
  j["resourceName"] = d.resourceName;
  j["tenantId"] = d.tenantId;
  return j;
}

Json Form(const tern::FormMetadata& f) {
  Json j;
  j["formId"] = f.formId;
  j["version"] = f.version;
  j["formKey"] = Int64(f.formKey);
  j["resourceName"] = f.resourceName;
  j["tenantId"] = f.tenantId;
  return j;
}

}  // namespace

Json ToJson(const tern::Topology& topology) {
  Json j;
  Json brokers = Json::array();
  for (const auto& broker : topology.brokers) {
    Json b;
    b["nodeId"] = broker.nodeId;
    b["host"] = broker.host;
    b["port"] = broker.port;
    Json partitions = Json::array();
    for (const auto& partition : broker.partitions) {
      partitions.push_back({{"partitionId", partition.partitionId},
                            {"role", RoleName(partition.role)},
                            {"health", HealthName(partition.health)}});
    }
    b["partitions"] = partitions;
    b["version"] = broker.version;
    brokers.push_back(b);
  }
  j["brokers"] = brokers;
  j["clusterSize"] = topology.clusterSize;
  j["partitionsCount"] = topology.partitionsCount;
  j["replicationFactor"] = topology.replicationFactor;
  j["gatewayVersion"] = topology.gatewayVersion;
  return j;
}

Json ToJson(const tern::DeploymentEvent& event) {
  Json j;
  j["key"] = Int64(event.key);
  Json deployments = Json::array();
  for (const auto& d : event.deployments) {
    Json entry = Json::object();
    if (d.process) entry["process"] = Process(*d.process);
    if (d.decision) entry["decision"] = Decision(*d.decision);
    if (d.decisionRequirements) entry["decisionRequirements"] = Drg(*d.decisionRequirements);
    if (d.form) entry["form"] = Form(*d.form);
    deployments.push_back(entry);
  }
  j["deployments"] = deployments;
  j["tenantId"] = event.tenantId;
  return j;
}

Json ToJson(const tern::DeployProcessResponse& response) {
  Json j;
  j["key"] = Int64(response.key);
  Json processes = Json::array();
  for (const auto& p : response.processes) processes.push_back(Process(p));
  j["processes"] = processes;
  return j;
}

Json ToJson(const tern::ProcessInstanceEvent& event) {
  Json j;
  j["processDefinitionKey"] = Int64(event.processDefinitionKey);
  j["bpmnProcessId"] = event.bpmnProcessId;
  j["version"] = event.version;
  j["processInstanceKey"] = Int64(event.processInstanceKey);
  j["tenantId"] = event.tenantId;
  return j;
}

Json ToJson(const tern::ProcessInstanceResult& result) {
  Json j;
  j["processDefinitionKey"] = Int64(result.processDefinitionKey);
  j["bpmnProcessId"] = result.bpmnProcessId;
  j["version"] = result.version;
  j["processInstanceKey"] = Int64(result.processInstanceKey);
  j["variables"] = result.variables;
  j["tenantId"] = result.tenantId;
  return j;
}

Json ToJson(const tern::ActivatedJob& job) {
  Json j;
  j["key"] = Int64(job.key);
  j["type"] = job.type;
  j["processInstanceKey"] = Int64(job.processInstanceKey);
  j["bpmnProcessId"] = job.bpmnProcessId;
  j["processDefinitionVersion"] = job.processDefinitionVersion;
  j["processDefinitionKey"] = Int64(job.processDefinitionKey);
  j["elementId"] = job.elementId;
  j["elementInstanceKey"] = Int64(job.elementInstanceKey);
  j["customHeaders"] = job.customHeaders;
  j["worker"] = job.worker;
  j["retries"] = job.retries;
  j["deadline"] = Int64(job.deadline);
  j["variables"] = job.variables;
  j["tenantId"] = job.tenantId;
  return j;
}

Json ToJson(const tern::ActivateJobsResponse& response) {
  Json jobs = Json::array();
  for (const auto& job : response.jobs) jobs.push_back(ToJson(job));
  Json j;
  j["jobs"] = jobs;
  return j;
}

Json ToJson(const tern::SetVariablesResponse& response) {
  Json j;
  j["key"] = Int64(response.key);
  return j;
}

Json ToJson(const tern::PublishMessageResponse& response) {
  Json j;
  j["key"] = Int64(response.key);
  j["tenantId"] = response.tenantId;
  return j;
}

Json ToJson(const tern::BroadcastSignalResponse& response) {
  Json j;
  j["key"] = Int64(response.key);
  j["tenantId"] = response.tenantId;
  return j;
}

Json ToJson(const tern::EvaluateDecisionResponse& response) {
  Json j;
  j["decisionKey"] = Int64(response.decisionKey);
  j["decisionId"] = response.decisionId;
  j["decisionName"] = response.decisionName;
  j["decisionVersion"] = response.decisionVersion;
  j["decisionRequirementsId"] = response.decisionRequirementsId;
  j["decisionRequirementsKey"] = Int64(response.decisionRequirementsKey);
  j["decisionOutput"] = response.decisionOutput;
  Json decisions = Json::array();
  for (const auto& d : response.evaluatedDecisions) {
    Json e;
    e["decisionKey"] = Int64(d.decisionKey);
    e["decisionId"] = d.decisionId;
    e["decisionName"] = d.decisionName;
    e["decisionVersion"] = d.decisionVersion;
    e["decisionType"] = d.decisionType;
    e["decisionOutput"] = d.decisionOutput;
    Json rules = Json::array();
    for (const auto& rule : d.matchedRules) {
      Json outputs = Json::array();
      for (const auto& output : rule.evaluatedOutputs) {
        outputs.push_back({{"outputId", output.outputId},
                           {"outputName", output.outputName},
                           {"outputValue", output.outputValue}});
      }
      rules.push_back(
          {{"ruleId", rule.ruleId}, {"ruleIndex", rule.ruleIndex}, {"evaluatedOutputs", outputs}});
    }
    e["matchedRules"] = rules;
    Json inputs = Json::array();
    for (const auto& input : d.evaluatedInputs) {
      inputs.push_back({{"inputId", input.inputId},
                        {"inputName", input.inputName},
                        {"inputValue", input.inputValue}});
    }
    e["evaluatedInputs"] = inputs;
    e["tenantId"] = d.tenantId;
    decisions.push_back(e);
  }
  j["evaluatedDecisions"] = decisions;
  j["failedDecisionId"] = response.failedDecisionId;
  j["failureMessage"] = response.failureMessage;
  j["tenantId"] = response.tenantId;
  j["decisionInstanceKey"] = Int64(response.decisionInstanceKey);
  return j;
}

std::string Pretty(const Json& json) {
  return json.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string StatusText(const tern::Topology& topology) {
  std::string out;
  out += "Cluster size: " + std::to_string(topology.clusterSize) + "\n";
  out += "Partitions count: " + std::to_string(topology.partitionsCount) + "\n";
  out += "Replication factor: " + std::to_string(topology.replicationFactor) + "\n";
  out += "Gateway version: " +
         (topology.gatewayVersion.empty() ? std::string("unavailable") : topology.gatewayVersion) +
         "\n";
  out += "Brokers:\n";
  auto brokers = topology.brokers;
  std::sort(brokers.begin(), brokers.end(),
            [](const auto& a, const auto& b) { return a.nodeId < b.nodeId; });
  for (const auto& broker : brokers) {
    out += "  Broker " + std::to_string(broker.nodeId) + " - " + broker.host + ":" +
           std::to_string(broker.port) + "\n";
    out +=
        "    Version: " + (broker.version.empty() ? std::string("unavailable") : broker.version) +
        "\n";
    auto partitions = broker.partitions;
    std::sort(partitions.begin(), partitions.end(),
              [](const auto& a, const auto& b) { return a.partitionId < b.partitionId; });
    for (const auto& partition : partitions) {
      std::string role = partition.role == tern::PartitionBrokerRole::kLeader     ? "Leader"
                         : partition.role == tern::PartitionBrokerRole::kFollower ? "Follower"
                                                                                  : "Inactive";
      std::string health = partition.health == tern::PartitionBrokerHealth::kHealthy ? "Healthy"
                           : partition.health == tern::PartitionBrokerHealth::kUnhealthy
                               ? "Unhealthy"
                               : "Unknown";
      out += "    Partition " + std::to_string(partition.partitionId) + " : " + role + ", " +
             health + "\n";
    }
  }
  return out;
}

}  // namespace ternctl
