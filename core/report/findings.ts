/**
 * The report's findings: effects measured from a run's metrics, each with its uncertainty, a
 * chart and a "what this shows" paragraph written from the numbers. Every analysis reads only
 * metric conventions, so any experiment that records them gets the section:
 *
 * - training: steps with `eval_loss` series (held-out perplexity = exp(eval loss)), and the mean
 *   `grammatical` of base-model replies (items tagged `identities: "none"`);
 * - identity control: items tagged `identities` (a `+`-joined set, `none` = base model) judged with
 *   one 0/1 metric per identity; a reply matches its set when every identity's metric is 1. The
 *   base rate is the match rate of the same set on `none` replies; the placebo rate on replies
 *   made with other identities active, none of the same factor (the part of the name before `_`);
 *   chance is 1 / (number of probed identities of the factor), multiplied over the set;
 * - steering dose–response: sweep items (`layer`, `coefficient`) for the metrics named in the
 *   experiment's `report.sweeps` (default: `score`): mean per coefficient with a 95% bootstrap
 *   interval, per layer, and Spearman's ρ between coefficient and the mean;
 * - projection gap: metrics tagged `polarity` `pos` / `neg` (persona_vectors `project`): difference of
 *   means with a bootstrap interval;
 * - judge agreement: the `report.agreement` pairs, Spearman's ρ between each judge and the reference
 *   on items with the same index.
 *
 * @module
 */

import type { ReportSpec } from "../experiment/experiment_schema.ts";
import type { MetricRecord } from "../experiment/step_executor.ts";
import type { VegaLiteSpec } from "./render_svg.ts";
import {
  bootstrap,
  bootstrapDifference,
  bootstrapSpearman,
  type Interval,
  mean,
  spearman,
} from "./stats.ts";

/** One chart of a finding. */
export interface FindingChart {
  title: string;
  caption: string;
  spec: VegaLiteSpec;
}

/** A section of findings. */
export interface Finding {
  id: "training" | "identity" | "dose_response" | "projection" | "agreement";
  title: string;
  /** "What this shows", written from the numbers. */
  paragraph: string;
  charts: FindingChart[];
  /** Rows of a table (column → value). */
  table: Record<string, string | number>[];
}

/** Identity control of one set. */
export interface IdentityRow {
  step: string;
  /** 0/1 matches of the base model's replies (for pooling). */
  baseMatches: number[];
  set: string;
  size: number;
  active: Interval;
  base: Interval;
  placebo: Interval;
  chance: number;
}

/** Dose–response of one layer. */
export interface DoseCurve {
  step: string;
  metric: string;
  layer: number;
  points: { coefficient: number; mean: number; lo: number; hi: number; n: number }[];
  rho: number;
  /** Both interval bounds move monotonically in the direction of ρ. */
  monotoneBand: boolean;
}

/** A projection gap. */
export interface ProjectionGap {
  step: string;
  metric: string;
  /** The vector's name (the `vector` tag), when the metrics name one. */
  vector?: string;
  pos: Interval;
  neg: Interval;
  gap: Interval;
}

/** Agreement of one judge with the reference. */
export interface Agreement {
  label: string;
  truth: string;
  judge: string;
  rho: Interval;
}

/** Training summary of one step. */
export interface TrainingSummary {
  step: string;
  initialEval?: number;
  finalEval: number;
  perplexity: number;
}

/** Everything measured, as numbers (also written to `findings.json`). */
export interface RunFindings {
  training: TrainingSummary[];
  grammatical?: Interval;
  identity: IdentityRow[];
  /** The base model's match rate pooled over the single identities, and their mean chance. */
  baseSingles?: Interval & { chance: number };
  dose: DoseCurve[];
  /** The dose curve with the largest |ρ| (ties: the widest range) per step and metric. */
  bestDose: DoseCurve[];
  projection: ProjectionGap[];
  agreement: Agreement[];
}

const W = 420;
const H = 240;

function base(title: string, values: unknown[]): VegaLiteSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    width: W,
    height: H,
    background: "white",
    data: { values },
    config: { font: "sans-serif", axis: { labelFontSize: 11, titleFontSize: 12 } },
  };
}

function group<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const l = out.get(k);
    if (l) l.push(it);
    else out.set(k, [it]);
  }
  return out;
}

