/**
 * Builds a Llama-family decoder (Llama 2 / 3.x, Mistral, Qwen2 / 2.5, Qwen3) as an ONNX graph from
 * standard ops, with the transformers.js decoder I/O names, hidden-state outputs, residual
 * steering inputs and adapter hooks at every linear layer.
 *
 * Layer-index convention: block i (0-based) reads `hidden_states.{i}` and produces
 * `hidden_states.{i+1}` (hook point `layers.{i}.out`); `hidden_states.0` is the embedding output and
 * `hidden_states.{L}` has the final norm applied, exactly like Hugging Face `output_hidden_states`.
 *
 * @module
 */

import type { Adapter, LinearHook } from "../contracts/adapter.ts";
import { withCode } from "../errors.ts";
import { GraphBuilder } from "../onnx/builder.ts";
import { toFloat16Compute } from "../onnx/float16_compute.ts";
import { foldOutputIdentities } from "../onnx/fold_outputs.ts";
import { type Graph, makeModel, type Model, type ValueInfo } from "../onnx/ir.ts";
import type { DecoderConfig } from "./config.ts";
import {
  applyRotary,
  attentionBias,
  checkHeads,
  floatWeight,
  type LayerContext,
  linear,
  rmsNorm,
  rotaryTables,
} from "./graph_layers.ts";
import {
  blockedLinearWeights,
  embedding,
  largestProductFirst,
  type LinearWeight,
  linearWeight,
  transposedFloat,
} from "./graph_quant.ts";
import { normalizeWeightFormat, type WeightFormat } from "./quantize.ts";
import { ropeInverseFrequencies } from "./graph_rope.ts";
import { expectedWeightShapes, isStreamed, weightData } from "./weights.ts";

/** Decoder weights by Hugging Face name; linear weights in HF `[out, in]` layout. */
export type DecoderWeightMap = Map<string, { shape: number[]; data: Float32Array }>;

/** Options of {@link buildDecoderGraph}. */
export interface DecoderGraphOptions {
  /**
   * Adds per-block residual edit inputs `steer.{i}.vectors` `[steer_k_i, hidden]`,
   * `steer.{i}.scales` `[batch, seq, steer_k_i]`, `ablate.{i}.directions` `[ablate_k_i, hidden]`
   * and `ablate.{i}.mask` `[batch, seq, ablate_k_i]`. After block i the residual becomes
   * `h - ((h·dirsᵀ)·mask)·dirs + scales·vectors` (ablation first, so "remove u, then add c·u" is
   * expressible). All ablation directions project against the same residual, so pass orthonormal
   * directions when ablating several at once. Feed K = 0 rows for no edit. Default false.
   */
  steering?: boolean;
  /** Adapters attached at the linear hooks they target. */
  adapters?: Adapter[];
  /**
   * Bakes the adapters' parameters into the graph as initializers (copies of the values of
   * `adapter.parameters()` at build time, written as external data like the base weights) instead
   * of declaring them as graph inputs, so inference sends nothing per run for them. Runtime inputs
   * (identity masks, dropout masks) stay inputs. Inference only: training graphs need the
   * parameters as inputs. Only {@link buildDecoderGraph} reads it ({@link buildDecoderInto} uses
   * the builder it is given). Default false.
   */
  bakeParameters?: boolean;
  /** KV-cache I/O (`past_key_values.*` → `present.*`). False builds the training forward. Default true. */
  cache?: boolean;
  /**
   * How a cached graph returns keys and values (with `cache`). `"concat"` (default): the
   * transformers.js contract, `present.{i}.*` = past ++ new. `"resident"`: the caller keeps the
   * cache (a preallocated buffer it feeds as `past_key_values.{i}.*` with any capacity, unused
   * slots masked by `attention_mask`), and the graph outputs only the new positions
   * `kv_new.{i}.key` `[batch, n_kv, sequence_length, head_dim]` (after rotary) and
   * `kv_new.{i}.value` `[batch, n_kv, head_dim, sequence_length]`, so no step copies the whole
   * cache. Resident values are transposed (`past_key_values.{i}.value` is
   * `[batch, n_kv, head_dim, capacity]`) so attention reads keys and values as the tall operand
   * of its products, streamed once per kv head.
   */
  kvCache?: "concat" | "resident";
  /**
   * Inference fusions: RMSNorm as onnxruntime's `SimplifiedLayerNormalization`, rotary
   * embeddings as `com.microsoft` `RotaryEmbedding` over precomputed cos/sin tables of every
   * position below `maxPositionEmbeddings`, and with float32 weights a tied table held once,
   * transposed, and with `blockedWeights` the linear weights blocked for one-token products,
   * gate_proj with up_proj as one product (adapters still apply at each hook). Training graphs
   * keep the differentiable decomposed form (the default, false).
   */
  fused?: boolean;
  /**
   * With `fused` and float32 weights: store the decoder layers' linear weights in blocks of 16
   * output features for one-token products on the CPU (`blockedLinearWeights`; gate_proj with
   * up_proj as one table). Measured on onnxruntime's CPU kernels only, so the engine sets it for
   * the CPU provider. Default false.
   */
  blockedWeights?: boolean;
  /**
   * Lists the largest quantized product (the lm_head) first, so that onnxruntime repacks it
   * before the others (a lower peak when the session opens; see `largestProductFirst`). The
   * node list is then not in topological order, which onnxruntime accepts and the ONNX spec and
   * `inferShapes` do not: for graphs only onnxruntime opens (the engine's cache). Default false.
   */
  largestProductFirst?: boolean;
  /** Adds the `num_logits_to_keep` int64 scalar input (0 = all, k = last k). Default true. */
  numLogitsToKeep?: boolean;
  /** Adds the `hidden_states.{0..L}` outputs. Default true. */
  hiddenStates?: boolean;
  /** Float type of the whole graph; float64 serves gradient checks. Default float32. */
  dtype?: "float32" | "float64";
  /** Additive bias of masked attention entries. Default: the float32 lowest finite value. */
  maskValue?: number;
  /**
   * How the frozen weights are stored: `f32` (default), `f16`/`bf16` storage (cast to float32
   * at session start), or `int8`/`int4` block quantization of every linear layer, the lm_head
   * (`MatMulNBits`) and the embedding table (`GatherBlockQuantized`). Float32 graphs only; norms,
   * biases and adapter parameters stay float32.
   */
  weights?: WeightFormat;
  /**
   * Arithmetic precision of an inference graph: `float32` (default) or `float16` (for GPU
   * providers: weights, activations and the cache inside the graph are float16, while inputs and
   * outputs stay float32; see core/onnx/float16_compute.ts). Needs `fused` (rotary tables rather
   * than angles computed from positions in the graph) and a float32 `dtype`.
   */
  compute?: "float32" | "float16";
}

