/**
 * Geometry across persona vectors (spec B9): cosine matrices per layer, of layer-averaged
 * vectors and averaged over layers; orthogonal / opposite classification; the cross-trait
 * interference score with a least-squares fit; and linear combinations of vectors.
 *
 * @module
 */

import { layerRow, type LayerVectors } from "./hidden_states.ts";
import { cosineSimilarity } from "./projection.ts";

/** A symmetric matrix over named vectors. */
export interface NamedMatrix {
  names: string[];
  matrix: number[][];
}

function checkSameShape(vectors: Record<string, LayerVectors>): { rows: number; cols: number } {
  const entries = Object.entries(vectors);
  if (entries.length === 0) {
    throw new RangeError("no vectors given; pass at least one named vector");
  }
  const [, first] = entries[0];
  for (const [name, v] of entries) {
    if (v.rows !== first.rows || v.cols !== first.cols) {
      throw new RangeError(
        `vector "${name}" is [${v.rows}, ${v.cols}] but "${
          entries[0][0]
        }" is [${first.rows}, ${first.cols}]; ` +
          `compare vectors of one model`,
      );
    }
  }
  return first;
}

function matrixOf(names: string[], rowOf: (name: string) => ArrayLike<number>): number[][] {
  return names.map((a) => names.map((b) => cosineSimilarity(rowOf(a), rowOf(b))));
}

/**
 * Cosine matrix at one hidden-state index.
 *
 * @example
 * ```ts
 * import { cosineMatrix } from "./geometry.ts";
 * const m = cosineMatrix({ a: { rows: 1, cols: 2, data: new Float32Array([1, 0]) },
 *   b: { rows: 1, cols: 2, data: new Float32Array([-1, 0]) } }, 0);
 * console.log(m.matrix[0][1]); // -1
 * ```
 */
export function cosineMatrix(vectors: Record<string, LayerVectors>, layer: number): NamedMatrix {
  checkSameShape(vectors);
  const names = Object.keys(vectors);
  return { names, matrix: matrixOf(names, (n) => layerRow(vectors[n], layer)) };
}

/**
 * Cosine matrices for every row 0..L.
 *
 * @example
 * ```ts
 * import { cosineMatricesByLayer } from "./geometry.ts";
 * declare const vs: Record<string, import("./hidden_states.ts").LayerVectors>;
 * const perLayer = cosineMatricesByLayer(vs);
 * ```
 */
export function cosineMatricesByLayer(vectors: Record<string, LayerVectors>): NamedMatrix[] {
  const { rows } = checkSameShape(vectors);
  return Array.from({ length: rows }, (_, l) => cosineMatrix(vectors, l));
}

/**
 * Cosine matrix of the layer-averaged vectors (`v.mean(0)`), optionally over a row range.
 *
 * @example
 * ```ts
 * import { meanVectorCosineMatrix } from "./geometry.ts";
 * declare const vs: Record<string, import("./hidden_states.ts").LayerVectors>;
 * const m = meanVectorCosineMatrix(vs);
 * ```
 */
export function meanVectorCosineMatrix(
  vectors: Record<string, LayerVectors>,
  layers?: readonly number[],
): NamedMatrix {
  const { rows, cols } = checkSameShape(vectors);
  const use = layers ?? Array.from({ length: rows }, (_, l) => l);
  const names = Object.keys(vectors);
  const means = new Map(names.map((n) => {
    const m = new Float64Array(cols);
    for (const l of use) {
      const r = layerRow(vectors[n], l);
      for (let j = 0; j < cols; j++) m[j] += r[j] / use.length;
    }
    return [n, m];
  }));
  return { names, matrix: matrixOf(names, (n) => means.get(n)!) };
}

/**
 * Element-wise mean of per-layer cosine matrices (optionally over selected rows).
 *
 * @example
 * ```ts
 * import { averagedCosineMatrix } from "./geometry.ts";
 * declare const vs: Record<string, import("./hidden_states.ts").LayerVectors>;
 * const m = averagedCosineMatrix(vs, [1, 2, 3]);
 * ```
 */
