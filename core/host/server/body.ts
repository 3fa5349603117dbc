/**
 * Reading a request body under a byte limit, without trusting `content-length`.
 *
 * @module
 */

import { HttpError } from "./http_error.ts";

/**
 * Reads the body as bytes; throws a 413 HttpError once it passes `maxBytes`.
 *
 * @example
 * ```ts
 * import { readBodyLimited } from "./body.ts";
 * const bytes = await readBodyLimited(new Request("http://x", { method: "POST", body: "hi" }), 10);
 * console.log(bytes.length); // 2
 * ```
 */
export async function readBodyLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
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
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(`over ${total}`);
    }
    parts.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Reads and parses a JSON body under a byte limit; a parse failure is a 400.
 *
 * @example
 * ```ts
 * import { readJsonLimited } from "./body.ts";
 * const req = new Request("http://x", { method: "POST", body: '{"a":1}' });
 * console.log(await readJsonLimited(req, 1024)); // { a: 1 }
 * ```
 */
export async function readJsonLimited(request: Request, maxBytes: number): Promise<unknown> {
  const bytes = await readBodyLimited(request, maxBytes);
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new HttpError(400, `the request body is not valid JSON (${(error as Error).message})`, {
      code: "invalid_json",
    });
  }
}
