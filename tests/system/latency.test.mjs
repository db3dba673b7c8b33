// Liveness under latency (issue 12 item 4): 3 brokers, 3 partitions, replication factor 3 and a
// standalone tern-gateway on loopback, with every link through a DelayProxy: each broker reaches
// each other broker through its own proxy (its --peers list names the proxies, while it binds its
// own --cluster-address), and the gateway reaches each broker through one. Phase 1: 200 ms
// one-way on every link. Phase 2: 100 ms between the gateway and the brokers only. In each phase
// the partitions keep their leaders (no new term once the phase has settled) and instances
// created through the gateway complete (a worker completes their jobs).
//
// TERN_LATENCY_SECONDS sets how long each phase watches the leaders (default 15; soaks use more),
// TERN_LATENCY_INSTANCES how many instances each phase creates (default 12).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { bpmnDir, sleep } from '../compat/lib/broker.mjs';
import { Cluster } from '../compat/lib/cluster.mjs';
import { activateJobs, call, rawClient } from '../compat/lib/raw_client.mjs';
import { DelayProxy } from './lib/delay_proxy.mjs';

const oneTask = readFileSync(path.join(bpmnDir, 'one-task.bpmn'));
const phaseSeconds = Number(process.env.TERN_LATENCY_SECONDS ?? 15);
const instancesPerPhase = Number(process.env.TERN_LATENCY_INSTANCES ?? 12);

