/**
 * Canonical JSON and content hashes: the same value always serialises to the same bytes, so a
 * request hashes to the same cache key whatever order its fields were written in.
 *
 * @module
 */

/**
 * Serialises a value with object keys sorted and `undefined` members dropped (as `JSON.stringify`
 * drops them), so that equal values give equal strings.
 *
 * @example
 * ```ts
 * import { canonicalJson } from "./canonical_json.ts";
 * console.log(canonicalJson({ b: 1, a: [2, { d: undefined, c: 3 }] })); // {"a":[2,{"c":3}],"b":1}
 * ```
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => (v === undefined ? null : sortKeys(v)));
  if (value !== null && typeof value === "object") {
    if (typeof (value as { toJSON?: unknown }).toJSON === "function") {
      return sortKeys((value as { toJSON(): unknown }).toJSON());
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined && typeof v !== "function") out[key] = sortKeys(v);
    }
    return out;
  }
  if (typeof value === "number" && !Number.isFinite(value)) {
    throw new TypeError(
      `canonicalJson: ${value} is not representable in JSON; pass a finite number`,
    );
  }
  return value;
}

/**
 * The lowercase hex SHA-256 of a string's UTF-8 bytes.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./canonical_json.ts";
 * console.log(await sha256Hex("abc")); // ba7816bf…
 * ```
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
