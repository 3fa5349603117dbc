/**
 * The built-in `lora` plugin's building blocks: the LoRA adapter (with rsLoRA and PEFT-style
 * target selection), PEFT-compatible save / load, and merging into base weights for export.
 * The Plugin object itself arrives with the trainer.
 *
 * @example
 * ```ts
 * import { LoraAdapter, loadLora, mergeLora } from "./mod.ts";
 * import type { DecoderConfig } from "../../core/model/config.ts";
 * declare const config: DecoderConfig;
 * const lora = LoraAdapter.forConfig(config, { r: 32, alpha: 64, useRslora: true, targetModules: "all-linear" });
 * await lora.save("./runs/adapter");
 * const again = await loadLora("./runs/adapter", config);
 * ```
 *
 * @module
 */

export * from "./options.ts";
export * from "./target_modules.ts";
export * from "./peft_names.ts";
export * from "./peft_config.ts";
export * from "./lora_adapter.ts";
export * from "./save_lora.ts";
export * from "./load_lora.ts";
export * from "./merge_lora.ts";
export * from "./write_merged_model.ts";
export * from "./train_config.ts";
export * from "./trainer.ts";
export * from "./plugin.ts";
