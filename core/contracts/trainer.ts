/**
 * The Trainer contract: trains an adapter's parameters (or a whole small model) on a dataset with
 * the core training engine, emits progress events, writes checkpoints and resumes.
 *
 * @module
 */

import type { Provider } from "../runtime/providers.ts";

/** Progress events a trainer emits. */
export type TrainEvent =
  | {
    type: "step";
    step: number;
    totalSteps: number;
    loss: number;
    lr: number;
    tokensPerSecond: number;
    etaSeconds: number;
  }
  | { type: "eval"; step: number; loss: number }
  | { type: "checkpoint"; step: number; path: string }
  | { type: "log"; message: string };

/** What a training run needs. `config` is validated by the trainer's own schema. */
export interface TrainRequest {
  /** Model directory or hub id. */
  model: string;
  /** Dataset path (file or directory). */
  data: string;
  /** Output directory for checkpoints, metrics and the final adapter. */
  out: string;
  config?: Record<string, unknown>;
  /**
   * Fail on data a loader would otherwise skip with a counted warning (e.g. hirpf records whose
   * labels carry both polarities of a factor). Default false.
   */
  strict?: boolean;
  signal?: AbortSignal;
  onEvent?(event: TrainEvent): void;
  /** Execution provider of the training graph (`--provider`; default `cpu`). */
  provider?: Provider;
  /** onnxruntime intra-op threads (`--threads`); a config's own `threads` wins. */
  threads?: number;
  /**
   * Storage of the frozen base weights (`--dtype`: f32, f16, bf16, int8, int4[:block]), for
   * trainers that honour it (the lora and hirpf plugins). Adapters train in float32
   * over a quantized base (QLoRA-style); with no dtype the base is stored as the engine would
   * load it (`DRAMATIS_DTYPE`, else a GPTQ/AWQ checkpoint's own bits, else f32). Training base
   * weights (`trainable: all`) is float32 only: a quantized dtype is refused naming the fix.
   */
  dtype?: string;
}

/** The result of a training run. */
export interface TrainResult {
  out: string;
  steps: number;
  metrics: Record<string, number>;
}

/**
 * Trains parameters with the core engine.
 *
 * @example
 * ```ts
 * import type { Trainer } from "./trainer.ts";
 * declare const trainer: Trainer;
 * const r = await trainer.train({ model: "./tiny", data: "./d.jsonl", out: "./out" });
 * console.log(r.metrics);
 * ```
 */
export interface Trainer {
  readonly name: string;
  train(request: TrainRequest): Promise<TrainResult>;
}
