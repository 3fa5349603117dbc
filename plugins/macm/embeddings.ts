/**
 * Sentence embeddings for story expansion and the `rag` baseline: mean-pooled final hidden states
 * of our own engine (`Engine.forward`), or an OpenAI-compatible `/embeddings` endpoint, optionally
 * kept in a SQLite cache so a rerun embeds nothing.
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
import { withCode } from "../../core/errors.ts";
import type { ModelHub } from "../../core/services/model_hub.ts";
import { parseModelRef } from "../../core/services/model_ref.ts";
import type { Engine } from "../../core/model/engine.ts";
import type { EmbedFn } from "./story_expansion.ts";

/** An embedder with a stable id (part of cache keys). */
export interface Embedder {
  readonly id: string;
  embed: EmbedFn;
}

/**
 * Mean of the rows of `hidden` (`[B, S, H]`, row-major) over the real tokens of each sequence
 * (left padding `padding[b]` excluded).
 *
 * @example
 * ```ts
 * import { meanPool } from "./embeddings.ts";
 * // one sequence of 2 tokens after 1 padding slot, hidden size 2
 * meanPool(new Float32Array([9, 9, 1, 2, 3, 4]), [1, 3, 2], [1]); // [[2, 3]]
 * ```
 */
export function meanPool(
  hidden: ArrayLike<number>,
  dims: readonly number[],
  padding: readonly number[],
): number[][] {
  const [B, S, H] = dims;
  const out: number[][] = [];
  for (let b = 0; b < B; b++) {
    const v = new Array<number>(H).fill(0);
    const n = S - padding[b];
    for (let s = padding[b]; s < S; s++) {
      const at = (b * S + s) * H;
      for (let h = 0; h < H; h++) v[h] += hidden[at + h];
    }
    out.push(n > 0 ? v.map((x) => x / n) : v);
  }
  return out;
}

/**
 * Embeds with our engine: the last hidden state, mean-pooled over each text's tokens (texts are
 * cut to `maxTokens`, 256, and run `batch`, 8, at a time).
 *
 * @example
 * ```ts ignore
 * import { engineEmbedder } from "./embeddings.ts";
 * import { Engine } from "../../core/model/engine.ts";
 * const e = engineEmbedder(await Engine.load("./models/tiny"), "tiny");
 * const [v] = await e.embed(["I grew up by the sea."]);
 * ```
 */
export function engineEmbedder(
  engine: Engine,
  id: string,
  options: { maxTokens?: number; batch?: number } = {},
): Embedder {
  const maxTokens = options.maxTokens ?? 256;
  const batch = options.batch ?? 8;
  return {
    id: `engine:${id}`,
    async embed(texts) {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += batch) {
        const ids = texts.slice(i, i + batch).map((t) => {
          const tokens = engine.tokenizer.encode(t).slice(0, maxTokens);
          return tokens.length ? tokens : engine.tokenizer.encode(" ");
        });
        const r = await engine.forward(ids, { hiddenStates: true });
        const last = r.hiddenStates![r.hiddenStates!.length - 1];
        out.push(...meanPool(last.data as ArrayLike<number>, last.dims, r.padding));
      }
      return out;
    },
  };
}

/**
 * Embeds with an OpenAI-compatible `POST {baseURL}/embeddings`.
 *
 * @example
 * ```ts ignore
 * import { endpointEmbedder } from "./embeddings.ts";
 * const e = endpointEmbedder("https://api.openai.com/v1", "text-embedding-3-small", Deno.env.get("OPENAI_API_KEY"));
 * ```
 */
export function endpointEmbedder(baseURL: string, model: string, apiKey?: string): Embedder {
  return {
    id: `endpoint:${model}@${baseURL}`,
    async embed(texts) {
      const r = await fetch(`${baseURL}/embeddings`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        },
        body: JSON.stringify({ model, input: texts }),
      });
      if (!r.ok) {
        throw withCode(
          new TypeError(
            `${baseURL}/embeddings answered ${r.status} (${(await r.text()).slice(0, 200)}); ` +
              "check the --embed model name and key",
          ),
          "E_CONFIG",
        );
      }
      const body = await r.json() as { data: { index: number; embedding: number[] }[] };
      return [...body.data].sort((a, b) => a.index - b.index).map((d) => d.embedding);
    },
  };
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens an embedder from an `--embed` string (see the module doc).
 *
 * @example
 * ```ts ignore
 * import { openEmbedder } from "./embeddings.ts";
 * const e = await openEmbedder("./models/tiny", ctx.models);
 * ```
 */
export async function openEmbedder(spec: string, models: ModelHub): Promise<Embedder> {
  const ref = parseModelRef(spec);
  switch (ref.kind) {
    case "openai": {
      const base = (env("OPENAI_BASE_URL") ?? "https://api.openai.com/v1").replace(/\/+$/, "");
      return endpointEmbedder(base, ref.model, env("OPENAI_API_KEY"));
    }
    case "url":
      if (!ref.model) {
        throw withCode(
          new TypeError(`--embed is "${spec}"; name the model: ${spec}#<name>`),
          "E_USAGE",
        );
      }
      return endpointEmbedder(ref.baseURL, ref.model, env("OPENAI_API_KEY"));
    case "persona":
      throw withCode(
        new TypeError(
          `--embed is "${spec}", a persona; embed with a model directory, openai:<name> or URL#name`,
        ),
        "E_USAGE",
      );
    case "local":
      return engineEmbedder(await models.engine(ref.path), spec);
  }
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