const pct = (x: number) => Number.isFinite(x) ? `${Math.round(x * 100)}%` : "—";
const f2 = (x: number) => Number.isFinite(x) ? x.toFixed(2) : "—";
const iv = (i: Interval, fmt = f2) => `${fmt(i.value)} [${fmt(i.lo)}, ${fmt(i.hi)}]`;
const factorOf = (id: string) => id.includes("_") ? id.slice(0, id.lastIndexOf("_")) : "(other)";

function identityControl(metrics: MetricRecord[]): IdentityRow[] {
  const tagged = metrics.filter((m) =>
    m.index !== undefined && typeof m.tags?.identities === "string" && m.x === undefined &&
    m.tags?.layer === undefined
  );
  const rows: IdentityRow[] = [];
  for (const [step, ms] of group(tagged, (m) => m.step)) {
    // item index → {set, metric name → value}
    const items = new Map<number, { set: string; values: Map<string, number> }>();
    for (const m of ms) {
      let it = items.get(m.index!);
      if (!it) items.set(m.index!, it = { set: String(m.tags!.identities), values: new Map() });
      it.values.set(m.name, m.value);
    }
    const all = [...items.values()];
    const sets = [...new Set(all.map((i) => i.set))].filter((s) => s !== "none");
    const probed = [...new Set(sets.flatMap((s) => s.split("+")))];
    const known = (id: string) => all.some((i) => i.values.has(id));
    const matches = (it: { values: Map<string, number> }, ids: string[]) =>
      ids.every((id) => it.values.get(id) === 1) ? 1 : 0;
    for (const set of sets) {
      const ids = set.split("+");
      if (!ids.every(known)) continue;
      const factors = new Set(ids.map(factorOf));
      const active = all.filter((i) => i.set === set).map((i) => matches(i, ids));
      const baseline = all.filter((i) => i.set === "none").map((i) => matches(i, ids));
      const placebo = all.filter((i) =>
        i.set !== "none" && i.set.split("+").every((id) => !factors.has(factorOf(id)))
      ).map((i) => matches(i, ids));
      const chance = ids.reduce(
        (p, id) => p / Math.max(1, probed.filter((q) => factorOf(q) === factorOf(id)).length),
        1,
      );
      rows.push({
        step,
        baseMatches: baseline,
        set,
        size: ids.length,
        active: bootstrap(active),
        base: bootstrap(baseline),
        placebo: bootstrap(placebo),
        chance: ids.every((id) => id.includes("_")) ? chance : NaN,
      });
    }
  }
  return rows;
}

function doseResponse(metrics: MetricRecord[], names: Map<string, Set<string>>): DoseCurve[] {
  const sweep = metrics.filter((m) =>
    m.x === undefined && typeof m.tags?.layer === "number" &&
    typeof m.tags?.coefficient === "number" &&
    (names.get(m.step)?.has(m.name) ?? m.name === "score")
  );
  const curves: DoseCurve[] = [];
  for (const [key, ms] of group(sweep, (m) => `${m.step}\u0000${m.name}\u0000${m.tags!.layer}`)) {
    const [step, metric, layer] = key.split("\u0000");
    const points = [...group(ms, (m) => String(m.tags!.coefficient))].map(([c, list]) => {
      const i = bootstrap(list.map((m) => m.value));
      return { coefficient: Number(c), mean: i.value, lo: i.lo, hi: i.hi, n: i.n };
    }).sort((a, b) => a.coefficient - b.coefficient);
    const rho = spearman(points.map((p) => p.coefficient), points.map((p) => p.mean));
    const dir = rho >= 0 ? 1 : -1;
    const mono = (xs: number[]) => xs.every((x, i) => i === 0 || dir * (x - xs[i - 1]) >= 0);
    curves.push({
      step,
      metric,
      layer: Number(layer),
      points,
      rho,
      monotoneBand: points.length > 1 && mono(points.map((p) => p.lo)) &&
        mono(points.map((p) => p.hi)),
    });
  }
  return curves.sort((a, b) => a.layer - b.layer);
}

function bestCurves(curves: DoseCurve[]): DoseCurve[] {
  const out: DoseCurve[] = [];
  for (const [, cs] of group(curves, (c) => `${c.step}\u0000${c.metric}`)) {
    const range = (c: DoseCurve) =>
      Math.max(...c.points.map((p) => p.mean)) - Math.min(...c.points.map((p) => p.mean));
    const score = (c: DoseCurve) => Number.isFinite(c.rho) ? Math.abs(c.rho) : -1;
    out.push(
      cs.slice().sort((a, b) => score(b) - score(a) || range(b) - range(a))[0],
    );
  }
  return out;
}

