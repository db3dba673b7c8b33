// Camunda's own REST clients against tern-broker's REST API (/v2): @camunda8/orchestration-cluster-api
// 8.8 deploys, creates with awaitCompletion, publishes a message, broadcasts a signal, activates,
// completes and fails jobs, resolves an incident, runs a native user task (search, assign, update,
// unassign, complete) and correlates a message; @camunda8/sdk 8.6's Camunda REST client reads
// the topology and assigns and completes a user task. Both pinned in package-lock.json.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createRequire } from 'node:module';

import { Broker, bpmnDir, sleep } from './lib/broker.mjs';

const require = createRequire(import.meta.url);
const { createCamundaClient } = require('@camunda8/orchestration-cluster-api');

// A service task, then a message catch correlated by orderId.
const taskThenMessage = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-rest" targetNamespace="http://tern.test/bpmn">
  <bpmn:process id="rest-order" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="charge"><bpmn:extensionElements><zeebe:taskDefinition type="rest-charge" retries="2"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:intermediateCatchEvent id="paid"><bpmn:messageEventDefinition messageRef="m-paid"/></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="charge"/>
    <bpmn:sequenceFlow id="f2" sourceRef="charge" targetRef="paid"/>
    <bpmn:sequenceFlow id="f3" sourceRef="paid" targetRef="end"/>
  </bpmn:process>
  <bpmn:message id="m-paid" name="rest-paid"><bpmn:extensionElements><zeebe:subscription correlationKey="=orderId"/></bpmn:extensionElements></bpmn:message>
