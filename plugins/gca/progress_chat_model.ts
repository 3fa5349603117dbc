/**
 * A ChatModel wrapper that reports every call (with the task it serves, read from the system
 * prompt's first words) so long pipelines show progress on stderr.
 *
 * @module
 */

import type {
  ChatChunk,
  ChatModel,
  ChatRequest,
  ChatResponse,
} from "../../core/contracts/chat_model.ts";

/** The task label of a request: the first words of its system prompt. */
export function taskOf(request: ChatRequest): string {
  const sys = request.messages.find((m) => m.role === "system")?.content ?? "";
  return sys.split(/\s+/).slice(0, 6).join(" ").slice(0, 48) || "chat";
}

/**
 * Wraps a model and calls `log` after each request with a running count.
 *
 * @example
 * ```ts
 * import { ProgressChatModel } from "./progress_chat_model.ts";
 * import { ScriptedChatModel } from "../../core/chat/testing/mod.ts";
 * const lines: string[] = [];
 * const m = new ProgressChatModel(new ScriptedChatModel(), (l) => lines.push(l));
 * await m.chat({ messages: [{ role: "system", content: "You turn passages" }, { role: "user", content: "x" }] });
 * console.log(lines[0]); // "call 1: You turn passages (… ms)"
 * ```
 */
export class ProgressChatModel implements ChatModel {
  readonly id: string;
  #inner: ChatModel;
  #log: (line: string) => void;
  #calls = 0;

  constructor(inner: ChatModel, log: (line: string) => void) {
    this.#inner = inner;
    this.id = inner.id;
    this.#log = log;
  }

  /** Calls made so far. */
  get calls(): number {
    return this.#calls;
  }

  async chat(request: ChatRequest): Promise<ChatResponse> {
    const n = ++this.#calls;
    const t0 = performance.now();
    try {
      return await this.#inner.chat(request);
    } finally {
      this.#log(`call ${n}: ${taskOf(request)} (${Math.round(performance.now() - t0)} ms)`);
    }
  }

  stream(request: ChatRequest): AsyncIterable<ChatChunk> {
    this.#calls++;
    return this.#inner.stream(request);
  }
}
