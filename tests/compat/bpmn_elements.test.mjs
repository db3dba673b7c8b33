// BPMN coverage with real clients: one test per element group, each deploying a small model from
// bpmn/elements/ and driving it with zeebe-node 8.3.2 (and zbctl 8.4.1 where it has the command)
// against one tern-broker. Outcomes are observed through what clients can see: jobs and their
// variables, results of CreateProcessInstanceWithResult, incidents on the monitoring endpoint.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test as nodeTest } from 'node:test';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';

import { Broker, bpmnDir, sleep, zbctl, zbctlJson } from './lib/broker.mjs';
import { activateJobs, call, rawClient } from './lib/raw_client.mjs';
import { messagePartition, partitionOf } from './lib/partitions.mjs';

const require = createRequire(import.meta.url);
const { ZBClient } = require('zeebe-node');

const elements = path.join(bpmnDir, 'elements');
// Every test is bounded, so that one hang shows as one failure instead of stopping the file.
const test = (name, fn) => nodeTest(name, { timeout: 40_000 }, fn);
const model = (name) => path.join(elements, name);

function grpcCode(error) {
  if (typeof error.code === 'number') return error.code;
  const match = /^(\d+)/.exec(error.message ?? '');
  return match ? Number(match[1]) : undefined;
}

// Polls `probe` until it returns a truthy value.
async function eventually(probe, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await probe();
    if (last) return last;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

describe('BPMN elements driven by zeebe-node 8.3.2 and zbctl 8.4.1', () => {
  let broker;
  let zb;
  let raw;

  // One ActivateJobs call through the raw client: zeebe-node's activateJobs() never settles
  // when a long poll ends without jobs (Zeebe's gateway then sends no response message).
  async function activate(type) {
    const { error, jobs: batch } = await activateJobs(raw, {
      type, worker: 'bpmn-test', maxJobsToActivate: 32, timeout: 60_000, requestTimeout: 200,
    });
    if (error) throw error;
    return batch.map((j) => ({ ...j, variables: JSON.parse(j.variables), customHeaders: JSON.parse(j.customHeaders) }));
  }

  // Activates jobs of `type` until `count` jobs (of `processInstanceKey`, when given) were seen.
  async function jobs(type, { count = 1, processInstanceKey } = {}) {
    const seen = [];
    await eventually(async () => {
      for (const job of await activate(type)) {
        if (!processInstanceKey || job.processInstanceKey === processInstanceKey) seen.push(job);
      }
      return seen.length >= count;
    }, `${count} job(s) of type ${type}`);
    return seen;
  }
  const job = async (type, processInstanceKey) => (await jobs(type, { processInstanceKey }))[0];

  const deploy = (name) => zb.deployResource({ processFilename: model(name) });
  // Deploys a variant of a model: `edits` are [from, to] text replacements applied to its XML.
  const deployVariant = (name, variantName, edits) =>
    zb.deployResource({ processFilename: variantFile(name, variantName, edits) });
  // Writes such a variant and returns its path (for zbctl, or resources of other kinds).
  function variantFile(name, variantName, edits) {
    let xml = readFileSync(model(name), 'utf8');
    for (const [from, to] of edits) {
      assert.ok(xml.includes(from), `${name} contains ${from}`);
      xml = xml.split(from).join(to);
    }
    const file = path.join(tmpdir(), `${variantName}-${process.pid}${path.extname(name)}`);
    writeFileSync(file, xml);
    return file;
  }
  const create = (bpmnProcessId, variables = {}) => zb.createProcessInstance({ bpmnProcessId, variables });
  const withResult = (bpmnProcessId, variables = {}) =>
    zb.createProcessInstanceWithResult({ bpmnProcessId, variables, requestTimeout: 30_000 });

  // A called (child) instance cannot be cancelled on its own: FAILED_PRECONDITION while it
  // exists, NOT_FOUND once it is gone.
  async function childGone(processInstanceKey) {
    try {
      await zb.cancelProcessInstance(processInstanceKey);
      return false;
    } catch (error) {
      return grpcCode(error) === 5;
    }
  }

  before(async () => {
    broker = await new Broker().start();
    zb = new ZBClient(broker.address, { loglevel: 'NONE', useTLS: false, retry: false });
    raw = rawClient(broker.address);
  });
  after(async () => {
    // The broker's own log, for a failure's post-mortem.
    if (process.env.TERN_BROKER_LOG && broker) writeFileSync(process.env.TERN_BROKER_LOG, broker.log);
    raw?.close();
    await zb?.close(2000);
    await broker?.cleanup();
  });

  // --- Timers ----------------------------------------------------------------------------------

  test('timer intermediate catch event (PT1S)', async () => {
    await deploy('timer-catch.bpmn');
    const started = Date.now();
    const result = await withResult('timer-catch');
    assert.equal(result.variables.waited, true);
    assert.ok(Date.now() - started >= 900, 'the timer waited about a second');
  });

  test('interrupting timer boundary event', async () => {
    await deploy('timer-boundary.bpmn');
    const result = await withResult('timer-boundary');
    assert.equal(result.variables.path, 'timed out');
  });

  test('non-interrupting timer boundary cycle (R2/PT1S)', async () => {
    await deploy('timer-cycle-boundary.bpmn');
    const { processInstanceKey } = await create('timer-cycle-boundary');
    const reminders = await jobs('tcb-remind', { count: 2, processInstanceKey });
    const work = await job('tcb-work', processInstanceKey);
    for (const reminder of reminders) await zb.completeJob({ jobKey: reminder.key, variables: {} });
    await zb.completeJob({ jobKey: work.key, variables: {} });
    await eventually(async () => {
      try {
        await zb.cancelProcessInstance(processInstanceKey);
        return 'still running';
      } catch (error) {
        return grpcCode(error) === 5;
      }
    }, 'the instance to complete');
  });

  test('timer start event (R2/PT1S) starts two instances', async () => {
    await deploy('timer-start.bpmn');
    const started = await jobs('ts-work', { count: 2 });
    assert.equal(new Set(started.map((j) => j.processInstanceKey)).size, 2);
    await sleep(1500);
    const more = await activate('ts-work');
    assert.equal(more.length, 0, 'the cycle has two repetitions only');
  });

  test('timer start event with a date starts one instance at that time', async () => {
    // A date 2 s ahead, written into the model at test time.
    const due = new Date(Date.now() + 2_000).toISOString();
    await deployVariant('timer-start.bpmn', 'timer-start-date', [
      ['id="timer-start"', 'id="timer-start-date"'],
      ['<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">R2/PT1S</bpmn:timeCycle>',
        `<bpmn:timeDate xsi:type="bpmn:tFormalExpression">${due}</bpmn:timeDate>`],
      ['type="ts-work"', 'type="tsd-work"']]);
    assert.equal((await activate('tsd-work')).length, 0, 'nothing before the date');
    const started = await jobs('tsd-work');
    assert.ok(Date.now() >= Date.parse(due), 'not before the date');
    await sleep(1500);
    assert.equal((await activate('tsd-work')).length, 0, 'a date fires once');
    assert.equal(started.length, 1);
  });

  test('timer start event with a cron cycle starts instances until a new version drops it', async () => {
    await deployVariant('timer-start.bpmn', 'timer-start-cron', [
      ['id="timer-start"', 'id="timer-start-cron"'],
      ['R2/PT1S', '* * * * * *'],  // every second (Spring's six fields, as Zeebe reads them)
      ['type="ts-work"', 'type="tsc-work"']]);
    const started = await jobs('tsc-work', { count: 2 });
    assert.equal(new Set(started.map((j) => j.processInstanceKey)).size, 2);
    // A new version with a none start event closes the timer.
    await deployVariant('timer-start.bpmn', 'timer-start-cron-v2', [
      ['id="timer-start"', 'id="timer-start-cron"'],
      ['<bpmn:timerEventDefinition><bpmn:timeCycle xsi:type="bpmn:tFormalExpression">R2/PT1S</bpmn:timeCycle></bpmn:timerEventDefinition>', ''],
      ['type="ts-work"', 'type="tsc-work"']]);
    await sleep(1200);
    await activate('tsc-work');  // at most one that was due as the new version arrived
    await sleep(2000);
    assert.equal((await activate('tsc-work')).length, 0, 'the cron timer stopped with the new version');
  });

  // --- Messages --------------------------------------------------------------------------------

  test('message intermediate catch event correlates by key with variables', async () => {
    await deploy('message-catch.bpmn');
    const pending = withResult('message-catch', { orderId: 'order-1' });
    await sleep(200);
    const published = await zb.publishMessage({
      name: 'mc-paid', correlationKey: 'order-1', timeToLive: 10_000, variables: { paid: 42 },
    });
    assert.match(String(published.key), /^\d+$/);
    const result = await pending;
    assert.equal(result.variables.paid, 42);
  });

  test('a buffered message (TTL) correlates to an instance created later', async () => {
    await deploy('message-catch.bpmn');
    await zb.publishMessage({
      name: 'mc-paid', correlationKey: 'order-buffered', timeToLive: 30_000, variables: { early: true },
    });
    const result = await withResult('message-catch', { orderId: 'order-buffered' });
    assert.equal(result.variables.early, true);
  });

  test('a message id can be published once while the message lives (ALREADY_EXISTS)', async () => {
    const message = { name: 'mc-dup', correlationKey: 'dup', messageId: 'dup-1', timeToLive: 60_000, variables: {} };
    await zb.publishMessage(message);
    await assert.rejects(zb.publishMessage(message), (error) =>
      grpcCode(error) === 6 && /Command 'PUBLISH' rejected with code 'ALREADY_EXISTS'/.test(error.message));
  });

  test('zbctl publish message', async () => {
    await deploy('message-catch.bpmn');
    const pending = withResult('message-catch', { orderId: 'order-zbctl' });
    const published = await zbctl(broker, ['publish', 'message', 'mc-paid', '--correlationKey', 'order-zbctl',
      '--ttl', '10s', '--variables', '{"via":"zbctl"}']);
    assert.equal(published.code, 0, published.stderr);
    assert.equal((await pending).variables.via, 'zbctl');
  });

  test('message start event', async () => {
    await deploy('message-start.bpmn');
    await zb.publishMessage({ name: 'ms-start', correlationKey: '', timeToLive: 0, variables: { x: 7 } });
    const started = await job('ms-work');
    assert.equal(started.variables.x, 7);
    await zb.completeJob({ jobKey: started.key, variables: {} });
  });

  test('interrupting message boundary event', async () => {
    await deploy('message-boundary.bpmn');
    const pending = withResult('message-boundary', { orderId: 'order-mb' });
    await job('mb-work');
    await zb.publishMessage({ name: 'mb-cancel', correlationKey: 'order-mb', timeToLive: 10_000, variables: {} });
    assert.equal((await pending).variables.path, 'cancelled');
  });

  test('receive task', async () => {
    await deploy('receive-task.bpmn');
    const pending = withResult('receive-task', { orderId: 'order-rt' });
    await zb.publishMessage({ name: 'rt-receipt', correlationKey: 'order-rt', timeToLive: 10_000, variables: { receipt: 'r-1' } });
    assert.equal((await pending).variables.receipt, 'r-1');
  });

  test('event-based gateway: the message wins, or the timer', async () => {
    await deploy('event-gateway.bpmn');
    const byMessage = withResult('event-gateway', { orderId: 'order-eg' });
    await zb.publishMessage({ name: 'eg-answer', correlationKey: 'order-eg', timeToLive: 10_000, variables: {} });
    const byTimer = withResult('event-gateway', { orderId: 'order-eg-silent' });
    assert.equal((await byMessage).variables.path, 'message');
    assert.equal((await byTimer).variables.path, 'timer');
  });

  // --- Errors, escalations, signals, terminate -------------------------------------------------

  test('error boundary event catches ThrowError by code', async () => {
    await deploy('error-boundary.bpmn');
    const pending = withResult('error-boundary');
    const work = await job('eb-work');
    await zb.throwError({ jobKey: work.key, errorCode: 'NOT_FOUND', errorMessage: 'no such thing' });
    assert.equal((await pending).variables.path, 'caught NOT_FOUND');
  });

  test('catch-all error boundary event', async () => {
    await deploy('error-catch-all.bpmn');
    const pending = withResult('error-catch-all');
    const work = await job('ea-work');
    await zb.throwError({ jobKey: work.key, errorCode: 'ANYTHING', errorMessage: 'x' });
    assert.equal((await pending).variables.path, 'caught any');
  });

  test('error end event caught by an event subprocess', async () => {
    await deploy('error-end-event.bpmn');
    const pending = withResult('error-end-event');
    const work = await job('ee-work');
    await zb.completeJob({ jobKey: work.key, variables: {} });
    const handle = await job('ee-handle', work.processInstanceKey);
    await zb.completeJob({ jobKey: handle.key, variables: {} });
    assert.equal((await pending).variables.path, 'handled');
  });

  test('an uncaught error raises an incident', async () => {
    await deploy('error-uncaught.bpmn');
    const { processInstanceKey } = await create('error-uncaught');
    const work = await job('eu-work', processInstanceKey);
    await zb.throwError({ jobKey: work.key, errorCode: 'NOBODY_CATCHES', errorMessage: 'x' });
    const incidents = await eventually(async () => {
      const found = await broker.incidentsOf(processInstanceKey);
      return found.length > 0 && found;
    }, 'an incident');
    assert.equal(incidents[0].errorType, 'UNHANDLED_ERROR_EVENT');
    await zb.cancelProcessInstance(processInstanceKey);
  });

  test('escalation thrown in a subprocess, caught by a non-interrupting boundary event', async () => {
    await deploy('escalation.bpmn');
    const pending = withResult('escalation');
    const notify = await job('es-notify');
    const after = await job('es-after', notify.processInstanceKey);
    await zb.completeJob({ jobKey: notify.key, variables: {} });
    await zb.completeJob({ jobKey: after.key, variables: {} });
    await pending;
  });

  test('escalation thrown in a subprocess, caught by an interrupting boundary event', async () => {
    await deployVariant('escalation.bpmn', 'escalation-interrupting', [
      ['<bpmn:process id="escalation"', '<bpmn:process id="escalation-interrupting"'],
      ['cancelActivity="false"', 'cancelActivity="true"'],
      ['type="es-notify"', 'type="es-i-notify"'],
      ['type="es-after"', 'type="es-i-after"'],
    ]);
    const pending = withResult('escalation-interrupting', { n: 1 });
    const notify = await job('es-i-notify');
    // The boundary event interrupted the subprocess before the task after the throw could start.
    assert.deepEqual(await activate('es-i-after'), []);
    await zb.completeJob({ jobKey: notify.key, variables: { notified: true } });
    const { variables } = await pending;
    assert.equal(variables.notified, true);
    assert.deepEqual(await activate('es-i-after'), []);
  });

  test('signal start event (broadcastSignal)', async () => {
    await deploy('signal-start.bpmn');
    const { key } = await zb.broadcastSignal({ signalName: 'ss-go', variables: { s: 1 } });
    assert.match(String(key), /^\d+$/);
    const started = await job('ss-work');
    assert.equal(started.variables.s, 1);
    await zb.completeJob({ jobKey: started.key, variables: {} });
  });

  test('signal intermediate catch event (zbctl broadcast signal)', async () => {
    await deploy('signal-catch.bpmn');
    let done = false;
    const pending = withResult('signal-catch').finally(() => { done = true; });
    // Signals are not buffered: broadcast until the waiting instance catches one.
    while (!done) {
      const sent = await zbctl(broker, ['broadcast', 'signal', 'sc-wake', '--variables', '{"woken":true}']);
      assert.equal(sent.code, 0, sent.stderr);
      await Promise.race([pending, sleep(300)]);
    }
    assert.equal((await pending).variables.woken, true);
  });

  test('terminate end event ends the instance with work still open', async () => {
    await deploy('terminate.bpmn');
    const result = await withResult('terminate');
    assert.equal(result.variables.path, 'terminated');
  });

  test('signal boundary event (interrupting)', async () => {
    await deploy('signal-boundary.bpmn');
    let done = false;
    const pending = withResult('signal-boundary').finally(() => { done = true; });
    await job('sb-work');
    while (!done) {
      await zb.broadcastSignal({ signalName: 'sb-stop', variables: {} });
      await Promise.race([pending, sleep(300)]);
    }
    assert.equal((await pending).variables.path, 'stopped');
  });

  test('signal boundary event (non-interrupting)', async () => {
    await deployVariant('signal-boundary.bpmn', 'signal-boundary-ni', [
      ['id="signal-boundary"', 'id="signal-boundary-ni"'],
      ['attachedToRef="work"', 'attachedToRef="work" cancelActivity="false"'],
      ['type="sb-work"', 'type="sbn-work"'],
      ['name="sb-stop"', 'name="sbn-note"'],
      ['source="=&quot;stopped&quot;" target="path"', 'source="=true" target="signalled"']]);
    const pending = withResult('signal-boundary-ni');
    const work = await job('sbn-work');
    // The task's subscription opened with the job: one broadcast reaches it.
    await zb.broadcastSignal({ signalName: 'sbn-note', variables: {} });
    await sleep(500);
    await zb.completeJob({ jobKey: work.key, variables: {} });
    const { variables } = await pending;
    assert.equal(variables.signalled, true, 'the boundary branch ran');
    assert.equal(variables.path, 'done', 'and the task went on to complete');
  });

  test('signal intermediate throw and end events start the receiving processes', async () => {
    await deploy('signal-receivers.bpmn');
    await deploy('signal-throw.bpmn');
    const { processInstanceKey } = await create('signal-throw');
    const a = await job('sr-a');
    const b = await job('sr-b');
    assert.notEqual(a.processInstanceKey, processInstanceKey);
    assert.equal(a.bpmnProcessId, 'signal-receiver-a');
    assert.equal(b.bpmnProcessId, 'signal-receiver-b');
    await zb.completeJob({ jobKey: a.key, variables: {} });
    await zb.completeJob({ jobKey: b.key, variables: {} });
  });

  test('escalation end event caught by an interrupting event subprocess', async () => {
    await deploy('escalation-end.bpmn');
    assert.equal((await withResult('escalation-end')).variables.path, 'escalated');
  });

  test('link intermediate throw and catch events', async () => {
    await deploy('link.bpmn');
    assert.equal((await withResult('link')).variables.path, 'linked');
  });

  test('send task and message end event are jobs', async () => {
    await deploy('send-task.bpmn');
    const pending = withResult('send-task');
    const send = await job('st-send');
    await zb.completeJob({ jobKey: send.key, variables: { sent: 1 } });
    const end = await job('st-end', send.processInstanceKey);
    assert.equal(end.elementId, 'end');
    await zb.completeJob({ jobKey: end.key, variables: { ended: 1 } });
    const result = await pending;
    assert.equal(result.variables.sent, 1);
    assert.equal(result.variables.ended, 1);
  });

  test('compensation: a throw event runs the handler of a completed task', async () => {
    await deploy('compensation.bpmn');
    const pending = withResult('compensation');
    const book = await job('comp-book');
    await zb.completeJob({ jobKey: book.key, variables: { booked: true } });
    const undo = await job('comp-undo', book.processInstanceKey);
    await zb.completeJob({ jobKey: undo.key, variables: { undone: true } });
    const result = await pending;
    assert.equal(result.variables.path, 'compensated');
    assert.equal(result.variables.undone, true);
  });

  test('timer intermediate catch event with a FEEL timeDate', async () => {
    await deploy('timer-date.bpmn');
    assert.equal((await withResult('timer-date')).variables.waited, true);
  });

  test('non-interrupting message boundary event', async () => {
    await deploy('message-boundary-non-interrupting.bpmn');
    const pending = withResult('message-boundary-non-interrupting', { orderId: 'order-nmb' });
    const work = await job('nmb-work');
    await zb.publishMessage({ name: 'nmb-note', correlationKey: 'order-nmb', timeToLive: 10_000, variables: { note: 1 } });
    const side = await job('nmb-side', work.processInstanceKey);
    assert.equal(side.variables.note, 1);
    await zb.completeJob({ jobKey: side.key, variables: {} });
    await zb.completeJob({ jobKey: work.key, variables: {} });
    await pending;
  });

  test('interrupting signal event subprocess', async () => {
    await deploy('signal-event-subprocess.bpmn');
    let done = false;
    const pending = withResult('signal-event-subprocess').finally(() => { done = true; });
    await job('ses-work');
    while (!done) {
      await zb.broadcastSignal({ signalName: 'ses-stop', variables: {} });
      await Promise.race([pending, sleep(300)]);
    }
    assert.equal((await pending).variables.path, 'stopped');
  });

  test('job-based script and business rule tasks', async () => {
    await deploy('job-tasks.bpmn');
    const pending = withResult('job-tasks');
    const script = await job('jt-script');
    assert.equal(script.elementId, 'script');
    await zb.completeJob({ jobKey: script.key, variables: { scripted: true } });
    const rule = await job('jt-rule', script.processInstanceKey);
    await zb.completeJob({ jobKey: rule.key, variables: { ruled: true } });
    const result = await pending;
    assert.equal(result.variables.scripted, true);
    assert.equal(result.variables.ruled, true);
  });

  test('undefined task, none throw event and a compensation end event', async () => {
    await deploy('compensation-end.bpmn');
    const pending = withResult('compensation-end');
    const book = await job('ce-book');
    await zb.completeJob({ jobKey: book.key, variables: {} });
    const undo = await job('ce-undo', book.processInstanceKey);
    await zb.completeJob({ jobKey: undo.key, variables: { undone: true } });
    const result = await pending;
    assert.equal(result.variables.undone, true);
    assert.equal(result.variables.path, 'compensated');
  });

  // --- Execution listeners ---------------------------------------------------------------------

  test('execution listeners run as jobs around the process, a task and a gateway', async () => {
    await deploy('execution-listeners.bpmn');
    const pending = withResult('execution-listeners', { x: 1 });
    const processStart = await job('el-process-start');
    const instanceKey = processStart.processInstanceKey;
    assert.equal(processStart.elementId, 'execution-listeners');
    assert.equal(processStart.elementInstanceKey, instanceKey);
    assert.deepEqual(processStart.customHeaders, {});
    // Nothing inside the process starts before its start listener completes.
    assert.deepEqual(await activate('el-start-1'), []);
    await zb.completeJob({ jobKey: processStart.key, variables: { fromProcessStart: true } });

    // The task's start listeners run after its input mappings, one after the other.
    const first = await job('el-start-1', instanceKey);
    assert.equal(first.elementId, 'task');
    assert.equal(first.variables.y, 2);
    assert.deepEqual(first.customHeaders, {}, 'listener jobs do not get the task headers');
    assert.deepEqual(await activate('el-start-2'), []);
    await zb.completeJob({ jobKey: first.key, variables: { fromStart: 'one' } });
    const second = await job('el-start-2', instanceKey);
    assert.equal(second.retries, 2);
    assert.equal(second.variables.fromStart, 'one');
    assert.deepEqual(await activate('el-task'), [], 'the task job waits for the start listeners');
    await zb.completeJob({ jobKey: second.key, variables: {} });

    const task = await job('el-task', instanceKey);
    assert.deepEqual(task.customHeaders, { owner: 'task' });
    assert.equal(task.variables.fromStart, 'one');
    await zb.completeJob({ jobKey: task.key, variables: { result: 5 } });
    const end = await job('el-end', instanceKey);
    assert.equal(end.variables.result, 5);
    await zb.completeJob({ jobKey: end.key, variables: { fromEnd: 'done' } });

    // A gateway's start listener can set what its conditions read (a local of the gateway).
    const gateway = await job('el-gateway', instanceKey);
    await zb.completeJob({ jobKey: gateway.key, variables: { choice: 'chosen' } });

    const processEnd = await job('el-process-end', instanceKey);
    assert.equal(processEnd.variables.fromEnd, 'done');
    await zb.completeJob({ jobKey: processEnd.key, variables: { fromProcessEnd: 1 } });
    const { variables } = await pending;
    assert.equal(variables.fromProcessStart, true);
    assert.equal(variables.fromEnd, 'done', 'end listener variables go to the flow scope');
    assert.equal(variables.fromProcessEnd, 1);
    assert.equal(variables.fromStart, undefined, 'start listener variables are local to the task');
    assert.equal(variables.choice, undefined, 'and to the gateway');
  });

  test('an execution listener job without retries raises an incident; resolving it runs the listener again', async () => {
    await deployVariant('execution-listeners.bpmn', 'execution-listeners-fail', [
      ['<bpmn:process id="execution-listeners"', '<bpmn:process id="execution-listeners-fail"'],
      ['type="el-process-start"', 'type="elf-process-start"'],
    ]);
    const instance = await create('execution-listeners-fail', { x: 1 });
    const listener = await job('elf-process-start', instance.processInstanceKey);
    await assert.rejects(
      zb.throwError({ jobKey: listener.key, errorCode: 'E', errorMessage: 'no' }),
      (error) => grpcCode(error) === 9 && /Cannot throw BPMN error from EXECUTION_LISTENER job/.test(error.message),
      'a listener job cannot throw a BPMN error');
    await zb.failJob({ jobKey: listener.key, retries: 0, errorMessage: 'listener broke' });
    const incidents = await eventually(async () => {
      const found = await broker.incidentsOf(instance.processInstanceKey);
      return found.length > 0 && found;
    }, 'an incident');
    assert.equal(incidents[0].errorType, 'EXECUTION_LISTENER_NO_RETRIES');
    assert.equal(incidents[0].errorMessage, 'listener broke');
    assert.equal(incidents[0].jobKey, listener.key);
    await zb.updateJobRetries({ jobKey: listener.key, retries: 1 });
    await zb.resolveIncident({ incidentKey: incidents[0].key });
    const again = await job('elf-process-start', instance.processInstanceKey);
    assert.equal(again.key, listener.key);
    await zb.completeJob({ jobKey: again.key, variables: {} });
    const first = await job('el-start-1', instance.processInstanceKey);

    // Cancelling the instance cancels the pending listener job.
    await zb.cancelProcessInstance(instance.processInstanceKey);
    await assert.rejects(zb.completeJob({ jobKey: first.key, variables: {} }), (error) => grpcCode(error) === 5);
  });

  test('end listener of a message catch event: a failed listener type keeps the message variables', async () => {
    await deployVariant('message-catch.bpmn', 'message-catch-listeners', [
      ['<bpmn:process id="message-catch"', '<bpmn:process id="message-catch-listeners"'],
      ['name="mc-paid"', 'name="mcl-paid"'],
      ['<bpmn:intermediateCatchEvent id="wait">',
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:extensionElements><zeebe:executionListeners>'
        + '<zeebe:executionListener eventType="start" type="mcl-start"/>'
        + '<zeebe:executionListener eventType="end" type="=listenerType"/>'
        + '</zeebe:executionListeners></bpmn:extensionElements>'],
    ]);
    const pending = withResult('message-catch-listeners', { orderId: 'order-el' });
    const start = await job('mcl-start');
    const instanceKey = start.processInstanceKey;
    // The subscription opens only after the start listener: until then a message is buffered.
    await zb.publishMessage({ name: 'mcl-paid', correlationKey: 'order-el', timeToLive: 30_000, variables: { paid: 7 } });
    await zb.completeJob({ jobKey: start.key, variables: {} });
    // The end listener's type is an expression over a variable that does not exist yet.
    const incidents = await eventually(async () => {
      const found = await broker.incidentsOf(instanceKey);
      return found.length > 0 && found;
    }, 'an incident for the listener type');
    assert.equal(incidents[0].errorType, 'EXTRACT_VALUE_ERROR');
    assert.equal(incidents[0].elementId, 'wait');
    await zb.setVariables({ elementInstanceKey: instanceKey, variables: { listenerType: 'mcl-end' }, local: false });
    await zb.resolveIncident({ incidentKey: incidents[0].key });
    const end = await job('mcl-end', instanceKey);
    assert.equal(end.variables.paid, 7);
    await zb.completeJob({ jobKey: end.key, variables: {} });
    assert.equal((await pending).variables.paid, 7, 'the message variables survived the retry');
  });

  test('start listeners of a multi-instance task run once per inner instance', async () => {
    await deployVariant('mi-parallel.bpmn', 'mi-parallel-listeners', [
      ['<bpmn:process id="mi-parallel"', '<bpmn:process id="mi-parallel-listeners"'],
      ['type="mi-par"/>', 'type="mil-work"/><zeebe:executionListeners>'
        + '<zeebe:executionListener eventType="start" type="mil-start"/></zeebe:executionListeners>'],
    ]);
    const pending = withResult('mi-parallel-listeners', { items: [1, 2, 3] });
    const starts = await jobs('mil-start', { count: 3 });
    assert.deepEqual(starts.map((j) => j.variables.item).sort(), [1, 2, 3]);
    assert.equal(new Set(starts.map((j) => j.elementInstanceKey)).size, 3);
    for (const start of starts) await zb.completeJob({ jobKey: start.key, variables: {} });
    const work = await jobs('mil-work', { count: 3 });
    for (const j of work) await zb.completeJob({ jobKey: j.key, variables: {} });
    assert.deepEqual((await pending).variables.results, [10, 20, 30]);
  });

  test('execution listeners on a subprocess, a call activity, a boundary event and a terminate end event', async () => {
    const listeners = (start, end) => '<zeebe:executionListeners>'
      + (start ? `<zeebe:executionListener eventType="start" type="${start}"/>` : '')
      + (end ? `<zeebe:executionListener eventType="end" type="${end}"/>` : '')
      + '</zeebe:executionListeners>';
    // Subprocess: start listener after its input mapping, end listener after its output mapping.
    await deployVariant('subprocess.bpmn', 'subprocess-listeners', [
      ['<bpmn:process id="subprocess"', '<bpmn:process id="subprocess-listeners"'],
      ['type="sp-work"', 'type="spl-work"'],
      ['<zeebe:ioMapping><zeebe:input source="=x * 2" target="y"/>',
        `${listeners('spl-start', 'spl-end')}<zeebe:ioMapping><zeebe:input source="=x * 2" target="y"/>`],
    ]);
    const sub = withResult('subprocess-listeners', { x: 4 });
    const subStart = await job('spl-start');
    assert.equal(subStart.elementId, 'sub');
    assert.equal(subStart.variables.y, 8);
    assert.deepEqual(await activate('spl-work'), [], 'the subprocess starts inside after its listener');
    await zb.completeJob({ jobKey: subStart.key, variables: {} });
    const work = await job('spl-work', subStart.processInstanceKey);
    await zb.completeJob({ jobKey: work.key, variables: { z: 5 } });
    const subEnd = await job('spl-end', subStart.processInstanceKey);
    assert.equal(subEnd.variables.total, 13, 'the end listener sees the output mapping');
    await zb.completeJob({ jobKey: subEnd.key, variables: {} });
    assert.equal((await sub).variables.total, 13);

    // Call activity: the child starts once the start listener completed; its variables are copied in.
    await deploy('call-child.bpmn');
    await deployVariant('call-parent.bpmn', 'call-parent-listeners', [
      ['<bpmn:process id="call-parent"', '<bpmn:process id="call-parent-listeners"'],
      ['propagateAllChildVariables="true"/>', `propagateAllChildVariables="true"/>${listeners('cal-start', 'cal-end')}`],
    ]);
    const call = withResult('call-parent-listeners', { input: 1 });
    const callStart = await job('cal-start');
    assert.deepEqual(await activate('ca-child-work'), []);
    await zb.completeJob({ jobKey: callStart.key, variables: { fromListener: 'yes' } });
    const child = await job('ca-child-work');
    assert.equal(child.variables.fromListener, 'yes', 'start listener locals reach the child');
    await zb.completeJob({ jobKey: child.key, variables: { output: 2 } });
    const callEnd = await job('cal-end', callStart.processInstanceKey);
    assert.equal(callEnd.variables.output, 2);
    await zb.completeJob({ jobKey: callEnd.key, variables: {} });
    assert.equal((await call).variables.output, 2);

    // Interrupting timer boundary event with an end listener; the interrupted task's end
    // listener does not run.
    await deployVariant('timer-boundary.bpmn', 'timer-boundary-listeners', [
      ['<bpmn:process id="timer-boundary"', '<bpmn:process id="timer-boundary-listeners"'],
      ['type="tb-work"/>', `type="tbl-work"/>${listeners(null, 'tbl-work-end')}`],
      ['<bpmn:boundaryEvent id="timeout" attachedToRef="work">',
        `<bpmn:boundaryEvent id="timeout" attachedToRef="work"><bpmn:extensionElements>${listeners(null, 'tbl-timeout-end')}</bpmn:extensionElements>`],
    ]);
    const timed = withResult('timer-boundary-listeners');
    const timeoutEnd = await job('tbl-timeout-end');
    assert.equal(timeoutEnd.elementId, 'timeout');
    await zb.completeJob({ jobKey: timeoutEnd.key, variables: {} });
    assert.equal((await timed).variables.path, 'timed out');
    assert.deepEqual(await activate('tbl-work-end'), []);

    // Terminate end event: its end listener runs, then the other branch is terminated.
    await deployVariant('terminate.bpmn', 'terminate-listeners', [
      ['<bpmn:process id="terminate"', '<bpmn:process id="terminate-listeners"'],
      ['type="te-work"', 'type="tel-work"'],
      ['</zeebe:ioMapping></bpmn:extensionElements><bpmn:terminateEventDefinition/>',
        `</zeebe:ioMapping>${listeners(null, 'tel-end')}</bpmn:extensionElements><bpmn:terminateEventDefinition/>`],
    ]);
    const terminated = withResult('terminate-listeners');
    const terminateEnd = await job('tel-end');
    const sibling = await job('tel-work', terminateEnd.processInstanceKey);
    await zb.completeJob({ jobKey: terminateEnd.key, variables: { closedBy: 'listener' } });
    const result = await terminated;
    assert.equal(result.variables.closedBy, 'listener');
    assert.equal(result.variables.path, 'terminated');
    await assert.rejects(zb.completeJob({ jobKey: sibling.key, variables: {} }), (error) => grpcCode(error) === 5,
      'the other branch was terminated');
  });

  test('execution listeners where Zeebe does not allow them are refused at deploy, naming the element', async () => {
    const refused = async (variantName, edits, pattern) => {
      await assert.rejects(deployVariant('execution-listeners.bpmn', variantName, edits), (error) => {
        assert.equal(grpcCode(error), 3);
        assert.match(error.message, pattern);
        return true;
      });
    };
    await refused('el-start-on-start-event', [[
      '<bpmn:startEvent id="start"></bpmn:startEvent>',
      '<bpmn:startEvent id="start"><bpmn:extensionElements><zeebe:executionListeners>'
      + '<zeebe:executionListener eventType="start" type="s"/></zeebe:executionListeners>'
      + '</bpmn:extensionElements></bpmn:startEvent>']],
    /'start'.*start events|start events.*'start'/s);
    await refused('el-end-on-gateway', [['<zeebe:executionListener eventType="start" type="el-gateway"/>',
      '<zeebe:executionListener eventType="end" type="el-gateway"/>']], /route[\s\S]*'end'.*gateways/);
    await refused('el-duplicate', [['<zeebe:executionListener eventType="end" type="el-end"/>',
      '<zeebe:executionListener eventType="end" type="el-end"/><zeebe:executionListener eventType="end" type="el-end"/>']],
    /task[\s\S]*2 execution listeners with eventType 'end' and type 'el-end'/);
  });

  // --- Gateways, scopes, multi-instance ---------------------------------------------------------

  test('inclusive gateway: fork on conditions, join the taken branches', async () => {
    await deploy('inclusive.bpmn');
    const pending = withResult('inclusive', { a: 1, b: 2 });
    const a = await job('ig-a');
    const b = await job('ig-b', a.processInstanceKey);
    await zb.completeJob({ jobKey: a.key, variables: { fromA: true } });
    await zb.completeJob({ jobKey: b.key, variables: { fromB: true } });
    const result = await pending;
    assert.equal(result.variables.fromA, true);
    assert.equal(result.variables.fromB, true);
    const defaults = await activate('ig-c');
    assert.equal(defaults.length, 0, 'the default flow was not taken');
  });

  test('embedded subprocess with input and output mappings', async () => {
    await deploy('subprocess.bpmn');
    const pending = withResult('subprocess', { x: 4 });
    const work = await job('sp-work');
    assert.equal(work.variables.y, 8);
    await zb.completeJob({ jobKey: work.key, variables: { z: 5 } });
    assert.equal((await pending).variables.total, 13);
  });

  test('interrupting event subprocess (message)', async () => {
    await deploy('event-subprocess-interrupting.bpmn');
    const pending = withResult('event-subprocess-interrupting', { orderId: 'order-esi' });
    await job('esi-work');
    await zb.publishMessage({ name: 'esi-stop', correlationKey: 'order-esi', timeToLive: 10_000, variables: {} });
    assert.equal((await pending).variables.path, 'interrupted');
  });

  test('non-interrupting event subprocess (message)', async () => {
    await deploy('event-subprocess-non-interrupting.bpmn');
    const pending = withResult('event-subprocess-non-interrupting', { orderId: 'order-esn' });
    const work = await job('esn-work');
    await zb.publishMessage({ name: 'esn-note', correlationKey: 'order-esn', timeToLive: 10_000, variables: { note: 'n' } });
    const side = await job('esn-side', work.processInstanceKey);
    assert.equal(side.variables.note, 'n');
    await zb.completeJob({ jobKey: side.key, variables: {} });
    await zb.completeJob({ jobKey: work.key, variables: {} });
    await pending;
  });

  test('non-interrupting timer event subprocess', async () => {
    await deploy('timer-event-subprocess.bpmn');
    const pending = withResult('timer-event-subprocess');
    const work = await job('tes-work');
    const side = await job('tes-side', work.processInstanceKey);
    await zb.completeJob({ jobKey: side.key, variables: {} });
    await zb.completeJob({ jobKey: work.key, variables: {} });
    await pending;
  });

  test('interrupting timer event subprocess', async () => {
    await deployVariant('timer-event-subprocess.bpmn', 'timer-event-subprocess-i', [
      ['id="timer-event-subprocess"', 'id="timer-event-subprocess-i"'],
      ['isInterrupting="false"', 'isInterrupting="true"'],
      ['type="tes-work"', 'type="tesi-work"'],
      ['type="tes-side"', 'type="tesi-side"']]);
    const pending = withResult('timer-event-subprocess-i');
    const work = await job('tesi-work');
    const side = await job('tesi-side', work.processInstanceKey);
    // The timer interrupted the process's scope: the task's job is gone.
    await assert.rejects(zb.completeJob({ jobKey: work.key, variables: {} }), (error) => grpcCode(error) === 5);
    await zb.completeJob({ jobKey: side.key, variables: {} });
    await pending;
  });

  test('call activity: variables both ways; cancelling the parent cancels the child', async () => {
    await deploy('call-child.bpmn');
    await deploy('call-parent.bpmn');
    const pending = withResult('call-parent', { input: 7 });
    const child = await job('ca-child-work');
    assert.equal(child.variables.input, 7);
    assert.equal(child.bpmnProcessId, 'call-child');
    await zb.completeJob({ jobKey: child.key, variables: { output: 8 } });
    assert.equal((await pending).variables.output, 8);

    const parent = await create('call-parent', { input: 1 });
    const second = await job('ca-child-work');
    assert.notEqual(second.processInstanceKey, parent.processInstanceKey);
    await assert.rejects(zb.cancelProcessInstance(second.processInstanceKey), (error) => grpcCode(error) === 9,
      'a called instance cannot be cancelled on its own');
    await zb.cancelProcessInstance(parent.processInstanceKey);
    await eventually(() => childGone(second.processInstanceKey), 'the child instance to be cancelled');
  });

  test('call activity with a FEEL process id and propagateAllChildVariables="false"', async () => {
    await deploy('call-child.bpmn');
    await deploy('call-parent-mapped.bpmn');
    const pending = withResult('call-parent-mapped', { childId: 'call-child', input: 3 });
    const child = await job('ca-child-work');
    assert.equal(child.bpmnProcessId, 'call-child');
    await zb.completeJob({ jobKey: child.key, variables: { shared: 'yes', secret: 'no' } });
    const { variables } = await pending;
    assert.equal(variables.fromChild, 'yes', 'the output mapping still applies');
    assert.equal(variables.secret, undefined, 'child variables stay in the child');
    assert.equal(variables.shared, undefined);
  });

  // A version of the child process `id`, whose job says which `version` it is.
  const childVersion = (id, version, versionTag) => variantFile('call-child.bpmn', `${id}-${version}`, [
    ['<bpmn:process id="call-child" isExecutable="true">',
      `<bpmn:process id="${id}" isExecutable="true">`
      + (versionTag ? `<bpmn:extensionElements><zeebe:versionTag value="${versionTag}"/></bpmn:extensionElements>` : '')],
    ['<zeebe:taskDefinition type="ca-child-work"/>',
      `<zeebe:taskDefinition type="${id}-work"/><zeebe:taskHeaders><zeebe:header key="version" value="${version}"/></zeebe:taskHeaders>`],
  ]);
  const parentBinding = (id, childId, binding) => variantFile('call-parent.bpmn', id, [
    ['<bpmn:process id="call-parent"', `<bpmn:process id="${id}"`],
    ['processId="call-child"', `processId="${childId}" ${binding}`],
  ]);

  test('call activity bindingType="versionTag" calls the latest version with the tag', async () => {
    await zb.deployResource({ processFilename: childVersion('bt-tag-child', 'a', 'v1') });
    await zb.deployResource({ processFilename: childVersion('bt-tag-child', 'b', 'v1') });
    await zb.deployResource({ processFilename: childVersion('bt-tag-child', 'c', 'v2') });
    await zb.deployResource({ processFilename: parentBinding('bt-tag-parent', 'bt-tag-child', 'bindingType="versionTag" versionTag="v1"') });
    const pending = withResult('bt-tag-parent');
    const child = await job('bt-tag-child-work');
    assert.equal(child.customHeaders.version, 'b', 'the last version deployed with tag v1');
    await zb.completeJob({ jobKey: child.key, variables: {} });
    await pending;

    await zb.deployResource({ processFilename: parentBinding('bt-tag-missing', 'bt-tag-child', 'bindingType="versionTag" versionTag="v9"') });
    const instance = await create('bt-tag-missing');
    const incidents = await eventually(async () => {
      const found = await broker.incidentsOf(instance.processInstanceKey);
      return found.length > 0 && found;
    }, 'an incident');
    assert.equal(incidents[0].errorType, 'CALLED_ELEMENT_ERROR');
    assert.match(incidents[0].errorMessage, /process id 'bt-tag-child' and version tag 'v9', but no such process found/);
    // Deploying a version with the tag and resolving the incident lets the instance go on.
    await zb.deployResource({ processFilename: childVersion('bt-tag-child', 'd', 'v9') });
    await zb.resolveIncident({ incidentKey: incidents[0].key });
    const late = await job('bt-tag-child-work');
    assert.equal(late.customHeaders.version, 'd');
    await zb.cancelProcessInstance(instance.processInstanceKey);
  });

  test('call activity bindingType="deployment" calls the version deployed together with the caller (zbctl deploy of two files)', async () => {
    const parent = parentBinding('bt-dep-parent', 'bt-dep-child', 'bindingType="deployment"');
    const latestParent = parentBinding('bt-latest-parent', 'bt-dep-child', '');
    await zbctlJson(broker, ['deploy', 'resource', parent, childVersion('bt-dep-child', 'one')]);
    // Deployed together with a changed parent, an unchanged child becomes a new version of that
    // deployment too (Zeebe 8.6 versions a deployment's resources together).
    const together = await zbctlJson(broker, ['deploy', 'resource', variantFile('call-parent.bpmn', 'bt-dep-parent-2', [
      ['<bpmn:process id="call-parent"', '<bpmn:process id="bt-dep-parent" name="second"'],
      ['processId="call-child"', 'processId="bt-dep-child" bindingType="deployment"'],
    ]), childVersion('bt-dep-child', 'one')]);
    const versions = Object.fromEntries(together.deployments.map((d) => [d.process.bpmnProcessId, d.process.version]));
    assert.deepEqual(versions, { 'bt-dep-parent': 2, 'bt-dep-child': 2 });
    await zb.deployResource({ processFilename: childVersion('bt-dep-child', 'two') });
    await zb.deployResource({ processFilename: latestParent });

    const bound = withResult('bt-dep-parent');
    const fromDeployment = await job('bt-dep-child-work');
    assert.equal(fromDeployment.customHeaders.version, 'one');
    await zb.completeJob({ jobKey: fromDeployment.key, variables: {} });
    await bound;
    const latest = withResult('bt-latest-parent');
    const fromLatest = await job('bt-dep-child-work');
    assert.equal(fromLatest.customHeaders.version, 'two');
    await zb.completeJob({ jobKey: fromLatest.key, variables: {} });
    await latest;
  });

  test('business rule task bindingType="versionTag" evaluates the tagged decision', async () => {
    const decisionVersion = (tag, small) => variantFile('routing.dmn', `routing-${tag}`, [
      ['<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/"',
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'],
      ['id="routing" name="Routing"', 'id="bt-routing" name="Routing"'],
      ['<decision id="route" name="Route by amount">',
        `<decision id="bt-route" name="Route by amount"><extensionElements><zeebe:versionTag value="${tag}"/></extensionElements>`],
      ['<decision id="strict" name="Overlapping rules">', '<decision id="bt-strict" name="Overlapping rules">'],
      ['"small"', `"${small}"`],
    ]);
    await zb.deployResource({ decisionFilename: decisionVersion('stable', 'small') });
    await zb.deployResource({ decisionFilename: decisionVersion('next', 'tiny') });
    await deployVariant('business-rule.bpmn', 'bt-business-rule', [
      ['<bpmn:process id="business-rule"', '<bpmn:process id="bt-business-rule"'],
      ['decisionId="route"', 'decisionId="bt-route" bindingType="versionTag" versionTag="stable"'],
    ]);
    const { variables } = await withResult('bt-business-rule', { amount: 50 });
    assert.equal(variables.size, 'small', 'the decision tagged "stable", not the latest');
  });

  test('bindingType mistakes are refused at deploy, naming the element', async () => {
    const refused = async (variantName, binding, pattern) => {
      await assert.rejects(zb.deployResource({ processFilename: parentBinding(variantName, 'call-child', binding) }), (error) => {
        assert.equal(grpcCode(error), 3);
        assert.match(error.message, pattern);
        return true;
      });
    };
    await refused('bt-bad-1', 'bindingType="newest"', /'call'[\s\S]*bindingType must be one of: deployment, latest, versionTag/);
    await refused('bt-bad-2', 'bindingType="versionTag"', /'call'[\s\S]*versionTag must be present and not empty/);
    await refused('bt-bad-3', 'versionTag="v1"', /'call'[\s\S]*versionTag may only be used if bindingType is 'versionTag'/);
  });

  // The edit that makes call-parent.bpmn's call activity multi-instance over `items`, collecting
  // each child's `output` into `outputs`.
  const multiInstanceCall = (attributes) => ['<bpmn:callActivity id="call"><bpmn:extensionElements>',
    `<bpmn:callActivity id="call"><bpmn:multiInstanceLoopCharacteristics${attributes}><bpmn:extensionElements>`
    + '<zeebe:loopCharacteristics inputCollection="=items" inputElement="input" outputCollection="outputs"'
    + ' outputElement="=output"/></bpmn:extensionElements></bpmn:multiInstanceLoopCharacteristics>'
    + '<bpmn:extensionElements>'];

  test('parallel multi-instance call activity calls one child per item and collects the results', async () => {
    await deploy('call-child.bpmn');
    await deployVariant('call-parent.bpmn', 'call-parent-mi', [
      ['<bpmn:process id="call-parent"', '<bpmn:process id="call-parent-mi"'],
      multiInstanceCall(''),
      // The pattern Zeebe's docs give for collecting from called processes: with all child
      // variables propagated, each child's copy of the parent's `outputs` would overwrite the
      // collection (Zeebe behaves the same, camunda/camunda#11476), so map only `output`.
      ['propagateAllChildVariables="true"/>',
        'propagateAllChildVariables="false"/><zeebe:ioMapping><zeebe:output source="=output" target="output"/>'
        + '</zeebe:ioMapping>'],
    ]);
    const pending = withResult('call-parent-mi', { items: [10, 20, 30] });
    const children = await jobs('ca-child-work', { count: 3 });
    assert.equal(new Set(children.map((j) => j.processInstanceKey)).size, 3, 'one child instance per item');
    assert.deepEqual(children.map((j) => j.variables.input).sort(), [10, 20, 30]);
    // Complete in reverse order: each child's `output` must land in its own inner instance (where
    // Zeebe initialises the outputElement variable to null), not in a scope the children share.
    for (const child of [...children].sort((a, b) => b.variables.input - a.variables.input)) {
      await zb.completeJob({ jobKey: child.key, variables: { output: child.variables.input + 1 } });
    }
    const { variables } = await pending;
    assert.deepEqual(variables.outputs, [11, 21, 31]);
    assert.equal(variables.output, undefined, 'the children\'s output stays in the inner instances');
  });

  test('sequential multi-instance call activity cancels the running child when the parent is cancelled', async () => {
    await deploy('call-child.bpmn');
    await deployVariant('call-parent.bpmn', 'call-parent-mi-seq', [
      ['<bpmn:process id="call-parent"', '<bpmn:process id="call-parent-mi-seq"'],
      multiInstanceCall(' isSequential="true"'),
    ]);
    const pending = withResult('call-parent-mi-seq', { items: [1, 2] });
    const first = await job('ca-child-work');
    assert.equal(first.variables.input, 1);
    await zb.completeJob({ jobKey: first.key, variables: { output: 'one' } });
    const second = await job('ca-child-work');
    assert.equal(second.variables.input, 2);
    assert.notEqual(second.processInstanceKey, first.processInstanceKey);
    await zb.completeJob({ jobKey: second.key, variables: { output: 'two' } });
    assert.deepEqual((await pending).variables.outputs, ['one', 'two']);

    const parent = await create('call-parent-mi-seq', { items: [1, 2, 3] });
    const running = await job('ca-child-work');
    await zb.cancelProcessInstance(parent.processInstanceKey);
    await eventually(() => childGone(running.processInstanceKey), 'the running child to be cancelled');
    assert.deepEqual(await activate('ca-child-work'), [], 'no further child starts');
  });

  test('parallel multi-instance with input and output collections', async () => {
    await deploy('mi-parallel.bpmn');
    const pending = withResult('mi-parallel', { items: [1, 2, 3] });
    const inner = await jobs('mi-par', { count: 3 });
    assert.deepEqual(inner.map((j) => j.variables.item).sort(), [1, 2, 3]);
    for (const j of inner) await zb.completeJob({ jobKey: j.key, variables: {} });
    assert.deepEqual((await pending).variables.results, [10, 20, 30]);
  });

  test('multi-instance outputElement variable is local to each inner instance', async () => {
    await deployVariant('mi-parallel.bpmn', 'mi-parallel-result', [
      ['<bpmn:process id="mi-parallel"', '<bpmn:process id="mi-parallel-result"'],
      ['type="mi-par"', 'type="mi-par-result"'],
      ['outputElement="=item * 10"', 'outputElement="=result"'],
    ]);
    const pending = withResult('mi-parallel-result', { items: [1, 2, 3] });
    const inner = await jobs('mi-par-result', { count: 3 });
    for (const j of inner.sort((a, b) => b.variables.item - a.variables.item)) {
      await zb.completeJob({ jobKey: j.key, variables: { result: j.variables.item * 2 } });
    }
    const { variables } = await pending;
    assert.deepEqual(variables.results, [2, 4, 6]);
    // Zeebe starts each inner instance with `result` = null locally, so the workers' results
    // never reach the process scope.
    assert.equal(variables.result, undefined);
  });

  test('parallel multi-instance embedded subprocess collects each inner result', async () => {
    await deploy('mi-subprocess.bpmn');
    const pending = withResult('mi-subprocess', { items: [1, 2, 3] });
    const inner = await jobs('mi-sub-work', { count: 3 });
    assert.deepEqual(inner.map((j) => j.variables.item).sort(), [1, 2, 3]);
    for (const j of inner) await zb.completeJob({ jobKey: j.key, variables: { done: j.variables.item * 2 } });
    assert.deepEqual((await pending).variables.results, [2, 4, 6]);
  });

  test('sequential multi-instance with a completion condition', async () => {
    await deploy('mi-sequential.bpmn');
    const pending = withResult('mi-sequential', { items: [1, 2, 3, 4] });
    const first = await job('mi-seq');
    assert.equal(first.variables.item, 1);
    assert.equal(first.variables.loopCounter, 1);
    await zb.completeJob({ jobKey: first.key, variables: {} });
    const second = await job('mi-seq', first.processInstanceKey);
    assert.equal(second.variables.item, 2);
    await zb.completeJob({ jobKey: second.key, variables: {} });
    const result = await pending;
    assert.deepEqual(result.variables.results.slice(0, 2), [10, 20]);
  });

  // --- Tasks -----------------------------------------------------------------------------------

  test('script task (zeebe:script FEEL)', async () => {
    await deploy('script-task.bpmn');
    assert.equal((await withResult('script-task', { a: 1, b: 2 })).variables.sum, 3);
  });

  test('user task as a job of type io.camunda.zeebe:userTask with its headers', async () => {
    await deploy('user-task.bpmn');
    const pending = withResult('user-task');
    const task = await job('io.camunda.zeebe:userTask');
    assert.equal(task.elementId, 'approve');
    assert.equal(task.customHeaders['io.camunda.zeebe:assignee'], 'demo');
    assert.deepEqual(JSON.parse(task.customHeaders['io.camunda.zeebe:candidateGroups']), ['managers', 'auditors']);
    assert.equal(task.customHeaders.priority, 'high');
    await zb.completeJob({ jobKey: task.key, variables: { approved: true } });
    assert.equal((await pending).variables.approved, true);
  });

  // --- Decisions -------------------------------------------------------------------------------

  test('DeployResource of a DMN returns decisions and decision requirements', async () => {
    const deployed = await zb.deployResource({ decisionFilename: model('routing.dmn') });
    const decisions = deployed.deployments.filter((d) => d.decision).map((d) => d.decision);
    const drgs = deployed.deployments.filter((d) => d.decisionRequirements).map((d) => d.decisionRequirements);
    assert.deepEqual(decisions.map((d) => d.dmnDecisionId).sort(), ['route', 'strict']);
    assert.equal(drgs.length, 1);
    assert.equal(drgs[0].dmnDecisionRequirementsId, 'routing');
    assert.equal(drgs[0].resourceName, model('routing.dmn'));
    for (const d of decisions) {
      assert.equal(d.dmnDecisionRequirementsId, 'routing');
      assert.equal(d.decisionRequirementsKey, drgs[0].decisionRequirementsKey);
    }
    // Processes come first, then decisions, then decision requirements.
    assert.ok(deployed.deployments.at(-1).decisionRequirements);
  });

  test('business rule task routes on the decision result', async () => {
    await zb.deployResource({ decisionFilename: model('routing.dmn') });
    await deploy('business-rule.bpmn');
    const small = await withResult('business-rule', { amount: 50 });
    assert.equal(small.variables.size, 'small');
    assert.equal(small.variables.path, 'small path');
    const large = await withResult('business-rule', { amount: 500 });
    assert.equal(large.variables.path, 'large path');
  });

  test('EvaluateDecision with zeebe-node: output, evaluated decisions, failures', async () => {
    await zb.deployResource({ decisionFilename: model('routing.dmn') });
    const evaluated = await zb.evaluateDecision({ decisionId: 'route', variables: { amount: 50 } });
    assert.equal(evaluated.decisionId, 'route');
    assert.equal(evaluated.decisionName, 'Route by amount');
    assert.equal(evaluated.decisionRequirementsId, 'routing');
    assert.equal(JSON.parse(evaluated.decisionOutput), 'small');
    assert.equal(evaluated.failedDecisionId, '');
    assert.equal(evaluated.evaluatedDecisions.length, 1);
    const [decision] = evaluated.evaluatedDecisions;
    assert.equal(decision.decisionType, 'DECISION_TABLE');
    assert.equal(decision.matchedRules.length, 1);
    assert.equal(decision.matchedRules[0].ruleId, 'rule-small');
    assert.equal(decision.matchedRules[0].ruleIndex, 1);
    assert.equal(decision.matchedRules[0].evaluatedOutputs[0].outputName, 'size');
    assert.equal(JSON.parse(decision.matchedRules[0].evaluatedOutputs[0].outputValue), 'small');
    assert.equal(decision.evaluatedInputs[0].inputId, 'in-amount');
    assert.equal(JSON.parse(decision.evaluatedInputs[0].inputValue), 50);

    const byKey = await zb.evaluateDecision({ decisionKey: evaluated.decisionKey, variables: { amount: 100 } });
    assert.equal(JSON.parse(byKey.decisionOutput), 'large');

    const failed = await zb.evaluateDecision({ decisionId: 'strict', variables: { x: 5 } });
    assert.equal(failed.failedDecisionId, 'strict');
    assert.ok(failed.failureMessage.length > 0);
    assert.equal(failed.decisionOutput, '');

    await assert.rejects(zb.evaluateDecision({ decisionId: 'no-such-decision', variables: {} }),
      (error) => grpcCode(error) === 3 && /Command 'EVALUATE' rejected with code 'INVALID_ARGUMENT'/.test(error.message));
  });

  test('zbctl evaluate decision', async () => {
    await zb.deployResource({ decisionFilename: model('routing.dmn') });
    const evaluated = await zbctlJson(broker, ['evaluate', 'decision', 'route', '--variables', '{"amount":500}']);
    assert.equal(evaluated.decisionId, 'route');
    assert.equal(JSON.parse(evaluated.decisionOutput), 'large');
  });

  // --- Operations ------------------------------------------------------------------------------

  test('ModifyProcessInstance: activate an element with variables, terminate another', async () => {
    await deploy('modify.bpmn');
    const pending = withResult('modify');
    const a = await job('mod-a');
    await zb.modifyProcessInstance({
      processInstanceKey: a.processInstanceKey,
      activateInstructions: [{
        elementId: 'b', ancestorElementInstanceKey: '-1', variableInstructions: [{ scopeId: '', variables: { jumped: true } }],
      }],
      terminateInstructions: [{ elementInstanceKey: a.elementInstanceKey }],
    });
    const b = await job('mod-b', a.processInstanceKey);
    assert.equal(b.variables.jumped, true);
    await assert.rejects(zb.completeJob({ jobKey: a.key, variables: {} }), (error) => grpcCode(error) === 5,
      'the terminated task\'s job is gone');
    await zb.completeJob({ jobKey: b.key, variables: {} });
    assert.equal((await pending).variables.jumped, true);

    await assert.rejects(zb.modifyProcessInstance({
      processInstanceKey: a.processInstanceKey, activateInstructions: [], terminateInstructions: [],
    }), (error) => grpcCode(error) === 5 && /Command 'MODIFY' rejected with code 'NOT_FOUND'/.test(error.message));
  });

  test('MigrateProcessInstance to a new version', async () => {
    const v1 = await zb.deployResource({ processFilename: model('migrate-v1.bpmn') });
    const v2 = await zb.deployResource({ processFilename: model('migrate-v2.bpmn') });
    const v1Key = v1.deployments[0].process.processDefinitionKey;
    const v2Key = v2.deployments[0].process.processDefinitionKey;
    // zeebe-node 8.3 cannot create by key alone: the raw client can.
    const created = await call(raw, 'CreateProcessInstance', { processDefinitionKey: v1Key, version: -1, variables: '{}' });
    assert.equal(created.error, null, created.error?.message);
    const { processInstanceKey } = created.response;
    const a = await job('mig-a', processInstanceKey);
    const { error } = await call(raw, 'MigrateProcessInstance', {
      processInstanceKey,
      migrationPlan: { targetProcessDefinitionKey: v2Key, mappingInstructions: [{ sourceElementId: 'a', targetElementId: 'a' }] },
    });
    assert.equal(error, null, error?.message);
    await zb.completeJob({ jobKey: a.key, variables: {} });
    const b = await job('mig-b', processInstanceKey);
    assert.equal(b.processDefinitionKey, v2Key);
    await zb.completeJob({ jobKey: b.key, variables: {} });
  });

  test('request checks and rejections of the new RPCs', async () => {
    // Keys of partition 1 that no test reaches (the largest local part), so that "not found" is
    // certain however many keys the earlier tests used: the local key 751 used before can be a
    // key an earlier test made (a full-suite run once saw its DeleteResource succeed).
    const missing = '4503599627370495';
    const missingTarget = '4503599627370494';
    const expectError = async (method, request, code, pattern) => {
      const { error } = await call(raw, method, request);
      assert.ok(error, `${method} should fail`);
      assert.equal(error.code, code, `${method}: ${error.details}`);
      assert.match(error.details, pattern);
    };
    await expectError('PublishMessage', { name: '', correlationKey: 'k', variables: '{}' }, 3, /'name'/);
    await expectError('PublishMessage', { name: 'm', correlationKey: 'k', variables: '[1]' }, 3, /root level object/);
    await expectError('PublishMessage', { name: 'm', correlationKey: 'k', tenantId: 'other' }, 3, /multi-tenancy is disabled/);
    await expectError('BroadcastSignal', { signalName: '', variables: '{}' }, 3, /'signalName'/);
    await expectError('BroadcastSignal', { signalName: 's', variables: '{' }, 3, /'variables'/);
    await expectError('EvaluateDecision', { decisionId: '', decisionKey: 0, variables: '{}' }, 3,
      /Command 'EVALUATE' rejected with code 'INVALID_ARGUMENT': Expected either a decision id or a valid decision key/);
    await expectError('EvaluateDecision', { decisionId: 'route', variables: '"x"' }, 3, /root level object/);
    await expectError('ModifyProcessInstance', { processInstanceKey: missing }, 5,
      /Command 'MODIFY' rejected with code 'NOT_FOUND'/);
    await expectError('ModifyProcessInstance', {
      processInstanceKey: missing, activateInstructions: [{ elementId: '' }],
    }, 3, /'activateInstructions.elementId'/);
    await expectError('MigrateProcessInstance', { processInstanceKey: missing }, 3, /'migrationPlan'/);
    await expectError('MigrateProcessInstance', {
      processInstanceKey: missing, migrationPlan: { targetProcessDefinitionKey: missingTarget, mappingInstructions: [] },
    }, 5, /Command 'MIGRATE' rejected with code 'NOT_FOUND'/);
    await expectError('DeleteResource', { resourceKey: missing }, 5,
      /Command 'DELETE' rejected with code 'NOT_FOUND'/);
  });

  test('DeleteResource (zbctl delete resource) of a process and of a DRG', async () => {
    const deployed = await deploy('delete-me.bpmn');
    const key = deployed.deployments[0].process.processDefinitionKey;
    const deleted = await zbctl(broker, ['delete', 'resource', String(key)]);
    assert.equal(deleted.code, 0, deleted.stderr);
    await assert.rejects(create('delete-me'), (error) => grpcCode(error) === 5);
    const again = await zbctl(broker, ['delete', 'resource', String(key)]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr + again.stdout, /NotFound|NOT_FOUND/);

    const dmn = await zb.deployResource({ decisionFilename: model('routing.dmn') });
    const drg = dmn.deployments.find((d) => d.decisionRequirements).decisionRequirements;
    const { error } = await call(raw, 'DeleteResource', { resourceKey: drg.decisionRequirementsKey });
    assert.equal(error, null, error?.message);
    await assert.rejects(zb.evaluateDecision({ decisionId: 'route', variables: { amount: 1 } }),
      (e) => grpcCode(e) === 3);
  });
});

describe('events across three partitions', () => {
  let broker;
  let zb;
  let raw;
  before(async () => {
    broker = await new Broker({ args: ['--partitions', '3'] }).start();
    zb = new ZBClient(broker.address, { loglevel: 'NONE', useTLS: false, retry: false });
    raw = rawClient(broker.address);
  });
  after(async () => {
    raw?.close();
    await zb?.close(2000);
    await broker?.cleanup();
  });

  async function activate(type) {
    const { error, jobs } = await activateJobs(raw, {
      type, worker: 'bpmn-test', maxJobsToActivate: 32, timeout: 60_000, requestTimeout: 200,
    });
    if (error) throw error;
    return jobs;
  }

  test('messages go to the partition of their correlation key and correlate across partitions', async () => {
    await zb.deployResource({ processFilename: model('message-catch.bpmn') });
    const keys = ['order-1', 'order-2', 'order-3', 'ü-unicode-key', 'a', 'zz-top', 'order-7', 'order-8', 'order-9'];
    const pending = keys.map((orderId) =>
      zb.createProcessInstanceWithResult({ bpmnProcessId: 'message-catch', variables: { orderId }, requestTimeout: 30_000 }));
    const partitions = new Set();
    for (const orderId of keys) {
      const published = await zb.publishMessage({ name: 'mc-paid', correlationKey: orderId, timeToLive: 30_000, variables: { paidFor: orderId } });
      assert.equal(partitionOf(published.key), messagePartition(orderId, 3), `partition of message ${orderId}`);
      partitions.add(partitionOf(published.key));
    }
    assert.ok(partitions.size > 1, 'the keys spread over several partitions');
    const results = await Promise.all(pending);
    const instancePartitions = new Set(results.map((r) => partitionOf(r.processInstanceKey)));
    assert.ok(instancePartitions.size > 1, 'the instances spread over several partitions');
    for (const [i, result] of results.entries()) assert.equal(result.variables.paidFor, keys[i]);
  });

  test('a message start event starts the instance on the message\'s partition', async () => {
    await zb.deployResource({ processFilename: model('message-start.bpmn') });
    const keys = ['start-a', 'start-b', 'start-c', 'start-d', 'start-e', 'start-f'];
    // The deployment reaches the other partitions asynchronously; a message that arrives before
    // it finds no start event there and is only buffered, so give each a TTL.
    for (const correlationKey of keys) {
      await zb.publishMessage({ name: 'ms-start', correlationKey, timeToLive: 30_000, variables: { correlationKey } });
    }
    const seen = [];
    await eventually(async () => {
      seen.push(...(await activate('ms-work')));
      return seen.length >= keys.length;
    }, 'an instance per message');
    assert.equal(seen.length, keys.length);
    for (const job of seen) {
      const { correlationKey } = JSON.parse(job.variables);
      assert.equal(partitionOf(job.processInstanceKey), messagePartition(correlationKey, 3), correlationKey);
    }
  });

  test('a broadcast signal reaches catch events on every partition and starts one instance', async () => {
    await zb.deployResource({ processFilename: model('signal-catch.bpmn') });
    await zb.deployResource({ processFilename: model('signal-start.bpmn') });
    let done = 0;
    const pending = [];
    for (let i = 0; i < 6; i++) {
      pending.push(zb.createProcessInstanceWithResult({ bpmnProcessId: 'signal-catch', variables: {}, requestTimeout: 30_000 })
        .finally(() => { done++; }));
    }
    // Signals are not buffered: broadcast until every waiting instance caught one.
    let broadcasts = 0;
    while (done < pending.length) {
      await zb.broadcastSignal({ signalName: 'sc-wake', variables: { woken: true } });
      broadcasts++;
      await Promise.race([Promise.all(pending), sleep(300)]);
    }
    const results = await Promise.all(pending);
    assert.ok(new Set(results.map((r) => partitionOf(r.processInstanceKey))).size > 1);
    for (const result of results) assert.equal(result.variables.woken, true);

    await zb.broadcastSignal({ signalName: 'ss-go', variables: {} });
    const started = await eventually(async () => {
      const found = await activate('ss-work');
      return found.length > 0 && found;
    }, 'the signal-started instance');
    await sleep(500);
    const more = await activate('ss-work');
    assert.equal(started.length + more.length, 1, 'one broadcast starts one instance');
  });

  test('a timer start event (R2/PT1S) starts two instances, not two per partition', async () => {
    await zb.deployResource({ processFilename: model('timer-start.bpmn') });
    const seen = [];
    await eventually(async () => {
      seen.push(...(await activate('ts-work')));
      return seen.length >= 2;
    }, 'two timer-started instances');
    await sleep(1500);
    seen.push(...(await activate('ts-work')));
    assert.equal(seen.length, 2);
  });

  test('decisions evaluate and resources delete on every partition', async () => {
    await zb.deployResource({ decisionFilename: model('routing.dmn') });
    for (let i = 0; i < 3; i++) {
      const evaluated = await zb.evaluateDecision({ decisionId: 'route', variables: { amount: 500 } });
      assert.equal(JSON.parse(evaluated.decisionOutput), 'large');
    }
    const deployed = await zb.deployResource({ processFilename: model('delete-me.bpmn') });
    const key = deployed.deployments[0].process.processDefinitionKey;
    // Deployment reaches the other partitions asynchronously: wait until every one creates.
    await eventually(async () => {
      for (let i = 0; i < 3; i++) {
        try {
          await zb.createProcessInstance({ bpmnProcessId: 'delete-me', variables: {} });
        } catch {
          return false;
        }
      }
      return true;
    }, 'the process on every partition');
    const { error } = await call(raw, 'DeleteResource', { resourceKey: key });
    assert.equal(error, null, error?.message);
    await eventually(async () => {
      for (let i = 0; i < 3; i++) {
        try {
          await zb.createProcessInstance({ bpmnProcessId: 'delete-me', variables: {} });
          return false;
        } catch (e) {
          if (grpcCode(e) !== 5) throw e;
        }
      }
      return true;
    }, 'the process to be gone from every partition');
  });
});

