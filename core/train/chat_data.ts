/**
 * Chat training data in the ecosystem's own formats: `messages` JSONL (one
 * `{"messages": [{role, content}, …]}` per line) and ShareGPT (`{"conversations": [{from, value},
 * …]}` records in a JSON array or JSONL). Every record is checked — JSON syntax, roles in order,
 * non-empty assistant turns — and a bad one is either a clear error naming file, line, record and
 * fix, or (with `skipInvalid`) a counted skip.
 *
 * Record numbering (one convention for every data error of the project): `line` counts from 1
 * (the line of the file where the record starts, as editors show it) and `record` counts from 0
 * (the record's index in the file: `jq '.[N]'` for a JSON array, the N-th non-blank line of a
 * JSONL file). Messages read `file:LINE: record N: what is wrong; the fix`.
 *
 * A conversation that ends on a user turn (300 of the 434 conversations CoSER released in
 * `sft_sharegpt.json`, 248 of HIS's 685 dialogues) has that unanswered turn trimmed — there is no
 * reply to learn from it — and the trim is counted ({@link ChatDataset.trimmed}), never silent.
 * Every trainer uses {@link trimTrailingUserTurns} for this, so lora and hirpf trim alike.
 *
 * @module
 */

import { extname, join } from "node:path";
import { withCode } from "../errors.ts";
import type { ChatMessage } from "../model/tokenizer.ts";

/** Where a record came from. */
export interface RecordSource {
  file: string;
  /** 1-based line (JSONL) or the record's line in a JSON array file. */
  line: number;
  /** 0-based index of the record in its file (array index, or N-th non-blank JSONL line). */
  record?: number;
}

/** A conversation whose trailing unanswered user turn(s) were trimmed. */
export interface TrimmedRecord {
  source: RecordSource;
  /** How many trailing user turns were dropped (1 for well-formed data). */
  turns: number;
}

/** One validated conversation. */
export interface Conversation {
  messages: ChatMessage[];
  source: RecordSource;
  /**
   * The record's optional `identities` field (string names, e.g. `["EXT_high", "Doctor"]`):
   * carried to the micro-batch so adapters with per-row runtime inputs (hirpf) see them.
   */
  identities?: string[];
}

/** A record left out under `skipInvalid` (or by a loader rule that skips, e.g. hirpf's labels). */
export interface SkippedRecord {
  source: RecordSource;
  reason: string;
  /**
   * A short machine-readable reason (`invalid`, `too_long`, `contradictory_labels`, …) the
   * trainers count by; absent = `invalid`.
   */
  code?: string;
}

/** Conversations read from a file or directory, plus what was skipped and trimmed. */
export interface ChatDataset {
  conversations: Conversation[];
  skipped: SkippedRecord[];
  /** Conversations kept after trimming a trailing user turn. */
  trimmed: TrimmedRecord[];
}

/** Options of {@link readChatData}. */
export interface ChatDataOptions {
  /** Skip (and count) invalid records instead of throwing. Default false. */
  skipInvalid?: boolean;
}

const SHAREGPT_ROLES: Record<string, ChatMessage["role"]> = {
  system: "system",
  human: "user",
  user: "user",
  gpt: "assistant",
  assistant: "assistant",
  chatgpt: "assistant",
  bing: "assistant",
  model: "assistant",
};

/**
 * Where a record is, as every data error prints it: `file:LINE: record N: ` (line from 1, record
 * from 0; `record N: ` is left out when the index is unknown).
 *
 * @example
 * ```ts
 * import { sourceLabel } from "./chat_data.ts";
 * console.log(sourceLabel({ file: "d.json", line: 12, record: 3 })); // "d.json:12: record 3: "
 * ```
 */
export function sourceLabel(source: RecordSource): string {
  return `${source.file}:${source.line}: ${
    source.record === undefined ? "" : `record ${source.record}: `
  }`;
}

