/**
 * Pulls a JSON object or array out of noisy language-model output: code fences, prose around the
 * JSON, trailing commas, single-quoted strings, Python literals (`True`, `None`), raw newlines and
 * unescaped quotes inside strings, and output cut off mid-way (open strings and brackets are
 * closed, cutting back to the last complete element when needed). When nothing else works, the
 * longest decodable object or array found anywhere in the text is returned.
 *
 * The order of attempts, first success wins:
 * 1. `JSON.parse` of the trimmed text (`direct`);
 * 2. for each fenced block, then the whole text: the span from the first opener to its matching
 *    closer, sanitised (`repaired`), or, when the span never closes, closed (`closed`);
 * 3. every opener position in the text, keeping the longest span that decodes (`longest`).
 *
 * @module
 */

import type { ChatMessage, ChatModel, ChatRequest } from "../contracts/chat_model.ts";
import { withCode } from "../errors.ts";

/** What kind of JSON value the caller wants. */
export type JsonExpect = "object" | "array" | "any";

/** How {@link extractJsonDetailed} found the value. */
export type JsonExtractMethod = "direct" | "repaired" | "closed" | "longest";

/** A successfully extracted value with the method that found it. */
export interface JsonExtraction {
  value: unknown;
  method: JsonExtractMethod;
}

interface Walk {
  /** Sanitised JSON text from the opener up to where the walk stopped. */
  out: string;
  /** True when the opener's matching closer was reached. */
  complete: boolean;
  /** Index in the source just after the consumed text. */
  end: number;
  /** Open brackets when the walk stopped (incomplete walks only). */
  stack: string[];
  inString: boolean;
  /** Places where the output may be cut and closed: `out` length and the stack there. */
  cuts: { at: number; stack: string[] }[];
}

const CLOSER: Record<string, string> = { "{": "}", "[": "]" };

function nextSignificant(text: string, from: number): string {
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c !== " " && c !== "\n" && c !== "\r" && c !== "\t") return c;
  }
  return "";
}

/** Walks from an opener, sanitising as it goes (see the module doc). */
function walk(text: string, start: number): Walk {
  let out = "";
  const stack: string[] = [];
  const cuts: Walk["cuts"] = [];
  let quote = ""; // current string delimiter, "" outside strings
  let i = start;
  for (; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") {
        const n = text[i + 1];
        if (n === undefined) break;
        if (n === "'") out += "'";
        else if ('"\\/bfnrtu'.includes(n)) out += c + n;
        else out += "\\\\" + (n === "\n" ? "n" : n);
        i++;
      } else if (c === quote) {
        const after = nextSignificant(text, i + 1);
        if (after === "" || ",}]:".includes(after)) {
          out += '"';
          quote = "";
        } else out += quote === '"' ? '\\"' : "'"; // an inner quote the model forgot to escape
      } else if (c === '"') out += '\\"';
      else if (c === "\n") out += "\\n";
      else if (c === "\r") out += "\\r";
      else if (c === "\t") out += "\\t";
      else if (c < " ") out += "\\u" + c.charCodeAt(0).toString(16).padStart(4, "0");
      else out += c;
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      out += '"';
    } else if (c === "{" || c === "[") {
      stack.push(c);
      out += c;
      cuts.push({ at: out.length, stack: stack.slice() });
    } else if (c === "}" || c === "]") {
      if (stack.length === 0 || CLOSER[stack[stack.length - 1]] !== c) break;
      out = out.replace(/,\s*$/, "");
      stack.pop();
      out += c;
      if (stack.length === 0) {
        return { out, complete: true, end: i + 1, stack, inString: false, cuts };
      }
    } else if (c === ",") {
      cuts.push({ at: out.length, stack: stack.slice() });
      out += c;
    } else if (/[A-Za-z]/.test(c)) {
      const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i, i + 200))![0];
      const map: Record<string, string> = { True: "true", False: "false", None: "null" };
      // an unquoted key (`{name: 1}`) gets its quotes; Python literals become JSON ones
      out += nextSignificant(text, i + word.length) === ":" ? `"${word}"` : map[word] ?? word;
      i += word.length - 1;
    } else out += c;
  }
  return { out, complete: false, end: i, stack, inString: quote !== "", cuts };
}

function closers(stack: string[]): string {
  return stack.slice().reverse().map((b) => CLOSER[b]).join("");
}

function matches(value: unknown, expect: JsonExpect): boolean {
  if (value === null || typeof value !== "object") return false;
  if (expect === "object") return !Array.isArray(value);
  if (expect === "array") return Array.isArray(value);
  return true;
}

function tryParse(text: string, expect: JsonExpect): { ok: true; value: unknown } | { ok: false } {
  try {
    const value = JSON.parse(text);
    return matches(value, expect) ? { ok: true, value } : { ok: false };
  } catch {
    return { ok: false };
  }
}