function projectionGaps(metrics: MetricRecord[]): ProjectionGap[] {
  const tagged = metrics.filter((m) => m.tags?.polarity === "pos" || m.tags?.polarity === "neg");
  const out: ProjectionGap[] = [];
  const keyOf = (m: MetricRecord) => `${m.step}\u0000${m.name}\u0000${m.tags?.vector ?? ""}`;
  for (const [key, ms] of group(tagged, keyOf)) {
    const [step, metric, vector] = key.split("\u0000");
    const pos = ms.filter((m) => m.tags!.polarity === "pos").map((m) => m.value);
    const neg = ms.filter((m) => m.tags!.polarity === "neg").map((m) => m.value);
    if (!pos.length || !neg.length) continue;
    out.push({
      step,
      metric,
      ...(vector ? { vector } : {}),
      pos: bootstrap(pos),
      neg: bootstrap(neg),
      gap: bootstrapDifference(pos, neg),
    });
  }
  return out;
}

function agreements(metrics: MetricRecord[], spec: ReportSpec | undefined): Agreement[] {
  const out: Agreement[] = [];
  const byIndex = (step: string, name: string) =>
    new Map(
      metrics.filter((m) =>
        m.step === step && m.name === name && m.index !== undefined && m.x === undefined
      )
        .map((m) => [m.index!, m.value]),
    );
  for (const a of spec?.agreement ?? []) {
    const truth = byIndex(a.truth.step, a.truth.metric);
    for (const j of a.judges) {
      const judged = byIndex(j.step, j.metric);
      const idx = [...judged.keys()].filter((i) => truth.has(i));
      out.push({
        label: j.label ?? `${j.step}.${j.metric}`,
        truth: `${a.truth.step}.${a.truth.metric}`,
        judge: `${j.step}.${j.metric}`,
        rho: bootstrapSpearman(idx.map((i) => judged.get(i)!), idx.map((i) => truth.get(i)!)),
      });
    }
  }
  return out;
}

function training(metrics: MetricRecord[]): TrainingSummary[] {
  const out: TrainingSummary[] = [];
  const evals = metrics.filter((m) => m.x !== undefined && m.name === "eval_loss");
  for (const [step, ms] of group(evals, (m) => m.step)) {
    const sorted = ms.slice().sort((a, b) => a.x! - b.x!);
    const last = sorted[sorted.length - 1].value;
    out.push({
      step,
      initialEval: sorted[0].x === 0 ? sorted[0].value : undefined,
      finalEval: last,
      perplexity: Math.exp(last),
    });
  }
  return out;
}

/**
 * Measures a run's findings from its metrics.
 *
 * @example
 * ```ts
 * import { measureFindings } from "./findings.ts";
 * const f = measureFindings([
 *   { step: "p", name: "proj", value: 2, index: 0, tags: { polarity: "pos" } },
 *   { step: "p", name: "proj", value: 0, index: 1, tags: { polarity: "neg" } },
 * ]);
 * console.log(f.projection[0].gap.value); // 2
 * ```
 */
export function measureFindings(metrics: MetricRecord[], spec?: ReportSpec): RunFindings {
  const names = new Map<string, Set<string>>();
  for (const s of spec?.sweeps ?? []) {
    if (!names.has(s.step)) names.set(s.step, new Set());
    names.get(s.step)!.add(s.metric);
  }
  const dose = doseResponse(metrics, names);
  const gram = metrics.filter((m) =>
    m.name === "grammatical" && m.tags?.identities === "none" && m.index !== undefined
  ).map((m) => m.value);
  const identity = identityControl(metrics);
  const singles = identity.filter((r) => r.size === 1);
  return {
    training: training(metrics),
    grammatical: gram.length ? bootstrap(gram) : undefined,
    identity,
    baseSingles: singles.length
      ? {
        ...bootstrap(singles.flatMap((r) => r.baseMatches)),
        chance: mean(singles.map((r) => r.chance)),
      }
      : undefined,
    dose,
    bestDose: bestCurves(dose),
    projection: projectionGaps(metrics),
    agreement: agreements(metrics, spec),
  };
}

