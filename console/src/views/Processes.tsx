import { useState } from 'preact/hooks';
import {
  getProcessDefinition,
  getProcessDefinitionStatistics,
  getProcessDefinitionXml,
  searchProcessDefinitions,
  searchProcessInstances,
} from '../api/client';
import type { ProcessInstanceState } from '../api/types';
import { Diagram } from '../components/Diagram';
import { Link } from '../components/Link';
import { ErrorMessage, Loading, Notice, StateBadge, formatDate } from '../components/Messages';
import { useApi } from '../hooks';

// Processes: every deployed process definition and version (POST /v2/process-definitions/search,
// from the history store), paged with cursors.
export function Processes() {
  const [after, setAfter] = useState<string[]>([]);
  const cursor = after[after.length - 1];
  const definitions = useApi(
    () =>
      searchProcessDefinitions({
        page: { limit: 50, ...(cursor ? { after: cursor } : {}) },
        sort: [
          { field: 'processDefinitionId', order: 'ASC' },
          { field: 'version', order: 'DESC' },
        ],
      }),
    [cursor],
    10000,
  );
  return (
    <div data-testid="processes">
      <h2>Processes</h2>
      <ErrorMessage error={definitions.error} what="Process definitions" />
      <Loading when={definitions.loading && !definitions.data} />
      {definitions.data && definitions.data.items.length === 0 ? <Notice>No process is deployed.</Notice> : null}
      {definitions.data && definitions.data.items.length > 0 ? (
        <table class="grid">
          <thead>
            <tr>
              <th>Process</th>
              <th>Name</th>
              <th>Version</th>
              <th>Resource</th>
              <th>Key</th>
            </tr>
          </thead>
          <tbody>
            {definitions.data.items.map((d) => (
              <tr key={d.processDefinitionKey}>
                <td>
                  <Link href={`/processes/${d.processDefinitionKey}`}>{d.processDefinitionId}</Link>
                </td>
                <td>{d.name ?? ''}</td>
                <td>
                  {d.version}
                  {d.versionTag ? ` (${d.versionTag})` : ''}
                </td>
                <td>{d.resourceName ?? ''}</td>
                <td class="key">{d.processDefinitionKey}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <div class="pager">
        <button disabled={after.length === 0} onClick={() => setAfter(after.slice(0, -1))}>
          Previous
        </button>
        <button
          disabled={!definitions.data?.page.endCursor || !definitions.data.page.hasMoreTotalItems}
          onClick={() => definitions.data?.page.endCursor && setAfter([...after, definitions.data.page.endCursor])}
        >
          Next
        </button>
      </div>
    </div>
  );
}

// One process definition: its diagram with per-element badges (statistics of its instances)
// and its instances, filtered by state.
export function ProcessDetail(props: { processDefinitionKey: string }) {
  const key = props.processDefinitionKey;
  const definition = useApi(() => getProcessDefinition(key), [key]);
  const xml = useApi(() => getProcessDefinitionXml(key), [key]);
  const statistics = useApi(() => getProcessDefinitionStatistics(key), [key], 10000);
  const [state, setState] = useState<ProcessInstanceState | ''>('ACTIVE');
  const instances = useApi(
    () =>
      searchProcessInstances({
        filter: { processDefinitionKey: key, ...(state ? { state } : {}) },
        page: { limit: 50 },
        sort: [{ field: 'startDate', order: 'DESC' }],
      }),
    [key, state],
    10000,
  );
  const d = definition.data;
  return (
    <div data-testid="process-detail">
      <h2>
        {d ? `${d.name || d.processDefinitionId} · version ${d.version}` : `Process definition ${key}`}
      </h2>
      <ErrorMessage error={definition.error} what="Process definition" />
      <ErrorMessage error={xml.error} what="Diagram" />
      <ErrorMessage error={statistics.error} what="Element statistics" />
      {typeof xml.data === 'string' ? <Diagram xml={xml.data} statistics={statistics.data?.items} /> : null}
      <h3>Instances</h3>
      <div class="filters">
        <label>
          State{' '}
          <select value={state} onChange={(e) => setState((e.target as HTMLSelectElement).value as ProcessInstanceState | '')}>
            <option value="ACTIVE">running</option>
            <option value="COMPLETED">completed</option>
            <option value="TERMINATED">canceled</option>
            <option value="">any</option>
          </select>
        </label>
        {instances.data ? (
          <span class="count">
            {instances.data.page.totalItems}
            {instances.data.page.hasMoreTotalItems ? '+' : ''} instances
          </span>
        ) : null}
      </div>
      <ErrorMessage error={instances.error} what="Process instances" />
      <Loading when={instances.loading && !instances.data} />
      {instances.data ? (
        <table class="grid">
          <thead>
            <tr>
              <th>Instance</th>
              <th>State</th>
              <th>Incident</th>
              <th>Started</th>
              <th>Ended</th>
            </tr>
          </thead>
          <tbody>
            {instances.data.items.map((i) => (
              <tr key={i.processInstanceKey}>
                <td>
                  <Link href={`/instances/${i.processInstanceKey}`}>{i.processInstanceKey}</Link>
                </td>
                <td>
                  <StateBadge state={i.state} />
                </td>
                <td>{i.hasIncident ? <span class="badge incident">incident</span> : ''}</td>
                <td>{formatDate(i.startDate)}</td>
                <td>{formatDate(i.endDate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
