/**
 * The identity inventory of the hirpf plugin: ten Big-Five polarity experts, a configurable list
 * of profession experts, their full names, the expert groups of each insert mode, and the mapping
 * from a decoder layer to the groups it hosts.
 *
 * @module
 */

import { withCode } from "../../core/errors.ts";

/** The five Big-Five factors, in the canonical order the expert pool uses. */
export const BIG_FIVE_FACTORS = ["AGR", "CON", "EXT", "NEU", "OPE"] as const;
/** A canonical Big-Five factor code. */
export type BigFiveFactor = typeof BIG_FIVE_FACTORS[number];
/** The two polarities of a trait expert. */
export const POLARITIES = ["high", "low"] as const;
/** A trait polarity. */
export type Polarity = typeof POLARITIES[number];

/**
 * Full factor names used in prompts. `EMS` (emotional stability) is the label the released HIS
 * dialogues use for the fifth factor; it is accepted on ingest and kept for prompt wording.
 *
 * @example
 * ```ts
 * import { FACTOR_FULL_NAMES } from "./identities.ts";
 * console.log(FACTOR_FULL_NAMES.EMS); // "Emotional Stability"
 * ```
 */
export const FACTOR_FULL_NAMES: Readonly<Record<BigFiveFactor | "EMS", string>> = {
  AGR: "Agreeableness",
  CON: "Conscientiousness",
  EXT: "Extraversion",
  NEU: "Neuroticism",
  OPE: "Openness",
  EMS: "Emotional Stability",
};

/** The default professions (the paper's pool). */
export const DEFAULT_PROFESSIONS: readonly string[] = ["Doctor", "Artist", "Programmer"];

/**
 * The ten trait experts in canonical order: AGR_high, AGR_low, CON_high, ..., OPE_low.
 *
 * @example
 * ```ts
 * import { TRAIT_IDENTITIES } from "./identities.ts";
 * console.log(TRAIT_IDENTITIES[9]); // "OPE_low"
 * ```
 */
export const TRAIT_IDENTITIES: readonly string[] = BIG_FIVE_FACTORS.flatMap((f) =>
  POLARITIES.map((p) => `${f}_${p}`)
);

/** How the expert groups are placed on decoder layers (spec A4). */
export type InsertMode = "flat" | "alternate" | "layered";
/** The three insert modes. */
export const INSERT_MODES: readonly InsertMode[] = ["flat", "alternate", "layered"];

/** A parsed identity name. */
export type ParsedIdentity =
  | { kind: "trait"; name: string; factor: BigFiveFactor; polarity: Polarity }
  | { kind: "profession"; name: string };

/**
 * Checks a profession list: non-empty names of letters/digits/spaces without `_` (an underscore
 * would make the sanitizer read the name as a trait), unique, and not clashing with trait names.
 *
 * @example
 * ```ts
 * import { validateProfessions } from "./identities.ts";
 * validateProfessions(["Doctor", "Chef"]); // ok
 * ```
 */
export function validateProfessions(professions: readonly string[]): void {
  if (!Array.isArray(professions)) {
    throw withCode(
      new TypeError(`professions is ${typeof professions}; pass an array of names`),
      "E_CONFIG",
    );
  }
  const seen = new Set<string>();
  for (const p of professions) {
    if (typeof p !== "string" || !/^[A-Za-z][A-Za-z0-9 ]*$/.test(p)) {
      throw withCode(
        new RangeError(
          `profession ${
            JSON.stringify(p)
          } is not a plain name; use letters, digits and spaces only, ` +
            `starting with a letter and without "_" (e.g. "Doctor")`,
        ),
        "E_CONFIG",
      );
    }
    if (seen.has(p)) {
      throw withCode(
        new RangeError(`profession "${p}" is listed twice; list each once`),
        "E_CONFIG",
      );
    }
    seen.add(p);
  }
}

