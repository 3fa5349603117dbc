/**
 * Heatmap images for persona-vector analyses: cosine matrices (spec B9) and steering sweeps
 * (layer × coefficient → mean judge score). Specs are Vega-Lite, rendered to SVG files by
 * core/report's renderer (`renderSvg`), so nothing is fetched and no browser is needed.
 *
 * @module
 */

import { dirname } from "node:path";
import { renderSvg, type VegaLiteSpec } from "../../core/report/render_svg.ts";
import { writeFileAtomic } from "../../core/util/atomic.ts";
import type { NamedMatrix } from "./geometry.ts";

/**
 * A Vega-Lite heatmap of a named cosine matrix (diverging scale fixed to [-1, 1], values printed).
 *
 * @example
 * ```ts
 * import { cosineHeatmapSpec } from "./heatmap.ts";
 * const spec = cosineHeatmapSpec({ names: ["a", "b"], matrix: [[1, -0.5], [-0.5, 1]] }, "layer 20");
 * console.log((spec.data as { values: unknown[] }).values.length); // 4
 * ```
 */
export function cosineHeatmapSpec(m: NamedMatrix, title: string): VegaLiteSpec {
  const values = m.names.flatMap((a, i) =>
    m.names.map((b, j) => ({ a, b, cos: Number.isFinite(m.matrix[i][j]) ? m.matrix[i][j] : null }))
  );
  const size = Math.max(120, 40 * m.names.length);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: size,
    height: size,
    background: "white",
    data: { values },
    encoding: {
      x: { field: "b", type: "nominal", sort: m.names, title: null },
      y: { field: "a", type: "nominal", sort: m.names, title: null },
    },
    layer: [
      {
        mark: "rect",
        encoding: {
          color: {
            field: "cos",
            type: "quantitative",
            title: "cosine",
            scale: { scheme: "redblue", domain: [-1, 1], reverse: true },
          },
        },
      },
      {
        mark: { type: "text", fontSize: 10 },
        encoding: { text: { field: "cos", type: "quantitative", format: ".2f" } },
      },
    ],
    config: { font: "sans-serif" },
  };
}

/** One cell of a steering sweep. */
export interface SweepCell {
  layer: number;
  coefficient: number;
  /** Mean judge score of the cell's replies (null when every verdict was null). */
  mean: number | null;
  n: number;
}

/**
 * A Vega-Lite heatmap of a steering sweep: coefficient across, layer down, mean score as colour.
 *
 * @example
 * ```ts
 * import { sweepHeatmapSpec } from "./heatmap.ts";
 * const spec = sweepHeatmapSpec([{ layer: 1, coefficient: 2, mean: 40, n: 3 }], "optimistic");
 * console.log(spec.title); // "optimistic"
 * ```
 */
export function sweepHeatmapSpec(cells: readonly SweepCell[], title: string): VegaLiteSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: Math.max(160, 50 * new Set(cells.map((c) => c.coefficient)).size),
    height: Math.max(120, 22 * new Set(cells.map((c) => c.layer)).size),
    background: "white",
    data: { values: cells.map((c) => ({ ...c })) },
    encoding: {
      x: { field: "coefficient", type: "ordinal", title: "coefficient" },
      y: { field: "layer", type: "ordinal", title: "layer (hidden-state index)" },
    },
    layer: [
      {
        mark: "rect",
        encoding: {
          color: {
            field: "mean",
            type: "quantitative",
            title: "mean score",
            scale: { scheme: "viridis", domain: [0, 100] },
          },
        },
      },
      {
        mark: { type: "text", fontSize: 10 },
        encoding: {
          text: { field: "mean", type: "quantitative", format: ".0f" },
          color: { condition: { test: "datum.mean < 45", value: "white" }, value: "black" },
        },
      },
    ],
    config: { font: "sans-serif" },
  };
}

/**
 * Renders a spec to an SVG file (creating the folder).
 *
 * @example
 * ```ts ignore
 * import { cosineHeatmapSpec, writeSvg } from "./heatmap.ts";
 * await writeSvg("runs/cosine_layer20.svg", cosineHeatmapSpec(m, "layer 20"));
 * ```
 */
export async function writeSvg(path: string, spec: VegaLiteSpec): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, await renderSvg(spec));
}
