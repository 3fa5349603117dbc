/**
 * The `hirpf` trainer (`deno task train --plugin hirpf --model <dir|id> --data <dir> --out <dir>`):
 * trains identity experts (spec A4/A5) on a HIS dataset folder with the core engine — train-step
 * graph, AdamW with warmup and linear decay, gradient accumulation, clipping, eval loss,
 * checkpoints and exact resume, progress on stderr, metrics as JSONL.
 *
 * Every dialogue is rendered with the base model's own chat template (system prompt per spec A3
 * as a system turn, loss on assistant turns only) and carries its identities, so each micro-batch
 * row gets its own hard masks.
 *
 * Output directory: `hirpf_config.json` + `hirpf_model.safetensors` (checkpoint.ts),
 * `checkpoints/step-NNNNNN/` (resume state plus an adapter copy in `adapter/`), `metrics.jsonl`,
 * `train_config.json` and `train_result.json`.
 *
 * @module
 */

import type { Trainer, TrainRequest, TrainResult } from "../../core/contracts/trainer.ts";
import { withCode } from "../../core/errors.ts";
import { readDecoderConfig } from "../../core/model/config.ts";
import { resolveModel } from "../../core/model/model_dir.ts";
import { loadTokenizer, type ModelTokenizer } from "../../core/model/tokenizer.ts";
import { type DecoderWeights, withBaseWeights } from "../../core/model/weights.ts";
import { resolveWeightFormat } from "../../core/model/engine.ts";
import type { WeightFormat } from "../../core/model/quantize.ts";
import type { NamedTensor } from "../../core/train/adamw.ts";
import type { Conversation, SkippedRecord, TrimmedRecord } from "../../core/train/chat_data.ts";
import { tokenizeDataset, type TokenizedExample } from "../../core/train/chat_tokenize.ts";
import { tokenizeTruncating, type TruncatedRecord } from "../../core/train/truncate.ts";
import { createStepRunner } from "../../core/train/runner.ts";
import { baseParameterValues, buildTrainGraph } from "../../core/train/train_graph.ts";
import { evalLossDetail, stepFeeds } from "../../core/train/train_loop.ts";
import {
  prepareTraining,
  runTraining,
  splitEval,
  trainingAborted,
  type TrainingSetup,
} from "../../core/services/training_driver.ts";
import { IdentityAdapter } from "./adapter.ts";
import { adapterOptionsFromHirpf } from "./adapter_config.ts";
import { writeIdentityCheckpoint } from "./checkpoint.ts";
import { hisDataFiles, loadHisConversationsReport } from "./his_conversations.ts";
import type { HirpfOptions } from "./options.ts";
import { type HirpfTrainConfig, parseHirpfTrainConfig } from "./train_config.ts";

/** Options of {@link createHirpfTrainer}. */
export interface HirpfTrainerOptions {
  /** Plugin options: the defaults under each run's `--config`. */
  defaults?: Partial<HirpfOptions>;
  /** Progress bar on stderr; default: when stderr is a terminal. */
  progress?: boolean;
  /** `worker` (default) or `in-process` graph execution. */
  runner?: "worker" | "in-process";
}

/** Tokenized train and eval dialogues plus what was skipped and trimmed. */
export interface HirpfPreparedData {
  train: TokenizedExample[];
  eval: TokenizedExample[];
  skipped: SkippedRecord[];
  /** Dialogues kept after their trailing unanswered user turn was trimmed. */
  trimmed: TrimmedRecord[];
  /** Dialogues cut at max_length (config `truncate`). */
  truncated: TruncatedRecord[];
  /** The eval file, or `"split"` / `null`. */
  evalSource: string | null;
}

function tokenize(
  tok: ModelTokenizer,
  conversations: Conversation[],
  config: HirpfTrainConfig,
  maxLength: number,
) {
  return tokenizeTruncating(tok, conversations, {
    maxLength,
    truncate: config.truncate,
    skipInvalid: config.skip_invalid,
  });
}

