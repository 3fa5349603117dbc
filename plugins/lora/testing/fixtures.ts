/**
 * Test fixtures of the lora plugin: a tiny model written by `createTinyModel`, an independent
 * float64 LoRA hook for the reference forward pass, and a one-shot ONNX decoder run.
 *
 * @module
 */

import { join } from "node:path";
import type { Adapter, LinearHook } from "../../../core/contracts/adapter.ts";
import { type DecoderConfig, readDecoderConfig } from "../../../core/model/config.ts";
import {
  buildDecoderGraph,
  decoderHooks,
  type DecoderWeightMap,
} from "../../../core/model/decoder_graph.ts";
import {
  type LinearHook as ReferenceLinearHook,
  referenceForward,
  type TokenRows,
} from "../../../core/model/testing/reference.ts";
import { createTinyModel } from "../../../core/model/tiny.ts";
import { loadWeights } from "../../../core/model/weights.ts";
import { type HostTensor, runModel } from "../../../core/onnx/ort_run.ts";
import { Prng } from "../../../core/util/prng.ts";
import type { LoraAdapter } from "../lora_adapter.ts";

/** A tiny model on disk with its parsed config, float32 weights and linear hooks. */
export interface TinyFixture {
  dir: string;
  config: DecoderConfig;
  weights: DecoderWeightMap;
  hooks: LinearHook[];
}

let cached: Promise<TinyFixture> | undefined;

/**
 * A tiny-llama model (2 blocks, hidden 64, GQA, vocab 300, untied lm_head) written once per test
 * process into a temporary directory.
 *
 * @example
 * ```ts
 * import { tinyFixture } from "./fixtures.ts";
 * const { config, weights, hooks } = await tinyFixture();
 * ```
 */
export function tinyFixture(): Promise<TinyFixture> {
  cached ??= (async () => {
    const root = await Deno.makeTempDir({ prefix: "lora_tiny_" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(root, { recursive: true });
      } catch { /* already gone */ }
    });
    const dir = join(root, "tiny");
    await createTinyModel(dir, { preset: "tiny-llama", seed: 3, vocabSize: 300 });
    const config = await readDecoderConfig(dir);
    const weights = await loadWeights(dir, config);
    return { dir, config, weights, hooks: decoderHooks(config) };
  })();
  return cached;
}

/**
 * Fills every B (and re-draws A) with seeded normal values of standard deviation `std`, so the
 * adapter changes the model.
 *
 * @example
 * ```ts
 * import { randomizeLora } from "./fixtures.ts";
 * import type { LoraAdapter } from "../lora_adapter.ts";
 * declare const lora: LoraAdapter;
 * randomizeLora(lora, 1, 0.2);
 * ```
 */
export function randomizeLora(adapter: LoraAdapter, seed: number, std = 0.2): void {
  const rng = new Prng(seed);
  for (const p of adapter.parameters()) {
    adapter.setParameter(p.name, Array.from(p.data, () => rng.normal() * std));
  }
}

/** Per-hook float64 LoRA applied by the reference: `y + s · B (A (m ⊙ x))`. */
export interface ReferenceLoraModule {
  r: number;
  scaling: number;
  A: ArrayLike<number>;
  B: ArrayLike<number>;
  inFeatures: number;
  outFeatures: number;
  /** Optional dropout mask `[batch, seq, in]` multiplied into x. */
  mask?: ArrayLike<number>;
}

/**
 * A `linearHook` for `referenceForward` that adds LoRA deltas with naive float64 loops, written
 * from the formula, not from the adapter's graph code.
 *
 * @example
 * ```ts
 * import { referenceLoraHook } from "./fixtures.ts";
 * const hook = referenceLoraHook(new Map());
 * ```
 */
export function referenceLoraHook(modules: Map<string, ReferenceLoraModule>): ReferenceLinearHook {
  return (name: string, x: TokenRows, y: TokenRows) => {
    const m = modules.get(name);
    if (!m) return;
    const S = x[0]?.length ?? 0;
    return y.map((row, b) =>
      row.map((yv, s) => {
        const out = Float64Array.from(yv);
        const xa = new Float64Array(m.r);
        for (let k = 0; k < m.r; k++) {
          let acc = 0;
          for (let i = 0; i < m.inFeatures; i++) {
            const keep = m.mask ? m.mask[(b * S + s) * m.inFeatures + i] : 1;
            acc += m.A[k * m.inFeatures + i] * x[b][s][i] * keep;
          }
          xa[k] = acc;
        }
        for (let o = 0; o < m.outFeatures; o++) {
          let acc = 0;
          for (let k = 0; k < m.r; k++) acc += m.B[o * m.r + k] * xa[k];
          out[o] += m.scaling * acc;
        }
        return out;
      })
    );
  };
}

/**
 * Reference modules from an adapter's state, with the scaling computed here from r, alpha and
 * the rsLoRA flag (so a wrong scaling in the adapter shows up).
 */
