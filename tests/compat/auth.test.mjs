// Authentication at the gateway (issue 14 item 3): real clients against tern-broker and
// tern-gateway with --auth-mode oidc (tokens from a local issuer started here,
// lib/token_issuer.mjs, that signs real RS256 JWTs) and --auth-mode basic (argon2id users):
// zbctl 8.4, zeebe-node 8.3 and Tern's C++ client (ternctl) with OAuth over TLS; every refusal
// (no token, expired, wrong audience, wrong issuer, bad signature, unknown kid, alg none) as
// UNAUTHENTICATED on gRPC, unary and streaming, and 401 on REST; @camunda8/sdk 8.6 with OAuth
// over REST; basic credentials over REST and gRPC; and the rule that a non-loopback address
// without authentication needs --insecure-no-auth.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Broker, bpmnDir, freePort, root, sleep, zbctlBinary } from './lib/broker.mjs';
import { gatewayBinary } from './lib/cluster.mjs';
import { rawClient } from './lib/raw_client.mjs';
import { TokenIssuer } from './lib/token_issuer.mjs';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const { ZBClient } = require('zeebe-node');

const oneTask = path.join(bpmnDir, 'one-task.bpmn');
const ternctlBinary = process.env.TERNCTL_BIN ?? path.join(root, 'build-asan/bin/ternctl');

// The refusals a token can earn, with the reason Tern's message must name.
const forgeries = [
  ['expired', /expired/],
  ['wrong-audience', /wrong audience/],
  ['wrong-issuer', /wrong issuer/],
  ['bad-signature', /bad signature/],
  ['unknown-kid', /unknown key id/],
  ['alg-none', /alg none/],
];

function oidcArgs(issuer) {
  return ['--auth-mode', 'oidc', '--oidc-issuer', issuer.issuer, '--oidc-jwks-url', issuer.jwksUrl];
}

