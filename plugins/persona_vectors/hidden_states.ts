/**
 * Per-layer hidden states of one forward pass, `[L+1][T][d]` in the Hugging Face convention:
 * row 0 holds the token embeddings and row l (1..L) the residual stream after decoder block l-1
 * (hook point `layers.{l-1}.out`); Hugging Face applies the final norm to row L.
 *
 * @module
 */

/** Hidden states `[rows = L+1][tokens][hidden]`, row-major. */
export interface HiddenStates {
  rows: number;
  tokens: number;
  hidden: number;
  data: Float32Array | Float64Array;
}

/** A persona vector (or any per-layer direction set): `[rows = L+1][cols = d]`, row-major. */
export type { LayerVectors } from "../../core/steering/vector_file.ts";
import type { LayerVectors } from "../../core/steering/vector_file.ts";

/**
 * Builds {@link HiddenStates} from nested arrays, checking the shape.
 *
 * @example
 * ```ts
 * import { hiddenStatesFromNested } from "./hidden_states.ts";
 * const hs = hiddenStatesFromNested([[[1, 2]], [[3, 4]]]);
 * console.log(hs.rows, hs.tokens, hs.hidden); // 2 1 2
 * ```
 */
export function hiddenStatesFromNested(
  nested: readonly (readonly (readonly number[])[])[],
): HiddenStates {
  const rows = nested.length;
  const tokens = nested[0]?.length ?? 0;
  const hidden = nested[0]?.[0]?.length ?? 0;
  if (rows === 0 || tokens === 0 || hidden === 0) {
    throw new RangeError(
      `hidden states have shape [${rows}, ${tokens}, ${hidden}]; every dimension must be >= 1`,
    );
  }
  const data = new Float64Array(rows * tokens * hidden);
  nested.forEach((layer, l) => {
    if (layer.length !== tokens) {
      throw new RangeError(
        `layer ${l} has ${layer.length} tokens, layer 0 has ${tokens}; pass a [L+1][T][d] array`,
      );
    }
    layer.forEach((tok, t) => {
      if (tok.length !== hidden) {
        throw new RangeError(`layer ${l} token ${t} has ${tok.length} values, expected ${hidden}`);
      }
      data.set(tok, (l * tokens + t) * hidden);
    });
  });
  return { rows, tokens, hidden, data };
}

/**
 * One row (layer) of a `[rows, cols]` array as a view.
 *
 * @example
 * ```ts
 * import { layerRow } from "./hidden_states.ts";
 * console.log(layerRow({ rows: 2, cols: 2, data: new Float32Array([1, 2, 3, 4]) }, 1)); // Float32Array [3, 4]
 * ```
 */
export function layerRow(v: LayerVectors, layer: number): Float32Array {
  if (!Number.isInteger(layer) || layer < 0 || layer >= v.rows) {
    throw new RangeError(
      `layer is ${layer}; the vector has rows 0..${v.rows - 1} (hidden_states indices)`,
    );
  }
  return v.data.subarray(layer * v.cols, (layer + 1) * v.cols);
}

/**
 * The state of token `t` at row `l`.
 *
 * @example
 * ```ts
 * import { hiddenStatesFromNested, tokenState } from "./hidden_states.ts";
 * console.log(tokenState(hiddenStatesFromNested([[[1, 2], [5, 6]]]), 0, 1)); // [5, 6]
 * ```
 */
export function tokenState(
  hs: HiddenStates,
  layer: number,
  token: number,
): Float32Array | Float64Array {
  const o = (layer * hs.tokens + token) * hs.hidden;
  return hs.data.subarray(o, o + hs.hidden);
}
