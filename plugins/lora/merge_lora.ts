/**
 * Folds a LoRA adapter into base weights for export: `W' = W + scaling · B A` per module, in
 * Hugging Face `[out, in]` layout.
 *
 * @module
 */

import { withCode } from "../../core/errors.ts";
import type { LoraAdapter, LoraModule } from "./lora_adapter.ts";
import { hookToWeightName } from "./peft_names.ts";

/** Weights by HF name; linear weights `[out, in]` (the shape of `DecoderWeightMap`). */
export type WeightMap = Map<string, { shape: number[]; data: Float32Array }>;

/**
 * The dense delta `scaling · B A` of one module, `[out, in]` row-major, summed in float64.
 *
 * @example
 * ```ts
 * import { loraDelta } from "./merge_lora.ts";
 * import type { LoraAdapter } from "./lora_adapter.ts";
 * declare const lora: LoraAdapter;
 * const d = loraDelta(lora.modules()[0]); // Float64Array of out·in values
 * ```
 */
export function loraDelta(m: LoraModule): Float64Array {
  const { inFeatures: fin, outFeatures: fout } = m.hook;
  const out = new Float64Array(fout * fin);
  for (let o = 0; o < fout; o++) {
    const row = o * fin;
    for (let k = 0; k < m.r; k++) {
      const c = m.scaling * m.B[o * m.r + k];
      if (c === 0) continue;
      const a = k * fin;
      for (let i = 0; i < fin; i++) out[row + i] += c * m.A[a + i];
    }
  }
  return out;
}

/**
 * Returns a new weight map with the adapter merged into every targeted linear weight; untouched
 * tensors are shared with `weights`, merged ones are new arrays, `weights` is not modified.
 * A targeted weight that is missing or has another shape is a `RangeError` tagged `E_WEIGHTS`;
 * an adapted `lm_head` of a model with tied embeddings is refused, because merging it would also
 * change the input embedding.
 *
 * @example
 * ```ts
 * import { mergeLora } from "./merge_lora.ts";
 * import type { LoraAdapter } from "./lora_adapter.ts";
 * declare const weights: Map<string, { shape: number[]; data: Float32Array }>;
 * declare const lora: LoraAdapter;
 * const merged = mergeLora(weights, lora);
 * // build the plain decoder over `merged`: same outputs as base + adapter
 * ```
 */
export function mergeLora(weights: WeightMap, adapter: LoraAdapter): WeightMap {
  const out: WeightMap = new Map(weights);
  for (const m of adapter.modules()) {
    const name = hookToWeightName(m.hook.name)!;
    const w = weights.get(name);
    if (!w) {
      const tied = m.hook.name === "lm_head" && weights.has("model.embed_tokens.weight");
      throw withCode(
        new RangeError(
          tied
            ? `cannot merge the LoRA at lm_head: the model ties lm_head to the input embedding ` +
              `(no "lm_head.weight"), so merging would change the embedding too; keep the ` +
              `adapter unmerged, or untie the model first (copy the embedding to lm_head.weight ` +
              `and set tie_word_embeddings false)`
            : `cannot merge the LoRA at ${m.hook.name}: the weights have no "${name}"; pass the ` +
              `base model's weights`,
        ),
        "E_WEIGHTS",
      );
    }
    const { inFeatures: fin, outFeatures: fout } = m.hook;
    if (w.shape.join(",") !== `${fout},${fin}` || w.data.length !== fout * fin) {
      throw withCode(
        new RangeError(
          `cannot merge the LoRA at ${m.hook.name}: "${name}" has shape [${w.shape}] but the ` +
            `adapter was made for [${fout}, ${fin}]; use the base model the adapter belongs to`,
        ),
        "E_WEIGHTS",
      );
    }
    const delta = loraDelta(m);
    const data = new Float32Array(w.data.length);
    for (let i = 0; i < data.length; i++) data[i] = w.data[i] + delta[i];
    out.set(name, { shape: w.shape.slice(), data });
  }
  return out;
}
