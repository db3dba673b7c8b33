import { getTopology } from '../api/client';
import type { TopologyPartition } from '../api/types';
import { ErrorMessage, Loading } from '../components/Messages';
import { useApi } from '../hooks';

// Cluster: brokers, their partitions with role and health, and each partition's leader
// (GET /v2/topology, refreshed every 5 s).
export function Cluster() {
  const topology = useApi(getTopology, [], 5000);
  const t = topology.data;
  const partitions = new Map<number, { leader?: number; followers: number[]; health: Set<string> }>();
  for (const broker of t?.brokers ?? []) {
    for (const p of broker.partitions) {
      const entry = partitions.get(p.partitionId) ?? { followers: [], health: new Set<string>() };
      if (p.role === 'leader') entry.leader = broker.nodeId;
      else if (p.role === 'follower') entry.followers.push(broker.nodeId);
      entry.health.add(p.health);
      partitions.set(p.partitionId, entry);
    }
  }
  return (
    <div data-testid="cluster">
      <h2>Cluster</h2>
      <ErrorMessage error={topology.error} what="Topology" />
      <Loading when={topology.loading && !t} />
      {t ? (
        <>
          <table class="facts">
            <tbody>
              <tr>
                <th>Brokers</th>
                <td>{t.clusterSize}</td>
              </tr>
              <tr>
                <th>Partitions</th>
                <td>{t.partitionsCount}</td>
              </tr>
              <tr>
                <th>Replication factor</th>
                <td>{t.replicationFactor}</td>
              </tr>
              <tr>
                <th>Gateway version</th>
                <td>{t.gatewayVersion}</td>
              </tr>
            </tbody>
          </table>
          <h3>Brokers</h3>
          <table class="grid" data-testid="brokers">
            <thead>
              <tr>
                <th>Node</th>
                <th>Address</th>
                <th>Version</th>
                <th>Partitions</th>
              </tr>
            </thead>
            <tbody>
              {t.brokers.map((broker) => (
                <tr key={broker.nodeId}>
                  <td>{broker.nodeId}</td>
                  <td>
                    {broker.host}:{broker.port}
                  </td>
                  <td>{broker.version}</td>
                  <td>
                    {[...broker.partitions]
                      .sort((a, b) => a.partitionId - b.partitionId)
                      .map((p) => (
                        <PartitionChip key={p.partitionId} partition={p} />
                      ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>Partitions</h3>
          <table class="grid" data-testid="partitions">
            <thead>
              <tr>
                <th>Partition</th>
                <th>Leader</th>
                <th>Followers</th>
                <th>Health</th>
              </tr>
            </thead>
            <tbody>
              {[...partitions.entries()]
                .sort(([a], [b]) => a - b)
                .map(([id, p]) => (
                  <tr key={id}>
                    <td>{id}</td>
                    <td>{p.leader ?? <span class="badge state-terminated">none</span>}</td>
                    <td>{p.followers.join(', ') || '-'}</td>
                    <td>{[...p.health].join(', ')}</td>
                  </tr>
                ))}
            </tbody>
          </table>
        </>
      ) : null}
    </div>
  );
}

function PartitionChip(props: { partition: TopologyPartition }) {
  const p = props.partition;
  return (
    <span class={`chip role-${p.role} health-${p.health}`} title={`${p.role}, ${p.health}`}>
      {p.partitionId}
      {p.role === 'leader' ? ' ★' : ''}
    </span>
  );
}
