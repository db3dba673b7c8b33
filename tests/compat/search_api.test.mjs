// Camunda 8.8's search API (/v2/<entity>/search, GET by key, a definition's XML, element
// statistics) on tern-broker's history store, through Camunda's own client
// @camunda8/orchestration-cluster-api 8.8 with strict response validation: deploy, create
// instances, complete and fail jobs, wait for export, then search, page, read by key. Raw HTTP
// checks the 400 problems naming a bad field and the Tern-History-Lag header. The client reads
// int64 fields (totalItems, statistics counts) as BigInt.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRequire } from 'node:module';

import { Broker } from './lib/broker.mjs';

const require = createRequire(import.meta.url);
const { createCamundaClient } = require('@camunda8/orchestration-cluster-api');

const processXml = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="defs-search" targetNamespace="http://tern.test/bpmn">
  <bpmn:process id="search-order" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="work"><bpmn:extensionElements><zeebe:taskDefinition type="search-work"/></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work"/>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>`;

const kInstances = 5;
const wait = { consistency: { waitUpToMs: 20_000 } };

describe('search API through @camunda8/orchestration-cluster-api 8.8', () => {
  let broker;
  let camunda;
  let processDefinitionKey;
  const instanceKeys = [];
  const completed = new Set();
  let incidentInstance;

  before(async () => {
    broker = await new Broker().start();
    camunda = createCamundaClient({
      config: {
        CAMUNDA_REST_ADDRESS: broker.restUrl,
        CAMUNDA_AUTH_STRATEGY: 'NONE',
        CAMUNDA_SDK_HTTP_RETRY_MAX_ATTEMPTS: 1,
        CAMUNDA_SDK_VALIDATION: 'res:strict',
        CAMUNDA_SDK_LOG_LEVEL: 'error',
      },
    });
    const deployment = await camunda.createDeployment({
      resources: [new File([processXml], 'search-order.bpmn', { type: 'application/xml' })],
    });
    processDefinitionKey = deployment.processes[0].processDefinitionKey;
    for (let i = 0; i < kInstances; i++) {
      const created = await camunda.createProcessInstance({
        processDefinitionId: 'search-order',
        variables: { orderId: `o-${i}`, amount: i * 10 },
      });
      instanceKeys.push(created.processInstanceKey);
    }
    // Three jobs: two complete, one fails with no retries left (an incident).
    const jobs = [];
    const deadline = Date.now() + 20_000;
    while (jobs.length < 3 && Date.now() < deadline) {
      const batch = await camunda.activateJobs({
        type: 'search-work', worker: 'search-test', maxJobsToActivate: 3 - jobs.length,
        timeout: 60_000, requestTimeout: 1_000,
      });
      jobs.push(...batch.jobs);
    }
    assert.equal(jobs.length, 3);
    for (const job of jobs.slice(0, 2)) {
      await camunda.completeJob({ jobKey: job.jobKey, variables: { done: true } });
      completed.add(job.processInstanceKey);
    }
    await camunda.failJob({ jobKey: jobs[2].jobKey, retries: 0, errorMessage: 'card declined' });
    incidentInstance = jobs[2].processInstanceKey;
  });
  after(async () => {
    await broker?.cleanup();
  });

  test('process instances: filter by state, page with cursors, get by key', async () => {
    // Export is asynchronous: the client's consistency option polls until the store caught up.
    const active = await camunda.searchProcessInstances(
      { filter: { processDefinitionId: 'search-order', state: 'ACTIVE' } },
      { consistency: { waitUpToMs: 20_000, predicate: (r) => Number(r.page.totalItems) === 3 } },
    );
    assert.equal(active.items.length, 3);
    for (const item of active.items) {
      assert.equal(item.state, 'ACTIVE');
      assert.equal(item.processDefinitionKey, processDefinitionKey);
      assert.ok(!completed.has(item.processInstanceKey));
    }
    const withIncident = await camunda.searchProcessInstances(
      { filter: { processDefinitionId: 'search-order', hasIncident: true } },
      { consistency: { waitUpToMs: 20_000, predicate: (r) => r.items.length === 1 } },
    );
    assert.equal(withIncident.items[0].processInstanceKey, incidentInstance);

    // Pages of 2 in key order: 2, 2, 1.
    const walked = [];
    let page = { limit: 2 };
    for (let i = 0; i < 3; i++) {
      const answer = await camunda.searchProcessInstances(
        {
          filter: { processDefinitionId: 'search-order' },
          sort: [{ field: 'processInstanceKey', order: 'ASC' }],
          page,
        },
        { consistency: { waitUpToMs: 0 } },
      );
      assert.equal(Number(answer.page.totalItems), kInstances);
      walked.push(...answer.items.map((item) => item.processInstanceKey));
      page = { limit: 2, after: answer.page.endCursor };
    }
    assert.deepEqual(walked, [...instanceKeys].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));

    const done = [...completed][0];
    const read = await camunda.getProcessInstance({ processInstanceKey: done }, wait);
    assert.equal(read.state, 'COMPLETED');
    assert.ok(read.endDate);
  });

  test('process definitions: search, get, XML, element statistics', async () => {
    const found = await camunda.searchProcessDefinitions(
      { filter: { processDefinitionId: 'search-order' } }, wait);
    assert.equal(found.items.length, 1);
    assert.equal(found.items[0].processDefinitionKey, processDefinitionKey);
    assert.equal(found.items[0].version, 1);
    const definition = await camunda.getProcessDefinition({ processDefinitionKey }, wait);
    assert.equal(definition.resourceName, 'search-order.bpmn');
    const xml = await camunda.getProcessDefinitionXml({ processDefinitionKey }, wait);
    assert.match(String(xml), /<bpmn:process id="search-order"/);

    const statistics = await camunda.getProcessDefinitionStatistics(
      { processDefinitionKey },
      {
        consistency: {
          waitUpToMs: 20_000,
          predicate: (r) => r.items.some((s) => s.elementId === 'work' && Number(s.incidents) === 1),
        },
      },
    );
    const work = statistics.items.find((s) => s.elementId === 'work');
    assert.deepEqual(
      {
        active: Number(work.active),
        incidents: Number(work.incidents),
        completed: Number(work.completed),
        canceled: Number(work.canceled),
      },
      { active: 2, incidents: 1, completed: 2, canceled: 0 },
    );
    const one = await camunda.getProcessInstanceStatistics({ processInstanceKey: incidentInstance }, wait);
    assert.equal(Number(one.items.find((s) => s.elementId === 'work').incidents), 1);
  });

  test('element instances, variables, incidents and jobs', async () => {
    const key = instanceKeys[0];
    const elements = await camunda.searchElementInstances(
      { filter: { processInstanceKey: key }, sort: [{ field: 'elementInstanceKey' }] }, wait);
    assert.equal(elements.items[0].elementId, 'start');
    assert.equal(elements.items[0].type, 'START_EVENT');
    const element = await camunda.getElementInstance(
      { elementInstanceKey: elements.items[1].elementInstanceKey }, wait);
    assert.equal(element.elementId, 'work');

    const variables = await camunda.searchVariables(
      { filter: { processInstanceKey: key, name: 'orderId' } },
      { consistency: { waitUpToMs: 20_000, predicate: (r) => r.items.length === 1 } },
    );
    assert.equal(variables.items[0].value, '"o-0"');
    const variable = await camunda.getVariable({ variableKey: variables.items[0].variableKey }, wait);
    assert.equal(variable.name, 'orderId');
    const big = await camunda.searchVariables(
      { filter: { name: 'amount', value: { $in: ['30', '40'] } } }, wait);
    assert.equal(big.items.length, 2);

    const incidents = await camunda.searchIncidents(
      { filter: { state: 'ACTIVE', processDefinitionId: 'search-order' } },
      { consistency: { waitUpToMs: 20_000, predicate: (r) => r.items.length === 1 } },
    );
    assert.equal(incidents.items[0].errorType, 'JOB_NO_RETRIES');
    assert.equal(incidents.items[0].errorMessage, 'card declined');
    const incident = await camunda.getIncident({ incidentKey: incidents.items[0].incidentKey }, wait);
    assert.equal(incident.processInstanceKey, incidentInstance);
    const ofInstance = await camunda.searchProcessInstanceIncidents(
      { processInstanceKey: incidentInstance }, wait);
    assert.equal(ofInstance.items.length, 1);

    const jobs = await camunda.searchJobs(
      { filter: { type: 'search-work' }, sort: [{ field: 'jobKey', order: 'DESC' }] },
      { consistency: { waitUpToMs: 20_000, predicate: (r) => Number(r.page.totalItems) === kInstances } },
    );
    assert.equal(jobs.items.length, kInstances);
    assert.equal(jobs.items.filter((j) => j.state === 'COMPLETED').length, 2);
    assert.equal(jobs.items.filter((j) => j.state === 'FAILED').length, 1);
  });

  test('raw HTTP: 400 names the bad field, 404 for an unknown key, lag header', async () => {
    const post = (path, body) => fetch(`${broker.restUrl}${path}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const bad = await post('/v2/process-instances/search', { filter: { color: 'red' } });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).detail, /'filter\.color'/);
    const badSort = await post('/v2/jobs/search', { sort: [{ field: 'speed' }] });
    assert.equal(badSort.status, 400);
    assert.match((await badSort.json()).detail, /'speed'/);
    const badLimit = await post('/v2/variables/search', { page: { limit: 100000 } });
    assert.equal(badLimit.status, 400);
    assert.match((await badLimit.json()).detail, /'page\.limit'/);

    const ok = await post('/v2/incidents/search', {});
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('tern-history-lag'), /^records=\d+, seconds=[0-9.]+$/);
    const missing = await fetch(`${broker.restUrl}/v2/process-instances/42`);
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get('content-type'), 'application/problem+json');
  });
});
