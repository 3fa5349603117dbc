/**
 * Chooses the report's charts from the metrics a run recorded, and writes their Vega-Lite specs:
 *
 * - loss curves: metrics with `x` (training steps) whose name contains `loss`, one line chart per
 *   step; other series (learning rate, throughput) one line chart each;
 * - steering sweeps: metrics tagged with numeric `layer` and `coefficient`, one layer × coefficient
 *   heatmap of the mean per step and metric name, and one line chart of the mean against layer
 *   with a line per coefficient (the paper's steering figure);
 * - trait scores by identity: metrics tagged with `identity`, one bar chart of the mean per step
 *   and metric name;
 * - score distributions: every per-item metric outside sweeps (judge scores, also those shown by
 *   identity), one histogram per step and metric name.
 *
 * @module
 */

import type { MetricRecord } from "../experiment/step_executor.ts";
import type { VegaLiteSpec } from "./render_svg.ts";
import { sweepLinesSpec } from "./sweep_lines.ts";

/** A chart of the report. */
export interface ChartSpec {
  /** What the chart shows; the report groups charts by it. */
  group: "loss" | "series" | "sweep" | "identity" | "distribution" | "finding";
  title: string;
  caption: string;
  spec: VegaLiteSpec;
}

const WIDTH = 380;
const HEIGHT = 220;
const MAX_POINTS = 2000;

function base(title: string, values: unknown[]): VegaLiteSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: WIDTH,
    height: HEIGHT,
    background: "white",
    data: { values },
    config: { font: "sans-serif", axis: { labelFontSize: 11, titleFontSize: 12 } },
  };
}

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** Keeps at most `max` points of a series, evenly spaced, always with the last one. */
function thin<T>(points: T[], max = MAX_POINTS): T[] {
  if (points.length <= max) return points;
  const stride = points.length / max;
  const out = Array.from({ length: max - 1 }, (_, i) => points[Math.floor(i * stride)]);
  out.push(points[points.length - 1]);
  return out;
}

function isSweep(m: MetricRecord): boolean {
  return typeof m.tags?.layer === "number" && typeof m.tags?.coefficient === "number";
}

function lineChart(title: string, metrics: MetricRecord[], logY: boolean): VegaLiteSpec {
  const values = [...groupBy(metrics, (m) => m.name)].flatMap(([, ms]) =>
    thin(ms.slice().sort((a, b) => a.x! - b.x!)).map((m) => ({
      step: m.x,
      value: m.value,
      series: m.name,
    }))
  );
  return {
    ...base(title, values),
    mark: { type: "line", point: values.length <= 60, strokeWidth: 2 },
    encoding: {
      x: { field: "step", type: "quantitative", title: "training step" },
      y: {
        field: "value",
        type: "quantitative",
        title: metrics[0].name.includes("loss") ? "loss" : metrics[0].name,
        axis: { format: "~g" },
        scale: logY ? { type: "log" } : { zero: false },
      },
      ...(new Set(values.map((v) => v.series)).size > 1
        ? { color: { field: "series", type: "nominal", title: null } }
        : {}),
    },
  };
}

/**
 * The charts for a run's metrics; `kinds` maps step ids to step kinds (for captions).
 *
 * @example
 * ```ts
 * import { chooseCharts } from "./chart_specs.ts";
 * const charts = chooseCharts([
 *   { step: "fit", name: "loss", value: 2, x: 1 },
 *   { step: "fit", name: "loss", value: 1, x: 2 },
 * ]);
 * console.log(charts.map((c) => c.title)); // ["Loss — fit"]
 * ```
 */