/** Closes a truncated walk: first as it stands, then cut back to each earlier element boundary. */
function closeTruncated(w: Walk, expect: JsonExpect): unknown | undefined {
  let body = w.out;
  if (w.inString) body += '"';
  body = body.replace(/\s+$/, "");
  if (body.endsWith(",")) body = body.slice(0, -1);
  if (body.endsWith(":")) body += "null";
  const whole = tryParse(body + closers(w.stack), expect);
  if (whole.ok) return whole.value;
  for (let k = w.cuts.length - 1; k >= 0 && k >= w.cuts.length - 200; k--) {
    const cut = w.cuts[k];
    const r = tryParse(w.out.slice(0, cut.at).replace(/,\s*$/, "") + closers(cut.stack), expect);
    if (r.ok) return r.value;
  }
  return undefined;
}

function openers(expect: JsonExpect): string[] {
  return expect === "object" ? ["{"] : expect === "array" ? ["["] : ["{", "["];
}

function fromSpanStart(text: string, expect: JsonExpect): JsonExtraction | undefined {
  const starts = openers(expect).map((o) => text.indexOf(o)).filter((i) => i >= 0).sort((a, b) =>
    a - b
  );
  for (const s of starts) {
    const w = walk(text, s);
    if (w.complete) {
      const r = tryParse(w.out, expect);
      if (r.ok) return { value: r.value, method: "repaired" };
    } else {
      const v = closeTruncated(w, expect);
      if (v !== undefined) return { value: v, method: "closed" };
    }
  }
  return undefined;
}

function longest(text: string, expect: JsonExpect): JsonExtraction | undefined {
  let best: { value: unknown; len: number } | undefined;
  let coveredUntil = -1;
  const wanted = openers(expect);
  for (let i = 0; i < text.length; i++) {
    if (!wanted.includes(text[i]) || i < coveredUntil) continue;
    const w = walk(text, i);
    if (!w.complete) continue;
    const r = tryParse(w.out, expect);
    if (!r.ok) continue;
    coveredUntil = w.end; // nested openers inside a decoded span can only be shorter
    if (!best || w.end - i > best.len) best = { value: r.value, len: w.end - i };
  }
  return best && { value: best.value, method: "longest" };
}

/**
 * Extracts a JSON value and reports how it was found; throws a `SyntaxError` (code `E_DATA`)
 * when no JSON can be recovered.
 *
 * @example
 * ```ts
 * import { extractJsonDetailed } from "./json_extract.ts";
 * const r = extractJsonDetailed("Sure! {'a': 1, 'b': [2, 3,],} Anything else?");
 * console.log(r.value, r.method); // { a: 1, b: [2, 3] } "repaired"
 * ```
 */
export function extractJsonDetailed(
  text: string,
  options: { expect?: JsonExpect } = {},
): JsonExtraction {
  if (typeof text !== "string") {
    throw withCode(
      new TypeError(`text is ${typeof text}; pass the model's reply as a string`),
      "E_DATA",
    );
  }
  const expect = options.expect ?? "any";
  const direct = tryParse(text.trim(), expect);
  if (direct.ok) return { value: direct.value, method: "direct" };
  const candidates: string[] = [];
  for (const m of text.matchAll(/```[A-Za-z]*[ \t]*\n?([\s\S]*?)(?:```|$)/g)) candidates.push(m[1]);
  candidates.push(text);
  for (const c of candidates) {
    const r = fromSpanStart(c, expect);
    if (r) return r;
  }
  const l = longest(text, expect);
  if (l) return l;
  const preview = text.length > 80 ? JSON.stringify(text.slice(0, 80)) + "…" : JSON.stringify(text);
  throw withCode(
    new SyntaxError(
      `no JSON ${expect === "any" ? "object or array" : expect} found in the reply ${preview}; ` +
        "ask the model to answer with JSON only",
    ),
    "E_DATA",
  );
}

/**
 * Extracts a JSON value from noisy model output (see the module doc for what is repaired).
 *
 * @example
 * ```ts
 * import { extractJson } from "./json_extract.ts";
 * extractJson('Here you go: {"name": "Ada", "tags": ["a", "b"'); // { name: "Ada", tags: ["a", "b"] }
 * ```
 */
export function extractJson(text: string, options: { expect?: JsonExpect } = {}): unknown {
  return extractJsonDetailed(text, options).value;
}

/** Options of {@link chatJson}. */
export interface ChatJsonOptions<T> {
  /** Checks and converts the extracted value; throw to reject it (the message is fed back). */
  validate?: (value: unknown) => T;
  expect?: JsonExpect;
  /** Retries after the first attempt (default 5): attempt 0 runs at temperature 0, retries at 1. */
  maxRetries?: number;
  /** Ask the model to fix a reply whose JSON cannot be extracted (default true). */
  repair?: boolean;
  /** Builds the repair conversation from the broken reply and the error. */
  repairMessages?: (raw: string, error: string) => ChatMessage[];
  /** Show the model why a parsed value was rejected on the next attempt (default true). */
  feedback?: boolean;
  /** Rewrites the conversation before a retry (e.g. to answer a refusal); default: unchanged. */
  beforeRetry?: (messages: ChatMessage[], raw: string, error: string) => ChatMessage[];
  /** Called once per failed attempt (for logs and counters). */
  onFailure?: (attempt: number, error: string, raw: string) => void;
}

