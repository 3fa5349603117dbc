/**
 * Bearer-key checks that take the same time whether or not the key matches.
 *
 * @module
 */

import { createHash, timingSafeEqual } from "node:crypto";
import { HttpError } from "./http_error.ts";

function digest(s: string): Uint8Array {
  return createHash("sha256").update(s).digest();
}

/**
 * Whether `given` equals one of `keys`, compared in constant time.
 *
 * @example
 * ```ts
 * import { keyMatches } from "./auth.ts";
 * console.log(keyMatches("k1", ["k0", "k1"])); // true
 * ```
 */
export function keyMatches(given: string, keys: readonly string[]): boolean {
  const g = digest(given);
  let ok = false;
  for (const k of keys) ok = timingSafeEqual(g, digest(k)) || ok;
  return ok;
}

/**
 * The bearer token of a request, or undefined.
 *
 * @example
 * ```ts
 * import { bearerToken } from "./auth.ts";
 * console.log(bearerToken(new Request("http://x", { headers: { authorization: "Bearer k" } }))); // "k"
 * ```
 */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization") ?? "";
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m ? m[1].trim() : undefined;
}

/**
 * Throws a 401 HttpError (OpenAI's `invalid_api_key`) unless the request carries one of the keys.
 *
 * @example
 * ```ts
 * import { requireKey } from "./auth.ts";
 * requireKey(new Request("http://x", { headers: { authorization: "Bearer k" } }), ["k"]);
 * ```
 */
export function requireKey(request: Request, keys: readonly string[]): void {
  const token = bearerToken(request);
  if (token === undefined) {
    throw new HttpError(
      401,
      "no API key was given; send 'Authorization: Bearer <key>' with the key the server was started with",
      { code: "invalid_api_key" },
    );
  }
  if (!keyMatches(token, keys)) {
    throw new HttpError(401, "incorrect API key provided", { code: "invalid_api_key" });
  }
}
