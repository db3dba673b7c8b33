// A real cluster on loopback: 3 brokers, 3 partitions, replication factor 3, and a standalone
// tern-gateway. A load driver creates instances of a one-task process and completes their jobs
// while a chaos driver kill -9s the leader of a random partition every 10-20 s and restarts it.
// Afterwards every acknowledged instance has completed, no job was completed twice, and the
// replicas of each partition agree on their state checksum.
//
// TERN_CHAOS_SECONDS sets how long the chaos runs (default 40; soak runs use more).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { bpmnDir, sleep, zbctl } from '../compat/lib/broker.mjs';
import { Cluster } from '../compat/lib/cluster.mjs';
import { activateJobs, call, rawClient } from '../compat/lib/raw_client.mjs';
import { waitForEqualChecksums } from './lib/replicas.mjs';

const oneTask = readFileSync(path.join(bpmnDir, 'one-task.bpmn'));
const chaosSeconds = Number(process.env.TERN_CHAOS_SECONDS ?? 40);
// gRPC codes after which a command may or may not have been applied.
const ambiguousCodes = new Set([1 /* CANCELLED */, 2 /* UNKNOWN */, 4 /* DEADLINE_EXCEEDED */, 14 /* UNAVAILABLE */]);
const grpcNotFound = 5;
// Clients retry ABORTED (and UNAVAILABLE); an answer whose outcome is unknown must never use it,
// or a retried create duplicates its instance (docs/api-errors.md).
const grpcAborted = 10;

