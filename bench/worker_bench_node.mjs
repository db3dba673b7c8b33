// The zeebe-node 8.3.2 half of worker_bench: one ZBClient worker with a no-op handler completes
// --jobs jobs of --type that are already waiting, and prints one JSON line
// {"jobs":N,"seconds":S,"jobs_per_second":R}. worker_bench starts it after pre-creating the
// instances; it can also run alone:
//
//   node bench/worker_bench_node.mjs --address 127.0.0.1:26500 --type work --jobs 50000
//
// zeebe-node comes from tests/compat/node_modules (npm ci in tests/compat).
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'tests', 'compat', 'package.json'));
const { ZBClient } = require('zeebe-node');

// --poll-interval: zeebe-node polls on a fixed timer (default 300 ms), not when a batch is done.
const args = { address: '127.0.0.1:26500', type: 'work', jobs: 50000, 'max-jobs': 32, 'poll-interval': 300 };
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  const name = process.argv[i].replace(/^--/, '');
  args[name] = ['jobs', 'max-jobs', 'poll-interval'].includes(name) ? Number(process.argv[i + 1]) : process.argv[i + 1];
}

const zb = new ZBClient(args.address, { loglevel: 'NONE', useTLS: false });
let completed = 0;
let first = 0;
const start = process.hrtime.bigint();
const done = new Promise((resolve) => {
  zb.createWorker({
    taskType: args.type,
    maxJobsToActivate: args['max-jobs'],
    pollInterval: args['poll-interval'],
    timeout: 300_000,
    longPoll: 5_000,
    loglevel: 'NONE',
    fetchVariable: [],
    taskHandler: async (job) => {
      const result = await job.complete();
      if (first === 0) first = Number(process.hrtime.bigint() - start) / 1e9;
      if (++completed === args.jobs) resolve();
      return result;
    },
  });
});
const limit = setTimeout(() => {
  console.error(`timed out with ${completed} of ${args.jobs} jobs completed`);
  process.exit(1);
}, 600_000);
await done;
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
clearTimeout(limit);
console.log(
  JSON.stringify({ jobs: completed, seconds, jobs_per_second: completed / seconds, first_seconds: first }),
);
await zb.close(2000);
process.exit(0);
