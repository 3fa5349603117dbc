/**
 * Runs an IR model in onnxruntime-node on the calling thread — for tests and small offline checks
 * (production inference runs in Workers, see core/runtime).
 *
 * @module
 */

import * as ort from "onnxruntime-node";
import type { DType, Model } from "./ir.ts";
import { serializeModel } from "./serialize.ts";

/** A host tensor fed to or read from onnxruntime. */
export interface HostTensor {
  dtype: DType;
  shape: number[];
  data:
    | Float32Array
    | Float64Array
    | BigInt64Array
    | Int32Array
    | Int8Array
    | Uint8Array
    | Uint16Array;
}

/** Options of {@link runModel}. */
export interface RunModelOptions {
  /** Default `"all"`; use `"disabled"` to run the graph exactly as written. */
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /** Initializers of at least this many bytes go through `externalData` (exercises that path). */
  externalThreshold?: number;
  /** Threads inside one op; default one per core. */
  threads?: number;
}

/**
 * Wraps a host tensor as an onnxruntime tensor (float16 fed as Uint16 bits, runtime-findings §0.4).
 *
 * @example
 * ```ts
 * import { toOrt } from "./ort_run.ts";
 * const t = toOrt({ dtype: "float32", shape: [2], data: new Float32Array([1, 2]) });
 * console.log(t.dims); // [2]
 * ```
 */
export function toOrt(t: HostTensor): ort.Tensor {
  const type = t.dtype === "bfloat16" ? "float16" : t.dtype;
  const tensor = new ort.Tensor(type as "float32", t.data as Float32Array, t.shape);
  if (t.dtype === "float16") {
    const d = tensor.data as unknown as ArrayBufferView;
    (tensor as unknown as { cpuData: Uint16Array }).cpuData = new Uint16Array(
      d.buffer,
      d.byteOffset,
      d.byteLength / 2,
    );
  }
  return tensor;
}

/**
 * Converts an onnxruntime output to a host tensor.
 *
 * @example
 * ```ts
 * import * as ort from "onnxruntime-node";
 * import { fromOrt } from "./ort_run.ts";
 * console.log(fromOrt(new ort.Tensor("float32", new Float32Array(2), [2])).shape); // [2]
 * ```
 */
export function fromOrt(t: ort.Tensor): HostTensor {
  return { dtype: t.type as DType, shape: [...t.dims], data: t.data as HostTensor["data"] };
}

/**
 * Creates a session from an IR model (in memory) and runs it once.
 *
 * @example
 * ```ts
 * import { GraphBuilder, makeModel } from "./mod.ts";
 * import { runModel } from "./ort_run.ts";
 * const b = new GraphBuilder();
 * b.output("y", "float32", [2], b.op1("Neg", [b.input("x", "float32", [2])]));
 * const out = await runModel(makeModel(b.graph()), { x: { dtype: "float32", shape: [2], data: new Float32Array([1, 2]) } });
 * console.log(out.y.data); // Float32Array [-1, -2]
 * ```
 */
export async function runModel(
  model: Model,
  feeds: Record<string, HostTensor>,
  options: RunModelOptions = {},
): Promise<Record<string, HostTensor>> {
  const ext = options.externalThreshold !== undefined
    ? { location: "weights.bin", threshold: options.externalThreshold }
    : undefined;
  const { model: bytes, externalData } = serializeModel(model, { externalData: ext });
  const session = await ort.InferenceSession.create(bytes, {
    graphOptimizationLevel: options.graphOptimizationLevel ?? "all",
    externalData: externalData.length ? externalData : undefined,
    ...(options.threads ? { intraOpNumThreads: options.threads } : {}),
  });
  try {
    return await runSession(session, feeds);
  } finally {
    await session.release();
  }
}

/**
 * Runs an existing session with host tensors.
 *
 * @example
 * ```ts
 * import * as ort from "onnxruntime-node";
 * import { runSession } from "./ort_run.ts";
 * const session = await ort.InferenceSession.create("model.onnx");
 * const out = await runSession(session, { x: { dtype: "float32", shape: [1], data: new Float32Array([1]) } });
 * console.log(Object.keys(out));
 * ```
 */
export async function runSession(
  session: ort.InferenceSession,
  feeds: Record<string, HostTensor>,
): Promise<Record<string, HostTensor>> {
  const ortFeeds: Record<string, ort.Tensor> = {};
  for (const [k, v] of Object.entries(feeds)) ortFeeds[k] = toOrt(v);
  const out = await session.run(ortFeeds);
  const result: Record<string, HostTensor> = {};
  for (const [k, v] of Object.entries(out)) result[k] = fromOrt(v);
  return result;
}
