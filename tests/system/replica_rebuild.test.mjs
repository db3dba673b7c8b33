// Replacing a broker's disk under load (issue 12): a 3-broker cluster (3 partitions, replication
// factor 3) runs creators and job workers; one broker is killed with kill -9, its data
// directory deleted, and started again empty while the load goes on. It must rebuild every
// partition from its peers (snapshot and log) without the leader being restarted, catch up
// while the load goes on, and end with the same state checksums as the other replicas; every
// instance acknowledged before, during and after the rebuild completes.
//
// It prints how long the rebuild took and how much data the empty broker received, for the
// operator's guide; nothing here asserts on time.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { bpmnDir, sleep } from '../compat/lib/broker.mjs';
import { Cluster } from '../compat/lib/cluster.mjs';
import { activateJobs, call, rawClient } from '../compat/lib/raw_client.mjs';
import { directoryBytes, waitForEqualChecksums } from './lib/replicas.mjs';

const oneTask = readFileSync(path.join(bpmnDir, 'one-task.bpmn'));
const loadSeconds = Number(process.env.TERN_REBUILD_LOAD_SECONDS ?? 8);
const grpcNotFound = 5;

describe('replica rebuild', () => {
  // Frequent snapshots, so the rebuilt broker needs a snapshot and the log after it.
  const cluster = new Cluster({ size: 3, partitions: 3, replicationFactor: 3, args: ['--snapshot-period', '5s'] });
  before(async () => {
    await cluster.start();
  });
  after(async () => {
    await cluster.cleanup();
  });

  test('a broker whose data directory was wiped rebuilds from its peers under load', { timeout: 10 * 60_000 }, async () => {
    const client = rawClient(cluster.address);
    const deployed = await call(client, 'DeployResource', { resources: [{ name: 'one-task.bpmn', content: oneTask }] });
    assert.ifError(deployed.error);

    const acknowledged = new Set();
    const completed = new Set();
    let stop = false;
    let working = true;
    const creator = async (id) => {
      let n = 0;
      while (!stop) {
        const { error, response } = await call(client, 'CreateProcessInstance', {
          bpmnProcessId: 'one-task', version: -1, variables: JSON.stringify({ creator: id, n: n++ }),
        }, 10_000);
        if (!error) acknowledged.add(response.processInstanceKey);
        await sleep(error ? 100 : 5);
      }
    };
    const worker = async () => {
      while (working) {
        const { jobs } = await activateJobs(client, {
          type: 'work', worker: 'rebuild', timeout: 5_000, maxJobsToActivate: 50, requestTimeout: 1_000,
        }, 10_000);
        for (const job of jobs) {
          // An answer lost in a failover is asked again: NOT_FOUND afterwards means the first
          // attempt landed (a job that timed out and was handed out again completes under the
          // same key and answers OK).
          let { error } = await call(client, 'CompleteJob', { jobKey: job.key, variables: '{}' }, 10_000);
          let retried = false;
          const askUntil = Date.now() + 30_000;
          while (error && error.code !== grpcNotFound && Date.now() < askUntil) {
            retried = true;
            await sleep(100);
            ({ error } = await call(client, 'CompleteJob', { jobKey: job.key, variables: '{}' }, 10_000));
          }
          if (!error || (retried && error.code === grpcNotFound)) completed.add(job.processInstanceKey);
        }
      }
    };
    const creators = Array.from({ length: 3 }, (_, i) => creator(i));
    const workers = Array.from({ length: 2 }, () => worker());

    await sleep(loadSeconds * 1000);
    const victim = cluster.brokers[2];
    const acknowledgedBeforeWipe = acknowledged.size;
    await victim.stop({ kill: true });
    rmSync(victim.dataDir, { recursive: true, force: true });
    mkdirSync(victim.dataDir, { recursive: true });
    const wipedAt = Date.now();
    victim.process = undefined;
    await victim.start();

    // Rebuilt: the victim holds all three partitions again, each applied at least as far as
    // the others had applied when it came back empty. (Under load replicas are never at the
    // same index at the same moment; their states are compared once the load stops.)
    const targets = new Map();
    for (const view of await cluster.partitionViews()) {
      if (view.nodeId === 2) continue;
      targets.set(view.partitionId, Math.max(targets.get(view.partitionId) ?? 0, view.appliedIndex));
    }
    let rebuiltMs = -1;
    let last = [];
    const rebuildDeadline = Date.now() + 180_000;
    while (Date.now() < rebuildDeadline) {
      last = await cluster.partitionViews();
      const mine = last.filter((p) => p.nodeId === 2);
      if (mine.length === 3 && mine.every((p) => p.appliedIndex >= (targets.get(p.partitionId) ?? 1))) {
        rebuiltMs = Date.now() - wipedAt;
        break;
      }
      await sleep(100);
    }
    const logs = () => cluster.brokers.map((b, i) => `--- broker ${i}\n${b.log.slice(-20_000)}`).join('\n');
    assert.ok(rebuiltMs >= 0, `the wiped broker did not catch up within 180 s (targets ` +
      `${JSON.stringify([...targets])}): ${JSON.stringify(last.map((p) => [p.partitionId, p.nodeId, p.role, p.appliedIndex]))}\n${logs()}`);
    const rebuiltBytes = directoryBytes(victim.dataDir);

    // The load goes on a little after the rebuild, then every acknowledged instance finishes.
    await sleep(3_000);
    stop = true;
    await Promise.all(creators);
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && [...acknowledged].some((key) => !completed.has(key))) await sleep(200);
    working = false;
    await Promise.all(workers);
    const missing = [...acknowledged].filter((key) => !completed.has(key));
    console.log(`rebuilt ${(rebuiltBytes / (1 << 20)).toFixed(1)} MiB of data in ${rebuiltMs} ms ` +
      `under load; ${acknowledgedBeforeWipe} instances acknowledged before the wipe, ` +
      `${acknowledged.size} in all, ${completed.size} completed`);
    assert.equal(missing.length, 0, `${missing.length} acknowledged instances never completed: ` +
      `${missing.slice(0, 10).join(', ')}\n${logs()}`);
    assert.ok(acknowledged.size > acknowledgedBeforeWipe, 'instances were created while the broker rebuilt');

    // The rebuilt replicas hold the same state as the others.
    let agreed;
    ({ agreed, last } = await waitForEqualChecksums(cluster));
    assert.ok(agreed, `replicas disagree: ${JSON.stringify(last.map((p) => [p.partitionId, p.nodeId, p.checksum]))}`);
    client.close();
  });
});
