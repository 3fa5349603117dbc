/**
 * Identity-expert checkpoints: a directory with
 *
 * - `hirpf_config.json` — the adapter configuration (snake_case, PEFT-like field names):
 *   `format` (`"dramatis.hirpf"`), `format_version` (1), `base_model`, `num_layers`,
 *   `adapter_names` (the expert groups), `professions`, `insert_mode`, `sparse`, `train_gates`,
 *   `mask_mode`, `r`, `lora_alpha`, `lora_dropout`, `target_modules`, `hard_mask_value` (−5e4, informative);
 * - `hirpf_model.safetensors` — float32 tensors, one LoRA pair per (block, projection, group,
 *   expert) and one gate per (block, projection, group):
 *   `layers.{i}.attn.{proj}.{group}.{expert}.lora_A` `[r, in]`,
 *   `layers.{i}.attn.{proj}.{group}.{expert}.lora_B` `[out, r]`,
 *   `layers.{i}.attn.{proj}.{group}.gate.weight` `[|group|, in]`,
 *   `layers.{i}.attn.{proj}.{group}.gate.bias` `[|group|]`
 *   (i = 0-based decoder block, group = index into `adapter_names`, expert = identity name).
 *
 * Float32 values are written and read unchanged, so save / load is bit-exact.
 *
 * @module
 */

import { join } from "node:path";
import { withCode } from "../../core/errors.ts";
import type { LinearHook } from "../../core/contracts/adapter.ts";
import {
  type RawTensor,
  SafetensorsFile,
  toFloat32,
  writeSafetensors,
} from "../../core/model/safetensors.ts";
import { writeJsonAtomic } from "../../core/util/atomic.ts";
import {
  IDENTITY_TARGET_MODULES,
  type IdentityAdapterConfig,
  type IdentityAdapterOptions,
  resolveIdentityAdapterConfig,
} from "./adapter_config.ts";
import { checkpointExpertNames, identityHookName, numLayersOfHooks } from "./adapter_layout.ts";
import type { Float32Tensor } from "./adapter_tensors.ts";
import { groupsForLayer, INSERT_MODES } from "./identities.ts";
import { HARD_MASK_VALUE } from "./gate_math.ts";

/** File name of the configuration. */
export const IDENTITY_CONFIG_FILE = "hirpf_config.json";
/** File name of the weights. */
export const IDENTITY_WEIGHTS_FILE = "hirpf_model.safetensors";
/** The `format` tag of the configuration. */
export const IDENTITY_CHECKPOINT_FORMAT = "dramatis.hirpf";

/** The JSON configuration as written. */
export interface IdentityCheckpointConfig {
  format: typeof IDENTITY_CHECKPOINT_FORMAT;
  format_version: 1;
  base_model: string | null;
  num_layers: number;
  adapter_names: string[][];
  professions: string[];
  insert_mode: IdentityAdapterConfig["insertMode"];
  sparse: boolean;
  train_gates: boolean;
  mask_mode: IdentityAdapterConfig["maskMode"];
  r: number;
  lora_alpha: number;
  lora_dropout: number;
  target_modules: IdentityAdapterConfig["targetModules"];
  hard_mask_value: number;
}

/** What {@link writeIdentityCheckpoint} writes. */
export interface IdentityCheckpointState {
  config: IdentityAdapterConfig;
  numLayers: number;
  /** Per-expert tensors named as the module docs say. */
  tensors: ReadonlyMap<string, Float32Tensor>;
}

/** What {@link readIdentityCheckpoint} returns. */
export interface LoadedIdentityCheckpoint {
  /** Adapter options equivalent to the JSON config. */
  options: IdentityAdapterOptions;
  /** The parsed JSON config. */
  json: IdentityCheckpointConfig;
  /** The hooks to build on: the model's when given, else derived from the tensor shapes. */
  hooks: LinearHook[];
  tensors: Map<string, Float32Tensor>;
  /** Path of the weights file (for error messages). */
  weightsFile: string;
}

/**
 * The JSON config of an adapter configuration.
 *
 * @example
 * ```ts
 * import { checkpointConfigJson } from "./checkpoint.ts";
 * import { resolveIdentityAdapterConfig } from "./adapter_config.ts";
 * console.log(checkpointConfigJson(resolveIdentityAdapterConfig(), 32).insert_mode); // "alternate"
 * ```
 */
export function checkpointConfigJson(
  config: IdentityAdapterConfig,
  numLayers: number,
): IdentityCheckpointConfig {
  return {
    format: IDENTITY_CHECKPOINT_FORMAT,
    format_version: 1,
    base_model: config.baseModel,
    num_layers: numLayers,
    adapter_names: config.groups.map((g) => [...g]),
    professions: [...config.professions],
    insert_mode: config.insertMode,
    sparse: config.sparse,
    train_gates: config.trainGates,
    mask_mode: config.maskMode,
    r: config.r,
    lora_alpha: config.alpha,
    lora_dropout: config.dropout,
    target_modules: [...config.targetModules],
    hard_mask_value: HARD_MASK_VALUE,
  };
}

