/**
 * Reads a LoRA adapter in PEFT's layout (trained here or elsewhere) for a given model.
 *
 * @module
 */

import { join } from "node:path";
import type { LinearHook } from "../../core/contracts/adapter.ts";
import { withCode } from "../../core/errors.ts";
import type { DecoderConfig } from "../../core/model/config.ts";
import { decoderHooks } from "../../core/model/decoder_graph.ts";
import { SafetensorsFile } from "../../core/model/safetensors.ts";
import { LoraAdapter, type LoraModuleWeights } from "./lora_adapter.ts";
import {
  ADAPTER_CONFIG_FILE,
  ADAPTER_WEIGHTS_FILE,
  parsePeftConfig,
  patternValue,
} from "./peft_config.ts";
import { moduleToHook, parsePeftKey } from "./peft_names.ts";

/** Options of {@link loadLora}. */
export interface LoadLoraOptions {
  /** Prefix of graph parameter names (default `"lora"`); give two loaded adapters distinct ones. */
  name?: string;
  /**
   * Which adapter to take when the keys carry several adapter names (`lora_A.<name>.weight`);
   * by default there must be at most one.
   */
  adapterName?: string;
}

function weightsError<E extends Error>(error: E): E {
  return withCode(error, "E_WEIGHTS");
}

async function readConfig(dir: string) {
  const file = join(dir, ADAPTER_CONFIG_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw withCode(
        new TypeError(
          `${file} not found; a PEFT LoRA directory holds ${ADAPTER_CONFIG_FILE} and ` +
            `${ADAPTER_WEIGHTS_FILE} (save it with save_pretrained)`,
        ),
        "E_CONFIG",
      );
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw withCode(
      new SyntaxError(`${file} is not valid JSON (${(error as Error).message}); fix or re-save it`),
      "E_CONFIG",
    );
  }
  return parsePeftConfig(json, file);
}

async function openWeights(dir: string): Promise<SafetensorsFile> {
  const file = join(dir, ADAPTER_WEIGHTS_FILE);
  try {
    await Deno.stat(file);
  } catch {
    const bin = await Deno.stat(join(dir, "adapter_model.bin")).then(() => true, () => false);
    throw weightsError(
      new TypeError(
        bin
          ? `${file} not found, only adapter_model.bin; PyTorch pickles are not read: re-save ` +
            `with save_pretrained(dir, safe_serialization=True)`
          : `${file} not found; a PEFT LoRA directory holds ${ADAPTER_WEIGHTS_FILE}`,
      ),
    );
  }
  return await SafetensorsFile.open(file);
}

/**
 * Loads `adapter_config.json` + `adapter_model.safetensors` from `dir` as a {@link LoraAdapter}
 * for the model described by `model` (a decoder config, or its linear hooks).
 *
 * Accepted key forms: `base_model.model.<module>.lora_A.weight` (what `save_pretrained` writes),
 * the same with the adapter name (`lora_A.default.weight`) and without the `base_model.model.`
 * prefix. F32, F16, BF16 and F64 tensors are read (converted to float32). `rank_pattern` and
 * `alpha_pattern` are honoured. Every tensor is checked against the model: an unknown module,
 * a missing A or B, or a shape that does not fit is an error tagged `E_WEIGHTS` naming the file,
 * the key and the fix.
 *
 * @example
 * ```ts
 * import { loadLora } from "./load_lora.ts";
 * import { readDecoderConfig } from "../../core/model/config.ts";
 * const config = await readDecoderConfig("./models/tiny");
 * const lora = await loadLora("./runs/adapter", config);
 * console.log(lora.options.r, lora.modules().length);
 * ```
 */