describe('latency between members', () => {
  const brokerProxies = [];   // broker -> broker, one per ordered pair
  const gatewayProxies = [];  // gateway -> broker
  const proxy = async (target) => new DelayProxy({ target }).listen();
  const cluster = new Cluster({
    size: 3, partitions: 3, replicationFactor: 3,
    peersOf: (i, addresses) => Promise.all(addresses.map(async (address, j) => {
      if (i === j) return address;
      const p = await proxy(address);
      brokerProxies.push(p);
      return p.address;
    })),
    gatewayBrokers: (addresses) => Promise.all(addresses.map(async (address) => {
      const p = await proxy(address);
      gatewayProxies.push(p);
      return p.address;
    })),
  });
  let client;

  before(async () => {
    await cluster.start();
    client = rawClient(cluster.address);
    const deployed = await call(client, 'DeployResource', { resources: [{ name: 'one-task.bpmn', content: oneTask }] }, 30_000);
    assert.ifError(deployed.error);
    await settle('without delay', 8_000);
  });
  after(async () => {
    client?.close();
    await cluster.cleanup();
    await Promise.all([...brokerProxies, ...gatewayProxies].map((p) => p.close()));
  });

  const setDelays = ({ brokers, gateway }) => {
    for (const p of brokerProxies) p.setDelay(brokers);
    for (const p of gatewayProxies) p.setDelay(gateway);
  };

  // partition id -> { nodeId, term } of its leader in the highest term, from the brokers'
  // monitoring endpoints (not proxied).
  const leaders = async () => {
    const result = new Map();
    for (const view of await cluster.partitionViews()) {
      if (view.role !== 'LEADER') continue;
      const known = result.get(view.partitionId);
      if (!known || view.term > known.term) result.set(view.partitionId, { nodeId: view.nodeId, term: view.term });
    }
    return result;
  };
  const describeLeaders = (map) => JSON.stringify([...map].sort((a, b) => a[0] - b[0]));

  // Waits (bounded) until every partition has a leader and the leaders stay the same for
  // `stableMs`: elections caused by the change of delay, and leader balancing (which hands each
  // partition to its preferred leader a few seconds after the start), are over.
  const settle = async (what, stableMs = 3_000) => {
    const deadline = Date.now() + 60_000;
    let stableSince = Date.now();
    let last = '';
    while (Date.now() < deadline) {
      const current = await leaders();
      const text = describeLeaders(current);
      if (current.size !== cluster.partitions || text !== last) {
        last = text;
        stableSince = Date.now();
      } else if (Date.now() - stableSince >= stableMs) {
        return current;
      }
      await sleep(250);
    }
    assert.fail(`${what}: the partitions did not settle on leaders within 60 s: ${last}\n` +
      cluster.brokers.map((b, i) => `--- broker ${i}\n${b.log.slice(-5_000)}`).join('\n') +
      `\n--- gateway\n${cluster.gatewayLog.slice(-5_000)}`);
  };

  // Creates `count` instances through the gateway (a few at a time) while a worker completes
  // their jobs, and watches the leaders for at least `phaseSeconds`. Returns what it saw.
  const runPhase = async (what) => {
    const start = await settle(what);
    const leaderChanges = new Set();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const current = await leaders();
        for (let partitionId = 1; partitionId <= cluster.partitions; partitionId++) {
          const was = start.get(partitionId);
          const now = current.get(partitionId);
          if (!now || now.term !== was.term || now.nodeId !== was.nodeId) {
            leaderChanges.add(`partition ${partitionId}: ${JSON.stringify(was)} -> ${JSON.stringify(now ?? null)}`);
          }
        }
        await sleep(250);
      }
    })();

    const created = new Set();
    const createErrors = [];
    const creator = async (count) => {
      for (let n = 0; n < count; n++) {
        // Ambiguous answers are not retried: an instance created without an answer would only
        // be completed, never counted, which the assertions below allow.
        const { error, response } = await call(client, 'CreateProcessInstance', {
          bpmnProcessId: 'one-task', version: -1, variables: '{}',
        }, 20_000);
        if (error) createErrors.push(`${error.code} ${error.details}`);
        else created.add(response.processInstanceKey);
      }
    };
    const completed = new Set();
    let working = true;
    const worker = (async () => {
      while (working) {
        const { jobs } = await activateJobs(client, {
          type: 'work', worker: 'latency', timeout: 30_000, maxJobsToActivate: 32, requestTimeout: 2_000,
        }, 20_000);
        for (const job of jobs) {
          const { error } = await call(client, 'CompleteJob', { jobKey: job.key, variables: '{}' }, 20_000);
          if (!error) completed.add(job.processInstanceKey);
        }
      }
    })();

    const phaseEnd = Date.now() + phaseSeconds * 1000;
    const perCreator = Math.ceil(instancesPerPhase / 3);
    await Promise.all([creator(perCreator), creator(perCreator), creator(instancesPerPhase - 2 * perCreator)]);
    const deadline = Math.max(phaseEnd, Date.now() + 60_000);
    while (Date.now() < deadline && [...created].some((key) => !completed.has(key))) await sleep(250);
    while (Date.now() < phaseEnd) await sleep(250);
    working = false;
    watching = false;
    await Promise.all([worker, watcher]);
    const missing = [...created].filter((key) => !completed.has(key));
    console.log(`${what}: ${created.size} instances created, ${completed.size} completed, ` +
      `create errors: ${JSON.stringify(createErrors)}, leaders ${describeLeaders(start)}, ` +
      `changes: ${JSON.stringify([...leaderChanges])}`);
    return { created, missing, createErrors, leaderChanges: [...leaderChanges] };
  };

  const assertPhase = ({ created, missing, createErrors, leaderChanges }, what) => {
    assert.deepEqual(leaderChanges, [], `${what}: leaders changed`);
    assert.deepEqual(createErrors, [], `${what}: creates failed`);
    assert.equal(created.size, instancesPerPhase, `${what}: not every create was answered`);
    assert.deepEqual(missing, [], `${what}: instances did not complete`);
  };

  test('200 ms one-way on every link: leaders stay, instances complete', { timeout: 10 * 60_000 }, async () => {
    setDelays({ brokers: 200, gateway: 200 });
    const result = await runPhase('200 ms everywhere');
    for (const p of [...brokerProxies, ...gatewayProxies]) assert.ok(p.bytes > 0, `proxy to ${p.targetPort} carried nothing`);
    assertPhase(result, '200 ms everywhere');
  });

  test('100 ms between gateway and brokers: leaders stay, instances complete', { timeout: 10 * 60_000 }, async () => {
    setDelays({ brokers: 0, gateway: 100 });
    assertPhase(await runPhase('100 ms gateway-brokers'), '100 ms gateway-brokers');
  });
});
