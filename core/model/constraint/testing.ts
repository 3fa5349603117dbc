/**
 * Test helpers for constrained decoding: the tiny-llama tokenizer (built once per process in a
 * temporary directory) and a sampler that draws every step from seeded random logits through the
 * real `selectToken`, so tests see exactly what a model with arbitrary logits would produce.
 *
 * @module
 */

import { join } from "node:path";
import { Prng } from "../../util/prng.ts";
import { selectToken, validateSampling } from "../sampling.ts";
import { createTinyModel } from "../tiny.ts";
import { loadTokenizer, type ModelTokenizer } from "../tokenizer.ts";
import type { AllowedTokensHook } from "./token_constraint.ts";

let tiny: Promise<{ dir: string; tokenizer: ModelTokenizer }> | null = null;

/**
 * A tiny-llama model directory and its tokenizer, created once per process (removed at exit).
 *
 * @example
 * ```ts
 * import { tinyLlama } from "./testing.ts";
 * const { tokenizer } = await tinyLlama();
 * console.log(tokenizer.vocabSize); // 1024
 * ```
 */
export function tinyLlama(): Promise<{ dir: string; tokenizer: ModelTokenizer }> {
  tiny ??= (async () => {
    const root = await Deno.makeTempDir({ prefix: "dramatis_constraint_" });
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(root, { recursive: true });
      } catch { /* already gone */ }
    });
    const dir = join(root, "model");
    await createTinyModel(dir, { preset: "tiny-llama", seed: 7 });
    return { dir, tokenizer: await loadTokenizer(dir) };
  })();
  return tiny;
}

/** One sampled completion. */
export interface SampledCompletion {
  tokens: number[];
  /** Whether it ended on EOS (else the budget ran out). */
  eos: boolean;
  /** The smallest number of allowed tokens seen at any step. */
  minAllowed: number;
}

/**
 * Samples a completion from seeded random logits (a normal draw per token, scaled by `spread`)
 * at temperature 1 through `selectToken` with the constraint hook.
 *
 * @example
 * ```ts
 * import { sampleRandom } from "./testing.ts";
 * declare const hook: import("./token_constraint.ts").AllowedTokensHook;
 * const c = sampleRandom(hook, { vocabSize: 1024, eos: [1017], maxTokens: 16, seed: 1, row: 0 });
 * ```
 */
export function sampleRandom(
  hook: AllowedTokensHook,
  o: {
    vocabSize: number;
    eos: readonly number[];
    maxTokens: number;
    seed: number;
    row: number;
    spread?: number;
  },
): SampledCompletion {
  const prng = new Prng(o.seed);
  const spread = o.spread ?? 3;
  let minAllowed = Infinity;
  const counting: AllowedTokensHook = (step, ctx) => {
    const a = hook(step, ctx);
    if (a !== null) minAllowed = Math.min(minAllowed, [...a as Iterable<number>].length);
    return a;
  };
  const options = validateSampling({ temperature: 1, allowedTokens: counting });
  const tokens: number[] = [];
  for (let step = 0; step < o.maxTokens; step++) {
    const logits = new Float32Array(o.vocabSize);
    for (let i = 0; i < logits.length; i++) logits[i] = prng.normal() * spread;
    const pick = selectToken(logits, options, {
      sequence: tokens,
      generated: tokens,
      row: o.row,
      prng,
      logprobs: false,
    });
    if (o.eos.includes(pick.token)) return { tokens, eos: true, minAllowed };
    tokens.push(pick.token);
  }
  return { tokens, eos: false, minAllowed };
}
