/**
 * Steering with persona vectors (spec B5, B8): per-position coefficients for prefill and decode
 * calls under the three position modes, and the Steerer that turns steering entries plus loaded
 * vectors into residual edits.
 *
 * Layer convention: an entry's `layer` L is the Hugging Face `hidden_states` index (1..numLayers).
 * Row `v[L]` is added to the residual stream after decoder block L-1 (hook point
 * `layers.{L-1}.out`), the very state it was measured from for L < numLayers; at L = numLayers the
 * row was measured after the final norm (`hidden_states[numLayers]`) and is added before it.
 * Layer 0 (embeddings) is rejected.
 *
 * @module
 */

import type {
  ResidualEdit,
  Steerer,
  SteeringContext,
  SteeringEntry,
  SteeringPositions,
} from "../../core/contracts/steerer.ts";
import { withCode } from "../../core/errors.ts";
import type { LayerVectors } from "./hidden_states.ts";

/** A forward call during generation with a KV cache. */
export interface ForwardCall {
  /** `prefill`: one call over the whole (left-padded) prompt; `decode`: one new token. */
  phase: "prefill" | "decode";
  /** Positions in this call (1 for decode). */
  seqLen: number;
}

/**
 * The coefficient applied at each position of one call:
 * `all` → c everywhere (prompt, padding, generated tokens); `prompt` → c at every prefill
 * position, 0 in decode calls; `response` → c only at the last position of every call (the final
 * prompt token in prefill, then each generated token).
 *
 * @example
 * ```ts
 * import { positionCoefficients } from "./steering.ts";
 * console.log(positionCoefficients("response", { phase: "prefill", seqLen: 4 }, 2)); // Float32Array [0, 0, 0, 2]
 * console.log(positionCoefficients("prompt", { phase: "decode", seqLen: 1 }, 2)); // Float32Array [0]
 * ```
 */
export function positionCoefficients(
  positions: SteeringPositions,
  call: ForwardCall,
  coefficient: number,
): Float32Array {
  if (!Number.isInteger(call.seqLen) || call.seqLen < 1) {
    throw new RangeError(`seqLen is ${call.seqLen}; a forward call covers at least 1 position`);
  }
  if (call.phase === "decode" && call.seqLen !== 1) {
    throw new RangeError(
      `a decode call has seqLen ${call.seqLen}; decode calls process exactly 1 token`,
    );
  }
  const out = new Float32Array(call.seqLen);
  switch (positions) {
    case "all":
      out.fill(coefficient);
      break;
    case "prompt":
      if (call.phase === "prefill") out.fill(coefficient);
      break;
    case "response":
      out[call.seqLen - 1] = coefficient;
      break;
    default:
      throw new RangeError(
        `positions is ${JSON.stringify(positions)}; use all, prompt or response`,
      );
  }
  return out;
}

/**
 * Checks a steering layer against the model and returns the block index (L − 1).
 *
 * @example
 * ```ts
 * import { steeringBlock } from "./steering.ts";
 * console.log(steeringBlock(20, 36)); // 19
 * ```
 */
export function steeringBlock(layer: number, numLayers: number): number {
  if (layer === 0) {
    throw withCode(
      new RangeError(
        "steering layer is 0, the embedding row of the vector; steering layers are hidden_states indices " +
          `1..${numLayers} (layer L edits the output of block L-1), so pass 1 or more`,
      ),
      "E_CONFIG",
    );
  }
  if (!Number.isInteger(layer) || layer < 1 || layer > numLayers) {
    throw withCode(
      new RangeError(
        `steering layer is ${layer}; this model accepts 1..${numLayers} (hidden_states indices)`,
      ),
      "E_CONFIG",
    );
  }
  return layer - 1;
}

/** Options of {@link personaVectorSteerer}. */
export interface PersonaVectorSteererOptions {
  name?: string;
  entries: readonly SteeringEntry[];
  /** Vectors already in memory by reference; others are read with `context.loadVector`. */
  vectors?: Readonly<Record<string, LayerVectors>>;
}

