/**
 * Test-only helpers of core/model: the float64 reference forward pass used as the numeric
 * oracle for the ONNX graph, LoRA and steering. Never import this from non-test code.
 *
 * @module
 */

export * from "./reference.ts";
export * from "./adapters.ts";
export * from "./row_reader.ts";
