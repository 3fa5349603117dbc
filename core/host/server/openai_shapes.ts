/**
 * Dramatis responses and chunks in the exact OpenAI wire shapes (`chat.completion`,
 * `chat.completion.chunk`, logprobs with UTF-8 `bytes`, `system_fingerprint`).
 *
 * @module
 */

import type { ChatChunk, ChatResponse, TokenLogprob } from "../../contracts/chat_model.ts";

const encoder = new TextEncoder();

/** What the wire shapes need besides the response. */
export interface WireContext {
  /** The model name the client asked for (a persona name). */
  model: string;
  systemFingerprint: string;
}

function wireLogprobs(lp: { content: TokenLogprob[] } | null | undefined) {
  if (!lp) return null;
  return {
    content: lp.content.map((t) => ({
      token: t.token,
      logprob: t.logprob,
      bytes: [...encoder.encode(t.token)],
      top_logprobs: t.top_logprobs.map((a) => ({
        token: a.token,
        logprob: a.logprob,
        bytes: [...encoder.encode(a.token)],
      })),
    })),
    refusal: null,
  };
}

function fingerprint(metadata: Record<string, unknown> | undefined, fallback: string): string {
  const fp = metadata?.system_fingerprint;
  return typeof fp === "string" && fp ? fp : fallback;
}

/**
 * A ChatResponse as an OpenAI `chat.completion` object.
 *
 * @example
 * ```ts
 * import { toWireCompletion } from "./openai_shapes.ts";
 * const wire = toWireCompletion({ id: "x", model: "m", created: 0, choices: [], usage:
 *   { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } }, { model: "ada", systemFingerprint: "fp" });
 * console.log(wire.object); // "chat.completion"
 * ```
 */
export function toWireCompletion(r: ChatResponse, ctx: WireContext) {
  const { system_fingerprint: _fp, ...metadata } = r.metadata ?? {};
  return {
    id: r.id || `chatcmpl-${crypto.randomUUID()}`,
    object: "chat.completion" as const,
    created: r.created || Math.floor(Date.now() / 1000),
    model: ctx.model,
    system_fingerprint: fingerprint(r.metadata, ctx.systemFingerprint),
    choices: r.choices.map((c) => ({
      index: c.index,
      message: { role: "assistant" as const, content: c.message.content, refusal: null },
      logprobs: wireLogprobs(c.logprobs),
      finish_reason: c.finish_reason,
    })),
    usage: { ...r.usage },
    ...(Object.keys(metadata).length ? { metadata } : {}),
  };
}

/**
 * A ChatChunk as an OpenAI `chat.completion.chunk` object. `usage` is kept only when the client
 * asked for it (`stream_options.include_usage`), and is `null` on other chunks then, as OpenAI does.
 *
 * @example
 * ```ts
 * import { toWireChunk } from "./openai_shapes.ts";
 * const wire = toWireChunk({ id: "x", model: "m", created: 1, choices: [{ index: 0, delta: { content: "hi" },
 *   finish_reason: null }] }, { id: "chatcmpl-1", model: "ada", systemFingerprint: "fp", includeUsage: false });
 * console.log(wire.object); // "chat.completion.chunk"
 * ```
 */
export function toWireChunk(
  chunk: ChatChunk,
  ctx: WireContext & { id: string; includeUsage: boolean },
) {
  return {
    id: ctx.id,
    object: "chat.completion.chunk" as const,
    created: chunk.created || Math.floor(Date.now() / 1000),
    model: ctx.model,
    system_fingerprint: ctx.systemFingerprint,
    choices: chunk.choices.map((c) => ({
      index: c.index,
      delta: c.delta.role ? { role: c.delta.role, content: c.delta.content ?? "" } : { ...c.delta },
      logprobs: wireLogprobs(c.logprobs),
      finish_reason: c.finish_reason,
    })),
    ...(ctx.includeUsage ? { usage: chunk.usage ? { ...chunk.usage } : null } : {}),
  };
}
