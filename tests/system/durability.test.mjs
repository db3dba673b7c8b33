// Acknowledged means durable: create instances in a loop, kill -9 the broker midway, restart it
// on the same data, and prove every acknowledged instance exists and can finish. Jobs activated
// before the crash become activatable again once their timeout passes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { Broker, bpmnDir, sleep } from '../compat/lib/broker.mjs';
import { activateJobs, call, rawClient } from '../compat/lib/raw_client.mjs';

const oneTask = readFileSync(path.join(bpmnDir, 'one-task.bpmn'));

describe('durability', () => {
  const broker = new Broker();
  const snapshotting = new Broker({ args: ['--snapshot-period', '500ms'] });
  after(async () => {
    await broker.cleanup();
    await snapshotting.cleanup();
  });

  test('kill -9 during a create loop loses no acknowledged instance', async () => {
    await broker.start();
    let client = rawClient(broker.address);
    assert.ifError((await call(client, 'DeployResource', {
      resources: [{ name: 'one-task.bpmn', content: oneTask }],
    })).error);

    // Some jobs are activated (locked for 3 s) and never completed before the crash.
    for (let i = 0; i < 5; i++) {
      await call(client, 'CreateProcessInstance', { bpmnProcessId: 'one-task', version: -1, variables: '{"early": true}' });
    }
    const locked = await activateJobs(client, { type: 'work', worker: 'before-crash', timeout: 3_000, maxJobsToActivate: 5, requestTimeout: -1 });
    assert.ifError(locked.error);
    assert.equal(locked.jobs.length, 5);

    const acknowledged = new Set(locked.jobs.map((j) => j.processInstanceKey));
    let stop = false;
    let failures = 0;
    const creator = async (id) => {
      let n = 0;
      while (!stop) {
        const { error, response } = await call(client, 'CreateProcessInstance', {
          bpmnProcessId: 'one-task', version: -1, variables: JSON.stringify({ creator: id, n: n++ }),
        }, 5_000);
        if (error) {
          failures++;
          if (stop) return;
          await sleep(5);
        } else {
          acknowledged.add(response.processInstanceKey);
        }
      }
    };
    const creators = Array.from({ length: 16 }, (_, i) => creator(i));
    // Let the loop run, then crash the broker in the middle of it.
    while (acknowledged.size < 400) await sleep(10);
    await broker.stop({ kill: true });
    stop = true;
    await Promise.all(creators);
    client.close();
    const before = acknowledged.size;
    console.log(`acknowledged ${before} instances before kill -9 (${failures} calls failed at the crash)`);

    await broker.start();
    client = rawClient(broker.address);
    // Every acknowledged instance has its job. The locked ones come back after their timeout.
    const seen = new Map();
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const { error, jobs } = await activateJobs(client, { type: 'work', worker: 'after-crash', timeout: 600_000, maxJobsToActivate: 1000, requestTimeout: 500 });
      assert.ifError(error);
      for (const job of jobs) {
        assert.ok(!seen.has(job.processInstanceKey), `instance ${job.processInstanceKey} has two jobs`);
        seen.set(job.processInstanceKey, job);
      }
      if ([...acknowledged].every((key) => seen.has(key))) break;
    }
    const missing = [...acknowledged].filter((key) => !seen.has(key));
    assert.deepEqual(missing, [], `${missing.length} acknowledged instances lost`);
    for (const job of locked.jobs) assert.ok(seen.has(job.processInstanceKey), 'a locked job came back after its timeout');

    // And every one of them can finish.
    for (const job of seen.values()) {
      const { error } = await call(client, 'CompleteJob', { jobKey: job.key, variables: '{"finished": true}' });
      assert.ifError(error);
    }
    const leftover = await activateJobs(client, { type: 'work', worker: 'check', timeout: 1000, maxJobsToActivate: 10, requestTimeout: -1 });
    assert.equal(leftover.jobs.length, 0);
    client.close();
  });

  test('restart after a snapshot rebuilds state from the snapshot and the log after it', async () => {
    await snapshotting.start();
    let client = rawClient(snapshotting.address);
    assert.ifError((await call(client, 'DeployResource', {
      resources: [{ name: 'one-task.bpmn', content: oneTask }],
    })).error);
    const created = [];
    const createSome = async (n) => {
      for (let i = 0; i < n; i++) {
        const { error, response } = await call(client, 'CreateProcessInstance', {
          bpmnProcessId: 'one-task', version: -1, variables: JSON.stringify({ i }),
        });
        assert.ifError(error);
        created.push(response.processInstanceKey);
      }
    };
    await createSome(100);
    // Half of the jobs are completed before the snapshot.
    const first = await activateJobs(client, { type: 'work', worker: 'w', timeout: 600_000, maxJobsToActivate: 50, requestTimeout: -1 });
    for (const job of first.jobs) assert.ifError((await call(client, 'CompleteJob', { jobKey: job.key })).error);
    const completed = new Set(first.jobs.map((j) => j.processInstanceKey));
    let snapshotIndex = 0;
    for (let i = 0; i < 100 && snapshotIndex === 0; i++) {
      await sleep(100);
      [{ snapshotIndex }] = await snapshotting.partitions();
    }
    assert.ok(snapshotIndex > 0, 'a snapshot was taken');
    await createSome(100);
    await snapshotting.stop({ kill: true });
    client.close();

    await snapshotting.start();
    client = rawClient(snapshotting.address);
    const [partition] = await snapshotting.partitions();
    assert.ok(partition.snapshotIndex >= snapshotIndex);
    // Exactly the instances whose job was not completed before the crash have a job to work on:
    // those created before the snapshot and never activated, and those created after it.
    const { jobs } = await activateJobs(client, { type: 'work', worker: 'w', timeout: 600_000, maxJobsToActivate: 1000, requestTimeout: -1 });
    const activatable = new Set(jobs.map((j) => j.processInstanceKey));
    const expected = created.filter((key) => !completed.has(key));
    assert.equal(activatable.size, expected.length);
    for (const key of expected) assert.ok(activatable.has(key), `instance ${key} lost its job`);
    for (const job of jobs) assert.ifError((await call(client, 'CompleteJob', { jobKey: job.key })).error);
    client.close();
  });
});
