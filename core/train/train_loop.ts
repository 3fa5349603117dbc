/**
 * The core training loop: micro-batches through a train-step graph (one onnxruntime run gives the
 * loss and all gradients), gradient accumulation with exact per-token normalization, clipping,
 * AdamW with a warmup/decay schedule, periodic eval, atomic checkpoints, exact resume, progress on
 * stderr and metrics as JSONL.
 *
 * @module
 */

import { join } from "node:path";
import type { Adapter } from "../contracts/adapter.ts";
import type { ResidualEdit } from "../contracts/steerer.ts";
import type { TrainEvent } from "../contracts/trainer.ts";
import { withCode } from "../errors.ts";
import type { HostTensor } from "../onnx/ort_run.ts";
import type { Provider } from "../runtime/providers.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { Progress } from "../util/progress.ts";
import { AdamW, type AdamWOptions, clipGradNorm, type NamedTensor } from "./adamw.ts";
import { collate, epochOrder, type MicroBatch } from "./batches.ts";
import { loadLatestCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import type { TokenizedExample } from "./chat_tokenize.ts";
import { createStepRunner, type StepRunner } from "./runner.ts";
import { checkSchedule, learningRate } from "./schedule.ts";
import { adapterFeeds, microSeed, trainSteeringFeeds } from "./step_feeds.ts";
import type { TrainGraph } from "./train_graph.ts";

/** Options of {@link trainLoop}. */
export interface TrainLoopOptions extends AdamWOptions {
  /** Optimizer steps. Default: `epochs` passes over the data. */
  steps?: number;
  /** Passes over the data when `steps` is not set. Default 1. */
  epochs?: number;
  /** Examples per graph run. Default 4. */
  microBatchSize?: number;
  /** Micro-batches per optimizer step. Default 1. */
  gradAccumulation?: number;
  /** Peak learning rate. Default 2e-4. */
  lr?: number;
  warmupSteps?: number;
  decay?: "linear" | "cosine" | "constant";
  minLrRatio?: number;
  /** Clip the global gradient norm to this (0 = off). Default 1. */
  maxGradNorm?: number;
  /** Seed of the data order. Default 0. */
  seed?: number;
  /** Length bucketing of micro-batches. Default true. */
  bucketing?: boolean;
  /** Pad id for input_ids (masked anyway). Default 0. */
  padTokenId?: number;
  /** Eval every N steps (and at the end) when an eval set is given. Default 0 = end only. */
  evalEvery?: number;
  /** Also eval before the first step of a fresh run (reported as step 0). Default false. */
  evalAtStart?: boolean;
  /** Directory for metrics.jsonl and checkpoints. No files are written without it. */
  out?: string;
  /** Checkpoint every N steps (and at the end). Default 0 = only at the end (when `out` is set). */
  checkpointEvery?: number;
  /** Keep only the newest N checkpoints. Default: keep all. */
  keepCheckpoints?: number;
  /** Continue from `<out>/checkpoints/latest.json` when present. Default false. */
  resume?: boolean;
  /** Stop after this many steps of this call (the schedule still spans `steps`); for tests and time limits. */
  stopAfter?: number;
  /** Progress bar on stderr. Default true. */
  progress?: boolean;
  /** `worker` (default) or `in-process` graph execution. */
  runner?: "worker" | "in-process";
  /** Threads inside one op. */
  threads?: number;
  /** Execution provider of the step graph (default `cpu`; a missing one is `E_PROVIDER`). */
  provider?: Provider;
  /**
   * Adapters whose `runtimeInputs()` are fed on every micro-batch, with the request
   * `{ batchSize, extensions: { identities } (per row, from the records' "identities"), sequenceLength, seed
   * (microSeed(seed, step · gradAccumulation + k)), phase }` (see step_feeds.ts). Eval runs
   * ask them in inference mode.
   */
  adapters?: Adapter[];
  /**
   * Residual edits applied at every position of every training and eval forward (the graph must
   * be built with `steering: true`; with no edits its steering inputs get K = 0 rows).
   */
  residualEdits?: ResidualEdit[];
  /** Extra feeds per micro-batch, merged last (they override adapter feeds of the same name). */
  extraFeeds?: (batch: MicroBatch) => Record<string, HostTensor>;
  onEvent?: (event: TrainEvent) => void;
  signal?: AbortSignal;
}

/** What a run did. */
export interface TrainLoopResult {
  /** Optimizer steps completed in total (including resumed ones). */
  steps: number;
  /** Loss of every step run by this call, indexed from the first step it ran. */
  losses: number[];
  /** Step index of `losses[0]`. */
  firstStep: number;
  evalLoss?: number;
  /** Every eval of this call, in order. */
  evals: { step: number; loss: number }[];
  /** Loss-carrying tokens processed by this call. */
  tokens: number;
  /** Non-pad input tokens processed by optimizer steps of this call (what tokens/s counts). */
  inputTokens: number;
  seconds: number;
  /** Last checkpoint written, if any. */
  checkpoint?: string;
}

function usage(message: string): RangeError {
  return withCode(new RangeError(message), "E_CONFIG");
}

function posInt(name: string, v: number | undefined, dflt: number, min = 1): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < min) {
    throw usage(`${name} is ${x}; pass a whole number >= ${min}`);
  }
  return x;
}

