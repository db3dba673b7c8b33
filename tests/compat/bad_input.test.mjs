// Rows B1-B11, B16-B19 and B27 of the bad-input table (reliability plan §5.7): each bad
// request gets the right gRPC status and a message naming the problem (or, for models that only
// go wrong at run time, an incident naming it), and the broker stays up, answers quickly, keeps
// its memory bounded and keeps serving other instances.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';

import { Broker, bpmnDir } from './lib/broker.mjs';
import { activateJobs, call, rawClient, status } from './lib/raw_client.mjs';

const oneTask = readFileSync(path.join(bpmnDir, 'one-task.bpmn'));

function deploy(client, name, content, deadlineMs = 10_000) {
  return call(client, 'DeployResource', { resources: [{ name, content: Buffer.from(content) }] }, deadlineMs);
}

const header = '<?xml version="1.0" encoding="UTF-8"?>' +
  '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" ' +
  'xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="d" targetNamespace="t">';
const processXml = (id, body) => `${header}<bpmn:process id="${id}" isExecutable="true">${body}</bpmn:process></bpmn:definitions>`;

// A process whose only element between start and end is a timer catch event with `definition`
// (e.g. '<bpmn:timeDuration>PT5S</bpmn:timeDuration>').
const timerProcess = (id, definition) => processXml(id, `
  <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
  <bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    <bpmn:timerEventDefinition>${definition}</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
  <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />
  <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>`);

function expectError(result, code, pattern) {
  assert.ok(result.error, `expected ${code}, got ${JSON.stringify(result.response)}`);
  assert.equal(result.error.code, code, result.error.details);
  if (pattern) assert.match(result.error.details, pattern);
}

