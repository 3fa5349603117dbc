/**
 * A plain float64 reference forward pass of a Llama-family decoder, written with naive loops and
 * independent of ONNX. Test-only: it is the oracle for the ONNX graph, LoRA and steering.
 *
 * Conventions follow Hugging Face `transformers`:
 * - `hiddenStates[0]` is the embedding output, `hiddenStates[j]` the residual after block `j-1`
 *   (hook point `layers.{j-1}.out`), and the last entry has the final norm applied (after edits).
 * - Default `positionIds` are `cumsum(mask) - 1` with masked positions set to 1.
 * - Masked (padding) query positions attend to nothing; their values are zeros from attention and
 *   carry no meaning. Compare only positions whose mask is 1.
 *
 * With `float32: true` the same loops run as a plain float32 program would: every value is
 * rounded to float32 when it is stored, and every sum is accumulated in float32 one term at a
 * time (exp, sqrt, cos and sin are evaluated in float64 and rounded; rotary angles are taken in
 * float64, as the engine's cos/sin tables are). Inputs (weights, edit vectors, what a residual
 * callback returns before it is rounded) are used as given: pass float32 data. It estimates how
 * far from float64 float32 arithmetic lands on given inputs: one float32 evaluation, one order of
 * sums, so a sample of float32's error rather than a bound on every float32 engine's.
 *
 * @module
 */

import type { DecoderConfig } from "../config.ts";

/** Per-token vectors, `[batch][seq]` → vector. */
export type TokenRows = Float64Array[][];

/** Any weight map with HF names; data may be float32 or float64. */
export type ReferenceWeights = Map<string, { shape: number[]; data: ArrayLike<number> }>;

/** One residual edit applied after a block. */
export interface ReferenceEdit {
  /** Block index i (0-based): applies at `layers.{i}.out` = `hiddenStates[i+1]`. */
  block: number;
  /** Direction, length hiddenSize. */
  vector: ArrayLike<number>;
  /** Coefficient per position (default 1 everywhere); 0 leaves the position alone. */
  positions?: (b: number, s: number) => number;
  /** `add` (default): h += c·v. `ablate`: h -= c·(h·u)u with u = v/|v|. */
  type?: "add" | "ablate";
}

/** Called with the residual after each block; mutate it in place or return a replacement. */
export type ResidualCallback = (block: number, residual: TokenRows) => TokenRows | void;

/**
 * Called after each linear layer with its hook name (`layers.{i}.attn.q_proj`,
 * `layers.{i}.mlp.down_proj`, `lm_head`, …), its input and output; may return a new output
 * (e.g. `y + B·A·x` for LoRA).
 */
export type LinearHook = (name: string, x: TokenRows, y: TokenRows) => TokenRows | void;

/** Inputs of {@link referenceForward}. */
export interface ReferenceInputs {
  /** Token ids `[B][S]`. */
  inputIds: number[][];
  /** 1 = real token, 0 = padding (left padding); default all ones. */
  attentionMask?: number[][];
  /** Default {@link defaultPositionIds} of the mask. */
  positionIds?: number[][];
  /** Residual edits after blocks: a list, or a callback run after every block. */
  edits?: ReferenceEdit[] | ResidualCallback;
  /** Observes or replaces every linear layer's output. */
  linearHook?: LinearHook;
  /** Evaluates in float32 arithmetic (see the module doc); default false (float64). */
  float32?: boolean;
}

/** Rounding after each operation: none (float64) or to float32. */
export type Rounding = (x: number) => number;
const exact: Rounding = (x) => x;

/**
 * The rounding of {@link ReferenceInputs.float32}: `Math.fround` in float32 mode, else none.
 *
 * @example
 * ```ts
 * import { rounding } from "./reference.ts";
 * rounding(true)(0.1); // 0.10000000149011612
 * rounding(false)(0.1); // 0.1
 * ```
 */
export function rounding(float32 = false): Rounding {
  return float32 ? Math.fround : exact;
}

/** Outputs of {@link referenceForward}. */
export interface ReferenceOutput {
  /** `[B][S]` → vocab-size logits. */
  logits: TokenRows;
  /** `[L+1][B][S]` → hidden-size states, HF convention. */
  hiddenStates: TokenRows[];
}

/**
 * RMSNorm: `x / sqrt(mean(x²) + eps) * w`.
 *
 * @example
 * ```ts
 * import { rmsNorm } from "./reference.ts";
 * rmsNorm([3, 4], [1, 1], 0); // [3/√12.5, 4/√12.5]
 * ```
 */
