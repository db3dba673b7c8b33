// zbctl 8.4 (the static binary from the npm package) against a single tern-broker: every command
// the single-node issue lists, checked the way a Zeebe user reads zbctl's output.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Broker, bpmnDir, zbctl, zbctlJson } from './lib/broker.mjs';

const oneTask = path.join(bpmnDir, 'one-task.bpmn');
const incidentModel = path.join(bpmnDir, 'gateway-incident.bpmn');

describe('zbctl 8.4 against tern-broker', () => {
  let broker;
  before(async () => {
    broker = await new Broker().start();
  });
  after(async () => {
    await broker.cleanup();
  });

  test('status shows the broker, partition 1 as healthy leader, and versions', async () => {
    const result = await zbctl(broker, ['status']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /Cluster size: 1/);
    assert.match(result.stdout, /Partitions count: 1/);
    assert.match(result.stdout, /Replication factor: 1/);
    assert.match(result.stdout, /Gateway version: 8\.6\.0/);
    assert.match(result.stdout, /Broker 0 - 127\.0\.0\.1:\d+/);
    assert.match(result.stdout, /Version: 8\.6\.0/);
    assert.match(result.stdout, /Partition 1 : Leader, Healthy/);
  });

  test('plain deploy (DeployProcess) and deploy resource report versions and keys', async () => {
    const deployed = await zbctlJson(broker, ['deploy', oneTask]);
    assert.match(deployed.key, /^\d+$/);
    assert.equal(deployed.processes.length, 1);
    const process = deployed.processes[0];
    assert.equal(process.bpmnProcessId, 'one-task');
    assert.equal(process.version, 1);
    assert.equal(process.resourceName, oneTask);
    assert.equal(process.tenantId, '<default>');
    // The first key on partition 1 is 2^51 + 1.
    assert.equal(BigInt(deployed.key) >> 51n, 1n);

    const again = await zbctlJson(broker, ['deploy', 'resource', oneTask]);
    assert.notEqual(again.key, deployed.key);
    assert.equal(again.deployments.length, 1);
    assert.equal(again.deployments[0].process.version, 1, 'an identical redeploy keeps the version');
    assert.equal(again.deployments[0].process.processDefinitionKey, process.processDefinitionKey);
  });

  test('create an instance with variables, activate its job, complete it with variables', async () => {
    await zbctlJson(broker, ['deploy', oneTask]);
    const created = await zbctlJson(broker, [
      'create', 'instance', 'one-task', '--variables', '{"orderId": "A-1", "amount": 42.5}',
    ]);
    assert.equal(created.bpmnProcessId, 'one-task');
    assert.equal(created.version, 1);
    assert.match(created.processInstanceKey, /^\d+$/);

    const activated = await zbctlJson(broker, ['activate', 'jobs', 'work', '--maxJobsToActivate', '10']);
    const job = activated.jobs.find((j) => j.processInstanceKey === created.processInstanceKey);
    assert.ok(job, JSON.stringify(activated));
    assert.equal(job.type, 'work');
    assert.equal(job.elementId, 'task');
    assert.equal(job.worker, 'zbctl');
    assert.equal(job.retries, 3);
    assert.deepEqual(JSON.parse(job.variables), { orderId: 'A-1', amount: 42.5 });
    assert.deepEqual(JSON.parse(job.customHeaders), { kind: 'benchmark' });
    assert.ok(Number(job.deadline) > Date.now());

    const completed = await zbctl(broker, ['complete', 'job', job.key, '--variables', '{"done": true}']);
    assert.equal(completed.code, 0, completed.stderr);
    assert.match(completed.stdout, new RegExp(`Completed job with key '${job.key}'`));

    const twice = await zbctl(broker, ['complete', 'job', job.key]);
    assert.notEqual(twice.code, 0);
    assert.match(twice.stderr + twice.stdout, /NotFound/);
    assert.match(twice.stderr + twice.stdout, /Command 'COMPLETE' rejected with code 'NOT_FOUND'/);
  });

  test('create an instance --withResult waits for completion and returns its variables', async () => {
    await zbctlJson(broker, ['deploy', oneTask]);
    const waiting = zbctlJson(broker, [
      'create', 'instance', 'one-task', '--withResult', '--variables', '{"x": 1}',
    ]);
    let job;
    for (let attempt = 0; attempt < 50 && !job; attempt++) {
      const activated = await zbctlJson(broker, ['activate', 'jobs', 'work']);
      job = activated.jobs[0];
    }
    assert.ok(job, 'the instance created with --withResult should produce a job');
    const set = await zbctl(broker, ['set', 'variables', job.elementInstanceKey, '--variables', '{"y": 2}']);
    assert.equal(set.code, 0, set.stderr);
    const completed = await zbctl(broker, ['complete', 'job', job.key, '--variables', '{"z": 3}']);
    assert.equal(completed.code, 0, completed.stderr);
    const result = await waiting;
    assert.equal(result.bpmnProcessId, 'one-task');
    assert.deepEqual(JSON.parse(result.variables), { x: 1, y: 2, z: 3 });
  });

  test('cancel an instance; cancelling it again is NOT_FOUND', async () => {
    await zbctlJson(broker, ['deploy', oneTask]);
    const created = await zbctlJson(broker, ['create', 'instance', 'one-task']);
    const cancelled = await zbctl(broker, ['cancel', 'instance', created.processInstanceKey]);
    assert.equal(cancelled.code, 0, cancelled.stderr);
    assert.match(cancelled.stdout, new RegExp(`Canceled process instance with key '${created.processInstanceKey}'`));
    const again = await zbctl(broker, ['cancel', 'instance', created.processInstanceKey]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr + again.stdout, /NotFound/);
  });

  test('set variables answers with the key of the variable document', async () => {
    await zbctlJson(broker, ['deploy', oneTask]);
    const created = await zbctlJson(broker, ['create', 'instance', 'one-task']);
    const set = await zbctl(broker, [
      'set', 'variables', created.processInstanceKey, '--variables', '{"a": [1, 2]}', '--local',
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(
      set.stdout,
      new RegExp(`Set the variables of element instance with key '${created.processInstanceKey}' to '\\{"a": \\[1, 2\\]\\}' with command '\\d+'`),
    );
    const json = await zbctlJson(broker, [
      'set', 'variables', created.processInstanceKey, '--variables', '{"b": 1}', '-o', 'json',
    ]);
    assert.match(json.key, /^\d+$/);
    const missing = await zbctl(broker, ['set', 'variables', '2251799813685000', '--variables', '{}']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr + missing.stdout, /NotFound/);
  });

  test('an incident from a failing gateway condition is resolved after setting variables', async () => {
    await zbctlJson(broker, ['deploy', incidentModel]);
    const created = await zbctlJson(broker, ['create', 'instance', 'route-on-decision']);
    const incidents = await broker.incidentsOf(created.processInstanceKey);
    assert.equal(incidents.length, 1);
    assert.equal(incidents[0].errorType, 'CONDITION_ERROR');
    assert.equal(incidents[0].elementId, 'decide');

    const set = await zbctl(broker, [
      'set', 'variables', created.processInstanceKey, '--variables', '{"decision": "yes"}',
    ]);
    assert.equal(set.code, 0, set.stderr);
    const resolved = await zbctl(broker, ['resolve', 'incident', incidents[0].key]);
    assert.equal(resolved.code, 0, resolved.stderr);
    assert.match(resolved.stdout, new RegExp(incidents[0].key));
    const activated = await zbctlJson(broker, ['activate', 'jobs', 'after-yes']);
    assert.equal(activated.jobs.length, 1);
    assert.equal(activated.jobs[0].processInstanceKey, created.processInstanceKey);
    assert.deepEqual(await broker.incidentsOf(created.processInstanceKey), []);
  });

  test('fail a job without retries raises an incident; new retries and resolve bring it back', async () => {
    await zbctlJson(broker, ['deploy', oneTask]);
    const created = await zbctlJson(broker, ['create', 'instance', 'one-task']);
    const activated = await zbctlJson(broker, ['activate', 'jobs', 'work', '--maxJobsToActivate', '100']);
    const job = activated.jobs.find((j) => j.processInstanceKey === created.processInstanceKey);
    const failed = await zbctl(broker, ['fail', 'job', job.key, '--retries', '0', '--errorMessage', 'no luck']);
    assert.equal(failed.code, 0, failed.stderr);
    const [incident] = await broker.incidentsOf(created.processInstanceKey);
    assert.equal(incident.errorType, 'JOB_NO_RETRIES');
    assert.equal(incident.errorMessage, 'no luck');
    const retries = await zbctl(broker, ['update', 'retries', job.key, '--retries', '2']);
    assert.equal(retries.code, 0, retries.stderr);
    const resolved = await zbctl(broker, ['resolve', 'incident', incident.key]);
    assert.equal(resolved.code, 0, resolved.stderr);
    const again = await zbctlJson(broker, ['activate', 'jobs', 'work', '--maxJobsToActivate', '100']);
    const back = again.jobs.find((j) => j.key === job.key);
    assert.ok(back);
    assert.equal(back.retries, 2);
  });

  test('update the timeout of an activated job', async () => {
    await zbctlJson(broker, ['deploy', oneTask]);
    await zbctlJson(broker, ['create', 'instance', 'one-task']);
    const activated = await zbctlJson(broker, ['activate', 'jobs', 'work']);
    const job = activated.jobs[0];
    const updated = await zbctl(broker, ['update', 'timeout', job.key, '--timeout', '600000']);
    assert.equal(updated.code, 0, updated.stderr);
  });

  test('activate jobs with nothing available returns an empty list after the request timeout', async () => {
    const started = Date.now();
    const activated = await zbctlJson(broker, ['activate', 'jobs', 'nobody-works-here', '--requestTimeout', '1s']);
    assert.deepEqual(activated.jobs, []);
    assert.ok(Date.now() - started >= 500, 'the call long-polled');
  });
});
