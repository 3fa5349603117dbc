/**
 * The report page: a self-contained HTML document (inline CSS and SVG, no scripts, no network)
 * with the run's steps, its charts and a few sample outputs per step.
 *
 * @module
 */

import type { MetricRecord, OutputRecord } from "../experiment/step_executor.ts";
import { type ChartSpec, chooseCharts } from "./chart_specs.ts";
import type { Finding } from "./findings.ts";
import { renderSvg } from "./render_svg.ts";

/** A step as the report shows it. */
export interface ReportStep {
  id: string;
  kind: string;
  plugin: string;
  role: string | null;
  status: string;
  items: number | null;
  started_at: string | null;
  finished_at: string | null;
  summary: Record<string, number>;
  error: string | null;
  artifacts: { path: string; bytes: number }[];
}

/** Everything the report needs. */
export interface ReportData {
  name: string;
  runDir: string;
  /** `i/n`, or empty for an unsharded (or merged) run. */
  shard: string;
  configHash: string;
  mergedFrom?: string[];
  steps: ReportStep[];
  metrics: MetricRecord[];
  /** The first few output records per step. */
  samples: Record<string, OutputRecord[]>;
  /** Measured effects with their "what this shows" paragraphs (see `findings.ts`). */
  findings?: Finding[];
}

/** Escapes text for HTML. */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );
}

function num(v: number): string {
  return Number.isInteger(v)
    ? String(v)
    : Math.abs(v) >= 1000 || Math.abs(v) < 0.01
    ? v.toPrecision(3)
    : v.toFixed(3);
}

