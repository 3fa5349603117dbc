/**
 * Vector steering mechanics shared by every steerer over `[L+1, d]` direction files: the layer
 * check, the Steerer that turns steering entries plus loaded vectors into residual edits, and the
 * merge of same-block additions.
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
} from "../contracts/steerer.ts";
import { withCode } from "../errors.ts";
import type { LayerVectors } from "./vector_file.ts";

/**
 * Checks a steering layer against the model and returns the block index (L − 1).
 *
 * @example
 * ```ts
 * import { steeringBlock } from "./vector_steerer.ts";
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

/** Options of {@link vectorSteerer}. */
export interface VectorSteererOptions {
  name?: string;
  entries: readonly SteeringEntry[];
  /** Vectors already in memory by reference; others are read with `context.loadVector`. */
  vectors?: Readonly<Record<string, LayerVectors>>;
}

/**
 * A Steerer over vector files (persona vectors): each entry becomes one residual edit at block L − 1 with the
 * row `v[L]`, its coefficient, position mode (default `response`) and type (default `add`).
 * Several entries at one block add up (linear-combination steering).
 *
 * @example
 * ```ts
 * import { vectorSteerer } from "./vector_steerer.ts";
 * const s = vectorSteerer({ entries: [{ vector: "runs/optimistic_response_avg_diff.safetensors",
 *   coefficient: 2, layer: 20 }] });
 * // const edits = await s.resolve(context);
 * ```
 */
export function vectorSteerer(options: VectorSteererOptions): Steerer {
  return {
    name: options.name ?? "vectors",
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
 * import { mergeAddEdits } from "./vector_steerer.ts";
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
