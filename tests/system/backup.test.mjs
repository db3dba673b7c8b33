// Backups under load (issue 18 item 5): take a backup through Zeebe's API while instances are
// being created, kill -9 the broker(s), delete the data, restore from the backup with
// `tern-broker restore`, restart: every instance acknowledged before the backup was requested is
// there and finishes when its job is completed. A tampered or incomplete backup is refused with a
// message naming the file.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { Broker, bpmnDir, brokerBinary, brokerEnv, sleep } from '../compat/lib/broker.mjs';
import { Cluster } from '../compat/lib/cluster.mjs';
import { activateJobs, call, rawClient } from '../compat/lib/raw_client.mjs';

const oneTask = readFileSync(path.join(bpmnDir, 'one-task.bpmn'));

// Opening a fresh partition creates its RocksDB column families; under the sanitizers, with three
// brokers of three partitions starting at once on a loaded two-core machine, that took 28 s of the
// harness's 30 s readiness wait. These brokers get longer.
const waitReady = Broker.prototype.waitReady;
Broker.prototype.waitReady = function (timeoutMs = 120_000) {
  return waitReady.call(this, timeoutMs);
};

async function backupApi(broker, method, suffix = '', body = undefined) {
  const response = await fetch(`http://127.0.0.1:${broker.monitoringPort}/actuator/backups${suffix}`, {
    method,
    headers: body ? { 'Content-Type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function waitCompleted(broker, id) {
  const deadline = Date.now() + 120_000;
  let last;
  while (Date.now() < deadline) {
    last = await backupApi(broker, 'GET', `/${id}`);
    if (last.status === 200 && ['COMPLETED', 'FAILED'].includes(last.body.state)) break;
    await sleep(100);
  }
  assert.equal(last.body.state, 'COMPLETED', JSON.stringify(last.body));
  return last.body;
}

// Runs `tern-broker restore ...`; resolves to {code, stdout, stderr}.
function restore(args) {
  return new Promise((resolve) => {
    const child = spawn(brokerBinary, ['restore', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: brokerEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// Creates instances from `creators` concurrent loops until stopped; keys of acknowledged ones
// go into `acknowledged`.
function createLoop(address, acknowledged, creators = 8) {
  const client = rawClient(address);
  let stop = false;
  const loops = Array.from({ length: creators }, async (_, id) => {
    let n = 0;
    while (!stop) {
      const { error, response } = await call(client, 'CreateProcessInstance', {
        bpmnProcessId: 'one-task', version: -1, variables: JSON.stringify({ creator: id, n: n++ }),
      }, 5_000);
      if (error) await sleep(10);
      else acknowledged.add(response.processInstanceKey);
    }
  });
  return async () => {
    stop = true;
    await Promise.all(loops);
    client.close();
  };
}

// Activates jobs until every key of `expected` has one, completes all of them, and checks that
// none is left.
async function finishAll(address, expected) {
  const client = rawClient(address);
  const seen = new Map();
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const { error, jobs } = await activateJobs(client, { type: 'work', worker: 'after-restore', timeout: 600_000, maxJobsToActivate: 1000, requestTimeout: 500 });
    if (!error) {
      for (const job of jobs) {
        assert.ok(!seen.has(job.processInstanceKey), `instance ${job.processInstanceKey} has two jobs`);
        seen.set(job.processInstanceKey, job);
      }
    }
    if ([...expected].every((key) => seen.has(key))) break;
    await sleep(50);
  }
  const missing = [...expected].filter((key) => !seen.has(key));
  assert.deepEqual(missing, [], `${missing.length} of ${expected.size} instances acknowledged before the backup are missing after the restore`);
  for (const job of seen.values()) {
    let result;
    for (let attempt = 0; attempt < 20; attempt++) {
      result = await call(client, 'CompleteJob', { jobKey: job.key, variables: '{"done": true}' });
      if (!result.error) break;
      await sleep(100);
    }
    assert.ifError(result.error);
  }
  const leftover = await activateJobs(client, { type: 'work', worker: 'check', timeout: 1000, maxJobsToActivate: 10, requestTimeout: -1 });
  assert.equal(leftover.jobs.length, 0);
  client.close();
  return seen.size;
}

describe('backup and restore', () => {
  const backupDir = mkdtempSync(path.join(os.tmpdir(), 'tern-backups-'));
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'tern-restore-'));
  const single = new Broker({ args: ['--partitions', '2', '--backup-dir', backupDir, '--snapshot-period', '1s'] });
  const cluster = new Cluster({
    size: 3, partitions: 3, replicationFactor: 3,
    args: ['--backup-dir', path.join(backupDir, 'cluster'), '--snapshot-period', '2s'],
  });
  after(async () => {
    await single.cleanup();
    await cluster.cleanup();
    rmSync(backupDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  test('without --backup-dir the API says backups are not configured', async () => {
    const plain = new Broker();
    try {
      await plain.start();
      const { status, body } = await backupApi(plain, 'POST', '', { backupId: 1 });
      assert.equal(status, 400);
      assert.match(body.message, /--backup-dir/);
    } finally {
      await plain.cleanup();
    }
  });

  test('single broker: backup under load, kill -9, delete the data, restore, restart', async () => {
    await single.start();
    const client = rawClient(single.address);
    assert.ifError((await call(client, 'DeployResource', { resources: [{ name: 'one-task.bpmn', content: oneTask }] })).error);
    client.close();
    const acknowledged = new Set();
    const stopCreating = createLoop(single.address, acknowledged);
    while (acknowledged.size < 300) await sleep(10);
    // A snapshot is taken meanwhile (every second), so the backup is a snapshot plus the log
    // after it.
    for (let i = 0; i < 200 && (await single.partitions()).some((p) => p.snapshotIndex === 0); i++) await sleep(50);
    const beforeBackup = new Set(acknowledged);
    const taken = await backupApi(single, 'POST', '', { backupId: 10 });
    assert.equal(taken.status, 202, JSON.stringify(taken.body));
    assert.match(taken.body.message, /backup with id 10 has been scheduled/);
    // Processing goes on while the backup is copied.
    const atBackup = acknowledged.size;
    while (acknowledged.size < atBackup + 100) await sleep(10);
    const status = await waitCompleted(single, 10);
    assert.equal(status.backupId, 10);
    assert.deepEqual(status.details.map((d) => [d.partitionId, d.state]), [[1, 'COMPLETED'], [2, 'COMPLETED']]);
    for (const detail of status.details) {
      assert.ok(detail.checkpointPosition > 0);
      assert.match(detail.snapshotId, /^\d+-\d+$/);
      assert.ok(detail.createdAt && detail.lastUpdatedAt && detail.brokerVersion);
    }
    // Ids must grow, as in Zeebe.
    assert.equal((await backupApi(single, 'POST', '', { backupId: 10 })).status, 409);
    assert.equal((await backupApi(single, 'POST', '', { backupId: 5 })).status, 409);
    assert.equal((await backupApi(single, 'GET', '/11')).status, 404);
    const list = await backupApi(single, 'GET');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.map((b) => [b.backupId, b.state]), [[10, 'COMPLETED']]);

    await single.stop({ kill: true });
    await stopCreating();
    console.log(`${beforeBackup.size} instances acknowledged before the backup, ${acknowledged.size} before kill -9`);
    rmSync(single.dataDir, { recursive: true, force: true });

    // A tampered copy of the backup is refused, naming the file; so is one without its manifest.
    const tamperedDir = path.join(scratch, 'tampered');
    cpSync(backupDir, tamperedDir, { recursive: true });
    const journalDir = path.join(tamperedDir, '10', 'partition-1', 'journal');
    const segment = readdirSync(journalDir).find((name) => name.startsWith('segment-'));
    const bytes = readFileSync(path.join(journalDir, segment));
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    writeFileSync(path.join(journalDir, segment), bytes);
    let refused = await restore(['--backup-id', '10', '--backup-dir', tamperedDir, '--data-dir', path.join(scratch, 'data1'), '--partitions', '2']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.ok(refused.stderr.includes(path.join(journalDir, segment)), refused.stderr);
    const incompleteDir = path.join(scratch, 'incomplete');
    cpSync(backupDir, incompleteDir, { recursive: true });
    unlinkSync(path.join(incompleteDir, '10', 'partition-2', 'manifest.json'));
    refused = await restore(['--backup-id', '10', '--backup-dir', incompleteDir, '--data-dir', path.join(scratch, 'data2'), '--partitions', '2']);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(refused.stderr, /manifest\.json/);

    const restored = await restore(['--backup-id', '10', '--backup-dir', backupDir, '--data-dir', single.dataDir, '--partitions', '2']);
    assert.equal(restored.code, 0, restored.stderr);
    await single.start();
    const finished = await finishAll(single.address, beforeBackup);
    console.log(`${finished} instances back after the restore and finished`);

    // The restored cluster goes on from the backup: a later backup needs a larger id.
    assert.equal((await backupApi(single, 'POST', '', { backupId: 10 })).status, 409);
    assert.equal((await backupApi(single, 'DELETE', '/10')).status, 204);
    assert.equal((await backupApi(single, 'GET', '/10')).status, 404);
  });

  test('3-broker cluster: backup under load, kill -9 everything, restore every broker', async () => {
    await cluster.start();
    const client = rawClient(cluster.address);
    assert.ifError((await call(client, 'DeployResource', { resources: [{ name: 'one-task.bpmn', content: oneTask }] })).error);
    client.close();
    const acknowledged = new Set();
    const stopCreating = createLoop(cluster.address, acknowledged);
    while (acknowledged.size < 300) await sleep(10);
    const beforeBackup = new Set(acknowledged);
    // Any broker takes the request; each partition's leader backs its partition up.
    const taken = await backupApi(cluster.brokers[1], 'POST', '', { backupId: 1 });
    assert.equal(taken.status, 202, JSON.stringify(taken.body));
    const status = await waitCompleted(cluster.brokers[2], 1);
    assert.equal(status.details.length, 3);
    await stopCreating();

    await cluster.cleanup();  // kill -9 every broker and the gateway, and delete their data
    for (const broker of cluster.brokers) {
      const result = await restore(['--backup-id', '1', '--data-dir', broker.dataDir, ...broker.options.args]);
      assert.equal(result.code, 0, result.stderr);
    }
    await Promise.all(cluster.brokers.map((broker) => broker.start()));
    await cluster.startGateway();
    const finished = await finishAll(cluster.address, beforeBackup);
    console.log(`cluster: ${beforeBackup.size} instances acknowledged before the backup; ${finished} back after the restore and finished`);
  });
});