/** Sums the loss and gradients of one micro-batch into the accumulators. */
async function runMicro(
  runner: StepRunner,
  batch: MicroBatch,
  params: NamedTensor[],
  trainable: string[],
  extra: Record<string, HostTensor>,
  acc: Map<string, Float32Array>,
): Promise<number> {
  const feeds: Record<string, HostTensor> = { ...batch.feeds, ...extra };
  for (const p of params) feeds[p.name] = { dtype: "float32", shape: p.shape, data: p.data };
  const out = await runner.run(feeds);
  for (const name of trainable) {
    const g = out[`grad.${name}`].data as Float32Array;
    const a = acc.get(name)!;
    for (let i = 0; i < a.length; i++) a[i] += g[i];
  }
  return Number((out.loss.data as Float32Array)[0]);
}

/**
 * Mean loss per loss-carrying token over an eval set (deterministic length-sorted batches).
 *
 * @example
 * ```ts
 * import { evalLoss } from "./train_loop.ts";
 * import type { StepRunner } from "./runner.ts";
 * declare const runner: StepRunner;
 * console.log(await evalLoss(runner, [], [], 4, 0));
 * ```
 */
export async function evalLoss(
  runner: StepRunner,
  examples: TokenizedExample[],
  params: NamedTensor[],
  microBatchSize: number,
  padId: number,
  extraFeeds?: (batch: MicroBatch) => Record<string, HostTensor>,
): Promise<number> {
  return (await evalLossDetail(runner, examples, params, microBatchSize, padId, extraFeeds)).loss;
}

/**
 * {@link evalLoss} with the token count.
 *
 * @example
 * ```ts
 * import { evalLossDetail } from "./train_loop.ts";
 * import type { StepRunner } from "./runner.ts";
 * declare const runner: StepRunner;
 * const { loss, tokens } = await evalLossDetail(runner, [], [], 4, 0);
 * ```
 */
export async function evalLossDetail(
  runner: StepRunner,
  examples: TokenizedExample[],
  params: NamedTensor[],
  microBatchSize: number,
  padId: number,
  extraFeeds?: (batch: MicroBatch) => Record<string, HostTensor>,
): Promise<{ loss: number; tokens: number }> {
  const order = examples.map((_, i) => i).sort((a, b) =>
    examples[a].inputIds.length - examples[b].inputIds.length || a - b
  );
  let sum = 0;
  let tokens = 0;
  for (let k = 0; k < order.length; k += microBatchSize) {
    const batch = collate(order.slice(k, k + microBatchSize).map((i) => examples[i]), padId);
    if (batch.lossTokens === 0) continue;
    const feeds: Record<string, HostTensor> = { ...batch.feeds, ...(extraFeeds?.(batch) ?? {}) };
    for (const p of params) feeds[p.name] = { dtype: "float32", shape: p.shape, data: p.data };
    const out = await runner.run(feeds, ["loss"]);
    sum += Number((out.loss.data as Float32Array)[0]);
    tokens += batch.lossTokens;
  }
  return { loss: tokens ? sum / tokens : NaN, tokens };
}

