// A local cluster of real tern-broker processes (Raft-replicated partitions over loopback) and a
// standalone tern-gateway in front of them, for the system tests.
import { spawn } from 'node:child_process';
import path from 'node:path';

import { Broker, freePort, root, sleep } from './broker.mjs';
import { call, rawClient } from './raw_client.mjs';

export const gatewayBinary = process.env.TERN_GATEWAY_BIN ?? path.join(root, 'build-asan/bin/tern-gateway');

export class Cluster {
  // `args` go to every broker; `brokerArgs(i)` adds node i's own (e.g. its certificate), and
  // `gatewayArgs` go to the standalone gateway. `peersOf(i, addresses)` gives node i's --peers
  // list and `gatewayBrokers(addresses)` the gateway's --brokers list, from the brokers' cluster
  // addresses (both may be async; by default the addresses themselves; a test routes them
  // through proxies).
  constructor({
    size = 3, partitions = 3, replicationFactor = 3, args = [], brokerArgs = () => [], gatewayArgs = [],
    peersOf = (i, addresses) => addresses, gatewayBrokers = (addresses) => addresses,
  } = {}) {
    this.peersOf = peersOf;
    this.gatewayBrokers = gatewayBrokers;
    this.size = size;
    this.partitions = partitions;
    this.replicationFactor = replicationFactor;
    this.args = args;
    this.brokerArgs = brokerArgs;
    this.gatewayArgs = gatewayArgs;
    this.brokers = [];
    this.gatewayLog = '';
  }

  get address() {
    return `127.0.0.1:${this.gatewayPort}`;
  }

  async start() {
    const clusterPorts = [];
    for (let i = 0; i < this.size; i++) clusterPorts.push(await freePort());
    const addresses = clusterPorts.map((port) => `127.0.0.1:${port}`);
    const peers = addresses.join(',');
    for (let i = 0; i < this.size; i++) {
      const broker = new Broker({
        args: [
          '--node-id', String(i),
          '--cluster-size', String(this.size),
          '--partitions', String(this.partitions),
          '--replication-factor', String(this.replicationFactor),
          '--peers', (await this.peersOf(i, addresses)).join(','),
          ...this.args,
          ...this.brokerArgs(i),
        ],
      });
      broker.clusterPort = clusterPorts[i];
      this.brokers.push(broker);
    }
    this.peers = peers;
    this.gatewayBrokerList = (await this.gatewayBrokers(addresses)).join(',');
    // Together: a broker is ready only once its partitions have leaders, which needs a quorum.
    await Promise.all(this.brokers.map((broker) => broker.start()));
    await this.startGateway();
    return this;
  }

  async startGateway() {
    this.gatewayPort ??= await freePort();
    this.gateway = spawn(gatewayBinary, ['--address', this.address, '--brokers', this.gatewayBrokerList ?? this.peers, '--rest-address', '127.0.0.1:0', ...this.gatewayArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const collect = (chunk) => {
      this.gatewayLog += chunk.toString();
      if (this.gatewayLog.length > 1 << 20) this.gatewayLog = this.gatewayLog.slice(-(1 << 19));
    };
    this.gateway.stdout.on('data', collect);
    this.gateway.stderr.on('data', collect);
    this.gatewayExited = new Promise((resolve) => this.gateway.on('exit', (code, signal) => resolve({ code, signal })));
    // Ready when the gateway knows every broker and a leader for every partition.
    const client = rawClient(this.address);
    const deadline = Date.now() + 60_000;
    try {
      while (Date.now() < deadline) {
        if (this.gateway.exitCode !== null) throw new Error(`tern-gateway exited:\n${this.gatewayLog}`);
        const { error, response } = await call(client, 'Topology', {}, 2_000);
        if (!error && response.brokers.length === this.size && this.leaders(response).size === this.partitions) return;
        await sleep(100);
      }
    } finally {
      client.close();
    }
    throw new Error(`tern-gateway did not see the cluster in time:\n${this.gatewayLog}`);
  }

  // partition id -> node id of its leader, from a Topology response.
  leaders(topology) {
    const leaders = new Map();
    for (const broker of topology.brokers) {
      for (const partition of broker.partitions) {
        if (partition.role === 'LEADER') leaders.set(partition.partitionId, broker.nodeId);
      }
    }
    return leaders;
  }

  // What every running broker says about its partitions (monitoring endpoint).
  async partitionViews({ checksum = false } = {}) {
    const views = [];
    for (const broker of this.brokers) {
      if (!broker.process || broker.process.exitCode !== null || broker.process.signalCode !== null) continue;
      try {
        views.push(...(await broker.partitions({ checksum })));
      } catch {
        // not listening (starting or stopping)
      }
    }
    return views;
  }

  // The node leading `partitionId` in the highest term, or -1.
  async leaderOf(partitionId) {
    const views = (await this.partitionViews()).filter((p) => p.partitionId === partitionId && p.role === 'LEADER');
    views.sort((a, b) => b.term - a.term);
    return views.length ? { nodeId: views[0].nodeId, term: views[0].term } : { nodeId: -1, term: 0 };
  }

  async stop() {
    if (this.gateway && this.gateway.exitCode === null && this.gateway.signalCode === null) {
      this.gateway.kill('SIGTERM');
      await this.gatewayExited;
    }
    await Promise.all(this.brokers.map((broker) => broker.stop()));
  }

  async cleanup() {
    if (this.gateway && this.gateway.exitCode === null && this.gateway.signalCode === null) {
      this.gateway.kill('SIGKILL');
      await this.gatewayExited;
    }
    await Promise.all(this.brokers.map((broker) => broker.cleanup()));
  }
}