function identitySection(rows: IdentityRow[]): Finding | undefined {
  if (!rows.length) return undefined;
  const singles = rows.filter((r) => r.size === 1);
  const combos = rows.filter((r) => r.size > 1);
  const values: Record<string, unknown>[] = [];
  for (const r of rows) {
    for (
      const [condition, i] of [["active", r.active], ["base", r.base], [
        "placebo",
        r.placebo,
      ]] as const
    ) {
      values.push({ set: r.set, condition, rate: i.value, lo: i.lo, hi: i.hi, n: i.n });
    }
  }
  const order = rows.map((r) => r.set);
  const spec: VegaLiteSpec = {
    ...base("Identity control: replies that express the active identities", values),
    width: Math.max(W, 48 * rows.length),
    encoding: {
      x: {
        field: "set",
        type: "nominal",
        sort: order,
        title: "active identities",
        axis: { labelAngle: -35 },
      },
      xOffset: { field: "condition", sort: ["active", "base", "placebo"] },
      color: {
        field: "condition",
        type: "nominal",
        sort: ["active", "base", "placebo"],
        scale: { range: ["#1f77b4", "#9e9e9e", "#ff7f0e"] },
        title: "model",
      },
    },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          y: {
            field: "rate",
            type: "quantitative",
            title: "share of replies",
            scale: { domain: [0, 1] },
          },
        },
      },
      {
        mark: { type: "rule", color: "black" },
        encoding: { y: { field: "lo", type: "quantitative" }, y2: { field: "hi" } },
      },
    ],
  };
  const meanOf = (rs: IdentityRow[], f: (r: IdentityRow) => number) => mean(rs.map(f));
  const worst = singles.slice().sort((a, b) => a.active.value - b.active.value)[0];
  const parts: string[] = [];
  if (singles.length) {
    const act = meanOf(singles, (r) => r.active.value);
    const bas = meanOf(singles, (r) => r.base.value);
    const pla = meanOf(singles, (r) => r.placebo.value);
    const chance = meanOf(singles, (r) => r.chance);
    const pooled = bootstrap(singles.flatMap((r) => r.baseMatches));
    const atChance = Number.isFinite(chance) && pooled.lo <= chance && chance <= pooled.hi;
    parts.push(
      `With one identity expert active, on average ${
        pct(act)
      } of the replies express exactly that ` +
        `identity (lowest: ${worst.set} at ${pct(worst.active.value)}), against ${
          pct(bas)
        } for the ` +
        `base model with no expert active${
          Number.isFinite(chance) ? ` (chance: ${pct(chance)})` : ""
        } ` +
        `and ${pct(pla)} when an expert of another factor is active instead (placebo).` +
        (Number.isFinite(chance)
          ? ` The base model's pooled rate (interval ${pct(pooled.lo)}–${pct(pooled.hi)}) ${
            atChance ? "includes" : "excludes"
          } chance, so without experts ${
            atChance ? "the traits are a coin flip" : "the base model leans to some traits"
          }.`
          : ""),
    );
    const ok = singles.filter((r) => r.active.lo > Math.max(r.base.hi, r.placebo.hi)).length;
    parts.push(
      ok === singles.length
        ? `For every single identity the interval of the active rate lies above both the base and the placebo intervals: the experts, not chance or merely loading an adapter, decide the trait.`
        : `For ${ok} of ${singles.length} single identities the active interval lies above both the base and placebo intervals; the others do not separate at this sample size.`,
    );
  }
  if (combos.length) {
    parts.push(
      `Combined sets: ${
        combos.map((r) =>
          `${r.set} ${pct(r.active.value)} (base ${pct(r.base.value)}${
            Number.isFinite(r.chance) ? `, chance ${pct(r.chance)}` : ""
          })`
        ).join("; ")
      }. ` + (combos.every((r) =>
          r.active.lo > r.base.hi
        )
        ? "Every set beats the base model beyond its interval: the experts compose when worn together."
        : `${
          combos.filter((r) => r.active.lo > r.base.hi).length
        } of ${combos.length} sets beat the base model beyond their interval: composition is partial.`),
    );
  }
  return {
    id: "identity",
    title: "Identity control",
    paragraph: parts.join(" "),
    charts: [{
      title: "Identity control",
      caption: "Share of replies whose ground-truth traits match the active identities, with " +
        "95% bootstrap intervals: with the experts active, for the base model, and under a placebo " +
        "(experts of other factors active).",
      spec,
    }],
    table: rows.map((r) => ({
      identities: r.set,
      replies: r.active.n,
      active: iv(r.active),
      base: iv(r.base),
      placebo: iv(r.placebo),
      chance: Number.isFinite(r.chance) ? f2(r.chance) : "—",
    })),
  };
}

