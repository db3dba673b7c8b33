// The console's only way to the gateway: Camunda 8.8's public REST API under /v2 on the origin
// that served the page (so the console works against any gateway that serves it). Errors come
// back as ApiError carrying the RFC 9457 problem's `detail`, which the views show as is.

import type {
  ElementInstance,
  ElementStatistics,
  Form,
  Incident,
  ProcessDefinition,
  ProcessDefinitionFilter,
  ProcessInstance,
  ProcessInstanceFilter,
  Problem,
  SearchQuery,
  SearchResult,
  Topology,
  UserTask,
  UserTaskFilter,
  Variable,
} from './types';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Problem,
    readonly path: string,
  ) {
    super(describeProblem(status, problem));
    this.name = 'ApiError';
  }

  // The endpoint exists in 8.8 but this gateway does not serve it yet (answer 501).
  get notImplemented(): boolean {
    return this.status === 501;
  }
}

function describeProblem(status: number, problem: Problem): string {
  const detail = problem.detail?.trim();
  const title = problem.title?.trim();
  if (detail && title) return `${title}: ${detail}`;
  return detail || title || `HTTP ${status}`;
}

// A readable message for anything thrown by the API or the network.
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof TypeError) return `The gateway cannot be reached (${error.message})`;
  if (error instanceof Error) return error.message;
  return String(error);
}

const base = '/v2';

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    init.headers = { ...init.headers, 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const response = await fetch(base + path, init);
  const text = await response.text();
  if (!response.ok) {
    let problem: Problem = {};
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') problem = parsed as Problem;
    } catch {
      problem = { detail: text.slice(0, 500) || response.statusText };
    }
    throw new ApiError(response.status, problem, path);
  }
  if (!text) return undefined as T;
  const type = response.headers.get('Content-Type') ?? '';
  if (type.includes('json')) return JSON.parse(text) as T;
  return text as T;
}

const key = (value: string) => encodeURIComponent(value);

// --- Cluster ---------------------------------------------------------------------------------

export const getTopology = () => request<Topology>('GET', '/topology');

// --- User tasks ------------------------------------------------------------------------------

export const searchUserTasks = (query: SearchQuery<UserTaskFilter>) =>
  request<SearchResult<UserTask>>('POST', '/user-tasks/search', query);

export const getUserTask = (userTaskKey: string) =>
  request<UserTask>('GET', `/user-tasks/${key(userTaskKey)}`);

export const getUserTaskForm = (userTaskKey: string) =>
  request<Form>('GET', `/user-tasks/${key(userTaskKey)}/form`);

export const searchUserTaskVariables = (userTaskKey: string) =>
  request<SearchResult<Variable>>('POST', `/user-tasks/${key(userTaskKey)}/variables/search`, {
    page: { limit: 1000 },
  });

// Claim: assign to `assignee` unless someone else has the task (409 then).
export const claimUserTask = (userTaskKey: string, assignee: string) =>
  request<void>('POST', `/user-tasks/${key(userTaskKey)}/assignment`, {
    assignee,
    allowOverride: false,
    action: 'claim',
  });

export const unassignUserTask = (userTaskKey: string) =>
  request<void>('DELETE', `/user-tasks/${key(userTaskKey)}/assignee`);

export const completeUserTask = (userTaskKey: string, variables: Record<string, unknown>) =>
  request<void>('POST', `/user-tasks/${key(userTaskKey)}/completion`, { variables });

// --- Processes (history search) --------------------------------------------------------------

export const searchProcessDefinitions = (query: SearchQuery<ProcessDefinitionFilter>) =>
  request<SearchResult<ProcessDefinition>>('POST', '/process-definitions/search', query);

export const getProcessDefinition = (processDefinitionKey: string) =>
  request<ProcessDefinition>('GET', `/process-definitions/${key(processDefinitionKey)}`);

export const getProcessDefinitionXml = (processDefinitionKey: string) =>
  request<string>('GET', `/process-definitions/${key(processDefinitionKey)}/xml`);

export const getProcessDefinitionStatistics = (processDefinitionKey: string) =>
  request<{ items: ElementStatistics[] }>(
    'POST',
    `/process-definitions/${key(processDefinitionKey)}/statistics/element-instances`,
    {},
  );

export const searchProcessInstances = (query: SearchQuery<ProcessInstanceFilter>) =>
  request<SearchResult<ProcessInstance>>('POST', '/process-instances/search', query);

export const getProcessInstance = (processInstanceKey: string) =>
  request<ProcessInstance>('GET', `/process-instances/${key(processInstanceKey)}`);

export const getProcessInstanceStatistics = (processInstanceKey: string) =>
  request<{ items: ElementStatistics[] }>(
    'GET',
    `/process-instances/${key(processInstanceKey)}/statistics/element-instances`,
  );

export const cancelProcessInstance = (processInstanceKey: string) =>
  request<void>('POST', `/process-instances/${key(processInstanceKey)}/cancellation`, {});

export const searchElementInstances = (processInstanceKey: string) =>
  request<SearchResult<ElementInstance>>('POST', '/element-instances/search', {
    filter: { processInstanceKey },
    page: { limit: 1000 },
  });

export const searchVariables = (processInstanceKey: string) =>
  request<SearchResult<Variable>>('POST', '/variables/search', {
    filter: { processInstanceKey },
    page: { limit: 1000 },
  });

export const searchIncidents = (processInstanceKey: string) =>
  request<SearchResult<Incident>>('POST', '/incidents/search', {
    filter: { processInstanceKey },
    page: { limit: 1000 },
  });

export const resolveIncident = (incidentKey: string) =>
  request<void>('POST', `/incidents/${key(incidentKey)}/resolution`, {});
