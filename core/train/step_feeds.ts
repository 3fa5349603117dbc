/**
 * The per-micro-batch feeds of a train-step graph besides tokens and parameters: each adapter's
 * runtime inputs (identity masks, dropout masks) and the residual edits of steered training.
 *
 * Runtime request an adapter receives during training (a superset of the contract's
 * `AdapterRuntimeRequest`):
 * `{ batchSize, extensions: { identities: string[][] } (the records' `identities` request
 * extension, one list per row, [] when the record has none), sequenceLength (padded length of the micro-batch), seed (differs per micro-batch, fixed by the
 * run seed and the micro-batch index, so resumed runs see the same masks), phase }`.
 *
 * @module
 */

import type { Adapter, AdapterRuntimeRequest, RuntimeTensor } from "../contracts/adapter.ts";
import type { ResidualEdit } from "../contracts/steerer.ts";
import { withCode } from "../errors.ts";
import type { HostTensor } from "../onnx/ort_run.ts";
import { steeringFeeds } from "../runtime/decoder_io.ts";
import type { MicroBatch } from "./batches.ts";
import type { TrainGraph } from "./train_graph.ts";

/** What the training engine passes to `Adapter.runtimeInputs` for one micro-batch. */
export interface TrainRuntimeRequest extends AdapterRuntimeRequest {
  /** Per row: the example's `identities` extension (empty list when it has none). */
  extensions: { identities: string[][] };
  /** Padded sequence length of the micro-batch. */
  sequenceLength: number;
  /** Seed of this micro-batch's random masks (see {@link microSeed}). */
  seed: number;
  /** `train` for optimizer steps, `eval` for eval-loss runs (adapters are in inference mode). */
  phase: "train" | "eval";
}

const BATCH_INPUTS = new Set(["input_ids", "attention_mask", "position_ids", "labels"]);

/**
 * The seed of micro-batch `index` (= step · gradAccumulation + k) of a run with seed `seed`.
 *
 * @example
 * ```ts
 * import { microSeed } from "./step_feeds.ts";
 * console.log(microSeed(0, 0) !== microSeed(0, 1)); // true
 * ```
 */
export function microSeed(seed: number, index: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

/**
 * Switches an adapter between training and inference mode by its own convention: a
 * `setTraining(on)` method (hirpf) or a writable `training` field (lora). Returns the previous
 * mode, or undefined when the adapter has neither.
 *
 * @example
 * ```ts
 * import { setAdapterTraining } from "./step_feeds.ts";
 * const a = { training: false };
 * // deno-lint-ignore no-explicit-any
 * setAdapterTraining(a as any, true); // a.training === true
 * ```
 */
export function setAdapterTraining(adapter: Adapter, on: boolean): boolean | undefined {
  const a = adapter as Adapter & { training?: boolean; setTraining?: (on: boolean) => unknown };
  const before = typeof a.training === "boolean" ? a.training : undefined;
  if (typeof a.setTraining === "function") a.setTraining(on);
  else if (typeof a.training === "boolean") a.training = on;
  return before;
}

function toHost(t: RuntimeTensor, dtype: "float32" | "float64"): HostTensor {
  if (t.dtype === "float32" && dtype === "float64") {
    return { dtype: "float64", shape: t.shape, data: Float64Array.from(t.data as Float32Array) };
  }
  return { dtype: t.dtype, shape: t.shape, data: t.data } as HostTensor;
}

/**
 * The runtime feeds of every adapter for one micro-batch. In the `eval` phase each adapter is
 * switched to inference mode while it answers (no dropout), and a float runtime input of the
 * graph that no adapter returns then (a training-only dropout mask) is fed as ones — the
 * multiplicative identity. In the `train` phase a missing runtime input is an error.
 *
 * @example
 * ```ts
 * import { adapterFeeds } from "./step_feeds.ts";
 * import type { TrainGraph } from "./train_graph.ts";
 * import type { MicroBatch } from "./batches.ts";
 * declare const graph: TrainGraph;
 * declare const batch: MicroBatch;
 * const feeds = adapterFeeds(graph, [], batch, { seed: 7, phase: "train" });
 * ```
 */
export function adapterFeeds(
  graph: Pick<TrainGraph, "dataInputs" | "dtype">,
  adapters: readonly Adapter[],
  batch: MicroBatch,
  request: { seed: number; phase: "train" | "eval" },
): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  const req: TrainRuntimeRequest = {
    batchSize: batch.rows,
    extensions: { identities: batch.identities.map((r) => r.slice()) },
    sequenceLength: batch.seq,
    seed: request.seed,
    phase: request.phase,
  };
  for (const adapter of adapters) {
    if (!adapter.runtimeInputs) continue;
    const before = request.phase === "eval" ? setAdapterTraining(adapter, false) : undefined;
    try {
      for (const [k, v] of Object.entries(adapter.runtimeInputs(req))) {
        out[k] = toHost(v, graph.dtype);
      }
    } finally {
      if (before !== undefined) setAdapterTraining(adapter, before);
    }
  }
  for (const input of graph.dataInputs) {
    const n = input.name;
    if (BATCH_INPUTS.has(n) || n.startsWith("steer.") || n.startsWith("ablate.") || n in out) {
      continue;
    }
    if (request.phase === "eval" && (input.dtype === "float32" || input.dtype === "float64")) {
      const shape = input.shape.map((d) =>
        d === "batch_size" ? batch.rows : d === "sequence_length" ? batch.seq : d
      );
      if (shape.every((d) => typeof d === "number")) {
        const size = (shape as number[]).reduce((a, c) => a * c, 1);
        out[n] = input.dtype === "float32"
          ? { dtype: "float32", shape: shape as number[], data: new Float32Array(size).fill(1) }
          : { dtype: "float64", shape: shape as number[], data: new Float64Array(size).fill(1) };
        continue;
      }
    }
    throw withCode(
      new RangeError(
        `train graph input "${n}" got no value: no adapter's runtimeInputs() returned it for a ` +
          `${request.phase} micro-batch; the adapter that declared it must return it (or pass it ` +
          `with extraFeeds)`,
      ),
      "E_PLUGIN_HOOK",
    );
  }
  return out;
}

