/**
 * Book-level split (CoSER §1.8): books are ordered by a 32-bit polynomial hash (base 31) of their
 * file name; the first 90% are in-distribution (`id`: training plus the id test pool), the rest
 * out-of-distribution (`ood`). Within a book, plots before `split_plot_index` are for training.
 *
 * @module
 */

/**
 * `h = (31 · h + code unit) mod 2^32` over the string, starting from 0.
 *
 * @example
 * ```ts
 * import { bookHash } from "./split.ts";
 * bookHash("ab"); // 31 · 97 + 98 = 3105
 * ```
 */
export function bookHash(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) >>> 0;
  return h;
}

/**
 * Splits file names into `id` and `ood` books (ties in the hash keep name order).
 *
 * @example
 * ```ts
 * import { splitBooks } from "./split.ts";
 * const { id, ood } = splitBooks(["a.json", "b.json"]);
 * ```
 */
export function splitBooks(
  names: readonly string[],
  idFraction = 0.9,
): { id: string[]; ood: string[] } {
  const sorted = [...names].sort((a, b) =>
    bookHash(a) - bookHash(b) || (a < b ? -1 : a > b ? 1 : 0)
  );
  const k = Math.floor(idFraction * sorted.length);
  return { id: sorted.slice(0, k), ood: sorted.slice(k) };
}