export async function loadLora(
  dir: string,
  model: DecoderConfig | readonly LinearHook[],
  options: LoadLoraOptions = {},
): Promise<LoraAdapter> {
  const hooks = Array.isArray(model) ? model as LinearHook[] : decoderHooks(model as DecoderConfig);
  const hookByName = new Map(hooks.map((h) => [h.name, h]));
  const config = await readConfig(dir);
  const src = await openWeights(dir);
  const file = join(dir, ADAPTER_WEIGHTS_FILE);
  try {
    const found = new Map<string, { hook: LinearHook; module: string; A?: string; B?: string }>();
    const adapterNames = new Set<string>();
    for (const key of src.names()) {
      const parsed = parsePeftKey(key);
      if (!parsed) {
        const hint = /lora_embedding_|lora_magnitude_vector/.test(key)
          ? "embedding LoRA and DoRA tensors are not supported"
          : /modules_to_save|\.bias$/.test(key)
          ? "saved full modules and LoRA biases are not supported; merge the adapter in PEFT"
          : "expected keys like base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight";
        throw weightsError(
          new RangeError(`${file}: tensor "${key}" is not a LoRA matrix; ${hint}`),
        );
      }
      if (parsed.adapterName !== undefined) adapterNames.add(parsed.adapterName);
      if (
        options.adapterName !== undefined && parsed.adapterName !== undefined &&
        parsed.adapterName !== options.adapterName
      ) continue;
      const hookName = moduleToHook(parsed.module);
      const hook = hookName === undefined ? undefined : hookByName.get(hookName);
      if (!hook) {
        const layers = hooks.filter((h) => h.layer >= 0).map((h) => h.layer);
        throw weightsError(
          new RangeError(
            `${file}: tensor "${key}" adapts module "${parsed.module}", which this model does ` +
              `not have (it has blocks 0..${Math.max(...layers)} with q/k/v/o_proj and ` +
              `gate/up/down_proj, and lm_head); load the adapter with the base model it was ` +
              `trained for${config.baseModel ? ` (${config.baseModel})` : ""}`,
          ),
        );
      }
      const entry = found.get(hook.name) ?? { hook, module: parsed.module };
      if (entry[parsed.which] !== undefined) {
        throw weightsError(
          new RangeError(
            `${file}: module "${parsed.module}" has two lora_${parsed.which} tensors ` +
              `("${entry[parsed.which]}" and "${key}"); pass options.adapterName to pick one`,
          ),
        );
      }
      entry[parsed.which] = key;
      found.set(hook.name, entry);
    }
    if (options.adapterName === undefined && adapterNames.size > 1) {
      throw weightsError(
        new RangeError(
          `${file}: keys carry several adapter names (${[...adapterNames].join(", ")}); pass ` +
            `options.adapterName to pick one`,
        ),
      );
    }
    if (found.size === 0) {
      throw weightsError(
        new RangeError(`${file}: holds no LoRA tensors; it is not a LoRA adapter`),
      );
    }
    const modules: LoraModuleWeights[] = [];
    for (const { hook, module, A, B } of found.values()) {
      if (A === undefined || B === undefined) {
        throw weightsError(
          new RangeError(
            `${file}: module "${module}" has ${A ? `"${A}"` : `"${B}"`} but no lora_${
              A ? "B" : "A"
            } partner; the file is incomplete: re-save the adapter`,
          ),
        );
      }
      const r = patternValue(config.rankPattern, module) ?? config.r;
      const want = { A: [r, hook.inFeatures], B: [hook.outFeatures, r] };
      for (const [which, key] of [["A", A], ["B", B]] as const) {
        const info = src.info(key)!;
        if (info.shape.join(",") !== want[which].join(",")) {
          throw weightsError(
            new RangeError(
              `${file}: tensor "${key}" has shape [${info.shape}] but ${hook.name} of this model ` +
                `with r = ${r} from ${ADAPTER_CONFIG_FILE} needs [${want[which]}] ` +
                `(lora_A is [r, in], lora_B is [out, r]); use the base model the adapter was ` +
                `trained for${config.baseModel ? ` (${config.baseModel})` : ""}, or fix "r" / ` +
                `"rank_pattern" in ${ADAPTER_CONFIG_FILE}`,
            ),
          );
        }
        if (!["F32", "F16", "BF16", "F64"].includes(info.dtype)) {
          throw weightsError(
            new TypeError(
              `${file}: tensor "${key}" has dtype ${info.dtype}; LoRA weights must be F32, F16, ` +
                `BF16 or F64`,
            ),
          );
        }
      }
      modules.push({
        hook: hook.name,
        A: await src.readF32(A),
        B: await src.readF32(B),
        alpha: patternValue(config.alphaPattern, module) ?? config.alpha,
      });
    }
    return LoraAdapter.fromModules(hooks, {
      r: config.r,
      alpha: config.alpha,
      dropout: config.dropout,
      useRslora: config.useRslora,
      baseModel: config.baseModel,
      name: options.name,
    }, modules);
  } finally {
    src.close();
  }
}
