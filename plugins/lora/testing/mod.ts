/**
 * Test helpers of the lora plugin (tiny model fixture, float64 LoRA oracle, ONNX runs).
 *
 * @example
 * ```ts
 * import { tinyFixture } from "./mod.ts";
 * const { config } = await tinyFixture();
 * ```
 *
 * @module
 */

export * from "./fixtures.ts";