/** The value names {@link buildDecoderInto} produced. */
export interface DecoderValues {
  logits: string;
  /** `hidden_states.{j}` values, j = 0..L (empty when disabled). */
  hiddenStates: string[];
  /** Per layer `{ key, value }` present values (empty without cache). */
  presents: { key: string; value: string }[];
  /** Every linear hook of the decoder, in graph order. */
  hooks: LinearHook[];
  /** Symbolic shape of the logits. */
  logitsShape: (number | string)[];
}

/** A built decoder: the model and a description of its I/O. */
export interface DecoderGraph {
  model: Model;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  hooks: LinearHook[];
  /** Adapter parameters declared as graph inputs (none when `bakeParameters`). */
  parameters: ValueInfo[];
  /** Adapter parameters baked into initializers (only with `bakeParameters`). */
  bakedParameters: ValueInfo[];
}

const F32_LOWEST = -3.4028234663852886e38;

/**
 * The linear hooks of a decoder with this config, in graph order.
 *
 * @example
 * ```ts
 * import { decoderHooks } from "./decoder_graph.ts";
 * import type { DecoderConfig } from "./config.ts";
 * declare const config: DecoderConfig;
 * console.log(decoderHooks(config).map((h) => h.name)); // ["layers.0.attn.q_proj", …, "lm_head"]
 * ```
 */
export function decoderHooks(config: DecoderConfig): LinearHook[] {
  const { hiddenSize: d, intermediateSize: f, headDim: hd, numHeads: nh, numKvHeads: nkv } = config;
  const hooks: LinearHook[] = [];
  for (let i = 0; i < config.numLayers; i++) {
    const p = `layers.${i}`;
    hooks.push(
      { name: `${p}.attn.q_proj`, layer: i, inFeatures: d, outFeatures: nh * hd },
      { name: `${p}.attn.k_proj`, layer: i, inFeatures: d, outFeatures: nkv * hd },
      { name: `${p}.attn.v_proj`, layer: i, inFeatures: d, outFeatures: nkv * hd },
      { name: `${p}.attn.o_proj`, layer: i, inFeatures: nh * hd, outFeatures: d },
      { name: `${p}.mlp.gate_proj`, layer: i, inFeatures: d, outFeatures: f },
      { name: `${p}.mlp.up_proj`, layer: i, inFeatures: d, outFeatures: f },
      { name: `${p}.mlp.down_proj`, layer: i, inFeatures: f, outFeatures: d },
    );
  }
  hooks.push({ name: "lm_head", layer: -1, inFeatures: d, outFeatures: config.vocabSize });
  return hooks;
}

