/**
 * The train-step graph: a decoder built without KV cache, the masked causal-LM loss, and the
 * backward pass for the trained parameters — one onnxruntime run gives the loss and every
 * gradient. Frozen base weights stay initializers and get no gradient nodes; with `trainBase`
 * (full-parameter training) the chosen base weights become inputs and are differentiated too.
 * With `steering` the decoder's residual-edit inputs are part of every training forward.
 *
 * @module
 */

import type { Adapter, AdapterTensor } from "../contracts/adapter.ts";
import { withCode } from "../errors.ts";
import type { DecoderConfig } from "../model/config.ts";
import { buildDecoderInto, type DecoderWeightMap } from "../model/decoder_graph.ts";
import { buildGradientGraph } from "../onnx/autodiff/gradient.ts";
import { GraphBuilder } from "../onnx/builder.ts";
import { type Graph, makeModel, type Model, type ValueInfo } from "../onnx/ir.ts";
import { expectedWeightShapes } from "../model/weights.ts";
import { normalizeWeightFormat, type WeightFormat } from "../model/quantize.ts";
import { appendCausalLmLoss } from "./loss_graph.ts";

/** Options of {@link buildTrainGraph}. */
export interface TrainGraphOptions {
  /**
   * Adapters attached at their hooks. Their parameters are graph inputs; those whose
   * `AdapterTensor` carries `trainable: false` are fed but not differentiated (see
   * {@link TrainableTensor}).
   */
  adapters: Adapter[];
  /** Float type; float64 serves gradient checks. Default float32. */
  dtype?: "float32" | "float64";
  /**
   * Storage of the frozen base weights (float32 graphs): int4 / int8 keep every frozen linear
   * layer, the lm_head and the embedding block-quantized (QLoRA-style: adapters train in float32
   * over the quantized base; the activation gradients flow through the dequantized weights).
   * Default f32. Not combinable with `trainBase`.
   */
  weights?: WeightFormat;
  /** Loss reduction: `sum` (default, the trainer normalizes per optimizer step) or `mean`. */
  reduction?: "mean" | "sum";
  /**
   * Parameter names to differentiate (adapter parameter names and/or base parameter names, see
   * {@link BaseParameter}). Default: every adapter parameter not flagged `trainable: false`, plus
   * every base weight chosen by `trainBase`.
   */
  trainable?: string[];
  /**
   * Full-parameter training: base weights (Hugging Face names, or `"all"`) that become graph
   * inputs and trained parameters instead of frozen initializers. Default none.
   */
  trainBase?: "all" | string[];
  /**
   * Adds the decoder's residual-edit inputs (`steer.{i}.vectors/scales`,
   * `ablate.{i}.directions/mask` for every block i) so training forwards can be steered
   * (preventative steering, CAFT-style ablation). Default false.
   */
  steering?: boolean;
}

/** An adapter tensor that may say it is frozen (`trainable: false`): fed, not differentiated. */
export type TrainableTensor = AdapterTensor & { trainable?: boolean };

/**
 * A base weight turned into a trained parameter (full-parameter training). Linear weights with
 * more outputs than inputs are stored transposed in the graph (`[in, out]`, input name
 * `<hfName>_t`; see `linearWeight`), everything else under its Hugging Face name and layout.
 */
export interface BaseParameter {
  /** Graph input name. */
  name: string;
  /** Hugging Face tensor name. */
  hfName: string;
  /** Shape of the graph input. */
  shape: number[];
  /** True when the graph holds the transpose of the HF `[out, in]` weight. */
  transposed: boolean;
}

/** A train-step graph and its interface. */
export interface TrainGraph {
  model: Model;
  /**
   * Graph inputs besides the parameters: input_ids, attention_mask, position_ids, labels,
   * adapter runtime inputs and (with steering) the residual-edit inputs.
   */
  dataInputs: ValueInfo[];
  /** Every parameter input (adapter parameters, then base parameters), trained or not. */
  parameters: ValueInfo[];
  /** Names of the trained parameters; output `grad.<name>` carries each gradient. */
  trainable: string[];
  /** Base weights that are graph inputs (full-parameter training); empty otherwise. */
  base: BaseParameter[];
  /** The graph takes residual-edit inputs. */
  steering: boolean;
  /** Float type of the graph. */
  dtype: "float32" | "float64";
  /** The decoder config the graph was built for. */
  config: DecoderConfig;
  /** The loss output name (`"loss"`). */
  loss: string;
}

