// deploy/grafana: the dashboard is well-formed Grafana JSON, every panel queries the dashboard's
// Prometheus data source, every query is valid PromQL (Prometheus's own grammar, lezer-promql),
// and every metric it queries is one a real tern-broker exports (read from its /metrics), so a
// renamed metric breaks this test instead of leaving an empty panel.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parser as promql } from "@prometheus-io/lezer-promql";
import { Broker } from "../compat/lib/broker.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const dashboard = JSON.parse(readFileSync(path.join(here, "../../deploy/grafana/tern-dashboard.json"), "utf8"));
const panels = dashboard.panels.filter((p) => p.type !== "row");
const expressions = panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));

// Metric names in a PromQL expression: Tern's (tern_*) and Prometheus's own `up`.
function metricsIn(expr) {
  return [...expr.matchAll(/\b(tern_[a-z0-9_]+|up)\b(?=\s*[{[(]|\s*$|\s*[-+*/)])/g)].map((m) => m[1]);
}

test("the dashboard is a Grafana dashboard with panels on the Prometheus data source", () => {
  assert.equal(dashboard.uid, "tern-overview");
  assert.ok(dashboard.title);
  assert.ok(panels.length >= 10);
  const variables = dashboard.templating.list.map((v) => v.name);
  assert.deepEqual(variables, ["datasource", "instance", "partition"]);
  const ids = new Set();
  for (const panel of dashboard.panels) {
    assert.ok(!ids.has(panel.id), `panel id ${panel.id} is unique`);
    ids.add(panel.id);
    const { x, y, w, h } = panel.gridPos;
    assert.ok(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0, `${panel.title}: inside the 24-column grid`);
  }
  for (const panel of panels) {
    assert.equal(panel.datasource.uid, "${datasource}", `${panel.title} uses the chosen data source`);
    assert.ok(panel.description, `${panel.title} says what it shows`);
    assert.ok(panel.targets.length > 0 && panel.targets.every((t) => t.expr), `${panel.title} has queries`);
  }
});

// Where the PromQL grammar found an error (Grafana's variables replaced by what they expand to).
function promqlErrors(expr) {
  const plain = expr.replaceAll("$__rate_interval", "1m").replaceAll("$instance", ".*").replaceAll("$partition", ".*");
  const errors = [];
  promql.parse(plain).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`at ${node.from}: ...${plain.slice(node.from, node.from + 20)}`);
    },
  });
  return errors;
}

test("every query is valid PromQL", () => {
  for (const { panel, expr } of expressions) {
    assert.deepEqual(promqlErrors(expr), [], `${panel}: ${expr}`);
  }
  assert.notDeepEqual(promqlErrors("sum(rate(tern_raft_term[1m])"), [], "the grammar finds a missing parenthesis");
});

test("every query names at least one metric", () => {
  for (const { panel, expr } of expressions) {
    assert.ok(metricsIn(expr).length > 0, `${panel}: ${expr}`);
  }
});

const binary = process.env.TERN_BROKER_BIN;
const broker = binary ? new Broker({ args: ["--partitions", "2"] }) : undefined;
after(async () => broker?.cleanup());

test(
  "every metric the dashboard queries is exported by tern-broker's /metrics",
  { skip: binary ? false : "TERN_BROKER_BIN not set (ctest sets it)" },
  async () => {
    await broker.start();
    const text = await broker.metrics();
    // "# TYPE name kind": histograms and summaries are queried through their series suffixes.
    const exported = new Set(["up"]);
    for (const [, name, kind] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      exported.add(name);
      if (kind === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) exported.add(name + suffix);
      if (kind === "summary") for (const suffix of ["_sum", "_count"]) exported.add(name + suffix);
    }
    assert.ok(exported.has("tern_raft_role"), "the broker exports its Raft metrics");
    for (const { panel, expr } of expressions) {
      for (const metric of metricsIn(expr)) {
        assert.ok(exported.has(metric), `${panel}: ${metric} is not exported by tern-broker`);
      }
    }
  },
);