function doseSection(curves: DoseCurve[], best: DoseCurve[]): Finding | undefined {
  if (!curves.length) return undefined;
  const charts: FindingChart[] = [];
  for (const [key, cs] of group(curves, (c) => `${c.step}\u0000${c.metric}`)) {
    const [step, metric] = key.split("\u0000");
    const values = cs.flatMap((c) =>
      c.points.map((p) => ({ ...p, layer: `layer ${c.layer} (ρ = ${f2(c.rho)})` }))
    );
    charts.push({
      title: `Dose–response: ${metric} — ${step}`,
      caption: `Mean ${metric} of steered replies against the steering coefficient, one line per ` +
        `layer (hidden-state index), with 95% bootstrap bands; ρ is Spearman's correlation ` +
        `between coefficient and mean.`,
      spec: {
        ...base(`Dose–response: ${metric} — ${step}`, values),
        encoding: {
          x: { field: "coefficient", type: "quantitative", title: "steering coefficient" },
          color: { field: "layer", type: "nominal", title: null },
        },
        layer: [
          {
            mark: { type: "area", opacity: 0.18 },
            encoding: {
              y: { field: "lo", type: "quantitative", title: `mean ${metric}` },
              y2: { field: "hi" },
            },
          },
          {
            mark: { type: "line", point: true, strokeWidth: 2 },
            encoding: { y: { field: "mean", type: "quantitative" } },
          },
        ],
      },
    });
  }
  const parts = best.map((b) => {
    const first = b.points[0];
    const last = b.points[b.points.length - 1];
    const others = curves.filter((c) => c.step === b.step && c.metric === b.metric && c !== b)
      .map((c) => `layer ${c.layer} ρ = ${f2(c.rho)}`).join(", ");
    const strong = Math.abs(b.rho) >= 0.8;
    return `Steering with the vector at layer ${b.layer} moves ${b.metric} (step ${b.step}) ` +
      `from ${f2(first.mean)} ` +
      `at coefficient ${first.coefficient} to ${f2(last.mean)} at ${last.coefficient} ` +
      `(Spearman ρ = ${f2(b.rho)}); its 95% band is ${b.monotoneBand ? "" : "not "}monotone. ` +
      (strong
        ? `The effect grows with the dose, so the vector is a direction the model uses for this trait.`
        : `The dose–response is weak at this sample size.`) +
      (others ? ` Other layers: ${others}.` : "");
  });
  return {
    id: "dose_response",
    title: "Steering dose–response",
    paragraph: parts.join(" "),
    charts,
    table: curves.map((c) => ({
      step: c.step,
      metric: c.metric,
      layer: c.layer,
      "ρ": f2(c.rho),
      "monotone band": c.monotoneBand ? "yes" : "no",
      means: c.points.map((p) => `${p.coefficient}: ${f2(p.mean)}`).join(", "),
    })),
  };
}

function projectionSection(gaps: ProjectionGap[], metrics: MetricRecord[]): Finding | undefined {
  if (!gaps.length) return undefined;
  const charts = gaps.map((g) => {
    const values = metrics.filter((m) =>
      m.step === g.step && m.name === g.metric && (m.tags?.vector ?? "") === (g.vector ?? "") &&
      (m.tags?.polarity === "pos" || m.tags?.polarity === "neg")
    ).map((m) => ({
      value: m.value,
      rollouts: m.tags!.polarity === "pos" ? "positive" : "negative",
    }));
    return {
      title: `Projection of rollouts — ${g.step}`,
      caption: `Histogram of each rollout's ${g.metric} on the persona vector: positive ` +
        `(trait-eliciting prompt) against negative rollouts.`,
      spec: {
        ...base(`Projection of rollouts — ${g.step}`, values),
        mark: { type: "bar", opacity: 0.7 },
        encoding: {
          x: { field: "value", type: "quantitative", bin: { maxbins: 24 }, title: g.metric },
          y: { aggregate: "count", type: "quantitative", title: "rollouts", stack: null },
          color: {
            field: "rollouts",
            type: "nominal",
            scale: { range: ["#d62728", "#2ca02c"] },
          },
        },
      } as VegaLiteSpec,
    };
  });
  const paragraph = gaps.map((g) =>
    `Projected on the persona vector${g.vector ? ` ${g.vector}` : ""} (${g.metric}), positive ` +
    `rollouts average ${f2(g.pos.value)} ` +
    `and negative ones ${f2(g.neg.value)}: a gap of ${iv(g.gap)} (95% bootstrap interval), which ` +
    (g.gap.lo > 0 || g.gap.hi < 0
      ? `excludes 0 — the vector separates replies with and without the trait, so it can monitor it.`
      : `includes 0 — the vector does not separate the rollouts at this sample size.`)
  ).join(" ");
  return {
    id: "projection",
    title: "Persona vector projection",
    paragraph,
    charts,
    table: gaps.map((g) => ({
      step: g.step,
      metric: g.metric,
      positive: iv(g.pos),
      negative: iv(g.neg),
      gap: iv(g.gap),
    })),
  };
}

