import assert from "node:assert/strict";
import { join } from "node:path";
import { parseExperiment } from "../experiment/load_experiment.ts";
import { runExperiment } from "../experiment/run_experiment.ts";
import {
  echoFactory,
  resetToy,
  toyExperiment,
  toyRegistry,
} from "../experiment/testing/toy_plugin.ts";
import { renderReport } from "./report_html.ts";
import { renderSvg } from "./render_svg.ts";
import { writeReport } from "./write_report.ts";

Deno.test("renderSvg() draws a Vega-Lite bar chart as SVG with one rect per bar", async () => {
  const svg = await renderSvg({
    data: { values: [{ k: "a", v: 1 }, { k: "b", v: 3 }, { k: "c", v: 2 }] },
    mark: "bar",
    encoding: { x: { field: "k", type: "nominal" }, y: { field: "v", type: "quantitative" } },
  });
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  const bars = svg.match(
    /role-mark marks"[^>]*aria-roledescription="rect mark container"[\s\S]*?<\/g>/,
  );
  assert.ok(bars, "a rect mark group");
  assert.equal((bars[0].match(/<path /g) ?? []).length, 3);
});

Deno.test("renderReport() inlines SVG charts for the metrics given and escapes text", async () => {
  const html = await renderReport({
    name: "demo<x>",
    runDir: "/runs/demo",
    shard: "",
    configHash: "0123456789abcdef",
    steps: [{
      id: "fit",
      kind: "train",
      plugin: "toy",
      role: "fit",
      status: "done",
      items: 1,
      started_at: "2024-01-01T00:00:00Z",
      finished_at: "2024-01-01T00:00:02Z",
      summary: { "mean.score": 0.5 },
      error: null,
      artifacts: [{ path: "adapter.json", bytes: 10 }],
    }],
    metrics: [
      { step: "fit", name: "loss", value: 2, x: 1 },
      { step: "fit", name: "loss", value: 1, x: 2 },
      { step: "sw", name: "s", value: 1, index: 0, tags: { layer: 1, coefficient: 0 } },
      { step: "j", name: "score", value: 4, index: 0 },
    ],
    samples: { fit: [{ index: 0, key: "train", output: { note: "<b>" } }] },
  });
  assert.equal((html.match(/<svg /g) ?? []).length, 3);
  assert.equal((html.match(/<figure class="chart"/g) ?? []).length, 3);
  assert.ok(html.includes("demo&lt;x&gt;"));
  assert.ok(html.includes("&lt;b&gt;"));
  assert.ok(html.includes("2.0 s"));
  // self-contained: no scripts and no external resources
  assert.ok(!/<script|<link|src=|@import/i.test(html));
  assert.ok(!/href="http/i.test(html));
});

Deno.test("writeReport() writes report.html for a run directory with all chart kinds", async () => {
  resetToy();
  const dir = await Deno.makeTempDir({ prefix: "report_" });
  try {
    const raw = await toyExperiment(dir);
    const out = join(dir, "run");
    await runExperiment({ experiment: parseExperiment(raw, "t"), raw, source: "t", baseDir: dir }, {
      registry: toyRegistry(),
      modelFactory: echoFactory,
      out,
    });
    const path = await writeReport(out);
    assert.equal(path, join(out, "report.html"));
    const html = await Deno.readTextFile(path);
    for (const group of ["loss", "series", "sweep", "identity", "distribution"]) {
      assert.ok(html.includes(`data-chart="${group}"`), group);
    }
    assert.ok(html.includes("toy-exp"));
    assert.ok(html.includes("null_verdicts"));
    // Every chart is also an SVG file in the run folder, the sweep's lines by layer among them.
    const files: string[] = [];
    for await (const e of Deno.readDir(join(out, "charts"))) files.push(e.name);
    assert.equal(files.length, (html.match(/<figure class="chart"/g) ?? []).length);
    const lines = files.find((f) => f.startsWith("steering_sweep_by_layer_"));
    assert.ok(lines, `no sweep line chart among ${files.join(", ")}`);
    assert.match(await Deno.readTextFile(join(out, "charts", lines)), /^<svg/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