// Runs a client binary; resolves to {code, stdout, stderr}.
function run(binary, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

function metadataWith(authorization) {
  const metadata = new grpc.Metadata();
  if (authorization !== undefined) metadata.set('authorization', authorization);
  return metadata;
}

// A unary call with the given authorization header; resolves to {error, response}.
function unary(client, method, request, authorization) {
  return new Promise((resolve) => {
    client[method](request, metadataWith(authorization), { deadline: Date.now() + 10_000 },
      (error, response) => resolve({ error, response }));
  });
}

// A server-streaming call (ActivateJobs, StreamActivatedJobs) until it ends or fails; resolves
// to {error, messages}.
function streaming(client, method, request, authorization, deadlineMs = 3_000) {
  return new Promise((resolve) => {
    const messages = [];
    const call = client[method](request, metadataWith(authorization), { deadline: Date.now() + deadlineMs });
    call.on('data', (message) => messages.push(message));
    call.on('error', (error) => resolve({ error, messages }));
    call.on('end', () => resolve({ error: undefined, messages }));
  });
}

describe('OIDC on a TLS gateway: zbctl 8.4, zeebe-node 8.3 and ternctl with OAuth', () => {
  let issuer;
  let certs;
  let broker;
  let home;
  before(async () => {
    issuer = await new TokenIssuer().start();
    issuer.addClient('zbctl', 'zbctl-secret');
    issuer.addClient('zeebe-node', 'zeebe-node-secret');
    issuer.addClient('ternctl', 'ternctl-secret');
    issuer.addClient('expired-client', 'secret', { forge: 'expired' });
    issuer.addClient('foreign-client', 'secret', { forge: 'unknown-kid' });
    certs = mkdtempSync(path.join(os.tmpdir(), 'tern-certs-'));
    execFileSync(path.join(root, 'scripts/make-certs.sh'), [certs, '1'], { stdio: 'pipe' });
    // Token caches of the clients (zbctl's ~/.camunda, zeebe-node's) go here, not to $HOME.
    home = mkdtempSync(path.join(os.tmpdir(), 'tern-home-'));
    broker = await new Broker({
      args: ['--tls-certificate', path.join(certs, 'server.pem'), '--tls-private-key', path.join(certs, 'server-key.pem'),
        ...oidcArgs(issuer)],
    }).start();
  });
  after(async () => {
    await broker?.cleanup();
    await issuer?.stop();
    rmSync(certs, { recursive: true, force: true });
    rmSync(home, { recursive: true, force: true });
  });

  // A home per client: zbctl caches tokens by audience in ~/.camunda/credentials.
  const oauthEnv = (clientId, secret) => ({
    HOME: mkdirSync(path.join(home, clientId), { recursive: true }) ?? path.join(home, clientId),
    ZEEBE_CLIENT_CONFIG_PATH: path.join(home, clientId, 'credentials'),
    ZEEBE_CLIENT_ID: clientId,
    ZEEBE_CLIENT_SECRET: secret,
    ZEEBE_AUTHORIZATION_SERVER_URL: issuer.tokenUrl,
    ZEEBE_TOKEN_AUDIENCE: 'zeebe-api',
  });
  const tlsFlags = () => ['--address', broker.address, '--certPath', path.join(certs, 'ca.pem')];

  test('zbctl 8.4 with ZEEBE_CLIENT_ID/SECRET fetches a token and deploys; no or bad tokens are refused', async () => {
    const requestsBefore = issuer.tokenRequests;
    const status = await run(zbctlBinary, [...tlsFlags(), 'status'], oauthEnv('zbctl', 'zbctl-secret'));
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Partition 1 : Leader, Healthy/);
    assert.ok(issuer.tokenRequests > requestsBefore, 'zbctl asked the issuer for a token');
    const deployed = await run(zbctlBinary, [...tlsFlags(), 'deploy', oneTask], oauthEnv('zbctl', 'zbctl-secret'));
    assert.equal(deployed.code, 0, deployed.stderr);
    assert.equal(JSON.parse(deployed.stdout).processes[0].bpmnProcessId, 'one-task');

    const anonymous = await run(zbctlBinary, [...tlsFlags(), 'status'], { HOME: home });
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr + anonymous.stdout, /Unauthenticated|UNAUTHENTICATED/i);
    assert.match(anonymous.stderr + anonymous.stdout, /missing authorization header/);

    for (const [clientId, reason] of [['expired-client', /expired/], ['foreign-client', /unknown key id/]]) {
      const refused = await run(zbctlBinary, [...tlsFlags(), 'status'], oauthEnv(clientId, 'secret'));
      assert.notEqual(refused.code, 0, clientId);
      assert.match(refused.stderr + refused.stdout, reason, clientId);
    }
  });

  test('zeebe-node 8.3 from ZEEBE_* variables: deploy, create with result, a worker completes the job', async () => {
    const env = {
      ...oauthEnv('zeebe-node', 'zeebe-node-secret'),
      ZEEBE_TOKEN_CACHE_DIR: path.join(home, 'zeebe-node-cache'),
      ZEEBE_CLIENT_SSL_ROOT_CERTS_PATH: path.join(certs, 'ca.pem'),
    };
    const saved = {};
    for (const [name, value] of Object.entries(env)) {
      saved[name] = process.env[name];
      process.env[name] = value;
    }
    const zb = new ZBClient(broker.address, { loglevel: 'NONE', retry: false });
    try {
      const deployed = await zb.deployResource({ processFilename: oneTask });
      assert.equal(deployed.deployments[0].process.bpmnProcessId, 'one-task');
      const worker = zb.createWorker({
        taskType: 'work',
        loglevel: 'NONE',
        taskHandler: (job) => job.complete({ doneBy: 'zeebe-node' }),
      });
      try {
        const result = await zb.createProcessInstanceWithResult({
          bpmnProcessId: 'one-task', variables: { n: 1 }, requestTimeout: 30_000,
        });
        assert.equal(result.variables.doneBy, 'zeebe-node');
      } finally {
        await worker.close();
      }
    } finally {
      await zb.close(2000);
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  test("Tern's C++ client (ternctl) fetches and sends a token", async () => {
    const status = await run(ternctlBinary, [...tlsFlags(), 'status'], oauthEnv('ternctl', 'ternctl-secret'));
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Partition 1 : Leader, Healthy/);
    const created = await run(ternctlBinary, [...tlsFlags(), 'create', 'instance', 'one-task'],
      oauthEnv('ternctl', 'ternctl-secret'));
    assert.equal(created.code, 0, created.stderr);
    const wrongSecret = await run(ternctlBinary, [...tlsFlags(), 'status'], oauthEnv('ternctl', 'not-the-secret'));
    assert.notEqual(wrongSecret.code, 0);
    const anonymous = await run(ternctlBinary, [...tlsFlags(), 'status'], { HOME: home });
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr + anonymous.stdout, /missing authorization header/);
  });
});