export function rmsNorm(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  eps: number,
  r: Rounding = exact,
): Float64Array {
  let ss = 0;
  for (let i = 0; i < x.length; i++) ss = r(ss + r(x[i] * x[i]));
  const inv = r(1 / r(Math.sqrt(r(r(ss / x.length) + eps))));
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = r(r(x[i] * inv) * w[i]);
  return out;
}

/**
 * Rotary inverse frequencies `theta^(-2i/headDim)`, with Llama-3 or linear scaling applied.
 *
 * @example
 * ```ts
 * import { ropeInvFreq } from "./reference.ts";
 * // ropeInvFreq({ headDim: 4, ropeTheta: 100, ropeScaling: null }) → [1, 0.1]
 * ```
 */
export function ropeInvFreq(
  config: Pick<DecoderConfig, "headDim" | "ropeTheta" | "ropeScaling">,
): Float64Array {
  const half = config.headDim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = Math.pow(config.ropeTheta, -(2 * i) / config.headDim);
  const rs = config.ropeScaling;
  if (rs?.type === "linear") {
    for (let i = 0; i < half; i++) inv[i] /= rs.factor;
  } else if (rs?.type === "llama3") {
    const lowWavelen = rs.originalMaxPositionEmbeddings / rs.lowFreqFactor;
    const highWavelen = rs.originalMaxPositionEmbeddings / rs.highFreqFactor;
    for (let i = 0; i < half; i++) {
      const wavelen = (2 * Math.PI) / inv[i];
      if (wavelen < highWavelen) continue;
      if (wavelen > lowWavelen) {
        inv[i] /= rs.factor;
        continue;
      }
      const smooth = (rs.originalMaxPositionEmbeddings / wavelen - rs.lowFreqFactor) /
        (rs.highFreqFactor - rs.lowFreqFactor);
      inv[i] = (1 - smooth) * inv[i] / rs.factor + smooth * inv[i];
    }
  }
  return inv;
}

/**
 * Rotates one head vector in place for position `pos` (HF `rotate_half` layout: dimension `i`
 * pairs with `i + headDim/2`).
 *
 * @example
 * ```ts
 * import { applyRope } from "./reference.ts";
 * const v = new Float64Array([1, 0]);
 * applyRope(v, 0, 2, new Float64Array([1]), Math.PI / 2); // v ≈ [0, 1]
 * ```
 */
export function applyRope(
  vec: Float64Array,
  offset: number,
  headDim: number,
  invFreq: ArrayLike<number>,
  pos: number,
  r: Rounding = exact,
): void {
  const half = headDim / 2;
  for (let i = 0; i < half; i++) {
    const a = pos * invFreq[i];
    const c = r(Math.cos(a)), s = r(Math.sin(a));
    const x1 = vec[offset + i], x2 = vec[offset + i + half];
    vec[offset + i] = r(r(x1 * c) - r(x2 * s));
    vec[offset + i + half] = r(r(x2 * c) + r(x1 * s));
  }
}

/**
 * Position ids as transformers.js builds them: `cumsum(mask) - 1`, masked positions set to 1.
 *
 * @example
 * ```ts
 * import { defaultPositionIds } from "./reference.ts";
 * defaultPositionIds([[0, 0, 1, 1]]); // [[1, 1, 0, 1]]
 * ```
 */
export function defaultPositionIds(mask: number[][]): number[][] {
  return mask.map((row) => {
    let c = 0;
    return row.map((m) => {
      c += m ? 1 : 0;
      return m ? c - 1 : 1;
    });
  });
}

function tensor(weights: ReferenceWeights, name: string, shape: number[]): ArrayLike<number> {
  const t = weights.get(name);
  if (!t) throw new RangeError(`reference: weight "${name}" is missing`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) {
    throw new RangeError(`reference: weight "${name}" has ${t.data.length} values, expected ${n}`);
  }
  return t.data;
}

function linear(
  x: TokenRows,
  w: ArrayLike<number>,
  bias: ArrayLike<number> | null,
  outDim: number,
  inDim: number,
  r: Rounding,
): TokenRows {
  return x.map((row) =>
    row.map((v) => {
      const y = new Float64Array(outDim);
      for (let o = 0; o < outDim; o++) {
        let acc = 0;
        const base = o * inDim;
        for (let i = 0; i < inDim; i++) acc = r(acc + r(w[base + i] * v[i]));
        y[o] = bias ? r(acc + bias[o]) : acc;
      }
      return y;
    })
  );
}

