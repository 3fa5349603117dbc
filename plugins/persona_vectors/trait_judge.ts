/**
 * A logprob judge over a ChatModel (spec B3): one user message from a template, a one-token
 * answer with `top_logprobs`, and one of the scoring modes. Failures are `null` verdicts with a
 * reason and are counted on the judge.
 *
 * @module
 */

import { z } from "zod";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import type { Judge, JudgeContext, Verdict } from "../../core/contracts/judge.ts";
import { fillJudgeTemplate } from "./judge_prompts.ts";
import {
  type JudgeScore,
  score0to10,
  score0to100,
  scoreBinary,
  scoreBinaryText,
  stripThinking,
  type TopLogprob,
} from "./judge_scoring.ts";

/** Scoring modes. */
export type JudgeMode = "0_100" | "0_10" | "binary" | "binary_text";

/** What the judge scores: `{question, answer}`, or `{prompt, response}` as experiment steps pass. */
export type JudgeInput = { question: string; answer: string } | {
  prompt: string;
  response: string;
};

/**
 * Normalizes a judge input to `{question, answer}`.
 *
 * @example
 * ```ts
 * import { judgeInputOf } from "./trait_judge.ts";
 * console.log(judgeInputOf({ prompt: "Hi?", response: "Hello" })); // { question: "Hi?", answer: "Hello" }
 * ```
 */
export function judgeInputOf(input: JudgeInput): { question: string; answer: string } {
  const x = input as Partial<Record<"question" | "answer" | "prompt" | "response", unknown>>;
  const question = x.question ?? x.prompt;
  const answer = x.answer ?? x.response;
  if (typeof question !== "string" || typeof answer !== "string") {
    throw new TypeError(
      `judge input is ${
        JSON.stringify(input)?.slice(0, 80)
      }; pass {question, answer} or {prompt, response} strings`,
    );
  }
  return { question, answer };
}

/** A non-null verdict value. */
export interface JudgeValue {
  /** 0–100. */
  score: number;
  /** Probability mass the score came from (1 for `binary_text`). */
  mass: number;
}

/** Schema of a non-null verdict value. */
export const JudgeValueSchema: z.ZodType<JudgeValue> = z.object({
  score: z.number().min(0).max(100),
  mass: z.number().min(0),
});

/** Options of {@link logprobJudge}. */
export interface LogprobJudgeOptions {
  name: string;
  /** Template with `{question}` and `{answer}`. */
  template: string;
  /** Used when the judge context carries no model. */
  model?: ChatModel;
  mode?: JudgeMode;
  /** Default 20. */
  topLogprobs?: number;
  /** Strip reasoning up to `</think>` from answers (default true). */
  stripThink?: boolean;
  /** Default 0. */
  seed?: number;
  /** Numeric mass floor of `0_100` and `binary` (default 0.25; lower it only for tiny test models). */
  minMass?: number;
}

/** A judge that also counts its failures. */
export interface CountingJudge extends Judge<JudgeInput, JudgeValue> {
  /** Calls made, null verdicts, and null reasons with their counts. */
  readonly stats: { calls: number; nulls: number; reasons: Record<string, number> };
}

/**
 * Builds a logprob judge.
 *
 * @example
 * ```ts
 * import { logprobJudge } from "./trait_judge.ts";
 * import { COHERENCE_PROMPT } from "./judge_prompts.ts";
 * declare const gpt: import("../../core/contracts/chat_model.ts").ChatModel;
 * const coherence = logprobJudge({ name: "coherence", template: COHERENCE_PROMPT, model: gpt });
 * const v = await coherence.judge({ question: "Hi?", answer: "Hello!" }, {});
 * console.log(v.value?.score ?? v.reason, coherence.stats.nulls);
 * ```
 */
export function logprobJudge(options: LogprobJudgeOptions): CountingJudge {
  const mode = options.mode ?? "0_100";
  const stats = { calls: 0, nulls: 0, reasons: {} as Record<string, number> };
  const fail = (reason: string, raw?: string): Verdict<JudgeValue> => {
    stats.nulls++;
    const key = reason.replace(/[0-9.]+/g, "#");
    stats.reasons[key] = (stats.reasons[key] ?? 0) + 1;
    return { value: null, reason, raw };
  };
  return {
    name: options.name,
    schema: JudgeValueSchema,
    stats,
    async judge(input: JudgeInput, context: JudgeContext): Promise<Verdict<JudgeValue>> {
      stats.calls++;
      const model = context.model ?? options.model;
      if (!model) return fail("no judge model: pass one in the options or the judge context");
      let qa: { question: string; answer: string };
      try {
        qa = judgeInputOf(input);
      } catch (e) {
        return fail((e as Error).message);
      }
      const answer = options.stripThink === false ? qa.answer : stripThinking(qa.answer);
      const content = fillJudgeTemplate(options.template, { question: qa.question, answer });
      const textMode = mode === "binary_text";
      let response;
      try {
        response = await model.chat({
          messages: [{ role: "user", content }],
          max_tokens: textMode ? 512 : 1,
          temperature: 0,
          seed: context.seed ?? options.seed ?? 0,
          signal: context.signal,
          ...(textMode ? {} : { logprobs: true, top_logprobs: options.topLogprobs ?? 20 }),
        });
      } catch (e) {
        return fail(`judge call failed: ${(e as Error).message}`);
      }
      const choice = response.choices[0];
      const raw = choice?.message.content;
      let s: JudgeScore;
      if (textMode) {
        s = scoreBinaryText(raw ?? "");
      } else {
        const top: TopLogprob[] | undefined = choice?.logprobs?.content?.[0]?.top_logprobs;
        if (!top || top.length === 0) return fail("the judge returned no top_logprobs", raw);
        s = mode === "0_100"
          ? score0to100(top, options.minMass)
          : mode === "0_10"
          ? score0to10(top)
          : scoreBinary(top, options.minMass);
      }
      if (s.score === null) return fail(s.reason ?? "no score", raw);
      return { value: { score: s.score, mass: s.mass }, raw };
    },
  };
}