/**
 * Reads, validates and tokenizes a HIS dataset exactly as the trainer does: `train.json` for
 * training; eval from `eval_data`, else the folder's `test.json`, else a seeded split.
 *
 * @example
 * ```ts
 * import { prepareHisData } from "./trainer.ts";
 * import { parseHirpfTrainConfig } from "./train_config.ts";
 * import { loadTokenizer } from "../../core/model/tokenizer.ts";
 * const tok = await loadTokenizer("./models/tiny");
 * const d = await prepareHisData(tok, "plugins/hirpf/data/dialogues", parseHirpfTrainConfig({}), 512);
 * console.log(d.train.length, d.eval.length, d.train[0].identities);
 * ```
 */
export async function prepareHisData(
  tok: ModelTokenizer,
  data: string,
  config: HirpfTrainConfig,
  maxLength: number,
  options: { strict?: boolean } = {},
): Promise<HirpfPreparedData> {
  const files = await hisDataFiles(data);
  const skipped: SkippedRecord[] = [];
  const trimmed: TrimmedRecord[] = [];
  const load = async (path: string) => {
    const d = await loadHisConversationsReport(path, {
      professions: config.professions,
      systemPrompt: config.system_prompt,
      strict: options.strict,
    });
    skipped.push(...d.skipped);
    trimmed.push(...d.trimmed);
    return d.conversations;
  };
  const truncated: TruncatedRecord[] = [];
  const tr = tokenize(tok, await load(files.train), config, maxLength);
  skipped.push(...tr.skipped);
  truncated.push(...tr.truncated);
  let train = tr.examples;
  let evalSet: TokenizedExample[] = [];
  let evalSource: string | null = null;
  const evalFile = config.eval_data ?? files.test;
  if (evalFile) {
    const ev = tokenize(tok, await load(evalFile), config, maxLength);
    skipped.push(...ev.skipped);
    truncated.push(...ev.truncated);
    evalSet = ev.examples;
    evalSource = evalFile;
  } else if (config.eval_split > 0 && train.length >= 2) {
    ({ train, eval: evalSet } = splitEval(train, config));
    evalSource = "split";
  }
  if (config.max_eval_examples > 0) evalSet = evalSet.slice(0, config.max_eval_examples);
  if (train.length === 0) {
    throw withCode(
      new RangeError(
        `${files.train}: no training dialogues left${
          skipped.length ? ` (${skipped.length} skipped)` : ""
        }; add dialogues or raise max_length`,
      ),
      "E_DATA",
    );
  }
  return { train, eval: evalSet, skipped, trimmed, truncated, evalSource };
}

/** The config and the model side of a run. */
interface Setup extends TrainingSetup {
  config: HirpfTrainConfig;
}

async function setup(
  request: Pick<TrainRequest, "model" | "config">,
  defaults: Partial<HirpfOptions>,
): Promise<Setup> {
  const config = parseHirpfTrainConfig(request.config ?? {}, defaults);
  return { config, ...(await prepareTraining(request.model, config.max_length)) };
}

/** The adapter a run trains: fresh from the config, or `init_from` checked against it. */
async function makeAdapter(
  s: Setup,
  baseModel: string,
): Promise<IdentityAdapter> {
  const options = adapterOptionsFromHirpf(s.config, baseModel);
  if (!s.config.init_from) {
    return IdentityAdapter.create(s.model, { ...options, seed: s.config.seed });
  }
  const loaded = await IdentityAdapter.load(s.config.init_from, { model: s.model });
  const want = IdentityAdapter.create(s.model, { ...options, r: options.r }).config;
  const got = loaded.config;
  for (const k of ["insertMode", "r", "professions", "targetModules", "sparse"] as const) {
    if (JSON.stringify(want[k]) !== JSON.stringify(got[k])) {
      throw withCode(
        new RangeError(
          `init_from ${s.config.init_from} has ${k} ${
            JSON.stringify(got[k])
          } but the config asks for ${
            JSON.stringify(want[k])
          }; set the config to match the checkpoint or drop init_from`,
        ),
        "E_CONFIG",
      );
    }
  }
  // Keep the loaded weights, take the run's training knobs.
  return IdentityAdapter.fromCheckpointTensors(
    s.model,
    { ...options, alpha: got.alpha },
    loaded.checkpointTensors(),
    s.config.init_from,
  );
}

