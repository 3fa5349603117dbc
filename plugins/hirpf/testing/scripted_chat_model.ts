/**
 * A deterministic ChatModel for tests: each request is answered by a function and recorded.
 *
 * @module
 */

import type {
  ChatChunk,
  ChatModel,
  ChatRequest,
  ChatResponse,
} from "../../../core/contracts/chat_model.ts";

/**
 * Answers every request with `reply(request, callIndex)` and keeps the requests in `calls`.
 *
 * @example
 * ```ts
 * import { ScriptedChatModel } from "./scripted_chat_model.ts";
 * const m = new ScriptedChatModel(() => "ok");
 * const r = await m.chat({ messages: [{ role: "user", content: "hi" }] });
 * console.log(r.choices[0].message.content, m.calls.length); // ok 1
 * ```
 */
export class ScriptedChatModel implements ChatModel {
  readonly id: string;
  readonly calls: ChatRequest[] = [];
  #reply: (request: ChatRequest, index: number) => string;

  constructor(reply: (request: ChatRequest, index: number) => string, id = "scripted") {
    this.#reply = reply;
    this.id = id;
  }

  chat(request: ChatRequest): Promise<ChatResponse> {
    const index = this.calls.length;
    this.calls.push(request);
    const content = this.#reply(request, index);
    return Promise.resolve({
      id: `s-${index}`,
      model: this.id,
      created: 0,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
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
        delta: { role: "assistant", content: r.choices[0].message.content },
        finish_reason: "stop",
      }],
    };
  }
}
