import { useState } from 'preact/hooks';
import {
  cancelProcessInstance,
  getProcessDefinitionXml,
  getProcessInstance,
  getProcessInstanceStatistics,
  resolveIncident,
  searchElementInstances,
  searchIncidents,
  searchVariables,
} from '../api/client';
import { Diagram } from '../components/Diagram';
import { Link } from '../components/Link';
import { ErrorMessage, Loading, StateBadge, formatDate } from '../components/Messages';
import { useApi } from '../hooks';

// One process instance (a first skeleton): its diagram with where the tokens are, the
// element-instance history, variables and incidents; cancel, and resolve an incident.
export function Instance(props: { processInstanceKey: string }) {
  const key = props.processInstanceKey;
  const instance = useApi(() => getProcessInstance(key), [key], 5000);
  const definitionKey = instance.data?.processDefinitionKey;
  const xml = useApi(
    () => (definitionKey ? getProcessDefinitionXml(definitionKey) : Promise.resolve(undefined)),
    [definitionKey],
  );
  const statistics = useApi(() => getProcessInstanceStatistics(key), [key], 5000);
  const elements = useApi(() => searchElementInstances(key), [key], 5000);
  const variables = useApi(() => searchVariables(key), [key], 5000);
  const incidents = useApi(() => searchIncidents(key), [key], 5000);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<unknown>();

  const act = async (what: () => Promise<void>) => {
    setBusy(true);
    setActionError(undefined);
    try {
      await what();
      instance.reload();
      incidents.reload();
    } catch (error) {
      setActionError(error);
    } finally {
      setBusy(false);
    }
  };

  const i = instance.data;
  return (
    <div data-testid="instance">
      <h2>Process instance {key}</h2>
      <ErrorMessage error={instance.error} what="Instance" />
      {i ? (
        <table class="facts">
          <tbody>
            <tr>
              <th>Process</th>
              <td>
                <Link href={`/processes/${i.processDefinitionKey}`}>
                  {i.processDefinitionName || i.processDefinitionId} v{i.processDefinitionVersion}
                </Link>
              </td>
            </tr>
            <tr>
              <th>State</th>
              <td>
                <StateBadge state={i.state} /> {i.hasIncident ? <span class="badge incident">incident</span> : null}
              </td>
            </tr>
            <tr>
              <th>Started</th>
              <td>{formatDate(i.startDate)}</td>
            </tr>
            <tr>
              <th>Ended</th>
              <td>{formatDate(i.endDate)}</td>
            </tr>
          </tbody>
        </table>
      ) : null}
      <div class="actions">
        <button
          disabled={busy || (i !== undefined && i.state !== 'ACTIVE')}
          onClick={() => confirm(`Cancel instance ${key}?`) && act(() => cancelProcessInstance(key))}
        >
          Cancel instance
        </button>
      </div>
      <ErrorMessage error={actionError} />
      <ErrorMessage error={xml.error} what="Diagram" />
      <ErrorMessage error={statistics.error} what="Element statistics" />
      {typeof xml.data === 'string' ? <Diagram xml={xml.data} statistics={statistics.data?.items} /> : null}

      <h3>Incidents</h3>
      <ErrorMessage error={incidents.error} what="Incidents" />
      {incidents.data ? (
        incidents.data.items.length === 0 ? (
          <p>None.</p>
        ) : (
          <table class="grid">
            <thead>
              <tr>
                <th>Element</th>
                <th>Type</th>
                <th>Message</th>
                <th>State</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {incidents.data.items.map((incident) => (
                <tr key={incident.incidentKey}>
                  <td>{incident.elementId}</td>
                  <td>{incident.errorType}</td>
                  <td>{incident.errorMessage}</td>
                  <td>{incident.state}</td>
                  <td>
                    {incident.state === 'ACTIVE' ? (
                      <button disabled={busy} onClick={() => act(() => resolveIncident(incident.incidentKey))}>
                        Resolve
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}

      <h3>History</h3>
      <ErrorMessage error={elements.error} what="Element instances" />
      <Loading when={elements.loading && !elements.data && !elements.error} />
      {elements.data ? (
        <table class="grid">
          <thead>
            <tr>
              <th>Element</th>
              <th>Type</th>
              <th>State</th>
              <th>Started</th>
              <th>Ended</th>
            </tr>
          </thead>
          <tbody>
            {elements.data.items.map((e) => (
              <tr key={e.elementInstanceKey}>
                <td>{e.elementName || e.elementId}</td>
                <td>{e.type}</td>
                <td>
                  <StateBadge state={e.state} />
                </td>
                <td>{formatDate(e.startDate)}</td>
                <td>{formatDate(e.endDate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}

      <h3>Variables</h3>
      <ErrorMessage error={variables.error} what="Variables" />
      {variables.data ? (
        <table class="grid">
          <thead>
            <tr>
              <th>Name</th>
              <th>Value</th>
              <th>Scope</th>
            </tr>
          </thead>
          <tbody>
            {variables.data.items.map((v) => (
              <tr key={v.variableKey}>
                <td>{v.name}</td>
                <td class="value">
                  {v.value}
                  {v.isTruncated ? ' …' : ''}
                </td>
                <td class="key">{v.scopeKey === key ? 'instance' : v.scopeKey}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}
