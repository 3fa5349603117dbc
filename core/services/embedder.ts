/**
 * Text embedders, built by the model hub from a model reference ({@link parseModelRef}), so
 * plugins never construct their own engine or API client for embeddings:
 *
 * - a local model (directory or hub id): the final hidden state of this project's engine,
 *   mean-pooled over each text's tokens (texts cut to `maxTokens`, run `batch` at a time with
 *   left padding left out of the mean), optionally L2-normalised. Any decoder works; the quality
 *   is that of a decoder's mean-pooled states, not of a trained embedding model;
 * - `openai:<name>` or `http(s)://host:port/v1#<name>`: an OpenAI-compatible
 *   `POST /embeddings` through the official `openai` client (`OPENAI_BASE_URL`, `OPENAI_API_KEY`).
 *
 * @module
 */

import OpenAI from "openai";
import { withCode } from "../errors.ts";
import type { Engine } from "../model/engine.ts";
import { formatModelRef, type ModelRef } from "./model_ref.ts";

/** Turns texts into vectors, one per text, in order. */
export interface Embedder {
  /** A stable id (part of cache keys): the source and the settings that change the vectors. */
  readonly id: string;
  embed(texts: string[]): Promise<number[][]>;
}

/** Options of {@link ModelHub.embedder}. */
export interface EmbedderRequest {
  /** Longest input of a local model, in tokens (default 256). */
  maxTokens?: number;
  /** Texts per forward pass (local, default 8) or per endpoint request (default 64). */
  batch?: number;
  /** Scale each local vector to unit length (default false). */
  normalize?: boolean;
}

/**
 * The mean of the rows of `hidden` (`[B, S, H]`, row-major) over the real tokens of each
 * sequence (the first `padding[b]` slots of row `b` are left padding and excluded).
 *
 * @example
 * ```ts
 * import { meanPool } from "./embedder.ts";
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

function unit(v: number[]): number[] {
  const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0)) || 1;
  return v.map((x) => x / norm);
}

/**
 * Embeds with a local engine: its final hidden state, mean-pooled (see the module doc).
 *
 * @example
 * ```ts ignore
 * import { engineEmbedder } from "./embedder.ts";
 * const e = engineEmbedder(await hub.engine("./models/tiny"), "./models/tiny");
 * const [v] = await e.embed(["I grew up by the sea."]);
 * ```
 */
export function engineEmbedder(
  engine: Engine,
  id: string,
  request: EmbedderRequest = {},
): Embedder {
  const maxTokens = request.maxTokens ?? 256;
  const batch = request.batch ?? 8;
  const normalize = request.normalize ?? false;
  return {
    id: `engine:${id}:${maxTokens}${normalize ? ":unit" : ""}`,
    async embed(texts) {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += batch) {
        const ids = texts.slice(i, i + batch).map((t) => {
          const tokens = engine.tokenizer.encode(t).slice(0, maxTokens);
          if (tokens.length) return tokens;
          const space = engine.tokenizer.encode(" ");
          return space.length ? space : [engine.decoder.padTokenId];
        });
        const r = await engine.forward(ids, { hiddenStates: true });
        const last = r.hiddenStates![r.hiddenStates!.length - 1];
        const pooled = meanPool(last.data as ArrayLike<number>, last.dims, r.padding);
        out.push(...(normalize ? pooled.map(unit) : pooled));
      }
      return out;
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
 * Embeds with an OpenAI-compatible `POST {baseURL}/embeddings` (official `openai` client).
 *
 * @example
 * ```ts ignore
 * import { endpointEmbedder } from "./embedder.ts";
 * const e = endpointEmbedder({ kind: "openai", model: "text-embedding-3-small" });
 * ```
 */
export function endpointEmbedder(
  ref: Extract<ModelRef, { kind: "openai" | "url" }>,
  request: EmbedderRequest & { apiKey?: string } = {},
): Embedder {
  const batch = request.batch ?? 64;
  const baseURL = ref.kind === "url" ? ref.baseURL : env("OPENAI_BASE_URL");
  const model = ref.model;
  if (!model) {
    throw withCode(
      new TypeError(
        `embeddings '${formatModelRef(ref)}' name no model; write ${formatModelRef(ref)}#<name>`,
      ),
      "E_USAGE",
    );
  }
  const keyEnv = ref.kind === "url" && ref.apiKeyEnv ? ref.apiKeyEnv : "OPENAI_API_KEY";
  const apiKey = request.apiKey ?? env(keyEnv) ?? (baseURL ? "unused" : undefined);
  if (!apiKey) {
    throw withCode(
      new TypeError(
        `embeddings '${formatModelRef(ref)}': ${keyEnv} is not set; export it, or use an ` +
          "http(s)://host:port/v1#<name> endpoint that needs no key",
      ),
      "E_CONFIG",
    );
  }
  const client = new OpenAI({ apiKey, baseURL, maxRetries: 2 });
  return {
    id: `endpoint:${model}@${client.baseURL.replace(/\/+$/, "")}`,
    async embed(texts) {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += batch) {
        let rows;
        try {
          rows = (await client.embeddings.create({ model, input: texts.slice(i, i + batch) }))
            .data;
        } catch (error) {
          const status = (error as { status?: number }).status;
          throw withCode(
            new TypeError(
              `${client.baseURL}/embeddings ${status ? `answered ${status}` : "failed"} (${
                (error as Error).message.slice(0, 200)
              }); check the embedding model name, ` +
                "the endpoint and the key",
            ),
            "E_CONFIG",
          );
        }
        out.push(...[...rows].sort((a, b) => a.index - b.index).map((d) => d.embedding));
      }
      return out;
    },
  };
}
