/**
 * onnxruntime-node sessions on Workers, execution-provider checks, the tensor wire format and the
 * CUDA setup step.
 *
 * @example
 * ```ts
 * import { OrtSession, tensor } from "./mod.ts";
 * const s = await OrtSession.create("model.onnx");
 * const out = await s.run({ x: tensor("float32", [2], new Float32Array([1, 2])) });
 * await s.release();
 * ```
 *
 * @module
 */

export * from "./decoder_io.ts";
export * from "./providers.ts";
export * from "./session.ts";
export * from "./setup_cuda.ts";
export * from "./tensor.ts";
