// A large synthetic asset workspace for the graph benchmark and the webview tests: `count` assets in
// groups of ~125 (as Dagster projects group assets by source or domain), each reading one to three
// earlier assets, mostly from its own group (~85 %), otherwise from an earlier group; deterministic.
import type { AssetSnapshot, DefinitionsSnapshot, JobSnapshot, StepSnapshot } from "../src/engine/definitions/snapshot";

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function largeAssetWorkspace(count = 5000, targetEdges = 8000, seed = 42): DefinitionsSnapshot {
  const r = rng(seed);
  const perGroup = 125;
  const groups = Math.ceil(count / perGroup);
  const assets: AssetSnapshot[] = [];
  const steps: StepSnapshot[] = [];
  const byGroup: string[][] = [];
  const meanDeps = targetEdges / count;
  const domains = ["sales", "billing", "crm", "web", "ads", "ops", "finance", "hr", "inventory", "support"];
  for (let g = 0; g < groups; g++) {
    const name = `${domains[g % domains.length]}_${Math.floor(g / domains.length)}`;
    const members: string[] = [];
    byGroup.push(members);
    const n = Math.min(perGroup, count - g * perGroup);
    for (let i = 0; i < n; i++) {
      const key = `${name}__${["raw", "stg", "int", "fct", "dim", "agg", "rpt"][Math.min(6, Math.floor((i / n) * 7))]}_${i}`;
      const deps = new Set<string>();
      if (i > 0 || g > 0) {
        const k = Math.max(1, Math.round(meanDeps + (r() - 0.5) * 1.6));
        for (let d = 0; d < k; d++) {
          if ((r() < 0.85 && i > 0) || g === 0) {
            if (i === 0) continue;
            // mostly near predecessors: layered pipelines
            const back = 1 + Math.floor(r() * Math.min(i, 12) * r());
            deps.add(members[Math.max(0, i - back - Math.floor(r() * 6))]);
          } else {
            const og = byGroup[Math.floor(r() * g)];
            deps.add(og[Math.floor(og.length * (0.5 + r() * 0.5))]);
          }
        }
      }
      members.push(key);
      const pool = r() < 0.05 ? "warehouse" : null;
      const source = { file: `/ws/pipelines/${name}.ts`, line: 10 + i * 6, column: 14 };
      assets.push({ key, node: key, kind: "asset", deps: [...deps].filter(Boolean), group: name, tags: {}, pool, source, outputStep: key });
      steps.push({
        key,
        node: key,
        opName: key,
        inputs: [...deps].filter(Boolean).map((d) => ({ name: d, sources: [{ step: d, output: "result" }], fanIn: false, upstreamAsset: d })),
        outputs: [{ name: "result", isRequired: true }],
        tags: {},
        pool,
        retryPolicy: null,
        configSchema: null,
        source,
        assetKey: key,
      });
    }
  }
  const implicit: JobSnapshot = {
    name: "__ASSET_JOB",
    kind: "assetJob",
    implicit: true,
    description: "Materialize any selection of the workspace's assets.",
    tags: {},
    source: { file: "/ws/pipelines/sales_0.ts", line: 1, column: 1 },
    executor: { name: "multi_or_in_process", builtin: "multi_or_in_process" },
    opRetryPolicy: null,
    steps,
    nodes: assets.map((a) => ({ name: a.node, upstream: a.deps })),
    assetKeys: assets.map((a) => a.key),
  };
  return { workspace: "/ws", loadedAt: Date.now(), files: [], jobs: [implicit], assets, errors: [] };
}
