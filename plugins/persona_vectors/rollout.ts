/**
 * Rollout planning (spec B2): the extraction system prompt, default assistant names, sampling
 * defaults, and the row order that keeps positive and negative rollouts aligned by
 * (question, instruction, sample).
 *
 * @module
 */

import type { ChatMessage } from "../../core/contracts/chat_model.ts";
import { type TraitArtifact, traitBaseName, type TraitSplit } from "./trait_artifact.ts";

/**
 * `You are {a|an} {name} assistant. {instruction}` — "an" before a vowel.
 *
 * @example
 * ```ts
 * import { rolloutSystemPrompt } from "./rollout.ts";
 * console.log(rolloutSystemPrompt("optimistic", "Look on the bright side."));
 * // "You are an optimistic assistant. Look on the bright side."
 * ```
 */
export function rolloutSystemPrompt(assistantName: string, instruction: string): string {
  const article = /^[aeiou]/i.test(assistantName) ? "an" : "a";
  return `You are ${article} ${assistantName} assistant. ${instruction}`;
}

/**
 * Assistant names for the two polarities: the trait's base name for pos, the artifact's antonym
 * (or "helpful") for neg.
 *
 * @example
 * ```ts
 * import { assistantNames } from "./rollout.ts";
 * console.log(assistantNames({ trait: "humorous_2" })); // { pos: "humorous", neg: "helpful" }
 * ```
 */
export function assistantNames(
  artifact: Pick<TraitArtifact, "trait" | "antonym">,
): { pos: string; neg: string } {
  return { pos: traitBaseName(artifact.trait), neg: artifact.antonym ?? "helpful" };
}

/**
 * Sampling settings for rollouts: temperature 1 (0 when one sample), top-p 1, 1000 new tokens.
 *
 * @example
 * ```ts
 * import { rolloutSampling } from "./rollout.ts";
 * console.log(rolloutSampling(1)); // { temperature: 0, top_p: 1, max_tokens: 1000 }
 * ```
 */
export function rolloutSampling(
  nPerQuestion: number,
): { temperature: number; top_p: number; max_tokens: number } {
  if (!Number.isInteger(nPerQuestion) || nPerQuestion < 1) {
    throw new RangeError(`nPerQuestion is ${nPerQuestion}; pass a whole number >= 1`);
  }
  return { temperature: nPerQuestion === 1 ? 0 : 1, top_p: 1, max_tokens: 1000 };
}

/** One planned extraction row: both polarities' conversations for one (question, instruction, sample). */
export interface ExtractionRow {
  question_id: number;
  question: string;
  instruction_index: number;
  sample: number;
  pos: ChatMessage[];
  neg: ChatMessage[];
}

/**
 * The extraction plan, question-major, then instruction, then sample (20 × 5 × 10 = 1,000 rows by
 * default). Row r of the positive and negative outputs belong together.
 *
 * @example
 * ```ts
 * import { extractionPlan } from "./rollout.ts";
 * declare const a: import("./trait_artifact.ts").TraitArtifact;
 * console.log(extractionPlan(a, a).length); // 1000 for the extract half (20 questions)
 * ```
 */
export function extractionPlan(
  artifact: Pick<TraitArtifact, "trait" | "antonym">,
  split: Pick<TraitSplit, "instruction" | "questions">,
  nPerQuestion = 10,
): ExtractionRow[] {
  rolloutSampling(nPerQuestion);
  const names = assistantNames(artifact);
  const rows: ExtractionRow[] = [];
  split.questions.forEach((question, q) => {
    split.instruction.forEach((pair, i) => {
      for (let s = 0; s < nPerQuestion; s++) {
        rows.push({
          question_id: q,
          question,
          instruction_index: i,
          sample: s,
          pos: [
            { role: "system", content: rolloutSystemPrompt(names.pos, pair.pos) },
            { role: "user", content: question },
          ],
          neg: [
            { role: "system", content: rolloutSystemPrompt(names.neg, pair.neg) },
            { role: "user", content: question },
          ],
        });
      }
    });
  });
  return rows;
}

/**
 * The plain evaluation plan: `[user(question)]` per question and sample, question-major.
 *
 * @example
 * ```ts
 * import { evaluationPlan } from "./rollout.ts";
 * console.log(evaluationPlan(["a?", "b?"], 2).map((r) => r.question_id)); // [0, 0, 1, 1]
 * ```
 */
export function evaluationPlan(
  questions: readonly string[],
  nPerQuestion = 10,
): { question_id: number; question: string; sample: number; messages: ChatMessage[] }[] {
  rolloutSampling(nPerQuestion);
  return questions.flatMap((question, q) =>
    Array.from({ length: nPerQuestion }, (_, s) => ({
      question_id: q,
      question,
      sample: s,
      messages: [{ role: "user" as const, content: question }],
    }))
  );
}

/** A judged rollout row (one polarity). */
export interface RolloutRow {
  question_id: number;
  instruction_index: number;
  sample: number;
  question: string;
  prompt: string;
  answer: string;
  /** Trait score 0–100, or null (refusal / judge failure). */
  trait: number | null;
  coherence: number | null;
}

/**
 * Pairs positive and negative rows by position and checks that each pair shares its
 * (question_id, instruction_index, sample) key.
 *
 * @example
 * ```ts
 * import { alignRollouts } from "./rollout.ts";
 * const r = { question_id: 0, instruction_index: 0, sample: 0, question: "q", prompt: "p", answer: "a",
 *   trait: 80, coherence: 90 };
 * console.log(alignRollouts([r], [{ ...r, trait: 5 }]).length); // 1
 * ```
 */
export function alignRollouts<
  R extends Pick<RolloutRow, "question_id" | "instruction_index" | "sample">,
>(
  pos: readonly R[],
  neg: readonly R[],
): { pos: R; neg: R }[] {
  if (pos.length !== neg.length) {
    throw new RangeError(
      `positive rollouts have ${pos.length} rows and negative ones ${neg.length}; ` +
        `generate both from the same extraction plan`,
    );
  }
  return pos.map((p, r) => {
    const n = neg[r];
    if (
      p.question_id !== n.question_id || p.instruction_index !== n.instruction_index ||
      p.sample !== n.sample
    ) {
      throw new RangeError(
        `row ${r} is misaligned: pos (${p.question_id}, ${p.instruction_index}, ${p.sample}) vs ` +
          `neg (${n.question_id}, ${n.instruction_index}, ${n.sample}); keep question-major order in both files`,
      );
    }
    return { pos: p, neg: n };
  });
}
