/**
 * Code-point ranges as UTF-8 byte-range sequences (the splitting used by RE2 and Rust's regex):
 * every code point in `[lo, hi]` (surrogates excluded) encodes to exactly one of the returned
 * sequences, and every byte string a sequence matches is the encoding of a code point in range.
 *
 * @module
 */

/** One byte position of a sequence: an inclusive byte range. */
export type ByteRange = readonly [number, number];

const MAX_CODE_POINT = 0x10ffff;

function encode(cp: number): number[] {
  if (cp < 0x80) return [cp];
  if (cp < 0x800) return [0xc0 | (cp >> 6), 0x80 | (cp & 0x3f)];
  if (cp < 0x10000) return [0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f)];
  return [
    0xf0 | (cp >> 18),
    0x80 | ((cp >> 12) & 0x3f),
    0x80 | ((cp >> 6) & 0x3f),
    0x80 | (cp & 0x3f),
  ];
}

/**
 * Splits the code points `[lo, hi]` into sequences of byte ranges.
 *
 * @example
 * ```ts
 * import { utf8Sequences } from "./utf8_ranges.ts";
 * utf8Sequences(0x41, 0x5a); // [[[0x41, 0x5a]]]
 * utf8Sequences(0x7f, 0x80); // [[[0x7f, 0x7f]], [[0xc2, 0xc2], [0x80, 0x80]]]
 * ```
 */
export function utf8Sequences(lo: number, hi: number): ByteRange[][] {
  const out: ByteRange[][] = [];
  const stack: [number, number][] = [[lo, Math.min(hi, MAX_CODE_POINT)]];
  while (stack.length > 0) {
    let [s, e] = stack.pop()!;
    inner: while (s <= e) {
      if (s < 0xd800 && e > 0xdfff) {
        stack.push([0xe000, e]);
        e = 0xd7ff;
        continue;
      }
      if (s >= 0xd800 && s <= 0xdfff) s = 0xe000;
      if (e >= 0xd800 && e <= 0xdfff) e = 0xd7ff;
      if (s > e) break;
      for (const max of [0x7f, 0x7ff, 0xffff]) {
        if (s <= max && max < e) {
          stack.push([max + 1, e]);
          e = max;
          continue inner;
        }
      }
      if (e <= 0x7f) {
        out.push([[s, e]]);
        break;
      }
      for (let i = 1; i < 4; i++) {
        const m = (1 << (6 * i)) - 1;
        if ((s & ~m) !== (e & ~m)) {
          if ((s & m) !== 0) {
            stack.push([(s | m) + 1, e]);
            e = s | m;
            continue inner;
          }
          if ((e & m) !== m) {
            stack.push([e & ~m, e]);
            e = (e & ~m) - 1;
            continue inner;
          }
        }
      }
      const a = encode(s), b = encode(e);
      out.push(a.map((x, i) => [x, b[i]] as const));
      break;
    }
  }
  return out;
}