export function chooseCharts(
  metrics: MetricRecord[],
  kinds: Record<string, string> = {},
): ChartSpec[] {
  const charts: ChartSpec[] = [];
  const kindOf = (step: string) => kinds[step] ? `${kinds[step]} step '${step}'` : `step '${step}'`;

  // Series over training steps.
  for (const [step, ms] of groupBy(metrics.filter((m) => m.x !== undefined), (m) => m.step)) {
    const losses = ms.filter((m) => m.name.includes("loss"));
    if (losses.length) {
      const positive = losses.every((m) => m.value > 0);
      const span = positive
        ? Math.max(...losses.map((m) => m.value)) / Math.min(...losses.map((m) => m.value))
        : 1;
      charts.push({
        group: "loss",
        title: `Loss — ${step}`,
        caption: `Loss per training step of ${kindOf(step)}${span > 50 ? " (log scale)" : ""}.`,
        spec: lineChart(`Loss — ${step}`, losses, span > 50),
      });
    }
    for (
      const [name, series] of groupBy(ms.filter((m) => !m.name.includes("loss")), (m) => m.name)
    ) {
      charts.push({
        group: "series",
        title: `${name} — ${step}`,
        caption: `${name} per training step of ${kindOf(step)}.`,
        spec: lineChart(`${name} — ${step}`, series, false),
      });
    }
  }

  const perItem = metrics.filter((m) => m.x === undefined && m.index !== undefined);

  // Steering sweeps: layer × coefficient heatmaps of the mean.
  for (const [key, ms] of groupBy(perItem.filter(isSweep), (m) => `${m.step}\u0000${m.name}`)) {
    const [step, name] = key.split("\u0000");
    const cells = [...groupBy(ms, (m) => `${m.tags!.layer}\u0000${m.tags!.coefficient}`).values()]
      .map((c) => ({
        layer: c[0].tags!.layer as number,
        coefficient: c[0].tags!.coefficient as number,
        mean: c.reduce((a, m) => a + m.value, 0) / c.length,
        n: c.length,
      }));
    const title = `Steering sweep: ${name} — ${step}`;
    // Labels on the dark (low) end of viridis are drawn white, the rest black.
    const lo = Math.min(...cells.map((c) => c.mean));
    const hi = Math.max(...cells.map((c) => c.mean));
    const dark = lo + (hi - lo) * 0.45;
    charts.push({
      group: "sweep",
      title,
      caption: `Mean ${name} of steered replies by layer (hidden-state index) and coefficient, ` +
        `${kindOf(step)}; ${ms.length} replies.`,
      spec: {
        ...base(title, cells),
        encoding: {
          x: {
            field: "coefficient",
            type: "ordinal",
            title: "coefficient",
            sort: "ascending",
            axis: { labelAngle: 0 },
          },
          y: { field: "layer", type: "ordinal", title: "layer", sort: "descending" },
        },
        layer: [
          {
            mark: { type: "rect" },
            encoding: {
              color: {
                field: "mean",
                type: "quantitative",
                title: `mean ${name}`,
                scale: { scheme: "viridis" },
              },
            },
          },
          {
            mark: { type: "text", fontSize: 11 },
            encoding: {
              text: { field: "mean", type: "quantitative", format: ".2~f" },
              color: {
                condition: { test: `datum.mean <= ${dark} && ${hi > lo}`, value: "white" },
                value: "black",
              },
            },
          },
        ],
      },
    });
    if (new Set(cells.map((c) => c.layer)).size > 1) {
      const lines = `Steering sweep by layer: ${name} — ${step}`;
      charts.push({
        group: "sweep",
        title: lines,
        caption: `Mean ${name} of steered replies against layer (hidden-state index), one line ` +
          `per coefficient, ${kindOf(step)}.`,
        spec: sweepLinesSpec(cells, { title: lines, score: name, width: WIDTH, height: HEIGHT }),
      });
    }
  }

  // Scores by identity.
  const identity = perItem.filter((m) => !isSweep(m) && typeof m.tags?.identity === "string");
  for (const [key, ms] of groupBy(identity, (m) => `${m.step}\u0000${m.name}`)) {
    const [step, name] = key.split("\u0000");
    const bars = [...groupBy(ms, (m) => String(m.tags!.identity))].map(([id, c]) => ({
      identity: id,
      mean: c.reduce((a, m) => a + m.value, 0) / c.length,
      n: c.length,
    }));
    const title = `${name} by identity — ${step}`;
    charts.push({
      group: "identity",
      title,
      caption: `Mean ${name} per identity, ${kindOf(step)} (${ms.length} items).`,
      spec: {
        ...base(title, bars),
        mark: { type: "bar", tooltip: true },
        encoding: {
          x: {
            field: "identity",
            type: "nominal",
            title: "identity",
            sort: null,
            axis: { labelAngle: -30 },
          },
          y: { field: "mean", type: "quantitative", title: `mean ${name}` },
          color: { field: "identity", type: "nominal", legend: null },
        },
      },
    });
  }

  // Distributions of per-item scores.
  const rest = perItem.filter((m) => !isSweep(m));
  for (const [key, ms] of groupBy(rest, (m) => `${m.step}\u0000${m.name}`)) {
    const [step, name] = key.split("\u0000");
    const title = `Distribution of ${name} — ${step}`;
    charts.push({
      group: "distribution",
      title,
      caption: `Histogram of ${name} over ${ms.length} items, ${kindOf(step)}.`,
      spec: {
        ...base(title, ms.map((m) => ({ value: m.value }))),
        mark: { type: "bar", color: "#4c78a8" },
        encoding: {
          x: { field: "value", type: "quantitative", bin: { maxbins: 20 }, title: name },
          y: { aggregate: "count", type: "quantitative", title: "items" },
        },
      },
    });
  }
  return charts;
}
