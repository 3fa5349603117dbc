/**
 * Agreement between two raters over the same items: Cohen's κ and a percentile bootstrap
 * interval over items (the calibration of an LLM judge against people).
 *
 * @module
 */

import { Prng } from "../util/prng.ts";

/** Observed agreement, chance agreement and κ of two label lists. */
export interface Kappa {
  /** Items rated by both. */
  n: number;
  /** Fraction of items with the same label. */
  observed: number;
  /** Agreement expected by chance from each rater's label frequencies. */
  expected: number;
  /** (observed − expected) / (1 − expected); 1 when both raters use one and the same label. */
  kappa: number;
}

/**
 * Cohen's κ of two raters: κ = (p_o − p_e) / (1 − p_e) with p_e = Σ_k p_a(k)·p_b(k).
 * When p_e = 1 (both raters give every item the same single label) κ is 1 if they agree, else 0.
 *
 * @example
 * ```ts
 * import { cohenKappa } from "./agreement.ts";
 * cohenKappa(["y", "y", "n", "n"], ["y", "n", "n", "n"]).kappa; // 0.5
 * ```
 */
export function cohenKappa(a: readonly string[], b: readonly string[]): Kappa {
  if (a.length !== b.length) {
    throw new RangeError(`cohenKappa got ${a.length} and ${b.length} labels; pass one per item`);
  }
  const n = a.length;
  if (n === 0) return { n, observed: NaN, expected: NaN, kappa: NaN };
  const ca = new Map<string, number>();
  const cb = new Map<string, number>();
  let same = 0;
  for (let i = 0; i < n; i++) {
    if (a[i] === b[i]) same++;
    ca.set(a[i], (ca.get(a[i]) ?? 0) + 1);
    cb.set(b[i], (cb.get(b[i]) ?? 0) + 1);
  }
  const observed = same / n;
  let expected = 0;
  for (const [k, x] of ca) expected += (x / n) * ((cb.get(k) ?? 0) / n);
  const kappa = expected >= 1 - 1e-12
    ? (observed >= 1 - 1e-12 ? 1 : 0)
    : (observed - expected) / (1 - expected);
  return { n, observed, expected, kappa };
}

/** κ with a bootstrap interval. */
export interface KappaInterval extends Kappa {
  /** Lower and upper ends of the percentile interval. */
  low: number;
  high: number;
  /** Confidence level of the interval, e.g. 0.95. */
  level: number;
  /** Bootstrap resamples drawn. */
  resamples: number;
}

/** Options of {@link bootstrapKappa}. */
export interface BootstrapOptions {
  /** Resamples (default 2000). */
  resamples?: number;
  /** Confidence level (default 0.95). */
  level?: number;
  /** Seed of the resampling (default 0). */
  seed?: number;
}

/**
 * Cohen's κ with a percentile bootstrap interval: items are resampled with replacement
 * (`resamples` times, seeded), κ is recomputed on each resample, and the interval is the
 * (1−level)/2 and (1+level)/2 quantiles of those values.
 *
 * @example
 * ```ts
 * import { bootstrapKappa } from "./agreement.ts";
 * const k = bootstrapKappa(["y", "y", "n", "n"], ["y", "n", "n", "n"], { resamples: 500 });
 * console.log(k.kappa, k.low <= k.kappa && k.kappa <= k.high); // 0.5 true
 * ```
 */
export function bootstrapKappa(
  a: readonly string[],
  b: readonly string[],
  options: BootstrapOptions = {},
): KappaInterval {
  const point = cohenKappa(a, b);
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new RangeError(`level is ${level}; use a value in (0, 1)`);
  const n = a.length;
  if (n === 0) return { ...point, low: NaN, high: NaN, level, resamples: 0 };
  const rng = new Prng(options.seed ?? 0);
  const values: number[] = [];
  const ra = new Array<string>(n);
  const rb = new Array<string>(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) {
      const j = Math.min(n - 1, Math.floor(rng.next() * n));
      ra[i] = a[j];
      rb[i] = b[j];
    }
    values.push(cohenKappa(ra, rb).kappa);
  }
  values.sort((x, y) => x - y);
  return {
    ...point,
    low: quantile(values, (1 - level) / 2),
    high: quantile(values, (1 + level) / 2),
    level,
    resamples,
  };
}

/** Linear-interpolated quantile of sorted values (type 7, as numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}
