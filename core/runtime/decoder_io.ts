/**
 * Feeds of one call of an exported decoder graph (transformers.js I/O names):
 * `input_ids` int64 [B, S], `attention_mask` int64 [B, past+S], `position_ids` int64 [B, S],
 * `past_key_values.{i}.key/value` float32 [B, n_kv, past, d], `num_logits_to_keep` int64 scalar,
 * and, in graphs built with steering, `steer.{i}.vectors` [K, hidden], `steer.{i}.scales` [B, S, K],
 * `ablate.{i}.directions` [J, hidden], `ablate.{i}.mask` [B, S, J] for every block i.
 *
 * Steering position modes (see core/contracts/steerer.ts) over a prefill call followed by one-token
 * decode calls: `all` = every real position of every call; `prompt` = every real position of the
 * prefill call and nothing afterwards; `response` = only the last position of the prefill call
 * (whose output predicts the first response token), then every decode token. Padding positions
 * are never edited.
 *
 * @module
 */

import type { ResidualEdit } from "../contracts/steerer.ts";
import { withCode } from "../errors.ts";
import { tensor, type WireTensor } from "./tensor.ts";

/** Sizes of a decoder that its feeds depend on. */
export interface DecoderShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  hiddenSize: number;
  /** Query heads (sizes attention scratch); default hiddenSize / headDim. */
  numHeads?: number;
}

/** Which call of a generation a feed set is for. */
export type CallPhase = "prefill" | "decode";

/** Input name of the past key or value of block `i`. */
export function pastName(i: number, kind: "key" | "value"): string {
  return `past_key_values.${i}.${kind}`;
}

/** Output name of the present key or value of block `i`. */
export function presentName(i: number, kind: "key" | "value"): string {
  return `present.${i}.${kind}`;
}

/** Output name of hidden state `j` (0 = embeddings, j = output of block j-1). */
export function hiddenStateName(j: number): string {
  return `hidden_states.${j}`;
}

/**
 * Empty KV cache feeds `[batch, n_kv, 0, d]` for the first call (values `[batch, n_kv, d, 0]`
 * with `transposedValues`, the layout of resident-cache graphs).
 *
 * @example
 * ```ts
 * import { emptyPast } from "./decoder_io.ts";
 * const past = emptyPast({ numLayers: 2, numKvHeads: 1, headDim: 4, hiddenSize: 8 }, 3);
 * console.log(past["past_key_values.1.value"].dims); // [3, 1, 0, 4]
 * ```
 */
export function emptyPast(
  shape: DecoderShape,
  batch: number,
  transposedValues = false,
): Record<string, WireTensor> {
  const out: Record<string, WireTensor> = {};
  const { numKvHeads: h, headDim: d } = shape;
  for (let i = 0; i < shape.numLayers; i++) {
    out[pastName(i, "key")] = tensor("float32", [batch, h, 0, d]);
    out[pastName(i, "value")] = tensor(
      "float32",
      transposedValues ? [batch, h, d, 0] : [batch, h, 0, d],
    );
  }
  return out;
}

/**
 * Position ids for the last `seq` columns of an attention mask `[batch, total]`:
 * `cumsum(mask) - 1`, with masked (padding) positions set to 1 as Hugging Face does.
 *
 * @example
 * ```ts
 * import { positionIds } from "./decoder_io.ts";
 * positionIds(new BigInt64Array([0n, 1n, 1n]), 1, 3, 3); // [1n, 0n, 1n]
 * ```
 */
export function positionIds(
  mask: BigInt64Array,
  batch: number,
  total: number,
  seq: number,
): BigInt64Array {
  const out = new BigInt64Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    let cum = 0n;
    for (let t = 0; t < total; t++) {
      const m = mask[b * total + t];
      cum += m;
      const s = t - (total - seq);
      if (s >= 0) out[b * seq + s] = m === 0n ? 1n : cum - 1n;
    }
  }
  return out;
}

