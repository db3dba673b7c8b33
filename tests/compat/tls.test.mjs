// TLS (issue 14): zbctl 8.4 and zeebe-node 8.3 against a gateway serving TLS with certificates
// from scripts/make-certs.sh; plaintext and TLS 1.1 refused; client certificates required when
// --tls-client-ca is set; a renewed certificate served to new connections without a restart;
// and a 3-broker cluster whose cluster ports speak mutual TLS with a cluster CA, closed to
// callers without a certificate or with one from another CA.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';

import { Broker, bpmnDir, brokerBinary, freePort, root, sleep, zbctlBinary } from './lib/broker.mjs';
import { Cluster, gatewayBinary } from './lib/cluster.mjs';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { ZBClient } = require('zeebe-node');

const oneTask = path.join(bpmnDir, 'one-task.bpmn');
const ternctlBinary = process.env.TERNCTL_BIN ?? path.join(root, 'build-asan/bin/ternctl');

function makeCerts(dir, nodes = 3) {
  execFileSync(path.join(root, 'scripts/make-certs.sh'), [dir, String(nodes)], { stdio: 'pipe' });
}

// Runs zbctl (or another binary) with the given connection flags; resolves to
// {code, stdout, stderr}.
function zbctlRaw(args, binary = zbctlBinary) {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

// A TLS handshake (with HTTP/2 negotiated, as gRPC does) followed by a short wait, since with
// TLS 1.3 a server refuses a client certificate only after the client considers the handshake
// done. Resolves to {ok, serial, error}.
function handshake(port, { ca, cert, key, maxVersion } = {}) {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: '127.0.0.1',
      port,
      servername: 'localhost',
      ca: ca && readFileSync(ca),
      cert: cert && readFileSync(cert),
      key: key && readFileSync(key),
      ALPNProtocols: ['h2'],
      ...(maxVersion ? { maxVersion, minVersion: 'TLSv1' } : {}),
    });
    let serial;
    let settled = false;
    const finish = (result) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(result);
    };
    socket.on('secureConnect', () => {
      serial = socket.getPeerCertificate().serialNumber;
      // The HTTP/2 client preface, so that the server reads (and reports a refused certificate).
      socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
      setTimeout(() => finish({ ok: true, serial }), 500);
    });
    socket.on('data', () => {});
    socket.on('error', (error) => finish({ ok: false, error: String(error.message) }));
    socket.on('close', () => finish({ ok: false, error: 'closed by the server' }));
  });
}

function serialOf(certPath) {
  return execFileSync('openssl', ['x509', '-in', certPath, '-noout', '-serial']).toString().trim().replace('serial=', '');
}

