/**
 * Folds linear adapters (LoRA and any other adapter whose delta is a fixed linear map of the
 * hook's input) into the base weights, for exports that carry no adapter graph (GGUF for
 * llama.cpp / Ollama). Works through the public {@link Adapter} contract only: each targeted
 * hook's delta is evaluated in onnxruntime on the rows of the identity matrix, which gives the
 * dense matrix `Δ` with `delta(x) = x · Δᵀ`; a random probe then checks that the adapter really
 * is that linear map (an input-dependent or gated adapter is refused, not merged wrongly).
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import type { Adapter, LinearHook } from "../contracts/adapter.ts";
import { withCode } from "../errors.ts";
import { GraphBuilder } from "../onnx/builder.ts";
import { makeModel } from "../onnx/ir.ts";
import { type HostTensor, runSession } from "../onnx/ort_run.ts";
import { serializeModel } from "../onnx/serialize.ts";
import { Prng } from "../util/prng.ts";
import type { DecoderConfig } from "./config.ts";
import { decoderHooks, type DecoderWeightMap } from "./decoder_graph.ts";

/** The Hugging Face weight a decoder hook multiplies by (`layers.3.attn.q_proj` → …). */
export function hookWeightName(hook: string): string {
  if (hook === "lm_head") return "lm_head.weight";
  const m = /^layers\.(\d+)\.(attn|mlp)\.(\w+)$/.exec(hook);
  if (!m) throw withCode(new RangeError(`"${hook}" is not a decoder hook`), "E_CONFIG");
  return `model.layers.${m[1]}.${m[2] === "attn" ? "self_attn" : "mlp"}.${m[3]}.weight`;
}

/** Options of {@link mergeAdapters}. */
export interface MergeAdaptersOptions {
  /** Identity rows per onnxruntime run. Default 512. */
  chunk?: number;
  /** Relative tolerance of the linearity probe. Default 1e-4. */
  tolerance?: number;
}

/**
 * Returns a new weight map with every adapter's delta added to the weights of the hooks it
 * targets (`W' = W + Δ`, Hugging Face `[out, in]` layout); untouched tensors are shared, merged
 * ones are new arrays. An adapter at a tied `lm_head`, an adapter whose delta is not a fixed
 * linear map of the input, or one whose delta has the wrong shape is an error naming the
 * adapter and hook.
 *
 * @example
 * ```ts
 * import { mergeAdapters } from "./merge_adapters.ts";
 * import type { Adapter } from "../contracts/adapter.ts";
 * import type { DecoderConfig } from "./config.ts";
 * declare const config: DecoderConfig;
 * declare const weights: Map<string, { shape: number[]; data: Float32Array }>;
 * declare const lora: Adapter;
 * const merged = await mergeAdapters(config, weights, [lora]);
 * ```
 */
export async function mergeAdapters(
  config: DecoderConfig,
  weights: DecoderWeightMap,
  adapters: readonly Adapter[],
  options: MergeAdaptersOptions = {},
): Promise<DecoderWeightMap> {
  const out: DecoderWeightMap = new Map(weights);
  const hooks = decoderHooks(config);
  const byName = new Map(hooks.map((h) => [h.name, h]));
  for (const adapter of adapters) {
    const targets = adapter.targets(hooks);
    for (const name of targets) {
      const hook = byName.get(name);
      if (!hook) {
        throw withCode(
          new RangeError(`adapter ${adapter.kind} targets "${name}", which is not a decoder hook`),
          "E_CONFIG",
        );
      }
      const wName = hookWeightName(name);
      const w = out.get(wName);
      if (!w) {
        throw withCode(
          new RangeError(
            name === "lm_head"
              ? `cannot merge adapter ${adapter.kind} at lm_head: the model ties lm_head to the ` +
                "input embedding, so merging would change the embedding too; drop lm_head from " +
                "the adapter's targets or untie the model first"
              : `cannot merge adapter ${adapter.kind} at ${name}: the weights have no "${wName}"`,
          ),
          "E_WEIGHTS",
        );
      }
      const delta = await adapterDelta(adapter, hook, options);
      const data = new Float32Array(w.data.length);
      const src = w.data;
      for (let i = 0; i < data.length; i++) data[i] = src[i] + delta[i];
      out.set(wName, { shape: w.shape.slice(), data });
    }
  }
  return out;
}