function clone(rows: TokenRows): TokenRows {
  return rows.map((r) => r.map((v) => Float64Array.from(v)));
}

/**
 * Runs the decoder on a batch in float64 (or float32, `inputs.float32`) and returns logits and all
 * hidden states.
 *
 * @example
 * ```ts
 * import { referenceForward } from "./reference.ts";
 * // const { logits, hiddenStates } = referenceForward(config, weights, { inputIds: [[1, 2, 3]] });
 * // logits[0][2] → next-token logits after token 3
 * ```
 */
export function referenceForward(
  config: DecoderConfig,
  weights: ReferenceWeights,
  inputs: ReferenceInputs,
): ReferenceOutput {
  const { hiddenSize: d, numHeads: nh, numKvHeads: nkv, headDim: hd } = config;
  const { intermediateSize: f, vocabSize: vocab, rmsNormEps: eps } = config;
  const ids = inputs.inputIds;
  const B = ids.length;
  const S = B ? ids[0].length : 0;
  for (const row of ids) {
    if (row.length !== S) throw new RangeError("reference: inputIds rows differ in length");
    for (const t of row) {
      if (!Number.isInteger(t) || t < 0 || t >= vocab) {
        throw new RangeError(`reference: token id ${t} is outside [0, ${vocab})`);
      }
    }
  }
  const mask = inputs.attentionMask ?? ids.map((r) => r.map(() => 1));
  const pos = inputs.positionIds ?? defaultPositionIds(mask);
  const hook = inputs.linearHook;
  const r = rounding(inputs.float32);
  const lin = (name: string, x: TokenRows, w: string, b: string | null, o: number, i: number) => {
    const y = linear(x, tensor(weights, w, [o, i]), b ? tensor(weights, b, [o]) : null, o, i, r);
    const out = hook?.(name, x, y) ?? y;
    // A hook's output is stored like every other value.
    if (inputs.float32) { for (const v of out.flat()) v.set(v.map(r)); }
    return out;
  };

  const emb = tensor(weights, "model.embed_tokens.weight", [vocab, d]);
  let h: TokenRows = ids.map((row) =>
    row.map((t) => Float64Array.from({ length: d }, (_, i) => r(emb[t * d + i])))
  );
  const hiddenStates: TokenRows[] = [clone(h)];
  const invFreq = ropeInvFreq(config);
  const group = nh / nkv;
  const scale = r(1 / Math.sqrt(hd));

  for (let l = 0; l < config.numLayers; l++) {
    const p = `model.layers.${l}`;
    const hk = `layers.${l}`;
    const bias = config.attentionBias;
    const ln1 = tensor(weights, `${p}.input_layernorm.weight`, [d]);
    const x = h.map((row) => row.map((v) => rmsNorm(v, ln1, eps, r)));
    const q = lin(
      `${hk}.attn.q_proj`,
      x,
      `${p}.self_attn.q_proj.weight`,
      bias ? `${p}.self_attn.q_proj.bias` : null,
      nh * hd,
      d,
    );
    const k = lin(
      `${hk}.attn.k_proj`,
      x,
      `${p}.self_attn.k_proj.weight`,
      bias ? `${p}.self_attn.k_proj.bias` : null,
      nkv * hd,
      d,
    );
    const v = lin(
      `${hk}.attn.v_proj`,
      x,
      `${p}.self_attn.v_proj.weight`,
      bias ? `${p}.self_attn.v_proj.bias` : null,
      nkv * hd,
      d,
    );
    // q/k norm (Qwen3) then RoPE, per head; copies so hooks' views stay untouched.
    const qr = clone(q), kr = clone(k);
    const qn = config.qkNorm ? tensor(weights, `${p}.self_attn.q_norm.weight`, [hd]) : null;
    const kn = config.qkNorm ? tensor(weights, `${p}.self_attn.k_norm.weight`, [hd]) : null;
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < S; s++) {
        for (let a = 0; a < nh; a++) {
          if (qn) {
            qr[b][s].set(rmsNorm(qr[b][s].subarray(a * hd, (a + 1) * hd), qn, eps, r), a * hd);
          }
          applyRope(qr[b][s], a * hd, hd, invFreq, pos[b][s], r);
        }
        for (let a = 0; a < nkv; a++) {
          if (kn) {
            kr[b][s].set(rmsNorm(kr[b][s].subarray(a * hd, (a + 1) * hd), kn, eps, r), a * hd);
          }
          applyRope(kr[b][s], a * hd, hd, invFreq, pos[b][s], r);
        }
      }
    }
    const attn: TokenRows = ids.map((row) => row.map(() => new Float64Array(nh * hd)));
    for (let b = 0; b < B; b++) {
      for (let a = 0; a < nh; a++) {
        const kvh = Math.floor(a / group);
        for (let i = 0; i < S; i++) {
          if (!mask[b][i]) continue;
          const scores: number[] = [];
          const keys: number[] = [];
          let max = -Infinity;
          for (let j = 0; j <= i; j++) {
            if (!mask[b][j]) continue;
            let dot = 0;
            for (let e = 0; e < hd; e++) {
              dot = r(dot + r(qr[b][i][a * hd + e] * kr[b][j][kvh * hd + e]));
            }
            dot = r(dot * scale);
            scores.push(dot);
            keys.push(j);
            if (dot > max) max = dot;
          }
          let sum = 0;
          for (let n = 0; n < scores.length; n++) {
            sum = r(sum + (scores[n] = r(Math.exp(r(scores[n] - max)))));
          }
          const out = attn[b][i];
          for (let n = 0; n < keys.length; n++) {
            const pj = r(scores[n] / sum);
            const vj = v[b][keys[n]];
            for (let e = 0; e < hd; e++) {
              out[a * hd + e] = r(out[a * hd + e] + r(pj * vj[kvh * hd + e]));
            }
          }
        }
      }
    }
    const o = lin(`${hk}.attn.o_proj`, attn, `${p}.self_attn.o_proj.weight`, null, d, nh * hd);
    h = h.map((row, b) => row.map((vec, s) => vec.map((val, i) => r(val + o[b][s][i]))));

    const ln2 = tensor(weights, `${p}.post_attention_layernorm.weight`, [d]);
    const x2 = h.map((row) => row.map((vec) => rmsNorm(vec, ln2, eps, r)));
    const gate = lin(`${hk}.mlp.gate_proj`, x2, `${p}.mlp.gate_proj.weight`, null, f, d);
    const up = lin(`${hk}.mlp.up_proj`, x2, `${p}.mlp.up_proj.weight`, null, f, d);
    const act = gate.map((row, b) =>
      row.map((g, s) => g.map((gv, i) => r(r(gv / r(1 + r(Math.exp(-gv)))) * up[b][s][i])))
    );
    const down = lin(`${hk}.mlp.down_proj`, act, `${p}.mlp.down_proj.weight`, null, d, f);
    h = h.map((row, b) => row.map((vec, s) => vec.map((val, i) => r(val + down[b][s][i]))));

    h = applyEdits(l, h, inputs.edits, d, r);
    if (inputs.float32) { for (const v of h.flat()) v.set(v.map(r)); }
    hiddenStates.push(clone(h));
  }

  const normW = tensor(weights, "model.norm.weight", [d]);
  const final = h.map((row) => row.map((vec) => rmsNorm(vec, normW, eps, r)));
  hiddenStates[config.numLayers] = clone(final);
  const headName = config.tieWordEmbeddings ? "model.embed_tokens.weight" : "lm_head.weight";
  const logits = lin("lm_head", final, headName, null, vocab, d);
  return { logits, hiddenStates };
}

