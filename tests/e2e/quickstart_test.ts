/**
 * End to end: the main job as a user runs it. `dramatis start` runs the quickstart on the tiny
 * model it makes and trains itself, writes a report, and a second run reuses every step. The
 * report is opened in headless Chromium: its charts must draw (compared with the same page whose
 * chart SVGs are swapped for empty boxes of the same size).
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { chromiumAvailable, colouredPixels, screenshot } from "./screenshot.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

async function start(out: string) {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "start", "--out", out, "--json"],
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  assert.equal(r.code, 0, dec.decode(r.stderr).slice(-3000));
  return JSON.parse(dec.decode(r.stdout)) as {
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
    for (const id of ["pretrain", "vector", "sweep", "talk", "valence"]) {
      assert.ok(ids.includes(id), id);
    }
    assert.ok(first.steps.every((s) => s.status === "ran"), JSON.stringify(first.steps));
    assert.ok(first.steps.find((s) => s.id === "talk")!.items > 0);

    const second = await start(out);
    assert.ok(second.steps.every((s) => s.status === "skipped"), JSON.stringify(second.steps));

    const html = await Deno.readTextFile(first.report);
    const charts = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    assert.ok(charts.length >= 3, `the report has ${charts.length} charts`);
    if (!chromiumAvailable) return;
    // Only the charts, stacked in one column, so the window holds them all.
    const layout = "<style>body>*:not(.charts){display:none}</style></head>";
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
