/**
 * Names shared by Dramatis hook points, Hugging Face module names and PEFT tensor keys.
 *
 * | hook point              | HF module                          | PEFT key (A)                                                      |
 * | ----------------------- | ---------------------------------- | ----------------------------------------------------------------- |
 * | `layers.3.attn.q_proj`  | `model.layers.3.self_attn.q_proj`  | `base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight`  |
 * | `layers.3.mlp.up_proj`  | `model.layers.3.mlp.up_proj`       | `base_model.model.model.layers.3.mlp.up_proj.lora_A.weight`       |
 * | `lm_head`               | `lm_head`                          | `base_model.model.lm_head.lora_A.weight`                          |
 *
 * Layer indices are 0-based decoder block indices, as in Hugging Face module names.
 *
 * @module
 */

const HOOK_RE = /^layers\.(\d+)\.(attn|mlp)\.([a-z]+_proj)$/;
const MODULE_RE = /^model\.layers\.(\d+)\.(self_attn|mlp)\.([a-z]+_proj)$/;

/** Projection names per block, as Hugging Face Llama-family modules name them. */
export const ATTN_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj"] as const;
/** MLP projection names of a Llama-family block. */
export const MLP_PROJECTIONS = ["gate_proj", "up_proj", "down_proj"] as const;

/**
 * The Hugging Face module name of a linear hook point, or `undefined` for a name that is not one.
 *
 * @example
 * ```ts
 * import { hookToModule } from "./peft_names.ts";
 * hookToModule("layers.0.attn.q_proj"); // "model.layers.0.self_attn.q_proj"
 * hookToModule("lm_head"); // "lm_head"
 * ```
 */
export function hookToModule(hook: string): string | undefined {
  if (hook === "lm_head") return "lm_head";
  const m = HOOK_RE.exec(hook);
  if (!m) return undefined;
  return `model.layers.${m[1]}.${m[2] === "attn" ? "self_attn" : "mlp"}.${m[3]}`;
}

/**
 * The hook point of a Hugging Face module name, or `undefined` for a module that is not a
 * decoder linear layer.
 *
 * @example
 * ```ts
 * import { moduleToHook } from "./peft_names.ts";
 * moduleToHook("model.layers.1.mlp.down_proj"); // "layers.1.mlp.down_proj"
 * ```
 */
export function moduleToHook(module: string): string | undefined {
  if (module === "lm_head") return "lm_head";
  const m = MODULE_RE.exec(module);
  if (!m) return undefined;
  const group = m[2] === "self_attn" ? "attn" : "mlp";
  const known: readonly string[] = group === "attn" ? ATTN_PROJECTIONS : MLP_PROJECTIONS;
  if (!known.includes(m[3])) return undefined;
  return `layers.${m[1]}.${group}.${m[3]}`;
}

/**
 * The short module name PEFT's `target_modules` lists use (`q_proj`, `down_proj`, `lm_head`).
 *
 * @example
 * ```ts
 * import { shortName } from "./peft_names.ts";
 * shortName("layers.2.attn.v_proj"); // "v_proj"
 * ```
 */
export function shortName(hook: string): string {
  return hook.slice(hook.lastIndexOf(".") + 1);
}

/**
 * The HF weight name a hook's linear layer reads (`[out, in]` layout).
 *
 * @example
 * ```ts
 * import { hookToWeightName } from "./peft_names.ts";
 * hookToWeightName("layers.0.mlp.up_proj"); // "model.layers.0.mlp.up_proj.weight"
 * ```
 */
export function hookToWeightName(hook: string): string | undefined {
  const m = hookToModule(hook);
  return m === undefined ? undefined : `${m}.weight`;
}

/**
 * The key PEFT's `save_pretrained` writes for a LoRA matrix (the adapter name is stripped).
 *
 * @example
 * ```ts
 * import { peftKey } from "./peft_names.ts";
 * peftKey("layers.0.attn.q_proj", "A");
 * // "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"
 * ```
 */
export function peftKey(hook: string, which: "A" | "B"): string {
  const m = hookToModule(hook);
  if (m === undefined) throw new RangeError(`"${hook}" is not a linear hook point name`);
  return `base_model.model.${m}.lora_${which}.weight`;
}

/** A parsed PEFT LoRA tensor key. */
export interface ParsedPeftKey {
  /** HF module name, e.g. `model.layers.0.self_attn.q_proj`. */
  module: string;
  which: "A" | "B";
  /** The adapter name segment (`default` in `lora_A.default.weight`), if present. */
  adapterName?: string;
}

// `base_model.model.` is what PeftModel adds; the bare form comes from tools that save
// `get_peft_model_state_dict` output of the inner model. The adapter name appears when a state
// dict is taken from a live PeftModel instead of `save_pretrained`.
const KEY_RE = /^(?:base_model\.model\.)?(.+?)\.lora_([AB])(?:\.([A-Za-z0-9_-]+))?\.weight$/;

/**
 * Parses a LoRA tensor key in any of the forms PEFT writes: with or without the
 * `base_model.model.` prefix and with or without the adapter name (`lora_A.default.weight`).
 * Returns `undefined` for keys that are not LoRA A/B matrices.
 *
 * @example
 * ```ts
 * import { parsePeftKey } from "./peft_names.ts";
 * parsePeftKey("base_model.model.model.layers.0.mlp.up_proj.lora_B.default.weight");
 * // { module: "model.layers.0.mlp.up_proj", which: "B", adapterName: "default" }
 * ```
 */
export function parsePeftKey(key: string): ParsedPeftKey | undefined {
  const m = KEY_RE.exec(key);
  if (!m) return undefined;
  let module = m[1];
  // Some exporters drop the inner `model.` of decoder layers (`layers.0.self_attn.q_proj`).
  if (/^layers\.\d+\./.test(module)) module = `model.${module}`;
  const out: ParsedPeftKey = { module, which: m[2] as "A" | "B" };
  if (m[3] !== undefined) out.adapterName = m[3];
  return out;
}
