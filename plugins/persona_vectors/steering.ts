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

import type { Steerer } from "../../core/contracts/steerer.ts";
import type { SteeringPositions } from "../../core/contracts/steerer.ts";
import { vectorSteerer, type VectorSteererOptions } from "../../core/steering/vector_steerer.ts";

export { mergeAddEdits, steeringBlock } from "../../core/steering/vector_steerer.ts";

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

/** Options of {@link personaVectorSteerer}. */
export type PersonaVectorSteererOptions = VectorSteererOptions;

/**
 * The core vector Steerer (core/steering) under this plugin's name: each entry becomes one
 * residual edit at block L − 1 with the row `v[L]`.
 *
 * @example
 * ```ts
 * import { personaVectorSteerer } from "./steering.ts";
 * const s = personaVectorSteerer({ entries: [{ vector: "runs/optimistic_response_avg_diff.safetensors",
 *   coefficient: 2, layer: 20 }] });
 * console.log(s.name); // "persona_vectors"
 * ```
 */
export function personaVectorSteerer(options: PersonaVectorSteererOptions): Steerer {
  return vectorSteerer({ name: "persona_vectors", ...options });
}