describe('TLS on the gateway port', () => {
  let certs;
  let broker;
  before(async () => {
    certs = mkdtempSync(path.join(os.tmpdir(), 'tern-certs-'));
    makeCerts(certs, 1);
    broker = await new Broker({
      args: ['--tls-certificate', path.join(certs, 'server.pem'), '--tls-private-key', path.join(certs, 'server-key.pem')],
    }).start();
  });
  after(async () => {
    await broker.cleanup();
    rmSync(certs, { recursive: true, force: true });
  });

  const tlsFlags = () => ['--address', broker.address, '--certPath', path.join(certs, 'ca.pem')];

  test('zbctl 8.4 with --certPath: status, deploy, create instance', async () => {
    const status = await zbctlRaw([...tlsFlags(), 'status']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Partition 1 : Leader, Healthy/);

    const deployed = await zbctlRaw([...tlsFlags(), 'deploy', oneTask]);
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.equal(JSON.parse(deployed.stdout).processes[0].bpmnProcessId, 'one-task');

    const created = await zbctlRaw([...tlsFlags(), 'create', 'instance', 'one-task']);
    assert.equal(created.code, 0, created.stderr);
    assert.match(JSON.parse(created.stdout).processInstanceKey, /^\d+$/);
  });

  test('plaintext is refused, and so is a CA that did not sign the certificate', async () => {
    const plain = await zbctlRaw(['--address', broker.address, '--insecure', 'status']);
    assert.notEqual(plain.code, 0);
    assert.match(plain.stderr + plain.stdout, /Unavailable/);

    const other = mkdtempSync(path.join(os.tmpdir(), 'tern-certs-other-'));
    try {
      makeCerts(other, 1);
      const wrongCa = await zbctlRaw(['--address', broker.address, '--certPath', path.join(other, 'ca.pem'), 'status']);
      assert.notEqual(wrongCa.code, 0);
      assert.match(wrongCa.stderr + wrongCa.stdout, /certificate/);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  test("Tern's C++ client (ternctl --certPath) over TLS", async () => {
    const status = await zbctlRaw([...tlsFlags(), 'status'], ternctlBinary);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Partition 1 : Leader, Healthy/);
    const plain = await zbctlRaw(['--address', broker.address, '--requestTimeout', '3s', 'status'], ternctlBinary);
    assert.notEqual(plain.code, 0);
  });

  test('tern-gateway serves TLS with the same flags', async () => {
    const port = await freePort();
    const gateway = spawn(gatewayBinary, [
      '--address', `127.0.0.1:${port}`,
      '--brokers', `127.0.0.1:${broker.clusterPort}`,
      '--tls-certificate', path.join(certs, 'server.pem'),
      '--tls-private-key', path.join(certs, 'server-key.pem'),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    gateway.stdout.on('data', (d) => (log += d));
    gateway.stderr.on('data', (d) => (log += d));
    try {
      const flags = ['--address', `127.0.0.1:${port}`, '--certPath', path.join(certs, 'ca.pem')];
      let status;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        status = await zbctlRaw([...flags, 'status']);
        if (status.code === 0 && /Partition 1 : Leader, Healthy/.test(status.stdout)) break;
        await sleep(250);
      }
      assert.equal(status.code, 0, `${status.stderr}\n${log}`);
      assert.match(status.stdout, /Partition 1 : Leader, Healthy/);
      const plain = await zbctlRaw(['--address', `127.0.0.1:${port}`, '--insecure', 'status']);
      assert.notEqual(plain.code, 0);
    } finally {
      gateway.kill('SIGKILL');
    }
  });

  test('TLS 1.1 is refused, TLS 1.2 accepted', async () => {
    const ca = path.join(certs, 'ca.pem');
    const old = await handshake(broker.gatewayPort, { ca, maxVersion: 'TLSv1.1' });
    assert.equal(old.ok, false);
    const v12 = await handshake(broker.gatewayPort, { ca, maxVersion: 'TLSv1.2' });
    assert.equal(v12.ok, true, v12.error);
  });

  test('zeebe-node 8.3 with useTLS and the CA as root certificate', async () => {
    const zb = new ZBClient(broker.address, {
      loglevel: 'NONE',
      useTLS: true,
      customSSL: { rootCerts: readFileSync(path.join(certs, 'ca.pem')) },
      retry: false,
    });
    try {
      const topology = await zb.topology();
      assert.equal(topology.brokers.length, 1);
      const deployed = await zb.deployResource({ processFilename: oneTask });
      assert.equal(deployed.deployments[0].process.bpmnProcessId, 'one-task');
      const created = await zb.createProcessInstance({ bpmnProcessId: 'one-task', variables: {} });
      assert.match(created.processInstanceKey, /^\d+$/);
    } finally {
      await zb.close(2000);
    }
  });

  test('a renewed certificate reaches new connections without a restart', async () => {
    const before = await handshake(broker.gatewayPort, { ca: path.join(certs, 'ca.pem') });
    assert.equal(before.ok, true, before.error);
    assert.equal(before.serial, serialOf(path.join(certs, 'server.pem')));

    // A new CA and server certificate, moved over the old files by renaming (what cert-manager
    // and most renewal tools do), key first.
    const renewed = mkdtempSync(path.join(os.tmpdir(), 'tern-certs-renewed-'));
    try {
      makeCerts(renewed, 1);
      for (const name of ['server-key.pem', 'server.pem']) {
        copyFileSync(path.join(renewed, name), path.join(certs, `${name}.new`));
        renameSync(path.join(certs, `${name}.new`), path.join(certs, name));
      }
      const expected = serialOf(path.join(renewed, 'server.pem'));
      let seen;
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const now = await handshake(broker.gatewayPort, { ca: path.join(renewed, 'ca.pem') });
        seen = now.serial;
        if (now.ok && seen === expected) break;
        await sleep(250);
      }
      assert.equal(seen, expected, 'the broker still serves the old certificate');
      // zbctl trusts the new CA now, and SIGHUP does not end the broker.
      broker.process.kill('SIGHUP');
      const status = await zbctlRaw(['--address', broker.address, '--certPath', path.join(renewed, 'ca.pem'), 'status']);
      assert.equal(status.code, 0, status.stderr);
      assert.equal(broker.process.exitCode, null);
    } finally {
      rmSync(renewed, { recursive: true, force: true });
    }
  });
});

test('incomplete or unreadable TLS settings stop the start with a message naming the setting', () => {
  const certs = mkdtempSync(path.join(os.tmpdir(), 'tern-certs-'));
  try {
    makeCerts(certs, 1);
    const run = (binary, args, env = {}) => spawnSync(binary, args, { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 });
    const data = path.join(certs, 'data');
    const onlyCert = run(brokerBinary, ['--data-dir', data, '--tls-certificate', path.join(certs, 'server.pem')]);
    assert.equal(onlyCert.status, 2);
    assert.match(onlyCert.stderr, /tls-certificate and tls-private-key must be given together/);
    // From the environment, a key file that is not a key.
    const notAKey = run(brokerBinary, ['--data-dir', data], {
      TERN_TLS_CERTIFICATE: path.join(certs, 'server.pem'),
      TERN_TLS_PRIVATE_KEY: path.join(certs, 'server.pem'),
    });
    assert.equal(notAKey.status, 2);
    assert.match(notAKey.stderr, /tls-private-key: .* holds no PEM PRIVATE KEY/);
    const clusterPartial = run(gatewayBinary, ['--cluster-tls-ca', path.join(certs, 'cluster-ca.pem')]);
    assert.equal(clusterPartial.status, 2);
    assert.match(clusterPartial.stdout + clusterPartial.stderr, /must be given together/);
  } finally {
    rmSync(certs, { recursive: true, force: true });
  }
});

describe('client certificates (--tls-client-ca)', () => {
  let certs;
  let broker;
  before(async () => {
    certs = mkdtempSync(path.join(os.tmpdir(), 'tern-certs-'));
    makeCerts(certs, 1);
    // From the YAML file this time (the same keys as the flags).
    const config = path.join(certs, 'tern.yaml');
    writeFileSync(config, [
      `tls-certificate: ${path.join(certs, 'server.pem')}`,
      `tls-private-key: ${path.join(certs, 'server-key.pem')}`,
      `tls-client-ca: ${path.join(certs, 'ca.pem')}`,
    ].join('\n'));
    broker = await new Broker({ args: ['--config', config] }).start();
  });
  after(async () => {
    await broker.cleanup();
    rmSync(certs, { recursive: true, force: true });
  });

  test('without a client certificate the connection is refused, with one it works', async () => {
    const zbctlNoCert = await zbctlRaw(['--address', broker.address, '--certPath', path.join(certs, 'ca.pem'), 'status']);
    assert.notEqual(zbctlNoCert.code, 0);

    const zbFor = (customSSL) => new ZBClient(broker.address, { loglevel: 'NONE', useTLS: true, customSSL, retry: false });
    const rootCerts = readFileSync(path.join(certs, 'ca.pem'));
    const without = zbFor({ rootCerts });
    try {
      await assert.rejects(without.topology());
    } finally {
      await without.close(2000);
    }
    const withCert = zbFor({
      rootCerts,
      certChain: readFileSync(path.join(certs, 'client.pem')),
      privateKey: readFileSync(path.join(certs, 'client-key.pem')),
    });
    try {
      const topology = await withCert.topology();
      assert.equal(topology.brokers.length, 1);
    } finally {
      await withCert.close(2000);
    }
  });
});

// A client of the brokers' internal API, from Tern's own proto.
const clusterDefinition = protoLoader.loadSync(path.join(root, 'proto/tern/cluster.proto'), {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [path.join(root, 'proto')],
});
const BrokerService = grpc.loadPackageDefinition(clusterDefinition).tern.cluster.BrokerService;

function askTopology(port, credentials) {
  const client = new BrokerService(`127.0.0.1:${port}`, credentials, {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.ssl_target_name_override': 'localhost',
  });
  return new Promise((resolve) => {
    client.Topology({}, { deadline: Date.now() + 5_000 }, (error, response) => {
      client.close();
      resolve({ error, response });
    });
  });
}

describe('a 3-broker cluster with mutual TLS on the cluster port', () => {
  let certs;
  let cluster;
  before(async () => {
    certs = mkdtempSync(path.join(os.tmpdir(), 'tern-certs-'));
    makeCerts(certs, 3);
    const cert = (name) => path.join(certs, name);
    cluster = await new Cluster({
      size: 3,
      // One partition: a start under load (ASan, a busy 2-core machine) stays well within the
      // brokers' readiness wait.
      partitions: 1,
      replicationFactor: 3,
      args: ['--cluster-tls-ca', cert('cluster-ca.pem')],
      brokerArgs: (i) => ['--cluster-tls-certificate', cert(`node-${i}.pem`), '--cluster-tls-private-key', cert(`node-${i}-key.pem`)],
      gatewayArgs: [
        '--cluster-tls-ca', cert('cluster-ca.pem'),
        '--cluster-tls-certificate', cert('gateway.pem'),
        '--cluster-tls-private-key', cert('gateway-key.pem'),
      ],
    }).start();
  });
  after(async () => {
    await cluster?.cleanup?.();
    rmSync(certs, { recursive: true, force: true });
  });

  test('the cluster works through the standalone gateway: deploy, create, activate, complete', async () => {
    const zb = new ZBClient(cluster.address, { loglevel: 'NONE', useTLS: false, retry: false });
    try {
      await zb.deployResource({ processFilename: oneTask });
      const created = await zb.createProcessInstance({ bpmnProcessId: 'one-task', variables: { n: 1 } });
      let job;
      const deadline = Date.now() + 30_000;
      while (!job && Date.now() < deadline) {
        const jobs = await zb.activateJobs({ type: 'work', worker: 'tls-test', maxJobsToActivate: 10, timeout: 60_000, requestTimeout: 2_000 });
        job = jobs.find((j) => j.processInstanceKey === created.processInstanceKey);
      }
      assert.ok(job, 'no job activated');
      await zb.completeJob({ jobKey: job.key, variables: {} });
    } finally {
      await zb.close(2000);
    }
  });

  test('a member certificate can call the cluster port', async () => {
    const credentials = grpc.credentials.createSsl(
      readFileSync(path.join(certs, 'cluster-ca.pem')),
      readFileSync(path.join(certs, 'gateway-key.pem')),
      readFileSync(path.join(certs, 'gateway.pem')),
    );
    const { error, response } = await askTopology(cluster.brokers[0].clusterPort, credentials);
    assert.equal(error, null);
    assert.equal(response.node_id, 0);
  });

  test('a cluster certificate speaks for the node it names only: Raft claiming another node is refused', async () => {
    const clusterCa = readFileSync(path.join(certs, 'cluster-ca.pem'));
    const as = (name) => grpc.credentials.createSsl(
      clusterCa,
      readFileSync(path.join(certs, `${name}-key.pem`)),
      readFileSync(path.join(certs, `${name}.pem`)),
    );
    const sendRaft = (port, credentials, fromNodeId) => {
      const client = new BrokerService(`127.0.0.1:${port}`, credentials, {
        'grpc.use_local_subchannel_pool': 1,
        'grpc.ssl_target_name_override': 'localhost',
      });
      return new Promise((resolve) => {
        client.Raft({ from_node_id: fromNodeId, envelopes: [] }, { deadline: Date.now() + 5_000 }, (error) => {
          client.close();
          resolve(error);
        });
      });
    };
    const target = cluster.brokers[2].clusterPort;
    // A gateway's certificate claiming to be node 1, and node 0's claiming to be node 1.
    for (const [name, credentials] of [['gateway', as('gateway')], ['node-0', as('node-0')]]) {
      const error = await sendRaft(target, credentials, 1);
      assert.ok(error, `${name} spoke for node 1`);
      assert.equal(error.code, grpc.status.PERMISSION_DENIED, `${name}: ${error.message}`);
      assert.match(error.message, /does not name tern-node-1/);
    }
    // Node 1's own certificate is accepted (an empty batch changes nothing).
    assert.equal(await sendRaft(target, as('node-1'), 1), null);
    assert.match(await cluster.brokers[2].metrics(), /tern_cluster_dropped_raft_messages_total\{reason="not_a_member"\} [1-9]/);
  });

  test('no certificate, a certificate from another CA, or plaintext cannot call the cluster port', async () => {
    const clusterCa = readFileSync(path.join(certs, 'cluster-ca.pem'));
    const other = mkdtempSync(path.join(os.tmpdir(), 'tern-certs-other-'));
    try {
      makeCerts(other, 1);
      const attempts = {
        plaintext: grpc.credentials.createInsecure(),
        'no client certificate': grpc.credentials.createSsl(clusterCa),
        // Signed by another cluster CA: a stranger's own "node 0".
        'another cluster CA': grpc.credentials.createSsl(
          clusterCa,
          readFileSync(path.join(other, 'node-0-key.pem')),
          readFileSync(path.join(other, 'node-0.pem')),
        ),
        // Signed by the client-facing CA of the same deployment.
        'the client CA': grpc.credentials.createSsl(
          clusterCa,
          readFileSync(path.join(certs, 'client-key.pem')),
          readFileSync(path.join(certs, 'client.pem')),
        ),
      };
      for (const [name, credentials] of Object.entries(attempts)) {
        for (const broker of cluster.brokers) {
          const { error } = await askTopology(broker.clusterPort, credentials);
          assert.ok(error, `${name} reached node ${broker.options.args[1]}`);
          // The handshake fails, so the call never reaches the broker; grpc-js reports that as
          // UNAVAILABLE, or CANCELLED when the server closes the connection under the request.
          assert.ok([grpc.status.UNAVAILABLE, grpc.status.CANCELLED].includes(error.code), `${name}: ${error.message}`);
        }
      }
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    // The brokers keep serving.
    for (const broker of cluster.brokers) assert.equal(broker.process.exitCode, null);
  });
});
