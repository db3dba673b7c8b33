// deploy/kubernetes: the Kustomize base and every overlay render with `kubectl kustomize`
// (offline: it only reads files) and every object is valid against the Kubernetes 1.33 OpenAPI
// schemas compiled into kubernetes-models (and the Prometheus Operator's CRD schema for the
// ServiceMonitor), installed by `npm ci`. Those schemas, like Kubernetes' own, let unknown fields
// through, so the objects are also type-checked against the same package's TypeScript types,
// where a misspelt field is an error. Then the cluster's own rules: replicas equal the
// configured cluster size, probes on the monitoring endpoints, a disruption budget that keeps a
// quorum, peers that resolve through the headless Service. Skipped where kubectl is missing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const k8sDir = path.join(here, "../../deploy/kubernetes");
const kubectl = process.env.KUBECTL || "kubectl";

function hasKubectl() {
  try {
    execFileSync(kubectl, ["version", "--client"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const skip = hasKubectl() ? false : "kubectl is not installed (it renders the Kustomize manifests)";

const kustomizations = [
  "base",
  ...readdirSync(path.join(k8sDir, "overlays")).map((o) => `overlays/${o}`),
];

function render(dir) {
  const text = execFileSync(kubectl, ["kustomize", path.join(k8sDir, dir)], { encoding: "utf8" });
  return YAML.parseAllDocuments(text).map((d) => d.toJS()).filter(Boolean);
}

// The model class that validates an object of this apiVersion and kind.
async function modelFor({ apiVersion, kind }) {
  const module =
    apiVersion === "monitoring.coreos.com/v1"
      ? `@kubernetes-models/prometheus-operator/${apiVersion}/${kind}`
      : `kubernetes-models/${apiVersion}/${kind}`;
  const loaded = await import(module);
  return loaded[kind];
}

function find(objects, kind, name) {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `a ${kind} named ${name}`);
  return found;
}

function envOf(container, objects) {
  // Plain values plus the ConfigMaps the container takes whole (envFrom) or by key.
  const env = {};
  for (const from of container.envFrom ?? []) {
    Object.assign(env, find(objects, "ConfigMap", from.configMapRef.name).data);
  }
  for (const entry of container.env ?? []) {
    const ref = entry.valueFrom?.configMapKeyRef;
    env[entry.name] = ref ? find(objects, "ConfigMap", ref.name).data[ref.key] : entry.value;
  }
  return env;
}

test("deploy/kubernetes has the base and the overlays", () => {
  assert.ok(existsSync(path.join(k8sDir, "base/kustomization.yaml")));
  assert.ok(kustomizations.includes("overlays/single"));
});

for (const dir of kustomizations) {
  test(`${dir}: every rendered object is valid against its Kubernetes schema`, { skip }, async () => {
    const objects = render(dir);
    assert.ok(objects.length >= 6, `${dir} renders the broker, its services, budget and gateway`);
    for (const object of objects) {
      const Model = await modelFor(object);
      const where = `${dir}: ${object.kind}/${object.metadata?.name}`;
      assert.doesNotThrow(() => new Model(object).validate(), (error) => `${where}: ${error.message}`);
    }
  });

  test(`${dir}: brokers, peers, probes and budget fit together`, { skip }, () => {
    const objects = render(dir);
    const brokers = find(objects, "StatefulSet", "tern-broker");
    const container = brokers.spec.template.spec.containers[0];
    const env = envOf(container, objects);
    const size = Number(env.TERN_CLUSTER_SIZE);
    assert.equal(brokers.spec.replicas, size, "replicas = TERN_CLUSTER_SIZE");
    assert.ok(Number(env.TERN_REPLICATION_FACTOR) <= size, "replication factor <= cluster size");
    assert.ok(Number(env.TERN_PARTITIONS) >= 1);
    assert.equal(brokers.spec.podManagementPolicy, "Parallel", "brokers start together");
    assert.equal(env.TERN_NODE_ID, undefined, "node id comes from the pod ordinal");

    // Peers: tern-broker-{}.<headless service>..., the service publishing not-ready pods.
    const headless = find(objects, "Service", brokers.spec.serviceName);
    assert.equal(headless.spec.clusterIP, "None");
    assert.equal(headless.spec.publishNotReadyAddresses, true);
    assert.ok(
      env.TERN_PEER_TEMPLATE.startsWith(`${brokers.metadata.name}-{}.${headless.metadata.name}.`),
      env.TERN_PEER_TEMPLATE,
    );
    assert.match(env.TERN_PEER_TEMPLATE, /:26501$/);
    for (const [key, value] of Object.entries(headless.spec.selector)) {
      assert.equal(brokers.spec.template.metadata.labels[key], value, `service selects brokers by ${key}`);
    }

    // Probes on the monitoring port; the port is what TERN_MONITORING_ADDRESS binds.
    const monitoringPort = container.ports.find((p) => p.name === "monitoring").containerPort;
    assert.equal(env.TERN_MONITORING_ADDRESS, `0.0.0.0:${monitoringPort}`);
    assert.equal(container.readinessProbe.httpGet.path, "/ready");
    assert.equal(container.livenessProbe.httpGet.path, "/health");
    assert.equal(container.readinessProbe.httpGet.port, "monitoring");
    assert.equal(container.livenessProbe.httpGet.port, "monitoring");

    // Data in a directory of its own on the persistent volume.
    const claim = brokers.spec.volumeClaimTemplates[0].metadata.name;
    const mount = container.volumeMounts.find((m) => m.name === claim);
    assert.equal(mount?.mountPath, "/usr/local/tern/data");
    assert.ok(env.TERN_DATA_DIR.startsWith(`${mount.mountPath}/`), env.TERN_DATA_DIR);

    // At most one broker away at a time: a quorum of 3 replicas survives.
    const budget = find(objects, "PodDisruptionBudget", "tern-broker");
    assert.equal(budget.spec.maxUnavailable, 1);
    assert.deepEqual(budget.spec.selector.matchLabels, brokers.spec.selector.matchLabels);

    // The gateway lists the same brokers.
    const gateway = find(objects, "Deployment", "tern-gateway");
    const gatewayEnv = envOf(gateway.spec.template.spec.containers[0], objects);
    assert.equal(gatewayEnv.TERN_PEER_TEMPLATE, env.TERN_PEER_TEMPLATE);
    assert.equal(gatewayEnv.TERN_CLUSTER_SIZE, env.TERN_CLUSTER_SIZE);
    assert.deepEqual(gateway.spec.template.spec.containers[0].args, ["tern-gateway"]);
  });
}

// Writes every rendered object as a typed constant (`const o3: IStatefulSet = {...}`) and runs the
// TypeScript compiler: an object literal may only name fields its type declares.
function typeCheck(objectsByDir) {
  // Inside node_modules (ignored by git) so that the compiler resolves the installed packages.
  const dir = path.join(here, "node_modules/.tern-deploy-typecheck");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const lines = [];
  let n = 0;
  for (const [where, objects] of objectsByDir) {
    for (const object of objects) {
      const module =
        object.apiVersion === "monitoring.coreos.com/v1"
          ? `@kubernetes-models/prometheus-operator/${object.apiVersion}/${object.kind}`
          : `kubernetes-models/${object.apiVersion}/${object.kind}`;
      n++;
      lines.push(`// ${where}: ${object.kind}/${object.metadata.name}`);
      lines.push(`import type { I${object.kind} as T${n} } from "${module}";`);
      lines.push(`export const o${n}: T${n} = ${JSON.stringify(object, null, 1)};`);
    }
  }
  const file = path.join(dir, "manifests.ts");
  writeFileSync(file, lines.join("\n") + "\n");
  const tsc = path.join(here, "node_modules/typescript/bin/tsc");
  try {
    execFileSync(process.execPath, [tsc, "--noEmit", "--strict", "--skipLibCheck", "--target", "es2022",
      "--module", "nodenext", "--moduleResolution", "nodenext", file], { encoding: "utf8" });
    return { ok: true, output: "", file };
  } catch (error) {
    return { ok: false, output: `${error.stdout}${error.stderr}`, file };
  }
}

test("no rendered object has a field its Kubernetes type does not declare", { skip }, () => {
  const result = typeCheck(kustomizations.map((dir) => [dir, render(dir)]));
  assert.ok(result.ok, `unknown or mistyped fields (${result.file}):\n${result.output}`);
});

test("the type check catches a misspelt field", { skip }, () => {
  const brokers = structuredClone(find(render("base"), "StatefulSet", "tern-broker"));
  brokers.spec.template.spec.containers[0].readinesProbe = brokers.spec.template.spec.containers[0].readinessProbe;
  const result = typeCheck([["base, misspelt", [brokers]]]);
  assert.equal(result.ok, false);
  assert.match(result.output, /readinesProbe/);
});

// The container environment Kubernetes would give a pod: plain values, ConfigMap entries, the
// namespace from the downward API, and $(VAR) references expanded as the kubelet does.
function podEnvironment(container, objects, namespace) {
  const env = {};
  for (const from of container.envFrom ?? []) {
    Object.assign(env, find(objects, "ConfigMap", from.configMapRef.name).data);
  }
  for (const entry of container.env ?? []) {
    let value;
    if (entry.valueFrom?.fieldRef?.fieldPath === "metadata.namespace") value = namespace;
    else if (entry.valueFrom?.configMapKeyRef) {
      const ref = entry.valueFrom.configMapKeyRef;
      value = find(objects, "ConfigMap", ref.name).data[ref.key];
    } else value = entry.value.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (all, name) => env[name] ?? all);
    env[entry.name] = value;
  }
  return env;
}

// Runs the image's entrypoint with that environment and a stand-in for the program that prints
// the TERN_* settings the real one would read.
function settingsSeenBy(program, hostname, env) {
  const bin = mkdtempSync(path.join(tmpdir(), "tern-k8s-entrypoint-"));
  writeFileSync(path.join(bin, program), "#!/bin/sh\nenv | grep '^TERN_' | sort\n");
  chmodSync(path.join(bin, program), 0o755);
  const entrypoint = path.join(here, "../../deploy/container/tern-entrypoint.sh");
  const result = spawnSync(entrypoint, [program], {
    env: { PATH: `${bin}:/usr/bin:/bin`, HOSTNAME: hostname, ...env },
    encoding: "utf8",
  });
  rmSync(bin, { recursive: true, force: true });
  assert.equal(result.status, 0, result.stderr);
  return Object.fromEntries(result.stdout.split("\n").filter(Boolean).map((l) => l.split(/=(.*)/s).slice(0, 2)));
}

for (const dir of kustomizations) {
  test(`${dir}: each broker pod gets its ordinal as node id and every peer's stable name`, { skip }, () => {
    const objects = render(dir);
    const brokers = find(objects, "StatefulSet", "tern-broker");
    const headless = find(objects, "Service", brokers.spec.serviceName);
    const env = podEnvironment(brokers.spec.template.spec.containers[0], objects, "tern");
    const size = brokers.spec.replicas;
    const names = [...Array(size).keys()].map(
      (i) => `${brokers.metadata.name}-${i}.${headless.metadata.name}.tern.svc.cluster.local:26501`,
    );
    for (let ordinal = 0; ordinal < size; ordinal++) {
      const seen = settingsSeenBy("tern-broker", `${brokers.metadata.name}-${ordinal}`, env);
      assert.equal(seen.TERN_NODE_ID, String(ordinal));
      assert.deepEqual(seen.TERN_PEERS.split(","), names);
      assert.equal(seen.TERN_CLUSTER_SIZE, String(size));
    }
    const gateway = find(objects, "Deployment", "tern-gateway");
    const gatewayEnv = podEnvironment(gateway.spec.template.spec.containers[0], objects, "tern");
    const seen = settingsSeenBy("tern-gateway", "tern-gateway-5f7d9c-x2k4q", gatewayEnv);
    assert.deepEqual(seen.TERN_BROKERS.split(","), names);
  });
}

test("the schemas catch a mistake (the validation is not vacuous)", { skip }, async () => {
  const objects = render("base");
  const brokers = structuredClone(find(objects, "StatefulSet", "tern-broker"));
  brokers.spec.template.spec.containers[0].ports[0].containerPort = "26501";
  const Model = await modelFor(brokers);
  assert.throws(() => new Model(brokers).validate(), /containerPort/);
});
