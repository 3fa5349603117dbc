/**
 * Options of a LoRA adapter, validated up front, with PEFT's defaults.
 *
 * @module
 */

import { z } from "zod";
import { withCode } from "../../core/errors.ts";
import type { TargetModules } from "./target_modules.ts";

/** Options of {@link LoraAdapter}; every field has PEFT's default. */
export interface LoraAdapterOptions {
  /** Rank r (default 8). */
  r?: number;
  /** lora_alpha (default 8). The delta is scaled by alpha / r, or alpha / √r with rsLoRA. */
  alpha?: number;
  /**
   * Dropout probability on the LoRA input, in [0, 1) (default 0). Training only: the inference
   * graph has no dropout at all (see {@link LoraAdapter.training}).
   */
  dropout?: number;
  /** rsLoRA: scale by alpha / √r instead of alpha / r (default false). */
  useRslora?: boolean;
  /** Which linear hooks get a LoRA (default `["q_proj", "v_proj"]`, PEFT's Llama default). */
  targetModules?: TargetModules;
  /** Block indices to adapt (PEFT `layers_to_transform`, 0-based); default all blocks. */
  layers?: number[];
  /** Seed of the initialisation of A (default 0). */
  seed?: number;
  /** Prefix of the graph parameter and runtime input names (default `"lora"`). */
  name?: string;
  /** `base_model_name_or_path` written to adapter_config.json (default `""`). */
  baseModel?: string;
}

/** {@link LoraAdapterOptions} with defaults applied. */
export type ResolvedLoraOptions = Required<Omit<LoraAdapterOptions, "layers">> & {
  layers?: number[];
};

function bad(field: string, value: unknown, fix: string): RangeError {
  return withCode(
    new RangeError(`LoRA option ${field} is ${JSON.stringify(value)}; ${fix}`),
    "E_CONFIG",
  );
}

/**
 * Applies defaults and validates LoRA options; a bad value is a `RangeError` tagged `E_CONFIG`
 * naming the field, the value and the fix.
 *
 * @example
 * ```ts
 * import { resolveLoraOptions } from "./options.ts";
 * resolveLoraOptions({ r: 16 }).alpha; // 8
 * resolveLoraOptions({ r: 32, alpha: 64, useRslora: true }).useRslora; // true
 * ```
 */
export function resolveLoraOptions(options: LoraAdapterOptions = {}): ResolvedLoraOptions {
  const o = {
    r: options.r ?? 8,
    alpha: options.alpha ?? 8,
    dropout: options.dropout ?? 0,
    useRslora: options.useRslora ?? false,
    targetModules: options.targetModules ?? ["q_proj", "v_proj"],
    layers: options.layers,
    seed: options.seed ?? 0,
    name: options.name ?? "lora",
    baseModel: options.baseModel ?? "",
  };
  if (typeof o.alpha !== "number" || !Number.isFinite(o.alpha) || o.alpha <= 0) {
    throw bad("alpha", o.alpha, "use a finite number > 0");
  }
  if (!Number.isInteger(o.r) || o.r < 1) throw bad("r", o.r, "use a whole number >= 1");
  if (typeof o.dropout !== "number" || !(o.dropout >= 0 && o.dropout < 1)) {
    throw bad("dropout", o.dropout, "use a probability in [0, 1)");
  }
  if (typeof o.useRslora !== "boolean") throw bad("useRslora", o.useRslora, "use true or false");
  if (!Number.isFinite(o.seed)) throw bad("seed", o.seed, "use a finite number");
  if (typeof o.name !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(o.name)) {
    throw bad("name", o.name, 'use letters, digits and underscores, e.g. "lora"');
  }
  if (typeof o.baseModel !== "string") throw bad("baseModel", o.baseModel, "use a string");
  if (o.layers !== undefined) {
    if (!Array.isArray(o.layers) || o.layers.some((l) => !Number.isInteger(l) || l < 0)) {
      throw bad("layers", o.layers, "use a list of 0-based block indices, e.g. [0, 1]");
    }
  }
  return o;
}

/**
 * The scaling of the LoRA delta: alpha / r, or alpha / √r with rsLoRA (spec B7: r 32, alpha 64,
 * rsLoRA → 11.31 rather than 2).
 *
 * @example
 * ```ts
 * import { loraScaling } from "./options.ts";
 * loraScaling(64, 32, true); // 11.313708498984761
 * loraScaling(64, 32, false); // 2
 * ```
 */
export function loraScaling(alpha: number, r: number, useRslora: boolean): number {
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}

/**
 * The LoRA options as a zod schema with PEFT's field names, for JSON configs
 * (`--config '{"r": 32, "lora_alpha": 64, "use_rslora": true}'`).
 *
 * @example
 * ```ts
 * import { LoraConfigSchema, loraOptionsFromConfig } from "./options.ts";
 * const o = loraOptionsFromConfig(LoraConfigSchema.parse({ r: 32, lora_alpha: 64 }));
 * console.log(o.alpha); // 64
 * ```
 */
export const LoraConfigSchema = z.object({
  r: z.number().int().min(1).default(8),
  lora_alpha: z.number().positive().default(8),
  lora_dropout: z.number().min(0).lt(1).default(0),
  use_rslora: z.boolean().default(false),
  target_modules: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)])
    .default(["q_proj", "v_proj"]),
  layers_to_transform: z.array(z.number().int().min(0)).nullable().default(null),
  seed: z.number().int().default(0),
});

/** A parsed {@link LoraConfigSchema} object. */
export type LoraConfig = z.infer<typeof LoraConfigSchema>;

/**
 * Maps PEFT-named config fields to {@link LoraAdapterOptions}.
 *
 * @example
 * ```ts
 * import { LoraConfigSchema, loraOptionsFromConfig } from "./options.ts";
 * loraOptionsFromConfig(LoraConfigSchema.parse({ use_rslora: true })).useRslora; // true
 * ```
 */
export function loraOptionsFromConfig(config: LoraConfig): LoraAdapterOptions {
  return {
    r: config.r,
    alpha: config.lora_alpha,
    dropout: config.lora_dropout,
    useRslora: config.use_rslora,
    targetModules: config.target_modules,
    layers: config.layers_to_transform ?? undefined,
    seed: config.seed,
  };
}
