/**
 * Evaluation item banks of the hirpf plugin, shipped as data: the 100 public-domain IPIP Big-Five
 * factor markers (`data/bf_marker_100.json`), the profession competence scale
 * (`data/profession_scale.json`) and the open situational tests (`data/situational_tests.json`).
 *
 * @module
 */

import { z } from "zod";
import bfItems from "../data/bf_marker_100.json" with { type: "json" };
import professionItems from "../data/profession_scale.json" with { type: "json" };
import situationalTests from "../data/situational_tests.json" with { type: "json" };

/**
 * One IPIP marker. `factor` is EXT, AGR, CON, EMS or OPE; the fifth factor is keyed for emotional
 * stability (as in IPIP), so a high EMS score means low neuroticism. `key` is the keying direction.
 */
export const ScaleItemSchema = z.object({
  id: z.string(),
  factor: z.enum(["EXT", "AGR", "CON", "EMS", "OPE"]),
  key: z.enum(["pos", "neg"]),
  content: z.string().min(1),
});
/** One Big-Five marker item. */
export type ScaleItem = z.infer<typeof ScaleItemSchema>;

/** One profession competence statement (first person, positively keyed). */
export const ProfessionItemSchema = z.object({
  id: z.string(),
  profession: z.string(),
  statement: z.string().min(1),
});
/** One profession item. */
export type ProfessionItem = z.infer<typeof ProfessionItemSchema>;

/** One open situational test. `dimension` is a factor code (NEU, not EMS) or a profession. */
export const SituationalTestSchema = z.object({
  dimension: z.string(),
  scenario: z.string(),
  npc_setting: z.string(),
  npc_prompt: z.string(),
  interaction: z.string(),
});
/** One situational test. */
export type SituationalTest = z.infer<typeof SituationalTestSchema>;

/**
 * The 100 IPIP Big-Five marker items (20 per factor).
 *
 * @example
 * ```ts
 * import { BF_MARKER_100 } from "./items.ts";
 * console.log(BF_MARKER_100.filter((i) => i.factor === "EXT").length); // 20
 * ```
 */
export const BF_MARKER_100: readonly ScaleItem[] = z.array(ScaleItemSchema).parse(bfItems);

/**
 * The 60 profession statements (20 each for Doctor, Artist, Programmer).
 *
 * @example
 * ```ts
 * import { PROFESSION_SCALE } from "./items.ts";
 * console.log(PROFESSION_SCALE.filter((i) => i.profession === "Doctor").length); // 20
 * ```
 */
export const PROFESSION_SCALE: readonly ProfessionItem[] = z.array(ProfessionItemSchema).parse(
  professionItems,
);

/**
 * The 8 situational tests (5 Big-Five factors + 3 professions).
 *
 * @example
 * ```ts
 * import { SITUATIONAL_TESTS } from "./items.ts";
 * console.log(SITUATIONAL_TESTS.map((t) => t.dimension));
 * ```
 */
export const SITUATIONAL_TESTS: readonly SituationalTest[] = z.array(SituationalTestSchema).parse(
  situationalTests,
);

/**
 * Turns a first-person fragment into a full first-person statement: `"Am the life of the party"`
 * → `"I am the life of the party"`; a statement already starting with "I " is kept.
 *
 * @example
 * ```ts
 * import { firstPersonStatement } from "./items.ts";
 * console.log(firstPersonStatement("Don't talk a lot")); // "I don't talk a lot"
 * ```
 */
export function firstPersonStatement(content: string): string {
  const t = content.trim().replace(/[.]+$/, "");
  if (/^I\b/.test(t)) return t;
  return "I " + t.charAt(0).toLowerCase() + t.slice(1);
}

/**
 * The interviewer's opening question for a statement (our rewording; the paper's question rewrites
 * are not published).
 *
 * @example
 * ```ts
 * import { openingQuestion } from "./items.ts";
 * console.log(openingQuestion("Am the life of the party"));
 * // 'Would you say this is true of you: "I am the life of the party"? Tell me a bit about it.'
 * ```
 */
export function openingQuestion(content: string): string {
  return `Would you say this is true of you: "${
    firstPersonStatement(content)
  }"? Tell me a bit about it.`;
}

/**
 * The factor an identity is measured on and the direction it should push the score: `NEU_high`
 * is measured on the stability-keyed EMS items and should score low.
 *
 * @example
 * ```ts
 * import { scaleTarget } from "./items.ts";
 * console.log(scaleTarget("NEU_high")); // { factor: "EMS", expect: "low" }
 * ```
 */
export function scaleTarget(
  identity: string,
): { factor: ScaleItem["factor"]; expect: "high" | "low" } | undefined {
  const m = /^(AGR|CON|EXT|NEU|OPE)_(high|low)$/.exec(identity);
  if (!m) return undefined;
  const polarity = m[2] as "high" | "low";
  if (m[1] === "NEU") return { factor: "EMS", expect: polarity === "high" ? "low" : "high" };
  return { factor: m[1] as ScaleItem["factor"], expect: polarity };
}
