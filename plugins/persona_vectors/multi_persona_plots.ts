/**
 * Vega-Lite specs of the multi-persona figures (spec B9): the 2-D PCA of vectors, trait
 * projections across finetuning checkpoints, and the cross-persona scatter plots (cosine
 * similarity against relative trait score or finetuning shift, with the least-squares line).
 * Rendered to SVG by core/report's renderer through `writeSvg`.
 *
 * @module
 */

import type { VegaLiteSpec } from "../../core/report/render_svg.ts";
import type { Pca2d } from "./pca.ts";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const CONFIG = { font: "sans-serif", axis: { labelFontSize: 11, titleFontSize: 12 } };

/**
 * Scatter of the PCA view, one labelled point per vector.
 *
 * @example
 * ```ts
 * import { pcaSpec } from "./multi_persona_plots.ts";
 * const s = pcaSpec({ points: [{ name: "a", pc1: 1, pc2: 0 }], explained: [1, 0] }, "PCA");
 * console.log(s.title); // "PCA"
 * ```
 */
export function pcaSpec(pca: Pca2d, title: string): VegaLiteSpec {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  return {
    $schema: SCHEMA,
    title,
    width: 360,
    height: 300,
    background: "white",
    data: { values: pca.points.map((p) => ({ ...p })) },
    encoding: {
      x: { field: "pc1", type: "quantitative", title: `PC1 (${pct(pca.explained[0])})` },
      y: { field: "pc2", type: "quantitative", title: `PC2 (${pct(pca.explained[1])})` },
    },
    layer: [
      {
        mark: { type: "point", filled: true, size: 70 },
        encoding: { color: { field: "name", type: "nominal", legend: null } },
      },
      {
        mark: { type: "text", dy: -10, fontSize: 11 },
        encoding: { text: { field: "name", type: "nominal" } },
      },
    ],
    config: CONFIG,
  };
}

/** One point of a checkpoint series. */
export interface CheckpointPoint {
  step: number;
  /** The series, e.g. the trait whose vector the projection uses. */
  series: string;
  value: number | null;
}

/**
 * Line chart of a value against training step, one line per series (e.g. the projection of a
 * finetuned model's replies onto each trait vector, checkpoint by checkpoint).
 *
 * @example
 * ```ts
 * import { checkpointLinesSpec } from "./multi_persona_plots.ts";
 * const s = checkpointLinesSpec([{ step: 0, series: "evil", value: 1 }], "t", "projection");
 * console.log((s.data as { values: unknown[] }).values.length); // 1
 * ```
 */
export function checkpointLinesSpec(
  points: readonly CheckpointPoint[],
  title: string,
  yTitle: string,
  boundaries: readonly { step: number; label: string }[] = [],
): VegaLiteSpec {
  const values = points.filter((p) => p.value !== null && Number.isFinite(p.value));
  const layers: Record<string, unknown>[] = [{
    data: { values: values.map((p) => ({ ...p })) },
    mark: { type: "line", point: true, tooltip: true },
    encoding: {
      x: { field: "step", type: "quantitative", title: "training step" },
      y: { field: "value", type: "quantitative", title: yTitle, scale: { zero: false } },
      color: { field: "series", type: "nominal", title: "trait vector" },
    },
  }];
  if (boundaries.length) {
    layers.push({
      data: { values: boundaries.map((b) => ({ ...b })) },
      mark: { type: "rule", strokeDash: [4, 3], color: "#888" },
      encoding: { x: { field: "step", type: "quantitative" } },
    });
  }
  return {
    $schema: SCHEMA,
    title,
    width: 420,
    height: 240,
    background: "white",
    layer: layers,
    config: CONFIG,
  };
}

/** One ordered pair of the cross-persona scatter. */
export interface PairPoint {
  a: string;
  b: string;
  cos: number;
  value: number;
}

/**
 * Scatter of cosine similarity (x) against a pair value (relative trait score or relative
 * finetuning shift), labelled `A→B`, with the least-squares line when given.
 *
 * @example
 * ```ts
 * import { pairScatterSpec } from "./multi_persona_plots.ts";
 * const s = pairScatterSpec([{ a: "x", b: "y", cos: 0.5, value: 0.2 }], "t", "relative trait score");
 * console.log(s.title); // "t"
 * ```
 */
export function pairScatterSpec(
  pairs: readonly PairPoint[],
  title: string,
  yTitle: string,
  fit?: { slope: number; intercept: number } | null,
): VegaLiteSpec {
  const values = pairs.map((p) => ({ ...p, pair: `${p.a}→${p.b}` }));
  const layers: Record<string, unknown>[] = [
    {
      data: { values },
      mark: { type: "point", filled: true, size: 60, tooltip: true },
      encoding: {
        x: {
          field: "cos",
          type: "quantitative",
          title: "cosine similarity",
          scale: { domain: [-1, 1] },
        },
        y: { field: "value", type: "quantitative", title: yTitle },
      },
    },
    {
      data: { values },
      mark: { type: "text", dy: -9, fontSize: 10 },
      encoding: {
        x: { field: "cos", type: "quantitative" },
        y: { field: "value", type: "quantitative" },
        text: { field: "pair", type: "nominal" },
      },
    },
  ];
  if (fit && Number.isFinite(fit.slope) && Number.isFinite(fit.intercept)) {
    layers.push({
      data: { values: [-1, 1].map((cos) => ({ cos, value: fit.slope * cos + fit.intercept })) },
      mark: { type: "line", color: "#d62728", strokeDash: [5, 3] },
      encoding: {
        x: { field: "cos", type: "quantitative" },
        y: { field: "value", type: "quantitative" },
      },
    });
  }
  return {
    $schema: SCHEMA,
    title,
    width: 360,
    height: 280,
    background: "white",
    layer: layers,
    config: CONFIG,
  };
}
