/**
 * A 2-D principal-component view of persona vectors (spec B9.2: "PCA of vectors"): the named
 * vectors (rows of one layer, or their layer means) are centred and projected onto their two
 * leading principal directions. Computed through the small n × n Gram matrix of the centred rows
 * (n vectors ≪ hidden size) with a Jacobi eigen-solver, in float64.
 *
 * @module
 */

import { layerRow, type LayerVectors } from "./hidden_states.ts";

/** One vector's coordinates on the two components. */
export interface PcaPoint {
  name: string;
  pc1: number;
  pc2: number;
}

/** The 2-D view. */
export interface Pca2d {
  points: PcaPoint[];
  /** Share of the total variance on each of the two components. */
  explained: [number, number];
}

/**
 * Eigenvalues (descending) and unit eigenvectors (columns of `vectors[i][k]`) of a symmetric
 * matrix, by cyclic Jacobi rotations.
 *
 * @example
 * ```ts
 * import { symmetricEigen } from "./pca.ts";
 * symmetricEigen([[2, 0], [0, 1]]).values; // [2, 1]
 * ```
 */
export function symmetricEigen(m: readonly (readonly number[])[]): {
  values: number[];
  vectors: number[][];
} {
  const n = m.length;
  const a = m.map((r) => [...r]);
  const v: number[][] = Array.from({ length: n }, (_, i) => {
    const row = new Array<number>(n).fill(0);
    row[i] = 1;
    return row;
  });
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += a[p][q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => a[j][j] - a[i][i]);
  return {
    values: order.map((i) => a[i][i]),
    vectors: Array.from({ length: n }, (_, r) => order.map((i) => v[r][i])),
  };
}

/**
 * PCA of named rows to two dimensions. The sign of each component is fixed so that the first
 * named vector has a non-negative coordinate (the view is otherwise sign-ambiguous).
 *
 * @example
 * ```ts
 * import { pca2d } from "./pca.ts";
 * const p = pca2d({ a: [1, 0, 0], b: [-1, 0, 0], c: [0, 2, 0] });
 * console.log(p.explained[0] > p.explained[1]); // true
 * ```
 */
export function pca2d(rows: Readonly<Record<string, ArrayLike<number>>>): Pca2d {
  const names = Object.keys(rows);
  if (names.length < 2) throw new RangeError("PCA needs two or more vectors");
  const d = rows[names[0]].length;
  const mean = new Float64Array(d);
  for (const n of names) {
    if (rows[n].length !== d) {
      throw new RangeError(`vector "${n}" has ${rows[n].length} values, "${names[0]}" ${d}`);
    }
    for (let j = 0; j < d; j++) mean[j] += rows[n][j] / names.length;
  }
  const centred = names.map((n) => Float64Array.from(rows[n], (x, j) => x - mean[j]));
  const gram = centred.map((x) =>
    centred.map((y) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[j] * y[j];
      return s;
    })
  );
  const { values, vectors } = symmetricEigen(gram);
  const total = values.reduce((s, x) => s + Math.max(0, x), 0);
  // Scores on component k are u_k · sqrt(λ_k) (u_k the Gram eigenvector).
  const score = (k: number) => {
    const lambda = Math.max(0, values[k] ?? 0);
    const col = names.map((_, i) => (vectors[i]?.[k] ?? 0) * Math.sqrt(lambda));
    const sign = col[0] < 0 ? -1 : 1;
    return col.map((x) => x * sign);
  };
  const s1 = score(0), s2 = score(1);
  return {
    points: names.map((name, i) => ({ name, pc1: s1[i], pc2: s2[i] })),
    explained: [
      total > 0 ? Math.max(0, values[0]) / total : 0,
      total > 0 ? Math.max(0, values[1] ?? 0) / total : 0,
    ],
  };
}

/**
 * The rows a PCA view uses: layer `layer` of every vector, or (layer `"mean"`) each vector's mean
 * over rows 1..L.
 */
export function pcaRows(
  vectors: Readonly<Record<string, LayerVectors>>,
  layer: number | "mean",
): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const [name, v] of Object.entries(vectors)) {
    if (layer === "mean") {
      const m = new Float64Array(v.cols);
      for (let l = 1; l < v.rows; l++) {
        const r = layerRow(v, l);
        for (let j = 0; j < v.cols; j++) m[j] += r[j] / (v.rows - 1);
      }
      out[name] = m;
    } else out[name] = Float64Array.from(layerRow(v, layer));
  }
  return out;
}