/** A data error that names the record; the message ends with the fix. */
export function dataError(source: RecordSource, message: string): SyntaxError {
  return withCode(new SyntaxError(`${sourceLabel(source)}${message}`), "E_DATA");
}

/** An error message without its leading {@link sourceLabel} (the reason of a skip). */
export function withoutSource(message: string, source: RecordSource): string {
  const full = sourceLabel(source);
  if (message.startsWith(full)) return message.slice(full.length);
  const short = `${source.file}:${source.line}: `;
  return message.startsWith(short) ? message.slice(short.length) : message;
}

/**
 * Drops trailing user turns that no assistant turn answers; the same rule in every trainer.
 * Returns the kept messages and how many turns were dropped.
 *
 * @example
 * ```ts
 * import { trimTrailingUserTurns } from "./chat_data.ts";
 * const r = trimTrailingUserTurns([{ role: "user", content: "Q" },
 *   { role: "assistant", content: "A" }, { role: "user", content: "Q2" }]);
 * console.log(r.messages.length, r.trimmed); // 2 1
 * ```
 */
export function trimTrailingUserTurns<M extends { role: string }>(
  messages: readonly M[],
): { messages: M[]; trimmed: number } {
  let end = messages.length;
  while (end > 0 && messages[end - 1].role === "user") end--;
  return { messages: messages.slice(0, end), trimmed: messages.length - end };
}

/**
 * Turns one parsed record into messages, or throws a located error. A trailing unanswered user
 * turn is trimmed (see {@link trimTrailingUserTurns}); `onTrim` hears how many turns went.
 */
export function recordMessages(
  record: unknown,
  source: RecordSource,
  onTrim?: (turns: number) => void,
): ChatMessage[] {
  if (typeof record !== "object" || record === null || Array.isArray(record)) {
    throw dataError(
      source,
      `record is ${
        JSON.stringify(record)?.slice(0, 60)
      }; each record is an object with "messages" or "conversations"`,
    );
  }
  const r = record as Record<string, unknown>;
  let messages: ChatMessage[];
  if (Array.isArray(r.messages)) {
    messages = r.messages.map((m, i) => {
      const role = (m as Record<string, unknown>)?.role;
      const content = (m as Record<string, unknown>)?.content;
      if (typeof role !== "string" || typeof content !== "string") {
        throw dataError(
          source,
          `messages[${i}] is ${
            JSON.stringify(m)?.slice(0, 80)
          }; each message needs string "role" and "content"`,
        );
      }
      return { role, content };
    });
  } else if (Array.isArray(r.conversations)) {
    messages = r.conversations.map((m, i) => {
      const from = (m as Record<string, unknown>)?.from;
      const value = (m as Record<string, unknown>)?.value;
      const role = typeof from === "string" ? SHAREGPT_ROLES[from.toLowerCase()] : undefined;
      if (!role || typeof value !== "string") {
        throw dataError(
          source,
          `conversations[${i}] is ${JSON.stringify(m)?.slice(0, 80)}; each turn needs "from" (${
            Object.keys(SHAREGPT_ROLES).join("/")
          }) and a string "value"`,
        );
      }
      return { role, content: value };
    });
  } else {
    throw dataError(
      source,
      `record has neither a "messages" nor a "conversations" array (keys: ${
        Object.keys(r).join(", ") || "none"
      }); use one of the two formats`,
    );
  }
  checkOrder(messages, source);
  const trimmed = trimTrailingUserTurns(messages);
  if (trimmed.trimmed > 0) {
    if (!trimmed.messages.some((m) => m.role === "assistant")) {
      throw dataError(
        source,
        "the conversation has no assistant turn; a training conversation needs at least one reply",
      );
    }
    onTrim?.(trimmed.trimmed);
  }
  return trimmed.messages;
}