/**
 * Parses one canonical identity name against a profession list; `undefined` when unknown.
 *
 * @example
 * ```ts
 * import { parseIdentity } from "./identities.ts";
 * console.log(parseIdentity("EXT_low")); // { kind: "trait", name: "EXT_low", factor: "EXT", polarity: "low" }
 * ```
 */
export function parseIdentity(
  name: string,
  professions: readonly string[] = DEFAULT_PROFESSIONS,
): ParsedIdentity | undefined {
  if (professions.includes(name)) return { kind: "profession", name };
  const m = /^(AGR|CON|EXT|NEU|OPE)_(high|low)$/.exec(name);
  if (!m) return undefined;
  return { kind: "trait", name, factor: m[1] as BigFiveFactor, polarity: m[2] as Polarity };
}

/**
 * All identities of a pool in canonical order: the ten traits, then the professions.
 *
 * @example
 * ```ts
 * import { allIdentities } from "./identities.ts";
 * console.log(allIdentities().length); // 13
 * ```
 */
export function allIdentities(professions: readonly string[] = DEFAULT_PROFESSIONS): string[] {
  validateProfessions(professions);
  return [...TRAIT_IDENTITIES, ...professions];
}

/**
 * The expert groups (`config.adapter_names`) of an insert mode: `flat` merges everything into one
 * group; `alternate` and `layered` keep `[traits(10), professions]`.
 *
 * @example
 * ```ts
 * import { identityGroups } from "./identities.ts";
 * console.log(identityGroups("alternate").map((g) => g.length)); // [10, 3]
 * ```
 */
export function identityGroups(
  mode: InsertMode,
  professions: readonly string[] = DEFAULT_PROFESSIONS,
): string[][] {
  assertMode(mode);
  validateProfessions(professions);
  if (mode === "flat") return [[...TRAIT_IDENTITIES, ...professions]];
  const groups = [[...TRAIT_IDENTITIES]];
  if (professions.length > 0) groups.push([...professions]);
  return groups;
}

/**
 * The expert groups hosted by decoder block `layer` (0-based block index, i.e. hook points
 * `layers.{i}.attn.*`). `flat`: the single merged group on every layer. `alternate`: group
 * `layer mod G` only (with two groups, even layers host traits and odd layers professions).
 * `layered`: every group on every layer, each with its own gate; the deltas of the groups are
 * summed in parallel (`y = W x + Σ_g delta_g(x)`), not chained as in the released code.
 *
 * @example
 * ```ts
 * import { groupsForLayer } from "./identities.ts";
 * console.log(groupsForLayer(3, "alternate", 32)); // [1]
 * console.log(groupsForLayer(3, "layered", 32)); // [0, 1]
 * ```
 */
export function groupsForLayer(
  layer: number,
  mode: InsertMode,
  numLayers: number,
  numGroups = 2,
): number[] {
  assertMode(mode);
  if (!Number.isInteger(numLayers) || numLayers < 1) {
    throw withCode(
      new RangeError(`numLayers is ${numLayers}; pass a whole number >= 1`),
      "E_CONFIG",
    );
  }
  if (!Number.isInteger(layer) || layer < 0 || layer >= numLayers) {
    throw withCode(
      new RangeError(`layer is ${layer}; pass a 0-based block index in 0..${numLayers - 1}`),
      "E_CONFIG",
    );
  }
  if (mode === "flat") return [0];
  if (!Number.isInteger(numGroups) || numGroups < 1) {
    throw withCode(
      new RangeError(`numGroups is ${numGroups}; pass a whole number >= 1`),
      "E_CONFIG",
    );
  }
  if (mode === "alternate") return [layer % numGroups];
  return Array.from({ length: numGroups }, (_, g) => g);
}

function assertMode(mode: string): asserts mode is InsertMode {
  if (!(INSERT_MODES as readonly string[]).includes(mode)) {
    throw withCode(
      new RangeError(`insert mode is ${JSON.stringify(mode)}; use one of flat, alternate, layered`),
      "E_CONFIG",
    );
  }
}
