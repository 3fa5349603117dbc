/**
 * The hirpf plugin (HIS / HIRPF identity experts, arXiv 2407.19412): the Plugin object
 * (`hirpf()`), the identity-expert adapter and its checkpoints, the trainer, identity inventory
 * and insert modes, sanitization and slot encoding, the HIS dataset loader, the identity system
 * prompt, the float64 reference of the gate math, and evaluation.
 *
 * @example
 * ```ts
 * import { encodeIdentities, buildSystemPrompt } from "./mod.ts";
 * console.log(encodeIdentities(["Artist", "AGR_high"], "alternate")[0]); // [1, 1]
 * console.log(buildSystemPrompt(["Artist", "AGR_high"]));
 * ```
 *
 * @module
 */

export * from "./adapter.ts";
export * from "./adapter_config.ts";
export * from "./chat_format.ts";
export * from "./checkpoint.ts";
export * from "./encode.ts";
export * from "./gate_math.ts";
export * from "./his_conversations.ts";
export * from "./his_dataset.ts";
export * from "./identities.ts";
export * from "./options.ts";
export * from "./plugin.ts";
export * from "./sanitize.ts";
export * from "./system_prompt.ts";
export * from "./train_config.ts";
export * from "./trainer.ts";
export * from "./eval/mod.ts";