function checkWeights(config: DecoderConfig, weights: DecoderWeightMap): void {
  for (const [name, shape] of expectedWeightShapes(config)) {
    const w = weights.get(name);
    if (!w) {
      throw withCode(
        new RangeError(
          `weight "${name}" is missing; a ${config.modelType} decoder with this config needs it with shape [${shape}]`,
        ),
        "E_WEIGHTS",
      );
    }
    const n = shape.reduce((a, c) => a * c, 1);
    // Streamed weights are read only when written (their shapes were checked on open).
    const length = isStreamed(w) ? n : w.data.length;
    if (w.shape.join(",") !== shape.join(",") || length !== n) {
      throw withCode(
        new RangeError(
          `weight "${name}" has shape [${w.shape}] (${length} values); the config needs [${shape}] — check config.json against the checkpoint`,
        ),
        "E_WEIGHTS",
      );
    }
  }
}

/**
 * Emits the decoder into an existing builder: declares its inputs, returns its value names, and
 * leaves outputs to the caller (the training graph adds a loss instead of exposing logits).
 *
 * @example
 * ```ts
 * import { GraphBuilder } from "../onnx/builder.ts";
 * import { buildDecoderInto } from "./decoder_graph.ts";
 * import type { DecoderConfig } from "./config.ts";
 * declare const config: DecoderConfig;
 * declare const weights: Map<string, { shape: number[]; data: Float32Array }>;
 * const b = new GraphBuilder();
 * const { logits } = buildDecoderInto(b, config, weights, { cache: false, numLogitsToKeep: false });
 * console.log(logits);
 * ```
 */