/**
 * The initial values of a train graph's base parameters, in graph layout (transposed linear
 * weights), copied from the HF weights.
 *
 * @example
 * ```ts
 * import { baseParameterValues, type TrainGraph } from "./train_graph.ts";
 * declare const tg: TrainGraph;
 * declare const weights: Map<string, { shape: number[]; data: Float32Array }>;
 * const params = baseParameterValues(tg, weights); // NamedTensor[] for trainLoop
 * ```
 */
export function baseParameterValues(
  graph: Pick<TrainGraph, "base">,
  weights: DecoderWeightMap,
): { name: string; shape: number[]; data: Float32Array }[] {
  return graph.base.map((p) => {
    const w = weights.get(p.hfName)!;
    if (!p.transposed) {
      return { name: p.name, shape: p.shape.slice(), data: Float32Array.from(w.data) };
    }
    const [rows, cols] = w.shape;
    const data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) data[c * rows + r] = w.data[r * cols + c];
    }
    return { name: p.name, shape: p.shape.slice(), data };
  });
}

/**
 * Base parameter values back in Hugging Face layout (`[out, in]` linear weights), by HF name.
 *
 * @example
 * ```ts
 * import { baseParametersToHf, type TrainGraph } from "./train_graph.ts";
 * declare const tg: TrainGraph;
 * declare const params: { name: string; shape: number[]; data: Float32Array }[];
 * const hf = baseParametersToHf(tg, params); // Map "model.layers.0.self_attn.q_proj.weight" → …
 * ```
 */
export function baseParametersToHf(
  graph: Pick<TrainGraph, "base">,
  params: readonly { name: string; data: Float32Array }[],
): Map<string, { shape: number[]; data: Float32Array }> {
  const byName = new Map(params.map((p) => [p.name, p]));
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const p of graph.base) {
    const v = byName.get(p.name);
    if (!v) continue;
    if (!p.transposed) {
      out.set(p.hfName, { shape: p.shape.slice(), data: v.data });
      continue;
    }
    const [rows, cols] = p.shape; // graph [in, out] → HF [out, in]
    const data = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) data[c * rows + r] = v.data[r * cols + c];
    }
    out.set(p.hfName, { shape: [cols, rows], data });
  }
  return out;
}

/**
 * Builds the training graph of a decoder with adapters. Inputs: `input_ids`, `attention_mask`,
 * `position_ids`, `labels` (int64 `[batch, seq]`, unshifted, -100 = no loss), adapter runtime
 * inputs, and every adapter parameter. Outputs: `loss` and `grad.<param>`.
 *
 * @example
 * ```ts
 * import { buildTrainGraph } from "./train_graph.ts";
 * import type { Adapter, AdapterTensor } from "../contracts/adapter.ts";
 * import type { DecoderConfig } from "../model/config.ts";
 * declare const config: DecoderConfig;
 * declare const weights: Map<string, { shape: number[]; data: Float32Array }>;
 * declare const lora: Adapter;
 * const tg = buildTrainGraph(config, weights, { adapters: [lora] });
 * console.log(tg.trainable, tg.model.graph.outputs.map((o) => o.name));
 * ```
 */
