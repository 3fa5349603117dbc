/**
 * Shared pieces of the persona_vectors commands: model flags and opening (a local model directory
 * through the engine, or an OpenAI-compatible endpoint), artifact lookup, progress lines and
 * output.
 *
 * @module
 */

import { join } from "node:path";
import type { ChatModel, ChatRequest } from "../../../core/contracts/chat_model.ts";
import type { CommandContext, FlagSpec, ParsedArgs } from "../../../core/contracts/plugin.ts";
import { UsageError, withCode } from "../../../core/errors.ts";
import { readDecoderConfig } from "../../../core/model/config.ts";
import type { Engine } from "../../../core/model/engine.ts";
import { resolveModel } from "../../../core/model/model_dir.ts";
import type { ModelHub } from "../../../core/services/model_hub.ts";
import { loadLora } from "../../lora/mod.ts";
import { chatPrompt } from "../model_states.ts";
import type { StoredRow } from "../rows_file.ts";
import {
  loadTraitArtifact,
  SHIPPED_TRAITS,
  SHIPPED_TRAITS_DIR,
  type TraitArtifact,
} from "../trait_artifact.ts";

/** Flags that pick the model a command talks to. */
export const MODEL_FLAGS: Record<string, FlagSpec> = {
  model: { type: "string", description: "local model directory or hub id (run by the engine)" },
  "base-url": {
    type: "string",
    description: "OpenAI-compatible endpoint instead of --model (e.g. http://127.0.0.1:8000/v1)",
  },
  "api-model": { type: "string", description: "model name at --base-url" },
  "api-key": { type: "string", description: "API key for --base-url (default OPENAI_API_KEY)" },
  threads: { type: "number", description: "onnxruntime threads for a local model" },
};

/** Flags of the judge model (same choices as the model, prefixed `judge-`). */
export const JUDGE_FLAGS: Record<string, FlagSpec> = {
  "judge-model": {
    type: "string",
    description: "local judge model directory (each number 0-100 scored as a token sequence)",
  },
  "judge-base-url": {
    type: "string",
    description: "OpenAI-compatible judge endpoint (top_logprobs scoring), e.g. our own server",
  },
  "judge-api-model": { type: "string", description: "judge model name at --judge-base-url" },
  "min-mass": {
    type: "number",
    description: "numeric probability mass floor (default 0.25; lower only for tiny test models)",
  },
};

/** A model opened for a command, with what must be closed afterwards. */
export interface OpenedModel {
  chat: ChatModel;
  /** Present for local models. */
  engine?: Engine;
  close(): Promise<void>;
}

const str = (args: ParsedArgs, name: string) =>
  typeof args.flags[name] === "string" ? args.flags[name] as string : undefined;
const num = (args: ParsedArgs, name: string) =>
  typeof args.flags[name] === "number" ? args.flags[name] as number : undefined;

export { num, str };

/**
 * Opens `--model` (engine with steering inputs, persona-vector steering wired) or
 * `--base-url`/`--api-model` (OpenAI-compatible client). `prefix` selects `judge-` flags.
 *
 * @example
 * ```ts ignore
 * import { openModel } from "./common.ts";
 * const m = await openModel(args, ctx);
 * try { await m.chat.chat({ messages: [{ role: "user", content: "Hi" }] }); } finally { await m.close(); }
 * ```
 */
export async function openModel(
  args: ParsedArgs,
  ctx: Pick<CommandContext, "log" | "models">,
  prefix = "",
  required = true,
): Promise<OpenedModel | undefined> {
  const dir = str(args, `${prefix}model`);
  const baseURL = str(args, `${prefix}base-url`);
  if (dir && baseURL) {
    throw new UsageError(`pass --${prefix}model or --${prefix}base-url, not both`);
  }
  if (baseURL) {
    const chat = await ctx.models.chatModel(
      { kind: "url", baseURL: baseURL.replace(/\/+$/, ""), model: str(args, `${prefix}api-model`) },
      { apiKey: str(args, "api-key"), retries: 0 },
    );
    return { chat, close: () => Promise.resolve() };
  }
  if (dir) {
    const engine = await ctx.models.with({ onProgress: (s) => ctx.log(`${prefix}model: ${s}`) })
      .openEngine(dir, { steering: true, threads: num(args, "threads") });
    return {
      chat: await ctx.models.localChatModel(engine),
      engine,
      close: () => engine.close(),
    };
  }
  if (!required) return undefined;
  throw new UsageError(
    `give --${prefix}model <dir> (a local model) or --${prefix}base-url <url> with --${prefix}api-model <name>`,
  );
}

/**
 * Loads a trait artifact by path or shipped name (`optimistic`, …).
 *
 * @example
 * ```ts ignore
 * import { resolveArtifact } from "./common.ts";
 * const a = await resolveArtifact("optimistic");
 * ```
 */
export async function resolveArtifact(ref: string): Promise<TraitArtifact> {
  if (SHIPPED_TRAITS.includes(ref)) {
    return loadTraitArtifact(join(SHIPPED_TRAITS_DIR, `${ref}.json`));
  }
  const exists = await Deno.stat(ref).then((s) => s.isFile, () => false);
  if (!exists) {
    throw withCode(
      new RangeError(
        `--trait ${ref} is neither a shipped trait nor a file; shipped traits: ${
          SHIPPED_TRAITS.join(", ")
        }; or pass an artifact path (e.g. an upstream ` +
          `persona_vectors/data_generation/trait_data_extract/${ref}.json)`,
      ),
      "E_USAGE",
    );
  }
  return loadTraitArtifact(ref);
}

