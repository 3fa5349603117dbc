/**
 * The local judge (spec B3, local-judge note): the judge model runs in this process and every
 * integer 0–100 is scored as a candidate token sequence under it — the probability of the whole
 * sequence after the prompt, times the probability that the number ends there — then the
 * published expectation and 0.25 mass floor apply. That holds for any tokenizer: Llama-3 writes
 * "85" as one token, Qwen and Llama-2 as "8", "5" (Llama-2 often after a "▁"), and a judge that
 * meant 85 scores 85 on all of them.
 *
 * @module
 */

import type { Engine } from "../../core/model/engine.ts";
import type { JudgeContext, Verdict } from "../../core/contracts/judge.ts";
import { logSoftmax } from "../../core/model/sampling.ts";
import type { ModelTokenizer } from "../../core/model/tokenizer.ts";
import { fillJudgeTemplate } from "./judge_prompts.ts";
import {
  MIN_NUMERIC_MASS,
  type NumberSequence,
  numberSequenceScore,
  stripThinking,
} from "./judge_scoring.ts";
import {
  type CountingJudge,
  type JudgeInput,
  judgeInputOf,
  type JudgeValue,
  JudgeValueSchema,
} from "./trait_judge.ts";

/**
 * For k = 0..100 the id of the single token spelling k, or -1 when k takes several tokens (the
 * test fixtures use it to rig single-token answers; the judge itself scores whole sequences).
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

/** What the local judge needs of a tokenizer (a `ModelTokenizer` fits). */
export type JudgeTokenizer = Pick<
  ModelTokenizer,
  "encode" | "applyChatTemplate" | "idToToken" | "vocabSize"
>;

/**
 * The candidate sequences of the numbers 0..100 after a prompt: for each number, the tokens that
 * follow the prompt when the text continues with the number, written plain ("85") and after a
 * space (" 85"); a spelling whose tokenization changes the prompt's own tokens is left out, and
 * spellings with the same tokens are kept once.
 *
 * @example
 * ```ts ignore
 * import { numberSequences } from "./local_judge.ts";
 * const text = tok.applyChatTemplate(messages, { addGenerationPrompt: true });
 * const seqs = numberSequences(tok, text, tok.encode(text, { addSpecialTokens: false }));
 * ```
 */
export function numberSequences(
  tokenizer: Pick<ModelTokenizer, "encode">,
  promptText: string,
  promptIds: readonly number[],
): NumberSequence[] {
  const out: NumberSequence[] = [];
  const seen = new Set<string>();
  for (let k = 0; k <= 100; k++) {
    for (const spelling of [String(k), ` ${k}`]) {
      const ids = tokenizer.encode(promptText + spelling, { addSpecialTokens: false });
      if (ids.length <= promptIds.length) continue;
      if (promptIds.some((id, i) => ids[i] !== id)) continue;
      const tail = ids.slice(promptIds.length);
      const key = tail.join();
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ value: k, ids: tail });
    }
  }
  return out;
}

/**
 * For every token id, whether its text starts with a digit (it would extend a number).
 *
 * @example
 * ```ts ignore
 * import { digitContinuations } from "./local_judge.ts";
 * const cont = digitContinuations(tok); // cont[id] === 1 for "5", "00", …
 * ```
 */
export function digitContinuations(
  tokenizer: Pick<ModelTokenizer, "idToToken" | "vocabSize">,
  size = tokenizer.vocabSize,
): Uint8Array {
  const out = new Uint8Array(size);
  for (let id = 0; id < size; id++) {
    const t = tokenizer.idToToken(id);
    if (t !== undefined && /^[0-9]/.test(t)) out[id] = 1;
  }
  return out;
}

/** A {@link localNumberJudge}: its stats also count prompt tokens and those reused from the cache. */
export interface LocalNumberJudge extends CountingJudge {
  readonly stats: CountingJudge["stats"] & { promptTokens: number; reusedPromptTokens: number };
}

/** Options of {@link localNumberJudge}. */
export interface LocalNumberJudgeOptions {
  name: string;
  /** Template with `{question}` and `{answer}`. */
  template: string;
  engine: Pick<Engine, "generate"> & { tokenizer: JudgeTokenizer };
  /** Default 0.25. */
  minMass?: number;
  /**
   * Tokens per call when expanding candidate prefixes (default 16384): prefixes of one depth go
   * out together, as many rows of prompt + prefix as fit.
   */
  batchTokens?: number;
  /** Strip reasoning up to `</think>` (default true). */
  stripThink?: boolean;
}

/**
 * A judge that scores the 101 numbers as token sequences under the local judge model after the
 * filled template (one user message with the generation prompt); see {@link numberSequenceScore}.
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
export function localNumberJudge(options: LocalNumberJudgeOptions): LocalNumberJudge {
  const stats = {
    calls: 0,
    nulls: 0,
    reasons: {} as Record<string, number>,
    promptTokens: 0,
    reusedPromptTokens: 0,
  };
  let continuation: Uint8Array | undefined;
  const candidateCache = new Map<string, NumberSequence[]>();
  const tok = options.engine.tokenizer;
  const batchTokens = options.batchTokens ?? 16384;
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
      const text = tok.applyChatTemplate([{ role: "user", content }], {
        addGenerationPrompt: true,
      });
      const prompt = tok.encode(text, { addSpecialTokens: false });
      // How numbers tokenize after the prompt depends only on the prompt's end (the template's
      // generation prompt, after special tokens split): computed once per distinct ending.
      const tail = text.slice(-64);
      let candidates = candidateCache.get(tail);
      if (!candidates) {
        candidates = numberSequences(tok, text, prompt);
        candidateCache.set(tail, candidates);
      }
      // Each prefix is the prompt plus a few candidate tokens: one generated token per row with
      // its logits observed. The engine's prefix cache restores the prompt's keys and values
      // (saved by the first call), so a row computes only its last few positions.
      const next = async (prefixes: number[][]): Promise<Float64Array[]> => {
        const rows: Float64Array[] = [];
        const batch = Math.max(1, Math.floor(batchTokens / (prompt.length + 4)));
        for (let i = 0; i < prefixes.length; i += batch) {
          context.signal?.throwIfAborted();
          const part = prefixes.slice(i, i + batch).map((p) => [...prompt, ...p]);
          const dists: Float64Array[] = new Array(part.length);
          const r = await options.engine.generate({ inputIds: part }, {
            maxNewTokens: 1,
            temperature: 0,
            signal: context.signal,
            observeLogits: (row, _index, logits) => {
              dists[row] = logSoftmax(logits);
              continuation ??= digitContinuations(tok, logits.length);
            },
          });
          stats.promptTokens += r.stats.promptTokens;
          stats.reusedPromptTokens += r.stats.reusedPromptTokens;
          rows.push(...dists);
        }
        return rows;
      };
      let s;
      try {
        s = await numberSequenceScore(next, candidates, (id) => continuation![id] === 1, {
          minMass: options.minMass ?? MIN_NUMERIC_MASS,
        });
      } catch (e) {
        if (context.signal?.aborted) throw e;
        return fail(`judge forward failed: ${(e as Error).message}`);
      }
      if (s.score === null) return fail(s.reason ?? "no score");
      return { value: { score: s.score, mass: s.mass } };
    },
  };
}
