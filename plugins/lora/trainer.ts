/**
 * The `lora` trainer: trains a PEFT-compatible LoRA adapter (or, with `trainable: "all"`, every
 * base weight of a small model) on chat data with the core engine — train-step graph, AdamW,
 * schedules, clipping, accumulation, checkpoints and exact resume — optionally under residual
 * edits (preventative steering / ablation, spec B8).
 *
 * Output directory:
 * - LoRA: `adapter_config.json` + `adapter_model.safetensors` (PEFT layout, loadable by
 *   `PeftModel.from_pretrained` and by `loadLora`);
 * - full: a Hugging Face model directory (`config.json`, `model.safetensors`, tokenizer files);
 * - `checkpoints/step-NNNNNN/` (resume state; LoRA runs also get a PEFT copy in `adapter/`),
 *   `metrics.jsonl`, `train_config.json` and `train_result.json`.
 *
 * @module
 */

import type { ResidualEdit } from "../../core/contracts/steerer.ts";
import type { Trainer, TrainRequest, TrainResult } from "../../core/contracts/trainer.ts";
import { withCode } from "../../core/errors.ts";
import type { DecoderConfig } from "../../core/model/config.ts";
import { decodeSafetensors, toFloat32 } from "../../core/model/safetensors.ts";
import type { ModelTokenizer } from "../../core/model/tokenizer.ts";
import { normalizeWeightFormat } from "../../core/model/quantize.ts";
import { resolveWeightFormat } from "../../core/model/engine.ts";
import { loadWeights, withBaseWeights } from "../../core/model/weights.ts";
import type { NamedTensor } from "../../core/train/adamw.ts";
import {
  readChatData,
  type SkippedRecord,
  type TrimmedRecord,
} from "../../core/train/chat_data.ts";
import type { TokenizedExample } from "../../core/train/chat_tokenize.ts";
import { tokenizeTruncating, type TruncatedRecord } from "../../core/train/truncate.ts";
import { createStepRunner } from "../../core/train/runner.ts";
import {
  baseParametersToHf,
  baseParameterValues,
  buildTrainGraph,
  type TrainGraph,
} from "../../core/train/train_graph.ts";
import { evalLossDetail, stepFeeds } from "../../core/train/train_loop.ts";
import { writeHfModel } from "../../core/train/write_model.ts";
import {
  prepareTraining,
  runTraining,
  splitEval,
  trainingAborted,
} from "../../core/services/training_driver.ts";
import { LoraAdapter } from "./lora_adapter.ts";
import { loadLora } from "./load_lora.ts";
import { loraOptionsFromConfig } from "./options.ts";
import { type LoraTrainConfig, parseLoraTrainConfig } from "./train_config.ts";

/** Options of {@link createLoraTrainer}. */
export interface LoraTrainerOptions {
  /** Progress bar on stderr; default: when stderr is a terminal. */
  progress?: boolean;
  /** `worker` (default) or `in-process` graph execution. */
  runner?: "worker" | "in-process";
}

/** Tokenized training and eval sets plus what was skipped and trimmed. */
export interface PreparedData {
  train: TokenizedExample[];
  eval: TokenizedExample[];
  skipped: SkippedRecord[];
  /** Conversations kept after their trailing unanswered user turn was trimmed. */
  trimmed: TrimmedRecord[];
  /** Conversations cut at max_length (config `truncate`). */
  truncated: TruncatedRecord[];
}

function configError(message: string): RangeError {
  return withCode(new RangeError(message), "E_CONFIG");
}

/**
 * Reads, validates, tokenizes and splits chat data exactly as the trainer does (so an eval after
 * training sees the same eval set): records in file order, the eval split drawn with the config
 * seed, over-long conversations rejected or skipped.
 *
 * @example
 * ```ts
 * import { prepareChatData } from "./trainer.ts";
 * import { parseLoraTrainConfig } from "./train_config.ts";
 * import { loadTokenizer } from "../../core/model/tokenizer.ts";
 * const tok = await loadTokenizer("./models/tiny");
 * const d = await prepareChatData(tok, "datasets/train/persona_chat.jsonl", parseLoraTrainConfig({}), 512);
 * console.log(d.train.length, d.eval.length, d.skipped.length);
 * ```
 */
