/**
 * Name normalisation (CoSER §1.9 step 6): a model lists the book's named characters and maps
 * every name variant to an official name (unnamed figures such as "the guard" map to
 * `impersonal`). Names the model leaves out are resolved by character 3-gram Jaccard similarity
 * to an official name (≥ 0.5), else `impersonal`. Own prompt wording.
 *
 * @module
 */

import type { ChatModel } from "../../../core/contracts/chat_model.ts";
import { chatJson } from "../../../core/util/json_extract.ts";

/** The label for characters without a proper name. */
export const IMPERSONAL = "impersonal";

/** The normalisation result. */
export interface NameMap {
  named_characters: string[];
  to_official_name: Record<string, string>;
}

function charGrams(s: string): Set<string> {
  const t = ` ${s.toLowerCase()} `;
  const out = new Set<string>();
  for (let i = 0; i + 3 <= t.length; i++) out.add(t.slice(i, i + 3));
  return out;
}

/** Jaccard similarity of character 3-gram sets (padded with spaces). */
export function nameSimilarity(a: string, b: string): number {
  const x = charGrams(a), y = charGrams(b);
  let inter = 0;
  for (const g of x) if (y.has(g)) inter++;
  return inter / (x.size + y.size - inter || 1);
}

/**
 * Resolves a name with a map: the mapped official name, else the most similar official name
 * (≥ 0.5), else `impersonal`.
 *
 * @example
 * ```ts
 * import { resolveName } from "./names.ts";
 * resolveName("Mira Holt.", { named_characters: ["Mira Holt"], to_official_name: {} }); // "Mira Holt"
 * ```
 */
export function resolveName(name: string, map: NameMap): string {
  if (name === "Environment") return name;
  const mapped = map.to_official_name[name];
  if (mapped !== undefined) return mapped;
  if (map.named_characters.includes(name)) return name;
  let best = IMPERSONAL, bestSim = 0.5 - 1e-12;
  for (const official of map.named_characters) {
    const s = nameSimilarity(name, official);
    if (s > bestSim) [best, bestSim] = [official, s];
  }
  return best;
}

/**
 * Asks `model` (then `fallbackModel` if given) to normalise names; `null` when both fail.
 *
 * @example
 * ```ts ignore
 * import { normaliseNames } from "./names.ts";
 * declare const model: import("../../../core/contracts/chat_model.ts").ChatModel;
 * const map = await normaliseNames(model, "B", ["Mira", "Mira Holt", "the guard"]);
 * ```
 */
export async function normaliseNames(
  model: ChatModel,
  book: string,
  names: string[],
  options: { fallbackModel?: ChatModel; maxRetries?: number } = {},
): Promise<NameMap | null> {
  const messages = [
    {
      role: "system" as const,
      content: `You tidy the character list of ${book}. Given the names that occur in extracted ` +
        "scenes, list the characters that have a proper name (use each one's full, most common " +
        "name without titles) and map every given name to its official name. Map unnamed figures " +
        `(e.g. "a guard", "the crowd") to "${IMPERSONAL}". Answer with JSON only: ` +
        '{"named_characters": [], "to_official_name": {"<given name>": "<official name>"}}',
    },
    { role: "user" as const, content: JSON.stringify(names) },
  ];
  const validate = (v: unknown): NameMap => {
    const o = v as Partial<NameMap>;
    if (
      !Array.isArray(o.named_characters) || o.named_characters.some((n) => typeof n !== "string")
    ) {
      throw new TypeError("named_characters must be a list of names");
    }
    if (!o.to_official_name || typeof o.to_official_name !== "object") {
      throw new TypeError("to_official_name must be an object");
    }
    return {
      named_characters: o.named_characters,
      to_official_name: o.to_official_name as Record<string, string>,
    };
  };
  for (const m of [model, options.fallbackModel]) {
    if (!m) continue;
    const r = await chatJson(m, { messages }, {
      expect: "object",
      validate,
      maxRetries: options.maxRetries ?? 5,
    });
    if (r.ok) return r.value;
  }
  return null;
}
