/**
 * Text embeddings for the retrieval variants, from one of two sources, behind a SQLite cache so a
 * rerun embeds nothing twice:
 *
 * - an OpenAI-compatible embeddings endpoint: `openai:<name>` (OPENAI_BASE_URL / OPENAI_API_KEY)
 *   or `http(s)://host:port/v1#<name>` (CoSER deploys BGE-M3 this way);
 * - this project's engine: `local:<model dir>` — the mean over the text's tokens of the final
 *   hidden state (`hidden_states[numLayers]`, one `Engine.forward` per text, at most
 *   `maxTokens` tokens), L2-normalised. Any decoder the engine loads works; quality is that of a
 *   decoder's mean-pooled states, not a trained embedding model.
 *
 * @module
 */

import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import OpenAI from "openai";
import { canonicalJson, sha256Hex } from "../../core/chat/canonical_json.ts";
import { withCode } from "../../core/errors.ts";
import type { ModelHub } from "../../core/services/model_hub.ts";
import type { EmbedFn } from "./retrieval.ts";

/** Options of {@link embeddingsFor}. */
export interface EmbeddingOptions {
  /** SQLite cache file (shared with the chat cache is fine), `:memory:`, or null for none. */
  cachePath: string | null;
  /** The model hub that loads `local:` models (the plugin or command context's). */
  models: ModelHub;
  /** Longest input of the local engine, in tokens (default 512). */
  maxTokens?: number;
  /** Texts per endpoint request (default 64). */
  batch?: number;
}

/** The help text of the `--embeddings` flag. */
export const EMBEDDINGS_SYNTAX = "openai:<name>, http(s)://host:port/v1#<name> (an " +
  "OpenAI-compatible embeddings endpoint) or local:<model dir> (mean-pooled final hidden states " +
  "of our engine)";

/** Mean over rows of a `[S, H]` slice, L2-normalised. */
export function meanPool(
  data: Float32Array,
  offset: number,
  rows: number,
  hidden: number,
): number[] {
  const v = new Array<number>(hidden).fill(0);
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < hidden; h++) v[h] += data[offset + r * hidden + h];
  }
  let norm = 0;
  for (let h = 0; h < hidden; h++) {
    v[h] /= Math.max(rows, 1);
    norm += v[h] * v[h];
  }
  norm = Math.sqrt(norm) || 1;
  return v.map((x) => x / norm);
}

function endpointEmbed(baseURL: string | undefined, model: string, batch: number): EmbedFn {
  const apiKey = Deno.env.get("OPENAI_API_KEY") || (baseURL ? "unused" : undefined);
  if (!apiKey) {
    throw withCode(
      new TypeError("embeddings: OPENAI_API_KEY is not set; export it or use a URL endpoint"),
      "E_CONFIG",
    );
  }
  const client = new OpenAI({ apiKey, baseURL: baseURL ?? Deno.env.get("OPENAI_BASE_URL") });
  return async (texts) => {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += batch) {
      const r = await client.embeddings.create({ model, input: texts.slice(i, i + batch) });
      const rows = [...r.data].sort((a, b) => a.index - b.index);
      out.push(...rows.map((d) => d.embedding as number[]));
    }
    return out;
  };
}

function localEmbed(models: ModelHub, path: string, maxTokens: number): EmbedFn {
  return async (texts) => {
    const engine = await models.engine(path);
    const layer = engine.config.numLayers;
    const hidden = engine.config.hiddenSize;
    const out: number[][] = [];
    for (const text of texts) {
      const ids = engine.tokenizer.encode(text).slice(0, maxTokens);
      if (ids.length === 0) ids.push(engine.decoder.padTokenId);
      const r = await engine.forward([ids], { hiddenStates: true });
      const states = r.hiddenStates![layer].data as Float32Array;
      out.push(meanPool(states, 0, ids.length, hidden));
    }
    return out;
  };
}

/**
 * An {@link EmbedFn} for an `--embeddings` value, cached per (source, text).
 *
 * @example
 * ```ts ignore
 * import { embeddingsFor } from "./embeddings.ts";
 * const embed = embeddingsFor("local:./models/tiny", { cachePath: ".cache/gca.sqlite", models });
 * const [v] = await embed(["The ferry crossed at night."]);
 * ```
 */
export function embeddingsFor(spec: string, options: EmbeddingOptions): EmbedFn {
  const s = spec.trim();
  let inner: EmbedFn;
  let id: string;
  if (s.startsWith("openai:")) {
    inner = endpointEmbed(undefined, s.slice(7), options.batch ?? 64);
    id = s;
  } else if (/^https?:\/\//i.test(s)) {
    const hash = s.indexOf("#");
    if (hash < 0 || hash === s.length - 1) {
      throw withCode(
        new TypeError(
          `embeddings '${spec}' is a URL without '#<model>'; write ${EMBEDDINGS_SYNTAX}`,
        ),
        "E_USAGE",
      );
    }
    inner = endpointEmbed(s.slice(0, hash), s.slice(hash + 1), options.batch ?? 64);
    id = s;
  } else if (s.startsWith("local:") && s.length > 6) {
    const path = resolve(s.slice(6));
    inner = localEmbed(options.models, path, options.maxTokens ?? 512);
    id = `local:${path}:${options.maxTokens ?? 512}`;
  } else {
    throw withCode(
      new TypeError(`embeddings '${spec}' is not recognised; write ${EMBEDDINGS_SYNTAX}`),
      "E_USAGE",
    );
  }
  if (options.cachePath === null) return inner;
  return cachedEmbed(inner, id, options.cachePath);
}

function cachedEmbed(inner: EmbedFn, id: string, path: string): EmbedFn {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;");
  db.exec("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector TEXT NOT NULL)");
  const get = db.prepare("SELECT vector FROM embeddings WHERE key = ?");
  const put = db.prepare("INSERT OR REPLACE INTO embeddings (key, vector) VALUES (?, ?)");
  return async (texts) => {
    const keys = await Promise.all(texts.map((t) => sha256Hex(canonicalJson({ id, t }))));
    const out: (number[] | undefined)[] = keys.map((k) => {
      const row = get.get(k) as { vector: string } | undefined;
      return row ? JSON.parse(row.vector) as number[] : undefined;
    });
    const missing = out.flatMap((v, i) => (v ? [] : [i]));
    if (missing.length) {
      const fresh = await inner(missing.map((i) => texts[i]));
      missing.forEach((i, j) => {
        out[i] = fresh[j];
        put.run(keys[i], JSON.stringify(fresh[j]));
      });
    }
    return out as number[][];
  };
}
