/**
 * The steering figure of the persona-vectors paper: a score (trait expression, coherence) against
 * the steering layer, one line per coefficient. One Vega-Lite spec shared by the run report and the
 * `persona_vectors sweep` command, rendered to SVG by {@link renderSvg}.
 *
 * @module
 */

import type { VegaLiteSpec } from "./render_svg.ts";

/** One point of a sweep: the mean score of the replies steered at (layer, coefficient). */
export interface SweepPoint {
  layer: number;
  coefficient: number;
  /** Mean score of the cell (null when every verdict was null: the point is left out). */
  mean: number | null;
  /** Replies behind the mean. */
  n: number;
}

/** Options of {@link sweepLinesSpec}. */
export interface SweepLinesOptions {
  title: string;
  /** Name of the score on the y axis, e.g. `optimistic` or `coherence`. */
  score: string;
  /** Fixed y domain, e.g. `[0, 100]` for judge scores; default: fitted to the data. */
  domain?: [number, number];
  width?: number;
  height?: number;
}

/**
 * A line chart of mean score against layer (hidden-state index), coloured by coefficient, with
 * points on the measured layers. Points with a null mean are dropped (the line breaks there).
 *
 * @example
 * ```ts
 * import { sweepLinesSpec } from "./sweep_lines.ts";
 * const spec = sweepLinesSpec([
 *   { layer: 8, coefficient: 1, mean: 30, n: 5 },
 *   { layer: 12, coefficient: 1, mean: 55, n: 5 },
 * ], { title: "optimistic by layer", score: "optimistic", domain: [0, 100] });
 * console.log((spec.data as { values: unknown[] }).values.length); // 2
 * ```
 */
export function sweepLinesSpec(
  points: readonly SweepPoint[],
  options: SweepLinesOptions,
): VegaLiteSpec {
  const values = points.filter((p) => p.mean !== null && Number.isFinite(p.mean))
    .map((p) => ({ layer: p.layer, coefficient: String(p.coefficient), mean: p.mean, n: p.n }));
  const coefficients = [...new Set(points.map((p) => p.coefficient))].sort((a, b) => a - b)
    .map(String);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: options.title,
    width: options.width ?? 380,
    height: options.height ?? 220,
    background: "white",
    data: { values },
    mark: { type: "line", point: true, tooltip: true },
    encoding: {
      x: {
        field: "layer",
        type: "quantitative",
        title: "layer (hidden-state index)",
        axis: { tickMinStep: 1, format: "d" },
        scale: { zero: false },
      },
      y: {
        field: "mean",
        type: "quantitative",
        title: `mean ${options.score}`,
        ...(options.domain ? { scale: { domain: options.domain } } : {}),
      },
      color: {
        field: "coefficient",
        type: "ordinal",
        title: "coefficient",
        sort: coefficients,
        scale: { scheme: "viridis", domain: coefficients },
      },
    },
    config: { font: "sans-serif", axis: { labelFontSize: 11, titleFontSize: 12 } },
  };
}