export function averagedCosineMatrix(
  vectors: Record<string, LayerVectors>,
  layers?: readonly number[],
): NamedMatrix {
  const { rows } = checkSameShape(vectors);
  const use = layers ?? Array.from({ length: rows }, (_, l) => l);
  const names = Object.keys(vectors);
  const acc = names.map(() => names.map(() => 0));
  for (const l of use) {
    const m = cosineMatrix(vectors, l).matrix;
    for (let i = 0; i < names.length; i++) {
      for (let j = 0; j < names.length; j++) acc[i][j] += m[i][j] / use.length;
    }
  }
  return { names, matrix: acc };
}

/**
 * Classifies a cosine: `opposite` below −0.5, `orthogonal` when |cos| < 0.3, else `related`.
 *
 * @example
 * ```ts
 * import { classifyCosine } from "./geometry.ts";
 * console.log(classifyCosine(-0.886), classifyCosine(0.081), classifyCosine(0.72)); // opposite orthogonal related
 * ```
 */
export function classifyCosine(
  cos: number,
  thresholds: { orthogonalBelow?: number; oppositeBelow?: number } = {},
): "opposite" | "orthogonal" | "related" {
  if (cos < (thresholds.oppositeBelow ?? -0.5)) return "opposite";
  if (Math.abs(cos) < (thresholds.orthogonalBelow ?? 0.3)) return "orthogonal";
  return "related";
}

/** Judge scores of one trait on the base and the finetuned model. */
export interface ScorePair {
  base: number;
  finetuned: number;
}

/**
 * Relative trait score of finetuning on A for trait B:
 * `(B_ft − B_base) / (A_ft − A_base)`; null when A did not move.
 *
 * @example
 * ```ts
 * import { relativeTraitScore } from "./geometry.ts";
 * console.log(relativeTraitScore({ base: 11, finetuned: 69 }, { base: 2, finetuned: 67 })); // 1.1206896551724137
 * ```
 */
export function relativeTraitScore(a: ScorePair, b: ScorePair): number | null {
  const da = a.finetuned - a.base;
  return da === 0 ? null : (b.finetuned - b.base) / da;
}

/**
 * Least-squares line `y = slope·x + intercept` and Pearson r.
 *
 * @example
 * ```ts
 * import { linearFit } from "./geometry.ts";
 * console.log(linearFit([0, 1, 2], [1, 3, 5])); // { slope: 2, intercept: 1, r: 1, n: 3 }
 * ```
 */
export function linearFit(
  xs: readonly number[],
  ys: readonly number[],
): { slope: number; intercept: number; r: number; n: number } {
  if (xs.length !== ys.length || xs.length < 2) {
    throw new RangeError(
      `need two equal-length lists of at least 2 points (got ${xs.length} and ${ys.length})`,
    );
  }
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
    syy += (ys[i] - my) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r: sxy / Math.sqrt(sxx * syy), n };
}

/**
 * Linear combination `Σ c_i v_i` of whole `[L+1, d]` vectors.
 *
 * @example
 * ```ts
 * import { combineVectors } from "./geometry.ts";
 * const a = { rows: 1, cols: 2, data: new Float32Array([1, 0]) };
 * const b = { rows: 1, cols: 2, data: new Float32Array([0, 1]) };
 * console.log(combineVectors([{ vector: a, coefficient: 2 }, { vector: b, coefficient: -1 }]).data); // [2, -1]
 * ```
 */
export function combineVectors(
  entries: readonly { vector: LayerVectors; coefficient: number }[],
): LayerVectors {
  if (entries.length === 0) {
    throw new RangeError("no entries to combine; pass at least one {vector, coefficient}");
  }
  const { rows, cols } = checkSameShape(
    Object.fromEntries(entries.map((e, i) => [String(i), e.vector])),
  );
  const data = new Float32Array(rows * cols);
  const acc = new Float64Array(rows * cols);
  for (const e of entries) {
    for (let i = 0; i < acc.length; i++) acc[i] += e.coefficient * e.vector.data[i];
  }
  data.set(acc);
  return { rows, cols, data };
}