/**
 * The feeds of a micro-batch besides tokens and parameters: adapter runtime inputs, residual
 * edits and caller extras, for a train-step graph.
 *
 * @example
 * ```ts
 * import { stepFeeds } from "./train_loop.ts";
 * import type { TrainGraph } from "./train_graph.ts";
 * import type { MicroBatch } from "./batches.ts";
 * declare const graph: TrainGraph;
 * declare const batch: MicroBatch;
 * const feeds = stepFeeds(graph, batch, { seed: 1, phase: "eval" });
 * ```
 */
export function stepFeeds(
  graph: TrainGraph,
  batch: MicroBatch,
  options: {
    seed: number;
    phase: "train" | "eval";
    adapters?: Adapter[];
    residualEdits?: ResidualEdit[];
    extraFeeds?: (batch: MicroBatch) => Record<string, HostTensor>;
  },
): Record<string, HostTensor> {
  const extra = options.extraFeeds?.(batch) ?? {};
  const known = new Set(Object.keys(extra));
  const g = known.size
    ? { ...graph, dataInputs: graph.dataInputs.filter((v) => !known.has(v.name)) }
    : graph;
  const feeds = adapterFeeds(g, options.adapters ?? [], batch, options);
  if (graph.steering) {
    Object.assign(feeds, trainSteeringFeeds(graph, options.residualEdits ?? [], batch));
  }
  return Object.assign(feeds, extra);
}

/**
 * Trains `params` (updated in place) on tokenized examples with a train-step graph built with
 * `reduction: "sum"` (see {@link buildTrainGraph}). Every optimizer step's loss and gradients are
 * the mean over the loss-carrying tokens of all its micro-batches.
 *
 * @example
 * ```ts
 * import { trainLoop } from "./train_loop.ts";
 * import type { TrainGraph } from "./train_graph.ts";
 * import type { NamedTensor } from "./adamw.ts";
 * import type { TokenizedExample } from "./chat_tokenize.ts";
 * declare const graph: TrainGraph;
 * declare const params: NamedTensor[];
 * declare const data: TokenizedExample[];
 * const r = await trainLoop(graph, params, data, undefined, { steps: 100, lr: 1e-3, out: "runs/a" });
 * console.log(r.losses.at(-1));
 * ```
 */
