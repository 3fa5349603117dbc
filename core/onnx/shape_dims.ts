/**
 * Dimension arithmetic for shape inference: broadcasting, products and sums of dims that may be
 * symbolic (`"batch_size"`, `"past_sequence_length+sequence_length"`).
 *
 * @module
 */

import { withCode } from "../errors.ts";
import { type Dim, formatShape, type Shape } from "./ir.ts";

function wrap(d: Dim): string {
  return typeof d === "string" && /[+\-*/]/.test(d) ? `(${d})` : String(d);
}

/**
 * `a + b` for dims.
 *
 * @example
 * ```ts
 * import { addDims } from "./shape_dims.ts";
 * console.log(addDims("past", "seq")); // "past+seq"
 * ```
 */
export function addDims(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a + b;
  if (a === 0) return b;
  if (b === 0) return a;
  return `${a}+${b}`;
}

/**
 * `a - b` for dims.
 *
 * @example
 * ```ts
 * import { subDims } from "./shape_dims.ts";
 * console.log(subDims(7, 3)); // 4
 * ```
 */
export function subDims(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (b === 0) return a;
  if (a === b) return 0;
  return `${a}-${wrap(b)}`;
}

/**
 * `a * b` for dims.
 *
 * @example
 * ```ts
 * import { mulDims } from "./shape_dims.ts";
 * console.log(mulDims("b", 4)); // "b*4"
 * ```
 */
export function mulDims(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return a * b;
  if (a === 1) return b;
  if (b === 1) return a;
  if (a === 0 || b === 0) return 0;
  return `${wrap(a)}*${wrap(b)}`;
}

/**
 * `a / b` (integer division) for dims.
 *
 * @example
 * ```ts
 * import { divDims } from "./shape_dims.ts";
 * console.log(divDims("n", "n")); // 1
 * ```
 */
export function divDims(a: Dim, b: Dim): Dim {
  if (typeof a === "number" && typeof b === "number") return Math.trunc(a / b);
  if (b === 1) return a;
  if (a === b) return 1;
  return `${wrap(a)}/${wrap(b)}`;
}

/** A product of dims as a numeric coefficient times a multiset of symbolic factors. */
interface Monomial {
  coef: number;
  symbols: string[];
}

function monomial(dims: readonly Dim[]): Monomial {
  let coef = 1;
  const symbols: string[] = [];
  for (const d of dims) {
    if (typeof d === "number") coef *= d;
    else symbols.push(d);
  }
  return { coef, symbols };
}

/**
 * Solves `known × x = total` for one unknown dim (Reshape's `-1`), cancelling symbolic factors.
 * Returns undefined when the division leaves something that is not a plain product.
 *
 * @example
 * ```ts
 * import { quotientDim } from "./shape_dims.ts";
 * console.log(quotientDim(["b", 4, "t"], ["b", 2])); // "2*t"
 * ```
 */
export function quotientDim(total: readonly Dim[], known: readonly Dim[]): Dim | undefined {
  const t = monomial(total);
  const k = monomial(known);
  if (k.coef === 0 || t.coef % k.coef !== 0) return undefined;
  const rest = [...t.symbols];
  for (const s of k.symbols) {
    const i = rest.indexOf(s);
    if (i < 0) return undefined;
    rest.splice(i, 1);
  }
  const coef = t.coef / k.coef;
  if (rest.length === 0) return coef;
  const parts = coef === 1 ? rest : [String(coef), ...rest];
  return parts.map(wrap).join("*");
}

/**
 * Product of dims (a number when all are numbers).
 *
 * @example
 * ```ts
 * import { productDims } from "./shape_dims.ts";
 * console.log(productDims([2, 3, 4])); // 24
 * ```
 */
export function productDims(dims: readonly Dim[]): Dim {
  return dims.reduce<Dim>((acc, d) => mulDims(acc, d), 1);
}

/**
 * Numpy-style multidirectional broadcast of shapes. Two different symbolic dims are assumed
 * equal at run time (the first one is kept).
 *
 * @example
 * ```ts
 * import { broadcastShapes } from "./shape_dims.ts";
 * console.log(broadcastShapes([["b", 1, 4], [3, 1]], "Add")); // ["b", 3, 4]
 * ```
 */
export function broadcastShapes(shapes: readonly Shape[], where: string): Shape {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const d = s[s.length - rank + i];
      if (d === undefined || d === 1) continue;
      if (dim === 1) dim = d;
      else if (typeof dim === "number" && typeof d === "number" && dim !== d) {
        throw withCode(
          new RangeError(
            `${where}: shapes ${
              shapes.map(formatShape).join(" and ")
            } do not broadcast (dim ${dim} vs ${d}); fix the operand shapes`,
          ),
          "E_GRAPH",
        );
      } else if (typeof dim === "string" && typeof d === "number") dim = d;
    }
    out.push(dim);
  }
  return out;
}

/**
 * Normalizes a possibly negative axis against a rank, with a clear error.
 *
 * @example
 * ```ts
 * import { normalizeAxis } from "./shape_dims.ts";
 * console.log(normalizeAxis(-1, 3, "Softmax")); // 2
 * ```
 */
export function normalizeAxis(axis: number, rank: number, where: string): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw withCode(
      new RangeError(
        `${where}: axis ${axis} is out of range for rank ${rank}; use -${rank}..${rank - 1}`,
      ),
      "E_GRAPH",
    );
  }
  return a;
}