/**
 * A Steerer over persona vectors: each entry becomes one residual edit at block L − 1 with the
 * row `v[L]`, its coefficient, position mode (default `response`) and type (default `add`).
 * Several entries at one block add up (linear-combination steering).
 *
 * @example
 * ```ts
 * import { personaVectorSteerer } from "./steering.ts";
 * const s = personaVectorSteerer({ entries: [{ vector: "runs/optimistic_response_avg_diff.safetensors",
 *   coefficient: 2, layer: 20 }] });
 * // const edits = await s.resolve(context);
 * ```
 */
export function personaVectorSteerer(options: PersonaVectorSteererOptions): Steerer {
  return {
    name: options.name ?? "persona_vectors",
    async resolve(context: SteeringContext): Promise<ResidualEdit[]> {
      const cache = new Map<string, LayerVectors>();
      const load = async (ref: string): Promise<LayerVectors> => {
        let v = cache.get(ref) ?? options.vectors?.[ref];
        if (!v) v = await context.loadVector(ref);
        cache.set(ref, v);
        return v;
      };
      const edits: ResidualEdit[] = [];
      for (const [i, e] of options.entries.entries()) {
        const block = steeringBlock(e.layer, context.numLayers);
        if (!Number.isFinite(e.coefficient)) {
          throw new RangeError(
            `steering entry ${i} has coefficient ${e.coefficient}; pass a finite number`,
          );
        }
        const v = await load(e.vector);
        if (v.rows !== context.numLayers + 1 || v.cols !== context.hiddenSize) {
          throw withCode(
            new RangeError(
              `vector "${e.vector}" is [${v.rows}, ${v.cols}] but this model needs [${
                context.numLayers + 1
              }, ` +
                `${context.hiddenSize}] (layers + 1, hidden size); extract it from the same model`,
            ),
            "E_WEIGHTS",
          );
        }
        const row = v.data.slice(e.layer * v.cols, (e.layer + 1) * v.cols);
        const type = e.type ?? "add";
        if (type === "ablate" && row.every((x) => x === 0)) {
          throw new RangeError(
            `vector "${e.vector}" row ${e.layer} is all zeros; there is no direction to ablate`,
          );
        }
        edits.push({
          block,
          type,
          vector: row,
          coefficient: e.coefficient,
          positions: e.positions ?? "response",
        });
      }
      return edits;
    },
  };
}

/**
 * Merges `add` edits that share block and position mode into one edit `Σ c_i v_i` with
 * coefficient 1 (same result, one addition); ablations are kept as they are.
 *
 * @example
 * ```ts
 * import { mergeAddEdits } from "./steering.ts";
 * const e = (c: number, x: number) => ({ block: 3, type: "add" as const, vector: new Float32Array([x, 1]),
 *   coefficient: c, positions: "response" as const });
 * console.log(mergeAddEdits([e(2, 1), e(-1, 3)])[0].vector); // Float32Array [-1, 1]
 * ```
 */
export function mergeAddEdits(edits: readonly ResidualEdit[]): ResidualEdit[] {
  const out: ResidualEdit[] = [];
  const merged = new Map<string, ResidualEdit>();
  for (const e of edits) {
    if (e.type !== "add") {
      out.push(e);
      continue;
    }
    const key = `${e.block}/${e.positions}`;
    const m = merged.get(key);
    if (!m) {
      const first: ResidualEdit = {
        ...e,
        vector: e.vector.map((x) => x * e.coefficient),
        coefficient: 1,
      };
      merged.set(key, first);
      out.push(first);
    } else {
      if (m.vector.length !== e.vector.length) {
        throw new RangeError(
          `edits at block ${e.block} have lengths ${m.vector.length} and ${e.vector.length}`,
        );
      }
      for (let j = 0; j < m.vector.length; j++) m.vector[j] += e.coefficient * e.vector[j];
    }
  }
  return out;
}