/**
 * The optional `identities` field of a record: an array of non-empty strings, or absent.
 *
 * @example
 * ```ts
 * import { recordIdentities } from "./chat_data.ts";
 * recordIdentities({ identities: ["Doctor"] }, { file: "d.jsonl", line: 1 }); // ["Doctor"]
 * ```
 */
export function recordIdentities(record: unknown, source: RecordSource): string[] | undefined {
  const value = (record as Record<string, unknown>)?.identities;
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.trim() === "")) {
    throw dataError(
      source,
      `identities is ${
        JSON.stringify(value)?.slice(0, 80)
      }; give an array of identity names, e.g. ["EXT_high", "Doctor"], or leave the field out`,
    );
  }
  return value.slice();
}

/** Optional system turn first, then user/assistant alternating from user. */
function checkOrder(messages: ChatMessage[], source: RecordSource): void {
  if (messages.length === 0) {
    throw dataError(source, "the conversation is empty; add user and assistant turns");
  }
  const i = messages[0].role === "system" ? 1 : 0;
  if (i === messages.length) {
    throw dataError(
      source,
      "the conversation has only a system turn; add user and assistant turns",
    );
  }
  for (let k = i; k < messages.length; k++) {
    const want = (k - i) % 2 === 0 ? "user" : "assistant";
    const got = messages[k].role;
    if (got !== want) {
      throw dataError(
        source,
        `turn ${k} has role "${got}" where "${want}" belongs; roles must be [system], user, assistant, user, assistant, …`,
      );
    }
    if (got === "assistant" && messages[k].content.trim() === "") {
      throw dataError(
        source,
        `assistant turn ${k} is empty; remove the record or give the turn content`,
      );
    }
  }
}

/**
 * Parses chat data text. `.jsonl` text is read line by line (blank lines ignored); `.json` text is
 * one array of records (or an object with a `data` array).
 *
 * @example
 * ```ts
 * import { parseChatData } from "./chat_data.ts";
 * const text = '{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}';
 * console.log(parseChatData(text, "d.jsonl").conversations.length); // 1
 * ```
 */
export function parseChatData(
  text: string,
  file: string,
  options: ChatDataOptions = {},
): ChatDataset {
  const out: ChatDataset = { conversations: [], skipped: [], trimmed: [] };
  const take = (source: RecordSource, parse: () => unknown) => {
    try {
      const record = parse();
      let trimmed = 0;
      const messages = recordMessages(record, source, (n) => trimmed = n);
      const identities = recordIdentities(record, source);
      out.conversations.push(identities ? { messages, source, identities } : { messages, source });
      if (trimmed > 0) out.trimmed.push({ source, turns: trimmed });
    } catch (error) {
      if (!options.skipInvalid) throw error;
      out.skipped.push({
        source,
        reason: withoutSource((error as Error).message, source),
        code: "invalid",
      });
    }
  };
  if (extname(file).toLowerCase() === ".json") {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw dataError(
        { file, line: jsonErrorLine(text, error as Error) },
        `the file is not valid JSON (${
          (error as Error).message
        }); a truncated download or a hand edit is the usual cause: fetch the file again or fix it, or use JSONL with one record per line`,
      );
    }
    const list = Array.isArray(data) ? data : (data as Record<string, unknown>)?.data;
    if (!Array.isArray(list)) {
      throw dataError(
        { file, line: 1 },
        "a .json data file holds an array of records; wrap the records in [ … ]",
      );
    }
    const lines = recordLines(text, list.length);
    list.forEach((rec, i) => take({ file, line: lines[i], record: i }, () => rec));
    return out;
  }
  let record = 0;
  text.split("\n").forEach((raw, i) => {
    const line = raw.trim();
    if (line === "") return;
    const source = { file, line: i + 1, record: record++ };
    take(source, () => {
      try {
        return JSON.parse(line);
      } catch (error) {
        throw dataError(
          source,
          `malformed JSON (${
            (error as Error).message
          }); each line of a .jsonl file is one complete JSON object`,
        );
      }
    });
  });
  return out;
}

