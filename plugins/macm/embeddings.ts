/**
 * Sentence embeddings for story expansion and the `rag` baseline, built by the model hub
 * (`ModelHub.embedder`: mean-pooled final hidden states of our own engine, or an
 * OpenAI-compatible `/embeddings` endpoint), optionally kept in a SQLite cache so a rerun embeds
 * nothing.
 *
 * `--embed` syntax: a local model directory; `openai:<name>` (`OPENAI_BASE_URL`, `OPENAI_API_KEY`);
 * or `http(s)://host:port/v1#<name>`.
 *
 * @module
 */

import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { sha256Hex } from "../../core/chat/canonical_json.ts";
import type { Embedder as CoreEmbedder, ModelHub } from "../../core/services/mod.ts";
import type { EmbedFn } from "./story_expansion.ts";

/** An embedder with a stable id (part of cache keys); built by the model hub. */
export type Embedder = CoreEmbedder;

/**
 * Opens an embedder from an `--embed` string (see the module doc) through the model hub.
 *
 * @example
 * ```ts ignore
 * import { openEmbedder } from "./embeddings.ts";
 * const e = await openEmbedder("./models/tiny", ctx.models);
 * ```
 */
export function openEmbedder(spec: string, models: ModelHub): Promise<Embedder> {
  return models.embedder(spec);
}

/**
 * An embedder whose vectors are kept in a SQLite file (table `embeddings`), keyed by the inner
 * embedder's id and the text; only texts never seen are embedded.
 *
 * @example
 * ```ts
 * import { CachedEmbedder } from "./embeddings.ts";
 * const inner = { id: "len", embed: (t: string[]) => Promise.resolve(t.map((s) => [s.length, 1])) };
 * const e = new CachedEmbedder(inner, ":memory:");
 * await e.embed(["ab", "c"]);
 * await e.embed(["ab"]);
 * console.log(e.stats); // { hits: 1, misses: 2 }
 * e.close();
 * ```
 */
export class CachedEmbedder implements Embedder {
  readonly id: string;
  #inner: Embedder;
  #db: DatabaseSync;
  #hits = 0;
  #misses = 0;

  constructor(inner: Embedder, path: string) {
    this.#inner = inner;
    this.id = inner.id;
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.#db = new DatabaseSync(path);
    this.#db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;");
    this.#db.exec(
      "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector TEXT NOT NULL)",
    );
  }

  /** Texts served from the file and texts embedded, since this object was made. */
  get stats(): { hits: number; misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  embed: EmbedFn = async (texts) => {
    const keys = await Promise.all(texts.map((t) => sha256Hex(`${this.#inner.id}\n${t}`)));
    const get = this.#db.prepare("SELECT vector FROM embeddings WHERE key = ?");
    const out: (number[] | undefined)[] = keys.map((k) => {
      const row = get.get(k) as { vector: string } | undefined;
      return row ? JSON.parse(row.vector) as number[] : undefined;
    });
    const missing = [...new Set(texts.filter((_, i) => !out[i]))];
    this.#hits += texts.length - texts.filter((_, i) => !out[i]).length;
    if (missing.length) {
      this.#misses += missing.length;
      const vectors = await this.#inner.embed(missing);
      const put = this.#db.prepare("INSERT OR REPLACE INTO embeddings (key, vector) VALUES (?, ?)");
      const byText = new Map(missing.map((t, i) => [t, vectors[i]]));
      for (let i = 0; i < texts.length; i++) {
        if (!out[i]) {
          out[i] = byText.get(texts[i])!;
          put.run(keys[i], JSON.stringify(out[i]));
        }
      }
    }
    return out as number[][];
  };

  /** Closes the SQLite file. */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}
