// A raw gRPC client for the Gateway service built from Tern's own proto, for requests that the
// Zeebe client libraries refuse to send (bad input).
import { createRequire } from 'node:module';
import path from 'node:path';

import { root } from './broker.mjs';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const definition = protoLoader.loadSync(path.join(root, 'proto/gateway.proto'), {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
});
const Gateway = grpc.loadPackageDefinition(definition).gateway_protocol.Gateway;

export const status = grpc.status;

export function rawClient(address) {
  return new Gateway(address, grpc.credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 << 20,
    'grpc.max_receive_message_length': 64 << 20,
    // A fresh connection per client: grpc-js otherwise shares subchannels between clients, and
    // one that saw a broker die stays in backoff for the next client too.
    'grpc.use_local_subchannel_pool': 1,
  });
}

// Calls a unary RPC; resolves to {error, response}.
export function call(client, method, request, deadlineMs = 10_000) {
  return new Promise((resolve) => {
    client[method](request, { deadline: Date.now() + deadlineMs }, (error, response) => resolve({ error, response }));
  });
}

// Calls ActivateJobs; resolves to {error, jobs}.
export function activateJobs(client, request, deadlineMs = 10_000) {
  return new Promise((resolve) => {
    const jobs = [];
    const stream = client.ActivateJobs(request, { deadline: Date.now() + deadlineMs });
    stream.on('data', (response) => jobs.push(...response.jobs));
    stream.on('error', (error) => resolve({ error, jobs }));
    stream.on('end', () => resolve({ error: null, jobs }));
  });
}
