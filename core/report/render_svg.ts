/**
 * Renders a Vega-Lite spec to a standalone SVG string: Vega-Lite compiles it to Vega, and a Vega
 * View with renderer `none` draws it headlessly with `toSVG()`. No browser, canvas or network.
 *
 * @module
 */

import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

/** A Vega-Lite spec as plain JSON (data inline). */
export type VegaLiteSpec = Record<string, unknown>;

/**
 * Renders a Vega-Lite spec to SVG.
 *
 * @example
 * ```ts
 * import { renderSvg } from "./render_svg.ts";
 * const svg = await renderSvg({
 *   data: { values: [{ step: 1, loss: 2 }, { step: 2, loss: 1 }] },
 *   mark: "line",
 *   encoding: { x: { field: "step", type: "quantitative" }, y: { field: "loss", type: "quantitative" } },
 * });
 * console.log(svg.startsWith("<svg")); // true
 * ```
 */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const compiled = compile(spec as unknown as TopLevelSpec).spec;
  // No loader: specs carry their data inline, so nothing may be fetched.
  const view = new vega.View(vega.parse(compiled), {
    renderer: "none",
    loader: { load: () => Promise.reject(new Error("report charts never load external data")) },
  } as unknown as vega.ViewOptions);
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
