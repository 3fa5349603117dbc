/**
 * An LLM stand-in for the paper's human evaluation: was the user side of a dialogue written by a
 * person or by a simulated user? Plus the per-inquirer indistinguishability rate.
 *
 * @module
 */

import { z } from "zod";
import type { ChatMessage } from "../../core/contracts/chat_model.ts";
import type { Judge, JudgeContext, Verdict } from "../../core/contracts/judge.ts";
import { chatJson } from "../../core/util/json_extract.ts";
import type { DialogTurn } from "./record.ts";

/** The verdict: who wrote the user turns, why, and how sure the judge is (0–1). */
export const indistinguishabilitySchema = z.object({
  rationale: z.string(),
  verdict: z.enum(["human", "simulated"]),
  confidence: z.number().min(0).max(1),
});

/** A validated indistinguishability verdict. */
export type IndistinguishabilityVerdict = z.infer<typeof indistinguishabilitySchema>;

/** The judged dialogue (the `dialog` of a record); the goal is optional context. */
export interface IndistinguishabilityInput {
  dialog: readonly DialogTurn[];
  goal?: string;
}

/**
 * The judge's messages for a dialogue.
 *
 * @example
 * ```ts
 * import { indistinguishabilityMessages } from "./indistinguishability_judge.ts";
 * const m = indistinguishabilityMessages({ dialog: [{ turn: 0, model_inquirer: "hi", model_responder: "hello" }] });
 * console.log(m[1].content.includes("USER: hi")); // true
 * ```
 */
export function indistinguishabilityMessages(input: IndistinguishabilityInput): ChatMessage[] {
  const transcript = input.dialog.map((t) =>
    `USER: ${t.model_inquirer}\n\nASSISTANT: ${t.model_responder}`
  ).join("\n\n---\n\n");
  return [
    {
      role: "system",
      content: "You study how people talk to chatbots. Some conversations below were typed by " +
        "real people; others were produced by a language model pretending to be a person with a " +
        "task. Look at the USER side only: wording, typos, brevity, how follow-ups react to the " +
        "answers, politeness, and whether it sounds like instructions to a model.\n" +
        'Reply with JSON only: {"rationale": "<two or three sentences>", ' +
        '"verdict": "human" | "simulated", "confidence": <number from 0 to 1>}.',
    },
    {
      role: "user",
      content: (input.goal ? `The user's task was: ${input.goal}\n\n` : "") +
        `Conversation:\n\n${transcript}\n\nWho wrote the USER turns?`,
    },
  ];
}

/**
 * Creates the judge. `context.model` answers; a reply without a valid verdict after
 * `maxRetries` retries gives `{ value: null, reason }`.
 *
 * @example
 * ```ts
 * import { indistinguishabilityJudge } from "./indistinguishability_judge.ts";
 * declare const model: import("../../core/contracts/chat_model.ts").ChatModel;
 * const v = await indistinguishabilityJudge().judge({ dialog: [] }, { model });
 * console.log(v.value?.verdict ?? v.reason);
 * ```
 */
export function indistinguishabilityJudge(
  options: { maxRetries?: number; maxTokens?: number } = {},
): Judge<IndistinguishabilityInput, IndistinguishabilityVerdict> {
  return {
    name: "roleplay_indistinguishability",
    schema: indistinguishabilitySchema,
    async judge(
      input: IndistinguishabilityInput,
      ctx: JudgeContext,
    ): Promise<Verdict<IndistinguishabilityVerdict>> {
      if (!ctx.model) {
        throw new TypeError("context.model is undefined; pass the judging ChatModel");
      }
      if (input.dialog.length === 0) return { value: null, reason: "empty dialogue" };
      const r = await chatJson(ctx.model, {
        messages: indistinguishabilityMessages(input),
        max_tokens: options.maxTokens ?? 400,
        seed: ctx.seed,
        signal: ctx.signal,
        response_format: { type: "json_object" },
      }, {
        expect: "object",
        maxRetries: options.maxRetries ?? 2,
        validate: (v) => indistinguishabilitySchema.parse(v),
      });
      return r.ok ? { value: r.value, raw: r.raw } : { value: null, reason: r.reason, raw: r.raw };
    },
  };
}

/** Per-inquirer totals of judged dialogues. */
export interface IndistinguishabilityStats {
  inquirer: string;
  /** Dialogues submitted. */
  n: number;
  /** Dialogues with a null verdict (counted, excluded from the rate). */
  failed: number;
  /** Dialogues the judge called human. */
  judged_human: number;
  /** judged_human / (n − failed); null when nothing was judged. */
  indistinguishability_rate: number | null;
  /** Mean confidence over valid verdicts; null when none. */
  mean_confidence: number | null;
}

/**
 * Groups verdicts by inquirer and computes the share of dialogues judged human. For real human
 * dialogues (inquirer e.g. "human") the same figure is the judge's accuracy on them.
 *
 * @example
 * ```ts
 * import { aggregateByInquirer } from "./indistinguishability_judge.ts";
 * const s = aggregateByInquirer([
 *   { inquirer: "gpt4", verdict: { value: { rationale: "", verdict: "human", confidence: 1 } } },
 *   { inquirer: "gpt4", verdict: { value: null, reason: "no JSON" } },
 * ]);
 * console.log(s[0].indistinguishability_rate); // 1
 * ```
 */
export function aggregateByInquirer(
  items: readonly { inquirer: string; verdict: Verdict<IndistinguishabilityVerdict> }[],
): IndistinguishabilityStats[] {
  const groups = new Map<string, IndistinguishabilityStats & { confSum: number }>();
  for (const { inquirer, verdict } of items) {
    let g = groups.get(inquirer);
    if (!g) {
      g = {
        inquirer,
        n: 0,
        failed: 0,
        judged_human: 0,
        indistinguishability_rate: null,
        mean_confidence: null,
        confSum: 0,
      };
      groups.set(inquirer, g);
    }
    g.n++;
    if (verdict.value === null) {
      g.failed++;
      continue;
    }
    if (verdict.value.verdict === "human") g.judged_human++;
    g.confSum += verdict.value.confidence;
  }
  return [...groups.values()].map(({ confSum, ...g }) => {
    const judged = g.n - g.failed;
    return {
      ...g,
      indistinguishability_rate: judged > 0 ? g.judged_human / judged : null,
      mean_confidence: judged > 0 ? confSum / judged : null,
    };
  });
}
