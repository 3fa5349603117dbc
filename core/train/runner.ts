/**
 * Runs a train-step graph: on a worker-backed {@link OrtSession} (the default; the main thread
 * stays free for progress and I/O) or in-process through onnxruntime-node directly.
 *
 * @module
 */

import { join } from "node:path";
import * as ort from "onnxruntime-node";
import type { Model } from "../onnx/ir.ts";
import { fromOrt, type HostTensor, runSession, toOrt } from "../onnx/ort_run.ts";
import { serializeModel, writeModel } from "../onnx/serialize.ts";
import { checkProvider, executionProviders, type Provider } from "../runtime/providers.ts";
import { OrtSession } from "../runtime/session.ts";
import type { WireTensor } from "../runtime/tensor.ts";
import { mapLargeAllocations } from "../util/malloc.ts";

/** One graph run per call. */
export interface StepRunner {
  run(feeds: Record<string, HostTensor>, outputs?: string[]): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

/** Options of {@link createStepRunner}. */
export interface StepRunnerOptions {
  /** `worker` (default) or `in-process`. */
  mode?: "worker" | "in-process";
  /** Directory for the model file (worker mode). Default a temporary directory. */
  dir?: string;
  /** Threads inside one op (default: one per core). */
  threads?: number;
  /** Execution provider (default `cpu`); a missing one is `E_PROVIDER`, never a CPU fallback. */
  provider?: Provider;
  /** Default `all` for float32; float64 graphs should use `basic`. */
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
}

/**
 * Creates a runner for a model.
 *
 * @example
 * ```ts
 * import { createStepRunner } from "./runner.ts";
 * import type { Model } from "../onnx/ir.ts";
 * declare const model: Model;
 * const runner = await createStepRunner(model, { mode: "in-process" });
 * await runner.release();
 * ```
 */
export async function createStepRunner(
  model: Model,
  options: StepRunnerOptions = {},
): Promise<StepRunner> {
  const level = options.graphOptimizationLevel ?? "all";
  // Tensors a step frees go back to the system instead of piling up in glibc's heaps.
  mapLargeAllocations();
  if ((options.mode ?? "worker") === "in-process") {
    const { model: bytes, externalData } = serializeModel(model, {
      externalData: { location: "train_step.onnx_data", threshold: 1024 },
    });
    // An empty external file (no initializer over the threshold) is rejected by onnxruntime.
    const files = externalData.filter((e) => e.data.byteLength > 0);
    checkProvider(options.provider ?? "cpu");
    const session = await ort.InferenceSession.create(bytes, {
      executionProviders: executionProviders(options.provider ?? "cpu"),
      graphOptimizationLevel: level,
      externalData: files.length ? files : undefined,
      ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
    });
    return {
      async run(feeds, outputs) {
        if (!outputs) return runSession(session, feeds);
        const ortFeeds: Record<string, ort.Tensor> = {};
        for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
        const out = await session.run(ortFeeds, outputs);
        const res: Record<string, HostTensor> = {};
        for (const [k, v] of Object.entries(out)) res[k] = fromOrt(v);
        return res;
      },
      release: () => session.release(),
    };
  }
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "dramatis_train_" });
  const cleanup = options.dir === undefined;
  const path = join(dir, "train_step.onnx");
  await writeModel(model, path);
  const session = await OrtSession.create(path, {
    graphOptimizationLevel: level,
    cpuMemArena: false,
    intraOpThreads: options.threads,
    provider: options.provider,
  });
  return {
    async run(feeds, outputs) {
      const wire: Record<string, WireTensor> = {};
      for (const [k, v] of Object.entries(feeds)) {
        wire[k] = { dtype: v.dtype, dims: v.shape, data: v.data } as WireTensor;
      }
      const out = await session.run(wire, outputs, { copyInputs: true });
      const res: Record<string, HostTensor> = {};
      for (const [k, v] of Object.entries(out)) {
        res[k] = {
          dtype: v.dtype as HostTensor["dtype"],
          shape: v.dims,
          data: v.data as HostTensor["data"],
        };
      }
      return res;
    },
    async release() {
      await session.release();
      if (cleanup) await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