/**
 * Writes `hirpf_config.json` and `hirpf_model.safetensors` into `dir` (created if needed), each
 * atomically.
 *
 * @example
 * ```ts
 * import { writeIdentityCheckpoint } from "./checkpoint.ts";
 * import { IdentityAdapter } from "./adapter.ts";
 * declare const adapter: IdentityAdapter;
 * await writeIdentityCheckpoint("/tmp/his", {
 *   config: adapter.config, numLayers: adapter.numLayers, tensors: adapter.checkpointTensors(),
 * });
 * ```
 */
export async function writeIdentityCheckpoint(
  dir: string,
  state: IdentityCheckpointState,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const tensors = new Map<string, RawTensor>();
  for (const [name, t] of state.tensors) {
    tensors.set(name, { dtype: "F32", shape: [...t.shape], data: t.data });
  }
  await writeSafetensors(join(dir, IDENTITY_WEIGHTS_FILE), tensors, {
    format: "pt",
    "dramatis.kind": "hirpf",
  });
  await writeJsonAtomic(
    join(dir, IDENTITY_CONFIG_FILE),
    checkpointConfigJson(state.config, state.numLayers),
  );
}

function configError(file: string, message: string): RangeError {
  return withCode(new RangeError(`${file}: ${message}`), "E_CONFIG");
}

/**
 * Parses and validates a checkpoint config object; errors name the file, the field and the fix.
 *
 * @example
 * ```ts
 * import { checkpointConfigJson, parseCheckpointConfig } from "./checkpoint.ts";
 * import { resolveIdentityAdapterConfig } from "./adapter_config.ts";
 * const json = checkpointConfigJson(resolveIdentityAdapterConfig({ r: 4 }), 2);
 * console.log(parseCheckpointConfig(json, "hirpf_config.json").options.r); // 4
 * ```
 */
export function parseCheckpointConfig(
  raw: unknown,
  file: string,
): { json: IdentityCheckpointConfig; options: IdentityAdapterOptions } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw configError(file, `the config is ${JSON.stringify(raw)}; it must be a JSON object`);
  }
  const o = raw as Record<string, unknown>;
  if (o.format !== IDENTITY_CHECKPOINT_FORMAT) {
    throw configError(
      file,
      `format is ${JSON.stringify(o.format)}; expected "${IDENTITY_CHECKPOINT_FORMAT}" — ` +
        `this is not an identity-expert checkpoint (a PEFT LoRA loads with the lora plugin)`,
    );
  }
  if (o.format_version !== 1) {
    throw configError(
      file,
      `format_version is ${JSON.stringify(o.format_version)}; this version reads 1`,
    );
  }
  const need = (key: string, ok: (v: unknown) => boolean, what: string) => {
    if (!ok(o[key])) {
      throw configError(file, `field "${key}" is ${JSON.stringify(o[key])}; it must be ${what}`);
    }
  };
  const isStrings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");
  need("num_layers", (v) => Number.isInteger(v) && (v as number) >= 1, "a whole number >= 1");
  need("professions", isStrings, "an array of profession names");
  need(
    "insert_mode",
    (v) => (INSERT_MODES as readonly unknown[]).includes(v),
    `one of ${INSERT_MODES.join(", ")}`,
  );
  need("sparse", (v) => typeof v === "boolean", "true or false");
  need("train_gates", (v) => typeof v === "boolean", "true or false");
  need(
    "mask_mode",
    (v) => v === undefined || v === "multiply" || v === "exclude",
    '"multiply" or "exclude"',
  );
  need("r", (v) => Number.isInteger(v) && (v as number) >= 1, "a whole number >= 1");
  need("lora_alpha", (v) => typeof v === "number" && v > 0, "a number > 0");
  need("lora_dropout", (v) => typeof v === "number" && v >= 0 && v < 1, "a probability in [0, 1)");
  need(
    "target_modules",
    (v) =>
      Array.isArray(v) && v.length > 0 &&
      v.every((x) => (IDENTITY_TARGET_MODULES as readonly unknown[]).includes(x)),
    `a non-empty array of ${IDENTITY_TARGET_MODULES.join(", ")}`,
  );
  need(
    "base_model",
    (v) => v === null || v === undefined || typeof v === "string",
    "a string or null",
  );
  need("adapter_names", (v) => Array.isArray(v) && v.every(isStrings), "an array of name arrays");
  const options: IdentityAdapterOptions = {
    professions: o.professions as string[],
    insertMode: o.insert_mode as IdentityAdapterConfig["insertMode"],
    sparse: o.sparse as boolean,
    trainGates: o.train_gates as boolean,
    maskMode: (o.mask_mode as IdentityAdapterConfig["maskMode"] | undefined) ?? "exclude",
    r: o.r as number,
    alpha: o.lora_alpha as number,
    dropout: o.lora_dropout as number,
    targetModules: o.target_modules as IdentityAdapterConfig["targetModules"],
    baseModel: (o.base_model as string | null | undefined) ?? null,
  };
  let resolved: IdentityAdapterConfig;
  try {
    resolved = resolveIdentityAdapterConfig(options);
  } catch (error) {
    throw configError(file, (error as Error).message);
  }
  if (JSON.stringify(resolved.groups) !== JSON.stringify(o.adapter_names)) {
    throw configError(
      file,
      `adapter_names ${JSON.stringify(o.adapter_names)} do not match insert_mode ` +
        `"${resolved.insertMode}" with professions ${JSON.stringify(resolved.professions)} ` +
        `(expected ${
          JSON.stringify(resolved.groups)
        }); the file was edited or written by another tool`,
    );
  }
  return { json: checkpointConfigJson(resolved, o.num_layers as number), options };
}

