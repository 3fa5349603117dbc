/**
 * Offline long-term memory construction of MACM (§2.4): the life story is read two paragraphs at a
 * time; for each chunk the thinking agent writes a first-person recollection and what the
 * character was thinking, the emotion agent writes the feelings, and the memory agent summarises.
 * The result is the reference pair `index.json` (id → summary) and `long_memory.json`.
 *
 * @module
 */

import { readJsonFile } from "./import_release.ts";
import { join } from "node:path";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import { withCode } from "../../core/errors.ts";
import { writeJsonAtomic } from "../../core/util/atomic.ts";
import { type CharacterProfile, personaHeader } from "./profile.ts";

/** The three parts of one memory. */
export interface MemoryRecord {
  "Memory Content": string;
  Thinking: string;
  Emotion: string;
}

/** A `long_memory.json` entry. */
export interface LongMemoryEntry {
  Memory_Summary: string;
  Memory: MemoryRecord;
}

/** A character's memory: `index.json` and `long_memory.json`. */
export interface CharacterMemory {
  index: Record<string, string>;
  long: Record<string, LongMemoryEntry>;
}

/**
 * Groups paragraphs into chunks of `size` (2), the last one possibly shorter.
 *
 * @example
 * ```ts
 * import { chunkStory } from "./memory_build.ts";
 * chunkStory(["a", "b", "c"]); // ["a\nb", "c"]
 * ```
 */
