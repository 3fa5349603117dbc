/**
 * Reading and setting request extensions (core/contracts/request_extension.ts) on a ChatRequest.
 *
 * @module
 */

import type { ChatRequest } from "../contracts/chat_model.ts";

/**
 * The value of one request extension, or undefined.
 *
 * @example
 * ```ts
 * import { requestExtension } from "./request_extensions.ts";
 * const r = { messages: [], extensions: { identities: ["Doctor"] } };
 * console.log(requestExtension<string[]>(r, "identities")); // ["Doctor"]
 * ```
 */
export function requestExtension<T = unknown>(
  request: Pick<ChatRequest, "extensions">,
  name: string,
): T | undefined {
  return request.extensions?.[name] as T | undefined;
}

/**
 * A copy of the request with one extension set, or removed when `value` is undefined (an
 * `extensions` object left empty is dropped).
 *
 * @example
 * ```ts
 * import { withRequestExtension } from "./request_extensions.ts";
 * const r = withRequestExtension({ messages: [] }, "identities", ["Doctor"]);
 * console.log(r.extensions); // { identities: ["Doctor"] }
 * console.log(withRequestExtension(r, "identities", undefined).extensions); // undefined
 * ```
 */
export function withRequestExtension<R extends Pick<ChatRequest, "extensions">>(
  request: R,
  name: string,
  value: unknown,
): R {
  const extensions = { ...request.extensions };
  if (value === undefined) delete extensions[name];
  else extensions[name] = value;
  const out = { ...request };
  if (Object.keys(extensions).length) out.extensions = extensions;
  else delete out.extensions;
  return out;
}
