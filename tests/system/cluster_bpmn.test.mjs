// Timers, message correlation across partitions and call activities on a real cluster: 3
// brokers, 3 partitions, replication factor 3 and a standalone tern-gateway on loopback, with
// partition leaders killed (kill -9) and restarted while instances wait. Each waiting instance
// must continue exactly once: one job after its timer, its message or its child instance, never
// two (a timer that fires twice, or a message that correlates twice, would create a second job).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { sleep } from '../compat/lib/broker.mjs';
import { Cluster } from '../compat/lib/cluster.mjs';
import { activateJobs, call, rawClient } from '../compat/lib/raw_client.mjs';
import { messagePartition, partitionOf } from '../compat/lib/partitions.mjs';

const grpc = { CANCELLED: 1, UNKNOWN: 2, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6, RESOURCE_EXHAUSTED: 8, ABORTED: 10, UNAVAILABLE: 14 };
// Answers after which a command may or may not have been applied.
const ambiguous = new Set([grpc.CANCELLED, grpc.UNKNOWN, grpc.DEADLINE_EXCEEDED]);

const header = '<?xml version="1.0" encoding="UTF-8"?>' +
  '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" ' +
  'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">';
const processXml = (id, body) => `${header}<bpmn:process id="${id}" isExecutable="true">${body}</bpmn:process></bpmn:definitions>`;
const serviceTask = (id, type, incoming, outgoing) => `
  <bpmn:serviceTask id="${id}"><bpmn:extensionElements><zeebe:taskDefinition type="${type}" /></bpmn:extensionElements>
    <bpmn:incoming>${incoming}</bpmn:incoming><bpmn:outgoing>${outgoing}</bpmn:outgoing></bpmn:serviceTask>`;
// start -> `waitElement` (id "wait", flows f1 in, f2 out) -> service task of `afterType` -> end
const waitThenTask = (id, waitElement, afterType) => processXml(id, `
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
  ${waitElement}
  <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="after" />
  ${serviceTask('after', afterType, 'f2', 'f3')}
  <bpmn:sequenceFlow id="f3" sourceRef="after" targetRef="end" />
  <bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>`);

const timerProcess = waitThenTask('cb-timer', `
  <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:timerEventDefinition><bpmn:timeDuration>PT4S</bpmn:timeDuration></bpmn:timerEventDefinition>
  </bpmn:intermediateCatchEvent>`, 'cb-after-timer');
const messageProcess = `${header}<bpmn:message id="paid" name="cb-paid">
  <bpmn:extensionElements><zeebe:subscription correlationKey="=orderId" /></bpmn:extensionElements></bpmn:message>` +
  waitThenTask('cb-payment', `
  <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:messageEventDefinition messageRef="paid" /></bpmn:intermediateCatchEvent>`, 'cb-after-payment').slice(header.length);
const childProcess = processXml('cb-child', `
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
  ${serviceTask('work', 'cb-child-work', 'f1', 'f2')}
  <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>`);
const parentProcess = waitThenTask('cb-parent', `
  <bpmn:callActivity id="wait"><bpmn:extensionElements><zeebe:calledElement processId="=child" /></bpmn:extensionElements>
    <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>`, 'cb-after-call');