export function chunkStory(paragraphs: readonly string[], size = 2): string[] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size is ${size}; pass >= 1`);
  const out: string[] = [];
  for (let i = 0; i < paragraphs.length; i += size) {
    out.push(paragraphs.slice(i, i + size).join("\n"));
  }
  return out;
}

/**
 * A memory id: zero-padded to three digits.
 *
 * @example
 * ```ts
 * import { memoryId } from "./memory_build.ts";
 * memoryId(7); // "007"
 * ```
 */
export function memoryId(k: number): string {
  return String(k).padStart(3, "0");
}

/** Extra request fields of the memory agents' calls (a `max_tokens` cap for small models). */
export interface AgentRequestOptions {
  max_tokens?: number;
  seed?: number;
  signal?: AbortSignal;
}

async function ask(
  model: ChatModel,
  system: string,
  user: string,
  request: AgentRequestOptions = {},
): Promise<string> {
  const r = await model.chat({
    messages: [{ role: "system", content: system }, { role: "user", content: user }],
    temperature: 0,
    ...request,
  });
  return (r.choices[0]?.message.content ?? "").trim();
}

/** The agents' task texts (this project's wording). */
export const MEMORY_TASKS = {
  content: "The text below is a fragment of your life. Recall it in the first person as your own " +
    "memory: concise, at most 100 words.",
  thinking:
    "The text below is one of your memories. In at most 50 words and in the first person, " +
    "describe what was going through your mind in that scene.",
  emotion: "The text below is a fragment of your life. In at most 100 words and in the first " +
    "person, describe the emotions you feel about its events, people and places.",
  summary: "You summarise memories neutrally. Summarise the memory and its emotions below in one " +
    "or two sentences, at most 20 words.",
} as const;

/**
 * Turns one chunk into a memory entry with four agent calls (content, thinking, emotion, summary).
 *
 * @example
 * ```ts
 * import { memorizeChunk } from "./memory_build.ts";
 * declare const agent: import("../../core/contracts/chat_model.ts").ChatModel;
 * declare const p: import("./profile.ts").CharacterProfile;
 * const entry = await memorizeChunk(agent, p, "I was born in a small flat above a bakery.");
 * ```
 */
export async function memorizeChunk(
  agent: ChatModel,
  profile: CharacterProfile,
  chunk: string,
  extra: Record<string, string> = {},
  request: AgentRequestOptions = {},
): Promise<LongMemoryEntry> {
  const header = personaHeader(profile, extra);
  const content = await ask(agent, `${header}\n\n${MEMORY_TASKS.content}`, chunk, request);
  const thinking = await ask(agent, `${header}\n\n${MEMORY_TASKS.thinking}`, content, request);
  const emotion = await ask(agent, `${header}\n\n${MEMORY_TASKS.emotion}`, chunk, request);
  const summary = await ask(
    agent,
    MEMORY_TASKS.summary,
    `Memory: ${content}\nEmotion: ${emotion}`,
    request,
  );
  return {
    Memory_Summary: summary,
    Memory: { "Memory Content": content, Thinking: thinking, Emotion: emotion },
  };
}

/**
 * Builds a character's memory from its story paragraphs. `onChunk(done, total)` reports progress.
 *
 * @example
 * ```ts
 * import { buildLongMemory } from "./memory_build.ts";
 * declare const agent: import("../../core/contracts/chat_model.ts").ChatModel;
 * declare const p: import("./profile.ts").CharacterProfile;
 * const memory = await buildLongMemory(agent, p, ["para 1", "para 2", "para 3"]);
 * Object.keys(memory.index); // ["001", "002"]
 * ```
 */
export async function buildLongMemory(
  agent: ChatModel,
  profile: CharacterProfile,
  paragraphs: readonly string[],
  options: {
    chunkSize?: number;
    extra?: Record<string, string>;
    /** Extra fields of every agent call. */
    request?: AgentRequestOptions;
    onChunk?(done: number, total: number): void;
  } = {},
): Promise<CharacterMemory> {
  const chunks = chunkStory(paragraphs, options.chunkSize ?? 2);
  const memory: CharacterMemory = { index: {}, long: {} };
  for (let k = 0; k < chunks.length; k++) {
    const id = memoryId(k + 1);
    options.request?.signal?.throwIfAborted();
    const entry = await memorizeChunk(agent, profile, chunks[k], options.extra, options.request);
    memory.index[id] = entry.Memory_Summary;
    memory.long[id] = entry;
    options.onChunk?.(k + 1, chunks.length);
  }
  return memory;
}

/**
 * Adds a new experience as the next memory (id = largest id + 1) and returns its id.
 *
 * @example
 * ```ts
 * import { addLongMemory } from "./memory_build.ts";
 * declare const agent: import("../../core/contracts/chat_model.ts").ChatModel;
 * declare const p: import("./profile.ts").CharacterProfile;
 * declare const memory: import("./memory_build.ts").CharacterMemory;
 * const id = await addLongMemory(agent, p, memory, "Last week I adopted a dog.");
 * ```
 */
export async function addLongMemory(
  agent: ChatModel,
  profile: CharacterProfile,
  memory: CharacterMemory,
  experience: string,
  extra: Record<string, string> = {},
  request: AgentRequestOptions = {},
): Promise<string> {
  const ids = Object.keys(memory.long).map(Number).filter(Number.isFinite);
  const id = memoryId((ids.length ? Math.max(...ids) : 0) + 1);
  const entry = await memorizeChunk(agent, profile, experience, extra, request);
  memory.index[id] = entry.Memory_Summary;
  memory.long[id] = entry;
  return id;
}

/**
 * Writes `index.json` and `long_memory.json` into a directory (atomically).
 *
 * @example
 * ```ts
 * import { saveMemory } from "./memory_build.ts";
 * await saveMemory("/tmp/memories/Ada", { index: {}, long: {} });
 * ```
 */
export async function saveMemory(dir: string, memory: CharacterMemory): Promise<void> {
  await writeJsonAtomic(join(dir, "index.json"), memory.index);
  await writeJsonAtomic(join(dir, "long_memory.json"), memory.long);
}

/**
 * Reads `index.json` and `long_memory.json`; mismatched ids raise a TypeError (`E_DATA`).
 *
 * @example
 * ```ts
 * import { loadMemory } from "./memory_build.ts";
 * const memory = await loadMemory("/tmp/memories/Ada");
 * ```
 */
export async function loadMemory(dir: string): Promise<CharacterMemory> {
  const index = await readJsonFile(join(dir, "index.json")) as CharacterMemory["index"];
  const long = await readJsonFile(join(dir, "long_memory.json")) as CharacterMemory["long"];
  for (const id of Object.keys(index)) {
    if (!long[id]?.Memory) {
      throw withCode(
        new TypeError(
          `${dir}: index.json has id "${id}" but long_memory.json has no Memory for it; ` +
            "rebuild the memory or remove the id",
        ),
        "E_DATA",
      );
    }
  }
  return { index, long };
}
