/**
 * `CachedChatModel`: a content-addressed response cache kept on disk in SQLite (`node:sqlite`).
 * The key is the SHA-256 of the inner model's id and the canonicalised request (everything but
 * the abort signal), so the same question to the same model is answered once, across processes
 * and restarts. Streams are served from a cached full response, and fill the cache as they pass.
 *
 * @module
 */

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { ChatChunk, ChatModel, ChatRequest, ChatResponse } from "../contracts/chat_model.ts";
import { withCode } from "../errors.ts";
import { canonicalJson, sha256Hex } from "./canonical_json.ts";
import { ChunkCollector, responseToChunks } from "./chunks.ts";

/**
 * A request as the cache sees it. `attempt` separates otherwise equal requests: a caller that
 * wants a fresh sample at temperature 1 (a retry, the k-th of several samples) passes 1, 2, … and
 * gets a distinct entry; 0 or absent is the same entry. It is never sent to the inner model.
 */
export interface CachedRequest extends ChatRequest {
  attempt?: number;
}

/** Options of {@link CachedChatModel}. */
export interface CachedChatModelOptions {
  /** The SQLite file (created with its directory), or `:memory:`. */
  path: string;
}

/**
 * The cache key of a request to a model: hex SHA-256 of the canonical JSON of the model id and
 * the request without its signal (and without `attempt` when it is 0).
 *
 * @example
 * ```ts
 * import { cacheKey } from "./cached_chat_model.ts";
 * const a = await cacheKey("m", { messages: [], temperature: 0, seed: 1 });
 * const b = await cacheKey("m", { seed: 1, temperature: 0, messages: [] });
 * console.log(a === b); // true
 * ```
 */
export function cacheKey(modelId: string, request: CachedRequest): Promise<string> {
  const { signal: _signal, attempt, ...rest } = request;
  if (attempt !== undefined && (!Number.isInteger(attempt) || attempt < 0)) {
    throw withCode(new RangeError(`attempt is ${attempt}; pass a whole number >= 0`), "E_CONFIG");
  }
  return sha256Hex(
    canonicalJson({ model_id: modelId, request: attempt ? { ...rest, attempt } : rest }),
  );
}

/**
 * A ChatModel that answers repeated requests from a SQLite cache; a hit never calls the inner
 * model. Failed or abandoned calls are not cached.
 *
 * @example
 * ```ts
 * import { CachedChatModel } from "./cached_chat_model.ts";
 * import { ScriptedChatModel } from "./testing/mod.ts";
 * const model = new CachedChatModel(new ScriptedChatModel(), { path: ":memory:" });
 * const request = { messages: [{ role: "user" as const, content: "hi" }] };
 * await model.chat(request);
 * await model.chat(request); // from the cache
 * console.log(model.stats); // { hits: 1, misses: 1 }
 * model.close();
 * ```
 */
export class CachedChatModel implements ChatModel {
  readonly id: string;
  #inner: ChatModel;
  #db: DatabaseSync;
  #get: StatementSync;
  #put: StatementSync;
  #hits = 0;
  #misses = 0;

  constructor(inner: ChatModel, options: CachedChatModelOptions) {
    this.#inner = inner;
    this.id = inner.id;
    if (options.path !== ":memory:") mkdirSync(dirname(options.path), { recursive: true });
    try {
      this.#db = new DatabaseSync(options.path);
      this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;");
      this.#db.exec(
        `CREATE TABLE IF NOT EXISTS responses (
          key TEXT PRIMARY KEY, model_id TEXT NOT NULL, request TEXT NOT NULL,
          response TEXT NOT NULL, created_at INTEGER NOT NULL)`,
      );
    } catch (error) {
      throw withCode(
        new TypeError(
          `cache file ${options.path} cannot be opened as SQLite (${(error as Error).message}); ` +
            "pass a new path or delete the file",
          { cause: error },
        ),
        "E_CONFIG",
      );
    }
    this.#get = this.#db.prepare("SELECT response FROM responses WHERE key = ?");
    this.#put = this.#db.prepare(
      "INSERT OR REPLACE INTO responses (key, model_id, request, response, created_at) VALUES (?, ?, ?, ?, ?)",
    );
  }

  /** Hits and misses since this object was made. */
  get stats(): { hits: number; misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  /** How many responses the file holds. */
  get size(): number {
    const row = this.#db.prepare("SELECT COUNT(*) AS n FROM responses").get() as { n: number };
    return Number(row.n);
  }

  /** Closes the SQLite file. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  #lookup(key: string): ChatResponse | undefined {
    const row = this.#get.get(key) as { response: string } | undefined;
    return row ? JSON.parse(row.response) as ChatResponse : undefined;
  }

  #store(key: string, request: CachedRequest, response: ChatResponse): void {
    const { signal: _signal, ...rest } = request;
    this.#put.run(key, this.#inner.id, canonicalJson(rest), JSON.stringify(response), Date.now());
  }

  #strip(request: CachedRequest): ChatRequest {
    const { attempt: _attempt, ...rest } = request;
    return rest;
  }

  async chat(request: CachedRequest): Promise<ChatResponse> {
    const key = await cacheKey(this.#inner.id, request);
    const hit = this.#lookup(key);
    if (hit) {
      this.#hits++;
      return hit;
    }
    this.#misses++;
    const response = await this.#inner.chat(this.#strip(request));
    this.#store(key, request, response);
    return response;
  }

  async *stream(request: CachedRequest): AsyncIterable<ChatChunk> {
    const key = await cacheKey(this.#inner.id, request);
    const hit = this.#lookup(key);
    if (hit) {
      this.#hits++;
      for (const chunk of responseToChunks(hit)) {
        if (request.signal?.aborted) throw request.signal.reason;
        yield chunk;
      }
      return;
    }
    this.#misses++;
    const collector = new ChunkCollector();
    for await (const chunk of this.#inner.stream(this.#strip(request))) {
      collector.add(chunk);
      yield chunk;
    }
    // Reached only when the inner stream ended normally and the consumer read it to the end.
    this.#store(key, request, collector.response());
  }
}
