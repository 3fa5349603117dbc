/**
 * MACM as a persona backend: a ChatModel whose replies come from a simulacrum of a character
 * folder. Every request is one chat-mode turn: the last user message is the stimulus, earlier
 * user/assistant messages become the coffee-shop record, and the message list of the final call
 * is rebuilt from scratch (spec §2.4 QUIRK). All agent calls and the final answer go to `base`.
 *
 * A persona selects it with `"backend": {"plugin": "macm", "options": {"character": "<dir>",
 * "memory": "<dir>"}}`.
 *
 * @module
 */

import type { ModelHub } from "../../core/services/model_hub.ts";
import { z } from "zod";
import { CachedChatModel } from "../../core/chat/cached_chat_model.ts";
import { responseToChunks } from "../../core/chat/chunks.ts";
import type {
  ChatChunk,
  ChatMessage,
  ChatModel,
  ChatRequest,
  ChatResponse,
} from "../../core/contracts/chat_model.ts";
import { withCode } from "../../core/errors.ts";
import { type CharacterFolder, loadCharacterDir, shippedCharacterDir } from "./character_dir.ts";
import { CachedEmbedder, type Embedder, openEmbedder } from "./embeddings.ts";
import { loadMemory } from "./memory_build.ts";
import { buildRagIndex, type RagIndex } from "./rag.ts";
import {
  type Exchange,
  Simulacrum,
  SIMULACRUM_METHODS,
  type SimulacrumTurn,
} from "./simulacrum.ts";

/** A persona's `backend.options` for MACM. */
export const macmBackendOptionsSchema = z.object({
  /** The backend's name inside the plugin (the host picks `macm`). */
  backend: z.string().optional(),
  /** A character folder (default: the shipped character). */
  character: z.string().min(1).optional(),
  /** A folder with `index.json` and `long_memory.json` (default `<character>/memory`). */
  memory: z.string().min(1).optional(),
  method: z.enum(SIMULACRUM_METHODS).optional(),
  memoryLimit: z.number().int().min(1).optional(),
  /** Defaults of the final answer, when the request sets none. */
  temperature: z.number().min(0).max(2).optional(),
  maxTokens: z.number().int().min(1).optional(),
  /** `max_tokens` of each agent call (unset: the model's default). */
  agentMaxTokens: z.number().int().min(1).optional(),
  seed: z.number().int().optional(),
  /** `--embed` string for the `rag` method (a model directory, `openai:<name>`, a URL#name). */
  embed: z.string().min(1).optional(),
  /** SQLite file caching every call to the base model (and rag embeddings). */
  cache: z.string().min(1).optional(),
}).strict();

/** Parsed backend options. */
export type MacmBackendOptions = z.infer<typeof macmBackendOptionsSchema>;

/** Defaults a plugin instance gives its backends (from the plugin options). */
export interface MacmBackendDefaults {
  /** Loads a local `embed` model (the plugin context's hub). */
  models?: ModelHub;
  method?: MacmBackendOptions["method"];
  character?: string;
  memoryLimit?: number;
  temperature?: number;
  maxTokens?: number;
  seed?: number;
  ragChunkSize?: number;
  ragOverlap?: number;
  ragK?: number;
}

/**
 * Splits a chat into the stimulus (the last user message) and the earlier exchanges; system
 * messages are left out (the simulacrum writes its own).
 *
 * @example
 * ```ts
 * import { conversationTurns } from "./backend.ts";
 * conversationTurns([
 *   { role: "user", content: "Hi" }, { role: "assistant", content: "Hello." },
 *   { role: "user", content: "Your name?" },
 * ]); // { query: "Your name?", history: [{ other: "Hi", you: "Hello." }] }
 * ```
 */