describe('OIDC on plaintext gRPC and REST: each refusal, streaming calls, @camunda8/sdk over REST', () => {
  let issuer;
  let broker;
  let client;
  before(async () => {
    issuer = await new TokenIssuer().start();
    issuer.addClient('sdk', 'sdk-secret');
    issuer.addClient('ternctl', 'ternctl-secret');
    broker = await new Broker({ args: oidcArgs(issuer) }).start();
    client = rawClient(broker.address);
  });
  after(async () => {
    client?.close();
    await broker?.cleanup();
    await issuer?.stop();
  });

  test('gRPC: a good token is served; no token and each bad token are UNAUTHENTICATED naming the reason', async () => {
    const good = await unary(client, 'Topology', {}, `Bearer ${issuer.sign({ sub: 'raw' })}`);
    assert.equal(good.error, null);
    assert.equal(good.response.brokers.length, 1);

    const missing = await unary(client, 'Topology', {}, undefined);
    assert.equal(missing.error?.code, grpc.status.UNAUTHENTICATED);
    assert.match(missing.error.details, /missing authorization header/);
    const malformed = await unary(client, 'Topology', {}, 'Bearer not-a-jwt');
    assert.equal(malformed.error?.code, grpc.status.UNAUTHENTICATED);
    assert.match(malformed.error.details, /malformed/);

    for (const [forge, reason] of forgeries) {
      const token = issuer.sign({ sub: 'raw' }, { forge });
      const refused = await unary(client, 'Topology', {}, `Bearer ${token}`);
      assert.equal(refused.error?.code, grpc.status.UNAUTHENTICATED, forge);
      assert.match(refused.error.details, reason, forge);
      // The message names the reason, never the token.
      assert.ok(!refused.error.details.includes(token.split('.')[1]), forge);
    }
    // Commands too, not only the topology.
    const create = await unary(client, 'CreateProcessInstance', { bpmnProcessId: 'one-task' },
      `Bearer ${issuer.sign({}, { forge: 'expired' })}`);
    assert.equal(create.error?.code, grpc.status.UNAUTHENTICATED);
  });

  test('gRPC streaming: ActivateJobs and StreamActivatedJobs without a good token are UNAUTHENTICATED', async () => {
    const request = { type: 'work', worker: 'raw', timeout: 30_000, maxJobsToActivate: 1, requestTimeout: 500 };
    for (const authorization of [undefined, `Bearer ${issuer.sign({}, { forge: 'bad-signature' })}`]) {
      const activate = await streaming(client, 'ActivateJobs', request, authorization);
      assert.equal(activate.error?.code, grpc.status.UNAUTHENTICATED);
      const stream = await streaming(client, 'StreamActivatedJobs', { type: 'work', worker: 'raw', timeout: 30_000 },
        authorization);
      assert.equal(stream.error?.code, grpc.status.UNAUTHENTICATED);
      assert.equal(stream.messages.length, 0);
    }
    // With a good token the long poll runs to its end (no jobs) without an error.
    const served = await streaming(client, 'ActivateJobs', request, `Bearer ${issuer.sign({})}`, 10_000);
    assert.equal(served.error, undefined);
  });

  test('REST: 401 problem+json with WWW-Authenticate: Bearer for no token and each bad token', async () => {
    const topology = (authorization) => fetch(`${broker.restUrl}/v2/topology`,
      { headers: authorization ? { authorization } : {} });
    const good = await topology(`Bearer ${issuer.sign({ sub: 'rest' })}`);
    assert.equal(good.status, 200);
    assert.equal((await good.json()).brokers.length, 1);

    const cases = [[undefined, /missing authorization header/], ['Basic dXNlcjpwdw==', /malformed/],
      ...forgeries.map(([forge, reason]) => [`Bearer ${issuer.sign({}, { forge })}`, reason])];
    for (const [authorization, reason] of cases) {
      const refused = await topology(authorization);
      assert.equal(refused.status, 401, String(reason));
      assert.match(refused.headers.get('www-authenticate'), /^Bearer/);
      assert.match(refused.headers.get('content-type'), /application\/problem\+json/);
      const problem = await refused.json();
      assert.equal(problem.status, 401);
      assert.match(problem.detail, reason);
    }
    // Unknown paths are refused the same way, before routing.
    const unknown = await fetch(`${broker.restUrl}/v2/no-such-thing`);
    assert.equal(unknown.status, 401);
  });

  test('@camunda8/sdk 8.6 over REST with OAuth: deploy, create, activate and complete a job', async () => {
    const { Camunda8 } = require('@camunda8/sdk');
    const requestsBefore = issuer.tokenRequests;
    const c8 = new Camunda8({
      ZEEBE_REST_ADDRESS: broker.restUrl,
      ZEEBE_GRPC_ADDRESS: `grpc://${broker.address}`,
      CAMUNDA_AUTH_STRATEGY: 'OAUTH',
      CAMUNDA_OAUTH_URL: issuer.tokenUrl,
      ZEEBE_CLIENT_ID: 'sdk',
      ZEEBE_CLIENT_SECRET: 'sdk-secret',
      ZEEBE_TOKEN_AUDIENCE: 'zeebe-api',
      CAMUNDA_TOKEN_DISK_CACHE_DISABLE: true,
      CAMUNDA_SECURE_CONNECTION: false,
      CAMUNDA_SDK_HTTP_RETRY_MAX_ATTEMPTS: 1,
      zeebeGrpcSettings: { ZEEBE_CLIENT_LOG_LEVEL: 'NONE' },
    });
    const rest = c8.getCamundaRestClient();
    const topology = await rest.getTopology();
    assert.equal(topology.brokers.length, 1);
    assert.ok(issuer.tokenRequests > requestsBefore, 'the SDK asked the issuer for a token');

    const deployed = await rest.deployResourcesFromFiles([oneTask]);
    assert.match(String(deployed.deploymentKey), /^\d+$/);
    assert.equal(deployed.processes.length, 1);
    const created = await rest.createProcessInstance({ processDefinitionId: 'one-task', variables: { via: 'sdk' } });
    assert.match(String(created.processInstanceKey), /^\d+$/);
    let job;
    const deadline = Date.now() + 20_000;
    while (!job && Date.now() < deadline) {
      const jobs = await rest.activateJobs({ type: 'work', worker: 'sdk', timeout: 30_000, maxJobsToActivate: 10 });
      job = jobs.find((j) => String(j.processInstanceKey) === String(created.processInstanceKey));
      for (const other of jobs) if (other !== job) await rest.completeJob({ jobKey: other.jobKey, variables: {} });
    }
    assert.ok(job, 'no job activated');
    await rest.completeJob({ jobKey: job.jobKey, variables: { done: true } });
  });

  test("ternctl with OAuth over plaintext", async () => {
    const status = await run(ternctlBinary, ['--address', broker.address, 'status'], {
      ZEEBE_CLIENT_ID: 'ternctl',
      ZEEBE_CLIENT_SECRET: 'ternctl-secret',
      ZEEBE_AUTHORIZATION_SERVER_URL: issuer.tokenUrl,
      ZEEBE_TOKEN_AUDIENCE: 'zeebe-api',
    });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /Partition 1 : Leader, Healthy/);
  });

  describe('basic authentication on tern-gateway in front of the same broker', () => {
    let dir;
    let gateway;
    let grpcPort;
    let restPort;
    let log = '';
    before(async () => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'tern-users-'));
      // libsodium's minimum argon2id cost keeps the test fast; production hashes use the default.
      const hash = spawnSync(gatewayBinary, ['hash-password', '--ops', '1', '--memory-kib', '8'],
        { input: 'open sesame\n' });
      assert.equal(hash.status, 0, hash.stderr.toString());
      assert.match(hash.stdout.toString(), /^\$argon2id\$/);
      writeFileSync(path.join(dir, 'users'), `# name:argon2id hash\nalice:${hash.stdout.toString().trim()}\n`);
      grpcPort = await freePort();
      restPort = await freePort();
      gateway = spawn(gatewayBinary, ['--address', `127.0.0.1:${grpcPort}`, '--rest-address', `127.0.0.1:${restPort}`,
        '--brokers', `127.0.0.1:${broker.clusterPort}`, '--auth-mode', 'basic', '--auth-users-file', path.join(dir, 'users')],
      { stdio: ['ignore', 'pipe', 'pipe'] });
      gateway.stdout.on('data', (d) => (log += d));
      gateway.stderr.on('data', (d) => (log += d));
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        const answer = await fetch(`http://127.0.0.1:${restPort}/v2/topology`).catch(() => undefined);
        if (answer?.status === 401) break;
        await sleep(100);
      }
    });
    after(async () => {
      gateway?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    });

    const basic = (user, password) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

    test('REST: the right password is served, a wrong one or none is 401 with WWW-Authenticate: Basic', async () => {
      const topology = (authorization) => fetch(`http://127.0.0.1:${restPort}/v2/topology`,
        { headers: authorization ? { authorization } : {} });
      const good = await topology(basic('alice', 'open sesame'));
      assert.equal(good.status, 200, log);
      for (const [authorization, reason] of [[basic('alice', 'wrong'), /unknown user or wrong password/],
        [basic('mallory', 'open sesame'), /unknown user or wrong password/], [undefined, /missing authorization header/],
        [`Bearer ${issuer.sign({})}`, /malformed/]]) {
        const refused = await topology(authorization);
        assert.equal(refused.status, 401);
        assert.match(refused.headers.get('www-authenticate'), /^Basic realm="tern"/);
        assert.match((await refused.json()).detail, reason);
      }
    });

    test('gRPC: zeebe-node with basicAuth is served; a wrong password is UNAUTHENTICATED', async () => {
      const address = `127.0.0.1:${grpcPort}`;
      const good = new ZBClient(address, { loglevel: 'NONE', useTLS: false, retry: false,
        basicAuth: { username: 'alice', password: 'open sesame' } });
      const bad = new ZBClient(address, { loglevel: 'NONE', useTLS: false, retry: false,
        basicAuth: { username: 'alice', password: 'guess' } });
      try {
        const topology = await good.topology();
        assert.equal(topology.brokers.length, 1);
        await assert.rejects(bad.topology(), (error) => /unknown user or wrong password|UNAUTHENTICATED|16/.test(
          `${error.code} ${error.message}`));
      } finally {
        await good.close(2000);
        await bad.close(2000);
      }
    });
  });
});

