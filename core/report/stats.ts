/**
 * Small statistics for the report: mean, percentile bootstrap intervals (seeded, so a report is
 * reproducible), Spearman's rank correlation with average ranks for ties.
 *
 * @module
 */

import { Prng } from "../util/prng.ts";

/** The arithmetic mean (NaN for no values). */
export function mean(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN;
}

/** The q-quantile (0..1) of sorted values, linear interpolation. */
export function quantile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** A point estimate with a 95% interval. */
export interface Interval {
  value: number;
  lo: number;
  hi: number;
  n: number;
}

/**
 * A percentile bootstrap interval of a statistic of one sample (default: the mean).
 *
 * @example
 * ```ts
 * import { bootstrap } from "./stats.ts";
 * const i = bootstrap([0, 1, 1, 1, 0, 1, 1, 1]);
 * console.log(i.value, i.lo <= i.value && i.value <= i.hi); // 0.75 true
 * ```
 */
export function bootstrap(
  values: readonly number[],
  statistic: (v: readonly number[]) => number = mean,
  options: { resamples?: number; seed?: number; level?: number } = {},
): Interval {
  const n = values.length;
  const value = statistic(values);
  if (n === 0) return { value: NaN, lo: NaN, hi: NaN, n };
  const rng = new Prng(options.seed ?? 1);
  const stats: number[] = [];
  const buf = new Array<number>(n);
  for (let r = 0; r < (options.resamples ?? 1000); r++) {
    for (let i = 0; i < n; i++) buf[i] = values[rng.int(n)];
    const s = statistic(buf);
    if (Number.isFinite(s)) stats.push(s);
  }
  stats.sort((a, b) => a - b);
  const a = (1 - (options.level ?? 0.95)) / 2;
  return { value, lo: quantile(stats, a), hi: quantile(stats, 1 - a), n };
}

/**
 * A bootstrap interval of the difference of means of two independent samples (a − b).
 *
 * @example
 * ```ts
 * import { bootstrapDifference } from "./stats.ts";
 * console.log(bootstrapDifference([3, 4, 5], [0, 1, 2]).value); // 3
 * ```
 */
export function bootstrapDifference(
  a: readonly number[],
  b: readonly number[],
  options: { resamples?: number; seed?: number } = {},
): Interval {
  const value = mean(a) - mean(b);
  if (!a.length || !b.length) return { value: NaN, lo: NaN, hi: NaN, n: a.length + b.length };
  const rng = new Prng(options.seed ?? 1);
  const stats: number[] = [];
  for (let r = 0; r < (options.resamples ?? 1000); r++) {
    let sa = 0;
    let sb = 0;
    for (let i = 0; i < a.length; i++) sa += a[rng.int(a.length)];
    for (let i = 0; i < b.length; i++) sb += b[rng.int(b.length)];
    stats.push(sa / a.length - sb / b.length);
  }
  stats.sort((x, y) => x - y);
  return { value, lo: quantile(stats, 0.025), hi: quantile(stats, 0.975), n: a.length + b.length };
}

/** Ranks (1-based) with ties given their average rank. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((x, y) => x.v - y.v);
  const out = new Array<number>(values.length);
  for (let s = 0; s < order.length;) {
    let e = s;
    while (e + 1 < order.length && order[e + 1].v === order[s].v) e++;
    const r = (s + e) / 2 + 1;
    for (let k = s; k <= e; k++) out[order[k].i] = r;
    s = e + 1;
  }
  return out;
}

/** Pearson's correlation (NaN when either side is constant). */
export function pearson(x: readonly number[], y: readonly number[]): number {
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < x.length; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/**
 * Spearman's ρ: Pearson's correlation of the ranks.
 *
 * @example
 * ```ts
 * import { spearman } from "./stats.ts";
 * console.log(spearman([1, 2, 3, 4], [10, 20, 25, 100])); // 1
 * ```
 */
export function spearman(x: readonly number[], y: readonly number[]): number {
  return pearson(ranks(x), ranks(y));
}

/**
 * A bootstrap interval of Spearman's ρ over paired observations (pairs resampled together).
 */
export function bootstrapSpearman(
  x: readonly number[],
  y: readonly number[],
  options: { resamples?: number; seed?: number } = {},
): Interval {
  const idx = x.map((_, i) => i);
  return bootstrap(
    idx,
    (sample) => spearman(sample.map((i) => x[i]), sample.map((i) => y[i])),
    options,
  );
}