function applyEdits(
  block: number,
  h: TokenRows,
  edits: ReferenceEdit[] | ResidualCallback | undefined,
  d: number,
  r: Rounding,
): TokenRows {
  if (!edits) return h;
  if (typeof edits === "function") return edits(block, h) ?? h;
  for (const e of edits) {
    if (e.block !== block) continue;
    if (e.vector.length !== d) {
      throw new RangeError(`reference: edit vector has length ${e.vector.length}, expected ${d}`);
    }
    let norm = 0;
    for (let i = 0; i < d; i++) norm = r(norm + r(e.vector[i] * e.vector[i]));
    norm = r(Math.sqrt(norm));
    for (let b = 0; b < h.length; b++) {
      for (let s = 0; s < h[b].length; s++) {
        const c = e.positions ? e.positions(b, s) : 1;
        if (c === 0) continue;
        const row = h[b][s];
        if ((e.type ?? "add") === "add") {
          for (let i = 0; i < d; i++) row[i] = r(row[i] + r(c * e.vector[i]));
        } else if (norm > 0) {
          let dot = 0;
          for (let i = 0; i < d; i++) dot = r(dot + r(row[i] * r(e.vector[i] / norm)));
          for (let i = 0; i < d; i++) row[i] = r(row[i] - r(r(c * dot) * r(e.vector[i] / norm)));
        }
      }
    }
  }
  return h;
}