/** A throttled `done/total` progress logger. */
export function progress(
  ctx: Pick<CommandContext, "log">,
  label: string,
): (done: number, total: number) => void {
  let last = 0;
  return (done, total) => {
    const now = Date.now();
    if (done === total || now - last > 1000) {
      last = now;
      ctx.log(`${label}: ${done}/${total}`);
    }
  };
}

/** Prints the command's result: one JSON document with `--json`, else the human lines. */
export function emit(ctx: Pick<CommandContext, "json">, doc: unknown, human: string[]): void {
  if (ctx.json) console.log(JSON.stringify(doc, null, 2));
  else console.log(human.join("\n"));
}

/** A required string flag. */
export function need(args: ParsedArgs, name: string, command: string): string {
  const v = str(args, name);
  if (v === undefined || v === "") {
    throw new UsageError(`persona_vectors ${command}: --${name} is required`);
  }
  return v;
}

/** `--config` as inline JSON or the path of a JSON file; `{}` when the flag is absent. */
export async function configFlag(args: ParsedArgs): Promise<Record<string, unknown>> {
  const cfg = str(args, "config");
  if (!cfg) return {};
  try {
    return JSON.parse(cfg.trim().startsWith("{") ? cfg : await Deno.readTextFile(cfg));
  } catch (e) {
    throw new UsageError(
      `--config is not JSON or a readable JSON file: ${(e as Error).message}`,
      "E_CONFIG",
    );
  }
}

/** One greedy reply per question (seed 0), as unjudged rows ready for judging and projection. */
export async function greedyRows(
  engine: Engine,
  questions: readonly string[],
  maxNewTokens: number,
): Promise<StoredRow[]> {
  const rows: StoredRow[] = [];
  for (const [q, question] of questions.entries()) {
    const messages = [{ role: "user" as const, content: question }];
    const g = await engine.generate(messages, { maxNewTokens, temperature: 0, seed: 0 });
    rows.push({
      question_id: q,
      instruction_index: 0,
      sample: 0,
      question,
      prompt: chatPrompt(engine, messages),
      answer: g.completions[0].text,
      trait: null,
      coherence: null,
    });
  }
  return rows;
}

/** A ChatModel that drops `response_format` (for local models without a constraint compiler). */
export function withoutResponseFormat(model: ChatModel): ChatModel {
  const strip = (r: ChatRequest): ChatRequest => {
    const { response_format: _f, ...rest } = r;
    return rest;
  };
  return {
    id: model.id,
    chat: (r) => model.chat(strip(r)),
    stream: (r) => model.stream(strip(r)),
  };
}

/** Parses repeated `--steer vector:coefficient:layer[:positions[:type]]` flags. */
export function parseSteerFlags(
  values: readonly string[],
  defaults: { layer?: number; positions?: "all" | "prompt" | "response" } = {},
): {
  vector: string;
  coefficient: number;
  layer: number;
  positions: "all" | "prompt" | "response";
  type: "add" | "ablate";
}[] {
  return values.map((v) => {
    // Split from the right so Windows-style or colon-bearing paths keep working.
    const parts = v.split(":");
    const bad = () =>
      new UsageError(
        `--steer "${v}" must look like <vector>:<coefficient>[:<layer>[:<all|prompt|response>[:<add|ablate>]]]`,
      );
    let i = parts.length - 1;
    const tail: string[] = [];
    while (
      i > 0 && tail.length < 4 && /^(-?[0-9.e+-]+|all|prompt|response|add|ablate)$/.test(parts[i])
    ) {
      tail.unshift(parts[i]);
      i--;
    }
    const vector = parts.slice(0, i + 1).join(":");
    const [c, l, p, t] = tail;
    const coefficient = Number(c);
    const layer = l === undefined ? defaults.layer : Number(l);
    if (
      !vector || !Number.isFinite(coefficient) || layer === undefined || !Number.isInteger(layer)
    ) {
      throw bad();
    }
    const positions = (p ?? defaults.positions ?? "response") as "all" | "prompt" | "response";
    const type = (t ?? "add") as "add" | "ablate";
    if (!["all", "prompt", "response"].includes(positions) || !["add", "ablate"].includes(type)) {
      throw bad();
    }
    return { vector, coefficient, layer, positions, type };
  });
}

/**
 * Loads a local engine, optionally with a PEFT LoRA adapter directory attached (a finetuned
 * checkpoint of the `lora` trainer).
 *
 * @example
 * ```ts ignore
 * import { openEngine } from "./common.ts";
 * const engine = await openEngine(ctx.models, "./models/qwen", { adapter: "runs/ft/adapter" });
 * ```
 */
export async function openEngine(
  models: ModelHub,
  dir: string,
  options: { adapter?: string; threads?: number; steering?: boolean; log?: (s: string) => void } =
    {},
): Promise<Engine> {
  const adapters = [];
  if (options.adapter) {
    const { dir: modelDir } = await resolveModel(dir);
    adapters.push(await loadLora(options.adapter, await readDecoderConfig(modelDir)));
  }
  return await models.with({ onProgress: options.log }).openEngine(dir, {
    steering: options.steering ?? false,
    threads: options.threads,
    adapters,
  });
}