export function buildDecoderInto(
  b: GraphBuilder,
  config: DecoderConfig,
  weights: DecoderWeightMap,
  options: DecoderGraphOptions = {},
): DecoderValues {
  const cache = options.cache ?? true;
  const steering = options.steering ?? false;
  const keepInput = options.numLogitsToKeep ?? true;
  const wantHidden = options.hiddenStates ?? true;
  const {
    hiddenSize: d,
    headDim: hd,
    numHeads: nh,
    numKvHeads: nkv,
    numLayers: L,
    rmsNormEps: eps,
  } = config;
  const group = checkHeads(nh, nkv);
  checkWeights(config, weights);
  const hooks = decoderHooks(config);
  const hookByName = new Map(hooks.map((h) => [h.name, h]));
  const adapters = (options.adapters ?? []).map((adapter) => {
    const targets = new Set(adapter.targets(hooks.map((h) => ({ ...h }))));
    for (const t of targets) {
      if (!hookByName.has(t)) {
        throw withCode(
          new RangeError(
            `adapter ${adapter.kind} targets "${t}", which is not a linear hook of this decoder (e.g. ${
              hooks[0].name
            })`,
          ),
          "E_PLUGIN_HOOK",
        );
      }
    }
    return { adapter, targets };
  });
  const ctx: LayerContext = { b, adapters };
  const W = (name: string) => weights.get(name)!;
  const format = normalizeWeightFormat(options.weights, "weights.dtype");
  const fused = options.fused ?? false;
  // Inference graphs store float32 weights blocked for one-token products (see
  // blockedLinearWeights); other graphs, formats and sizes take linearWeight's layouts.
  const blocked = (name: string, hfNames: string[]) =>
    fused && options.blockedWeights
      ? blockedLinearWeights(
        b,
        name,
        hfNames.map((n) => ({ shape: W(n).shape, data: weightData(W(n)) })),
        format,
      )
      : undefined;
  const lin = (name: string, x: string, hfName: string, bias?: string, stored?: LinearWeight) => {
    const w = W(hfName);
    // The lm_head keeps linearWeight's transposed table (as blocks it streamed no faster).
    const weight = stored ??
      (name === "lm_head" ? undefined : blocked(`${hfName}_b16`, [hfName])?.[0]) ??
      linearWeight(b, hfName, w.shape, weightData(w), format);
    return linear(ctx, hookByName.get(name)!, x, weight, { bias });
  };
  const resident = cache && options.kvCache === "resident";
  const norm = (x: string, hfName: string) => {
    const w = floatWeight(b, hfName, W(hfName).shape, W(hfName).data);
    return fused
      ? b.op1("SimplifiedLayerNormalization", [x, w], { axis: -1, epsilon: eps })
      : rmsNorm(ctx, x, w, eps);
  };

  const seqDims = ["batch_size", "sequence_length"];
  const inputIds = b.input("input_ids", "int64", seqDims);
  const attentionMask = b.input("attention_mask", "int64", [
    "batch_size",
    cache ? "total_sequence_length" : "sequence_length",
  ]);
  const positionIds = b.input("position_ids", "int64", seqDims);
  const past = cache
    ? Array.from({ length: L }, (_, i) => ({
      key: b.input(`past_key_values.${i}.key`, b.floatType, [
        "batch_size",
        nkv,
        "past_sequence_length",
        hd,
      ]),
      // Resident caches hold values transposed, [B, n_kv, d, P] (see residentAttention).
      value: b.input(
        `past_key_values.${i}.value`,
        b.floatType,
        resident
          ? ["batch_size", nkv, hd, "past_sequence_length"]
          : ["batch_size", nkv, "past_sequence_length", hd],
      ),
    }))
    : [];
  const keep = keepInput ? b.input("num_logits_to_keep", "int64", []) : undefined;

  const embed = W("model.embed_tokens.weight");
  let h: string;
  let tiedHead: { weight: string | ((x: string) => string); hfLayout: boolean } | undefined;
  if (fused && format.dtype === "f32" && config.tieWordEmbeddings) {
    // A tied float32 table in inference graphs is held once, transposed, [hidden, vocab]: the
    // lm_head's one-token MatMul streams that layout at about twice the speed of Gemm(transB)
    // over [vocab, hidden] (27.5 against 14.8 GB/s at the 0.5B shape, see linearWeight), and the
    // lookup gathers columns. Training graphs keep the HF layout.
    const [vocab, hidden] = embed.shape;
    const table = transposedFloat(
      b,
      "model.embed_tokens.weight_t",
      vocab,
      hidden,
      weightData(embed),
    );
    h = b.op1("Transpose", [b.op1("Gather", [table, inputIds], { axis: 1 })], {
      perm: [1, 2, 0],
    }, { outputNames: [b.fresh("embed")] });
    tiedHead = { weight: table, hfLayout: false };
  } else if (format.dtype === "f32" && !(isStreamed(embed) && b.floatType === "float32")) {
    const embedW = floatWeight(b, "model.embed_tokens.weight", embed.shape, embed.data);
    h = b.op1("Gather", [embedW, inputIds], {}, { outputNames: [b.fresh("embed")] });
    tiedHead = { weight: embedW, hfLayout: true };
  } else {
    const e = embedding(
      b,
      "model.embed_tokens.weight",
      embed.shape,
      weightData(embed),
      inputIds,
      format,
      config.tieWordEmbeddings,
    );
    h = e.hidden;
    tiedHead = e.lmHead ? { weight: e.lmHead, hfLayout: e.hfLayout } : undefined;
  }
  const hidden: string[] = wantHidden ? [h] : [];
  // Fused inference graphs rotate with onnxruntime's RotaryEmbedding over cos/sin tables of
  // every position (computed here in float64); others build the tables from position_ids.
  const ropeCaches = fused && b.floatType === "float32" ? ropeCacheTables(b, config) : undefined;
  const tables = ropeCaches
    ? undefined
    : rotaryTables(ctx, positionIds, ropeInverseFrequencies(config));
  let bias = attentionBias(ctx, inputIds, attentionMask, options.maskValue ?? F32_LOWEST);
  // The cached path always works on [B, n_kv, group, S, T] scores.
  const bias5 = cache && !resident ? b.op1("Unsqueeze", [bias, b.constantInt([2], [1])]) : "";
  const shared = resident ? residentShared(b, bias, past[0].key, group) : undefined;
  if (group > 1 && !cache) bias = b.op1("Unsqueeze", [bias, b.constantInt([2], [1])]);
  const scale = b.constant([1 / Math.sqrt(hd)], []);
  const presents: { key: string; value: string }[] = [];

  for (let i = 0; i < L; i++) {
    b.scoped(`layers.${i}`, () => {
      const p = `model.layers.${i}`;
      const a = `${p}.self_attn`;
      const x = norm(h, `${p}.input_layernorm.weight`);
      const biasOf = (n: string) => {
        const t = weights.get(`${a}.${n}.bias`);
        return t && (config.attentionBias || n === "o_proj")
          ? floatWeight(b, `${a}.${n}.bias`, t.shape, t.data)
          : undefined;
      };
      const heads = (v: string, n: number, normName?: string) => {
        let r = b.op1("Reshape", [v, b.constantInt([0, 0, n, hd], [4])]);
        if (normName) r = norm(r, normName);
        return b.op1("Transpose", [r], { perm: [0, 2, 1, 3] });
      };
      const qk = config.qkNorm;
      let q = heads(
        lin(`layers.${i}.attn.q_proj`, x, `${a}.q_proj.weight`, biasOf("q_proj")),
        nh,
        qk ? `${a}.q_norm.weight` : undefined,
      );
      let k = heads(
        lin(`layers.${i}.attn.k_proj`, x, `${a}.k_proj.weight`, biasOf("k_proj")),
        nkv,
        qk ? `${a}.k_norm.weight` : undefined,
      );
      const vNew = heads(
        lin(`layers.${i}.attn.v_proj`, x, `${a}.v_proj.weight`, biasOf("v_proj")),
        nkv,
      );
      if (ropeCaches) {
        const rope = (x: string) =>
          b.op1("RotaryEmbedding", [x, positionIds, ropeCaches.cos, ropeCaches.sin], {
            interleaved: 0,
          }, { domain: "com.microsoft" });
        q = rope(q);
        k = rope(k);
      } else {
        q = applyRotary(ctx, q, tables!, hd);
        k = applyRotary(ctx, k, tables!, hd);
      }
      let ctxv: string;
      if (cache) {
        const dims = { nkv, group, nh, hd };
        if (resident) {
          const vNewT = b.op1("Transpose", [vNew], { perm: [0, 1, 3, 2] });
          presents.push({ key: k, value: vNewT });
          ctxv = residentAttention(b, q, k, vNewT, past[i], shared!, scale, dims);
        } else {
          presents.push({
            key: b.op1("Concat", [past[i].key, k], { axis: 2 }),
            value: b.op1("Concat", [past[i].value, vNew], { axis: 2 }),
          });
          ctxv = cachedAttention(b, q, k, vNew, past[i], bias5, scale, dims);
        }
      } else {
        let v = vNew;
        q = b.op1("Mul", [q, scale]);
        let kt = b.op1("Transpose", [k], { perm: [0, 1, 3, 2] });
        if (group > 1) {
          // Query heads h = kv·group + g share kv head kv: group them instead of copying K and V.
          q = b.op1("Reshape", [q, b.constantInt([0, nkv, group, -1, hd], [5])]);
          kt = b.op1("Unsqueeze", [kt, b.constantInt([2], [1])]);
          v = b.op1("Unsqueeze", [v, b.constantInt([2], [1])]);
        }
        const scores = b.op1("Add", [b.op1("MatMul", [q, kt]), bias]);
        ctxv = b.op1("MatMul", [b.op1("Softmax", [scores], { axis: -1 }), v]);
        if (group > 1) ctxv = b.op1("Reshape", [ctxv, b.constantInt([0, nh, -1, hd], [4])]);
      }
      const merged = b.op1("Reshape", [
        b.op1("Transpose", [ctxv], { perm: [0, 2, 1, 3] }),
        b.constantInt([0, 0, nh * hd], [3]),
      ]);
      const attnOut = lin(
        `layers.${i}.attn.o_proj`,
        merged,
        `${a}.o_proj.weight`,
        biasOf("o_proj"),
      );
      h = b.op1("Add", [h, attnOut]);

      const m = `${p}.mlp`;
      const y = norm(h, `${p}.post_attention_layernorm.weight`);
      // Inference graphs stream gate and up as one product (see blockedLinearWeights).
      const pair = blocked(`${m}.gate_up_proj.weight_b16`, [
        `${m}.gate_proj.weight`,
        `${m}.up_proj.weight`,
      ]);
      const gate = lin(
        `layers.${i}.mlp.gate_proj`,
        y,
        `${m}.gate_proj.weight`,
        undefined,
        pair?.[0],
      );
      const up = lin(`layers.${i}.mlp.up_proj`, y, `${m}.up_proj.weight`, undefined, pair?.[1]);
      const act = b.op1("Mul", [b.op1("Mul", [gate, b.op1("Sigmoid", [gate])]), up]);
      h = b.op1("Add", [h, lin(`layers.${i}.mlp.down_proj`, act, `${m}.down_proj.weight`)]);

      if (steering) {
        const dirs = b.input(`ablate.${i}.directions`, b.floatType, [`ablate_k_${i}`, d]);
        const amask = b.input(`ablate.${i}.mask`, b.floatType, [
          "batch_size",
          "sequence_length",
          `ablate_k_${i}`,
        ]);
        const proj = b.op1("Mul", [
          b.op1("MatMul", [h, b.op1("Transpose", [dirs], { perm: [1, 0] })]),
          amask,
        ]);
        h = b.op1("Sub", [h, b.op1("MatMul", [proj, dirs])]);
        const vecs = b.input(`steer.${i}.vectors`, b.floatType, [`steer_k_${i}`, d]);
        const scales = b.input(`steer.${i}.scales`, b.floatType, [
          "batch_size",
          "sequence_length",
          `steer_k_${i}`,
        ]);
        h = b.op1("Add", [h, b.op1("MatMul", [scales, vecs])]);
      }
      if (wantHidden && i < L - 1) hidden.push(h);
    });
  }
  const finalH = norm(h, "model.norm.weight");
  if (wantHidden) hidden.push(finalH);

  let headIn = finalH;
  let logitsLen: number | string = "sequence_length";
  if (keep) {
    const start = b.op1("Neg", [b.op1("Reshape", [keep, b.constantInt([1], [1])])]);
    headIn = b.op1("Slice", [
      finalH,
      start,
      b.constantInt([2 ** 62], [1]),
      b.constantInt([1], [1]),
    ]);
    logitsLen = "num_logits";
  }
  const lmHook = hookByName.get("lm_head")!;
  const logits = config.tieWordEmbeddings
    ? linear(ctx, lmHook, headIn, tiedHead!.weight, { hfLayout: tiedHead!.hfLayout })
    : lin("lm_head", headIn, "lm_head.weight");
  return {
    logits,
    hiddenStates: hidden,
    presents,
    hooks,
    logitsShape: ["batch_size", logitsLen, config.vocabSize],
  };
}

