// deploy/container: the pieces of the image that can be checked without building it (building
// needs a registry for the base image): the entrypoint's derived settings, the health check
// against a real HTTP listener, the runtime package list against the libraries the built
// binaries link, the Containerfile's syntax (the linter of VS Code's Docker support:
// instructions, flags, ports, exec forms) and its promises (non-root, volume, ports, health check).
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { validate as validateDockerfile } from "dockerfile-utils";

const here = path.dirname(fileURLToPath(import.meta.url));
const containerDir = path.join(here, "../../deploy/container");
const entrypoint = path.join(containerDir, "tern-entrypoint.sh");
const healthcheck = path.join(containerDir, "tern-healthcheck.sh");

// Runs the entrypoint with fake tern-broker / tern-gateway programs that print their TERN_*
// environment, and returns what the program saw.
function runEntrypoint(program, env) {
  const bin = mkdtempSync(path.join(tmpdir(), "tern-entrypoint-"));
  for (const name of ["tern-broker", "tern-gateway"]) {
    writeFileSync(path.join(bin, name), "#!/bin/sh\nenv | grep '^TERN_' | sort\n");
    chmodSync(path.join(bin, name), 0o755);
  }
  const result = spawnSync(entrypoint, [program], {
    env: { PATH: `${bin}:/usr/bin:/bin`, ...env },
    encoding: "utf8",
  });
  rmSync(bin, { recursive: true, force: true });
  const seen = Object.fromEntries(
    result.stdout.split("\n").filter(Boolean).map((line) => line.split(/=(.*)/s).slice(0, 2)),
  );
  return { status: result.status, stderr: result.stderr, seen };
}

test("entrypoint: node id from the StatefulSet ordinal, peers from the template", () => {
  const { status, seen } = runEntrypoint("tern-broker", {
    HOSTNAME: "tern-broker-2",
    TERN_CLUSTER_SIZE: "3",
    TERN_PEER_TEMPLATE: "tern-broker-{}.tern-broker.ns.svc.cluster.local:26501",
  });
  assert.equal(status, 0);
  assert.equal(seen.TERN_NODE_ID, "2");
  assert.equal(
    seen.TERN_PEERS,
    "tern-broker-0.tern-broker.ns.svc.cluster.local:26501,tern-broker-1.tern-broker.ns.svc.cluster.local:26501,tern-broker-2.tern-broker.ns.svc.cluster.local:26501",
  );
  assert.equal(seen.TERN_PEER_TEMPLATE, undefined, "the template is not passed on");
});

test("entrypoint: given settings win; ordinals are decimal; the gateway gets TERN_BROKERS only", () => {
  let run = runEntrypoint("tern-broker", { HOSTNAME: "tern-broker-1", TERN_NODE_ID: "0", TERN_PEERS: "a:1" });
  assert.equal(run.seen.TERN_NODE_ID, "0");
  assert.equal(run.seen.TERN_PEERS, "a:1");
  run = runEntrypoint("tern-broker", { HOSTNAME: "tern-broker-08" });
  assert.equal(run.seen.TERN_NODE_ID, "8");
  run = runEntrypoint("tern-broker", { HOSTNAME: "broker" });
  assert.equal(run.seen.TERN_NODE_ID, undefined, "no ordinal, no node id (the broker's default 0)");
  run = runEntrypoint("tern-gateway", {
    HOSTNAME: "tern-gateway-5f7d9-24567",
    TERN_CLUSTER_SIZE: "2",
    TERN_PEER_TEMPLATE: "b{}:26501",
  });
  assert.equal(run.seen.TERN_NODE_ID, undefined);
  assert.equal(run.seen.TERN_BROKERS, "b0:26501,b1:26501");
});

test("entrypoint: a template without {} or a bad cluster size is refused", () => {
  let run = runEntrypoint("tern-broker", { TERN_PEER_TEMPLATE: "broker:26501" });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /must contain \{\}/);
  run = runEntrypoint("tern-broker", { TERN_PEER_TEMPLATE: "b{}:1", TERN_CLUSTER_SIZE: "three" });
  assert.equal(run.status, 2);
  assert.match(run.stderr, /TERN_CLUSTER_SIZE/);
});

