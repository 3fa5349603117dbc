/**
 * The built-in `lora` plugin: PEFT-compatible LoRA adapters (fresh or loaded from a PEFT
 * directory) and the `lora` trainer (`deno task train --plugin lora`).
 *
 * @module
 */

import { z } from "zod";
import type { Adapter } from "../../core/contracts/adapter.ts";
import type { Plugin } from "../../core/contracts/plugin.ts";
import { withCode } from "../../core/errors.ts";
import { readDecoderConfig } from "../../core/model/config.ts";
import { resolveModel } from "../../core/model/model_dir.ts";
import { loadLora } from "./load_lora.ts";
import { LoraAdapter } from "./lora_adapter.ts";
import { LoraConfigSchema, loraOptionsFromConfig } from "./options.ts";
import { createLoraTrainer } from "./trainer.ts";

/**
 * Options of the `lora` plugin.
 *
 * @example
 * ```ts
 * import { LoraPluginOptionsSchema } from "./plugin.ts";
 * LoraPluginOptionsSchema.parse({ progress: false }).runner; // "worker"
 * ```
 */
export const LoraPluginOptionsSchema = z.object({
  /** Progress bar of the trainer on stderr; default: when stderr is a terminal. */
  progress: z.boolean().optional(),
  /** Graph execution of the trainer: `worker` (default) or `in-process`. */
  runner: z.enum(["worker", "in-process"]).default("worker"),
}).strict();

/** Parsed {@link LoraPluginOptionsSchema}. */
export type LoraPluginOptions = z.infer<typeof LoraPluginOptionsSchema>;

/**
 * The adapter factory's config: `model` (directory or hub id) plus either `path` (a PEFT adapter
 * directory to load) or PEFT LoRA fields for a fresh adapter.
 *
 * @example
 * ```ts
 * import { lora } from "./plugin.ts";
 * const roles = await lora().create({ runner: "worker" });
 * const adapter = await roles.adapters!.lora({ model: "./models/tiny", path: "./runs/lora" });
 * ```
 */
export const LoraAdapterFactorySchema = LoraConfigSchema.extend({
  model: z.string().min(1),
  path: z.string().min(1).optional(),
  /** Prefix of the graph parameter names (distinct per adapter when several are attached). */
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).default("lora"),
});

async function makeAdapter(raw: Record<string, unknown> = {}): Promise<Adapter> {
  const parsed = LoraAdapterFactorySchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw withCode(
      new RangeError(
        `lora adapter config field "${issue.path.join(".") || "(config)"}": ${issue.message}; ` +
          `pass {"model": "<dir>", "path": "<PEFT dir>"} or {"model": "<dir>", "r": 8, …}`,
      ),
      "E_CONFIG",
    );
  }
  const c = parsed.data;
  const { dir } = await resolveModel(c.model);
  const config = await readDecoderConfig(dir);
  if (c.path) return loadLora(c.path, config, { name: c.name });
  return LoraAdapter.forConfig(config, {
    ...loraOptionsFromConfig(c),
    name: c.name,
    baseModel: c.model,
  });
}

/**
 * Makes the `lora` plugin.
 *
 * @example
 * ```ts
 * import { lora } from "./plugin.ts";
 * const plugin = lora();
 * const roles = await plugin.create(plugin.options.parse({}));
 * const result = await roles.trainers!.lora.train({
 *   model: "./models/tiny", data: "datasets/train/persona_chat.jsonl", out: "./runs/lora",
 *   config: { steps: 30 },
 * });
 * ```
 */
export function lora(): Plugin<LoraPluginOptions> {
  return {
    name: "lora",
    version: "0.1.0",
    description: "PEFT-compatible LoRA / rsLoRA adapters and a trainer (LoRA or full-parameter, " +
      "with optional preventative steering) on chat data",
    options: LoraPluginOptionsSchema,
    provides: ["adapter", "trainer"],
    create: (options) => ({
      adapters: { lora: makeAdapter },
      trainers: {
        lora: createLoraTrainer({ progress: options.progress, runner: options.runner }),
      },
    }),
  };
}
