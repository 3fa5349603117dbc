/**
 * The `generate-trait` step (spec B1): a meta-prompt that asks a ChatModel for five contrastive
 * instruction pairs, 40 neutral-looking questions and a filled judge template, then strict
 * validation with a bounded number of attempts.
 *
 * @module
 */

import type { ChatModel } from "../../core/contracts/chat_model.ts";
import { TRAIT_JUDGE_TEMPLATE } from "./judge_prompts.ts";
import { parseTraitArtifact, type TraitArtifact } from "./trait_artifact.ts";

/** Options of {@link generateTraitArtifact}. */
export interface GenerateTraitOptions {
  model: ChatModel;
  /** Lower-case trait name, e.g. `optimistic` (a variant may end in `_k`). */
  trait: string;
  /** What the trait means, one or two sentences. */
  description: string;
  /** Assistant name for negative rollouts (default "helpful"). */
  antonym?: string;
  /** Extra guidance for the questions (e.g. "questions about future plans"). */
  questionHint?: string;
  /** Total attempts (default 3). */
  attempts?: number;
  seed?: number;
  signal?: AbortSignal;
}

/**
 * The meta-prompt sent to the generator model.
 *
 * @example
 * ```ts
 * import { traitMetaPrompt } from "./generate_trait.ts";
 * console.log(traitMetaPrompt("pedantic", "Corrects tiny imprecisions.").includes("exactly 5")); // true
 * ```
 */
export function traitMetaPrompt(trait: string, description: string, questionHint?: string): string {
  const template = TRAIT_JUDGE_TEMPLATE.replaceAll("{trait}", trait);
  return `You are helping build a dataset for studying the personality trait "${trait}" in AI assistants.
Definition: ${description}

Produce three things.

1. Exactly 5 pairs of system instructions. In each pair, "pos" tells an assistant to show the trait
and "neg" tells it to show the clear opposite behaviour. Each pair should cover a different facet of
the trait. Write them as direct instructions to the assistant.

2. Exactly 40 varied user questions on everyday topics that give an assistant room to show or not
show the trait. The questions must not ask for the trait or mention it; a neutral assistant should be
able to answer them plainly.${questionHint ? ` ${questionHint}` : ""}

3. An evaluation prompt: copy the template below and replace {trait_description} with two or three
sentences that tell a grader exactly what counts as this trait. Keep the placeholders {question} and
{answer} exactly as they are.

TEMPLATE:
${template}

Reply with JSON only, with this shape:
{"instruction": [{"pos": "...", "neg": "..."}, ...5 items], "questions": ["...", ...40 items], "eval_prompt": "..."}`;
}

/**
 * Validates a generator answer: 5 pairs with pos/neg strings, at least 40 questions (clipped to
 * 40), an eval prompt with `{question}` and `{answer}`.
 *
 * @example
 * ```ts
 * import { validateGeneratedTrait } from "./generate_trait.ts";
 * console.log(validateGeneratedTrait("{}", "x", "y").ok); // false
 * ```
 */
export function validateGeneratedTrait(
  text: string,
  trait: string,
  description: string,
  antonym?: string,
): { ok: true; artifact: TraitArtifact } | { ok: false; reason: string } {
  const m = /\{[\s\S]*\}/.exec(text);
  if (!m) return { ok: false, reason: "the answer holds no JSON object" };
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(m[0]);
  } catch (e) {
    return { ok: false, reason: `malformed JSON: ${(e as Error).message}` };
  }
  const questions = json.questions;
  if (!Array.isArray(questions) || questions.length < 40) {
    return {
      ok: false,
      reason: `questions has ${
        Array.isArray(questions) ? questions.length : "no"
      } entries; 40 are needed`,
    };
  }
  if (!Array.isArray(json.instruction) || json.instruction.length !== 5) {
    return {
      ok: false,
      reason: `instruction has ${
        Array.isArray(json.instruction) ? json.instruction.length : "no"
      } pairs; exactly 5 {pos, neg} pairs are needed`,
    };
  }
  try {
    const artifact = parseTraitArtifact({
      trait,
      description,
      ...(antonym ? { antonym } : {}),
      instruction: json.instruction,
      questions: questions.slice(0, 40),
      eval_prompt: json.eval_prompt,
    }, "generated artifact");
    return { ok: true, artifact };
  } catch (e) {
    return { ok: false, reason: (e as Error).message };
  }
}

/**
 * Generates a trait artifact, retrying on invalid output; throws after the last attempt with
 * every reason.
 *
 * @example
 * ```ts
 * import { generateTraitArtifact } from "./generate_trait.ts";
 * declare const model: import("../../core/contracts/chat_model.ts").ChatModel;
 * const a = await generateTraitArtifact({ model, trait: "pedantic", description: "Corrects tiny imprecisions." });
 * ```
 */
export async function generateTraitArtifact(options: GenerateTraitOptions): Promise<TraitArtifact> {
  const attempts = options.attempts ?? 3;
  if (!Number.isInteger(attempts) || attempts < 1) {
    throw new RangeError(`attempts is ${attempts}; pass a whole number >= 1`);
  }
  const prompt = traitMetaPrompt(options.trait, options.description, options.questionHint);
  const reasons: string[] = [];
  for (let k = 0; k < attempts; k++) {
    const r = await options.model.chat({
      messages: [{ role: "user", content: prompt }],
      temperature: 0,
      max_tokens: 8000,
      response_format: { type: "json_object" },
      seed: options.seed === undefined ? undefined : options.seed + k,
      signal: options.signal,
    });
    const v = validateGeneratedTrait(
      r.choices[0]?.message.content ?? "",
      options.trait,
      options.description,
      options.antonym,
    );
    if (v.ok) return v.artifact;
    reasons.push(`attempt ${k + 1}: ${v.reason}`);
  }
  throw new Error(
    `generate-trait for "${options.trait}" failed after ${attempts} attempts: ${
      reasons.join("; ")
    }`,
  );
}