/**
 * Builds the decoder model: transformers.js-compatible I/O (`input_ids`, `attention_mask`,
 * `position_ids`, `past_key_values.{i}.key/value`, `num_logits_to_keep` → `logits`,
 * `present.{i}.key/value`), plus `hidden_states.{0..L}` outputs and the optional steering inputs.
 * Left padding: feed `position_ids = cumsum(mask) - 1` (masked positions 1); keys whose
 * `attention_mask` is 0 are masked.
 *
 * @example
 * ```ts
 * import { buildDecoderGraph } from "./decoder_graph.ts";
 * import type { DecoderConfig } from "./config.ts";
 * declare const config: DecoderConfig;
 * declare const weights: Map<string, { shape: number[]; data: Float32Array }>;
 * const { model, inputs } = buildDecoderGraph(config, weights, { steering: true });
 * console.log(inputs.map((i) => i.name));
 * ```
 */
export function buildDecoderGraph(
  config: DecoderConfig,
  weights: DecoderWeightMap,
  options: DecoderGraphOptions = {},
): DecoderGraph {
  const bake = options.bakeParameters ?? false;
  const adapterParams = bake ? adapterParameterValues(options.adapters ?? []) : undefined;
  const b = new GraphBuilder({
    name: `dramatis_${config.modelType}`,
    floatType: options.dtype ?? "float32",
    parameterValues: adapterParams && new Map([...adapterParams].map(([n, p]) => [n, p.data])),
  });
  const values = buildDecoderInto(b, config, weights, options);
  if (adapterParams) checkBaked(b, adapterParams);
  const ft = b.floatType;
  const { headDim: hd, numKvHeads: nkv, hiddenSize: d } = config;
  b.output("logits", ft, values.logitsShape, values.logits);
  const resident = options.kvCache === "resident";
  values.presents.forEach((p, i) => {
    if (resident) {
      b.output(`kv_new.${i}.key`, ft, ["batch_size", nkv, "sequence_length", hd], p.key);
      b.output(`kv_new.${i}.value`, ft, ["batch_size", nkv, hd, "sequence_length"], p.value);
    } else {
      const len = "total_sequence_length";
      b.output(`present.${i}.key`, ft, ["batch_size", nkv, len, hd], p.key);
      b.output(`present.${i}.value`, ft, ["batch_size", nkv, len, hd], p.value);
    }
  });
  values.hiddenStates.forEach((v, j) =>
    b.output(`hidden_states.${j}`, ft, ["batch_size", "sequence_length", d], v)
  );
  const compute = options.compute ?? "float32";
  if (compute !== "float32" && compute !== "float16") {
    throw withCode(
      new TypeError(`compute is ${JSON.stringify(compute)}; use "float32" or "float16"`),
      "E_USAGE",
    );
  }
  if (compute === "float16" && (ft !== "float32" || !options.fused)) {
    throw withCode(
      new TypeError(
        `compute float16 needs a fused float32 inference graph (fused: true, dtype float32); ` +
          `this one is ${options.fused ? "" : "unfused, "}${ft}`,
      ),
      "E_GRAPH",
    );
  }
  const built: Graph = b.graph();
  // Float32 graphs: outputs are named by the nodes that produce them (no Identity copy per output
  // and call). Float16 graphs keep the copies, each followed by the cast back to float32.
  const folded = compute === "float16" ? toFloat16Compute(built) : foldOutputIdentities(built);
  const graph = options.largestProductFirst ? largestProductFirst(folded) : folded;
  const meta = {
    modelType: config.modelType,
    numLayers: config.numLayers,
    cache: options.cache ?? true,
    kvCache: options.kvCache ?? "concat",
    fused: options.fused ?? false,
    steering: options.steering ?? false,
    hiddenStates: options.hiddenStates ?? true,
    numLogitsToKeep: options.numLogitsToKeep ?? true,
    adapters: (options.adapters ?? []).map((a) => a.kind),
    bakedParameters: bake,
    dtype: ft,
    weights: normalizeWeightFormat(options.weights, "weights.dtype"),
    ...(compute === "float16" ? { compute } : {}),
  };
  return {
    model: makeModel(graph, { metadata: { "dramatis.decoder": JSON.stringify(meta) } }),
    inputs: graph.inputs,
    outputs: graph.outputs,
    hooks: values.hooks,
    parameters: b.parameters(),
    bakedParameters: b.bakedParameters(),
  };
}

