// The shapes of Camunda 8.8's Orchestration Cluster REST API (/v2) the console reads, as in
// camunda/camunda's rest-api.yaml. Only the fields the console uses; keys are strings.

export interface Page {
  totalItems: number;
  hasMoreTotalItems?: boolean;
  startCursor?: string;
  endCursor?: string;
}

export interface SearchResult<T> {
  items: T[];
  page: Page;
}

export interface PageRequest {
  limit?: number;
  from?: number;
  after?: string;
  before?: string;
}

export interface SearchQuery<F> {
  filter?: F;
  page?: PageRequest;
  sort?: { field: string; order?: 'ASC' | 'DESC' | 'asc' | 'desc' }[];
}

// RFC 9457 problem details, as the gateway answers errors.
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
}

export type UserTaskState =
  | 'CREATING'
  | 'CREATED'
  | 'ASSIGNING'
  | 'UPDATING'
  | 'COMPLETING'
  | 'COMPLETED'
  | 'CANCELING'
  | 'CANCELED'
  | 'FAILED';

export interface UserTask {
  userTaskKey: string;
  name?: string;
  state: UserTaskState;
  assignee?: string;
  elementId: string;
  candidateGroups?: string[];
  candidateUsers?: string[];
  processDefinitionId: string;
  processDefinitionKey: string;
  processDefinitionVersion?: number;
  processInstanceKey: string;
  elementInstanceKey: string;
  formKey?: string;
  externalFormReference?: string;
  creationDate?: string;
  completionDate?: string;
  dueDate?: string;
  followUpDate?: string;
  priority?: number;
  tenantId?: string;
}

export interface UserTaskFilter {
  state?: UserTaskState;
  assignee?: string;
  candidateGroup?: string;
  candidateUser?: string;
  processInstanceKey?: string;
  processDefinitionId?: string;
}

export interface Form {
  formKey?: string;
  formId?: string;
  version?: number;
  tenantId?: string;
  schema?: Record<string, unknown> | string;
}

export interface Variable {
  variableKey: string;
  name: string;
  value: string; // JSON text
  scopeKey: string;
  processInstanceKey: string;
  isTruncated?: boolean;
  tenantId?: string;
}

export interface TopologyPartition {
  partitionId: number;
  role: 'leader' | 'follower' | 'inactive';
  health: 'healthy' | 'unhealthy' | 'dead';
}

export interface TopologyBroker {
  nodeId: number;
  host: string;
  port: number;
  version: string;
  partitions: TopologyPartition[];
}

export interface Topology {
  brokers: TopologyBroker[];
  clusterSize: number;
  partitionsCount: number;
  replicationFactor: number;
  gatewayVersion: string;
}

export interface ProcessDefinition {
  processDefinitionKey: string;
  processDefinitionId: string;
  name?: string;
  version: number;
  versionTag?: string;
  resourceName?: string;
  tenantId?: string;
  hasStartForm?: boolean;
}

export interface ProcessDefinitionFilter {
  processDefinitionId?: string;
  processDefinitionKey?: string;
  name?: string;
  version?: number;
  isLatestVersion?: boolean;
}

export type ProcessInstanceState = 'ACTIVE' | 'COMPLETED' | 'TERMINATED';

export interface ProcessInstance {
  processInstanceKey: string;
  processDefinitionKey: string;
  processDefinitionId: string;
  processDefinitionName?: string;
  processDefinitionVersion: number;
  state: ProcessInstanceState;
  startDate: string;
  endDate?: string;
  hasIncident: boolean;
  parentProcessInstanceKey?: string;
  tenantId?: string;
}

export interface ProcessInstanceFilter {
  processDefinitionKey?: string;
  processDefinitionId?: string;
  processDefinitionVersion?: number;
  state?: ProcessInstanceState;
  hasIncident?: boolean;
  processInstanceKey?: string;
}

export interface ElementStatistics {
  elementId: string;
  active: number;
  canceled: number;
  incidents: number;
  completed: number;
}

export interface ElementInstance {
  elementInstanceKey: string;
  processInstanceKey: string;
  processDefinitionKey: string;
  processDefinitionId: string;
  elementId: string;
  elementName?: string;
  type: string;
  state: 'ACTIVE' | 'COMPLETED' | 'TERMINATED';
  startDate: string;
  endDate?: string;
  hasIncident: boolean;
  incidentKey?: string;
}

export interface Incident {
  incidentKey: string;
  processInstanceKey: string;
  processDefinitionKey?: string;
  processDefinitionId?: string;
  elementId?: string;
  elementInstanceKey?: string;
  errorType: string;
  errorMessage?: string;
  creationTime?: string;
  state: 'ACTIVE' | 'MIGRATED' | 'RESOLVED' | 'PENDING';
  jobKey?: string;
}
