/**
 * Timing arithmetic shared by the decode-speed benchmarks. Each variant generates 1 token
 * (≈ prefill) and N tokens from the same prompt several times; decode speed is the extra N − 1
 * tokens over the extra time, from medians (and from the fastest runs, which are less sensitive
 * to other processes).
 *
 * @module
 */

/** The median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Decode timing of one variant. */
export interface DecodeTiming {
  /** Median seconds to generate 1 token, and N tokens. */
  t1: number;
  tN: number;
  /** (N − 1) / (median(tN) − median(t1)). */
  decodeTokensPerSecond: number;
  /** The same from the fastest runs. */
  bestDecodeTokensPerSecond: number;
}

/**
 * Decode tokens/s from the 1-token and N-token run times of a variant.
 *
 * @example
 * ```ts
 * import { decodeTiming } from "./timing.ts";
 * decodeTiming({ t1: [0.1, 0.12], tN: [1.1, 1.2] }, 11).decodeTokensPerSecond; // ≈ 9.5
 * ```
 */
export function decodeTiming(
  times: { t1: readonly number[]; tN: readonly number[] },
  newTokens: number,
): DecodeTiming {
  const t1 = median(times.t1), tN = median(times.tN);
  const b1 = Math.min(...times.t1), bN = Math.min(...times.tN);
  return {
    t1,
    tN,
    decodeTokensPerSecond: (newTokens - 1) / Math.max(1e-9, tN - t1),
    bestDecodeTokensPerSecond: (newTokens - 1) / Math.max(1e-9, bN - b1),
  };
}