describe('a non-loopback address without authentication needs --insecure-no-auth', () => {
  test('tern-gateway and tern-broker refuse to start, and start with a warning when told', async () => {
    const port = await freePort();
    const refused = spawnSync(gatewayBinary, ['--address', `0.0.0.0:${port}`, '--rest-address', 'none',
      '--brokers', '127.0.0.1:1'], { timeout: 30_000 });
    assert.equal(refused.status, 2);
    assert.match(refused.stdout.toString() + refused.stderr.toString(), /without authentication.*--insecure-no-auth/);

    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'tern-test-'));
    try {
      const broker = spawnSync(process.env.TERN_BROKER_BIN ?? path.join(root, 'build-asan/bin/tern-broker'),
        ['--data-dir', dataDir, '--rest-address', `0.0.0.0:${port}`], { timeout: 30_000 });
      assert.equal(broker.status, 2);
      assert.match(broker.stderr.toString(), /refusing to serve clients on 0\.0\.0\.0:\d+ without authentication/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }

    // With --insecure-no-auth it starts, and says so in its log.
    const ports = { gateway: await freePort(), monitoring: await freePort(), cluster: await freePort() };
    const insecureDir = mkdtempSync(path.join(os.tmpdir(), 'tern-test-'));
    const insecure = spawn(process.env.TERN_BROKER_BIN ?? path.join(root, 'build-asan/bin/tern-broker'), [
      '--data-dir', insecureDir, '--gateway-address', `127.0.0.1:${ports.gateway}`,
      '--monitoring-address', `127.0.0.1:${ports.monitoring}`, '--cluster-address', `127.0.0.1:${ports.cluster}`,
      '--rest-address', `0.0.0.0:${port}`, '--insecure-no-auth'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    insecure.stdout.on('data', (d) => (log += d));
    insecure.stderr.on('data', (d) => (log += d));
    try {
      let answer;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline && insecure.exitCode === null) {
        answer = await fetch(`http://127.0.0.1:${port}/v2/topology`).catch(() => undefined);
        if (answer?.status === 200) break;
        await sleep(100);
      }
      assert.equal(answer?.status, 200, log);
      // The warning follows the start-up lines (the REST API may answer before it is written).
      const logged = Date.now() + 10_000;
      while (!/insecure-no-auth: clients are not authenticated/.test(log) && Date.now() < logged) await sleep(50);
      assert.match(log, /insecure-no-auth: clients are not authenticated/);
    } finally {
      insecure.kill('SIGKILL');
      rmSync(insecureDir, { recursive: true, force: true });
    }
  });
});