export function buildTrainGraph(
  config: DecoderConfig,
  weights: DecoderWeightMap,
  options: TrainGraphOptions,
): TrainGraph {
  const dtype = options.dtype ?? "float32";
  const steering = options.steering ?? false;
  const format = normalizeWeightFormat(options.weights, "weights.dtype");
  if (format.dtype !== "f32" && options.trainBase !== undefined) {
    // Norms and biases stay float32 in every format; matrices are stored as the format says.
    const shapes = expectedWeightShapes(config);
    const chosen = options.trainBase === "all" ? [...shapes.keys()] : options.trainBase;
    const stored = Array.isArray(chosen)
      ? chosen.filter((n) => (shapes.get(n)?.length ?? 0) > 1)
      : [];
    if (stored.length) {
      throw withCode(
        new RangeError(
          `trainBase trains base weights, which must be float32, but "${stored[0]}"` +
            `${stored.length > 1 ? ` and ${stored.length - 1} more` : ""} would be stored as ` +
            `${format.dtype}; train only norms and biases over a ${format.dtype} base, or build ` +
            `with weights.dtype f32`,
        ),
        "E_USAGE",
      );
    }
  }
  const b = new GraphBuilder({ name: `dramatis_train_${config.modelType}`, floatType: dtype });
  const values = buildDecoderInto(b, config, weights, {
    weights: format,
    adapters: options.adapters,
    cache: false,
    numLogitsToKeep: false,
    hiddenStates: false,
    steering,
    dtype,
  });
  const labels = b.input("labels", "int64", ["batch_size", "sequence_length"]);
  const loss = appendCausalLmLoss(b, {
    logits: values.logits,
    labels,
    vocabSize: config.vocabSize,
    reduction: options.reduction ?? "sum",
  });
  b.output("loss", dtype, [], loss);
  const adapterParams = b.parameters();
  let forward = b.graph();
  const base = chooseBase(config, options.trainBase);
  const baseInfos: BaseParameter[] = [];
  if (base.length) forward = liftBase(forward, base, baseInfos);
  const parameters = [
    ...adapterParams,
    ...baseInfos.map((p) => ({ name: p.name, dtype, shape: p.shape } as ValueInfo)),
  ];
  const names = new Set(parameters.map((p) => p.name));
  const frozen = new Set<string>();
  for (const a of options.adapters) {
    for (const t of a.parameters() as TrainableTensor[]) {
      if (t.trainable === false) frozen.add(t.name);
    }
  }
  const trainable = options.trainable ??
    [
      ...adapterParams.map((p) => p.name).filter((n) => !frozen.has(n)),
      ...baseInfos.map((p) => p.name),
    ];
  if (trainable.length === 0) {
    throw withCode(
      new RangeError(
        "no trainable parameters: the adapters declared none at the decoder's hooks (or flagged all " +
          "of them trainable: false) and no base weights were chosen; check the adapter targets or trainBase",
      ),
      "E_USAGE",
    );
  }
  for (const t of trainable) {
    if (!names.has(t)) {
      throw withCode(
        new RangeError(
          `trainable parameter "${t}" is not declared by any adapter or base weight; use one of ${
            [...names].slice(0, 8).join(", ")
          }${names.size > 8 ? ", …" : ""}`,
        ),
        "E_USAGE",
      );
    }
  }
  const graph = buildGradientGraph(forward, { loss: "loss", wrt: trainable });
  const dataInputs = graph.inputs.filter((v) => !names.has(v.name));
  return {
    model: makeModel(graph, { metadata: { "dramatis.train": JSON.stringify({ trainable }) } }),
    dataInputs,
    parameters,
    trainable,
    base: baseInfos,
    steering,
    dtype,
    config,
    loss: "loss",
  };
}

/** The HF weight names `trainBase` selects, validated against the config. */
function chooseBase(config: DecoderConfig, choice: TrainGraphOptions["trainBase"]): string[] {
  if (choice === undefined) return [];
  const all = [...expectedWeightShapes(config).keys()];
  if (choice === "all") return all;
  if (!Array.isArray(choice)) {
    throw withCode(
      new TypeError(
        `trainBase is ${JSON.stringify(choice)}; pass "all" or a list of HF weight names`,
      ),
      "E_USAGE",
    );
  }
  const known = new Set(all);
  for (const n of choice) {
    if (!known.has(n)) {
      throw withCode(
        new RangeError(
          `trainBase names "${n}", which is not a weight of this ${config.modelType} model (e.g. ${
            all[0]
          })`,
        ),
        "E_USAGE",
      );
    }
  }
  return choice.slice();
}

/** Turns the initializers of the chosen base weights into graph inputs. */
function liftBase(graph: Graph, hfNames: string[], out: BaseParameter[]): Graph {
  const inits = new Map(graph.initializers.map((t) => [t.name, t]));
  const lifted = new Set<string>();
  for (const hf of hfNames) {
    const t = inits.get(`${hf}_t`) ?? inits.get(hf);
    if (!t) {
      throw withCode(
        new RangeError(`base weight "${hf}" is not an initializer of the decoder graph`),
        "E_GRAPH",
      );
    }
    lifted.add(t.name);
    out.push({ name: t.name, hfName: hf, shape: t.shape.slice(), transposed: t.name !== hf });
  }
  return {
    ...graph,
    initializers: graph.initializers.filter((t) => !lifted.has(t.name)),
    inputs: [
      ...graph.inputs,
      ...out.map((p) => ({ name: p.name, dtype: inits.get(p.name)!.dtype, shape: p.shape })),
    ],
  };
}
