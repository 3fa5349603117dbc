/**
 * Simulated-user personas of LLM Roleplay: a sociodemographic feature set rendered into one
 * sentence, either from a fixed list mirroring the human participants or drawn at random.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { withCode } from "../../core/errors.ts";
import { Prng } from "../../core/util/prng.ts";

/** The five persona features, in their canonical order. */
export const PERSONA_FEATURE_NAMES = [
  "age",
  "race",
  "gender",
  "education",
  "native_english",
] as const;

/** One feature name. */
export type PersonaFeatureName = typeof PERSONA_FEATURE_NAMES[number];

/** A persona's feature values. */
export type PersonaFeatures = Record<PersonaFeatureName, string>;

/** A rendered persona with its stable hash. */
export interface RoleplayPersona {
  /** The sentence substituted for `<PERSONA>` in the inquirer's system prompt. */
  persona: string;
  /** md5 hex of the Python `str()` form of the feature dict (matches the reference runs). */
  persona_hash: string;
  features: PersonaFeatures;
}

/** The persona sentence; `<AGE>` etc. are replaced by the feature values. */
export const PERSONA_TEMPLATE =
  "<AGE>-year-old <RACE> individual with a <GENDER> gender identity, holding <EDUCATION> and English <NATIVE_ENGLISH> your native language";

/** The values each feature is drawn from in random mode. */
export const PERSONA_FEATURE_VALUES: Readonly<Record<PersonaFeatureName, readonly string[]>> = {
  age: ["a 18 to 24", "a 25 to 34", "a 35 to 44", "a 45 to 54", "a 55 to 64"],
  race: [
    "White",
    "Hispanic or Latino",
    "Black or African American",
    "Native American or American Indian",
    "Asian or Pacific Islander",
  ],
  gender: ["Female", "Male", "Nonbinary"],
  education: ["Master's degree", "Doctoral degree"],
  native_english: ["is", "is not"],
};

// The 20 fixed personas mirror the demographics of the study's human participants, as compact
// tuples [age, race, gender, education, native_english].
const W = "White", A = "Asian or Pacific Islander", M = "Master's degree", D = "Doctoral degree";
const FIXED_ROWS: readonly (readonly [string, string, string, string, string])[] = [
  ["a 25 to 34", W, "Male", M, "is not"],
  ["a 25 to 34", W, "Female", M, "is"],
  ["a 25 to 34", A, "Male", M, "is not"],
  ["a 25 to 34", W, "Male", M, "is not"],
  ["a 25 to 34", A, "Male", M, "is not"],
  ["a 25 to 34", W, "Male", M, "is not"],
  ["a 35 to 44", W, "Male", M, "is"],
  ["a 25 to 34", W, "Male", M, "is not"],
  ["a 25 to 34", W, "Female", D, "is not"],
  ["a 25 to 34", A, "Male", M, "is not"],
  ["a 18 to 24", A, "Male", M, "is not"],
  ["a 25 to 34", W, "Male", M, "is not"],
  ["a 18 to 24", A, "Male", M, "is not"],
  ["a 45 to 54", A, "Male", M, "is not"],
  ["a 25 to 34", A, "Male", M, "is not"],
  ["a 25 to 34", W, "Female", M, "is not"],
  ["a 25 to 34", A, "Male", M, "is not"],
  ["a 18 to 24", W, "Male", M, "is not"],
  ["a 25 to 34", W, "Male", M, "is"],
  ["a 25 to 34", A, "Female", D, "is not"],
];

/**
 * Python's `repr()` of a flat dict of strings, e.g. `{'age': 'a 25 to 34', 'education': "Master's
 * degree"}` — the string the reference implementation hashes.
 *
 * @example
 * ```ts
 * import { pythonDictRepr } from "./persona.ts";
 * pythonDictRepr({ a: "x" }); // "{'a': 'x'}"
 * ```
 */
export function pythonDictRepr(dict: Record<string, string>): string {
  const escape = (s: string) =>
    s.replaceAll("\\", "\\\\").replaceAll("\n", "\\n").replaceAll("\r", "\\r")
      .replaceAll("\t", "\\t");
  const repr = (s: string) => {
    if (s.includes("'") && !s.includes('"')) return `"${escape(s)}"`;
    return `'${escape(s).replaceAll("'", "\\'")}'`;
  };
  return "{" + Object.entries(dict).map(([k, v]) => `${repr(k)}: ${repr(v)}`).join(", ") + "}";
}

/**
 * Renders features into a persona with its hash. Throws a TypeError for a missing feature.
 *
 * @example
 * ```ts
 * import { makePersona } from "./persona.ts";
 * const p = makePersona({ age: "a 25 to 34", race: "White", gender: "Female",
 *   education: "Master's degree", native_english: "is" });
 * console.log(p.persona); // "a 25 to 34-year-old White individual with a Female gender identity, ..."
 * ```
 */
export function makePersona(
  features: PersonaFeatures,
  template = PERSONA_TEMPLATE,
): RoleplayPersona {
  const ordered = {} as PersonaFeatures;
  let persona = template;
  for (const name of PERSONA_FEATURE_NAMES) {
    const value = features?.[name];
    if (typeof value !== "string" || value === "") {
      throw withCode(
        new TypeError(
          `persona feature "${name}" is ${JSON.stringify(value)}; pass a non-empty string ` +
            `(e.g. ${JSON.stringify(PERSONA_FEATURE_VALUES[name][0])})`,
        ),
        "E_DATA",
      );
    }
    ordered[name] = value;
    persona = persona.replaceAll(`<${name.toUpperCase()}>`, value);
  }
  const persona_hash = createHash("md5").update(pythonDictRepr(ordered)).digest("hex");
  return { persona, persona_hash, features: ordered };
}

/**
 * The 20 fixed personas of the reference configuration.
 *
 * @example
 * ```ts
 * import { fixedPersonas } from "./persona.ts";
 * console.log(fixedPersonas().length); // 20
 * ```
 */
export function fixedPersonas(): RoleplayPersona[] {
  return FIXED_ROWS.map(([age, race, gender, education, native_english]) =>
    makePersona({ age, race, gender, education, native_english })
  );
}

/**
 * Draws `count` personas, each feature uniform over its values, repeatable for a seed.
 *
 * @example
 * ```ts
 * import { randomPersonas } from "./persona.ts";
 * const ps = randomPersonas(5, 42);
 * console.log(ps.map((p) => p.persona_hash));
 * ```
 */
export function randomPersonas(
  count: number,
  seed: number,
  values: Readonly<Record<PersonaFeatureName, readonly string[]>> = PERSONA_FEATURE_VALUES,
): RoleplayPersona[] {
  if (!Number.isInteger(count) || count < 0) {
    throw new RangeError(`count is ${count}; pass a whole number >= 0`);
  }
  const rng = new Prng(seed);
  const out: RoleplayPersona[] = [];
  for (let i = 0; i < count; i++) {
    const f = {} as PersonaFeatures;
    for (const name of PERSONA_FEATURE_NAMES) f[name] = rng.choice(values[name]);
    out.push(makePersona(f));
  }
  return out;
}
