// Wire messages to the public types.

#include "core.h"

namespace tern::internal {

Topology ToTopology(const gp::TopologyResponse& response) {
  Topology topology;
  topology.clusterSize = response.clustersize();
  topology.partitionsCount = response.partitionscount();
  topology.replicationFactor = response.replicationfactor();
  topology.gatewayVersion = response.gatewayversion();
  for (const auto& broker : response.brokers()) {
    BrokerInfo info;
    info.nodeId = broker.nodeid();
    info.host = broker.host();
    info.port = broker.port();
    info.version = broker.version();
    for (const auto& partition : broker.partitions()) {
      PartitionInfo p;
      p.partitionId = partition.partitionid();
      p.role = static_cast<PartitionBrokerRole>(partition.role());
      p.health = static_cast<PartitionBrokerHealth>(partition.health());
      info.partitions.push_back(p);
    }
    topology.brokers.push_back(std::move(info));
  }
  return topology;
}

ProcessMetadata ToProcessMetadata(const gp::ProcessMetadata& process) {
  ProcessMetadata m;
  m.bpmnProcessId = process.bpmnprocessid();
  m.version = process.version();
  m.processDefinitionKey = process.processdefinitionkey();
  m.resourceName = process.resourcename();
  m.tenantId = process.tenantid();
  return m;
}

DeploymentEvent ToDeploymentEvent(const gp::DeployResourceResponse& response) {
  DeploymentEvent event;
  event.key = response.key();
  event.tenantId = response.tenantid();
  for (const auto& deployment : response.deployments()) {
    Deployment entry;
    switch (deployment.Metadata_case()) {
      case gp::Deployment::kProcess:
        entry.process = ToProcessMetadata(deployment.process());
        event.processes.push_back(*entry.process);
        break;
      case gp::Deployment::kDecision: {
        const auto& d = deployment.decision();
        DecisionMetadata m;
        m.dmnDecisionId = d.dmndecisionid();
        m.dmnDecisionName = d.dmndecisionname();
        m.version = d.version();
        m.decisionKey = d.decisionkey();
        m.dmnDecisionRequirementsId = d.dmndecisionrequirementsid();
        m.decisionRequirementsKey = d.decisionrequirementskey();
        m.tenantId = d.tenantid();
        entry.decision = m;
        event.decisions.push_back(m);
        break;
      }
      case gp::Deployment::kDecisionRequirements: {
        const auto& d = deployment.decisionrequirements();
        DecisionRequirementsMetadata m;
        m.dmnDecisionRequirementsId = d.dmndecisionrequirementsid();
        m.dmnDecisionRequirementsName = d.dmndecisionrequirementsname();
        m.version = d.version();
        m.decisionRequirementsKey = d.decisionrequirementskey();
        m.resourceName = d.resourcename();
        m.tenantId = d.tenantid();
        entry.decisionRequirements = m;
        event.decisionRequirements.push_back(m);
        break;
      }
      case gp::Deployment::kForm: {
        const auto& f = deployment.form();
        FormMetadata m;
        m.formId = f.formid();
        m.version = f.version();
        m.formKey = f.formkey();
        m.resourceName = f.resourcename();
        m.tenantId = f.tenantid();
        entry.form = m;
        event.forms.push_back(m);
        break;
      }
      case gp::Deployment::METADATA_NOT_SET:
        break;
    }
    event.deployments.push_back(std::move(entry));
  }
  return event;
}

DeployProcessResponse ToDeployProcessResponse(const gp::DeployProcessResponse& response) {
  DeployProcessResponse out;
  out.key = response.key();
  for (const auto& process : response.processes()) {
    out.processes.push_back(ToProcessMetadata(process));
  }
  return out;
}

ProcessInstanceEvent ToProcessInstanceEvent(const gp::CreateProcessInstanceResponse& response) {
  ProcessInstanceEvent event;
  event.processDefinitionKey = response.processdefinitionkey();
  event.bpmnProcessId = response.bpmnprocessid();
  event.version = response.version();
  event.processInstanceKey = response.processinstancekey();
  event.tenantId = response.tenantid();
  return event;
}

ProcessInstanceResult ToProcessInstanceResult(
    const gp::CreateProcessInstanceWithResultResponse& response) {
  ProcessInstanceResult result;
  result.processDefinitionKey = response.processdefinitionkey();
  result.bpmnProcessId = response.bpmnprocessid();
  result.version = response.version();
  result.processInstanceKey = response.processinstancekey();
  result.variables = response.variables();
  result.tenantId = response.tenantid();
  return result;
}

EvaluateDecisionResponse ToEvaluateDecisionResponse(const gp::EvaluateDecisionResponse& response) {
  EvaluateDecisionResponse out;
  out.decisionKey = response.decisionkey();
  out.decisionId = response.decisionid();
  out.decisionName = response.decisionname();
  out.decisionVersion = response.decisionversion();
  out.decisionRequirementsId = response.decisionrequirementsid();
  out.decisionRequirementsKey = response.decisionrequirementskey();
  out.decisionOutput = response.decisionoutput();
  out.failedDecisionId = response.faileddecisionid();
  out.failureMessage = response.failuremessage();
  out.tenantId = response.tenantid();
  out.decisionInstanceKey = response.decisioninstancekey();
  for (const auto& d : response.evaluateddecisions()) {
    EvaluatedDecision decision;
    decision.decisionKey = d.decisionkey();
    decision.decisionId = d.decisionid();
    decision.decisionName = d.decisionname();
    decision.decisionVersion = d.decisionversion();
    decision.decisionType = d.decisiontype();
    decision.decisionOutput = d.decisionoutput();
    decision.tenantId = d.tenantid();
    for (const auto& rule : d.matchedrules()) {
      MatchedDecisionRule r;
      r.ruleId = rule.ruleid();
      r.ruleIndex = rule.ruleindex();
      for (const auto& output : rule.evaluatedoutputs()) {
        r.evaluatedOutputs.push_back(
            {output.outputid(), output.outputname(), output.outputvalue()});
      }
      decision.matchedRules.push_back(std::move(r));
    }
    for (const auto& input : d.evaluatedinputs()) {
      decision.evaluatedInputs.push_back({input.inputid(), input.inputname(), input.inputvalue()});
    }
    out.evaluatedDecisions.push_back(std::move(decision));
  }
  return out;
}

ActivatedJob ToActivatedJob(gp::ActivatedJob& job) {
  ActivatedJob out;
  out.key = job.key();
  out.type = std::move(*job.mutable_type());
  out.processInstanceKey = job.processinstancekey();
  out.bpmnProcessId = std::move(*job.mutable_bpmnprocessid());
  out.processDefinitionVersion = job.processdefinitionversion();
  out.processDefinitionKey = job.processdefinitionkey();
  out.elementId = std::move(*job.mutable_elementid());
  out.elementInstanceKey = job.elementinstancekey();
  out.customHeaders = std::move(*job.mutable_customheaders());
  out.worker = std::move(*job.mutable_worker());
  out.retries = job.retries();
  out.deadline = job.deadline();
  out.variables = std::move(*job.mutable_variables());
  out.tenantId = std::move(*job.mutable_tenantid());
  return out;
}

}  // namespace tern::internal
