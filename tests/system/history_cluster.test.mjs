// One PostgreSQL history store for a 3-broker cluster (3 partitions, replication 3): the brokers
// start at once and migrate the one database together (the advisory lock makes them take turns),
// the three partition leaders write to it concurrently (a deployment reaches every partition:
// the same definition rows from three transactions), and the leader of partition 1 is killed -9
// during export and restarted. Afterwards every created instance is in the store and every
// partition's records were applied exactly once (records_applied = position per partition).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, test } from 'node:test';

import { bpmnDir, sleep } from '../compat/lib/broker.mjs';
import { Cluster } from '../compat/lib/cluster.mjs';
import { call, rawClient } from '../compat/lib/raw_client.mjs';
import { Postgres } from './lib/postgres.mjs';

const oneTask = readFileSync(path.join(bpmnDir, 'one-task.bpmn'));

describe('history of a cluster in one PostgreSQL database', () => {
  const server = new Postgres();
  let cluster;
  after(async () => {
    await cluster?.cleanup();
    server.cleanup();
  });

  test('three brokers, kill -9 of a leader during export: nothing missing, nothing twice', async () => {
    await server.start();
    cluster = new Cluster({ size: 3, partitions: 3, replicationFactor: 3, args: ['--snapshot-period', '5s', '--history', server.url] });
    await cluster.start();
    const client = rawClient(cluster.address);
    assert.ifError((await call(client, 'DeployResource', {
      resources: [{ name: 'one-task.bpmn', content: oneTask }],
    }, 30_000)).error);

    const created = new Set();
    let stop = false;
    const creator = async () => {
      while (!stop) {
        const { error, response } = await call(client, 'CreateProcessInstance', { bpmnProcessId: 'one-task', version: -1 }, 5_000);
        if (error) await sleep(20);
        else created.add(String(response.processInstanceKey));
      }
    };
    const creators = Array.from({ length: 4 }, creator);
    while (created.size < 150) await sleep(10);
    let victim = -1;
    while (victim < 0) {
      victim = (await cluster.leaderOf(1)).nodeId;
      if (victim < 0) await sleep(200);
    }
    await cluster.brokers[victim].stop({ kill: true });
    console.log(`killed node ${victim} (leader of partition 1) with ${created.size} instances created`);
    const killedAt = created.size;
    while (created.size < killedAt + 150) await sleep(10);
    await cluster.brokers[victim].start();
    while (created.size < killedAt + 250) await sleep(10);
    stop = true;
    await Promise.all(creators);
    client.close();

    // Export catches up: every instance in the store, and the progress stops moving.
    const deadline = Date.now() + 180_000;
    let last = '';
    let progress = [];
    while (Date.now() < deadline) {
      const keys = new Set(server.query('SELECT process_instance_key FROM process_instance').split('\n'));
      const missing = [...created].filter((key) => !keys.has(key));
      const now = server.query('SELECT partition_id, position, records_applied FROM export_progress ORDER BY partition_id');
      if (missing.length === 0 && now === last) {
        progress = now.split('\n').map((line) => line.split('|').map(Number));
        break;
      }
      last = now;
      await sleep(2000);
    }
    console.log(`${created.size} instances created; export_progress (partition|position|applied): ${last.replaceAll('\n', ', ')}`);
    assert.equal(progress.length, 3, 'every partition exported (and every created instance is in the store)');
    for (const [partition, position, applied] of progress) {
      assert.equal(applied, position, `partition ${partition}: every record applied exactly once`);
    }
    assert.equal(Number(server.query("SELECT COUNT(*) FROM process_definition WHERE bpmn_process_id = 'one-task'")), 1);
    assert.equal(Number(server.query('SELECT COUNT(*) FROM schema_version')), Number(server.query('SELECT MAX(version) FROM schema_version')));
  });
});
