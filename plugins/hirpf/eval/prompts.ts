/**
 * Prompt texts of the hirpf evaluation (written for this project): the interviewer instruction,
 * the scale judge, the situational NPC instruction and the identity-detection judge.
 *
 * @module
 */

/** The five IPIP accuracy options. */
export const SCALE_OPTIONS = ["A", "B", "C", "D", "E"] as const;
/** One option letter. */
export type ScaleOption = typeof SCALE_OPTIONS[number];
/** Option labels. */
export const SCALE_OPTION_LABELS: Readonly<Record<ScaleOption, string>> = {
  A: "Very Inaccurate",
  B: "Moderately Inaccurate",
  C: "Neither Accurate Nor Inaccurate",
  D: "Moderately Accurate",
  E: "Very Accurate",
};

/** A transcript line of an interview or a situational dialogue. */
export interface EvalLine {
  speaker: "interviewer" | "agent" | "npc";
  text: string;
}

/**
 * The single instruction the interviewer model receives before the (role-swapped) transcript.
 *
 * @example
 * ```ts
 * import { interviewerInstruction } from "./prompts.ts";
 * console.log(interviewerInstruction("I am the life of the party").includes("life of the party")); // true
 * ```
 */
export function interviewerInstruction(statement: string): string {
  return [
    "You are interviewing someone to find out whether the following statement describes them:",
    `"${statement}"`,
    "Read their answers so far and ask exactly one short follow-up question that would reveal more",
    "about this. Ask for concrete situations or habits. Do not suggest an answer, do not judge them,",
    "and do not mention the statement word for word. Reply with the question only.",
  ].join("\n");
}

/**
 * The scale judge prompt: the transcript anonymised as X (interviewer) and Y (the person), the
 * statement, the five options and the JSON answer format. If Y says it is an AI the answer is C.
 *
 * @example
 * ```ts
 * import { scaleJudgePrompt } from "./prompts.ts";
 * const p = scaleJudgePrompt([{ speaker: "interviewer", text: "Q?" }, { speaker: "agent", text: "A." }],
 *   "I like order");
 * console.log(p.includes("X: Q?") && p.includes("Y: A.")); // true
 * ```
 */
export function scaleJudgePrompt(transcript: readonly EvalLine[], statement: string): string {
  const lines = transcript.map((l) => `${l.speaker === "agent" ? "Y" : "X"}: ${l.text}`).join("\n");
  const options = SCALE_OPTIONS.map((o) => `(${o}) ${SCALE_OPTION_LABELS[o]}`).join("\n");
  return [
    "Below is an interview between X and Y.",
    "----",
    lines,
    "----",
    `Based only on what Y said, how accurately does this statement describe Y: "${statement}"?`,
    options,
    "If Y says that it is an AI, a language model or a program, choose (C).",
    'Answer with JSON only, in the form {"option": "<A|B|C|D|E>", "desc": "<one-sentence reason>"}.',
  ].join("\n");
}

/**
 * The NPC's system instruction in a situational test.
 *
 * @example
 * ```ts
 * import { npcInstruction } from "./prompts.ts";
 * console.log(npcInstruction("You are the host.", "Ask for a toast.").endsWith("40 words.")); // true
 * ```
 */
export function npcInstruction(setting: string, prompt: string): string {
  return `${setting}\n${prompt}\nSpeak casually, react to what the other person says, do not ask ` +
    "them for background details about themselves, and keep every line under 40 words.";
}

/**
 * The identity-detection judge prompt for a situational dialogue. The judge answers JSON with the
 * five factors (`"high" | "low" | null`) and the profession (a name or null).
 *
 * @example
 * ```ts
 * import { identityJudgePrompt } from "./prompts.ts";
 * const p = identityJudgePrompt("At a party.", [{ speaker: "npc", text: "Hi" }], ["Doctor"]);
 * console.log(p.includes('"Profession"')); // true
 * ```
 */
export function identityJudgePrompt(
  scenario: string,
  transcript: readonly EvalLine[],
  professions: readonly string[],
): string {
  const lines = transcript.map((l) => `${l.speaker === "agent" ? "Y" : "X"}: ${l.text}`).join("\n");
  return [
    `Scenario: ${scenario}`,
    "Here is a conversation between X and Y.",
    "----",
    lines,
    "----",
    "Infer Y's personality and occupation from how Y talks and behaves. For each Big-Five factor",
    'answer "high", "low", or null when the conversation gives no clear evidence:',
    "AGR (agreeableness), CON (conscientiousness), EXT (extraversion), NEU (neuroticism: high means",
    "anxious and easily upset, low means calm and emotionally stable), OPE (openness).",
    `For Profession answer one of ${professions.map((p) => JSON.stringify(p)).join(", ")} or null.`,
    'Answer with JSON only, e.g. {"AGR": "high", "CON": null, "EXT": "low", "NEU": null, ' +
    '"OPE": null, "Profession": null}.',
  ].join("\n");
}

/**
 * The JSON Schema of a scale verdict, sent as `response_format` so local judges decode valid JSON
 * (constrained decoding) and APIs with structured outputs answer in shape.
 *
 * @example
 * ```ts
 * import { SCALE_VERDICT_FORMAT } from "./prompts.ts";
 * console.log(SCALE_VERDICT_FORMAT.json_schema.name); // "scale_verdict"
 * ```
 */
export const SCALE_VERDICT_FORMAT = {
  type: "json_schema" as const,
  json_schema: {
    name: "scale_verdict",
    schema: {
      type: "object",
      properties: {
        option: { type: "string", enum: [...SCALE_OPTIONS] },
        desc: { type: "string", maxLength: 200 },
      },
      required: ["option", "desc"],
      additionalProperties: false,
    },
  },
};
