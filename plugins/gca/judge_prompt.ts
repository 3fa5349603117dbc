/**
 * The critic prompts of the GCA judge (CoSER §1.6): four dimensions, each with a brief and a flaw
 * taxonomy, inserted into one critic template. The wording is this project's own paraphrase;
 * the structure (sections, severity scale, JSON keyed by the dimension) follows the paper.
 *
 * Deviation: the main-character list inside the Character Fidelity instructions is filled in
 * (the released code leaves the literal `{major_characters}` there).
 *
 * @module
 */

import type { TestRecord } from "./schemas.ts";

/** The four judged dimensions. */
export const DIMENSIONS = [
  "Storyline Consistency",
  "Anthropomorphism",
  "Character Fidelity",
  "Storyline Quality",
] as const;

/** One judged dimension. */
export type Dimension = typeof DIMENSIONS[number];

interface DimensionSpec {
  brief: string;
  /** Extra instruction; `{major_characters}` is replaced by the comma-joined list. */
  instructions: string;
  flaws: [string, string][];
}

/** Briefs and flaw types per dimension. */
export const DIMENSION_SPECS: Readonly<Record<Dimension, DimensionSpec>> = {
  "Storyline Consistency": {
    brief:
      "whether the simulated conversation unfolds, and whether its characters react, the way " +
      "the original conversation does",
    instructions: "Use the original conversation as the yardstick for how each character responds.",
    flaws: [[
      "Storyline Consistency",
      "a character's reaction (emotion, attitude or behaviour) departs from the one shown in the " +
      "original conversation",
    ]],
  },
  "Anthropomorphism": {
    brief: "how convincingly every character comes across as a real human being",
    instructions: "Look at each character's inner life as well as their words and actions.",
    flaws: [
      [
        "Self-identity",
        "the character has no initiative or goals of its own, makes no decisions of its own, shows no preferences, or sounds like a helpful, wordy, moralising or submissive AI assistant when the character would not",
      ],
      [
        "Emotional Depth",
        "emotions are shallow or mechanical, or the character names its feelings outright where a person would let them show through subtext",
      ],
      [
        "Persona Coherence",
        "the character's traits are inconsistent or change abruptly within the scene",
      ],
      [
        "Social Interaction",
        "the character fails to read what others think or feel, answers without regard to context, or handles people clumsily",
      ],
    ],
  },
  "Character Fidelity": {
    brief: "how faithfully the main characters are played relative to their established profiles",
    instructions: "Judge only the main characters ({major_characters}); ignore everybody else.",
    flaws: [
      [
        "Character Language",
        "vocabulary, phrasing or tone do not fit the character's background and era",
      ],
      [
        "Knowledge & Background",
        "the character lacks knowledge it should have, or reveals events it cannot know yet",
      ],
      [
        "Personality & Behavior",
        "emotions, values, decisions or interests clash with the profile, or reactions contrast with the original conversation (also count such a case under Storyline Consistency)",
      ],
      [
        "Relationship & Social Status",
        "the character treats others in a way its relationships and social standing rule out",
      ],
    ],
  },
  "Storyline Quality": {
    brief: "how logical and how well told the simulated conversation is as a story",
    instructions: "Consider the conversation as a whole.",
    flaws: [
      [
        "Flow & Progression",
        "the story moves unnaturally or stalls; replies are wordy or redundant; characters echo others or repeat themselves mechanically (for heavy repetition the severity may go up to 10)",
      ],
      [
        "Logical Consistency",
        "statements contradict facts established in the scene or in the story",
      ],
    ],
  },
};

/** What the critic template needs besides the dimension. */
export interface CriticContext {
  record: TestRecord;
  /** Profiles of the involved characters. */
  profiles: Record<string, string>;
  /** The original conversation, rendered. */
  reference: string;
  /** How many leading messages were copied from the original (continue-from runs). */
  continueFrom?: number;
}

/**
 * Builds the system prompt for one dimension; the simulated transcript goes in the user message.
 *
 * @example
 * ```ts ignore
 * import { buildCriticPrompt } from "./judge_prompt.ts";
 * declare const ctx: import("./judge_prompt.ts").CriticContext;
 * const system = buildCriticPrompt("Anthropomorphism", ctx);
 * system.endsWith("===Dialogue Content===\n"); // true
 * ```
 */
export function buildCriticPrompt(dimension: Dimension, ctx: CriticContext): string {
  const spec = DIMENSION_SPECS[dimension];
  const majors = ctx.record.major_characters.join(", ");
  let instructions = spec.instructions.replaceAll("{major_characters}", majors);
  if (ctx.continueFrom && ctx.continueFrom > 0) {
    instructions += ` The first ${ctx.continueFrom} messages of the simulated conversation were ` +
      "copied from the original conversation; do not count flaws in them.";
  }
  const profiles = Object.entries(ctx.profiles).map(([n, p]) => `### ${n}\n${p}`).join("\n\n");
  const criteria = spec.flaws.map(([t, d]) => `- ${t}: ${d}.`).join("\n");
  return [
    `You are a literary critic assessing a simulated conversation between characters of ${ctx.record.book}.`,
    "Proceed in two steps.\n" +
    `1. Read the story context and scenario, the profiles of the main characters (${majors}), ` +
    "and the original conversation, which serves as a reference.\n" +
    `2. Assess the simulated conversation for ${dimension}: ${spec.brief}. Messages mix speech, ` +
    "actions in ( ) and thoughts in [ ]; other characters cannot perceive thoughts. " +
    instructions,
    `## Scenario\n\n### Plot Summary\n${ctx.record.plot.summary}\n\n### Current Scenario\n${ctx.record.scenario}`,
    `## Character Profiles\n\n${profiles}`,
    `## Original Conversation\n\n${ctx.reference}`,
    `## Evaluation Criteria\n\nFlaw types for ${dimension}:\n${criteria}`,
    "## Scoring Guidelines\n\nFind every instance of a flaw in the simulated conversation. Rate " +
    "each with a whole-number severity: 1 for a minor flaw, 3 for a moderate one, 5 for a severe one.",
    "## Output Requirements\n\nAnswer with JSON only, in this shape:\n" +
    `{"${dimension}": {"flaws": [{"instance": "<what happened>", "type": "<flaw type>", "severity": <integer>}]}}\n` +
    'Use an empty list when there is no flaw: {"' + dimension + '": {"flaws": []}}',
    "===Dialogue Content===\n",
  ].join("\n\n");
}
