/**
 * Rollout generation over any ChatModel (spec B2): extraction rollouts with positive and negative
 * system prompts, row-aligned by (question, instruction, sample), and plain evaluation rollouts.
 *
 * @module
 */

import type { ChatMessage, ChatModel } from "../../core/contracts/chat_model.ts";
import type { SteeringEntry } from "../../core/contracts/steerer.ts";
import type { StoredRow } from "./rows_file.ts";
import { evaluationPlan, extractionPlan, rolloutSampling } from "./rollout.ts";
import type { TraitArtifact, TraitSplit } from "./trait_artifact.ts";

/** Options of {@link extractionRollouts} and {@link evaluationRollouts}. */
export interface RolloutOptions {
  model: ChatModel;
  /** Samples per (question, instruction); default 10. */
  nPerQuestion?: number;
  /** Default 1000. */
  maxTokens?: number;
  /** Override the B2 temperature (1, or 0 when one sample). */
  temperature?: number;
  seed?: number;
  /** The prompt text stored in the `prompt` column (the chat template); default: JSON of the messages. */
  promptText?: (messages: readonly ChatMessage[]) => string;
  /** Steering entries for every request (local models and our server). */
  steering?: SteeringEntry[];
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

async function sample(
  o: RolloutOptions,
  messages: ChatMessage[],
  n: number,
  seed: number,
): Promise<string[]> {
  const s = rolloutSampling(n);
  const r = await o.model.chat({
    messages,
    n,
    max_tokens: o.maxTokens ?? s.max_tokens,
    temperature: o.temperature ?? s.temperature,
    top_p: s.top_p,
    seed,
    ...(o.steering?.length ? { steering: o.steering } : {}),
    signal: o.signal,
  });
  const out = r.choices.slice().sort((a, b) => a.index - b.index).map((c) => c.message.content);
  if (out.length !== n) {
    throw new RangeError(
      `${o.model.id} returned ${out.length} choices for n = ${n}; it must support n`,
    );
  }
  return out;
}

/**
 * Extraction rollouts: for every question, instruction pair and sample one positive and one
 * negative answer, in question-major order (row r of `pos` and `neg` belong together).
 *
 * @example
 * ```ts ignore
 * import { extractionRollouts } from "./run_rollouts.ts";
 * const { pos, neg } = await extractionRollouts(artifact, split, { model, nPerQuestion: 2 });
 * ```
 */
export async function extractionRollouts(
  artifact: Pick<TraitArtifact, "trait" | "antonym">,
  split: Pick<TraitSplit, "instruction" | "questions">,
  options: RolloutOptions,
): Promise<{ pos: StoredRow[]; neg: StoredRow[] }> {
  const n = options.nPerQuestion ?? 10;
  const plan = extractionPlan(artifact, split, n);
  const text = options.promptText ?? ((m) => JSON.stringify(m));
  const pos: StoredRow[] = [];
  const neg: StoredRow[] = [];
  const seed0 = options.seed ?? 0;
  // One request per (question, instruction) and polarity, with n samples.
  for (let g = 0; g < plan.length; g += n) {
    const first = plan[g];
    const [p, q] = [
      await sample(options, first.pos, n, seed0 + 2 * (g / n)),
      await sample(options, first.neg, n, seed0 + 2 * (g / n) + 1),
    ];
    for (let s = 0; s < n; s++) {
      const row = plan[g + s];
      const common = {
        question_id: row.question_id,
        instruction_index: row.instruction_index,
        sample: row.sample,
        question: row.question,
        trait: null,
        coherence: null,
      };
      pos.push({ ...common, prompt: text(row.pos), answer: p[s], messages: row.pos });
      neg.push({ ...common, prompt: text(row.neg), answer: q[s], messages: row.neg });
    }
    options.onProgress?.(g + n, plan.length);
  }
  return { pos, neg };
}

/**
 * Evaluation rollouts: `[user(question)]` per question and sample (optionally steered).
 *
 * @example
 * ```ts ignore
 * import { evaluationRollouts } from "./run_rollouts.ts";
 * const rows = await evaluationRollouts(["How was your day?"], { model, nPerQuestion: 1 });
 * ```
 */
export async function evaluationRollouts(
  questions: readonly string[],
  options: RolloutOptions,
): Promise<StoredRow[]> {
  const n = options.nPerQuestion ?? 10;
  const plan = evaluationPlan(questions, n);
  const text = options.promptText ?? ((m) => JSON.stringify(m));
  const rows: StoredRow[] = [];
  for (let g = 0; g < plan.length; g += n) {
    const first = plan[g];
    const answers = await sample(options, first.messages, n, (options.seed ?? 0) + g / n);
    for (let s = 0; s < n; s++) {
      const row = plan[g + s];
      rows.push({
        question_id: row.question_id,
        instruction_index: 0,
        sample: row.sample,
        question: row.question,
        prompt: text(row.messages),
        answer: answers[s],
        trait: null,
        coherence: null,
        messages: row.messages,
      });
    }
    options.onProgress?.(g + n, plan.length);
  }
  return rows;
}