/** The outcome of {@link chatJson}: a value, or a failure with the longest raw reply seen. */
export type ChatJsonResult<T> =
  | { ok: true; value: T; raw: string; attempts: number; method: JsonExtractMethod | "repair" }
  | { ok: false; reason: string; raw: string; attempts: number };

/** The default repair conversation: the broken reply, the error, and a request for JSON only. */
export function defaultRepairMessages(raw: string, error: string): ChatMessage[] {
  return [
    {
      role: "system",
      content: "You fix malformed JSON. Reply with the corrected JSON only, no commentary. " +
        "Keep every field and value that can be kept; if the text was cut off, drop the last " +
        "incomplete element and close all brackets.",
    },
    { role: "user", content: `The parser reported: ${error}\n\n===Text to fix===\n${raw}` },
  ];
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Asks a ChatModel for JSON and keeps asking until a valid value comes back: attempt 0 at
 * temperature 0, retries at temperature 1 (at most `maxRetries`). When a reply holds no
 * recoverable JSON the model is shown its reply with the parse error and asked to repair it; when
 * the value fails `validate`, the next attempt carries the validation error as feedback. Model
 * errors count as failed attempts. Never throws for model output; returns `ok: false` instead.
 *
 * @example
 * ```ts ignore
 * import { chatJson } from "./json_extract.ts";
 * import type { ChatModel } from "../contracts/chat_model.ts";
 * declare const model: ChatModel;
 * const r = await chatJson(model, { messages: [{ role: "user", content: "Give {\"n\": 1}" }] }, {
 *   validate: (v) => {
 *     if (typeof (v as { n?: unknown }).n !== "number") throw new TypeError("n must be a number");
 *     return v as { n: number };
 *   },
 * });
 * console.log(r.ok ? r.value.n : r.reason);
 * ```
 */
export async function chatJson<T = unknown>(
  model: ChatModel,
  request: ChatRequest,
  options: ChatJsonOptions<T> = {},
): Promise<ChatJsonResult<T>> {
  const maxRetries = options.maxRetries ?? 5;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw withCode(
      new RangeError(`maxRetries is ${maxRetries}; pass a whole number >= 0`),
      "E_CONFIG",
    );
  }
  const validate = options.validate ?? ((v: unknown) => v as T);
  const expect = options.expect ?? "any";
  let messages = request.messages;
  let longestRaw = "";
  let lastError = "no attempt made";
  for (let attempt = 0; attempt <= maxRetries; attempt++) {
    request.signal?.throwIfAborted();
    let raw = "";
    try {
      // A retry must be a new sample: a new seed, and an `attempt` that a response cache keys on
      // (CachedChatModel strips it before the model sees the request).
      const retry = attempt === 0 ? {} : {
        attempt,
        ...(request.seed === undefined ? {} : { seed: request.seed + attempt }),
      };
      const res = await model.chat(
        { ...request, ...retry, messages, temperature: attempt === 0 ? 0 : 1 } as ChatRequest,
      );
      raw = res.choices[0]?.message.content ?? "";
    } catch (e) {
      if (request.signal?.aborted) throw e;
      lastError = `model error: ${errorText(e)}`;
      options.onFailure?.(attempt, lastError, raw);
      messages = request.messages;
      continue;
    }
    if (raw.length > longestRaw.length) longestRaw = raw;
    let extracted: JsonExtraction | undefined;
    let method: JsonExtractMethod | "repair" = "direct";
    try {
      extracted = extractJsonDetailed(raw, { expect });
      method = extracted.method;
    } catch (e) {
      lastError = errorText(e);
      if (options.repair ?? true) {
        try {
          const fix = await model.chat({
            ...request,
            response_format: undefined,
            messages: (options.repairMessages ?? defaultRepairMessages)(raw, lastError),
            temperature: 0,
          });
          extracted = extractJsonDetailed(fix.choices[0]?.message.content ?? "", { expect });
          method = "repair";
        } catch (e2) {
          if (request.signal?.aborted) throw e2;
          lastError = `${lastError}; repair failed: ${errorText(e2)}`;
        }
      }
    }
    if (extracted) {
      try {
        return { ok: true, value: validate(extracted.value), raw, attempts: attempt + 1, method };
      } catch (e) {
        lastError = `invalid value: ${errorText(e)}`;
      }
    }
    options.onFailure?.(attempt, lastError, raw);
    if (options.beforeRetry) messages = options.beforeRetry(request.messages, raw, lastError);
    else if (extracted && (options.feedback ?? true)) {
      messages = [...request.messages, { role: "assistant", content: raw }, {
        role: "user",
        content:
          `That reply could not be used (${lastError}). Answer again with corrected JSON only.`,
      }];
    } else messages = request.messages;
  }
  return { ok: false, reason: lastError, raw: longestRaw, attempts: maxRetries + 1 };
}