/** `cos` and `sin` of `position · invFreq` for positions 0..maxPositionEmbeddings-1, `[P, d/2]`. */
function ropeCacheTables(b: GraphBuilder, config: DecoderConfig): { cos: string; sin: string } {
  const inv = ropeInverseFrequencies(config);
  const P = config.maxPositionEmbeddings;
  const half = inv.length;
  const cos = new Float32Array(P * half);
  const sin = new Float32Array(P * half);
  for (let p = 0; p < P; p++) {
    for (let i = 0; i < half; i++) {
      cos[p * half + i] = Math.cos(p * inv[i]);
      sin[p * half + i] = Math.sin(p * inv[i]);
    }
  }
  return {
    cos: b.initializer("rope.cos_cache", "float32", [P, half], cos),
    sin: b.initializer("rope.sin_cache", "float32", [P, half], sin),
  };
}

/**
 * Masked softmax of attention scores `[B, n_kv, g·S, P+S]` (the query heads of a kv head stacked
 * as rows): viewed as `[B, n_kv, g, S, P+S]` for the `[B, 1, 1, S, P+S]` bias, normalized over
 * positions, returned in the rows layout.
 */
function groupedSoftmax(
  b: GraphBuilder,
  scores: string,
  bias5: string,
  nkv: number,
  group: number,
): string {
  const total = b.op1("Shape", [scores], { start: 3 });
  const shape = (lead: number[]) =>
    b.op1("Concat", [b.constantInt(lead, [lead.length]), total], { axis: 0 });
  const scores5 = b.op1("Reshape", [scores, shape([0, nkv, group, -1])]);
  const probs5 = b.op1("Softmax", [b.op1("Add", [scores5, bias5])], { axis: -1 });
  return b.op1("Reshape", [probs5, shape([0, nkv, -1])]);
}

