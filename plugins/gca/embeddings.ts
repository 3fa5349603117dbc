/**
 * Text embeddings for the retrieval variants, built by the model hub (`ModelHub.embedder`) from
 * one of two sources, behind a SQLite cache so a rerun embeds nothing twice:
 *
 * - an OpenAI-compatible embeddings endpoint: `openai:<name>` (OPENAI_BASE_URL / OPENAI_API_KEY)
 *   or `http(s)://host:port/v1#<name>` (CoSER deploys BGE-M3 this way);
 * - this project's engine: `local:<model dir>` — the mean over the text's tokens of the final
 *   hidden state (`hidden_states[numLayers]`, at most `maxTokens` tokens per text, padding left
 *   out), L2-normalised. Any decoder the engine loads works; quality is that of a
 *   decoder's mean-pooled states, not a trained embedding model.
 *
 * @module
 */

import { mkdirSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { canonicalJson, sha256Hex } from "../../core/chat/canonical_json.ts";
import { withCode } from "../../core/errors.ts";
import type { Embedder, EmbedderRequest, ModelHub } from "../../core/services/mod.ts";
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
  const lazy = (ref: string, request: EmbedderRequest): EmbedFn => {
    let built: Promise<Embedder> | undefined;
    return async (texts) => (await (built ??= options.models.embedder(ref, request))).embed(texts);
  };
  if (s.startsWith("openai:")) {
    inner = lazy(s, { batch: options.batch ?? 64 });
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
    inner = lazy(s, { batch: options.batch ?? 64 });
    id = s;
  } else if (s.startsWith("local:") && s.length > 6) {
    const path = resolve(s.slice(6));
    inner = lazy(path, { maxTokens: options.maxTokens ?? 512, normalize: true });
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
