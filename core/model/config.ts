/**
 * Parses a Hugging Face `config.json` of a Llama-family decoder (Llama 2 / 3.x, Mistral,
 * Qwen2 / 2.5, Qwen3, SmolLM) into the normalized {@link DecoderConfig} the graph builder uses.
 *
 * @module
 */

import { z } from "zod";
import { withCode } from "../errors.ts";

/** Rotary-embedding scaling, when the checkpoint uses one. */
export type RopeScaling =
  | null
  | {
    type: "llama3";
    factor: number;
    lowFreqFactor: number;
    highFreqFactor: number;
    originalMaxPositionEmbeddings: number;
  }
  | { type: "linear"; factor: number };

/**
 * The normalized decoder configuration. Field names are camelCase versions of the config.json
 * fields; defaults follow Hugging Face `transformers`.
 *
 * @example
 * ```ts
 * import { type DecoderConfig, parseDecoderConfig } from "./config.ts";
 * const cfg: DecoderConfig = parseDecoderConfig({ model_type: "llama", vocab_size: 8,
 *   hidden_size: 4, intermediate_size: 8, num_hidden_layers: 1, num_attention_heads: 2 }, "inline");
 * cfg.headDim; // 2
 * ```
 */
export interface DecoderConfig {
  /** `model_type`. */
  modelType: "llama" | "mistral" | "qwen2" | "qwen3";
  /** Rows of the embedding and of lm_head. */
  vocabSize: number;
  /** Model width d. */
  hiddenSize: number;
  /** MLP width (gate/up output size). */
  intermediateSize: number;
  /** Number of decoder blocks L (`num_hidden_layers`). */
  numLayers: number;
  /** Query heads. */
  numHeads: number;
  /** Key/value heads (GQA when below numHeads; defaults to numHeads). */
  numKvHeads: number;
  /** Per-head size: `head_dim`, else hiddenSize / numHeads. */
  headDim: number;
  /** RMSNorm epsilon (default 1e-6). */
  rmsNormEps: number;
  /** RoPE base (default 10000). */
  ropeTheta: number;
  /** RoPE frequency scaling, or null. */
  ropeScaling: RopeScaling;
  /** `max_position_embeddings` (default 2048). */
  maxPositionEmbeddings: number;
  /** lm_head shares the embedding matrix (no `lm_head.weight`). */
  tieWordEmbeddings: boolean;
  /** q/k/v projections have biases (always for qwen2, else `attention_bias`). */
  attentionBias: boolean;
  /** Per-head RMSNorm of q and k before RoPE (qwen3). */
  qkNorm: boolean;
  /** `bos_token_id`, or null. */
  bosTokenId: number | null;
  /** `eos_token_id` as a list (may be empty). */
  eosTokenIds: number[];
  /** `pad_token_id`, or null. */
  padTokenId: number | null;
  /** The original config.json object. */
  raw: Record<string, unknown>;
}

/** The `model_type` values Dramatis can build, with their `architectures` class names. */
export const SUPPORTED_MODEL_TYPES = {
  llama: "LlamaForCausalLM",
  mistral: "MistralForCausalLM",
  qwen2: "Qwen2ForCausalLM",
  qwen3: "Qwen3ForCausalLM",
} as const;

const posInt = z.number().int().positive();
const tokenId = z.number().int().nonnegative();

const schema = z.looseObject({
  model_type: z.string(),
  architectures: z.array(z.string()).optional(),
  vocab_size: posInt,
  hidden_size: posInt,
  intermediate_size: posInt,
  num_hidden_layers: posInt,
  num_attention_heads: posInt,
  num_key_value_heads: posInt.nullish(),
  head_dim: posInt.nullish(),
  rms_norm_eps: z.number().positive().nullish(),
  rope_theta: z.number().positive().nullish(),
  rope_scaling: z.looseObject({}).nullish(),
  rope_parameters: z.looseObject({}).nullish(),
  max_position_embeddings: posInt.nullish(),
  tie_word_embeddings: z.boolean().nullish(),
  attention_bias: z.boolean().nullish(),
  mlp_bias: z.boolean().nullish(),
  hidden_act: z.string().nullish(),
  bos_token_id: tokenId.nullish(),
  eos_token_id: z.union([tokenId, z.array(tokenId)]).nullish(),
  pad_token_id: tokenId.nullish(),
});