/**
 * Attention of the new queries over the cached keys and the new keys, without concatenating
 * them: scores against the past block and the new block are computed separately (the past
 * keys are read where they lie), joined only as scores, masked by the `[B, 1, 1, S, P+S]` bias,
 * and the probabilities are split again to weight the past and new values. Returns the context
 * `[B, heads, S, head_dim]`.
 */
function cachedAttention(
  b: GraphBuilder,
  q: string,
  kNew: string,
  vNew: string,
  past: { key: string; value: string },
  bias5: string,
  scale: string,
  dims: { nkv: number; group: number; nh: number; hd: number },
): string {
  const { nkv, group, nh, hd } = dims;
  // The query heads sharing a kv head are stacked as rows of one product, [B, n_kv, g·S, d]:
  // each block of keys and values is then read by one matrix product per kv head, not by one
  // per query head.
  const qg = b.op1("Reshape", [b.op1("Mul", [q, scale]), b.constantInt([0, nkv, -1, hd], [4])]);
  const kt = (x: string) => b.op1("Transpose", [x], { perm: [0, 1, 3, 2] });
  const sPast = b.op1("MatMul", [qg, kt(past.key)]);
  const sNew = b.op1("MatMul", [qg, kt(kNew)]);
  const scores = b.op1("Concat", [sPast, sNew], { axis: -1 });
  const probs = groupedSoftmax(b, scores, bias5, nkv, group);
  const pastLen = b.op1("Shape", [past.key], { start: 2, end: 3 });
  const last = b.constantInt([-1], [1]);
  const pPast = b.op1("Slice", [probs, b.constantInt([0], [1]), pastLen, last]);
  const pNew = b.op1("Slice", [probs, pastLen, b.constantInt([2 ** 62], [1]), last]);
  const ctx = b.op1("Add", [
    b.op1("MatMul", [pPast, past.value]),
    b.op1("MatMul", [pNew, vNew]),
  ]);
  return b.op1("Reshape", [ctx, b.constantInt([0, nh, -1, hd], [4])]);
}

/**
 * What every layer of a resident graph shares for its attention: the `[B, 1, S, P+S]` bias
 * repeated for the query heads of a group, `[B, 1, g·S, P+S]` (the layout of the scores, where it
 * adds along contiguous positions), and the past length `P` where the probabilities are split.
 * Built once per call.
 */
