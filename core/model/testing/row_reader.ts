/**
 * A streamed weight for tests: read by row slices only (a whole read throws), each slice it is
 * asked for recorded in order.
 *
 * @module
 */

/**
 * A `[rows, cols]` weight over `values` that is read by row slices only, and the slices asked
 * for (`[first, end)` pairs, in order).
 *
 * @example
 * ```ts
 * import { rowReader } from "./row_reader.ts";
 * const { reader, reads } = rowReader(new Float32Array(6), 2);
 * reader.rows(1, 3); // values of rows 1 and 2
 * console.log(reads); // [[1, 3]]
 * ```
 */
export function rowReader(values: Float32Array, cols: number): {
  reader: (() => Float32Array) & { rows: (first: number, end: number) => Float32Array };
  reads: [number, number][];
} {
  const reads: [number, number][] = [];
  const reader = Object.assign(() => {
    throw new Error("a streamed weight is read by rows, never whole");
  }, {
    rows: (first: number, end: number) => {
      reads.push([first, end]);
      return values.slice(first * cols, end * cols);
    },
  });
  return { reader, reads };
}
