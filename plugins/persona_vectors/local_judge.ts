/**
 * The local judge (spec B3, local-judge note): the judge model runs in this process, and the
 * score is the expectation over the 101 number tokens of its full next-token distribution, with
 * the same 0.25 mass floor. Numbers that are not one token of the judge's vocabulary are left out
 * (their count is reported by {@link numberTokenIds}).
 *
 * @module
 */

import type { Engine } from "../../core/model/engine.ts";
import type { JudgeContext, Verdict } from "../../core/contracts/judge.ts";
import { logSoftmax } from "../../core/model/sampling.ts";
import type { ModelTokenizer } from "../../core/model/tokenizer.ts";
import { fillJudgeTemplate } from "./judge_prompts.ts";
import { localNumberScore, MIN_NUMERIC_MASS, stripThinking } from "./judge_scoring.ts";
import {
  type CountingJudge,
  type JudgeInput,
  judgeInputOf,
  type JudgeValue,
  JudgeValueSchema,
} from "./trait_judge.ts";

/**
 * For k = 0..100 the id of the single token spelling k, or -1 when k takes several tokens.
 *
 * @example
 * ```ts ignore
 * import { numberTokenIds } from "./local_judge.ts";
 * const ids = numberTokenIds(engine.tokenizer);
 * console.log(ids.filter((i) => i >= 0).length); // numbers that are one token
 * ```
 */
export function numberTokenIds(tokenizer: Pick<ModelTokenizer, "encode">): number[] {
  return Array.from({ length: 101 }, (_, k) => {
    const ids = tokenizer.encode(String(k), { addSpecialTokens: false });
    return ids.length === 1 ? ids[0] : -1;
  });
}

/** Options of {@link localNumberJudge}. */
export interface LocalNumberJudgeOptions {
  name: string;
  /** Template with `{question}` and `{answer}`. */
  template: string;
  engine: Pick<Engine, "encode" | "forward" | "tokenizer">;
  /** Default 0.25. */
  minMass?: number;
  /** Strip reasoning up to `</think>` (default true). */
  stripThink?: boolean;
}

/**
 * A judge that reads the local judge model's full next-token distribution after the filled
 * template (as one user message with the generation prompt), restricted to number tokens.
 *
 * @example
 * ```ts ignore
 * import { localNumberJudge } from "./local_judge.ts";
 * import { COHERENCE_PROMPT } from "./judge_prompts.ts";
 * const judge = localNumberJudge({ name: "coherence", template: COHERENCE_PROMPT, engine });
 * const v = await judge.judge({ question: "Hi?", answer: "Hello!" }, {});
 * console.log(v.value?.score ?? v.reason, judge.stats.nulls);
 * ```
 */
export function localNumberJudge(options: LocalNumberJudgeOptions): CountingJudge {
  const stats = { calls: 0, nulls: 0, reasons: {} as Record<string, number> };
  let ids: number[] | undefined;
  const fail = (reason: string): Verdict<JudgeValue> => {
    stats.nulls++;
    const key = reason.replace(/[0-9.]+/g, "#");
    stats.reasons[key] = (stats.reasons[key] ?? 0) + 1;
    return { value: null, reason };
  };
  return {
    name: options.name,
    schema: JudgeValueSchema,
    stats,
    async judge(input: JudgeInput, context: JudgeContext): Promise<Verdict<JudgeValue>> {
      stats.calls++;
      context.signal?.throwIfAborted();
      let qa: { question: string; answer: string };
      try {
        qa = judgeInputOf(input);
      } catch (e) {
        return fail((e as Error).message);
      }
      const answer = options.stripThink === false ? qa.answer : stripThinking(qa.answer);
      const content = fillJudgeTemplate(options.template, { question: qa.question, answer });
      ids ??= numberTokenIds(options.engine.tokenizer);
      const prompt = options.engine.encode([{ role: "user", content }])[0];
      let r;
      try {
        r = await options.engine.forward([prompt]);
      } catch (e) {
        return fail(`judge forward failed: ${(e as Error).message}`);
      }
      const [, S, V] = r.logits.dims;
      const last = (r.logits.data as Float32Array).subarray((S - 1) * V, S * V);
      const s = localNumberScore(logSoftmax(last), ids, options.minMass ?? MIN_NUMERIC_MASS);
      if (s.score === null) return fail(s.reason ?? "no score");
      return { value: { score: s.score, mass: s.mass } };
    },
  };
}
