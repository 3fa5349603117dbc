/**
 * Randomised system prompts for training samples (CoSER §1.8, `fixed_template = false`): a random
 * opening line, a random header style (natural 40%, `===` 30%, `#` 20%, `*` 10%) with random
 * section titles, and random inclusion of optional sections. All wording is this project's own.
 *
 * @module
 */

import type { Prng } from "../../../core/util/prng.ts";

const OPENINGS: readonly ((name: string, book: string) => string)[] = [
  (n) => `You are ${n}.`,
  (n, b) => `You are ${n} from ${b}.`,
  (n) => `Play the role of ${n}.`,
  (n, b) => `Play the role of ${n} from ${b}.`,
  (n) => `Step into the shoes of ${n}.`,
  (n, b) => `Step into the shoes of ${n} from ${b}.`,
  (n) => `Act as ${n}.`,
  (n, b) => `Act as ${n}, a character of ${b}.`,
  (n) => `Take on the part of ${n}.`,
  (n, b) => `Take on the part of ${n} in ${b}.`,
  (n) => `From now on you speak as ${n}.`,
  (n, b) => `From now on you speak as ${n}, from ${b}.`,
  (n) => `Become ${n}.`,
  (n, b) => `Become ${n} of ${b}.`,
  (n) => `Your character is ${n}.`,
  (n, b) => `Your character is ${n}, from the book ${b}.`,
  (n) => `Portray ${n}.`,
  (n, b) => `Portray ${n} as written in ${b}.`,
  (n) => `Respond in character as ${n}.`,
  (n, b) => `Respond in character as ${n} from ${b}.`,
];

const TITLES: Record<string, readonly string[]> = {
  profile: ["{name}'s Profile", "Character Profile", "About {name}", "Who {name} Is"],
  others: ["Other Characters", "The Other Characters", "People in the Scene"],
  plot: ["Plot Summary", "Story So Far", "Background of the Plot"],
  scenario: ["Current Scenario", "Scenario", "The Scene", "Setting"],
  motivation: ["Your Inner Thoughts", "Motivation", "What {name} Wants"],
  requirements: ["Requirements", "Output Format", "How to Reply"],
};

/** The header styles with their weights. */
export const STYLES: readonly [string, number][] = [["natural", 0.4], ["equals", 0.3], [
  "hash",
  0.2,
], ["star", 0.1]];

function pickStyle(prng: Prng): string {
  let u = prng.next();
  for (const [s, w] of STYLES) {
    if (u < w) return s;
    u -= w;
  }
  return STYLES[0][0];
}

function header(style: string, title: string): string {
  if (style === "equals") return `===${title}===`;
  if (style === "hash") return `## ${title}`;
  if (style === "star") return `**${title}**`;
  return `${title}:`;
}

/** What a randomised character prompt may contain; absent parts are skipped. */
export interface TemplateParts {
  name: string;
  book: string;
  profile: string;
  others?: [string, string][];
  plotSummary?: string;
  scenario: string;
  motivation?: string;
  requirements?: string;
}

/**
 * Renders a randomised character system prompt.
 *
 * @example
 * ```ts
 * import { Prng } from "../../../core/util/prng.ts";
 * import { randomCharacterPrompt } from "./templates.ts";
 * randomCharacterPrompt({ name: "Mira", book: "B", profile: "P", scenario: "S" }, new Prng(1));
 * ```
 */
export function randomCharacterPrompt(parts: TemplateParts, prng: Prng): string {
  const style = pickStyle(prng);
  const title = (k: string) => prng.choice(TITLES[k]).replaceAll("{name}", parts.name);
  const out = [prng.choice(OPENINGS)(parts.name, parts.book)];
  const section = (k: string, body: string) => out.push(`${header(style, title(k))}\n${body}`);
  if (parts.profile.trim()) section("profile", parts.profile);
  if (parts.others?.length) {
    section(
      "others",
      parts.others.map(([n, p]) => `${n}: ${p}`).join("\n\n"),
    );
  }
  if (parts.plotSummary) section("plot", parts.plotSummary);
  section("scenario", parts.scenario);
  if (parts.motivation?.trim()) section("motivation", parts.motivation);
  if (parts.requirements) section("requirements", parts.requirements);
  return out.join("\n\n");
}