/**
 * Creates the `hirpf` trainer.
 *
 * @example
 * ```ts
 * import { createHirpfTrainer } from "./trainer.ts";
 * const trainer = createHirpfTrainer({ progress: false });
 * const r = await trainer.train({
 *   model: "./models/tiny", data: "plugins/hirpf/data/dialogues", out: "./runs/his",
 *   config: { steps: 40, r: 8, lr: 3e-3, warmup_steps: 4, batch_size: 8, micro_batch_size: 8 },
 * });
 * console.log(r.metrics.train_loss, r.metrics.eval_loss);
 * ```
 */
export function createHirpfTrainer(options: HirpfTrainerOptions = {}): Trainer {
  return { name: "hirpf", train: (request) => trainHirpf(request, options) };
}

async function trainHirpf(
  request: TrainRequest,
  options: HirpfTrainerOptions,
): Promise<TrainResult> {
  if (request.signal?.aborted) throw trainingAborted(request.signal);
  const s = await setup(request, options.defaults ?? {});
  const { config, model } = s;
  const data = await prepareHisData(s.tok, request.data, config, s.maxLength, {
    strict: request.strict,
  });
  // The frozen base as the engine would load it (--dtype, DRAMATIS_DTYPE, a GPTQ/AWQ checkpoint's
  // own bits): quantized, it is read tensor by tensor while the train graph is written and stays
  // int4/int8 (QLoRA-style; a 7B base in float32 would not fit this machine's memory).
  const format = await resolveWeightFormat(
    s.modelDir,
    model,
    request.dtype,
    (message) => request.onEvent?.({ type: "log", message }),
  );
  return await withBaseWeights(
    s.modelDir,
    model,
    format,
    (weights) => trainExperts(request, options, s, data, weights, format),
  );
}

async function trainExperts(
  request: TrainRequest,
  options: HirpfTrainerOptions,
  s: Awaited<ReturnType<typeof setup>>,
  data: Awaited<ReturnType<typeof prepareHisData>>,
  weights: DecoderWeights,
  format: WeightFormat,
): Promise<TrainResult> {
  const { config, model } = s;
  const adapter = await makeAdapter(s, request.model);
  adapter.setTraining(true);
  const graph = buildTrainGraph(model, weights, {
    adapters: [adapter],
    trainable: adapter.trainableParameters(),
    weights: format,
  });
  const params: NamedTensor[] = adapter.parameters().map((p) => ({
    name: p.name,
    shape: p.shape,
    data: p.data,
  }));
  return await runTraining({
    request,
    config,
    setup: s,
    data,
    graph,
    params,
    schedule: {
      lr: config.lr,
      epochs: Math.max(1, Math.round(config.epochs)),
      microBatchSize: config.micro_batch_size,
      gradAccumulation: config.batch_size / config.micro_batch_size,
      warmupSteps: config.warmup_steps,
    },
    adapters: [adapter],
    description: `identity-expert training (${config.insert_mode}, ${
      config.sparse ? "hard mask" : "no mask"
    }, gates ${
      config.train_gates ? "trained" : "frozen"
    }) on ${data.train.length} dialogues (${data.eval.length} eval, ${data.skipped.length} skipped), ${graph.trainable.length} trained tensors`,
    // checkpointTensors() copies at once: the loop mutates the live arrays on the next step.
    snapshot: (dir) =>
      writeIdentityCheckpoint(dir, {
        config: adapter.config,
        numLayers: adapter.numLayers,
        tensors: adapter.checkpointTensors(),
      }),
    async finish() {
      adapter.setTraining(false);
      await adapter.save(request.out);
    },
    trainedValues: params.filter((p) => graph.trainable.includes(p.name))
      .reduce((a, p) => a + p.data.length, 0),
    resultExtra: { eval_source: data.evalSource },
    progress: options.progress,
    runner: options.runner,
  });
}