/** Validates residual edits against a decoder's sizes; throws RangeError naming the bad field. */
export function checkEdits(edits: readonly ResidualEdit[], shape: DecoderShape): void {
  edits.forEach((e, k) => {
    const where = `edits[${k}]`;
    if (!Number.isInteger(e.block) || e.block < 0 || e.block >= shape.numLayers) {
      throw withCode(
        new RangeError(
          `${where}.block is ${e.block}; pass a block index in 0..${shape.numLayers - 1} ` +
            "(hook layers.{i}.out = HF hidden_states[i+1])",
        ),
        "E_USAGE",
      );
    }
    if (e.type !== "add" && e.type !== "ablate") {
      throw withCode(
        new TypeError(`${where}.type is ${JSON.stringify(e.type)}; use "add" or "ablate"`),
        "E_USAGE",
      );
    }
    if (!(e.vector instanceof Float32Array) || e.vector.length !== shape.hiddenSize) {
      throw withCode(
        new RangeError(
          `${where}.vector has length ${e.vector?.length}; it must be a Float32Array of the hidden size ${shape.hiddenSize}`,
        ),
        "E_USAGE",
      );
    }
    if (e.type === "add" && !Number.isFinite(e.coefficient)) {
      throw withCode(
        new RangeError(`${where}.coefficient is ${e.coefficient}; pass a finite number`),
        "E_USAGE",
      );
    }
    if (!["all", "prompt", "response"].includes(e.positions)) {
      throw withCode(
        new TypeError(
          `${where}.positions is ${JSON.stringify(e.positions)}; use "all", "prompt" or "response"`,
        ),
        "E_USAGE",
      );
    }
    if (e.type === "ablate" && !(norm(e.vector) > 0)) {
      throw withCode(
        new RangeError(`${where}.vector is zero; an ablation needs a nonzero direction`),
        "E_USAGE",
      );
    }
  });
}

function norm(v: Float32Array): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/**
 * Is position `s` of a `seq`-long call edited under `mode`? A prompt prefilled in several
 * chunks is one prefill: `final` is false for every chunk but the last, whose last position is
 * the one `response` edits.
 */
export function positionActive(
  mode: ResidualEdit["positions"],
  phase: CallPhase,
  s: number,
  seq: number,
  final = true,
): boolean {
  if (mode === "all") return true;
  if (mode === "prompt") return phase === "prefill";
  return phase === "decode" || (final && s === seq - 1);
}

/**
 * Steering feeds for every block of a steering-enabled graph. Blocks without edits of a kind get
 * one zero slot of it (a zero vector at scale 0, a zero direction under mask 0), which changes no
 * value and keeps every input non-empty (onnxruntime's webgpu provider crashes on zero-sized
 * inputs). Ablation directions are fed unit-normalized (the graph computes h -= (h·u)u).
 * `valid[b * seq + s]` = 0 marks padding, which is never edited.
 *
 * @example
 * ```ts
 * import { steeringFeeds } from "./decoder_io.ts";
 * const shape = { numLayers: 2, numKvHeads: 1, headDim: 2, hiddenSize: 2 };
 * const f = steeringFeeds(shape, [{ block: 1, type: "add", vector: new Float32Array([1, 0]),
 *   coefficient: 4, positions: "response" }], { batch: 1, seq: 3, phase: "prefill" });
 * console.log(f["steer.1.scales"].data); // [0, 0, 4]
 * ```
 */
export function steeringFeeds(
  shape: DecoderShape,
  edits: readonly ResidualEdit[],
  call: {
    batch: number;
    seq: number;
    phase: CallPhase;
    valid?: ArrayLike<number | bigint>;
    /** False for a prefill chunk that is not the prompt's last (default true). */
    final?: boolean;
  },
): Record<string, WireTensor> {
  const { batch, seq, phase, valid, final = true } = call;
  const out: Record<string, WireTensor> = {};
  const h = shape.hiddenSize;
  for (let i = 0; i < shape.numLayers; i++) {
    const adds = edits.filter((e) => e.block === i && e.type === "add");
    const abls = edits.filter((e) => e.block === i && e.type === "ablate");
    const K = Math.max(1, adds.length);
    const J = Math.max(1, abls.length);
    const vectors = new Float32Array(K * h);
    adds.forEach((e, k) => vectors.set(e.vector, k * h));
    const dirs = new Float32Array(J * h);
    abls.forEach((e, j) => {
      const n = norm(e.vector);
      for (let x = 0; x < h; x++) dirs[j * h + x] = e.vector[x] / n;
    });
    const scales = new Float32Array(batch * seq * K);
    const mask = new Float32Array(batch * seq * J);
    for (let b = 0; b < batch; b++) {
      for (let s = 0; s < seq; s++) {
        if (valid && Number(valid[b * seq + s]) === 0) continue;
        const row = b * seq + s;
        adds.forEach((e, k) => {
          if (positionActive(e.positions, phase, s, seq, final)) {
            scales[row * K + k] = e.coefficient;
          }
        });
        abls.forEach((e, j) => {
          if (positionActive(e.positions, phase, s, seq, final)) mask[row * J + j] = 1;
        });
      }
    }
    out[`steer.${i}.vectors`] = tensor("float32", [K, h], vectors);
    out[`steer.${i}.scales`] = tensor("float32", [batch, seq, K], scales);
    out[`ablate.${i}.directions`] = tensor("float32", [J, h], dirs);
    out[`ablate.${i}.mask`] = tensor("float32", [batch, seq, J], mask);
  }
  return out;
}

/** Does a graph (by its input names) take steering inputs? */
export function hasSteeringInputs(inputNames: readonly string[]): boolean {
  return inputNames.includes("steer.0.vectors");
}
