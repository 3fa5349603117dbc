/**
 * The memory agent's online retrieval (§2.4): the memory index is split in two halves, each half
 * is shown to a retrieval model with the query, and the ids it names (`"007"`) select memories.
 *
 * @module
 */

import type { ChatModel } from "../../core/contracts/chat_model.ts";
import type { CharacterMemory, MemoryRecord } from "./memory_build.ts";

/**
 * All quoted memory ids (`"ddd"`, three or more digits) in a reply, de-duplicated in order of
 * first appearance.
 *
 * @example
 * ```ts
 * import { parseMemoryIds } from "./memory_retrieval.ts";
 * parseMemoryIds('Most relevant: "012", then "003". Also "012".'); // ["012", "003"]
 * parseMemoryIds("memory 12 and '004'"); // []
 * ```
 */
export function parseMemoryIds(text: string): string[] {
  const seen = new Set<string>();
  for (const m of text.matchAll(/"(\d{3,})"/g)) seen.add(m[1]);
  return [...seen];
}

/**
 * Splits an index into two halves (the first gets the extra entry), keeping key order.
 *
 * @example
 * ```ts
 * import { splitIndex } from "./memory_retrieval.ts";
 * splitIndex({ "001": "a", "002": "b", "003": "c" }); // [{"001","002"}, {"003"}]
 * ```
 */
export function splitIndex(
  index: Record<string, string>,
): [Record<string, string>, Record<string, string>] {
  const entries = Object.entries(index);
  const half = Math.ceil(entries.length / 2);
  return [Object.fromEntries(entries.slice(0, half)), Object.fromEntries(entries.slice(half))];
}

/** The retrieval model's system text (this project's wording). */
export function retrievalSystemPrompt(name: string): string {
  return `You help find ${name}'s memories. You are given summaries of ${name}'s memories, ` +
    "keyed by index, and a message. Choose the one or two memories most relevant to the " +
    'message and output only their indices, each in double quotes like "XXX". ' +
    "If none is relevant, output nothing.";
}

/** What retrieval found. */
export interface RetrievalResult {
  /** Valid ids named by the retrieval replies, in order of first appearance. */
  candidate_ids: string[];
  /** The first `limit` candidates with their memories. */
  selected: Record<string, MemoryRecord>;
  /** The raw replies, one per half. */
  replies: string[];
}

/**
 * Runs the two retrieval calls and selects up to `limit` (1) memories. Ids absent from the long
 * memory are ignored. An empty index makes no call. `request` adds fields to both calls (a
 * `max_tokens` cap for small models, a seed, a signal).
 *
 * @example
 * ```ts
 * import { retrieveMemory } from "./memory_retrieval.ts";
 * declare const agent: import("../../core/contracts/chat_model.ts").ChatModel;
 * declare const memory: import("./memory_build.ts").CharacterMemory;
 * const r = await retrieveMemory(agent, "Ada", memory, "What do you think of your father?");
 * console.log(r.candidate_ids, Object.keys(r.selected));
 * ```
 */
export async function retrieveMemory(
  agent: ChatModel,
  name: string,
  memory: CharacterMemory,
  query: string,
  limit = 1,
  request: { max_tokens?: number; seed?: number; signal?: AbortSignal } = {},
): Promise<RetrievalResult> {
  const replies: string[] = [];
  for (const half of splitIndex(memory.index)) {
    if (Object.keys(half).length === 0) continue;
    const r = await agent.chat({
      messages: [
        { role: "system", content: retrievalSystemPrompt(name) },
        {
          role: "user",
          content: `Memory summaries: ${JSON.stringify(half)}\nMessage: ${query}`,
        },
      ],
      temperature: 0,
      ...request,
    });
    replies.push(r.choices[0]?.message.content ?? "");
  }
  const candidate_ids = parseMemoryIds(replies.join("\n")).filter((id) => memory.long[id]);
  const selected: Record<string, MemoryRecord> = {};
  for (const id of candidate_ids.slice(0, limit)) selected[id] = memory.long[id].Memory;
  return { candidate_ids, selected, replies };
}
