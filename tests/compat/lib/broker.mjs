// Starts and stops real tern-broker processes for the compatibility and system tests.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const root = path.resolve(here, '../../..');
export const brokerBinary = process.env.TERN_BROKER_BIN ?? path.join(root, 'build-asan/bin/tern-broker');
export const zbctlBinary = path.join(here, '../node_modules/zbctl/bin/zbctl-cli.linux');
export const bpmnDir = path.join(here, '../bpmn');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A broker process with its own data directory and ports.
export class Broker {
  constructor(options = {}) {
    this.options = options;
    this.dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'tern-test-'));
    this.ownsDataDir = !options.dataDir;
    this.log = '';
  }

  // The REST API (/v2) of the embedded gateway.
  get restUrl() {
    return `http://127.0.0.1:${this.restPort}`;
  }

  get address() {
    return `127.0.0.1:${this.gatewayPort}`;
  }

  // freePort() closes the port it found, so a test running in parallel can take it before the
  // broker binds it: a start that fails to listen on ports picked here picks new ones.
  async start() {
    for (let attempt = 1; ; attempt++) {
      const picked = [];
      for (const name of ['gatewayPort', 'monitoringPort', 'clusterPort', 'restPort']) {
        if (this[name] === undefined) {
          this[name] = await freePort();
          picked.push(name);
        }
      }
      try {
        return await this.startOnce();
      } catch (error) {
        const lostPort = /cannot (listen|serve)/.test(String(error.message));
        if (!lostPort || picked.length === 0 || attempt >= 3) throw error;
        for (const name of picked) this[name] = undefined;
        this.log = '';
      }
    }
  }

  async startOnce() {
    const args = [
      '--data-dir', this.dataDir,
      '--gateway-address', this.address,
      '--monitoring-address', `127.0.0.1:${this.monitoringPort}`,
      '--cluster-address', `127.0.0.1:${this.clusterPort}`,
      '--rest-address', `127.0.0.1:${this.restPort}`,
      ...(this.options.args ?? []),
    ];
    this.process = spawn(brokerBinary, args, { stdio: ['ignore', 'pipe', 'pipe'], env: brokerEnv() });
    const collect = (chunk) => {
      this.log += chunk.toString();
      if (this.log.length > 1 << 20) this.log = this.log.slice(-(1 << 19));
    };
    this.process.stdout.on('data', collect);
    this.process.stderr.on('data', collect);
    this.exited = new Promise((resolve) => this.process.on('exit', (code, signal) => resolve({ code, signal })));
    await this.waitReady();
    return this;
  }

  // A bound, not a measurement: three sanitizer-built brokers opening fresh partitions (each
  // with its history store) on a loaded 2-core machine took 28-34 s to be ready.
  async waitReady(timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.process.exitCode !== null) {
        throw new Error(`tern-broker exited with ${this.process.exitCode}:\n${this.log}`);
      }
      try {
        const response = await fetch(`http://127.0.0.1:${this.monitoringPort}/ready`);
        if (response.status === 200) return;
      } catch {
        // not listening yet
      }
      await sleep(20);
    }
    throw new Error(`tern-broker not ready after ${timeoutMs} ms:\n${this.log}`);
  }

  // Graceful stop (SIGTERM), or a crash with kill -9.
  async stop({ kill = false } = {}) {
    if (!this.process || this.process.exitCode !== null || this.process.signalCode !== null) return;
    this.process.kill(kill ? 'SIGKILL' : 'SIGTERM');
    const result = await this.exited;
    if (!kill && result.code !== 0) {
      throw new Error(`tern-broker stopped with ${JSON.stringify(result)}:\n${this.log}`);
    }
  }

  async restart() {
    await this.stop();
    this.process = undefined;
    return this.start();
  }

  async cleanup() {
    await this.stop({ kill: true });
    if (this.ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  // Open incidents (from the broker's monitoring endpoint) of one process instance.
  async incidentsOf(processInstanceKey) {
    const response = await fetch(`http://127.0.0.1:${this.monitoringPort}/incidents`);
    const incidents = await response.json();
    return incidents.filter((i) => i.processInstanceKey === processInstanceKey);
  }

  async partitions({ checksum = false } = {}) {
    const response = await fetch(`http://127.0.0.1:${this.monitoringPort}/partitions${checksum ? '?checksum=true' : ''}`);
    return response.json();
  }

  async metrics() {
    const response = await fetch(`http://127.0.0.1:${this.monitoringPort}/metrics`);
    return response.text();
  }
}

// The environment of spawned brokers. Under AddressSanitizer freed memory sits in a quarantine
// (256 MiB by default) to catch use after free, and counts as resident: a smaller quarantine
// keeps the memory checks of the tests about the broker's own memory.
export function brokerEnv() {
  const asan = process.env.ASAN_OPTIONS ?? '';
  if (/quarantine_size_mb/.test(asan)) return process.env;
  return { ...process.env, ASAN_OPTIONS: [asan, 'quarantine_size_mb=16'].filter(Boolean).join(':') };
}

// Runs zbctl against a broker; resolves to {code, stdout, stderr}.
export function zbctl(broker, args, { input } = {}) {
  return new Promise((resolve) => {
    const child = spawn(zbctlBinary, ['--insecure', '--address', broker.address, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (input) child.stdin.end(input); else child.stdin.end();
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function zbctlJson(broker, args) {
  const result = await zbctl(broker, args);
  if (result.code !== 0) {
    throw new Error(`zbctl ${args.join(' ')} failed (${result.code}): ${result.stderr}${result.stdout}`);
  }
  return JSON.parse(result.stdout);
}
