/**
 * Identity-list sanitization (spec A6) and the `EMS_*` → `NEU_*` canonicalisation (spec A1).
 *
 * @module
 */

import { BIG_FIVE_FACTORS, DEFAULT_PROFESSIONS } from "./identities.ts";

/** At most this many identities are active at once (5 traits + 1 profession). */
export const MAX_IDENTITIES = 6;

/**
 * Maps an emotional-stability label onto the neuroticism expert with the polarity inverted
 * (`EMS_high` → `NEU_low`, `EMS_low` → `NEU_high`); any other name is returned unchanged.
 *
 * @example
 * ```ts
 * import { canonicalIdentity } from "./sanitize.ts";
 * console.log(canonicalIdentity("EMS_high")); // "NEU_low"
 * ```
 */
export function canonicalIdentity(name: string): string {
  if (name === "EMS_high") return "NEU_low";
  if (name === "EMS_low") return "NEU_high";
  return name;
}

/** Options of {@link sanitizeIdentities}. */
export interface SanitizeOptions {
  /** The profession pool; default Doctor, Artist, Programmer. */
  professions?: readonly string[];
  /** Returned when the request is missing or empty (the released CLI uses `["Artist"]`). */
  defaultIfEmpty?: readonly string[];
  /** Map `EMS_*` to `NEU_*` first (default true; the released sanitizer drops `EMS_*`). */
  canonicalize?: boolean;
}

/**
 * Sanitizes a requested identity list the way the released dataset and CLI do: walk in order;
 * keep the first profession only; keep a `FACTOR_suffix` name only if FACTOR is one of
 * AGR/CON/EXT/NEU/OPE and no name of that factor was kept yet (the first polarity wins; the suffix
 * is not checked, so the encoder later maps e.g. `AGR_medium` to an empty slot); drop anything
 * else silently; stop at six. Names are first canonicalised with {@link canonicalIdentity}.
 *
 * @example
 * ```ts
 * import { sanitizeIdentities } from "./sanitize.ts";
 * console.log(sanitizeIdentities(["Artist", "AGR_high", "Doctor", "AGR_low", "x"]));
 * // ["Artist", "AGR_high"]
 * ```
 */
export function sanitizeIdentities(
  requested: readonly string[] | undefined | null,
  options: SanitizeOptions = {},
): string[] {
  const professions = options.professions ?? DEFAULT_PROFESSIONS;
  if (!requested || requested.length === 0) return [...(options.defaultIfEmpty ?? [])];
  const kept: string[] = [];
  const factorsKept = new Set<string>();
  let professionKept = false;
  for (const raw of requested) {
    if (kept.length >= MAX_IDENTITIES) break;
    if (typeof raw !== "string") continue;
    const name = options.canonicalize === false ? raw : canonicalIdentity(raw);
    if (professions.includes(name)) {
      if (!professionKept) {
        kept.push(name);
        professionKept = true;
      }
      continue;
    }
    const cut = name.indexOf("_");
    if (cut < 0) continue;
    const factor = name.slice(0, cut);
    if (!(BIG_FIVE_FACTORS as readonly string[]).includes(factor)) continue;
    if (factorsKept.has(factor)) continue;
    factorsKept.add(factor);
    kept.push(name);
  }
  return kept;
}