/** What {@link hirpfLosses} needs. */
export interface HirpfLossRequest {
  /** Base model directory or hub id. */
  model: string;
  /** A saved hirpf adapter directory, or an adapter object; omitted = the base model alone. */
  adapter?: string | IdentityAdapter;
  /** What to score: dialogues, optionally all under one identity set (`[]` = no expert). */
  conditions: { conversations: Conversation[]; identities?: string[] }[];
  /** Dialogues per graph run (default 8). */
  batchSize?: number;
  threads?: number;
  /**
   * Storage of the frozen base (as `TrainRequest.dtype`); default as the engine would load it
   * (`DRAMATIS_DTYPE`, else a GPTQ/AWQ checkpoint's own bits, else f32).
   */
  dtype?: string;
}

/** The mean negative log-likelihood per assistant token of one condition. */
export interface HirpfLoss {
  loss: number;
  tokens: number;
  examples: number;
}

/**
 * The mean negative log-likelihood per assistant token of dialogues under an identity adapter —
 * the trainer's eval loss — for several conditions with one graph: each condition's dialogues,
 * optionally all scored under one identity set instead of their own. Comparing the same replies
 * under two identity sets measures how far the experts move the model.
 *
 * @example
 * ```ts
 * import { hirpfLosses } from "./trainer.ts";
 * import { loadHisConversations } from "./his_conversations.ts";
 * const conversations = await loadHisConversations("plugins/hirpf/data/dialogues/test.json");
 * const [high, low] = await hirpfLosses({ model: "./models/tiny", adapter: "./runs/his",
 *   conditions: [{ conversations, identities: ["EXT_high"] }, { conversations, identities: ["EXT_low"] }] });
 * console.log(high.loss - low.loss);
 * ```
 */
export async function hirpfLosses(request: HirpfLossRequest): Promise<HirpfLoss[]> {
  const { dir } = await resolveModel(request.model);
  const model = await readDecoderConfig(dir);
  const tok = await loadTokenizer(dir);
  const format = await resolveWeightFormat(dir, model, request.dtype);
  // Scored through a train graph: its loss output (the final norm trainable when no expert is, a
  // float32 tensor in every format). The base is read while the runner opens.
  const { graph, params, adapters, runner } = await withBaseWeights(
    dir,
    model,
    format,
    async (weights) => {
      const adapter = typeof request.adapter === "string"
        ? await IdentityAdapter.load(request.adapter, { model })
        : request.adapter;
      const adapters = adapter ? [adapter.setTraining(false)] : [];
      const graph = adapter
        ? buildTrainGraph(model, weights, {
          adapters,
          trainable: adapter.trainableParameters(),
          weights: format,
        })
        : buildTrainGraph(model, weights, {
          adapters,
          trainBase: ["model.norm.weight"],
          weights: format,
        });
      const params: NamedTensor[] = [
        ...(adapter?.parameters() ?? []).map((p) => ({
          name: p.name,
          shape: p.shape,
          data: p.data,
        })),
        ...baseParameterValues(graph, weights),
      ];
      const runner = await createStepRunner(graph.model, {
        mode: "in-process",
        threads: request.threads,
      });
      return { graph, params, adapters, runner };
    },
  );
  try {
    const pad = tok.padTokenId ?? tok.eosTokenIds[0] ?? 0;
    const out: HirpfLoss[] = [];
    for (const c of request.conditions) {
      const conversations = c.conversations.map((x) =>
        c.identities ? { ...x, identities: [...c.identities] } : x
      );
      const { examples } = tokenizeDataset(tok, conversations, {
        maxLength: model.maxPositionEmbeddings,
      });
      const r = await evalLossDetail(
        runner,
        examples,
        params,
        request.batchSize ?? 8,
        pad,
        (batch) => stepFeeds(graph, batch, { seed: 0, phase: "eval", adapters }),
      );
      out.push({ ...r, examples: examples.length });
    }
    return out;
  } finally {
    await runner.release();
  }
}
