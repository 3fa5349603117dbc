/**
 * Kendall's rank correlation τ-b (the variant SciPy computes by default), in O(n log n) with
 * Knight's algorithm: sort by (x, y), count the swaps a merge sort of y needs, correct for ties.
 *
 * @module
 */

function tiePairs(sorted: readonly number[]): number {
  let pairs = 0;
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j < sorted.length && sorted[j] === sorted[i]) j++;
    pairs += (j - i) * (j - i - 1) / 2;
    i = j;
  }
  return pairs;
}

function mergeSwaps(a: number[]): number {
  if (a.length < 2) return 0;
  const mid = a.length >> 1;
  const left = a.slice(0, mid), right = a.slice(mid);
  let swaps = mergeSwaps(left) + mergeSwaps(right);
  let i = 0, j = 0, k = 0;
  while (i < left.length && j < right.length) {
    if (right[j] < left[i]) {
      a[k++] = right[j++];
      swaps += left.length - i;
    } else a[k++] = left[i++];
  }
  while (i < left.length) a[k++] = left[i++];
  while (j < right.length) a[k++] = right[j++];
  return swaps;
}

/**
 * τ-b between two paired samples: (concordant − discordant) / √((n0 − tx)(n0 − ty)), where n0 is
 * the number of pairs and tx, ty the pairs tied in x and in y. NaN when either side is constant
 * or there are fewer than two items.
 *
 * @example
 * ```ts
 * import { kendallTau } from "./kendall.ts";
 * kendallTau([1, 2, 3, 4], [1, 2, 3, 4]); // 1
 * kendallTau([1, 2, 3, 4], [4, 3, 2, 1]); // -1
 * kendallTau([1, 2, 3], [1, 3, 2]); // 1/3
 * ```
 */
export function kendallTau(x: readonly number[], y: readonly number[]): number {
  if (x.length !== y.length) {
    throw new RangeError(`x has ${x.length} values and y ${y.length}; pass paired samples`);
  }
  const n = x.length;
  if (n < 2) return NaN;
  const order = [...x.keys()].sort((a, b) => x[a] - x[b] || y[a] - y[b]);
  const xs = order.map((i) => x[i]);
  const ys = order.map((i) => y[i]);
  const n0 = n * (n - 1) / 2;
  const tx = tiePairs(xs);
  let txy = 0; // pairs tied in both x and y
  for (let i = 0; i < n;) {
    let j = i;
    while (j < n && xs[j] === xs[i] && ys[j] === ys[i]) j++;
    txy += (j - i) * (j - i - 1) / 2;
    i = j;
  }
  const swaps = mergeSwaps(ys); // sorts ys in place
  const ty = tiePairs(ys);
  const denom = Math.sqrt((n0 - tx) * (n0 - ty));
  return denom === 0 ? NaN : (n0 - tx - ty + txy - 2 * swaps) / denom;
}