/**
 * The 1-based line a `JSON.parse` error points at (V8 says `position N` or `line L column C`);
 * 1 when the message names neither.
 *
 * @example
 * ```ts
 * import { jsonErrorLine } from "./chat_data.ts";
 * const text = '[\n{"a": "b\n';
 * try { JSON.parse(text); } catch (e) { console.log(jsonErrorLine(text, e as Error)); }
 * ```
 */
export function jsonErrorLine(text: string, error: Error): number {
  const lineCol = /line (\d+) column/.exec(error.message);
  if (lineCol) return Number(lineCol[1]);
  const pos = /position (\d+)/.exec(error.message);
  if (!pos) return 1;
  const at = Math.min(Number(pos[1]), text.length);
  let line = 1;
  for (let i = 0; i < at; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Parses the JSON text of the file at `path`; a syntax error becomes an `E_DATA` SyntaxError
 * naming the file and line: `<path>:<line>: <subject> is not valid JSON (<parser message>); <fix>`.
 *
 * @example
 * ```ts
 * import { parseJsonText } from "./chat_data.ts";
 * try { parseJsonText('{"a": 1', "a.json"); } catch (e) { console.log((e as Error).message); }
 * ```
 */
export function parseJsonText(
  text: string,
  path: string,
  subject = "the file",
  fix = "a truncated copy is the usual cause: fetch the file again",
): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw withCode(
      new SyntaxError(
        `${path}:${jsonErrorLine(text, e as Error)}: ${subject} is not valid JSON (${
          (e as Error).message
        }); ${fix}`,
      ),
      "E_DATA",
    );
  }
}

/**
 * Best-effort starting lines (1-based) of the top-level records of a JSON array text.
 *
 * @example
 * ```ts
 * import { recordLines } from "./chat_data.ts";
 * console.log(recordLines('[\n {"a": 1},\n {"a": 2}\n]', 2)); // [2, 3]
 * ```
 */
export function recordLines(text: string, count: number): number[] {
  const lines: number[] = [];
  let depth = 0, line = 1, inString = false, escaped = false;
  for (let i = 0; i < text.length && lines.length < count; i++) {
    const c = text[i];
    if (c === "\n") line++;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") {
      if (depth === 1) lines.push(line);
      depth++;
    } else if (c === "]" || c === "}") depth--;
  }
  while (lines.length < count) lines.push(line);
  return lines;
}

/**
 * Reads a `.jsonl` / `.json` file, or every such file of a directory (sorted by name).
 *
 * @example
 * ```ts
 * import { readChatData } from "./chat_data.ts";
 * const { conversations, skipped } = await readChatData("datasets/train.jsonl", { skipInvalid: true });
 * console.log(conversations.length, skipped.length);
 * ```
 */
export async function readChatData(
  path: string,
  options: ChatDataOptions = {},
): Promise<ChatDataset> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch {
    throw withCode(
      new TypeError(
        `data path "${path}" does not exist; pass a .jsonl/.json file or a directory of them`,
      ),
      "E_DATA",
    );
  }
  const files = stat.isDirectory
    ? [...Deno.readDirSync(path)]
      .filter((e) => e.isFile && /\.(jsonl|json)$/i.test(e.name))
      .map((e) => join(path, e.name))
      .sort()
    : [path];
  if (files.length === 0) {
    throw withCode(
      new TypeError(`directory "${path}" holds no .jsonl or .json files; add training data`),
      "E_DATA",
    );
  }
  const all: ChatDataset = { conversations: [], skipped: [], trimmed: [] };
  for (const f of files) {
    const part = parseChatData(await Deno.readTextFile(f), f, options);
    all.conversations.push(...part.conversations);
    all.skipped.push(...part.skipped);
    all.trimmed.push(...part.trimmed);
  }
  return all;
}
