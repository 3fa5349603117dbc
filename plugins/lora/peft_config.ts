/**
 * PEFT's `adapter_config.json` for LoRA: written from an adapter, and read with checks for the
 * variants this plugin cannot reproduce (DoRA, biases, fan-in-fan-out layers, saved modules).
 *
 * @module
 */

import { withCode } from "../../core/errors.ts";
import type { LoraAdapter } from "./lora_adapter.ts";
import { hookToModule, shortName } from "./peft_names.ts";

/** File name of the adapter config in a PEFT adapter directory. */
export const ADAPTER_CONFIG_FILE = "adapter_config.json";
/** File name of the adapter weights in a PEFT adapter directory. */
export const ADAPTER_WEIGHTS_FILE = "adapter_model.safetensors";

/** The fields of a PEFT LoRA config that shape the adapter. */
export interface PeftLoraConfig {
  r: number;
  alpha: number;
  dropout: number;
  useRslora: boolean;
  /** As written: a list of names, a regex string, or null (PEFT's per-model default). */
  targetModules: string | string[] | null;
  /** `layers_to_transform`, or undefined for all layers. */
  layers?: number[];
  /** Module-name pattern → rank (PEFT `rank_pattern`). */
  rankPattern: Record<string, number>;
  /** Module-name pattern → alpha (PEFT `alpha_pattern`). */
  alphaPattern: Record<string, number>;
  baseModel: string;
}

function regexEscape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * How PEFT would express the adapter's modules: short names (optionally with
 * `layers_to_transform`) when they form "these projections in these layers", otherwise a regex
 * over whole HF module names.
 */
function targetsOf(adapter: LoraAdapter): {
  target_modules: string[] | string;
  layers_to_transform: number[] | null;
  layers_pattern: string | null;
} {
  const hooks = adapter.modules().map((m) => m.hook);
  const names = new Set(hooks.map((h) => h.name));
  const shorts = [...new Set(hooks.map((h) => shortName(h.name)))].sort();
  const blockShorts = shorts.filter((s) => s !== "lm_head");
  const layers = [...new Set(hooks.filter((h) => h.layer >= 0).map((h) => h.layer))].sort((a, b) =>
    a - b
  );
  const allLayers = new Set(adapter.hooks.filter((h) => h.layer >= 0).map((h) => h.layer));
  const modelHooks = new Set(adapter.hooks.map((h) => h.name));
  const isProduct = blockShorts.every((s) =>
    layers.every((l) => {
      const attn = `layers.${l}.attn.${s}`;
      const mlp = `layers.${l}.mlp.${s}`;
      return names.has(attn) || names.has(mlp) || (!modelHooks.has(attn) && !modelHooks.has(mlp));
    })
  );
  const everyLayer = layers.length === allLayers.size;
  const hasHead = names.has("lm_head");
  if (isProduct && (everyLayer || blockShorts.length === 0)) {
    return { target_modules: shorts, layers_to_transform: null, layers_pattern: null };
  }
  if (isProduct && !hasHead) {
    return { target_modules: shorts, layers_to_transform: layers, layers_pattern: "layers" };
  }
  const alternatives = hooks.map((h) => regexEscape(hookToModule(h.name)!)).join("|");
  return {
    target_modules: `(?:${alternatives})`,
    layers_to_transform: null,
    layers_pattern: null,
  };
}

/**
 * The `adapter_config.json` object PEFT writes for this adapter (`peft_type` LORA,
 * `task_type` CAUSAL_LM, `bias` none). Modules whose rank or alpha differ from the adapter's
 * `r` / `alpha` go to `rank_pattern` / `alpha_pattern` under their full module names.
 *
 * @example
 * ```ts
 * import { peftConfigFor } from "./peft_config.ts";
 * import type { LoraAdapter } from "./lora_adapter.ts";
 * declare const lora: LoraAdapter;
 * console.log(peftConfigFor(lora).target_modules); // ["q_proj", "v_proj"]
 * ```
 */
export function peftConfigFor(adapter: LoraAdapter): Record<string, unknown> {
  const o = adapter.options;
  const rankPattern: Record<string, number> = {};
  const alphaPattern: Record<string, number> = {};
  for (const m of adapter.modules()) {
    const module = hookToModule(m.hook.name)!;
    if (m.r !== o.r) rankPattern[module] = m.r;
    if (m.alpha !== o.alpha) alphaPattern[module] = m.alpha;
  }
  const t = targetsOf(adapter);
  return {
    alpha_pattern: alphaPattern,
    auto_mapping: null,
    base_model_name_or_path: o.baseModel,
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: t.layers_pattern,
    layers_to_transform: t.layers_to_transform,
    lora_alpha: o.alpha,
    lora_dropout: o.dropout,
    modules_to_save: null,
    peft_type: "LORA",
    r: o.r,
    rank_pattern: rankPattern,
    revision: null,
    target_modules: t.target_modules,
    task_type: "CAUSAL_LM",
    use_dora: false,
    use_rslora: o.useRslora,
  };
}

function fieldError<E extends Error>(error: E): E {
  return withCode(error, "E_CONFIG");
}

