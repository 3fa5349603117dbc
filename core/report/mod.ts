/**
 * Run reports: a self-contained `report.html` per run directory with the steps, charts rendered
 * to inline SVG (Vega-Lite → Vega → SVG, chosen by the metrics present: loss curves, steering
 * sweep heatmaps and score-against-layer lines per coefficient, scores by identity, score distributions) and sample outputs.
 *
 * @example
 * ```ts
 * import { writeReport } from "./mod.ts";
 * console.log(await writeReport("runs/demo"));
 * ```
 *
 * @module
 */

export * from "./chart_specs.ts";
export * from "./render_svg.ts";
export * from "./report_html.ts";
export * from "./sweep_lines.ts";
export * from "./write_report.ts";
