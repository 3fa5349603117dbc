/**
 * What the macm commands share: the model, cache and sampling flags, opening the models behind
 * one SQLite cache, loading a character with its memory, and printing a result as JSON or text.
 *
 * @module
 */

import type { CommandContext, FlagSpec, ParsedArgs } from "../../core/contracts/plugin.ts";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import type { ModelHub } from "../../core/services/model_hub.ts";
import { UsageError } from "../../core/errors.ts";
import { type CharacterFolder, loadCharacterDir, shippedCharacterDir } from "./character_dir.ts";
import { CachedEmbedder, type Embedder, openEmbedder } from "./embeddings.ts";
import { loadMemory } from "./memory_build.ts";
import { openChatModel, type OpenedModel } from "./model_spec.ts";
import { buildRagIndex, type RagIndex } from "./rag.ts";
import { Simulacrum, type SimulacrumMethod } from "./simulacrum.ts";

/** The default cache file (relative to the working directory). */
export const DEFAULT_CACHE = ".cache/dramatis/macm.sqlite";

/** The `--model` flag text. */
export const MODEL_HELP = "chat model: a local model directory, openai:<name>, or " +
  "http://host:port/v1#<name> (an OpenAI-compatible server)";

/** Flags of every command that calls a model. */
export const MODEL_FLAGS: Record<string, FlagSpec> = {
  model: { type: "string", required: true, description: MODEL_HELP },
  "agent-model": {
    type: "string",
    description: "model of the memory, thinking and emotion agents (default: --model)",
  },
  cache: {
    type: "string",
    default: DEFAULT_CACHE,
    description: "SQLite file caching every model call, so a rerun calls no model ('off': none)",
  },
  seed: { type: "number", default: 0, description: "seed of sampling and of random choices" },
  "max-tokens": {
    type: "number",
    default: 1024,
    description: "max_tokens of the simulacrum's answers",
  },
  "agent-max-tokens": {
    type: "number",
    description: "max_tokens of each agent call (default: the model's own default)",
  },
  temperature: {
    type: "number",
    default: 0.7,
    description: "temperature of the simulacrum's answers (agents use 0)",
  },
};

/** The `--character` and `--memory` flags. */
export const CHARACTER_FLAGS: Record<string, FlagSpec> = {
  character: {
    type: "string",
    description: "character folder (profile.json, biography.txt, story.txt, questions/); " +
      "default: the shipped hazel_okafor",
  },
  memory: {
    type: "string",
    description: "memory folder with index.json and long_memory.json (default: <character>/memory)",
  },
};

/** The `--embed` flag. */
export const EMBED_FLAG: Record<string, FlagSpec> = {
  embed: {
    type: "string",
    description: "embeddings for rag / expansion: a local model directory (mean-pooled hidden " +
      "states of our engine), openai:<name>, or http://host:port/v1#<name> (default: --model " +
      "when it is a local directory)",
  },
};

/** Reads a flag as a string, or undefined. */
export function str(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return v === undefined || v === "" ? undefined : String(v);
}

/** Reads a number flag, checking it is a whole number >= `min` when `int`. */
export function num(
  args: ParsedArgs,
  name: string,
  check: { int?: boolean; min?: number } = {},
): number | undefined {
  const v = args.flags[name];
  if (v === undefined) return undefined;
  const n = typeof v === "number" ? v : Number(v);
  if (
    !Number.isFinite(n) || (check.int && !Number.isInteger(n)) ||
    (check.min !== undefined && n < check.min)
  ) {
    throw new UsageError(
      `--${name} is ${JSON.stringify(v)}; pass a ${check.int ? "whole " : ""}number${
        check.min !== undefined ? ` >= ${check.min}` : ""
      }`,
    );
  }
  return n;
}

/** The models a command uses, behind one cache file. */
export interface CommandModels {
  /** The command's model hub (local embedders load through it). */
  hub: ModelHub;
  simulacrum: ChatModel;
  agent: ChatModel;
  /** Model calls that missed the cache (the number of real calls) and cache hits. */
  stats(): { calls: number; cached: number };
  close(): void;
}

/**
 * Opens `--model` and `--agent-model` behind the `--cache` file.
 *
 * @example
 * ```ts ignore
 * import { openCommandModels } from "./cli_support.ts";
 * declare const args: import("../../core/contracts/plugin.ts").ParsedArgs;
 * const models = await openCommandModels(args, ctx);
 * ```
 */
export async function openCommandModels(
  args: ParsedArgs,
  ctx: Pick<CommandContext, "models">,
): Promise<CommandModels> {
  const model = str(args, "model");
  if (!model) throw new UsageError(`--model is required (${MODEL_HELP})`);
  const cacheFlag = str(args, "cache") ?? DEFAULT_CACHE;
  const cache = cacheFlag === "off" ? undefined : cacheFlag;
  const opened: OpenedModel[] = [await openChatModel(model, { cache, models: ctx.models })];
  const agentSpec = str(args, "agent-model");
  if (agentSpec && agentSpec !== model) {
    opened.push(await openChatModel(agentSpec, { cache, models: ctx.models }));
  }
  return {
    hub: ctx.models,
    simulacrum: opened[0].model,
    agent: opened[opened.length - 1].model,
    stats() {
      let calls = 0, cached = 0;
      for (const o of opened) {
        calls += o.cache?.stats.misses ?? 0;
        cached += o.cache?.stats.hits ?? 0;
      }
      return { calls, cached };
    },
    close() {
      for (const o of opened) o.close();
    },
  };
}

