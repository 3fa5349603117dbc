/**
 * A deterministic ChatModel for tests that answers with fixed text and first-token logprobs.
 *
 * @module
 */

import type {
  ChatChunk,
  ChatModel,
  ChatRequest,
  ChatResponse,
} from "../../../core/contracts/chat_model.ts";

/** A scripted reply. */
export interface ScriptedReply {
  content: string;
  /** First-token alternatives; omitted → no logprobs in the response. */
  top?: { token: string; logprob: number }[];
}

/**
 * Answers each request with `reply(request, index)` and records requests in `calls`.
 *
 * @example
 * ```ts
 * import { LogprobChatModel } from "./logprob_chat_model.ts";
 * const m = new LogprobChatModel(() => ({ content: "50", top: [{ token: "50", logprob: 0 }] }));
 * ```
 */
export class LogprobChatModel implements ChatModel {
  readonly id = "logprob-scripted";
  readonly calls: ChatRequest[] = [];
  #reply: (request: ChatRequest, index: number) => ScriptedReply;

  constructor(reply: (request: ChatRequest, index: number) => ScriptedReply) {
    this.#reply = reply;
  }

  chat(request: ChatRequest): Promise<ChatResponse> {
    const index = this.calls.length;
    this.calls.push(request);
    const r = this.#reply(request, index);
    const logprobs = r.top
      ? {
        content: [{
          token: r.top[0]?.token ?? "",
          logprob: r.top[0]?.logprob ?? 0,
          top_logprobs: r.top,
        }],
      }
      : null;
    return Promise.resolve({
      id: `l-${index}`,
      model: this.id,
      created: 0,
      choices: [{
        index: 0,
        message: { role: "assistant", content: r.content },
        finish_reason: "stop",
        logprobs,
      }],
      usage: { prompt_tokens: 0, completion_tokens: 1, total_tokens: 1 },
    });
  }

  async *stream(request: ChatRequest): AsyncIterable<ChatChunk> {
    const r = await this.chat(request);
    yield {
      id: r.id,
      model: r.model,
      created: 0,
      choices: [{
        index: 0,
        delta: { content: r.choices[0].message.content },
        finish_reason: "stop",
      }],
    };
  }
}