/** `Δ [out, in]` (row-major) of one adapter at one hook, with the linearity probe. */
async function adapterDelta(
  adapter: Adapter,
  hook: LinearHook,
  options: MergeAdaptersOptions,
): Promise<Float64Array> {
  const { inFeatures: fin, outFeatures: fout } = hook;
  const values = new Map(adapter.parameters().map((p) => [p.name, p.data]));
  const b = new GraphBuilder({ parameterValues: values });
  const x = b.input("x", "float32", [1, "rows", fin]);
  const y = adapter.emit(hook, x, b);
  b.output("delta", "float32", [1, "rows", fout], y);
  const { model } = serializeModel(makeModel(b.graph()));
  const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1 });
  const fail = (why: string) =>
    withCode(
      new RangeError(
        `cannot merge adapter ${adapter.kind} at ${hook.name}: ${why}; only adapters whose ` +
          "delta is a fixed linear map of the input (e.g. LoRA) can be folded into the weights",
      ),
      "E_CONFIG",
    );
  const run = async (rows: number, xs: Float32Array): Promise<Float32Array> => {
    const feeds: Record<string, HostTensor> = {
      x: { dtype: "float32", shape: [1, rows, fin], data: xs },
    };
    // Adapters that size runtime inputs by the sequence (LoRA dropout masks) read this too.
    const request = { batchSize: 1, sequenceLength: rows };
    const extra = adapter.runtimeInputs?.(request) ?? {};
    for (const [k, v] of Object.entries(extra)) {
      feeds[k] = { dtype: v.dtype, shape: v.shape, data: v.data } as HostTensor;
    }
    const r = await runSession(session, feeds);
    const d = r.delta;
    if (d.data.length !== rows * fout) {
      throw fail(`its delta has ${d.data.length} values for ${rows} rows; expected ${rows * fout}`);
    }
    return d.data as Float32Array;
  };
  try {
    const delta = new Float64Array(fout * fin);
    const chunk = Math.max(1, options.chunk ?? 512);
    for (let r0 = 0; r0 < fin; r0 += chunk) {
      const rows = Math.min(chunk, fin - r0);
      const eye = new Float32Array(rows * fin);
      for (let i = 0; i < rows; i++) eye[i * fin + r0 + i] = 1;
      const y = await run(rows, eye);
      // Row i of the output is e_(r0+i) · Δᵀ = column r0+i of Δ.
      for (let i = 0; i < rows; i++) {
        for (let o = 0; o < fout; o++) delta[o * fin + r0 + i] = y[i * fout + o];
      }
    }
    // Probe: a zero row and a random row must give 0 and v · Δᵀ.
    const rng = new Prng(1234);
    const probe = new Float32Array(2 * fin);
    for (let j = 0; j < fin; j++) probe[fin + j] = rng.next() * 2 - 1;
    const y = await run(2, probe);
    let err = 0;
    let scale = 0;
    for (let o = 0; o < fout; o++) {
      let want = 0;
      for (let j = 0; j < fin; j++) want += probe[fin + j] * delta[o * fin + j];
      err = Math.max(err, Math.abs(y[o]), Math.abs(y[fout + o] - want));
      scale = Math.max(scale, Math.abs(want));
    }
    const tol = options.tolerance ?? 1e-4;
    if (err > tol * Math.max(scale, 1e-6)) {
      throw fail(`its delta is not linear in the input (probe error ${err.toExponential(2)})`);
    }
    return delta;
  } finally {
    await session.release();
  }
}
