// deploy/compose: every Compose file is valid against the Compose Specification's JSON schema
// (the copy dclint ships, installed by `npm ci`, so nothing is fetched here), after the same
// variable interpolation Compose does; and the cluster's node ids, peers and gateway agree.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Ajv from "ajv";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const composeDir = path.join(here, "../../deploy/compose");
const require = createRequire(import.meta.url);
const schema = JSON.parse(
  readFileSync(path.join(path.dirname(require.resolve("dclint/package.json")), "schemas/compose.schema.json"), "utf8"),
);
// A draft-07 schema (Ajv's default draft); its "$schema" spells the draft's address with https and
// no trailing '#', which Ajv does not recognise as the draft it already knows.
delete schema.$schema;
const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const validate = ajv.compile(schema);

// Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, $$ for a literal $. The
// test's environment is empty of these variables, so defaults apply, as for a first `up`.
function interpolate(value, env) {
  if (typeof value === "string") {
    return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}/g, (all, name, op, fallback) => {
      if (all === "$$") return "$";
      const set = env[name];
      if (op === ":-") return set ? set : fallback;
      if (op === "-") return set !== undefined ? set : fallback;
      assert.ok(set !== undefined, `\${${name}} has no default and is not set`);
      return set;
    });
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env));
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env)]));
  }
  return value;
}

function load(file) {
  const text = readFileSync(path.join(composeDir, file), "utf8");
  const doc = YAML.parse(text, { merge: true });
  return interpolate(doc, {});
}

const files = readdirSync(composeDir).filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"));

test("deploy/compose has the single-broker and the cluster file", () => {
  assert.deepEqual(files.sort(), ["broker.yaml", "cluster.yaml"]);
});

for (const file of files) {
  test(`${file} is valid against the Compose Specification schema`, () => {
    const doc = load(file);
    const ok = validate(doc);
    assert.ok(ok, `${file}: ${ajv.errorsText(validate.errors, { separator: "\n" })}`);
  });

  test(`${file}: every Tern service runs the image's entrypoint with a data volume or none`, () => {
    const doc = load(file);
    for (const [name, service] of Object.entries(doc.services)) {
      assert.ok(service.image, `${name} has an image`);
      assert.equal(service.build?.dockerfile, "deploy/container/Containerfile", `${name} builds from the Containerfile`);
      assert.ok(service.healthcheck?.test, `${name} has a health check`);
      for (const volume of service.volumes ?? []) {
        assert.match(volume, /:\/usr\/local\/tern\/data$/, `${name} mounts its volume on the data directory`);
      }
      for (const port of service.ports ?? []) {
        assert.match(port, /^127\.0\.0\.1:/, `${name} publishes on loopback by default (no auth yet): ${port}`);
      }
    }
  });
}

test("cluster.yaml: node ids 0..n-1, each broker in the peers list, the gateway lists the same brokers", () => {
  const doc = load("cluster.yaml");
  const brokers = Object.entries(doc.services).filter(([, s]) => s.environment?.TERN_NODE_ID !== undefined);
  const size = Number(brokers[0][1].environment.TERN_CLUSTER_SIZE);
  assert.equal(brokers.length, size, "one broker service per node id");
  const ids = brokers.map(([, s]) => Number(s.environment.TERN_NODE_ID)).sort();
  assert.deepEqual(ids, [...Array(size).keys()]);
  for (const [name, service] of brokers) {
    const env = service.environment;
    assert.equal(Number(env.TERN_CLUSTER_SIZE), size, `${name}: cluster size`);
    const peers = env.TERN_PEERS.split(",");
    assert.equal(peers.length, size, `${name}: one peer per broker`);
    // Peers are in node-id order: this broker's own entry names its own service.
    assert.equal(peers[Number(env.TERN_NODE_ID)], `${service.hostname}:26501`, `${name}: own peer entry`);
    assert.ok(doc.services[service.hostname], `${name}: peer name ${service.hostname} is a service`);
    assert.ok(Number(env.TERN_REPLICATION_FACTOR) <= size, `${name}: replication factor <= cluster size`);
    assert.equal(env.TERN_NO_GATEWAY, "true", `${name}: the standalone gateway serves clients`);
  }
  const gateway = doc.services.gateway;
  assert.deepEqual(gateway.command, ["tern-gateway"]);
  assert.equal(gateway.environment.TERN_BROKERS, brokers[0][1].environment.TERN_PEERS);
});