describe('cluster', () => {
  // Frequent snapshots, so that restarted members also catch up from snapshots and compacted logs.
  const cluster = new Cluster({ size: 3, partitions: 3, replicationFactor: 3, args: ['--snapshot-period', '10s'] });
  before(async () => {
    await cluster.start();
  });
  after(async () => {
    await cluster.cleanup();
  });

  test('zbctl status shows every broker with each partition\'s leader and followers', async () => {
    const result = await zbctl({ address: cluster.address }, ['status']);
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout;
    assert.match(out, /Cluster size: 3/);
    assert.match(out, /Partitions count: 3/);
    assert.match(out, /Replication factor: 3/);
    for (let node = 0; node < 3; node++) assert.match(out, new RegExp(`Broker ${node} - 127\\.0\\.0\\.1:\\d+`));
    for (let partition = 1; partition <= 3; partition++) {
      const leaders = out.match(new RegExp(`Partition ${partition} : Leader, Healthy`, 'g')) ?? [];
      const followers = out.match(new RegExp(`Partition ${partition} : Follower, Healthy`, 'g')) ?? [];
      assert.equal(leaders.length, 1, `partition ${partition} has one leader:\n${out}`);
      assert.equal(followers.length, 2, `partition ${partition} has two followers:\n${out}`);
    }
  });

  test('kill -9 of partition leaders under load loses no acknowledged instance', { timeout: 15 * 60_000 }, async () => {
    const client = rawClient(cluster.address);
    const deployed = await call(client, 'DeployResource', { resources: [{ name: 'one-task.bpmn', content: oneTask }] });
    assert.ifError(deployed.error);

    const acknowledged = new Set();
    const completedInstances = new Set();
    const completedJobs = new Set();
    let createFailures = 0;
    let completeRejections = 0;
    let landedWithoutAnswer = 0;
    const createErrorCodes = new Map();
    let abortedAnswers = 0;
    let stop = false;

    const creator = async (id) => {
      let n = 0;
      while (!stop) {
        const { error, response } = await call(client, 'CreateProcessInstance', {
          bpmnProcessId: 'one-task', version: -1, variables: JSON.stringify({ creator: id, n: n++ }),
        }, 10_000);
        if (error) {
          createFailures++;
          createErrorCodes.set(error.code, (createErrorCodes.get(error.code) ?? 0) + 1);
          if (error.code === grpcAborted) abortedAnswers++;
          await sleep(50);
        } else {
          // Keys stay unique across leader changes (plan R14): a new leader continues the key
          // sequence where the old one left it.
          assert.ok(!acknowledged.has(response.processInstanceKey),
            `instance key ${response.processInstanceKey} was handed out twice`);
          acknowledged.add(response.processInstanceKey);
        }
        await sleep(20);
      }
    };
    let working = true;
    const worker = async () => {
      while (working) {
        const { jobs } = await activateJobs(client, {
          type: 'work', worker: 'chaos', timeout: 5_000, maxJobsToActivate: 50, requestTimeout: 1_000,
        }, 10_000);
        for (const job of jobs) {
          let { error } = await call(client, 'CompleteJob', { jobKey: job.key, variables: '{}' }, 10_000);
          if (error?.code === grpcAborted) abortedAnswers++;
          // A completion committed just before its leader died loses its answer. Asking again
          // until the answer is definite tells the cases apart: NOT_FOUND after an ambiguous
          // answer means the first attempt landed (nothing else removes the job; a re-activated
          // copy completes under the same key and answers OK).
          let ambiguousBefore = false;
          const askUntil = Date.now() + 30_000;
          while (error && ambiguousCodes.has(error.code) && Date.now() < askUntil) {
            ambiguousBefore = true;
            await sleep(100);
            ({ error } = await call(client, 'CompleteJob', { jobKey: job.key, variables: '{}' }, 10_000));
            if (error?.code === grpcAborted) abortedAnswers++;
          }
          if (error && ambiguousBefore && error.code === grpcNotFound) {
            landedWithoutAnswer++;
            completedInstances.add(job.processInstanceKey);
            continue;
          }
          if (error) {
            completeRejections++;  // timed out and handed out again
            continue;
          }
          assert.ok(!completedJobs.has(job.key), `job ${job.key} was completed twice`);
          completedJobs.add(job.key);
          assert.ok(!completedInstances.has(job.processInstanceKey),
            `instance ${job.processInstanceKey} completed a second job`);
          completedInstances.add(job.processInstanceKey);
        }
      }
    };

    const creators = Array.from({ length: 4 }, (_, i) => creator(i));
    const workers = Array.from({ length: 2 }, () => worker());

    const failovers = [];
    const chaosEnd = Date.now() + chaosSeconds * 1000;
    await sleep(3_000);
    while (Date.now() < chaosEnd) {
      const partitionId = 1 + Math.floor(Math.random() * cluster.partitions);
      const { nodeId, term } = await cluster.leaderOf(partitionId);
      if (nodeId < 0) {
        await sleep(500);
        continue;
      }
      const victim = cluster.brokers[nodeId];
      const killedAt = Date.now();
      await victim.stop({ kill: true });
      // The partition accepts writes again once another member leads it in a later term and
      // has caught up (it reports ready only then).
      let recoveredMs = -1;
      while (Date.now() - killedAt < 30_000) {
        const views = await cluster.partitionViews();
        const leader = views.find((p) => p.partitionId === partitionId && p.role === 'LEADER' && p.term > term);
        if (leader) {
          recoveredMs = Date.now() - killedAt;
          break;
        }
        await sleep(10);
      }
      failovers.push({ partitionId, nodeId, recoveredMs });
      console.log(`killed node ${nodeId} (leader of partition ${partitionId}, term ${term}): ` +
        `new leader after ${recoveredMs} ms`);
      if (recoveredMs < 0) {
        const views = JSON.stringify(await cluster.partitionViews());
        const logs = cluster.brokers.map((b, i) => `--- broker ${i}\n${b.log.slice(-20_000)}`).join('\n');
        assert.fail(`partition ${partitionId} got no new leader within 30 s\n${views}\n${logs}`);
      }
      await sleep(2_000);
      victim.process = undefined;
      await victim.start();
      await sleep(8_000 + Math.random() * 10_000);
    }

    stop = true;
    await Promise.all(creators);
    // Every acknowledged instance finishes: its job is activated and completed, possibly after
    // the activation timeout of a job whose worker lost its answer in a failover.
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline && [...acknowledged].some((key) => !completedInstances.has(key))) {
      await sleep(200);
    }
    working = false;
    await Promise.all(workers);
    const missing = [...acknowledged].filter((key) => !completedInstances.has(key));
    console.log(`${acknowledged.size} instances acknowledged, ${completedInstances.size} completed, ` +
      `${createFailures} creates failed, ${completeRejections} completions refused, ` +
      `${landedWithoutAnswer} completions landed without an answer, ${failovers.length} kills; ` +
      `failover times (ms): ${failovers.map((f) => f.recoveredMs).join(', ')}; ` +
      `create errors by code: ${JSON.stringify(Object.fromEntries(createErrorCodes))}`);
    // Ambiguous outcomes (a leader lost with the command in flight) are UNKNOWN or
    // DEADLINE_EXCEEDED, never a code that clients retry by themselves.
    assert.equal(abortedAnswers, 0, `${abortedAnswers} commands were answered ABORTED`);
    if (missing.length > 0) {
      const incidents = [];
      for (const broker of cluster.brokers) {
        try {
          incidents.push(...(await broker.incidentsOf(missing[0])));
        } catch {
          // not running
        }
      }
      const views = JSON.stringify(await cluster.partitionViews());
      const logs = cluster.brokers.map((b, i) => `--- broker ${i}\n${b.log.slice(-20_000)}`).join('\n');
      assert.fail(`${missing.length} acknowledged instances never completed: ${missing.slice(0, 10).join(', ')}\n` +
        `incidents of the first: ${JSON.stringify(incidents)}\n${views}\n${logs}`);
    }
    assert.ok(acknowledged.size > 0);

    // All replicas of each partition converge on the same state.
    const { agreed, last } = await waitForEqualChecksums(cluster);
    assert.ok(agreed, `replicas disagree: ${JSON.stringify(last.map((p) => [p.partitionId, p.nodeId, p.checksum]))}`);
    client.close();
  });
});
