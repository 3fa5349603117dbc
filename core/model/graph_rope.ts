/**
 * Rotary-embedding inverse frequencies of Llama-family decoders, including Llama 3 frequency
 * scaling and linear position interpolation, computed on the host and baked into the graph.
 *
 * @module
 */

import { withCode } from "../errors.ts";
import type { DecoderConfig } from "./config.ts";

/**
 * The `headDim / 2` inverse frequencies `θ^(-2i/d)` after the config's rope scaling.
 * With Llama 3 scaling, low-frequency components (wavelength above
 * `originalMaxPositionEmbeddings / lowFreqFactor`) are divided by `factor`, high-frequency ones are
 * kept, and the band between is blended smoothly (as Hugging Face `_compute_llama3_parameters`).
 *
 * @example
 * ```ts
 * import { ropeInverseFrequencies } from "./graph_rope.ts";
 * const f = ropeInverseFrequencies({ headDim: 4, ropeTheta: 10000, ropeScaling: null });
 * console.log(f); // Float64Array [1, 0.01]
 * ```
 */
export function ropeInverseFrequencies(
  config: Pick<DecoderConfig, "headDim" | "ropeTheta" | "ropeScaling">,
): Float64Array {
  const { headDim: d, ropeTheta: theta, ropeScaling: scaling } = config;
  if (!Number.isInteger(d) || d <= 0 || d % 2 !== 0) {
    throw withCode(
      new RangeError(`headDim is ${d}; rotary embeddings need an even head size`),
      "E_MODEL_ARCH",
    );
  }
  const inv = Float64Array.from({ length: d / 2 }, (_, i) => theta ** (-(2 * i) / d));
  if (scaling === null) return inv;
  if (scaling.type === "linear") return inv.map((f) => f / scaling.factor);
  const { factor, lowFreqFactor, highFreqFactor, originalMaxPositionEmbeddings: old } = scaling;
  const lowWavelen = old / lowFreqFactor;
  const highWavelen = old / highFreqFactor;
  return inv.map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen < highWavelen) return f;
    if (wavelen > lowWavelen) return f / factor;
    const smooth = (old / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return (1 - smooth) * (f / factor) + smooth * f;
  });
}
