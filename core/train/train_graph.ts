/**
 * The train-step graph: a decoder built without KV cache, the masked causal-LM loss, and the
 * backward pass for the adapter parameters — one onnxruntime run gives the loss and every
 * gradient. Frozen base weights stay initializers and get no gradient nodes.
 *
 * @module
 */

import type { Adapter } from "../contracts/adapter.ts";
import { withCode } from "../errors.ts";
import type { DecoderConfig } from "../model/config.ts";
import { buildDecoderInto, type DecoderWeightMap } from "../model/decoder_graph.ts";
import { buildGradientGraph } from "../onnx/autodiff/gradient.ts";
import { GraphBuilder } from "../onnx/builder.ts";
import { makeModel, type Model, type ValueInfo } from "../onnx/ir.ts";
import { appendCausalLmLoss } from "./loss_graph.ts";

/** Options of {@link buildTrainGraph}. */
export interface TrainGraphOptions {
  /** Adapters whose parameters are trained (all of their parameters). */
  adapters: Adapter[];
  /** Float type; float64 serves gradient checks. Default float32. */
  dtype?: "float32" | "float64";
  /** Loss reduction: `sum` (default, the trainer normalizes per optimizer step) or `mean`. */
  reduction?: "mean" | "sum";
  /** Parameter names to differentiate; default every adapter parameter. */
  trainable?: string[];
}

/** A train-step graph and its interface. */
export interface TrainGraph {
  model: Model;
  /** Graph inputs besides the parameters: input_ids, attention_mask, position_ids, labels, … */
  dataInputs: ValueInfo[];
  /** Every adapter parameter input (trained or not), in declaration order. */
  parameters: ValueInfo[];
  /** Names of the trained parameters; output `grad.<name>` carries each gradient. */
  trainable: string[];
  /** The loss output name (`"loss"`). */
  loss: string;
}

/**
 * Builds the training graph of a decoder with adapters. Inputs: `input_ids`, `attention_mask`,
 * `position_ids`, `labels` (int64 `[batch, seq]`, unshifted, -100 = no loss), adapter runtime
 * inputs, and every adapter parameter. Outputs: `loss` and `grad.<param>`.
 *
 * @example
 * ```ts
 * import { buildTrainGraph } from "./train_graph.ts";
 * import type { Adapter } from "../contracts/adapter.ts";
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
  const b = new GraphBuilder({ name: `dramatis_train_${config.modelType}`, floatType: dtype });
  const values = buildDecoderInto(b, config, weights, {
    adapters: options.adapters,
    cache: false,
    numLogitsToKeep: false,
    hiddenStates: false,
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
  const parameters = b.parameters();
  const names = new Set(parameters.map((p) => p.name));
  const trainable = options.trainable ?? parameters.map((p) => p.name);
  if (trainable.length === 0) {
    throw withCode(
      new RangeError(
        "no trainable parameters: the adapters declared none at the decoder's hooks; check their targets",
      ),
      "E_USAGE",
    );
  }
  for (const t of trainable) {
    if (!names.has(t)) {
      throw withCode(
        new RangeError(
          `trainable parameter "${t}" is not declared by any adapter; use one of ${
            [...names].join(", ")
          }`,
        ),
        "E_USAGE",
      );
    }
  }
  const graph = buildGradientGraph(b.graph(), { loss: "loss", wrt: trainable });
  const dataInputs = graph.inputs.filter((v) => !names.has(v.name));
  return {
    model: makeModel(graph, { metadata: { "dramatis.train": JSON.stringify({ trainable }) } }),
    dataInputs,
    parameters,
    trainable,
    loss: "loss",
  };
}