describe('BPMN on a cluster with leader kills', () => {
  const cluster = new Cluster({ size: 3, partitions: 3, replicationFactor: 3 });
  let client;
  before(async () => {
    await cluster.start();
    client = rawClient(cluster.address);
    for (const [name, xml] of [['timer.bpmn', timerProcess], ['payment.bpmn', messageProcess],
      ['child.bpmn', childProcess], ['parent.bpmn', parentProcess]]) {
      const { error } = await send('DeployResource', { resources: [{ name, content: Buffer.from(xml) }] });
      assert.ifError(error);
    }
  });
  after(async () => {
    client?.close();
    await cluster.cleanup();
  });

  // A command through the gateway, sent again while the cluster answers that it was not
  // processed (UNAVAILABLE, RESOURCE_EXHAUSTED: no leader yet, or a leader still catching up).
  async function send(method, request, timeoutMs = 30_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const result = await call(client, method, request, 10_000);
      // An unknown outcome is UNKNOWN or DEADLINE_EXCEEDED; ABORTED would be retried by clients
      // (docs/api-errors.md).
      assert.notEqual(result.error?.code, grpc.ABORTED, `${method} answered ABORTED: ${result.error?.message}`);
      const retry = result.error && (result.error.code === grpc.UNAVAILABLE || result.error.code === grpc.RESOURCE_EXHAUSTED);
      if (!retry || Date.now() > deadline) return result;
      await sleep(100);
    }
  }

  async function create(bpmnProcessId, variables) {
    const { error, response } = await send('CreateProcessInstance', { bpmnProcessId, version: -1, variables: JSON.stringify(variables) });
    assert.ifError(error);
    return response.processInstanceKey;
  }

  // Kills the broker leading `partitionId` and starts it again after `downMs`.
  async function killLeaderOf(partitionId, downMs = 1_000) {
    const { nodeId } = await cluster.leaderOf(partitionId);
    assert.ok(nodeId >= 0, `partition ${partitionId} has a leader`);
    const victim = cluster.brokers[nodeId];
    await victim.stop({ kill: true });
    await sleep(downMs);
    victim.process = undefined;
    await victim.start();
    return nodeId;
  }

  // Activates and completes jobs of `type` until every instance in `instanceKeys` completed
  // one, then keeps activating for a while to catch a second job for any of them. Returns the
  // completed jobs by instance.
  async function completeOnePerInstance(type, instanceKeys, variablesOf = () => ({})) {
    const expected = new Set(instanceKeys);
    const jobsOf = new Map(instanceKeys.map((key) => [key, new Set()]));
    const completed = new Map();
    const deadline = Date.now() + 90_000;
    let quietUntil = 0;
    while (Date.now() < deadline) {
      if (completed.size === expected.size) {
        if (quietUntil === 0) quietUntil = Date.now() + 3_000;
        if (Date.now() > quietUntil) break;
      }
      const { jobs } = await activateJobs(client, {
        type, worker: 'cluster-bpmn', maxJobsToActivate: 50, timeout: 4_000, requestTimeout: 500,
      }, 10_000);
      for (const job of jobs) {
        assert.ok(expected.has(job.processInstanceKey), `a ${type} job for unknown instance ${job.processInstanceKey}`);
        jobsOf.get(job.processInstanceKey).add(job.key);
        assert.equal(jobsOf.get(job.processInstanceKey).size, 1,
          `instance ${job.processInstanceKey} got a second ${type} job (its wait continued twice)`);
        const request = { jobKey: job.key, variables: JSON.stringify(variablesOf(job)) };
        let { error } = await call(client, 'CompleteJob', request, 10_000);
        // A completion whose answer was lost in a failover: ask again until the answer is
        // definite; NOT_FOUND then means the first attempt landed.
        let wasAmbiguous = false;
        while (error && ambiguous.has(error.code) && Date.now() < deadline) {
          wasAmbiguous = true;
          await sleep(200);
          ({ error } = await call(client, 'CompleteJob', request, 10_000));
          assert.notEqual(error?.code, grpc.ABORTED, `CompleteJob answered ABORTED: ${error?.message}`);
        }
        if (!error || (wasAmbiguous && error.code === grpc.NOT_FOUND)) completed.set(job.processInstanceKey, job);
        // Otherwise (UNAVAILABLE: not processed) the job comes back after its timeout.
      }
    }
    const missing = instanceKeys.filter((key) => !completed.has(key));
    assert.deepEqual(missing, [], `instances whose ${type} job never completed`);
    return completed;
  }

  test('timers fire exactly once after the leaders that created them die', { timeout: 180_000 }, async () => {
    const instances = [];
    for (let i = 0; i < 9; i++) instances.push(await create('cb-timer', { i }));
    assert.equal(new Set(instances.map(partitionOf)).size, 3, 'instances on every partition');
    // The timers are due 4 s after creation: the leaders that wrote them die before that, and
    // new leaders (whose clocks they never saw) must trigger them.
    const killed = await killLeaderOf(1);
    const { nodeId: leaderOf2 } = await cluster.leaderOf(2);
    if (leaderOf2 !== killed) await killLeaderOf(2);
    const jobs = await completeOnePerInstance('cb-after-timer', instances);
    for (const job of jobs.values()) assert.ok('i' in JSON.parse(job.variables));
  });

  test('messages correlate exactly once when a leader dies between publish and correlation', { timeout: 180_000 }, async () => {
    // Correlation keys whose message partition differs from the instance's partition: the
    // message partition sends the correlation to the instance partition, and one of the two
    // loses its leader right after the publish was acknowledged.
    const orders = [];
    for (let i = 0; orders.length < 6 && i < 100; i++) {
      const orderId = `order-${i}`;
      const instance = await create('cb-payment', { orderId });
      if (messagePartition(orderId, 3) === partitionOf(instance)) {
        assert.ifError((await send('CancelProcessInstance', { processInstanceKey: instance })).error);
        continue;
      }
      orders.push({ orderId, instance });
    }
    assert.equal(orders.length, 6);
    const publish = async ({ orderId }) => {
      // The message id makes a resend after an ambiguous answer harmless (ALREADY_EXISTS).
      const request = { name: 'cb-paid', correlationKey: orderId, messageId: `paid-${orderId}`, timeToLive: 120_000,
        variables: JSON.stringify({ paidFor: orderId }) };
      for (let attempt = 0; attempt < 50; attempt++) {
        const { error } = await send('PublishMessage', request);
        if (!error || error.code === grpc.ALREADY_EXISTS) return;
        assert.ok(ambiguous.has(error.code), `publish ${orderId}: ${error.message}`);
        await sleep(200);
      }
      assert.fail(`message for ${orderId} never acknowledged`);
    };
    // First half: the instance's partition loses its leader right after the publish.
    for (const order of orders.slice(0, 3)) await publish(order);
    await killLeaderOf(partitionOf(orders[0].instance), 500);
    // Second half: the message's partition loses its leader right after the publish.
    for (const order of orders.slice(3)) await publish(order);
    await killLeaderOf(messagePartition(orders[3].orderId, 3), 500);

    const jobs = await completeOnePerInstance('cb-after-payment', orders.map((o) => o.instance));
    for (const { orderId, instance } of orders) {
      assert.equal(JSON.parse(jobs.get(instance).variables).paidFor, orderId);
    }
  });

  test('call activities continue their parents after leader kills', { timeout: 180_000 }, async () => {
    const parents = [];
    for (let i = 0; i < 6; i++) parents.push(await create('cb-parent', { child: 'cb-child', parentIndex: i }));
    assert.equal(new Set(parents.map(partitionOf)).size, 3, 'parents on every partition');
    // The children's jobs exist (the call activities ran) before the leaders die.
    const seen = new Set();
    const deadline = Date.now() + 30_000;
    while (seen.size < parents.length && Date.now() < deadline) {
      // Short activation timeout: these jobs come back once the kill is over.
      const { jobs } = await activateJobs(client, {
        type: 'cb-child-work', worker: 'cluster-bpmn', maxJobsToActivate: 50, timeout: 1_000, requestTimeout: 500,
      }, 10_000);
      for (const job of jobs) seen.add(JSON.parse(job.variables).parentIndex);
    }
    assert.equal(seen.size, parents.length, 'every child instance got its job');
    const killed = await killLeaderOf(3);
    const { nodeId: leaderOf1 } = await cluster.leaderOf(1);
    if (leaderOf1 !== killed) await killLeaderOf(1);

    // Children complete; their variables flow back to the parents (propagateAllChildVariables).
    const childJobs = await completeOnePerInstance('cb-child-work', [...(await childInstances())],
      (job) => ({ childResult: `done-${JSON.parse(job.variables).parentIndex}` }));
    assert.equal(childJobs.size, parents.length);
    const after = await completeOnePerInstance('cb-after-call', parents);
    for (const job of after.values()) {
      const variables = JSON.parse(job.variables);
      assert.equal(variables.childResult, `done-${variables.parentIndex}`);
    }

    // The child instances' keys, from their jobs (each child has one job).
    async function childInstances() {
      const keys = new Set();
      const until = Date.now() + 30_000;
      while (keys.size < parents.length && Date.now() < until) {
        const { jobs } = await activateJobs(client, {
          type: 'cb-child-work', worker: 'cluster-bpmn', maxJobsToActivate: 50, timeout: 1, requestTimeout: 500,
        }, 10_000);
        for (const job of jobs) keys.add(job.processInstanceKey);
        await sleep(50);
      }
      return keys;
    }
  });
});
