// zeebe-node 8.3.2 (ZBClient) against a single tern-broker: the loan-approval flow with a real
// worker, 1,000 instances, each ending on the right path; then the same with
// CreateProcessInstanceWithResult; and the error codes clients rely on.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRequire } from 'node:module';

import { Broker, bpmnDir } from './lib/broker.mjs';

const require = createRequire(import.meta.url);
const { ZBClient } = require('zeebe-node');

const loanApproval = path.join(bpmnDir, 'loan-approval.bpmn');
const oneTask = path.join(bpmnDir, 'one-task.bpmn');

// Without retries, so that a test sees each call's own answer. The load tests below use
// zeebe-node's default instead (retry on): a burst of a thousand creates meets the broker's
// backpressure (RESOURCE_EXHAUSTED, as Zeebe's would), which the client retries by itself.
function client(broker, { retry = false } = {}) {
  return new ZBClient(broker.address, {
    loglevel: 'NONE',
    useTLS: false,
    retry,
  });
}

// The code of a failed call, whatever shape zeebe-node gives the error.
function grpcCode(error) {
  if (typeof error.code === 'number') return error.code;
  const match = /^(\d+)/.exec(error.message ?? '');
  return match ? Number(match[1]) : undefined;
}

describe('zeebe-node 8.3.2 against tern-broker', () => {
  let broker;
  let zb;
  let retrying;
  before(async () => {
    broker = await new Broker().start();
    zb = client(broker);
    retrying = client(broker, { retry: true });
  });
  after(async () => {
    await retrying.close(2000);
    await zb.close(2000);
    await broker.cleanup();
  });

  test('1,000 loan applications with a ZBClient worker each end on the right path', async () => {
    const deployed = await zb.deployProcess(loanApproval);
    assert.equal(deployed.processes[0].bpmnProcessId, 'loan-approval');

    const decisions = new Map();
    const worker = zb.createWorker({
      taskType: 'check-credit',
      maxJobsToActivate: 64,
      timeout: 30_000,
      longPoll: 5_000,
      loglevel: 'NONE',
      taskHandler: (job) => {
        const approved = job.variables.amount < 10_000;
        decisions.set(job.processInstanceKey, approved);
        return job.complete({ approved });
      },
    });

    const count = 1000;
    const created = [];
    for (let i = 0; i < count; i++) {
      const amount = (i * 37) % 20_000;
      created.push(
        retrying.createProcessInstance({
          bpmnProcessId: 'loan-approval',
          variables: { applicant: `applicant-${i}`, amount },
        }).then((r) => ({ key: r.processInstanceKey, amount })),
      );
    }
    const instances = await Promise.all(created);
    assert.equal(new Set(instances.map((i) => i.key)).size, count);

    const deadline = Date.now() + 120_000;
    while (decisions.size < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await worker.close();
    assert.equal(decisions.size, count, 'every instance had its credit checked once');
    for (const { key, amount } of instances) {
      assert.equal(decisions.get(key), amount < 10_000, `instance ${key} with amount ${amount}`);
    }
  });

  test('1,000 loan applications created with awaited results return their outcome', async () => {
    await zb.deployProcess(loanApproval);
    const worker = zb.createWorker({
      taskType: 'check-credit',
      maxJobsToActivate: 64,
      longPoll: 5_000,
      loglevel: 'NONE',
      taskHandler: (job) => job.complete({ approved: job.variables.amount < 10_000 }),
    });
    const count = 1000;
    const results = [];
    // At most 200 waiting at once: a client-side choice, not a broker limit.
    for (let start = 0; start < count; start += 200) {
      const batch = [];
      for (let i = start; i < Math.min(count, start + 200); i++) {
        const amount = (i * 53) % 20_000;
        batch.push(
          retrying.createProcessInstanceWithResult({
            bpmnProcessId: 'loan-approval',
            variables: { applicant: `a-${i}`, amount },
            requestTimeout: 60_000,
          }).then((result) => ({ result, amount })),
        );
      }
      results.push(...(await Promise.all(batch)));
    }
    await worker.close();
    assert.equal(results.length, count);
    for (const { result, amount } of results) {
      assert.equal(result.bpmnProcessId, 'loan-approval');
      assert.equal(result.variables.amount, amount);
      assert.equal(result.variables.approved, amount < 10_000);
    }
  });

  test('errors carry the codes clients rely on', async () => {
    await zb.deployProcess(oneTask);
    await assert.rejects(
      zb.createProcessInstance({ bpmnProcessId: 'no-such-process', variables: {} }),
      (error) => grpcCode(error) === 5 && /no-such-process/.test(error.message),
    );
    // A job key of partition 1 that no test reaches (the largest local part).
    await assert.rejects(zb.completeJob({ jobKey: '4503599627370495', variables: {} }),
      (error) => grpcCode(error) === 5);

    const { processInstanceKey } = await zb.createProcessInstance({ bpmnProcessId: 'one-task', variables: {} });
    const jobs = await zb.activateJobs({ type: 'work', worker: 'test', maxJobsToActivate: 100, timeout: 60_000, requestTimeout: 1_000 });
    const job = jobs.find((j) => j.processInstanceKey === processInstanceKey);
    assert.ok(job);
    await zb.completeJob({ jobKey: job.key, variables: {} });
    await assert.rejects(zb.completeJob({ jobKey: job.key, variables: {} }), (error) => grpcCode(error) === 5);

    await assert.rejects(
      zb.deployResource({ process: Buffer.from('<definitions/>'), name: 'broken.bpmn' }),
      (error) => grpcCode(error) === 3 && /broken\.bpmn/.test(error.message),
    );
  });
});
