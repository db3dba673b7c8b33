// --log-format json (issue 18 item 6): every line tern-broker and tern-gateway write is one JSON
// object with timestamp, level, logger, message and thread.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, describe, test } from 'node:test';

import { Broker, freePort, sleep } from '../compat/lib/broker.mjs';
import { gatewayBinary } from '../compat/lib/cluster.mjs';

function checkJsonLines(log, who) {
  const lines = log.split('\n').filter((line) => line.length > 0);
  assert.ok(lines.length > 0, `${who} wrote no log lines`);
  for (const line of lines) {
    let entry;
    assert.doesNotThrow(() => { entry = JSON.parse(line); }, `${who} wrote a line that is not JSON: ${line}`);
    for (const key of ['timestamp', 'level', 'logger', 'message', 'thread']) {
      assert.ok(key in entry, `${who}: no ${key} in ${line}`);
    }
    assert.match(entry.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  }
  return lines.length;
}

describe('log format', () => {
  const broker = new Broker({ args: ['--log-format', 'json'] });
  after(async () => broker.cleanup());

  test('tern-broker --log-format json writes one JSON object per line', async () => {
    await broker.start();
    await broker.stop();  // the shutdown lines too
    const count = checkJsonLines(broker.log, 'tern-broker');
    assert.ok(broker.log.includes('"message":"stopped"'), broker.log);
    console.log(`tern-broker: ${count} JSON lines`);
  });

  test('tern-gateway --log-format json writes one JSON object per line', async () => {
    const port = await freePort();
    const gateway = spawn(gatewayBinary, ['--address', `127.0.0.1:${port}`, '--brokers', '127.0.0.1:1', '--log-format', 'json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    gateway.stdout.on('data', (d) => (log += d));
    gateway.stderr.on('data', (d) => (log += d));
    const exited = new Promise((resolve) => gateway.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (log.length === 0 && Date.now() < deadline) await sleep(50);
    gateway.kill('SIGTERM');
    assert.equal(await exited, 0, log);
    const count = checkJsonLines(log, 'tern-gateway');
    console.log(`tern-gateway: ${count} JSON lines`);
  });

  test('an unknown --log-format is refused', async () => {
    const port = await freePort();
    const gateway = spawn(gatewayBinary, ['--address', `127.0.0.1:${port}`, '--log-format', 'xml'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    gateway.stderr.on('data', (d) => (log += d));
    const code = await new Promise((resolve) => gateway.on('exit', resolve));
    assert.equal(code, 2);
    assert.match(log, /log-format must be text or json/);
  });
});