function execFile(file, args, env) {
  return spawn(file, args, { env: { PATH: "/usr/bin:/bin", ...env }, stdio: "ignore" });
}

test("healthcheck: 200 on /ready is healthy; another status or no listener is not", async () => {
  const server = createServer((request, response) => {
    response.writeHead(request.url === "/ready" ? 200 : 503).end();
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = server.address().port;
  const check = (args, address) =>
    new Promise((resolve) => {
      const child = execFile(healthcheck, args, { TERN_MONITORING_ADDRESS: address });
      child.on("exit", (code) => resolve(code));
    });
  try {
    assert.equal(await check([], `0.0.0.0:${port}`), 0);
    assert.equal(await check(["/health"], `0.0.0.0:${port}`), 1);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  assert.notEqual(await check([], `0.0.0.0:${port}`), 0, "nothing listens any more");
});

const binaries = [process.env.TERN_BROKER_BIN, process.env.TERN_GATEWAY_BIN, process.env.TERNCTL_BIN];
test(
  "runtime-packages.txt holds every Debian package whose libraries the binaries load",
  { skip: binaries.every(Boolean) ? false : "TERN_BROKER_BIN, TERN_GATEWAY_BIN, TERNCTL_BIN not set (ctest sets them)" },
  () => {
    const needed = execFileSync(path.join(containerDir, "runtime-packages.sh"), binaries, { encoding: "utf8" })
      .split("\n")
      .filter(Boolean);
    const listed = readFileSync(path.join(containerDir, "runtime-packages.txt"), "utf8")
      .split("\n")
      .map((line) => line.replace(/#.*/, "").trim())
      .filter(Boolean);
    const missing = needed.filter((p) => !listed.includes(p));
    assert.deepEqual(missing, [], "packages the binaries need but the image would not install");
    const unused = listed.filter((p) => !needed.includes(p));
    assert.deepEqual(unused, [], "packages the image would install but no binary needs");
  },
);

test("Containerfile: non-root, data volume, ports, health check, TERN_* on all interfaces", () => {
  const text = readFileSync(path.join(containerDir, "Containerfile"), "utf8");
  assert.match(text, /^USER tern:tern$/m);
  assert.match(text, /^VOLUME \["\/usr\/local\/tern\/data"\]$/m);
  assert.match(text, /^EXPOSE 26500 8080 9600 26501 26502$/m);
  assert.match(text, /^HEALTHCHECK .*CMD \["tern-healthcheck"\]$/m);
  assert.match(text, /^ENTRYPOINT \["tern-entrypoint"\]$/m);
  for (const setting of ["TERN_GATEWAY_ADDRESS=0.0.0.0:26500", "TERN_CLUSTER_ADDRESS=0.0.0.0:26501",
    "TERN_MONITORING_ADDRESS=0.0.0.0:9600", "TERN_DATA_DIR=/usr/local/tern/data"]) {
    assert.ok(text.includes(setting), setting);
  }
  // Both stages on pinned Debian 12 images, never a moving tag.
  const images = [...text.matchAll(/^ARG (BUILD|RUNTIME)_IMAGE=(.*)$/gm)].map((m) => m[2]);
  assert.equal(images.length, 2);
  for (const image of images) assert.match(image, /debian:bookworm-\d{8}(-slim)?(@sha256:[0-9a-f]{64})?$/);
});

test("Containerfile: valid Dockerfile syntax, no warnings either", () => {
  const text = readFileSync(path.join(containerDir, "Containerfile"), "utf8");
  const problems = validateDockerfile(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
  assert.deepEqual(problems, []);
  // The validator is not vacuous: a misspelt flag and a bad port are found.
  const broken = text.replace("HEALTHCHECK --interval", "HEALTHCHECK --intervl").replace("EXPOSE 26500", "EXPOSE 26500x");
  assert.equal(validateDockerfile(broken).length, 2);
});