function agreementSection(rows: Agreement[]): Finding | undefined {
  if (!rows.length) return undefined;
  const values = rows.map((r) => ({
    judge: r.label,
    rho: r.rho.value,
    lo: r.rho.lo,
    hi: r.rho.hi,
    n: r.rho.n,
  }));
  const spec: VegaLiteSpec = {
    ...base("Judge agreement with the ground truth", values),
    encoding: {
      y: { field: "judge", type: "nominal", title: null, sort: null },
    },
    layer: [
      {
        mark: { type: "bar", color: "#4c78a8" },
        encoding: {
          x: {
            field: "rho",
            type: "quantitative",
            title: "Spearman ρ with the ground truth",
            scale: { domain: [-1, 1] },
          },
        },
      },
      {
        mark: { type: "rule", color: "black" },
        encoding: { x: { field: "lo", type: "quantitative" }, x2: { field: "hi" } },
      },
    ],
  };
  const paragraph = rows.map((r) =>
    r.rho.n === 0
      ? `${r.label}: no reply has both a verdict and a reference value (every verdict was null or ` +
        `missing) — this judge cannot score these replies at all.`
      : `${r.label}: ρ = ${iv(r.rho)} against ${r.truth} over ${r.rho.n} replies — ` +
        (r.rho.lo > 0.5
          ? "it tracks the ground truth well."
          : r.rho.lo > 0
          ? "it agrees with the ground truth, but loosely."
          : "no reliable agreement: do not trust this judge here.")
  ).join(" ");
  return {
    id: "agreement",
    title: "Judge agreement",
    paragraph,
    charts: [{
      title: "Judge agreement",
      caption:
        "Spearman's ρ between each judge's score and the ground-truth labeller on the same " +
        "replies, with 95% bootstrap intervals.",
      spec,
    }],
    table: rows.map((r) => ({
      judge: r.label,
      reference: r.truth,
      replies: r.rho.n,
      "ρ": iv(r.rho),
    })),
  };
}

function trainingSection(f: RunFindings): Finding | undefined {
  if (!f.training.length && !f.grammatical) return undefined;
  const parts = f.training.map((t) =>
    `Step ${t.step}: held-out loss ${
      t.initialEval !== undefined ? `fell from ${f2(t.initialEval)} to ` : ""
    }${f2(t.finalEval)} nats/token (perplexity ${f2(t.perplexity)}).`
  );
  if (f.grammatical) {
    parts.push(
      `The base model's own replies are ${pct(f.grammatical.value)} grammatical in the world's ` +
        `grammar (95% interval ${pct(f.grammatical.lo)}–${
          pct(f.grammatical.hi)
        }, ${f.grammatical.n} replies): ` +
        (f.grammatical.value >= 0.9
          ? "it speaks the language the later measurements rely on."
          : "its language is still rough, which blurs the later measurements."),
    );
  }
  return {
    id: "training",
    title: "Training",
    paragraph: parts.join(" "),
    charts: [],
    table: f.training.map((t) => ({
      step: t.step,
      "initial eval loss": t.initialEval !== undefined ? f2(t.initialEval) : "—",
      "final eval loss": f2(t.finalEval),
      perplexity: f2(t.perplexity),
    })),
  };
}

/**
 * The report sections of a run's findings (only those with data).
 *
 * @example
 * ```ts
 * import { findingSections, measureFindings } from "./findings.ts";
 * const sections = findingSections(measureFindings([]), []);
 * console.log(sections.length); // 0
 * ```
 */
export function findingSections(f: RunFindings, metrics: MetricRecord[]): Finding[] {
  return [
    trainingSection(f),
    identitySection(f.identity),
    doseSection(f.dose, f.bestDose),
    projectionSection(f.projection, metrics),
    agreementSection(f.agreement),
  ].filter((s): s is Finding => s !== undefined);
}
