import assert from "node:assert/strict";
import type { MetricRecord } from "../experiment/step_executor.ts";
import { findingSections, measureFindings } from "./findings.ts";
import { renderReport } from "./report_html.ts";

/** Items of an identity probe: `rate(set, id)` of the replies express `id`. */
function probe(rate: (set: string, id: string) => number, perSet = 40): MetricRecord[] {
  const sets = ["none", "A_high", "A_low", "B_high", "B_low", "A_high+B_low"];
  const ids = ["A_high", "A_low", "B_high", "B_low"];
  const out: MetricRecord[] = [];
  let index = 0;
  for (const set of sets) {
    for (let k = 0; k < perSet; k++, index++) {
      for (const id of ids) {
        // Deterministic: the first rate·n items of a set express the identity.
        const on = k < Math.round(rate(set, id) * perSet) ? 1 : 0;
        out.push({ step: "probe", name: id, value: on, index, tags: { identities: set } });
      }
    }
  }
  return out;
}

Deno.test("identity control: active, base, placebo and chance follow the metric conventions", () => {
  const metrics = probe((set, id) => {
    if (set === "none") return id.endsWith("high") ? 0.5 : 0.5;
    return set.split("+").includes(id) ? 0.9 : 0.5;
  });
  const f = measureFindings(metrics);
  const a = f.identity.find((r) => r.set === "A_high")!;
  assert.equal(a.active.value, 0.9);
  assert.equal(a.base.value, 0.5);
  // Placebo for A_high: replies made with B_high or B_low alone (no A-factor identity).
  assert.equal(a.placebo.n, 80);
  assert.equal(a.placebo.value, 0.5);
  assert.equal(a.chance, 0.5);
  const combo = f.identity.find((r) => r.set === "A_high+B_low")!;
  assert.equal(combo.chance, 0.25);
  // Both identities must hold: the first 90% of the items express both.
  assert.equal(combo.active.value, 0.9);
  assert.equal(f.baseSingles!.chance, 0.5);
  const sections = findingSections(f, metrics);
  const text = sections.find((s) => s.id === "identity")!.paragraph;
  assert.match(text, /on average 90% of the replies/);
  assert.match(text, /includes chance/);
});

Deno.test("dose–response: means per coefficient, ρ, a monotone band, and the best layer", () => {
  const metrics: MetricRecord[] = [];
  let index = 0;
  for (const layer of [1, 2]) {
    for (const coefficient of [-2, 0, 2]) {
      for (let k = 0; k < 30; k++) {
        // Layer 2 responds to the dose; layer 1 is flat at 0.5.
        const p = layer === 2 ? 0.5 + coefficient * 0.2 : 0.5;
        metrics.push({
          step: "sweep",
          name: "trait",
          value: k < Math.round(p * 30) ? 1 : 0,
          index: index++,
          tags: { layer, coefficient },
        });
      }
    }
  }
  const f = measureFindings(metrics, {
    sweeps: [{ step: "sweep", metric: "trait" }],
    agreement: [],
  });
  assert.equal(f.dose.length, 2);
  const best = f.bestDose[0];
  assert.equal(best.layer, 2);
  assert.equal(best.rho, 1);
  assert.ok(best.monotoneBand);
  assert.deepEqual(best.points.map((p) => Number(p.mean.toFixed(2))), [0.1, 0.5, 0.9]);
  assert.ok(Number.isNaN(f.dose[0].rho), "a flat curve has no rank correlation");
  // Without a `sweeps` entry only metrics named `score` are drawn.
  assert.equal(measureFindings(metrics).dose.length, 0);
});

Deno.test("projection gap and judge agreement; the report renders every section with its paragraph", async () => {
  const metrics: MetricRecord[] = [];
  for (let i = 0; i < 20; i++) {
    metrics.push({
      step: "project",
      name: "proj",
      value: 3 + (i % 5) * 0.1,
      index: i,
      tags: { polarity: "pos" },
    });
    metrics.push({
      step: "project",
      name: "proj",
      value: 1 + (i % 5) * 0.1,
      index: 20 + i,
      tags: { polarity: "neg" },
    });
    const truth = i % 3 - 1;
    metrics.push({
      step: "sweep",
      name: "valence",
      value: truth,
      index: i,
      tags: { layer: 1, coefficient: truth },
    });
    metrics.push({ step: "good", name: "score", value: truth * 2 + 0.01 * i, index: i });
    metrics.push({ step: "bad", name: "score", value: (i * 7) % 5, index: i });
  }
  const spec = {
    sweeps: [],
    agreement: [{
      truth: { step: "sweep", metric: "valence" },
      judges: [{ step: "good", metric: "score", label: "good judge" }, {
        step: "bad",
        metric: "score",
      }],
    }],
  };
  const f = measureFindings(metrics, spec);
  assert.ok(Math.abs(f.projection[0].gap.value - 2) < 1e-12);
  assert.ok(f.projection[0].gap.lo > 1.5);
  assert.equal(f.agreement[0].rho.n, 20);
  assert.ok(f.agreement[0].rho.value > 0.9);
  assert.ok(Math.abs(f.agreement[1].rho.value) < 0.5);
  const sections = findingSections(f, metrics);
  assert.match(sections.find((s) => s.id === "projection")!.paragraph, /excludes 0/);
  assert.match(sections.find((s) => s.id === "agreement")!.paragraph, /good judge: ρ = 0\.9/);
  const html = await renderReport({
    name: "t",
    runDir: "/tmp/t",
    shard: "",
    configHash: "",
    steps: [],
    metrics,
    samples: {},
    findings: sections,
  });
  for (const s of sections) {
    assert.ok(html.includes(`data-finding="${s.id}"`), s.id);
  }
  assert.ok(html.includes('data-chart="projection"'));
  assert.ok(html.includes("What this shows."));
});