export async function prepareChatData(
  tok: ModelTokenizer,
  data: string,
  config: LoraTrainConfig,
  maxLength: number,
): Promise<PreparedData> {
  const skip = { skipInvalid: config.skip_invalid };
  const read = await readChatData(data, skip);
  const cut = { maxLength, truncate: config.truncate, ...skip };
  const tokd = tokenizeTruncating(tok, read.conversations, cut);
  const skipped = [...read.skipped, ...tokd.skipped];
  const trimmed = [...read.trimmed];
  const truncated = [...tokd.truncated];
  let train = tokd.examples;
  let evalSet: TokenizedExample[] = [];
  if (config.eval_data) {
    const ev = await readChatData(config.eval_data, skip);
    const evt = tokenizeTruncating(tok, ev.conversations, cut);
    skipped.push(...ev.skipped, ...evt.skipped);
    trimmed.push(...ev.trimmed);
    truncated.push(...evt.truncated);
    evalSet = evt.examples;
  } else {
    ({ train, eval: evalSet } = splitEval(train, config));
  }
  if (train.length === 0) {
    throw withCode(
      new RangeError(
        `${data}: no training examples left${
          skipped.length ? ` (${skipped.length} skipped)` : ""
        }; add valid records or lower eval_split`,
      ),
      "E_DATA",
    );
  }
  return { train, eval: evalSet, skipped, trimmed, truncated };
}

/**
 * Reads the steering entries of a config into residual edits: row `layer` of each vector file
 * (tensor `vector`, `[numLayers + 1, hidden]`, as the persona_vectors plugin writes) at block
 * `layer - 1`, applied at every position.
 *
 * @example
 * ```ts
 * import { loadTrainSteering } from "./trainer.ts";
 * import type { DecoderConfig } from "../../core/model/config.ts";
 * declare const config: DecoderConfig;
 * const edits = await loadTrainSteering(
 *   [{ vector: "runs/evil/vector.safetensors", coefficient: 5, layer: 2, type: "steer" }], config);
 * ```
 */
export async function loadTrainSteering(
  entries: LoraTrainConfig["steering"],
  config: DecoderConfig,
): Promise<ResidualEdit[]> {
  const edits: ResidualEdit[] = [];
  for (const [i, e] of entries.entries()) {
    const where = `steering[${i}]`;
    if (e.layer > config.numLayers) {
      throw configError(
        `${where}.layer is ${e.layer}; this model has hidden-state layers 1..${config.numLayers} (layer L edits the residual after block L-1)`,
      );
    }
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(e.vector);
    } catch {
      throw configError(
        `${where}.vector "${e.vector}" cannot be read; pass the path of a persona-vector .safetensors file`,
      );
    }
    const { tensors } = decodeSafetensors(bytes, e.vector);
    const t = tensors.get("vector") ?? (tensors.size === 1 ? [...tensors.values()][0] : undefined);
    if (!t) {
      throw configError(
        `${where}.vector ${e.vector} has tensors ${
          [...tensors.keys()].join(", ")
        }; it needs one named "vector" [layers+1, hidden]`,
      );
    }
    const rows = t.shape.length === 2 ? t.shape[0] : 1;
    const cols = t.shape.at(-1)!;
    if (cols !== config.hiddenSize || (t.shape.length === 2 && rows !== config.numLayers + 1)) {
      throw configError(
        `${where}.vector ${e.vector} has shape [${t.shape}]; this model needs [${
          config.numLayers + 1
        }, ${config.hiddenSize}] (one row per hidden state)`,
      );
    }
    const data = toFloat32(t);
    const vector = t.shape.length === 2
      ? data.slice(e.layer * cols, (e.layer + 1) * cols)
      : data.slice();
    if (e.type === "ablate" && !vector.some((v) => v !== 0)) {
      throw configError(
        `${where}: row ${e.layer} of ${e.vector} is zero; it has no direction to ablate`,
      );
    }
    edits.push({
      block: e.layer - 1,
      type: e.type === "steer" ? "add" : "ablate",
      vector,
      coefficient: e.coefficient,
      positions: "all",
    });
  }
  return edits;
}

