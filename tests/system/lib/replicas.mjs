// Checks on the replicas of a cluster's partitions, shared by the system tests and benchmarks.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import { sleep } from '../../compat/lib/broker.mjs';

// Bytes of the files below `directory` (a broker's data directory).
export function directoryBytes(directory) {
  let total = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const full = path.join(directory, entry.name);
    total += entry.isDirectory() ? directoryBytes(full) : statSync(full).size;
  }
  return total;
}

// Waits until every partition 1..cluster.partitions has `replicas` members reporting the same
// applied index and state checksum. Returns { agreed, last } with the last views seen.
export async function waitForEqualChecksums(cluster, { replicas = 3, timeoutMs = 60_000 } = {}) {
  const partitionIds = Array.from({ length: cluster.partitions }, (_, i) => i + 1);
  let last = [];
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    last = await cluster.partitionViews({ checksum: true });
    const agreed = partitionIds.every((partitionId) => {
      const views = last.filter((p) => p.partitionId === partitionId && p.checksum && p.checksum.value);
      return views.length === replicas &&
        views.every((r) => r.checksum.appliedIndex === views[0].checksum.appliedIndex &&
          r.checksum.value === views[0].checksum.value);
    });
    if (agreed) return { agreed, last };
    await sleep(250);
  }
  return { agreed: false, last };
}