export function conversationTurns(
  messages: readonly ChatMessage[],
): { query: string; history: Exchange[] } {
  const turns = messages.filter((m) => m.role !== "system");
  const last = turns[turns.length - 1];
  if (!last || last.role !== "user") {
    throw withCode(
      new TypeError(
        `the last non-system message is ${
          last ? `from the ${last.role}` : "missing"
        }; a MACM persona answers a user message, so end the list with one`,
      ),
      "E_USAGE",
    );
  }
  const history: Exchange[] = [];
  let pending: string | undefined;
  for (const m of turns.slice(0, -1)) {
    if (m.role === "user") {
      if (pending !== undefined) history.push({ other: pending, you: "" });
      pending = m.content;
    } else {
      history.push({ other: pending ?? "", you: m.content });
      pending = undefined;
    }
  }
  if (pending !== undefined) history.push({ other: pending, you: "" });
  return { query: last.content, history };
}

/** A ChatModel that sums the usage of the calls it passes on. */
class UsageMeter implements ChatModel {
  readonly id: string;
  readonly usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  calls = 0;
  #inner: ChatModel;
  constructor(inner: ChatModel) {
    this.#inner = inner;
    this.id = inner.id;
  }
  async chat(request: ChatRequest): Promise<ChatResponse> {
    const r = await this.#inner.chat(request);
    this.calls++;
    this.usage.prompt_tokens += r.usage?.prompt_tokens ?? 0;
    this.usage.completion_tokens += r.usage?.completion_tokens ?? 0;
    this.usage.total_tokens += r.usage?.total_tokens ?? 0;
    return r;
  }
  stream(request: ChatRequest): AsyncIterable<ChatChunk> {
    return this.#inner.stream(request);
  }
}

let counter = 0;

/**
 * The MACM ChatModel of one character. The character, its memory and (for `rag`) the story index
 * load on the first request; each request builds a fresh {@link Simulacrum} turn. Responses carry
 * the turn trace (retrieved memory ids, thoughts, mood) in `metadata.macm`.
 *
 * @example
 * ```ts
 * import { MacmChatModel } from "./backend.ts";
 * import { ScriptedChatModel } from "../../core/chat/testing/mod.ts";
 * const model = new MacmChatModel(new ScriptedChatModel(), { method: "prompt" });
 * const r = await model.chat({ messages: [{ role: "user", content: "Who are you?" }] });
 * console.log(r.choices[0].message.content, r.metadata?.macm);
 * ```
 */
export class MacmChatModel implements ChatModel {
  readonly id: string;
  readonly options: MacmBackendOptions & MacmBackendDefaults;
  #base: ChatModel;
  #cache?: CachedChatModel;
  #embedder?: CachedEmbedder | Embedder;
  #ready?: Promise<{ character: CharacterFolder; rag?: RagIndex }>;

  constructor(base: ChatModel, options: MacmBackendOptions & MacmBackendDefaults = {}) {
    this.options = options;
    if (options.cache) {
      this.#cache = new CachedChatModel(base, { path: options.cache });
      this.#base = this.#cache;
    } else this.#base = base;
    const character = options.character ?? shippedCharacterDir();
    this.id = `macm:${options.method ?? "macm"}:${character}@${base.id}`;
  }

  /** The cache's hits and misses, when a cache file is set. */
  get cacheStats(): { hits: number; misses: number } | undefined {
    return this.#cache?.stats;
  }

