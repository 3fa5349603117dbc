/**
 * Reading a request body under a byte limit and a deadline, without trusting `content-length`.
 *
 * @module
 */

import { jsonDepth } from "../../util/json_depth.ts";
import { HttpError } from "./http_error.ts";

/**
 * Reads the body as bytes; throws a 413 HttpError once it passes `maxBytes`, a 400 when the client
 * cuts the body short, and the signal's reason when `signal` aborts first (a request time limit
 * that covers reading the body).
 *
 * @example
 * ```ts
 * import { readBodyLimited } from "./body.ts";
 * const bytes = await readBodyLimited(new Request("http://x", { method: "POST", body: "hi" }), 10);
 * console.log(bytes.length); // 2
 * ```
 */
export async function readBodyLimited(
  request: Request,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const tooLarge = (n: string) =>
    new HttpError(413, `the request body is ${n} bytes, over the limit of ${maxBytes}; send less`, {
      code: "request_too_large",
    });
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(String(declared));
  if (!request.body) return new Uint8Array();
  const parts: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    if (!signal) return;
    onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await Promise.race([reader.read(), aborted]);
      } catch (error) {
        if (signal?.aborted && error === signal.reason) throw error;
        throw new HttpError(
          400,
          `the request body was cut short after ${total} bytes; send the whole body`,
          { code: "incomplete_body" },
        );
      }
      if (chunk.done) break;
      total += chunk.value.length;
      if (total > maxBytes) throw tooLarge(`over ${total}`);
      parts.push(chunk.value);
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
  if (Number.isFinite(declared) && request.headers.has("content-length") && total < declared) {
    throw new HttpError(
      400,
      `the request body was cut short: ${total} of the ${declared} bytes declared arrived`,
      { code: "incomplete_body" },
    );
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Largest nesting of arrays and objects a JSON body may have. */
export const MAX_JSON_DEPTH = 64;

/**
 * Parses JSON text that a client sent: a 400 for bad JSON or nesting deeper than `maxDepth`.
 *
 * @example
 * ```ts
 * import { parseJsonLimited } from "./body.ts";
 * console.log(parseJsonLimited('{"a":1}')); // { a: 1 }
 * ```
 */
export function parseJsonLimited(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  const depth = jsonDepth(text);
  if (depth > maxDepth) {
    throw new HttpError(
      400,
      `the JSON nests ${depth} levels deep, over the limit of ${maxDepth}; flatten it`,
      { code: "invalid_json" },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `the request body is not valid JSON (${(error as Error).message})`, {
      code: "invalid_json",
    });
  }
}

/**
 * Reads and parses a JSON body under a byte limit; a parse failure or nesting deeper than
 * {@link MAX_JSON_DEPTH} is a 400.
 *
 * @example
 * ```ts
 * import { readJsonLimited } from "./body.ts";
 * const req = new Request("http://x", { method: "POST", body: '{"a":1}' });
 * console.log(await readJsonLimited(req, 1024)); // { a: 1 }
 * ```
 */
export async function readJsonLimited(
  request: Request,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<unknown> {
  const bytes = await readBodyLimited(request, maxBytes, signal);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "the request body is not UTF-8 text", { code: "invalid_json" });
  }
  return parseJsonLimited(text);
}