export function referenceModules(adapter: LoraAdapter): Map<string, ReferenceLoraModule> {
  const o = adapter.options;
  return new Map(
    adapter.modules().map((m) => [m.hook.name, {
      r: m.r,
      scaling: o.useRslora ? m.alpha / Math.sqrt(m.r) : m.alpha / m.r,
      A: m.A,
      B: m.B,
      inFeatures: m.hook.inFeatures,
      outFeatures: m.hook.outFeatures,
    }]),
  );
}

/** Runs the reference forward and returns logits as `[B][S][V]` plain numbers. */
export function referenceLogits(
  fixture: TinyFixture,
  ids: number[][],
  modules?: Map<string, ReferenceLoraModule>,
  weights: DecoderWeightMap = fixture.weights,
): number[][][] {
  const { logits } = referenceForward(fixture.config, weights, {
    inputIds: ids,
    linearHook: modules ? referenceLoraHook(modules) : undefined,
  });
  return logits.map((r) => r.map((v) => Array.from(v)));
}

/**
 * Builds the decoder (no KV cache, all logits) with `adapters`, runs it once in onnxruntime with
 * adapter parameters and `extra` feeds, and returns logits as `[B][S][V]`.
 *
 * @example
 * ```ts
 * import { onnxLogits, tinyFixture } from "./fixtures.ts";
 * const f = await tinyFixture();
 * const logits = await onnxLogits(f, [[1, 2, 3]], []);
 * ```
 */
export async function onnxLogits(
  fixture: TinyFixture,
  ids: number[][],
  adapters: Adapter[],
  options: {
    weights?: DecoderWeightMap;
    dtype?: "float32" | "float64";
    extra?: Record<string, HostTensor>;
  } = {},
): Promise<number[][][]> {
  const dtype = options.dtype ?? "float32";
  const built = buildDecoderGraph(fixture.config, options.weights ?? fixture.weights, {
    adapters,
    cache: false,
    numLogitsToKeep: false,
    hiddenStates: false,
    dtype,
  });
  const B = ids.length, S = ids[0].length;
  const i64 = (rows: number[][]) => ({
    dtype: "int64" as const,
    shape: [B, S],
    data: BigInt64Array.from(rows.flat(), BigInt),
  });
  const feeds: Record<string, HostTensor> = {
    input_ids: i64(ids),
    attention_mask: i64(ids.map((r) => r.map(() => 1))),
    position_ids: i64(ids.map((r) => r.map((_, i) => i))),
  };
  for (const a of adapters) {
    for (const p of a.parameters()) {
      feeds[p.name] = {
        dtype,
        shape: p.shape,
        data: dtype === "float64" ? Float64Array.from(p.data) : Float32Array.from(p.data),
      };
    }
  }
  for (const [k, v] of Object.entries(options.extra ?? {})) feeds[k] = v;
  // ORT's fusions (QuickGelu, …) have float kernels only: run float64 graphs as written.
  const out = await runModel(built.model, feeds, {
    graphOptimizationLevel: dtype === "float64" ? "disabled" : "all",
  });
  const V = fixture.config.vocabSize;
  const data = out.logits.data as Float32Array | Float64Array;
  return Array.from(
    { length: B },
    (_, b) =>
      Array.from(
        { length: S },
        (_, s) => Array.from(data.subarray((b * S + s) * V, (b * S + s + 1) * V)),
      ),
  );
}

/**
 * Asserts `max |got − want| ≤ tol · max |want|` over all logits, with a message naming the worst
 * position.
 */
export function assertClose(got: number[][][], want: number[][][], tol: number, what: string) {
  let scale = 1e-12, worst = 0, at = "";
  for (const rows of want) {
    for (const row of rows) for (const v of row) scale = Math.max(scale, Math.abs(v));
  }
  want.forEach((rows, b) =>
    rows.forEach((row, s) =>
      row.forEach((v, i) => {
        const d = Math.abs(got[b][s][i] - v);
        if (d > worst) [worst, at] = [d, `[${b}][${s}][${i}]: ${got[b][s][i]} vs ${v}`];
      })
    )
  );
  if (worst > tol * scale) {
    throw new Error(`${what}: max difference ${worst} > ${tol} · ${scale} at ${at}`);
  }
}

/** The largest absolute difference between two logit tensors (to show a test can fail). */
export function maxDiff(a: number[][][], b: number[][][]): number {
  let m = 0;
  a.forEach((rows, i) =>
    rows.forEach((row, j) => row.forEach((v, k) => m = Math.max(m, Math.abs(v - b[i][j][k]))))
  );
  return m;
}

/**
 * Writes a four-conversation chat dataset (`a`…`d` answered "yes indeed") to `path`, the smallest
 * data a LoRA run learns from in a few steps; returns `path`.
 */
export async function writeYesIndeedChats(path: string): Promise<string> {
  await Deno.writeTextFile(
    path,
    ["a", "b", "c", "d"].map((q) =>
      JSON.stringify({
        messages: [{ role: "user", content: q }, { role: "assistant", content: "yes indeed" }],
      })
    ).join("\n") + "\n",
  );
  return path;
}