  #load(): Promise<{ character: CharacterFolder; rag?: RagIndex }> {
    this.#ready ??= (async () => {
      const o = this.options;
      const method = o.method ?? "macm";
      const character = await loadCharacterDir(o.character ?? shippedCharacterDir());
      if (o.memory) character.memory = await loadMemory(o.memory);
      if (method === "macm" && !character.memory) {
        throw withCode(
          new TypeError(
            `character ${character.profile.Name} has no memory (options.memory is unset and ` +
              `${o.character ?? "the shipped folder"}/memory has no index.json); build it with ` +
              "'deno task dramatis macm build-memory' and pass its folder as options.memory",
          ),
          "E_CONFIG",
        );
      }
      let rag: RagIndex | undefined;
      if (method === "rag") {
        if (!o.embed) {
          throw withCode(
            new TypeError(
              "method rag needs options.embed (a model directory, openai:<name> or URL#name) " +
                "to embed the story",
            ),
            "E_CONFIG",
          );
        }
        if (!o.models) {
          throw withCode(
            new TypeError(
              "method rag embeds with options.embed, which needs the plugin context's model hub; " +
                "build the backend through the plugin registry",
            ),
            "E_CONFIG",
          );
        }
        const inner = await openEmbedder(o.embed, o.models);
        this.#embedder = o.cache ? new CachedEmbedder(inner, o.cache) : inner;
        rag = await buildRagIndex(character.story.join("\n"), this.#embedder.embed, {
          size: o.ragChunkSize,
          overlap: o.ragOverlap,
        });
      }
      return { character, rag };
    })();
    this.#ready.catch(() => (this.#ready = undefined));
    return this.#ready;
  }

  /** Answers one turn and returns the simulacrum's trace with the usage of all its calls. */
  async turn(
    request: ChatRequest,
  ): Promise<{ turn: SimulacrumTurn; usage: ChatResponse["usage"] }> {
    const { query, history } = conversationTurns(request.messages);
    const { character, rag } = await this.#load();
    const o = this.options;
    const meter = new UsageMeter(this.#base);
    const simulacrum = new Simulacrum({
      method: o.method ?? "macm",
      character,
      simulacrum: meter,
      agent: meter,
      rag,
      ragK: o.ragK,
      memoryLimit: o.memoryLimit,
      agentMaxTokens: o.agentMaxTokens,
      temperature: request.temperature ?? o.temperature,
      maxTokens: request.max_tokens ?? o.maxTokens,
      seed: request.seed ?? o.seed,
      signal: request.signal,
    });
    const turn = await simulacrum.chat(query, history);
    return { turn, usage: meter.usage };
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const { turn, usage } = await this.turn(request);
    return {
      id: `chatcmpl-macm-${Date.now().toString(36)}-${(counter++).toString(36)}`,
      model: request.model ?? this.id,
      created: Math.floor(Date.now() / 1000),
      choices: [{
        index: 0,
        message: { role: "assistant", content: turn.answer },
        finish_reason: "stop",
      }],
      usage,
      metadata: { macm: turn },
    };
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatChunk> {
    yield* responseToChunks(await this.chat(request));
  }

  /** Closes the cache files. */
  close(): void {
    this.#cache?.close();
    if (this.#embedder instanceof CachedEmbedder) this.#embedder.close();
  }
}

/**
 * The persona backend factory (`roles.backends.macm`): validates `backend.options` and returns a
 * {@link MacmChatModel} on the persona's base model, with the plugin's options as defaults.
 *
 * @example
 * ```ts
 * import { macmBackend } from "./backend.ts";
 * import { ScriptedChatModel } from "../../core/chat/testing/mod.ts";
 * import { PersonaSchema } from "../../core/contracts/persona.ts";
 * const persona = PersonaSchema.parse({ name: "hazel", model: "./tiny" });
 * const model = macmBackend()(persona, new ScriptedChatModel(), { method: "prompt" });
 * ```
 */
export function macmBackend(defaults: MacmBackendDefaults = {}) {
  return (
    persona: { name: string },
    base: ChatModel,
    options: Record<string, unknown>,
  ): MacmChatModel => {
    const parsed = macmBackendOptionsSchema.safeParse(options);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw withCode(
        new TypeError(
          `persona ${persona.name}: backend.options.${
            i.path.join(".") || "(root)"
          }: ${i.message}; ` +
            'pass {"character": "<dir>", "memory": "<dir>"} (see plugins/macm/README.md)',
        ),
        "E_CONFIG",
      );
    }
    const set = Object.fromEntries(
      Object.entries(parsed.data).filter(([, v]) => v !== undefined),
    );
    return new MacmChatModel(base, { ...defaults, ...set });
  };
}
