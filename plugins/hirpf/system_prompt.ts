/**
 * The identity system prompt (spec A3), built from templates stored as data in
 * `data/prompt_templates.json` so evaluation variants can swap wording without code changes.
 *
 * @module
 */

import { z } from "zod";
import { withCode } from "../../core/errors.ts";
import defaultTemplates from "./data/prompt_templates.json" with { type: "json" };
import { DEFAULT_PROFESSIONS, FACTOR_FULL_NAMES } from "./identities.ts";

/** The schema of a prompt-template file. */
export const PromptTemplatesSchema = z.object({
  identity_with_profession: z.string().includes("{profession}"),
  identity_without_profession: z.string(),
  traits_prefix: z.string(),
  trait: z.string().includes("{polarity}").includes("{factor}"),
  trait_separator: z.string(),
  sentence_end: z.string(),
  closing: z.object({
    both: z.string(),
    traits: z.string(),
    profession: z.string(),
    neither: z.string(),
  }),
});

/** Prompt templates. */
export type PromptTemplates = z.infer<typeof PromptTemplatesSchema>;

/**
 * The shipped templates, validated.
 *
 * @example
 * ```ts
 * import { DEFAULT_PROMPT_TEMPLATES } from "./system_prompt.ts";
 * console.log(DEFAULT_PROMPT_TEMPLATES.identity_without_profession); // "You are a human"
 * ```
 */
export const DEFAULT_PROMPT_TEMPLATES: PromptTemplates = PromptTemplatesSchema.parse(
  defaultTemplates,
);

/**
 * Reads and validates a template file.
 *
 * @example
 * ```ts
 * import { loadPromptTemplates } from "./system_prompt.ts";
 * const t = await loadPromptTemplates("plugins/hirpf/data/prompt_templates.json");
 * ```
 */
export async function loadPromptTemplates(path: string): Promise<PromptTemplates> {
  const text = await Deno.readTextFile(path);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw withCode(
      new SyntaxError(`${path} is not valid JSON: ${(e as Error).message}`),
      "E_CONFIG",
    );
  }
  const r = PromptTemplatesSchema.safeParse(json);
  if (!r.success) {
    throw withCode(
      new TypeError(
        `${path} is not a prompt-template file: ${
          r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")
        }`,
      ),
      "E_CONFIG",
    );
  }
  return r.data;
}

/**
 * `a` or `an` by the first letter (a vowel takes `an`).
 *
 * @example
 * ```ts
 * import { indefiniteArticle } from "./system_prompt.ts";
 * console.log(indefiniteArticle("artist")); // "an"
 * ```
 */
export function indefiniteArticle(word: string): "a" | "an" {
  return /^[aeiou]/i.test(word) ? "an" : "a";
}

/**
 * Builds the system prompt from identity labels in sanitized order. Trait labels may use `EMS_*`;
 * their wording is kept ("high emotional stability"), as the released data did. Unknown labels are
 * ignored.
 *
 * @example
 * ```ts
 * import { buildSystemPrompt } from "./system_prompt.ts";
 * console.log(buildSystemPrompt(["Artist", "AGR_high", "EMS_low"]));
 * // "You are an artist with high agreeableness, low emotional stability. Let these ..."
 * ```
 */
export function buildSystemPrompt(
  labels: readonly string[],
  templates: PromptTemplates = DEFAULT_PROMPT_TEMPLATES,
  professions: readonly string[] = DEFAULT_PROFESSIONS,
): string {
  let profession: string | undefined;
  const traits: string[] = [];
  for (const label of labels) {
    const m = /^(AGR|CON|EXT|NEU|OPE|EMS)_(high|low)$/.exec(label);
    if (m) {
      const factor = FACTOR_FULL_NAMES[m[1] as keyof typeof FACTOR_FULL_NAMES].toLowerCase();
      traits.push(templates.trait.replaceAll("{polarity}", m[2]).replaceAll("{factor}", factor));
    } else if (profession === undefined && professions.includes(label)) {
      profession = label;
    }
  }
  let text = profession === undefined
    ? templates.identity_without_profession
    : templates.identity_with_profession
      .replaceAll("{article}", indefiniteArticle(profession))
      .replaceAll("{profession}", profession.toLowerCase());
  if (traits.length > 0) text += templates.traits_prefix + traits.join(templates.trait_separator);
  const kind = profession !== undefined && traits.length > 0
    ? "both"
    : traits.length > 0
    ? "traits"
    : profession !== undefined
    ? "profession"
    : "neither";
  return text + templates.sentence_end + templates.closing[kind];
}