/**
 * Reads a checkpoint directory. With `hooks` (a decoder's `decoderHooks(config)`) the block count
 * is checked against the config and the caller checks tensor shapes against those hooks; without,
 * hooks are derived from the tensors. Errors name the file, the tensor or field, and the fix.
 *
 * @example
 * ```ts
 * import { readIdentityCheckpoint } from "./checkpoint.ts";
 * const ckpt = await readIdentityCheckpoint("./runs/his/checkpoint-500");
 * console.log(ckpt.json.insert_mode, ckpt.tensors.size);
 * ```
 */
export async function readIdentityCheckpoint(
  dir: string,
  options: { hooks?: readonly LinearHook[] } = {},
): Promise<LoadedIdentityCheckpoint> {
  const configFile = join(dir, IDENTITY_CONFIG_FILE);
  const weightsFile = join(dir, IDENTITY_WEIGHTS_FILE);
  let text: string;
  try {
    text = await Deno.readTextFile(configFile);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw withCode(
        new TypeError(
          `${configFile}: file not found; an identity-expert checkpoint holds ${IDENTITY_CONFIG_FILE} ` +
            `and ${IDENTITY_WEIGHTS_FILE} (written by IdentityAdapter.save)`,
        ),
        "E_CONFIG",
      );
    }
    throw error;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw withCode(
      new SyntaxError(
        `${configFile}: not valid JSON (${(error as Error).message}); fix or re-save it`,
      ),
      "E_CONFIG",
    );
  }
  const { json, options: adapterOptions } = parseCheckpointConfig(raw, configFile);

  const file = await SafetensorsFile.open(weightsFile);
  const tensors = new Map<string, Float32Tensor>();
  try {
    for (const name of file.names()) {
      const t = await file.read(name);
      if (!["F32", "F16", "BF16", "F64"].includes(t.dtype)) {
        throw withCode(
          new TypeError(
            `${weightsFile}: tensor "${name}" has dtype ${t.dtype}; identity-expert weights are ` +
              `floats (F32, or F16 / BF16 / F64 converted on load) — re-save the checkpoint`,
          ),
          "E_WEIGHTS",
        );
      }
      tensors.set(name, { shape: t.shape, data: toFloat32(t) });
    }
  } finally {
    file.close();
  }

  let hooks: LinearHook[];
  if (options.hooks) {
    hooks = options.hooks.map((h) => ({ ...h }));
    const n = numLayersOfHooks(hooks);
    if (n !== json.num_layers) {
      throw withCode(
        new RangeError(
          `${configFile}: num_layers is ${json.num_layers} but the model has ${n} decoder blocks; ` +
            `load the checkpoint with the base model it was trained on${
              json.base_model ? ` (${json.base_model})` : ""
            }`,
        ),
        "E_WEIGHTS",
      );
    }
  } else {
    hooks = deriveHooks(json, tensors, weightsFile);
  }
  return { options: adapterOptions, json, hooks, tensors, weightsFile };
}

/** Hooks with in/out sizes read off each module's first expert (shapes checked later). */
function deriveHooks(
  json: IdentityCheckpointConfig,
  tensors: ReadonlyMap<string, Float32Tensor>,
  weightsFile: string,
): LinearHook[] {
  const hooks: LinearHook[] = [];
  const groupCount = json.adapter_names.length;
  for (let layer = 0; layer < json.num_layers; layer++) {
    const group = groupsForLayer(layer, json.insert_mode, json.num_layers, groupCount)[0];
    for (const proj of json.target_modules) {
      const hook = identityHookName(layer, proj);
      const names = checkpointExpertNames({ hook, group }, json.adapter_names[group][0]);
      const a = tensors.get(names.loraA);
      const b = tensors.get(names.loraB);
      for (const [name, t] of [[names.loraA, a], [names.loraB, b]] as const) {
        if (!t || t.shape.length !== 2) {
          throw withCode(
            new RangeError(
              `${weightsFile}: tensor "${name}" is ${
                t ? `of shape [${t.shape}]` : "missing"
              }; the config needs a 2-D LoRA matrix there — the weights do not match ${IDENTITY_CONFIG_FILE}`,
            ),
            "E_WEIGHTS",
          );
        }
      }
      hooks.push({ name: hook, layer, inFeatures: a!.shape[1], outFeatures: b!.shape[0] });
    }
  }
  return hooks;
}