function bad(file: string, message: string, code: "E_CONFIG" | "E_MODEL_ARCH" = "E_CONFIG") {
  return withCode(new TypeError(`${file}: ${message}`), code);
}

function describe(value: unknown): string {
  return value === undefined ? "missing" : `${JSON.stringify(value)}`;
}

const FIX: Record<string, string> = {
  vocab_size: "set it to the number of rows of model.embed_tokens.weight",
  hidden_size: "set it to the model width",
  intermediate_size: "set it to the MLP width (rows of mlp.up_proj.weight)",
  num_hidden_layers: "set it to the number of decoder blocks",
  num_attention_heads: "set it to the number of query heads",
  eos_token_id: "use a token id or a list of token ids",
};

/**
 * Parses and validates a config.json object. Throws `TypeError` tagged `E_CONFIG` (a field is
 * missing or invalid; the message names the file, the field, its value and the fix) or
 * `E_MODEL_ARCH` (the architecture is not one of {@link SUPPORTED_MODEL_TYPES}).
 *
 * @example
 * ```ts
 * import { parseDecoderConfig } from "./config.ts";
 * const cfg = parseDecoderConfig(
 *   JSON.parse(await Deno.readTextFile("/models/tiny/config.json")),
 *   "/models/tiny/config.json",
 * );
 * console.log(cfg.numLayers, cfg.headDim);
 * ```
 */
export function parseDecoderConfig(json: unknown, file: string): DecoderConfig {
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw bad(file, `is ${describe(json)}, not a JSON object; use a Hugging Face config.json`);
  }
  const raw = json as Record<string, unknown>;
  const supported = Object.keys(SUPPORTED_MODEL_TYPES).join(", ");
  const modelType = raw.model_type;
  if (typeof modelType !== "string" || !(modelType in SUPPORTED_MODEL_TYPES)) {
    throw bad(
      file,
      `model_type is ${describe(modelType)}; supported model types are ${supported} ` +
        `(convert the model to one of them or pick a supported checkpoint)`,
      "E_MODEL_ARCH",
    );
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.join(".");
    let value: unknown = raw;
    for (const key of issue.path) value = (value as Record<PropertyKey, unknown>)?.[key as string];
    const fix = FIX[String(issue.path[0])] ?? "fix the value";
    throw bad(file, `field "${field}" is ${describe(value)}: ${issue.message}; ${fix}`);
  }
  const c = parsed.data;
  const type = modelType as DecoderConfig["modelType"];

  const arch = c.architectures?.[0];
  const allowed: string[] = Object.values(SUPPORTED_MODEL_TYPES);
  if (arch !== undefined && !allowed.includes(arch)) {
    throw bad(
      file,
      `architectures[0] is ${JSON.stringify(arch)}; supported architectures are ` +
        `${allowed.join(", ")} (model types ${supported})`,
      "E_MODEL_ARCH",
    );
  }
  if (c.hidden_act != null && c.hidden_act !== "silu") {
    throw bad(
      file,
      `hidden_act is ${JSON.stringify(c.hidden_act)}; only "silu" (SwiGLU) is supported`,
      "E_MODEL_ARCH",
    );
  }
  if (c.mlp_bias) {
    throw bad(
      file,
      `mlp_bias is true; MLP biases are not supported (use a model without)`,
      "E_MODEL_ARCH",
    );
  }

  const numHeads = c.num_attention_heads;
  const numKvHeads = c.num_key_value_heads ?? numHeads;
  if (numHeads % numKvHeads !== 0) {
    throw bad(
      file,
      `num_attention_heads ${numHeads} is not a multiple of num_key_value_heads ${numKvHeads}; ` +
        `grouped-query attention needs whole groups`,
    );
  }
  let headDim = c.head_dim ?? null;
  if (headDim === null) {
    if (c.hidden_size % numHeads !== 0) {
      throw bad(
        file,
        `head_dim is missing and hidden_size ${c.hidden_size} is not divisible by ` +
          `num_attention_heads ${numHeads}; add "head_dim"`,
      );
    }
    headDim = c.hidden_size / numHeads;
  }
  if (headDim % 2 !== 0) {
    throw bad(file, `head_dim is ${headDim}; rotary embeddings need an even head_dim`);
  }

  const ropeParams = (c.rope_parameters ?? null) as Record<string, unknown> | null;
  const ropeThetaRaw = c.rope_theta ?? ropeParams?.rope_theta ?? 10000;
  if (typeof ropeThetaRaw !== "number" || !(ropeThetaRaw > 0)) {
    throw bad(file, `rope_theta is ${describe(ropeThetaRaw)}; use a positive number such as 10000`);
  }
  const ropeScaling = parseRopeScaling(
    (c.rope_scaling ?? ropeParams ?? null) as Record<string, unknown> | null,
    file,
  );

  const eos = c.eos_token_id;
  return {
    modelType: type,
    vocabSize: c.vocab_size,
    hiddenSize: c.hidden_size,
    intermediateSize: c.intermediate_size,
    numLayers: c.num_hidden_layers,
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: c.rms_norm_eps ?? 1e-6,
    ropeTheta: ropeThetaRaw,
    ropeScaling,
    maxPositionEmbeddings: c.max_position_embeddings ?? 2048,
    tieWordEmbeddings: c.tie_word_embeddings ?? false,
    // Qwen2 always has q/k/v biases (its config has no attention_bias field).
    attentionBias: type === "qwen2" ? true : (c.attention_bias ?? false),
    qkNorm: type === "qwen3",
    bosTokenId: c.bos_token_id ?? null,
    eosTokenIds: eos == null ? [] : Array.isArray(eos) ? eos.slice() : [eos],
    padTokenId: c.pad_token_id ?? null,
    raw,
  };
}