/**
 * Residual-edit feeds of a steering train graph: every edit at every position of every row
 * (prompt, response and padding alike, as preventative steering hooks do), K = 0 inputs for
 * blocks without edits.
 *
 * @example
 * ```ts
 * import { trainSteeringFeeds } from "./step_feeds.ts";
 * import type { TrainGraph } from "./train_graph.ts";
 * import type { MicroBatch } from "./batches.ts";
 * declare const graph: TrainGraph;
 * declare const batch: MicroBatch;
 * const feeds = trainSteeringFeeds(graph, [{ block: 3, type: "add", vector: new Float32Array(64),
 *   coefficient: 5, positions: "all" }], batch);
 * ```
 */
export function trainSteeringFeeds(
  graph: Pick<TrainGraph, "config" | "dtype">,
  edits: readonly ResidualEdit[],
  batch: Pick<MicroBatch, "rows" | "seq">,
): Record<string, HostTensor> {
  const { config } = graph;
  for (const e of edits) {
    if (!Number.isInteger(e.block) || e.block < 0 || e.block >= config.numLayers) {
      throw withCode(
        new RangeError(
          `residual edit block is ${e.block}; this model has blocks 0..${
            config.numLayers - 1
          } (steering layer L applies after block L-1, L in 1..${config.numLayers})`,
        ),
        "E_CONFIG",
      );
    }
    if (e.vector.length !== config.hiddenSize) {
      throw withCode(
        new RangeError(
          `residual edit vector at block ${e.block} has ${e.vector.length} values; this model's hidden size is ${config.hiddenSize}`,
        ),
        "E_CONFIG",
      );
    }
  }
  const wire = steeringFeeds(
    config,
    edits.map((e) => ({ ...e, positions: "all" as const })),
    { batch: batch.rows, seq: batch.seq, phase: "prefill" },
  );
  const out: Record<string, HostTensor> = {};
  for (const [k, v] of Object.entries(wire)) {
    const data = v.data as Float32Array;
    out[k] = graph.dtype === "float64"
      ? { dtype: "float64", shape: v.dims, data: Float64Array.from(data) }
      : { dtype: "float32", shape: v.dims, data };
  }
  return out;
}
