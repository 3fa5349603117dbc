/**
 * The Human Simulacra character profile (the `character_profiles.json` record) and the one-line
 * basic-information text the agents see.
 *
 * @module
 */

import { z } from "zod";
import { withCode } from "../../core/errors.ts";

/** A character profile, with the reference field names. */
export const characterProfileSchema = z.object({
  ID: z.string(),
  Gender: z.string().min(1),
  Name: z.string().min(1),
  Age: z.number().int().min(0),
  Date_of_birth: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  Photo: z.string().default("NULL"),
  Occupation: z.string().min(1),
  /** Twenty first-person sentences, "- I … - I …". */
  Traits: z.string(),
  Hobbies: z.string(),
  Family: z.string(),
  Education: z.string(),
  "Short-term_goals": z.string(),
  "Long-term_goal": z.string(),
  /** Ground-truth Jungian function stack, strongest first (Dramatis addition, optional). */
  Function_stack: z.array(z.enum(["Ne", "Ni", "Se", "Si", "Te", "Ti", "Fe", "Fi"])).length(8)
    .optional(),
});

/** A character profile. */
export type CharacterProfile = z.infer<typeof characterProfileSchema>;

/**
 * Validates a parsed profile; a bad field raises a TypeError (code `E_DATA`) naming it.
 *
 * @example
 * ```ts
 * import { parseProfile } from "./profile.ts";
 * declare const json: unknown;
 * const p = parseProfile(json, "characters/ada/profile.json");
 * ```
 */
export function parseProfile(value: unknown, source = "profile"): CharacterProfile {
  const r = characterProfileSchema.safeParse(value);
  if (!r.success) {
    const issues = r.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    throw withCode(
      new TypeError(
        `${source} is not a valid character profile (${issues.join("; ")}); ` +
          "see plugins/macm/README.md for the fields",
      ),
      "E_DATA",
    );
  }
  return r.data;
}

/**
 * The basic-information line (traits left out); `extra` attributes are appended as
 * `, Key: value` before the final full stop.
 *
 * @example
 * ```ts
 * import { basicInfo } from "./profile.ts";
 * declare const p: import("./profile.ts").CharacterProfile;
 * basicInfo(p, { Pet: "a grey cat" }); // "Name: …, Age: …, …, Long-term Goal: …, Pet: a grey cat."
 * ```
 */
export function basicInfo(p: CharacterProfile, extra: Record<string, string> = {}): string {
  const parts = [
    `Name: ${p.Name}`,
    `Age: ${p.Age}`,
    `Gender: ${p.Gender}`,
    `Date of Birth: ${p.Date_of_birth}`,
    `Occupation: ${p.Occupation}`,
    `Hobbies: '${p.Hobbies}'`,
    `Family: ${p.Family}`,
    `Education: ${p.Education}`,
    `Short-term Goals: '${p["Short-term_goals"]}'`,
    `Long-term Goal: ${p["Long-term_goal"]}`,
    ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`),
  ];
  return parts.join(", ") + ".";
}

/**
 * The persona header every agent starts from: who you are, your basic information and traits.
 *
 * @example
 * ```ts
 * import { personaHeader } from "./profile.ts";
 * declare const p: import("./profile.ts").CharacterProfile;
 * personaHeader(p).startsWith(`You are ${p.Name}.`); // true
 * ```
 */
export function personaHeader(p: CharacterProfile, extra: Record<string, string> = {}): string {
  return `You are ${p.Name}.\nYour basic information: ${basicInfo(p, extra)}\n` +
    `Your personality traits: ${p.Traits}`;
}