/**
 * Opens the `--embed` embedder (default: `--model` when it is a local directory), cached in the
 * `--cache` file.
 */
export async function openCommandEmbedder(
  args: ParsedArgs,
  ctx: Pick<CommandContext, "models">,
): Promise<Embedder & { close(): void }> {
  const model = str(args, "model") ?? "";
  const spec = str(args, "embed") ??
    (model && !model.startsWith("openai:") && !/^https?:/i.test(model) ? model : undefined);
  if (!spec) {
    throw new UsageError(
      "--embed is needed when --model is not a local directory; pass a model directory, " +
        "openai:<name> or http://host:port/v1#<name>",
    );
  }
  const inner = await openEmbedder(spec, ctx.models);
  const cacheFlag = str(args, "cache") ?? DEFAULT_CACHE;
  if (cacheFlag === "off") return { ...inner, close: () => {} };
  const cached = new CachedEmbedder(inner, cacheFlag);
  return { id: cached.id, embed: cached.embed, close: () => cached.close() };
}

/** Loads `--character` (default: shipped) with `--memory` when given. */
export async function loadCommandCharacter(args: ParsedArgs): Promise<CharacterFolder> {
  const dir = str(args, "character") ?? shippedCharacterDir();
  const character = await loadCharacterDir(dir);
  const memory = str(args, "memory");
  if (memory) character.memory = await loadMemory(memory);
  return character;
}

/** Parses `--methods none,prompt,rag,macm`. */
export function parseMethods<T extends string>(value: string, allowed: readonly T[]): T[] {
  const list = value.split(",").map((s) => s.trim()).filter(Boolean);
  const bad = list.filter((m) => !(allowed as readonly string[]).includes(m));
  if (bad.length || list.length === 0) {
    throw new UsageError(
      `--methods is '${value}'; pass a comma-separated list of ${allowed.join(", ")}`,
    );
  }
  return [...new Set(list)] as T[];
}

/**
 * Prints a command's result: the JSON document with `--json`, else the human lines.
 *
 * @example
 * ```ts
 * import { emit } from "./cli_support.ts";
 * emit({ json: false, log: () => {}, signal: new AbortController().signal }, { ok: 1 }, ["ok"]);
 * ```
 */
export function emit(ctx: CommandContext, value: unknown, lines: string[]): void {
  if (ctx.json) console.log(JSON.stringify(value, null, 2));
  else for (const l of lines) console.log(l);
}

/** Builds simulacra of one character for the methods a command runs. */
export interface SimulacrumMaker {
  make(method: SimulacrumMethod): Promise<Simulacrum>;
  close(): void;
}

/**
 * A maker of simulacra over the command's models and flags; the `rag` story index is embedded
 * once, on first use, and `macm` checks that the character has a memory.
 *
 * @example
 * ```ts ignore
 * import { simulacrumMaker } from "./cli_support.ts";
 * declare const args: import("../../core/contracts/plugin.ts").ParsedArgs;
 * declare const character: import("./character_dir.ts").CharacterFolder;
 * declare const models: import("./cli_support.ts").CommandModels;
 * const s = await simulacrumMaker(args, character, models).make("prompt");
 * ```
 */
export function simulacrumMaker(
  args: ParsedArgs,
  character: CharacterFolder,
  models: CommandModels,
  signal?: AbortSignal,
): SimulacrumMaker {
  let embedder: (Embedder & { close(): void }) | undefined;
  let rag: Promise<RagIndex> | undefined;
  return {
    async make(method) {
      if (method === "macm" && !character.memory) {
        throw new UsageError(
          `method macm needs ${character.profile.Name}'s memory: build it with ` +
            "'macm build-memory --out <dir>' and pass --memory <dir>",
          "E_CONFIG",
        );
      }
      if (method === "rag" && !rag) {
        rag = (async () => {
          embedder = await openCommandEmbedder(args, { models: models.hub });
          return buildRagIndex(character.story.join("\n"), embedder.embed);
        })();
      }
      return new Simulacrum({
        method,
        character,
        simulacrum: models.simulacrum,
        agent: models.agent,
        rag: method === "rag" ? await rag : undefined,
        agentMaxTokens: num(args, "agent-max-tokens", { int: true, min: 1 }),
        maxTokens: num(args, "max-tokens", { int: true, min: 1 }),
        temperature: num(args, "temperature", { min: 0 }),
        seed: num(args, "seed", { int: true }),
        signal,
      });
    },
    close() {
      embedder?.close();
    },
  };
}
