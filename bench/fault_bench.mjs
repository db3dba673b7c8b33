// Storage and replication faults, measured (issue 12's benchmark). Three figures, each beside a
// baseline measured in the same run on the same machine:
//   1. snapshots: one broker at full speed with a snapshot every 2 s, beside the same run with
//      no snapshot (period 1 h): completed instances/s and p99 create->complete;
//   2. rebuild: a 3-broker cluster holding STATE_MIB of state (instances waiting on jobs, each
//      with a 64 KiB variable); broker 2 is killed, its data deleted, and started empty: the
//      time until it has applied what its peers have, and the MiB/s it received;
//   3. latency: the 3-broker cluster at full speed with every broker-to-broker and
//      gateway-to-broker connection through a proxy adding 50 ms one way, beside the same
//      proxies adding nothing.
//
//   node bench/fault_bench.mjs [SECONDS] [STATE_MIB]      (defaults 15 and 1024)
//
// Uses the Release build (build/bin: tern-broker, tern-gateway, tern-bench); build it first:
//   cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release && ninja -C build tern-broker \
//     tern-gateway tern-bench
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.env.TERN_BROKER_BIN ??= path.join(root, 'build/bin/tern-broker');
process.env.TERN_GATEWAY_BIN ??= path.join(root, 'build/bin/tern-gateway');
const benchBinary = process.env.TERN_BENCH_BIN ?? path.join(root, 'build/bin/tern-bench');

const { Broker, bpmnDir, sleep } = await import('../tests/compat/lib/broker.mjs');
const { Cluster } = await import('../tests/compat/lib/cluster.mjs');
const { call, rawClient } = await import('../tests/compat/lib/raw_client.mjs');
const { DelayProxy } = await import('../tests/system/lib/delay_proxy.mjs');
const { directoryBytes } = await import('../tests/system/lib/replicas.mjs');

const seconds = Number(process.argv[2] ?? 15);
const stateMiB = Number(process.argv[3] ?? 1024);

// tern-bench's last line is its figures as JSON. Run asynchronously: the delay proxies live in
// this process's event loop.
async function runBench(gateway, monitoring) {
  const { stdout: out } = await promisify(execFile)(benchBinary, ['--gateway', gateway, '--monitoring', monitoring, '--rate', '0',
    '--duration', String(seconds), '--warmup', '3'], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const figures = JSON.parse(out.trim().split('\n').pop());
  return { perSecond: figures.completed_per_s, p99: figures.p99_ms };
}

const ratio = (after, before) => (before > 0 ? (after / before).toFixed(2) : 'n/a');

async function snapshots() {
  const results = {};
  for (const [label, period] of [['no snapshot', '1h'], ['snapshot every 2 s', '2s']]) {
    const broker = new Broker({ args: ['--partitions', '3', '--snapshot-period', period, '--log-level', 'warn'] });
    await broker.start();
    results[label] = await runBench(broker.address, `127.0.0.1:${broker.monitoringPort}`);
    await broker.cleanup();
  }
  const [without, withSnapshots] = [results['no snapshot'], results['snapshot every 2 s']];
  console.log(`snapshots: ${withSnapshots.perSecond.toFixed(0)}/s p99 ${withSnapshots.p99.toFixed(0)} ms with a ` +
    `snapshot every 2 s, ${without.perSecond.toFixed(0)}/s p99 ${without.p99.toFixed(0)} ms without ` +
    `(throughput ${ratio(withSnapshots.perSecond, without.perSecond)}x, p99 ${ratio(withSnapshots.p99, without.p99)}x)`);
}

async function rebuild() {
  const cluster = new Cluster({ size: 3, partitions: 3, replicationFactor: 3, args: ['--log-level', 'warn'] });
  await cluster.start();
  try {
    const client = rawClient(cluster.address);
    const deployed = await call(client, 'DeployResource', {
      resources: [{ name: 'one-task.bpmn', content: readFileSync(path.join(bpmnDir, 'one-task.bpmn')) }],
    }, 30_000);
    if (deployed.error) throw deployed.error;
    const payload = JSON.stringify({ blob: 'x'.repeat(64 << 10) });
    const instances = Math.ceil((stateMiB << 20) / (64 << 10));
    let created = 0;
    const creator = async () => {
      while (created < instances) {
        created++;
        const { error } = await call(client, 'CreateProcessInstance', { bpmnProcessId: 'one-task', version: -1, variables: payload }, 30_000);
        if (error) {
          created--;
          await sleep(50);
        }
      }
    };
    const filledAt = Date.now();
    await Promise.all(Array.from({ length: 8 }, creator));
    const fillSeconds = (Date.now() - filledAt) / 1000;
    await sleep(2_000);
    const victim = cluster.brokers[2];
    const targets = new Map();
    for (const view of await cluster.partitionViews()) {
      if (view.nodeId !== 2) targets.set(view.partitionId, Math.max(targets.get(view.partitionId) ?? 0, view.appliedIndex));
    }
    await victim.stop({ kill: true });
    rmSync(victim.dataDir, { recursive: true, force: true });
    mkdirSync(victim.dataDir, { recursive: true });
    const startedAt = Date.now();
    victim.process = undefined;
    await victim.start();
    for (;;) {
      const mine = (await cluster.partitionViews()).filter((p) => p.nodeId === 2);
      if (mine.length === 3 && mine.every((p) => p.appliedIndex >= targets.get(p.partitionId))) break;
      if (Date.now() - startedAt > 30 * 60_000) throw new Error('the wiped broker did not catch up in 30 min');
      await sleep(100);
    }
    const rebuildSeconds = (Date.now() - startedAt) / 1000;
    const mib = directoryBytes(victim.dataDir) / (1 << 20);
    console.log(`rebuild: ${instances} instances with 64 KiB each (filled in ${fillSeconds.toFixed(1)} s); the wiped ` +
      `broker received ${mib.toFixed(0)} MiB in ${rebuildSeconds.toFixed(1)} s: ${(mib / rebuildSeconds).toFixed(1)} MiB/s ` +
      `(start-up and elections included)`);
    client.close();
  } finally {
    await cluster.cleanup();
  }
}

async function latency() {
  const results = {};
  for (const delayMs of [0, 50]) {
    const proxies = [];
    const proxy = async (target) => {
      const p = await new DelayProxy({ target, delayMs }).listen();
      proxies.push(p);
      return p.address;
    };
    const cluster = new Cluster({
      size: 3, partitions: 3, replicationFactor: 3, args: ['--log-level', 'warn'],
      peersOf: (i, addresses) => Promise.all(addresses.map((address, j) => (i === j ? address : proxy(address)))),
      gatewayBrokers: (addresses) => Promise.all(addresses.map((address) => proxy(address))),
    });
    await cluster.start();
    try {
      await sleep(3_000);  // leadership settles
      results[delayMs] = await runBench(cluster.address, `127.0.0.1:${cluster.brokers[0].monitoringPort}`);
    } finally {
      await cluster.cleanup();
      await Promise.all(proxies.map((p) => p.close()));
    }
  }
  console.log(`latency: ${results[50].perSecond.toFixed(0)}/s p99 ${results[50].p99.toFixed(0)} ms with 50 ms one way ` +
    `between members, ${results[0].perSecond.toFixed(0)}/s p99 ${results[0].p99.toFixed(0)} ms through the same ` +
    `proxies without delay (throughput ${ratio(results[50].perSecond, results[0].perSecond)}x)`);
}

await snapshots();
await latency();
await rebuild();
process.exit(0);