function duration(a: string | null, b: string | null): string {
  if (!a || !b) return "";
  const s = (Date.parse(b) - Date.parse(a)) / 1000;
  return s < 60 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function bytes(n: number): string {
  return n < 1024
    ? `${n} B`
    : n < 1024 ** 2
    ? `${(n / 1024).toFixed(1)} KiB`
    : `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:1120px;color:#222;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#666;font-size:13px}table{border-collapse:collapse;font-size:13px;width:100%}
th,td{border-bottom:1px solid #eee;padding:5px 8px;text-align:left;vertical-align:top}th{background:#f6f6f6}
.done{color:#1a7f37}.failed{color:#cf222e}.running{color:#9a6700}
.charts{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;border:1px solid #eee;border-radius:6px;padding:8px;background:#fff}
figcaption{font-size:12px;color:#555;max-width:440px;margin-top:4px}
details{margin:6px 0}summary{cursor:pointer;font-size:14px}pre{background:#f6f8fa;padding:8px;font-size:12px;overflow:auto;max-height:320px}
code{font-size:12px}.none{color:#888;font-style:italic}
.finding p.shows{background:#f3f8ff;border-left:3px solid #4c78a8;padding:8px 12px;font-size:14px;line-height:1.45}
.finding table{margin-top:10px}`;

const GROUPS: [ChartSpec["group"], string][] = [
  ["loss", "Training loss"],
  ["sweep", "Steering sweeps"],
  ["identity", "Scores by identity"],
  ["distribution", "Score distributions"],
  ["series", "Other training series"],
];

/**
 * Renders the report HTML, charts included; when `rendered` is given, each chart and its SVG are
 * also pushed there (the report writer saves them as files).
 *
 * @example
 * ```ts
 * import { renderReport } from "./report_html.ts";
 * const html = await renderReport({ name: "demo", runDir: "runs/demo", shard: "", configHash: "ab12",
 *   steps: [], metrics: [{ step: "fit", name: "loss", value: 1, x: 1 }], samples: {} });
 * console.log(html.includes("<svg")); // true
 * ```
 */
export async function renderReport(
  data: ReportData,
  rendered?: { chart: ChartSpec; svg: string }[],
): Promise<string> {
  const kinds = Object.fromEntries(data.steps.map((s) => [s.id, s.kind]));
  const charts = chooseCharts(data.metrics, kinds);
  const svgs = await Promise.all(charts.map((c) => renderSvg(c.spec)));
  rendered?.push(...charts.map((chart, i) => ({ chart, svg: svgs[i] })));
  const out: string[] = [];
  out.push(
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">`,
    `<meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<title>${escapeHtml(data.name)} — Dramatis report</title><style>${CSS}</style></head><body>`,
    `<h1>${escapeHtml(data.name)}</h1>`,
    `<p class="meta">Run directory <code>${escapeHtml(data.runDir)}</code>` +
      (data.shard ? ` · shard ${escapeHtml(data.shard)}` : "") +
      (data.mergedFrom?.length ? ` · merged from ${data.mergedFrom.length} shards` : "") +
      ` · config ${escapeHtml(data.configHash.slice(0, 12))}` +
      ` · ${data.metrics.length} metric values</p>`,
  );
  const findings = data.findings ?? [];
  const findingSvgs = await Promise.all(
    findings.map((f) => Promise.all(f.charts.map((c) => renderSvg(c.spec)))),
  );
  findings.forEach((f, i) =>
    rendered?.push(
      ...f.charts.map((c, j) => ({
        chart: { group: "finding" as const, ...c },
        svg: findingSvgs[i][j],
      })),
    )
  );
  findings.forEach((f, i) => {
    out.push(
      `<section class="finding" data-finding="${escapeHtml(f.id)}"><h2>${escapeHtml(f.title)}</h2>`,
      `<p class="shows"><b>What this shows.</b> ${escapeHtml(f.paragraph)}</p>`,
    );
    if (f.charts.length) {
      out.push(`<div class="charts">`);
      f.charts.forEach((c, j) => {
        out.push(
          `<figure class="chart" data-chart="${escapeHtml(f.id)}">${findingSvgs[i][j]}` +
            `<figcaption>${escapeHtml(c.caption)}</figcaption></figure>`,
        );
      });
      out.push(`</div>`);
    }
    if (f.table.length) {
      const cols = Object.keys(f.table[0]);
      out.push(
        `<table><thead><tr>${
          cols.map((c) => `<th>${escapeHtml(c)}</th>`).join("")
        }</tr></thead><tbody>`,
        ...f.table.map((r) =>
          `<tr>${cols.map((c) => `<td>${escapeHtml(String(r[c] ?? ""))}</td>`).join("")}</tr>`
        ),
        `</tbody></table>`,
      );
    }
    out.push(`</section>`);
  });
  out.push(
    `<h2>Steps</h2><table><thead><tr><th>step</th><th>kind</th><th>plugin.role</th>` +
      `<th>status</th><th>items</th><th>time</th><th>summary</th><th>artifacts</th></tr></thead><tbody>`,
  );
  for (const s of data.steps) {
    const summary = Object.entries(s.summary).map(([k, v]) => `${escapeHtml(k)} ${num(v)}`).join(
      "<br>",
    );
    const artifacts = s.artifacts.slice(0, 6).map((a) =>
      `${escapeHtml(a.path)} (${bytes(a.bytes)})`
    ).join("<br>") +
      (s.artifacts.length > 6 ? `<br>… ${s.artifacts.length - 6} more` : "");
    out.push(
      `<tr><td><b>${escapeHtml(s.id)}</b></td><td>${escapeHtml(s.kind)}</td>` +
        `<td>${escapeHtml(s.plugin)}${s.role ? "." + escapeHtml(s.role) : ""}</td>` +
        `<td class="${escapeHtml(s.status)}">${escapeHtml(s.status)}${
          s.error ? `<br><small>${escapeHtml(s.error.slice(0, 200))}</small>` : ""
        }</td><td>${s.items ?? ""}</td><td>${duration(s.started_at, s.finished_at)}</td>` +
        `<td>${summary}</td><td>${artifacts}</td></tr>`,
    );
  }
  out.push(`</tbody></table>`);
  if (charts.length === 0) out.push(`<h2>Charts</h2><p class="none">No metrics to plot yet.</p>`);
  for (const [group, heading] of GROUPS) {
    const members = charts.map((c, i) => ({ c, svg: svgs[i] })).filter((x) => x.c.group === group);
    if (!members.length) continue;
    out.push(`<h2>${heading}</h2><div class="charts">`);
    for (const { c, svg } of members) {
      out.push(
        `<figure class="chart" data-chart="${group}">${svg}<figcaption>${
          escapeHtml(c.caption)
        }</figcaption></figure>`,
      );
    }
    out.push(`</div>`);
  }
  const sampled = data.steps.filter((s) => data.samples[s.id]?.length);
  if (sampled.length) {
    out.push(`<h2>Sample outputs</h2>`);
    for (const s of sampled) {
      const text = data.samples[s.id].map((r) => {
        const json = JSON.stringify(r, null, 2);
        return json.length > 2000 ? json.slice(0, 2000) + "\n…" : json;
      }).join("\n\n");
      out.push(
        `<details><summary>${escapeHtml(s.id)} — first ${data.samples[s.id].length} of ${
          s.items ?? "?"
        } records</summary><pre>${escapeHtml(text)}</pre></details>`,
      );
    }
  }
  out.push(`</body></html>\n`);
  return out.join("\n");
}