/** The config and the model side of a run (shared by train and eval). */
async function setup(request: Pick<TrainRequest, "model" | "config">) {
  const config = parseLoraTrainConfig(request.config ?? {});
  return { config, ...(await prepareTraining(request.model, config.max_length)) };
}

/**
 * Creates the `lora` trainer.
 *
 * @example
 * ```ts
 * import { createLoraTrainer } from "./trainer.ts";
 * const trainer = createLoraTrainer({ progress: false });
 * const r = await trainer.train({
 *   model: "./models/tiny", data: "datasets/train/persona_chat.jsonl", out: "./runs/lora",
 *   config: { steps: 30, r: 8, lora_alpha: 16, learning_rate: 1e-3 },
 * });
 * console.log(r.metrics.train_loss, r.metrics.eval_loss);
 * ```
 */
export function createLoraTrainer(options: LoraTrainerOptions = {}): Trainer {
  return {
    name: "lora",
    train: (request) => trainLora(request, options),
  };
}

async function trainLora(request: TrainRequest, options: LoraTrainerOptions): Promise<TrainResult> {
  if (request.signal?.aborted) throw trainingAborted(request.signal);
  const s = await setup(request);
  const { config, model } = s;
  const data = await prepareChatData(s.tok, request.data, config, s.maxLength);
  const edits = await loadTrainSteering(config.steering, model);
  const full = config.trainable === "all";
  // A quantized (or half) base is read tensor by tensor while the train graph is written, so the
  // float32 model is never held whole (QLoRA-style: the base stays int4/int8, adapters train in
  // float32). Adapters train over the format the engine would load (--dtype, else DRAMATIS_DTYPE,
  // else a GPTQ/AWQ checkpoint's own bits); full fine-tuning trains float32 weights.
  const log = (message: string) => request.onEvent?.({ type: "log", message });
  if (full && request.dtype !== undefined) {
    const asked = normalizeWeightFormat(request.dtype, "--dtype").dtype;
    if (asked !== "f32") {
      throw withCode(
        new RangeError(
          `trainable "all" trains the base weights, in float32, but --dtype is ${asked}; pass ` +
            `--dtype f32 (or none), or train an adapter (trainable "lora") over the ${asked} base`,
        ),
        "E_USAGE",
      );
    }
  }
  const format = full
    ? normalizeWeightFormat("f32")
    : await resolveWeightFormat(s.modelDir, model, request.dtype, log);
  if (!full && request.dtype === undefined && format.dtype !== "f32") {
    log(`the frozen base is stored as ${format.dtype} (--dtype changes that)`);
  }
  return await withBaseWeights(
    s.modelDir,
    model,
    format,
    (weights) => trainLoraOn(request, options, s, data, edits, weights, format, full),
  );
}

