/**
 * End to end: the main job as a user runs it. `dramatis start` runs the quickstart on the tiny
 * model it makes and trains itself in the persona world, writes a report, and a second run reuses
 * every step. The effects the report shows are checked from the run's own metrics (measured with
 * the report's analyses, nothing hard-coded): identity control of single identities ≥ 80% with the
 * base model at chance, a steering dose–response with Spearman ρ ≥ 0.8 at the best layer and a
 * monotone interval band, and a projection gap between positive and negative rollouts whose
 * interval excludes 0. The report is opened in headless Chromium: its charts (the findings' plots
 * included) must draw, compared with the same page whose chart SVGs are swapped for empty boxes.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { loadReportData } from "../../core/report/write_report.ts";
import { chromiumAvailable, colouredPixels, screenshot } from "./screenshot.ts";
import { runCli } from "../cli.ts";

async function start(out: string) {
  const r = await runCli(["start", "--out", out, "--json"]);
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  return JSON.parse(r.stdout) as {
    report: string;
    seconds: number;
    steps: { id: string; status: string; items: number }[];
  };
}

Deno.test("dramatis start runs the quickstart, reuses it on a rerun, and its report draws", async () => {
  const dir = await Deno.makeTempDir({ prefix: "quickstart_" });
  try {
    const out = join(dir, "run");
    const first = await start(out);
    const ids = first.steps.map((s) => s.id);
    for (
      const id of [
        "pretrain",
        "identities",
        "probe",
        "vector",
        "project",
        "sweep",
        "talk",
        "valence",
      ]
    ) {
      assert.ok(ids.includes(id), id);
    }
    assert.ok(first.steps.every((s) => s.status === "ran"), JSON.stringify(first.steps));
    assert.ok(first.steps.find((s) => s.id === "talk")!.items > 0);

    console.log(`quickstart: first run ${first.seconds.toFixed(1)} s`);
    const second = await start(out);
    console.log(`quickstart: second run ${second.seconds.toFixed(1)} s`);
    assert.ok(second.steps.every((s) => s.status === "skipped"), JSON.stringify(second.steps));

    // The effects, measured from the run's metrics by the report's own analyses.
    const { measured: m, findings } = await loadReportData(join(out));
    const singles = m.identity.filter((r) => r.size === 1);
    assert.equal(singles.length, 10, "ten single identities probed");
    for (const r of singles) {
      assert.ok(r.active.value >= 0.8, `${r.set}: identity control ${r.active.value} < 0.8`);
    }
    // Base model at chance: its match rate pooled over the single identities has chance inside
    // its 95% interval.
    const base = m.baseSingles!;
    assert.ok(
      base.lo <= base.chance && base.chance <= base.hi,
      `base rate ${base.value} [${base.lo}, ${base.hi}] is not at chance ${base.chance}`,
    );
    const best = m.bestDose.find((c) => c.step === "sweep" && c.metric === "optimistic");
    assert.ok(best, "a dose-response for the optimistic rate");
    assert.ok(best.rho >= 0.8, `best layer ${best.layer}: ρ = ${best.rho}`);
    assert.ok(best.monotoneBand, `best layer ${best.layer}: the band is not monotone`);
    const gap = m.projection.find((g) => g.step === "project");
    assert.ok(gap, "a projection gap");
    assert.ok(gap.gap.lo > 0, `projection gap ${gap.gap.value} [${gap.gap.lo}, ${gap.gap.hi}]`);
    assert.ok(
      m.grammatical && m.grammatical.value >= 0.8,
      `grammaticality ${m.grammatical?.value}`,
    );
    assert.equal(m.agreement.length, 2);
    assert.deepEqual(
      findings?.map((f) => f.id),
      ["training", "identity", "dose_response", "projection", "agreement"],
    );

    const html = await Deno.readTextFile(first.report);
    const charts = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    assert.ok(charts.length >= 8, `the report has ${charts.length} charts`);
    for (const id of ["identity", "dose_response", "projection", "agreement"]) {
      assert.ok(html.includes(`data-chart="${id}"`), `the report draws the ${id} plot`);
    }
    if (!chromiumAvailable) return;
    // Only the charts, stacked in one column, so the window holds them all.
    const layout = "<style>body>*:not(.charts):not(.finding){display:none}" +
      ".finding>*:not(.charts){display:none}</style></head>";
    const page = html.replace("</head>", layout);
    const blank = page.replace(
      /<svg[^>]*?width="(\d+)" height="(\d+)"[\s\S]*?<\/svg>/g,
      (_svg, w, h) => `<div style="width:${w}px;height:${h}px"></div>`,
    );
    const height = 520 * charts.length;
    const drawn = await screenshot(page, dir, "report", `1400,${height}`);
    const empty = await screenshot(blank, dir, "blank", `1400,${height}`);
    const before = colouredPixels(empty, 0, 0, empty.width, empty.height);
    const after = colouredPixels(drawn, 0, 0, drawn.width, drawn.height);
    assert.ok(before < 500, `the page without charts has ${before} coloured pixels`);
    assert.ok(
      after - before > 4000 * charts.length,
      `${charts.length} charts drew only ${after - before} coloured pixels`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