describe('bad input', () => {
  let broker;
  let client;
  let baselineRss;
  const rss = async () => Number(/^tern_process_resident_memory_bytes (\S+)/m.exec(await broker.metrics())[1]);
  before(async () => {
    broker = await new Broker().start();
    client = rawClient(broker.address);
    const deployed = await deploy(client, 'one-task.bpmn', oneTask);
    assert.ifError(deployed.error);
    baselineRss = await rss();
  });
  after(async () => {
    client.close();
    await broker.cleanup();
  });
  // The partition still runs other work: a one-task instance is created and its job handed out.
  async function stillServes() {
    const created = await call(client, 'CreateProcessInstance', { bpmnProcessId: 'one-task', version: -1 }, 5_000);
    assert.ifError(created.error);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const { error, jobs } = await activateJobs(client, {
        type: 'work', worker: 'bad-input', maxJobsToActivate: 100, timeout: 60_000, requestTimeout: 500,
      });
      assert.ifError(error);
      if (jobs.some((job) => job.processInstanceKey === created.response.processInstanceKey)) return;
    }
    assert.fail('the one-task instance created after the bad input never got its job');
  }

  async function incidentOf(processInstanceKey, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const incidents = await broker.incidentsOf(processInstanceKey);
      if (incidents.length > 0) return incidents[0];
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.fail(`instance ${processInstanceKey} raised no incident within ${timeoutMs} ms`);
  }

  // After every row: the broker still answers within 2 s and has not grown by 256 MiB.
  afterEach(async () => {
    // The 2 s deadline is the bound: a slower answer is DEADLINE_EXCEEDED.
    const topology = await call(client, 'Topology', {}, 2_000);
    assert.ifError(topology.error);
    const grown = (await rss()) - baselineRss;
    assert.ok(grown < 256 * 1024 * 1024, `RSS grew by ${grown} bytes`);
  });

  test('B1: DOCTYPE with an external entity is refused without reading the file', async () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"><bpmn:process id="p" isExecutable="true" name="&xxe;"/></bpmn:definitions>`;
    const result = await deploy(client, 'xxe.bpmn', xml);
    expectError(result, status.INVALID_ARGUMENT, /DOCTYPE is not allowed/);
    assert.doesNotMatch(result.error.details, /root:/);
  });

  test('B2: billion laughs is refused at once', async () => {
    let entities = '<!ENTITY lol0 "lol">';
    for (let i = 1; i <= 10; i++) entities += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
    const xml = `<?xml version="1.0"?><!DOCTYPE lolz [${entities}]><lolz>&lol10;</lolz>`;
    // Within a 2 s deadline, or the answer is DEADLINE_EXCEEDED instead of INVALID_ARGUMENT.
    const result = await deploy(client, 'laughs.bpmn', xml, 2_000);
    expectError(result, status.INVALID_ARGUMENT, /DOCTYPE/);
  });

  test('B3: nesting 500,000 elements deep is refused (limit 256)', async () => {
    const depth = 500_000;
    const xml = '<a>'.repeat(depth) + '</a>'.repeat(depth);
    const result = await deploy(client, 'deep.bpmn', xml);
    expectError(result, status.INVALID_ARGUMENT, /deeper than 256|256/);
  });

  test('B4: a 5 MiB BPMN exceeds the 4 MiB message limit', async () => {
    const padding = `<!-- ${'x'.repeat(5 * 1024 * 1024)} -->`;
    const result = await deploy(client, 'huge.bpmn', oneTask.toString().replace('<bpmn:process', `${padding}<bpmn:process`));
    expectError(result, status.RESOURCE_EXHAUSTED);
  });

  test('B5: invalid UTF-8, duplicate attributes and duplicate ids are refused', async () => {
    const invalid = Buffer.concat([Buffer.from(oneTask.toString().replace('name="Work"', 'name="W')), Buffer.from([0xff, 0xfe]), Buffer.from('"')]);
    expectError(await deploy(client, 'utf8.bpmn', invalid), status.INVALID_ARGUMENT, /UTF-8/);
    const duplicateAttribute = oneTask.toString().replace('name="Work"', 'name="Work" name="Again"');
    expectError(await deploy(client, 'attr.bpmn', duplicateAttribute), status.INVALID_ARGUMENT, /duplicate attribute|name/i);
    const duplicateId = oneTask.toString().replace('<bpmn:endEvent id="end"', '<bpmn:endEvent id="task"');
    const result = await deploy(client, 'ids.bpmn', duplicateId);
    expectError(result, status.INVALID_ARGUMENT, /task/);
  });

  test('B6: an unresolved entity reference in an attribute is refused', async () => {
    const xml = oneTask.toString().replace('name="Work"', 'name="&foo;"');
    expectError(await deploy(client, 'entity.bpmn', xml), status.INVALID_ARGUMENT, /foo/);
  });

  test('B9: variables whose root is an array are refused', async () => {
    const result = await call(client, 'CreateProcessInstance', {
      bpmnProcessId: 'one-task', version: -1, variables: '[1, 2, 3]',
    });
    expectError(result, status.INVALID_ARGUMENT, /root level object, but was 'ARRAY'/);
  });

  test('B10: variables nested 10,000 deep are refused', async () => {
    const variables = `{"a":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const result = await call(client, 'CreateProcessInstance', {
      bpmnProcessId: 'one-task', version: -1, variables,
    });
    expectError(result, status.INVALID_ARGUMENT, /nested at most 64/);
  });

  test('B11: a 2 MiB variable is refused up front', async () => {
    const variables = JSON.stringify({ big: 'x'.repeat(2 * 1024 * 1024) });
    const result = await call(client, 'CreateProcessInstance', {
      bpmnProcessId: 'one-task', version: -1, variables,
    });
    expectError(result, status.INVALID_ARGUMENT, /variables.*at most/);
    // Completing a job with it is refused too, and the instance is not stuck.
    await call(client, 'CreateProcessInstance', { bpmnProcessId: 'one-task', version: -1, variables: '{}' });
    const { jobs } = await activateJobs(client, { type: 'work', worker: 'w', timeout: 60_000, maxJobsToActivate: 1, requestTimeout: -1 });
    assert.equal(jobs.length, 1);
    expectError(await call(client, 'CompleteJob', { jobKey: jobs[0].key, variables }), status.INVALID_ARGUMENT);
    assert.ifError((await call(client, 'CompleteJob', { jobKey: jobs[0].key, variables: '{"small": 1}' })).error);
  });

  test('B16: a 1 MiB job type, worker name or process id is refused', async () => {
    const huge = 'x'.repeat(1024 * 1024);
    const activate = await activateJobs(client, { type: huge, worker: 'w', timeout: 1000, maxJobsToActivate: 1, requestTimeout: -1 });
    expectError(activate, status.INVALID_ARGUMENT, /'type' to be at most 256 bytes/);
    const worker = await activateJobs(client, { type: 'work', worker: huge, timeout: 1000, maxJobsToActivate: 1, requestTimeout: -1 });
    expectError(worker, status.INVALID_ARGUMENT, /'worker' to be at most 256 bytes/);
    const create = await call(client, 'CreateProcessInstance', { bpmnProcessId: huge, version: -1 });
    expectError(create, status.INVALID_ARGUMENT, /'bpmnProcessId' to be at most 256 bytes/);
  });

  test('B17: maxJobsToActivate of INT32_MAX is clamped; 0 and -1 are refused', async () => {
    const many = await activateJobs(client, { type: 'nothing', worker: 'w', timeout: 1000, maxJobsToActivate: 2147483647, requestTimeout: -1 });
    assert.ifError(many.error);
    for (const max of [0, -1]) {
      const result = await activateJobs(client, { type: 'work', worker: 'w', timeout: 1000, maxJobsToActivate: max, requestTimeout: -1 });
      expectError(result, status.INVALID_ARGUMENT, /max jobs to activate to be greater than zero/);
    }
  });

  test('B18: a negative job timeout is refused; huge timeouts do not overflow', async () => {
    const negative = await activateJobs(client, { type: 'work', worker: 'w', timeout: -1, maxJobsToActivate: 1, requestTimeout: -1 });
    expectError(negative, status.INVALID_ARGUMENT, /timeout to be greater than zero/);
    await call(client, 'CreateProcessInstance', { bpmnProcessId: 'one-task', version: -1, variables: '{}' });
    const huge = await activateJobs(client, {
      type: 'work', worker: 'w', timeout: '9223372036854775807', maxJobsToActivate: 1, requestTimeout: '9223372036854775807',
    });
    assert.ifError(huge.error);
    assert.equal(huge.jobs.length, 1);
    const deadline = Number(huge.jobs[0].deadline);
    assert.ok(deadline > Date.now() && deadline < Date.now() + 100 * 365 * 24 * 3600 * 1000, `deadline ${deadline}`);
    expectError(await call(client, 'UpdateJobTimeout', { jobKey: huge.jobs[0].key, timeout: -5 }), status.INVALID_ARGUMENT);
  });

  test('B19: unknown job keys and keys of partitions that do not exist are NOT_FOUND', async () => {
    expectError(await call(client, 'CompleteJob', { jobKey: '2251799813999999' }), status.NOT_FOUND, /no such job/);
    expectError(await call(client, 'CompleteJob', { jobKey: String(9n << 51n) }), status.NOT_FOUND, /no such job/);
    expectError(await call(client, 'CompleteJob', { jobKey: '-5' }), status.NOT_FOUND);
    expectError(await call(client, 'FailJob', { jobKey: '12345', retries: 1 }), status.NOT_FOUND);
    expectError(await call(client, 'ResolveIncident', { incidentKey: '12345' }), status.NOT_FOUND);
  });

  test('tenants other than <default> are refused while multi-tenancy is off', async () => {
    const result = await call(client, 'CreateProcessInstance', { bpmnProcessId: 'one-task', version: -1, tenantId: 'acme' });
    expectError(result, status.INVALID_ARGUMENT, /multi-tenancy is disabled/);
  });

  test('message, signal and decision requests are checked like the others', async () => {
    expectError(await call(client, 'PublishMessage', { name: 'm', correlationKey: 'k', variables: '[]' }),
      status.INVALID_ARGUMENT, /root level object/);
    expectError(await call(client, 'BroadcastSignal', { signalName: ' ' }), status.INVALID_ARGUMENT, /'signalName'/);
    expectError(await call(client, 'EvaluateDecision', { decisionId: 'd' }), status.INVALID_ARGUMENT,
      /Command 'EVALUATE' rejected with code 'INVALID_ARGUMENT'.*no decision found for id 'd'/);
  });
  test('B7: a loop without a wait state is refused at deploy, or ends in an incident when data makes it loop', async () => {
    // A loop that no data can leave is found at deploy time.
    const endless = processXml('spin', `
      <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="join" />
      <bpmn:exclusiveGateway id="join"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>back</bpmn:incoming>
        <bpmn:outgoing>f2</bpmn:outgoing></bpmn:exclusiveGateway>
      <bpmn:sequenceFlow id="f2" sourceRef="join" targetRef="again" />
      <bpmn:manualTask id="again"><bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>back</bpmn:outgoing></bpmn:manualTask>
      <bpmn:sequenceFlow id="back" sourceRef="again" targetRef="join" />`);
    expectError(await deploy(client, 'spin.bpmn', endless), status.INVALID_ARGUMENT,
      /'spin\.bpmn'[\s\S]*straight-through processing loop[\s\S]*again > join > again/);

    // Loops of gateways alone deploy (as in Zeebe); data that never leaves one raises an
    // incident after a bounded number of steps instead of spinning the partition.
    const conditional = processXml('spin-on-data', `
      <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="join" />
      <bpmn:exclusiveGateway id="join"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>back</bpmn:incoming>
        <bpmn:outgoing>f2</bpmn:outgoing></bpmn:exclusiveGateway>
      <bpmn:sequenceFlow id="f2" sourceRef="join" targetRef="decide" />
      <bpmn:exclusiveGateway id="decide" default="out"><bpmn:incoming>f2</bpmn:incoming>
        <bpmn:outgoing>back</bpmn:outgoing><bpmn:outgoing>out</bpmn:outgoing></bpmn:exclusiveGateway>
      <bpmn:sequenceFlow id="back" sourceRef="decide" targetRef="join">
        <bpmn:conditionExpression>=keepGoing</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="out" sourceRef="decide" targetRef="end" />
      <bpmn:endEvent id="end"><bpmn:incoming>out</bpmn:incoming></bpmn:endEvent>`);
    assert.ifError((await deploy(client, 'spin-on-data.bpmn', conditional)).error);
    const created = await call(client, 'CreateProcessInstance', {
      bpmnProcessId: 'spin-on-data', version: -1, variables: JSON.stringify({ keepGoing: true }),
    });
    assert.ifError(created.error);
    const incident = await incidentOf(created.response.processInstanceKey);
    assert.match(incident.elementId, /^(join|decide)$/);
    assert.match(incident.errorMessage, /without waiting for anything.*loop without a wait state/);
    await stillServes();
    // The instance is stuck on purpose, not forever: cancelling it works.
    assert.ifError((await call(client, 'CancelProcessInstance', { processInstanceKey: created.response.processInstanceKey })).error);
  });

  test('B8: a multi-instance over 2,000,000 items ends in an incident; the partition keeps serving', async () => {
    const huge = processXml('huge-mi', `
      <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="each" />
      <bpmn:serviceTask id="each">
        <bpmn:extensionElements><zeebe:taskDefinition type="each-item" /></bpmn:extensionElements>
        <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
        <bpmn:multiInstanceLoopCharacteristics>
          <bpmn:extensionElements>
            <zeebe:loopCharacteristics inputCollection="=for i in 1..n return i" inputElement="item" />
          </bpmn:extensionElements>
        </bpmn:multiInstanceLoopCharacteristics>
      </bpmn:serviceTask>
      <bpmn:sequenceFlow id="f2" sourceRef="each" targetRef="end" />
      <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>`);
    assert.ifError((await deploy(client, 'huge-mi.bpmn', huge)).error);
    const created = await call(client, 'CreateProcessInstance', {
      bpmnProcessId: 'huge-mi', version: -1, variables: JSON.stringify({ n: 2_000_000 }),
    });
    assert.ifError(created.error);
    const incident = await incidentOf(created.response.processInstanceKey);
    assert.equal(incident.elementId, 'each');
    assert.match(incident.errorMessage, /'for i in 1\.\.n return i'.*2000000 elements; the limit is/);
    await stillServes();
    assert.ifError((await call(client, 'CancelProcessInstance', { processInstanceKey: created.response.processInstanceKey })).error);
  });

  test('FEEL replace() that would build gigabytes ends in an incident naming the limit; memory stays bounded', async () => {
    // replace(s, "a", s) with a 100 kB s asks for 10 GB; FEEL checks each piece before it
    // appends it and fails at the collection size limit.
    const script = processXml('feel-replace', `
      <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
      <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="measure" />
      <bpmn:scriptTask id="measure">
        <bpmn:extensionElements>
          <zeebe:script expression="=string length(replace(s, &quot;a&quot;, s))" resultVariable="len" />
        </bpmn:extensionElements>
        <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      </bpmn:scriptTask>
      <bpmn:sequenceFlow id="f2" sourceRef="measure" targetRef="end" />
      <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>`);
    assert.ifError((await deploy(client, 'feel-replace.bpmn', script)).error);
    const before = await rss();
    const created = await call(client, 'CreateProcessInstance', {
      bpmnProcessId: 'feel-replace', version: -1, variables: JSON.stringify({ s: 'a'.repeat(100_000) }),
    });
    assert.ifError(created.error);
    const incident = await incidentOf(created.response.processInstanceKey);
    assert.equal(incident.elementId, 'measure');
    assert.match(incident.errorMessage, /replace\(s, "a", s\).*the limit is \d+ \(FEEL collection size limit\)/);
    const grown = (await rss()) - before;
    assert.ok(grown < 128 * 1024 * 1024, `RSS grew by ${grown} bytes evaluating the expression`);
    // A normal instance is created and completed afterwards.
    const normal = await call(client, 'CreateProcessInstance', { bpmnProcessId: 'one-task', version: -1 }, 5_000);
    assert.ifError(normal.error);
    const deadline = Date.now() + 10_000;
    let job;
    while (!job && Date.now() < deadline) {
      const { error, jobs } = await activateJobs(client, {
        type: 'work', worker: 'bad-input', maxJobsToActivate: 100, timeout: 60_000, requestTimeout: 500,
      });
      assert.ifError(error);
      job = jobs.find((j) => j.processInstanceKey === normal.response.processInstanceKey);
    }
    assert.ok(job, 'the one-task instance created after the bad expression never got its job');
    assert.ifError((await call(client, 'CompleteJob', { jobKey: job.key, variables: '{}' })).error);
    assert.ifError((await call(client, 'CancelProcessInstance', { processInstanceKey: created.response.processInstanceKey })).error);
  });

  test('B27: timers R/PT0S and negative durations are refused at deploy; year 9999 waits, year 10000 is refused', async () => {
    expectError(await deploy(client, 'zero-cycle.bpmn', timerProcess('zero-cycle', '<bpmn:timeCycle>R/PT0S</bpmn:timeCycle>')),
      status.INVALID_ARGUMENT, /'zero-cycle\.bpmn'.*'wait'/s);
    expectError(await deploy(client, 'negative.bpmn', timerProcess('negative', '<bpmn:timeDuration>-PT5S</bpmn:timeDuration>')),
      status.INVALID_ARGUMENT, /'negative\.bpmn'.*'wait'/s);
    expectError(await deploy(client, 'year-10000.bpmn', timerProcess('year-10000', '<bpmn:timeDate>10000-01-01T00:00:00Z</bpmn:timeDate>')),
      status.INVALID_ARGUMENT, /'year-10000\.bpmn'.*'wait'/s);
    // The last representable year is a timer like any other: it waits (no overflow, no early
    // firing) and the instance can be cancelled.
    assert.ifError((await deploy(client, 'year-9999.bpmn', timerProcess('year-9999', '<bpmn:timeDate>9999-12-31T00:00:00Z</bpmn:timeDate>'))).error);
    const created = await call(client, 'CreateProcessInstance', { bpmnProcessId: 'year-9999', version: -1 });
    assert.ifError(created.error);
    // Computed at run time instead of deploy time: an incident naming the element.
    assert.ifError((await deploy(client, 'computed.bpmn', timerProcess('computed', '<bpmn:timeDuration>=d</bpmn:timeDuration>'))).error);
    const computed = await call(client, 'CreateProcessInstance', {
      bpmnProcessId: 'computed', version: -1, variables: JSON.stringify({ d: '-PT5S' }),
    });
    assert.ifError(computed.error);
    const incident = await incidentOf(computed.response.processInstanceKey);
    assert.equal(incident.elementId, 'wait');
    assert.match(incident.errorMessage, /-PT5S|negative/);
    await stillServes();
    assert.equal((await broker.incidentsOf(created.response.processInstanceKey)).length, 0);
    assert.ifError((await call(client, 'CancelProcessInstance', { processInstanceKey: created.response.processInstanceKey })).error);
  });
});