function parseRopeScaling(rs: Record<string, unknown> | null, file: string): RopeScaling {
  if (rs === null) return null;
  const kind = rs.rope_type ?? rs.type;
  if (kind === undefined || kind === "default") return null;
  const num = (key: string, value: unknown): number => {
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw bad(file, `rope_scaling.${key} is ${describe(value)}; use a positive number`);
    }
    return value;
  };
  if (kind === "linear") return { type: "linear", factor: num("factor", rs.factor) };
  if (kind === "llama3") {
    const low = num("low_freq_factor", rs.low_freq_factor);
    const high = num("high_freq_factor", rs.high_freq_factor);
    if (high <= low) {
      throw bad(
        file,
        `rope_scaling.high_freq_factor ${high} is not above low_freq_factor ${low}; swap them`,
      );
    }
    return {
      type: "llama3",
      factor: num("factor", rs.factor),
      lowFreqFactor: low,
      highFreqFactor: high,
      originalMaxPositionEmbeddings: num(
        "original_max_position_embeddings",
        rs.original_max_position_embeddings,
      ),
    };
  }
  throw bad(
    file,
    `rope_scaling type is ${JSON.stringify(kind)}; supported rope scalings are "llama3" and ` +
      `"linear" (or null)`,
    "E_MODEL_ARCH",
  );
}

/**
 * Reads and parses `<dir>/config.json`. A missing or non-JSON file is a `TypeError` tagged
 * `E_MODEL_DIR` / `E_CONFIG` naming the path.
 *
 * @example
 * ```ts
 * import { readDecoderConfig } from "./config.ts";
 * const cfg = await readDecoderConfig("/models/tiny");
 * ```
 */
export async function readDecoderConfig(dir: string): Promise<DecoderConfig> {
  const file = `${dir.replace(/\/+$/, "")}/config.json`;
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw withCode(
        new TypeError(
          `${file} does not exist; a model directory needs a Hugging Face config.json ` +
            `(create one with \`deno task model new <dir>\` or point at a downloaded model)`,
        ),
        "E_MODEL_DIR",
      );
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw withCode(
      new SyntaxError(
        `${file} is not valid JSON (${(error as Error).message}); fix or re-download it`,
      ),
      "E_CONFIG",
    );
  }
  return parseDecoderConfig(json, file);
}