/**
 * Checks a parsed `adapter_config.json` and returns the LoRA fields. Errors name the file, the
 * field, its value and the fix; they are tagged `E_CONFIG`.
 *
 * @example
 * ```ts
 * import { parsePeftConfig } from "./peft_config.ts";
 * const c = parsePeftConfig(
 *   { peft_type: "LORA", r: 16, lora_alpha: 32, target_modules: ["q_proj"], use_rslora: true },
 *   "adapter_config.json",
 * );
 * console.log(c.r, c.alpha, c.useRslora); // 16 32 true
 * ```
 */
export function parsePeftConfig(json: unknown, file: string): PeftLoraConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw fieldError(
      new TypeError(`${file} holds ${JSON.stringify(json)?.slice(0, 40)}; expected a JSON object`),
    );
  }
  const c = json as Record<string, unknown>;
  const say = (field: string, fix: string) =>
    `${file}: "${field}" is ${JSON.stringify(c[field])}; ${fix}`;
  if (c.peft_type !== "LORA") {
    throw fieldError(
      new RangeError(
        say("peft_type", `only "LORA" adapters load here (AdaLoRA, LoHa, IA3… are other formats)`),
      ),
    );
  }
  const num = (field: string, fallback: number, ok: (v: number) => boolean, fix: string) => {
    const v = c[field] ?? fallback;
    if (typeof v !== "number" || !ok(v)) throw fieldError(new RangeError(say(field, fix)));
    return v;
  };
  const r = num("r", 8, (v) => Number.isInteger(v) && v >= 1, "use a whole number >= 1");
  const alpha = num("lora_alpha", 8, (v) => Number.isFinite(v) && v > 0, "use a number > 0");
  const dropout = num("lora_dropout", 0, (v) => v >= 0 && v < 1, "use a probability in [0, 1)");
  const useRslora = c.use_rslora ?? false;
  if (typeof useRslora !== "boolean") {
    throw fieldError(new TypeError(say("use_rslora", "use true or false")));
  }
  const unsupported: [string, boolean, string][] = [
    ["use_dora", c.use_dora === true, "DoRA adapters are not supported; merge it in PEFT first"],
    [
      "fan_in_fan_out",
      c.fan_in_fan_out === true,
      "fan-in-fan-out (Conv1D, GPT-2 style) layers do not exist in Llama-family models",
    ],
    [
      "bias",
      c.bias !== undefined && c.bias !== "none",
      `LoRA bias training is not supported; use "none" (retrain, or merge in PEFT)`,
    ],
    [
      "modules_to_save",
      Array.isArray(c.modules_to_save) && c.modules_to_save.length > 0,
      "fully trained modules are not loaded; merge the adapter in PEFT and load the merged model",
    ],
    [
      "layer_replication",
      c.layer_replication !== undefined && c.layer_replication !== null,
      "layer replication is not supported",
    ],
  ];
  for (const [field, bad, fix] of unsupported) {
    if (bad) throw fieldError(new RangeError(say(field, fix)));
  }
  const tm = c.target_modules ?? null;
  if (
    tm !== null && typeof tm !== "string" &&
    !(Array.isArray(tm) && tm.every((s) => typeof s === "string"))
  ) {
    throw fieldError(new TypeError(say("target_modules", "use a list of names or a regex")));
  }
  let layers: number[] | undefined;
  const lt = c.layers_to_transform ?? null;
  if (typeof lt === "number") layers = [lt];
  else if (Array.isArray(lt) && lt.every((l) => Number.isInteger(l) && l >= 0)) layers = lt;
  else if (lt !== null) {
    throw fieldError(new TypeError(say("layers_to_transform", "use a list of block indices")));
  }
  const pattern = (field: string, ok: (v: number) => boolean) => {
    const p = c[field] ?? {};
    if (
      typeof p !== "object" || p === null || Array.isArray(p) ||
      !Object.values(p).every((v) => typeof v === "number" && ok(v))
    ) {
      throw fieldError(new TypeError(say(field, "use an object of module pattern → number")));
    }
    return { ...p } as Record<string, number>;
  };
  const base = c.base_model_name_or_path ?? "";
  return {
    r,
    alpha,
    dropout,
    useRslora,
    targetModules: tm as string | string[] | null,
    layers,
    rankPattern: pattern("rank_pattern", (v) => Number.isInteger(v) && v >= 1),
    alphaPattern: pattern("alpha_pattern", (v) => Number.isFinite(v) && v > 0),
    baseModel: typeof base === "string" ? base : "",
  };
}

/**
 * The value of the first `rank_pattern` / `alpha_pattern` key that matches a module name the
 * way PEFT matches it (the key is a regex that must match a dotted suffix of the name).
 *
 * @example
 * ```ts
 * import { patternValue } from "./peft_config.ts";
 * patternValue({ "v_proj": 4 }, "model.layers.0.self_attn.v_proj"); // 4
 * patternValue({ "v_proj": 4 }, "model.layers.0.self_attn.q_proj"); // undefined
 * ```
 */
export function patternValue(
  pattern: Record<string, number>,
  module: string,
): number | undefined {
  for (const [key, value] of Object.entries(pattern)) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:.*\\.)?(?:${key})$`);
    } catch {
      continue;
    }
    if (re.test(module)) return value;
  }
  return undefined;
}
