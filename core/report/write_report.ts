/**
 * Reads a run directory's store and writes its `report.html` and `findings.json` (the measured
 * effects, see `findings.ts`).
 *
 * @module
 */

import { join, resolve } from "node:path";
import { RunStore } from "../experiment/run_store.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import type { ReportSpec } from "../experiment/experiment_schema.ts";
import type { ChartSpec } from "./chart_specs.ts";
import { findingSections, measureFindings, type RunFindings } from "./findings.ts";
import { renderReport, type ReportData } from "./report_html.ts";

/**
 * Collects the report data of a run directory.
 *
 * @example
 * ```ts
 * import { loadReportData } from "./write_report.ts";
 * const data = await loadReportData("runs/demo");
 * console.log(data.steps.length, data.metrics.length);
 * ```
 */
export async function loadReportData(
  runDir: string,
  samples = 3,
): Promise<ReportData & { measured: RunFindings }> {
  const dir = resolve(runDir);
  const store = await RunStore.open(dir);
  try {
    const config = await store.readConfig();
    const steps = store.steps().map((row) => ({
      id: row.id,
      kind: row.kind,
      plugin: row.plugin,
      role: row.role,
      status: row.status,
      items: row.items,
      started_at: row.started_at,
      finished_at: row.finished_at,
      summary: JSON.parse(row.summary ?? "{}") as Record<string, number>,
      error: row.error,
      artifacts: store.artifacts(row.id).map((a) => ({ path: a.path, bytes: a.bytes })),
    }));
    const sample: ReportData["samples"] = {};
    for (const s of steps) {
      if (s.status === "done") sample[s.id] = (await store.readOutput(s.id)).slice(0, samples);
    }
    const merged = config?.merged_from as { dir: string }[] | undefined;
    const metrics = steps.filter((s) => s.status === "done").flatMap((s) => store.metrics(s.id));
    const experiment = (config?.experiment ?? config) as { report?: ReportSpec } | undefined;
    const measured = measureFindings(metrics, experiment?.report);
    return {
      name: store.meta("name") ?? String(config?.name ?? "run"),
      runDir: dir,
      shard: store.meta("shard") ?? "",
      configHash: store.meta("config_hash") ?? "",
      mergedFrom: merged?.map((m) => m.dir),
      steps,
      metrics,
      samples: sample,
      measured,
      findings: findingSections(measured, metrics),
    };
  } finally {
    store.close();
  }
}

/**
 * Renders `report.html` in a run directory and returns its path; each chart is also written as
 * `charts/<title>.svg` beside it.
 *
 * @example
 * ```ts
 * import { writeReport } from "./write_report.ts";
 * console.log(await writeReport("runs/demo")); // …/runs/demo/report.html
 * ```
 */
export async function writeReport(runDir: string): Promise<string> {
  const rendered: { chart: ChartSpec; svg: string }[] = [];
  const data = await loadReportData(runDir);
  const html = await renderReport(data, rendered);
  // Every chart of the report is also a standalone SVG file in the run folder.
  const chartsDir = join(resolve(runDir), "charts");
  const used = new Set<string>();
  for (const { chart, svg } of rendered) {
    let name = chartFileName(chart.title);
    for (let k = 2; used.has(name); k++) name = `${chartFileName(chart.title)}_${k}`;
    used.add(name);
    await Deno.mkdir(chartsDir, { recursive: true });
    await writeFileAtomic(join(chartsDir, `${name}.svg`), svg);
  }
  const path = join(resolve(runDir), "report.html");
  await writeFileAtomic(
    join(resolve(runDir), "findings.json"),
    JSON.stringify(data.measured, null, 1) + "\n",
  );
  await writeFileAtomic(path, html);
  return path;
}

/**
 * The file name (without `.svg`) of a report chart: its title in lower case with runs of other
 * characters turned into `_`.
 *
 * @example
 * ```ts
 * import { chartFileName } from "./write_report.ts";
 * chartFileName("Steering sweep by layer: trait — sweep"); // "steering_sweep_by_layer_trait_sweep"
 * ```
 */
export function chartFileName(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 100) ||
    "chart";
}