async function trainLoraOn(
  request: TrainRequest,
  options: LoraTrainerOptions,
  s: Awaited<ReturnType<typeof setup>>,
  data: Awaited<ReturnType<typeof prepareChatData>>,
  edits: ResidualEdit[],
  weights: Awaited<ReturnType<typeof loadWeights>>,
  format: ReturnType<typeof normalizeWeightFormat>,
  full: boolean,
): Promise<TrainResult> {
  const { config, model } = s;
  if (full && config.init_from) {
    throw configError(
      `init_from is ${JSON.stringify(config.init_from)} but trainable is "all"; ` +
        `init_from continues a LoRA adapter, so drop one of them`,
    );
  }
  // Sequential finetuning: start from a trained adapter's values (its own r, alpha and targets).
  const lora = full
    ? undefined
    : config.init_from
    ? await loadLora(config.init_from, model)
    : LoraAdapter.forConfig(model, {
      ...loraOptionsFromConfig(config),
      baseModel: request.model,
    });
  if (config.init_from) {
    request.onEvent?.({
      type: "log",
      message: `starting from the adapter in ${config.init_from} (r ${lora!.options.r}, alpha ` +
        `${lora!.options.alpha}, rsLoRA ${
          lora!.options.useRslora
        }; its LoRA settings win over the config's)`,
    });
  }
  if (lora) lora.training = true;
  const graph = buildTrainGraph(model, weights, {
    adapters: lora ? [lora] : [],
    trainBase: full ? "all" : undefined,
    steering: edits.length > 0,
    weights: format,
  });
  const params: NamedTensor[] = lora
    ? lora.parameters().map((p) => ({ name: p.name, shape: p.shape, data: p.data }))
    : baseParameterValues(graph, weights);
  return await runTraining({
    request,
    config,
    setup: s,
    data,
    graph,
    params,
    schedule: {
      lr: config.learning_rate,
      epochs: config.epochs,
      microBatchSize: config.batch_size,
      gradAccumulation: config.gradient_accumulation_steps,
      warmupSteps: config.warmup_steps,
    },
    adapters: lora ? [lora] : [],
    residualEdits: edits,
    description: `${full ? "full-parameter" : "LoRA"} training on ${data.train.length} examples` +
      ` (${data.eval.length} eval, ${data.skipped.length} skipped), ${graph.trainable.length} trained tensors, ${
        params.reduce((a, p) => a + p.data.length, 0)
      } values`,
    // The PEFT copy is taken at once: the loop mutates the live arrays on the next step.
    snapshot: lora
      ? (dir) =>
        LoraAdapter.fromModules(
          lora.hooks,
          lora.options,
          lora.modules().map((m) => ({
            hook: m.hook.name,
            A: m.A.slice(),
            B: m.B.slice(),
            alpha: m.alpha,
          })),
        ).save(dir)
      : undefined,
    async finish() {
      if (lora) {
        lora.training = false;
        await lora.save(request.out);
      } else {
        const hf = baseParametersToHf(graph, params);
        await writeHfModel(s.modelDir, model, hf, request.out);
      }
    },
    progress: options.progress,
    runner: options.runner,
  });
}

/** What {@link evalLoraLoss} needs. */
export interface LoraEvalRequest {
  model: string;
  /** The chat data the adapter was trained on (the eval split is redrawn from it). */
  data: string;
  /** A PEFT adapter directory; omitted = the base model alone. */
  adapter?: string;
  /** The trainer config of the run (seed, eval_split, max_length, steering, batch_size). */
  config?: Record<string, unknown>;
}

/**
 * The eval loss (mean per assistant token) of a saved adapter on the eval split of its training
 * data, computed as the trainer computes it — loading a trained adapter and calling this
 * reproduces the trainer's final `eval_loss` exactly.
 *
 * @example
 * ```ts
 * import { evalLoraLoss } from "./trainer.ts";
 * const { loss } = await evalLoraLoss({ model: "./models/tiny", data: "d.jsonl", adapter: "./runs/lora",
 *   config: { steps: 30 } });
 * ```
 */
export async function evalLoraLoss(
  request: LoraEvalRequest,
): Promise<{ loss: number; tokens: number; examples: number }> {
  const s = await setup(request);
  const data = await prepareChatData(s.tok, request.data, s.config, s.maxLength);
  const weights = await loadWeights(s.modelDir, s.model);
  const adapters = request.adapter ? [await loadLora(request.adapter, s.model)] : [];
  const edits = await loadTrainSteering(s.config.steering, s.model);
  let graph: TrainGraph;
  try {
    graph = buildTrainGraph(s.model, weights, { adapters, steering: edits.length > 0 });
  } catch {
    // A base model alone has nothing to differentiate: train (and ignore) the final norm.
    graph = buildTrainGraph(s.model, weights, {
      adapters,
      steering: edits.length > 0,
      trainBase: ["model.norm.weight"],
    });
  }
  const params: NamedTensor[] = [
    ...adapters.flatMap((a) => a.parameters()).map((p) => ({ ...p })),
    ...baseParameterValues(graph, weights),
  ];
  const runner = await createStepRunner(graph.model, {
    mode: "in-process",
    threads: s.config.threads,
  });
  try {
    const pad = s.tok.padTokenId ?? s.tok.eosTokenIds[0] ?? 0;
    const r = await evalLossDetail(
      runner,
      data.eval,
      params,
      s.config.batch_size,
      pad,
      (batch) =>
        stepFeeds(graph, batch, { seed: 0, phase: "eval", adapters, residualEdits: edits }),
    );
    return { ...r, examples: data.eval.length };
  } finally {
    await runner.release();
  }
}
