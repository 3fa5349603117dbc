/**
 * End to end: a report opened in headless Chromium really draws its charts. The page (with each
 * chart pinned to a known cell) is screenshotted twice — as rendered, and with every chart SVG
 * swapped for an empty box of the same size — and in each chart's cell the PNGs (decoded here
 * with node:zlib) must differ by many coloured pixels.
 * Skipped, with a message, when /usr/bin/chromium is not installed.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { MetricRecord } from "../../core/experiment/step_executor.ts";
import { renderReport } from "../../core/report/report_html.ts";
import { chromiumAvailable as available, colouredPixels, screenshot } from "./screenshot.ts";

function metrics(): MetricRecord[] {
  const out: MetricRecord[] = [];
  for (let x = 1; x <= 40; x++) out.push({ step: "fit", name: "loss", value: 3 / Math.sqrt(x), x });
  let index = 0;
  for (const layer of [4, 8, 12]) {
    for (const coefficient of [0, 1, 2, 4]) {
      out.push({
        step: "sweep",
        name: "trait",
        value: layer * coefficient,
        index: index++,
        tags: { layer, coefficient },
      });
    }
  }
  const identities = ["EXT_high", "EXT_low", "AGR_high", "Doctor"];
  for (let i = 0; i < 40; i++) {
    out.push({
      step: "judge",
      name: "score",
      value: (i * 37) % 11,
      index: i,
      tags: { identity: identities[i % 4] },
    });
  }
  return out;
}

Deno.test({
  name: "renderReport() charts draw in headless Chromium",
  ignore: !available,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "report_shot_" });
    try {
      const html = await renderReport({
        name: "screenshot",
        runDir: dir,
        shard: "",
        configHash: "0".repeat(64),
        steps: [],
        metrics: metrics(),
        samples: {},
      });
      const charts = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
      assert.equal(
        charts.length,
        5,
        "loss, sweep heatmap, sweep lines by layer, identity and distribution charts",
      );
      // Pin each chart to a known 560×400 cell so regions can be checked; the sweep group holds
      // the heatmap and then the lines by layer.
      const figures: [string, string, number][] = [
        ["loss", "loss", 1],
        ["sweep", "sweep", 1],
        ["sweep lines", "sweep", 2],
        ["identity", "identity", 1],
        ["distribution", "distribution", 1],
      ];
      const kinds = figures.map(([name]) => name);
      const cell = (i: number) => ({ x: (i % 2) * 600, y: Math.floor(i / 2) * 440 });
      const layout = `<style>body>*:not(.charts){display:none}figure.chart{position:absolute;` +
        `width:560px;height:400px;overflow:hidden;margin:0;padding:0;border:0}${
          figures.map(([, group, nth], i) =>
            `figure[data-chart=${group}]:nth-of-type(${nth}){left:${cell(i).x}px;top:${
              cell(i).y
            }px}`
          ).join("")
        }</style></head>`;
      const page = html.replace("</head>", layout);
      // The same page with each chart replaced by an empty box of its size.
      const blank = page.replace(
        /<svg[^>]*?width="(\d+)" height="(\d+)"[\s\S]*?<\/svg>/g,
        (_svg, w, h) => `<div style="width:${w}px;height:${h}px"></div>`,
      );
      assert.ok(!blank.includes("<svg"));

      const drawn = await screenshot(page, dir, "charts");
      const empty = await screenshot(blank, dir, "blank");
      for (const [i, kind] of kinds.entries()) {
        const { x, y } = cell(i);
        const before = colouredPixels(empty, x, y, 560, 400);
        const after = colouredPixels(drawn, x, y, 560, 400);
        assert.ok(before < 200, `the empty ${kind} cell has ${before} coloured pixels`);
        // A line chart colours a thin stroke; bars and heat cells cover large areas.
        const least = kind === "loss" || kind === "sweep lines" ? 800 : 10_000;
        assert.ok(
          after - before > least,
          `the ${kind} chart drew ${after - before} coloured pixels`,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