export async function trainLoop(
  graph: TrainGraph,
  params: NamedTensor[],
  train: TokenizedExample[],
  evalSet: TokenizedExample[] | undefined,
  options: TrainLoopOptions = {},
): Promise<TrainLoopResult> {
  if (train.length === 0) throw usage("the training set is empty; pass at least one example");
  const mbs = posInt("microBatchSize", options.microBatchSize, 4);
  const accum = posInt("gradAccumulation", options.gradAccumulation, 1);
  const seed = options.seed ?? 0;
  const padId = options.padTokenId ?? 0;
  const microPerEpoch = Math.ceil(train.length / mbs);
  const totalSteps = options.steps ??
    posInt("epochs", options.epochs, 1) * Math.ceil(microPerEpoch / accum);
  const schedule = {
    lr: options.lr ?? 2e-4,
    totalSteps,
    warmupSteps: options.warmupSteps ?? 0,
    decay: options.decay ?? "linear",
    minLrRatio: options.minLrRatio ?? 0,
  } as const;
  checkSchedule(schedule);
  const evalEvery = posInt("evalEvery", options.evalEvery, 0, 0);
  const ckptEvery = posInt("checkpointEvery", options.checkpointEvery, 0, 0);
  const maxGradNorm = options.maxGradNorm ?? 1;
  const byName = new Map(params.map((p) => [p.name, p]));
  for (const t of graph.trainable) {
    if (!byName.has(t)) {
      throw usage(`parameter "${t}" of the train graph has no initial value; pass it in params`);
    }
  }
  for (const p of graph.parameters) {
    if (!byName.has(p.name)) throw usage(`graph input "${p.name}" has no value; pass it in params`);
  }
  if (options.residualEdits?.length && !graph.steering) {
    throw usage(
      "residualEdits were given but the train graph has no steering inputs; build it with buildTrainGraph(…, { steering: true })",
    );
  }
  const trainParams = graph.trainable.map((n) => byName.get(n)!);
  const feedsFor = (batch: MicroBatch, index: number, phase: "train" | "eval") =>
    stepFeeds(graph, batch, {
      seed: microSeed(seed, index),
      phase,
      adapters: options.adapters,
      residualEdits: options.residualEdits,
      extraFeeds: options.extraFeeds,
    });
  const evalFeeds = (batch: MicroBatch) => feedsFor(batch, 0, "eval");
  const optimizer = new AdamW(trainParams, options);
  const lengths = train.map((e) => e.inputIds.length);
  const emit = (e: TrainEvent) => options.onEvent?.(e);

  let step = 0;
  if (options.resume && options.out) {
    const ck = await loadLatestCheckpoint(options.out);
    if (ck) {
      if (ck.rng.seed !== seed) {
        throw usage(
          `resume: the checkpoint was made with seed ${ck.rng.seed}, this run has seed ${seed}; use the same seed`,
        );
      }
      for (const p of ck.params) {
        const dst = byName.get(p.name);
        if (!dst || dst.data.length !== p.data.length) {
          throw usage(`resume: checkpoint parameter "${p.name}" does not match this adapter`);
        }
        dst.data.set(p.data);
      }
      optimizer.load(ck.optimizer);
      step = ck.step;
      await truncateMetrics(options.out, step);
      emit({ type: "log", message: `resumed from step ${step}` });
    }
  }

  // The step graph (weights included) goes next to the run, not into it: removed on release.
  const graphDir = options.out ? join(options.out, ".train_graph") : undefined;
  if (graphDir) await Deno.mkdir(graphDir, { recursive: true });
  const runner = await createStepRunner(graph.model, {
    mode: options.runner ?? "worker",
    dir: graphDir,
    threads: options.threads,
    provider: options.provider,
  });
  const firstStep = step;
  const losses: number[] = [];
  const progress = new Progress("train", totalSteps, {
    unit: "steps",
    silent: options.progress === false,
  });
  const started = performance.now();
  let tokensSeen = 0;
  let inputTokensSeen = 0;
  let lastEval: number | undefined;
  const evals: { step: number; loss: number }[] = [];
  let checkpoint: string | undefined;
  const orders = new Map<number, number[][]>();
  const microAt = (index: number): number[] => {
    const epoch = Math.floor(index / microPerEpoch);
    if (!orders.has(epoch)) {
      orders.clear();
      orders.set(
        epoch,
        epochOrder(lengths, epoch, { microBatchSize: mbs, seed, bucketing: options.bucketing }),
      );
    }
    return orders.get(epoch)![index % microPerEpoch];
  };
  const save = async () => {
    if (!options.out) return;
    checkpoint = await saveCheckpoint(options.out, {
      step,
      params: trainParams,
      optimizer: optimizer.state(),
      rng: { seed, microBatch: step * accum },
      extra: { totalSteps, lastLoss: losses.at(-1) ?? null },
    }, { keep: options.keepCheckpoints });
    emit({ type: "checkpoint", step, path: checkpoint });
  };
  const metrics: string[] = [];
  const flushMetrics = async () => {
    if (!options.out || metrics.length === 0) return;
    const file = await Deno.open(join(options.out, "metrics.jsonl"), {
      append: true,
      create: true,
    });
    await file.write(new TextEncoder().encode(metrics.join("")));
    file.close();
    metrics.length = 0;
  };
  if (options.out) await Deno.mkdir(options.out, { recursive: true });

  try {
    const stopAt = Math.min(
      totalSteps,
      options.stopAfter !== undefined ? step + options.stopAfter : totalSteps,
    );
    if (options.evalAtStart && evalSet?.length && step === 0) {
      const loss0 = await evalLoss(runner, evalSet, params, mbs, padId, evalFeeds);
      evals.push({ step: 0, loss: loss0 });
      emit({ type: "eval", step: 0, loss: loss0 });
      metrics.push(JSON.stringify({ type: "eval", step: 0, loss: loss0 }) + "\n");
    }
    while (step < stopAt) {
      if (options.signal?.aborted) break;
      const acc = new Map(trainParams.map((p) => [p.name, new Float32Array(p.data.length)]));
      let lossSum = 0;
      let lossTokens = 0;
      for (let k = 0; k < accum; k++) {
        const batch = collate(microAt(step * accum + k).map((i) => train[i]), padId);
        if (batch.lossTokens === 0) continue;
        lossSum += await runMicro(
          runner,
          batch,
          params,
          graph.trainable,
          feedsFor(batch, step * accum + k, "train"),
          acc,
        );
        lossTokens += batch.lossTokens;
        inputTokensSeen += batch.tokens;
      }
      const loss = lossTokens ? lossSum / lossTokens : NaN;
      if (lossTokens) {
        for (const g of acc.values()) for (let i = 0; i < g.length; i++) g[i] /= lossTokens;
      }
      if (!Number.isFinite(loss)) {
        throw withCode(
          new RangeError(
            `loss is ${loss} at step ${step}; lower lr or check the data (every micro-batch needs assistant tokens)`,
          ),
          "E_DATA",
        );
      }
      const gradNorm = clipGradNorm(acc, maxGradNorm);
      const lr = learningRate(step, schedule);
      optimizer.step(acc, lr);
      step++;
      losses.push(loss);
      tokensSeen += lossTokens;
      const elapsed = (performance.now() - started) / 1000;
      // Throughput counts every non-pad token the graph processed, as training throughput usually does.
      const tps = inputTokensSeen / Math.max(elapsed, 1e-9);
      const eta = ((totalSteps - step) * elapsed) / Math.max(1, step - firstStep);
      progress.update(
        step,
        `loss ${loss.toFixed(4)}  lr ${lr.toExponential(2)}  ${tps.toFixed(0)} tok/s`,
      );
      emit({ type: "step", step, totalSteps, loss, lr, tokensPerSecond: tps, etaSeconds: eta });
      metrics.push(
        JSON.stringify({
          type: "step",
          step,
          loss,
          lr,
          gradNorm,
          tokens: lossTokens,
          tokensPerSecond: tps,
          elapsed,
        }) + "\n",
      );
      const last = step === totalSteps;
      if (evalSet?.length && ((evalEvery && step % evalEvery === 0) || last)) {
        lastEval = await evalLoss(runner, evalSet, params, mbs, padId, evalFeeds);
        evals.push({ step, loss: lastEval });
        emit({ type: "eval", step, loss: lastEval });
        metrics.push(JSON.stringify({ type: "eval", step, loss: lastEval }) + "\n");
      }
      if ((ckptEvery && step % ckptEvery === 0) || last) {
        await flushMetrics();
        await save();
      }
    }
    if (
      step < totalSteps && options.out &&
      (options.signal?.aborted || options.stopAfter !== undefined)
    ) {
      await flushMetrics();
      if (!checkpoint || !checkpoint.endsWith(String(step).padStart(6, "0"))) await save();
    }
    await flushMetrics();
  } finally {
    progress.done();
    await runner.release();
    if (graphDir) await Deno.remove(graphDir, { recursive: true }).catch(() => {});
  }
  return {
    steps: step,
    losses,
    firstStep,
    evalLoss: lastEval,
    evals,
    tokens: tokensSeen,
    inputTokens: inputTokensSeen,
    seconds: (performance.now() - started) / 1000,
    checkpoint,
  };
}

/** Drops metric lines past `step` (they belong to the abandoned continuation of a resumed run). */
async function truncateMetrics(out: string, step: number): Promise<void> {
  const path = join(out, "metrics.jsonl");
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch {
    return;
  }
  const kept = text.split("\n").filter((l) => l.trim() && (JSON.parse(l).step ?? 0) <= step);
  await writeFileAtomic(path, kept.map((l) => l + "\n").join(""));
}
