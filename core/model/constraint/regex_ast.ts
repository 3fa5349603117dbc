/**
 * The regular-expression tree that every constraint is built as before it becomes a byte DFA:
 * code-point sets, sequences, alternations and bounded or unbounded repetitions. Helpers build
 * trees directly (choices and JSON Schema never go through regex source text, so nothing needs
 * escaping).
 *
 * @module
 */

/** Inclusive code-point ranges, sorted and non-overlapping. */
export type CodeRanges = readonly (readonly [number, number])[];

/** A node of the regular-expression tree. */
export type RegexNode =
  | { readonly type: "set"; readonly ranges: CodeRanges }
  | { readonly type: "seq"; readonly items: readonly RegexNode[] }
  | { readonly type: "alt"; readonly items: readonly RegexNode[] }
  | { readonly type: "rep"; readonly item: RegexNode; readonly min: number; readonly max: number };

/** The largest code point. */
export const MAX_CODE_POINT = 0x10ffff;

/**
 * Sorts and merges ranges.
 *
 * @example
 * ```ts
 * import { normalizeRanges } from "./regex_ast.ts";
 * normalizeRanges([[5, 9], [0, 3], [4, 4]]); // [[0, 9]]
 * ```
 */
export function normalizeRanges(ranges: Iterable<readonly [number, number]>): [number, number][] {
  const sorted = [...ranges].filter(([a, b]) => a <= b).map(([a, b]) => [a, b] as [number, number])
    .sort((x, y) => x[0] - y[0]);
  const out: [number, number][] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else out.push(r);
  }
  return out;
}

/**
 * The complement of ranges within 0..U+10FFFF.
 *
 * @example
 * ```ts
 * import { negateRanges } from "./regex_ast.ts";
 * negateRanges([[0, 9]]); // [[10, 0x10ffff]]
 * ```
 */
export function negateRanges(ranges: CodeRanges): [number, number][] {
  const out: [number, number][] = [];
  let next = 0;
  for (const [a, b] of normalizeRanges(ranges)) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

/**
 * The intersection of two range lists.
 *
 * @example
 * ```ts
 * import { intersectRanges } from "./regex_ast.ts";
 * intersectRanges([[0, 10]], [[5, 20]]); // [[5, 10]]
 * ```
 */
export function intersectRanges(a: CodeRanges, b: CodeRanges): [number, number][] {
  const out: [number, number][] = [];
  for (const [a0, a1] of a) {
    for (const [b0, b1] of b) {
      const lo = Math.max(a0, b0), hi = Math.min(a1, b1);
      if (lo <= hi) out.push([lo, hi]);
    }
  }
  return normalizeRanges(out);
}

/**
 * A set of code points.
 *
 * @example
 * ```ts
 * import { charSet } from "./regex_ast.ts";
 * const digit = charSet([[0x30, 0x39]]);
 * ```
 */
export function charSet(ranges: Iterable<readonly [number, number]>): RegexNode {
  return { type: "set", ranges: normalizeRanges(ranges) };
}

/**
 * A sequence (concatenation); a one-item sequence is the item itself.
 *
 * @example
 * ```ts
 * import { literal, seq } from "./regex_ast.ts";
 * const ab = seq([literal("a"), literal("b")]);
 * ```
 */
export function seq(items: readonly RegexNode[]): RegexNode {
  const flat = items.flatMap((n) => n.type === "seq" ? n.items : [n]);
  return flat.length === 1 ? flat[0] : { type: "seq", items: flat };
}

/**
 * An alternation; a one-item alternation is the item itself. An empty one matches nothing.
 *
 * @example
 * ```ts
 * import { alt, literal } from "./regex_ast.ts";
 * const yesNo = alt([literal("yes"), literal("no")]);
 * ```
 */
export function alt(items: readonly RegexNode[]): RegexNode {
  const flat = items.flatMap((n) => n.type === "alt" ? n.items : [n]);
  return flat.length === 1 ? flat[0] : { type: "alt", items: flat };
}

/**
 * A repetition `item{min,max}` (`max` may be Infinity).
 *
 * @example
 * ```ts
 * import { literal, rep } from "./regex_ast.ts";
 * const as = rep(literal("a"), 1, Infinity); // a+
 * ```
 */
export function rep(item: RegexNode, min: number, max: number): RegexNode {
  return { type: "rep", item, min, max };
}

/**
 * An optional item (`item?`).
 *
 * @example
 * ```ts
 * import { literal, opt } from "./regex_ast.ts";
 * const sign = opt(literal("-"));
 * ```
 */
export function opt(item: RegexNode): RegexNode {
  return rep(item, 0, 1);
}

/** The empty string. */
export const EMPTY: RegexNode = { type: "seq", items: [] };

/** Matches nothing. */
export const NOTHING: RegexNode = { type: "alt", items: [] };

/**
 * Exactly the string `text` (by code points).
 *
 * @example
 * ```ts
 * import { literal } from "./regex_ast.ts";
 * const t = literal("true");
 * ```
 */
export function literal(text: string): RegexNode {
  const items: RegexNode[] = [];
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    items.push({ type: "set", ranges: [[cp, cp]] });
  }
  return items.length === 1 ? items[0] : { type: "seq", items };
}
