/**
 * The steering resolver: turns vector steering entries (from personas, server requests and
 * experiments) into residual edits for one model. The model hub gives it to every
 * `LocalChatModel` it builds (`new LocalChatModel(engine, { steering: steeringResolver })`).
 *
 * Layer convention: an entry's `layer` L is the Hugging Face `hidden_states` index (1..numLayers);
 * row `v[L]` is applied to the residual after decoder block L-1 (before the final norm, also at
 * L = numLayers, whose row was measured after it).
 *
 * @module
 */

import {
  isSteererEntry,
  type ResidualEdit,
  type SteeringEntry,
  type SteeringItem,
} from "../contracts/steerer.ts";
import { withCode } from "../errors.ts";
import type { LayerVectors } from "./vector_file.ts";
import { mergeAddEdits, vectorSteerer } from "./vector_steerer.ts";
import { loadVectorFile } from "./vector_io.ts";

/** Options of {@link createSteeringResolver}. */
export interface SteeringResolverOptions {
  /** Reads a vector (default {@link loadVectorFile}: registered names, then files). */
  loadVector?: (ref: string) => Promise<LayerVectors>;
  /** Keep loaded files in memory, re-reading a file when its mtime or size changes (default true). */
  cache?: boolean;
}

/**
 * Builds a resolver with its own vector cache.
 *
 * @example
 * ```ts
 * import { createSteeringResolver } from "./steering_resolver.ts";
 * const resolve = createSteeringResolver();
 * // new LocalChatModel(engine, { steering: resolve })
 * ```
 */
export function createSteeringResolver(
  options: SteeringResolverOptions = {},
): (
  entries: readonly SteeringItem[],
  model: { numLayers: number; hiddenSize: number },
) => Promise<ResidualEdit[]> {
  const load = options.loadVector ?? loadVectorFile;
  const cache = new Map<string, { stamp: string; vector: LayerVectors }>();
  const cached = async (ref: string): Promise<LayerVectors> => {
    if (options.cache === false) return await load(ref);
    const st = await Deno.stat(ref).catch(() => null);
    const stamp = st ? `${st.size}:${st.mtime?.getTime()}` : "registered";
    const hit = cache.get(ref);
    if (hit && hit.stamp === stamp && st) return hit.vector;
    const vector = await load(ref);
    if (st) cache.set(ref, { stamp, vector });
    return vector;
  };
  return async (items, model) => {
    const entries = items.map((e, i): SteeringEntry => {
      if (!isSteererEntry(e)) return e;
      throw withCode(
        new TypeError(
          `steering entry ${i} names the plugin steerer '${e.steerer}'; plugin steerers are ` +
            "resolved by the model hub's resolver (core/services), which knows the plugins",
        ),
        "E_CONFIG",
      );
    });
    const steerer = vectorSteerer({ entries });
    const edits = await steerer.resolve({ ...model, loadVector: cached });
    return mergeAddEdits(edits);
  };
}

/**
 * The shared default resolver (files are cached by path, size and mtime). Same-block additions
 * with one position mode are merged into one edit `Σ cᵢ vᵢ`.
 *
 * @example
 * ```ts
 * import { steeringResolver } from "./steering_resolver.ts";
 * const edits = await steeringResolver(
 *   [{ vector: "runs/optimistic_response_avg_diff.safetensors", coefficient: 2, layer: 20 }],
 *   { numLayers: 28, hiddenSize: 3584 },
 * );
 * console.log(edits[0].block); // 19
 * ```
 */
export const steeringResolver: (
  entries: readonly SteeringItem[],
  model: { numLayers: number; hiddenSize: number },
) => Promise<ResidualEdit[]> = createSteeringResolver();