</bpmn:definitions>`;

function bpmnFile(name, text) {
  return new File([text], name, { type: 'application/xml' });
}

describe('@camunda8/orchestration-cluster-api 8.8 against tern-broker', () => {
  let broker;
  let camunda;
  before(async () => {
    broker = await new Broker().start();
    camunda = createCamundaClient({
      config: {
        CAMUNDA_REST_ADDRESS: broker.restUrl,
        CAMUNDA_AUTH_STRATEGY: 'NONE',
        // Each call's own answer, no client retries.
        CAMUNDA_SDK_HTTP_RETRY_MAX_ATTEMPTS: 1,
        CAMUNDA_SDK_VALIDATION: 'res:strict',
        CAMUNDA_SDK_LOG_LEVEL: 'error',
      },
    });
  });
  after(async () => {
    await broker.cleanup();
  });

  // Activates jobs of `type` until one of `processInstanceKey` comes (other tests' jobs may too).
  async function activateJobOf(type, processInstanceKey) {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const { jobs } = await camunda.activateJobs({
        type, worker: 'rest-compat', maxJobsToActivate: 10, timeout: 60_000, requestTimeout: 1_000,
      });
      const job = jobs.find((j) => j.processInstanceKey === processInstanceKey);
      if (job) return job;
    }
    assert.fail(`no ${type} job of instance ${processInstanceKey}`);
  }

  test('topology and license', async () => {
    const topology = await camunda.getTopology();
    assert.equal(topology.clusterSize, 1);
    assert.equal(topology.partitionsCount, 1);
    assert.equal(topology.brokers[0].partitions[0].role, 'leader');
    const license = await camunda.getLicense();
    assert.equal(license.validLicense, false);
  });

  test('deploy, create, activate, fail, complete, publish a message, awaitCompletion', async () => {
    const deployment = await camunda.createDeployment({
      resources: [bpmnFile('rest-order.bpmn', taskThenMessage)],
    });
    assert.equal(deployment.processes.length, 1);
    assert.equal(deployment.processes[0].processDefinitionId, 'rest-order');
    assert.equal(typeof deployment.processes[0].processDefinitionKey, 'string');

    const created = await camunda.createProcessInstance({
      processDefinitionId: 'rest-order', variables: { orderId: 'o-1', amount: 12 },
    });
    assert.equal(typeof created.processInstanceKey, 'string');

    // Fail once (a retry left), then complete the job when it comes back.
    const first = await activateJobOf('rest-charge', created.processInstanceKey);
    assert.equal(first.variables.orderId, 'o-1');
    assert.equal(first.retries, 2);
    await camunda.failJob({ jobKey: first.jobKey, retries: 1, errorMessage: 'card declined once' });
    const again = await activateJobOf('rest-charge', created.processInstanceKey);
    assert.equal(again.jobKey, first.jobKey);
    assert.equal(again.retries, 1);
    await camunda.completeJob({ jobKey: again.jobKey, variables: { charged: true } });

    // awaitCompletion waits for an instance that a message ends: publish it while waiting.
    const second = await camunda.createProcessInstance({
      processDefinitionId: 'rest-order', variables: { orderId: 'o-2' },
    });
    const job = await activateJobOf('rest-charge', second.processInstanceKey);
    await camunda.completeJob({ jobKey: job.jobKey });
    const published = await camunda.publishMessage({
      name: 'rest-paid', correlationKey: 'o-1', timeToLive: 60_000, variables: { paid: 'o-1' },
    });
    assert.equal(typeof published.messageKey, 'string');
    await camunda.publishMessage({ name: 'rest-paid', correlationKey: 'o-2', timeToLive: 60_000 });

    const oneTask = readFileSync(path.join(bpmnDir, 'one-task.bpmn'), 'utf8');
    await camunda.createDeployment({ resources: [bpmnFile('one-task.bpmn', oneTask)] });
    const waiting = camunda.createProcessInstance({
      processDefinitionId: 'one-task', variables: { input: 7 }, awaitCompletion: true,
      requestTimeout: 30_000, fetchVariables: ['input', 'output'],
    });
    // Complete its job while the create waits (it answers only once the instance completed).
    let completedJob = false;
    const deadline = Date.now() + 20_000;
    while (!completedJob && Date.now() < deadline) {
      const { jobs } = await camunda.activateJobs({
        type: 'work', worker: 'rest-compat', maxJobsToActivate: 1, timeout: 60_000, requestTimeout: 1_000,
      });
      for (const j of jobs) {
        await camunda.completeJob({ jobKey: j.jobKey, variables: { output: j.variables.input * 2 } });
        completedJob = true;
      }
    }
    assert.ok(completedJob);
    const result = await waiting;
    assert.deepEqual(result.variables, { input: 7, output: 14 });
  });

  test('a signal starts an instance', async () => {
    const signalStart = readFileSync(path.join(bpmnDir, 'elements/signal-start.bpmn'), 'utf8');
    await camunda.createDeployment({ resources: [bpmnFile('signal-start.bpmn', signalStart)] });
    const broadcast = await camunda.broadcastSignal({ signalName: 'ss-go', variables: { via: 'rest' } });
    assert.equal(typeof broadcast.signalKey, 'string');
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const { jobs } = await camunda.activateJobs({
        type: 'ss-work', worker: 'rest-compat', maxJobsToActivate: 10, timeout: 60_000, requestTimeout: 1_000,
      });
      const job = jobs.find((j) => j.variables.via === 'rest');
      if (job) {
        assert.equal(job.processDefinitionId, 'signal-start');
        await camunda.completeJob({ jobKey: job.jobKey });
        return;
      }
    }
    assert.fail('the signal started no instance');
  });

  test('an incident is resolved after its variables are fixed', async () => {
    const routing = readFileSync(path.join(bpmnDir, 'gateway-incident.bpmn'), 'utf8');
    await camunda.createDeployment({ resources: [bpmnFile('gateway-incident.bpmn', routing)] });
    const created = await camunda.createProcessInstance({
      processDefinitionId: 'route-on-decision', variables: { decision: 'maybe' },
    });
    let incident;
    const deadline = Date.now() + 20_000;
    while (!incident && Date.now() < deadline) {
      [incident] = await broker.incidentsOf(created.processInstanceKey);
      if (!incident) await sleep(100);
    }
    assert.ok(incident, 'no incident at the gateway');
    await camunda.createElementInstanceVariables({
      elementInstanceKey: created.processInstanceKey, variables: { decision: 'no' },
    });
    await camunda.resolveIncident({ incidentKey: incident.key });
    const cleared = Date.now() + 20_000;
    while (Date.now() < cleared && (await broker.incidentsOf(created.processInstanceKey)).length > 0) {
      await sleep(100);
    }
    assert.equal((await broker.incidentsOf(created.processInstanceKey)).length, 0);
  });

  test('native user task: search, assign, update, unassign, complete; completing again is 409', async () => {
    const model = readFileSync(path.join(bpmnDir, 'native-user-task.bpmn'), 'utf8');
    await camunda.createDeployment({ resources: [bpmnFile('native-user-task.bpmn', model)] });
    const created = await camunda.createProcessInstance({
      processDefinitionId: 'native-user-task', variables: { reviewers: ['compat-reviewers'] },
    });
    const found = await camunda.searchUserTasks(
      { filter: { candidateGroup: 'compat-reviewers', processInstanceKey: created.processInstanceKey } },
      { consistency: { waitUpToMs: 20_000, predicate: (page) => page.items.length === 1 } },
    );
    assert.equal(found.items.length, 1);
    const task = found.items[0];
    assert.equal(task.state, 'CREATED');
    assert.equal(task.elementId, 'review');
    assert.equal(task.priority, 70);
    assert.deepEqual(task.candidateUsers, ['carol']);
    const { userTaskKey } = task;

    await camunda.assignUserTask({ userTaskKey, assignee: 'compat-dave' });
    const mine = await camunda.searchUserTasks(
      { filter: { assignee: 'compat-dave' }, page: { limit: 5 } },
      { consistency: { waitUpToMs: 0 } },
    );
    assert.deepEqual(mine.items.map((t) => t.userTaskKey), [userTaskKey]);
    await camunda.updateUserTask({ userTaskKey, changeset: { priority: 20, candidateUsers: [] } });
    await camunda.unassignUserTask({ userTaskKey });
    const read = await camunda.getUserTask({ userTaskKey }, { consistency: { waitUpToMs: 0 } });
    assert.equal(read.priority, 20);
    assert.deepEqual(read.candidateUsers, []);
    assert.equal(read.assignee, undefined);

    await camunda.completeUserTask({ userTaskKey, variables: { approved: true } });
    await assert.rejects(camunda.completeUserTask({ userTaskKey }), (error) => {
      assert.equal(error.status ?? error.response?.status, 409, String(error));
      return true;
    });
    // The job after the task sees its variables; completing it ends the instance.
    const job = await activateJobOf('archive-reviewed', created.processInstanceKey);
    assert.equal(job.variables.approved, true);
    await camunda.completeJob({ jobKey: job.jobKey });
    const left = await camunda.searchUserTasks(
      { filter: { processInstanceKey: created.processInstanceKey } },
      { consistency: { waitUpToMs: 20_000, predicate: (page) => page.items.length === 0 } },
    );
    assert.equal(left.items.length, 0);
  });

  test('a deployed form: the deployment names it and the user task linked to it answers its schema', async () => {
    const form = { id: 'compat-review-form', type: 'default', components: [{ type: 'textfield', key: 'comment', label: 'Comment' }] };
    const model = readFileSync(path.join(bpmnDir, 'native-user-task.bpmn'), 'utf8')
      .replaceAll('native-user-task', 'native-user-task-form')
      .replace('<zeebe:userTask />', '<zeebe:userTask /><zeebe:formDefinition formId="compat-review-form" />');
    assert.match(model, /formId="compat-review-form"/);
    const deployment = await camunda.createDeployment({
      resources: [
        bpmnFile('native-user-task-form.bpmn', model),
        new File([JSON.stringify(form)], 'review.form', { type: 'application/json' }),
      ],
    });
    const deployedForm = deployment.deployments.find((d) => d.form)?.form;
    assert.ok(deployedForm, JSON.stringify(deployment));
    assert.equal(deployedForm.formId, 'compat-review-form');
    assert.equal(deployedForm.version, 1);
    const created = await camunda.createProcessInstance({
      processDefinitionId: 'native-user-task-form', variables: { reviewers: ['compat-form-reviewers'] },
    });
    const found = await camunda.searchUserTasks(
      { filter: { processInstanceKey: created.processInstanceKey } },
      { consistency: { waitUpToMs: 20_000, predicate: (page) => page.items.length === 1 } },
    );
    const task = found.items[0];
    assert.equal(task.formKey, deployedForm.formKey);
    const linked = await camunda.getUserTaskForm({ userTaskKey: task.userTaskKey }, { consistency: { waitUpToMs: 0 } });
    assert.equal(linked.formKey, deployedForm.formKey);
    assert.equal(linked.formId, 'compat-review-form');
    assert.deepEqual(linked.schema, form);
    // A task without a form answers 204; an unknown task 404.
    const plainModel = readFileSync(path.join(bpmnDir, 'native-user-task.bpmn'), 'utf8');
    await camunda.createDeployment({ resources: [bpmnFile('native-user-task.bpmn', plainModel)] });
    const plainInstance = await camunda.createProcessInstance({
      processDefinitionId: 'native-user-task', variables: { reviewers: ['compat-no-form'] },
    });
    const plainTask = (await camunda.searchUserTasks(
      { filter: { processInstanceKey: plainInstance.processInstanceKey } },
      { consistency: { waitUpToMs: 20_000, predicate: (page) => page.items.length === 1 } },
    )).items[0];
    const plain = await fetch(`${broker.restUrl}/v2/user-tasks/${plainTask.userTaskKey}/form`);
    assert.equal(plain.status, 204);
    const unknown = await fetch(`${broker.restUrl}/v2/user-tasks/2251799813685000/form`);
    assert.equal(unknown.status, 404);
    // A form that is not a JSON object with an id is refused, naming the resource.
    await assert.rejects(
      camunda.createDeployment({ resources: [new File(['{"components": []}'], 'bad.form', { type: 'application/json' })] }),
      (error) => {
        assert.equal(error.status ?? error.response?.status, 400, String(error));
        return true;
      },
    );
  });

  test('message correlation answers the instance, or 404 when nothing waits', async () => {
    const model = readFileSync(path.join(bpmnDir, 'elements/message-catch.bpmn'), 'utf8');
    await camunda.createDeployment({ resources: [bpmnFile('message-catch.bpmn', model)] });
    const created = await camunda.createProcessInstance({
      processDefinitionId: 'message-catch', variables: { orderId: 'compat-c-1' },
    });
    // The subscription opens on the message's partition shortly after the instance waits.
    let correlated;
    const deadline = Date.now() + 20_000;
    while (!correlated) {
      try {
        correlated = await camunda.correlateMessage({ name: 'mc-paid', correlationKey: 'compat-c-1' });
      } catch (error) {
        if ((error.status ?? error.response?.status) !== 404 || Date.now() > deadline) throw error;
        await sleep(50);
      }
    }
    assert.equal(correlated.processInstanceKey, created.processInstanceKey);
    assert.equal(typeof correlated.messageKey, 'string');
    await assert.rejects(
      camunda.correlateMessage({ name: 'mc-paid', correlationKey: 'compat-c-1' }),
      (error) => {
        assert.equal(error.status ?? error.response?.status, 404, String(error));
        return true;
      },
    );
  });

  test('rejections are problem details with Camunda\'s status codes', async () => {
    const unusedKey = String(2n ** 51n + 2n ** 50n);
    await assert.rejects(camunda.completeJob({ jobKey: unusedKey }), (error) => {
      assert.equal(error.status ?? error.response?.status, 404, String(error));
      return true;
    });
    await assert.rejects(
      camunda.createProcessInstance({ processDefinitionId: 'no-such-process' }),
      (error) => {
        assert.equal(error.status ?? error.response?.status, 404, String(error));
        return true;
      },
    );
  });
});

describe('@camunda8/sdk 8.6 Camunda REST client against tern-broker', () => {
  let broker;
  before(async () => {
    broker = await new Broker().start();
  });
  after(async () => {
    await broker.cleanup();
  });

  test('reads the topology, assigns and completes a user task', async () => {
    const { Camunda8 } = require('@camunda8/sdk');
    const c8 = new Camunda8({
      ZEEBE_REST_ADDRESS: broker.restUrl,
      ZEEBE_GRPC_ADDRESS: `grpc://${broker.address}`,
      CAMUNDA_AUTH_STRATEGY: 'NONE',
      CAMUNDA_OAUTH_DISABLED: true,
      CAMUNDA_SECURE_CONNECTION: false,
      zeebeGrpcSettings: { ZEEBE_CLIENT_LOG_LEVEL: 'NONE' },
    });
    const rest = c8.getCamundaRestClient();
    const topology = await rest.getTopology();
    assert.equal(topology.clusterSize, 1);
    assert.equal(topology.brokers.length, 1);
    assert.equal(topology.brokers[0].partitions[0].partitionId, 1);

    // Its user task calls (8.6 paths, the same as 8.8's for assignment and completion) on a task
    // made and read over plain HTTP.
    const api = (p, init = {}) => fetch(`${broker.restUrl}/v2${p}`, init);
    const form = new FormData();
    form.append('resources', new Blob([readFileSync(path.join(bpmnDir, 'native-user-task.bpmn'))]),
      'native-user-task.bpmn');
    assert.equal((await api('/deployments', { method: 'POST', body: form })).status, 200);
    const json = { 'content-type': 'application/json' };
    const created = await (await api('/process-instances', {
      method: 'POST', headers: json,
      body: JSON.stringify({ processDefinitionId: 'native-user-task', variables: { reviewers: ['sdk'] } }),
    })).json();
    let task;
    const deadline = Date.now() + 20_000;
    while (!task && Date.now() < deadline) {
      const page = await (await api('/user-tasks/search', {
        method: 'POST', headers: json,
        body: JSON.stringify({ filter: { processInstanceKey: created.processInstanceKey } }),
      })).json();
      [task] = page.items;
      if (!task) await sleep(50);
    }
    assert.ok(task, 'no user task');
    await rest.assignUserTask({ userTaskKey: task.userTaskKey, assignee: 'sdk-user' });
    await rest.completeUserTask({ userTaskKey: task.userTaskKey, variables: { viaSdk: true } });
    const read = await (await api(`/user-tasks/${task.userTaskKey}`)).json();
    assert.equal(read.assignee, 'sdk-user');
    assert.equal(read.state, 'COMPLETED');
  });
});