function residentShared(
  b: GraphBuilder,
  bias: string,
  pastKey: string,
  group: number,
): { rows: string; pastLen: string } {
  const perHead = b.op1("Expand", [
    b.op1("Unsqueeze", [bias, b.constantInt([2], [1])]),
    b.constantInt([1, 1, group, 1, 1], [5]),
  ]);
  const rows = b.op1("Reshape", [
    perHead,
    b.op1("Concat", [b.constantInt([0, 1, -1], [3]), b.op1("Shape", [bias], { start: 3 })], {
      axis: 0,
    }),
  ]);
  return { rows, pastLen: b.op1("Shape", [pastKey], { start: 2, end: 3 }) };
}

/**
 * Attention over a resident cache. The cache is the tall left operand of both products, read once,
 * in place, by one product per kv head (the query rows are the narrow right operand): keys ·
 * queryᵀ gives the past block's scores as `[B, n_kv, P, g·S]`, which are transposed to query
 * rows, `[B, n_kv, g·S, P]`, and joined with the new block's, so that the mask and onnxruntime's
 * Softmax run along contiguous positions (in the tall layout every broadcast has spans of only
 * g·S elements, g = 7 at decode; measured, the transpose, join and split cost less than
 * taking the softmax in parts). The probabilities are split again at `P` for the two values
 * products: context `[B, n_kv, d, g·S]` = valuesᵀ · probabilitiesᵀ of each block (values held
 * transposed, `[B, n_kv, d, P]`). Returns the context `[B, heads, S, head_dim]`.
 */
function residentAttention(
  b: GraphBuilder,
  q: string,
  kNew: string,
  vNewT: string,
  past: { key: string; value: string },
  shared: { rows: string; pastLen: string },
  scale: string,
  dims: { nkv: number; group: number; nh: number; hd: number },
): string {
  const { nkv, nh, hd } = dims;
  const t = (x: string) => b.op1("Transpose", [x], { perm: [0, 1, 3, 2] });
  // Query heads sharing a kv head as columns: [B, n_kv, d, g·S].
  const qT = t(b.op1("Reshape", [b.op1("Mul", [q, scale]), b.constantInt([0, nkv, -1, hd], [4])]));
  const scores = b.op1("Concat", [
    t(b.op1("MatMul", [past.key, qT])),
    t(b.op1("MatMul", [kNew, qT])),
  ], { axis: -1 });
  const probs = b.op1("Softmax", [b.op1("Add", [scores, shared.rows])], { axis: -1 });
  const last = b.constantInt([-1], [1]);
  const pPast = b.op1("Slice", [probs, b.constantInt([0], [1]), shared.pastLen, last]);
  const pNew = b.op1("Slice", [probs, shared.pastLen, b.constantInt([2 ** 62], [1]), last]);
  // Query rows back as columns (onnxruntime folds these transposes into the products).
  const ctxT = b.op1("Add", [
    b.op1("MatMul", [past.value, t(pPast)]),
    b.op1("MatMul", [vNewT, t(pNew)]),
  ]);
  return b.op1("Reshape", [t(ctxT), b.constantInt([0, nh, -1, hd], [4])]);
}

/** Every adapter's parameters by name, with the adapter kind (two adapters may not share a name). */
function adapterParameterValues(
  adapters: readonly Adapter[],
): Map<string, { kind: string; shape: number[]; data: Float32Array }> {
  const out = new Map<string, { kind: string; shape: number[]; data: Float32Array }>();
  for (const a of adapters) {
    for (const p of a.parameters()) {
      const prev = out.get(p.name);
      if (prev) {
        throw withCode(
          new RangeError(
            `adapters ${prev.kind} and ${a.kind} both have a parameter "${p.name}"; ` +
              `baked parameters need unique names — give the adapters distinct names`,
          ),
          "E_GRAPH",
        );
      }
      out.set(p.name, { kind: a.kind, shape: [...p.shape], data: p.data });
    }
  }
  return out;
}

/** After a baked build: no parameter left as an input, and each baked one has its listed shape. */
function checkBaked(
  b: GraphBuilder,
  listed: Map<string, { kind: string; shape: number[] }>,
): void {
  const unlisted = b.parameters();
  if (unlisted.length > 0) {
    throw withCode(
      new RangeError(
        `adapter parameter(s) ${
          unlisted.map((p) => `"${p.name}"`).join(", ")
        } are used by emit() but missing from parameters(), so they cannot be baked; ` +
          `list every parameter the adapter emits in parameters()`,
      ),
      "E_GRAPH",
    );
  }
  for (const p of b.bakedParameters()) {
    const want = listed.get(p.name)!;
    if (want.shape.join(",") !== p.shape.join(",")) {
      throw withCode(
        new RangeError(
          `adapter ${want.kind} lists parameter "${p.name}" with shape [${want.shape}] but emit() ` +
            `declares [${p.shape}]; make the two agree`,
        ),
        "E_GRAPH",
      );
    }
  }
}
