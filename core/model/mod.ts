/**
 * The model engine's model layer: Hugging Face configs, safetensors, tokenizers, hub loading,
 * tiny seeded models, the Llama-family decoder graph and its export, sampling, generation and
 * the {@link Engine} that ties them together.
 *
 * @example
 * ```ts ignore
 * import { createTinyModel, Engine } from "./mod.ts";
 * await createTinyModel("/tmp/tiny", { preset: "tiny-llama", seed: 1 });
 * const engine = await Engine.load("/tmp/tiny");
 * ```
 *
 * @module
 */

export * from "./bpe.ts";
export * from "./config.ts";
export * from "./decoder_graph.ts";
export * from "./engine.ts";
export * from "./export.ts";
export * from "./generate.ts";
export * from "./hub.ts";
export * from "./model_dir.ts";
export * from "./prequantized.ts";
export * from "./quantize.ts";
export * from "./safetensors.ts";
export * from "./sampling.ts";
export * from "./stops.ts";
export * from "./tiny.ts";
export * from "./tokenizer.ts";
export * from "./weights.ts";
