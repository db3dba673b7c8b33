// The history store survives kill -9 of the broker in the middle of export: instances are
// created and their jobs completed while the broker exports to its default SQLite store
// (<data-dir>/history.db, no history flag given); the broker is killed and restarted; once
// export has caught up, every record is in the store exactly once (the store counts the records
// it applied: equal to the last position, which it would exceed with a record applied twice and
// fall short of with one missing) and every acknowledged instance is there in its state.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { Broker, bpmnDir, sleep } from '../compat/lib/broker.mjs';
import { activateJobs, call, rawClient } from '../compat/lib/raw_client.mjs';

const oneTask = readFileSync(path.join(bpmnDir, 'one-task.bpmn'));

function sql(broker, query) {
  return execFileSync('sqlite3', [path.join(broker.dataDir, 'history.db'), query], { encoding: 'utf8' }).trim();
}

function metric(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(name + '{') || l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

// Waits until the history exporter has acknowledged everything committed and the store shows it.
async function waitForExport(broker) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const text = await broker.metrics();
    const lag = metric(text, 'tern_exporter_lag_records');
    const unread = metric(text, 'tern_export_unread_log_entries');
    const position = metric(text, 'tern_exporter_position');
    if (lag === 0 && unread === 0 && position > 0) {
      const stored = Number(sql(broker, 'SELECT position FROM export_progress WHERE partition_id = 1'));
      if (stored === position) return position;
    }
    await sleep(100);
  }
  throw new Error(`export did not catch up:\n${await broker.metrics()}`);
}

describe('history', () => {
  const broker = new Broker({ args: ['--snapshot-period', '1s'] });
  after(async () => broker.cleanup());

  test('kill -9 during export: no record missing from the store, none applied twice', async () => {
    await broker.start();
    let client = rawClient(broker.address);
    assert.ifError((await call(client, 'DeployResource', {
      resources: [{ name: 'one-task.bpmn', content: oneTask }],
    })).error);

    const created = new Set();
    const completed = new Set();
    let stop = false;
    const creator = async (id) => {
      let n = 0;
      while (!stop) {
        const { error, response } = await call(client, 'CreateProcessInstance', {
          bpmnProcessId: 'one-task', version: -1, variables: JSON.stringify({ creator: id, n: n++ }),
        }, 5_000);
        if (error) {
          if (stop) return;
          await sleep(5);
        } else {
          created.add(String(response.processInstanceKey));
        }
      }
    };
    const worker = async () => {
      while (!stop) {
        const { error, jobs } = await activateJobs(client, { type: 'work', worker: 'w', timeout: 600_000, maxJobsToActivate: 20, requestTimeout: 200 });
        if (error) {
          await sleep(5);
          continue;
        }
        for (const job of jobs) {
          const done = await call(client, 'CompleteJob', { jobKey: job.key, variables: '{"done": true}' }, 5_000);
          if (!done.error) completed.add(String(job.processInstanceKey));
        }
      }
    };
    const running = [...Array.from({ length: 6 }, (_, i) => creator(i)), worker()];
    while (created.size < 300 || completed.size < 50) await sleep(10);
    await broker.stop({ kill: true });
    stop = true;
    await Promise.all(running);
    client.close();
    console.log(`before kill -9: ${created.size} instances created, ${completed.size} completed`);

    await broker.start();
    client = rawClient(broker.address);
    for (let i = 0; i < 20; i++) {
      const { error, response } = await call(client, 'CreateProcessInstance', { bpmnProcessId: 'one-task', version: -1 });
      assert.ifError(error);
      created.add(String(response.processInstanceKey));
    }
    client.close();

    const position = await waitForExport(broker);
    const [stored, applied] = sql(broker, 'SELECT position, records_applied FROM export_progress').split('|').map(Number);
    assert.equal(stored, position);
    assert.equal(applied, position, 'every record applied exactly once');
    const inStore = new Map(sql(broker, 'SELECT process_instance_key, state FROM process_instance')
      .split('\n').map((line) => line.split('|')));
    for (const key of created) assert.ok(inStore.has(key), `instance ${key} missing from the store`);
    for (const key of completed) assert.equal(inStore.get(key), 'COMPLETED', `instance ${key}`);
    const variables = Number(sql(broker, "SELECT COUNT(*) FROM variable WHERE name = 'done'"));
    assert.ok(variables >= completed.size);
  });
});
