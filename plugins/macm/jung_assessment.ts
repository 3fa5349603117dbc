/**
 * The automated observer report (§2.7): the simulacrum agrees or disagrees with trait sentences of
 * every function and strength level; agreed sentences add their level score to their function,
 * and the resulting ranking is compared with the character's true stack by Kendall τ computed on
 * per-function ranks (not on the label lists, which is the reference's bug).
 *
 * @module
 */

import { Prng } from "../../core/util/prng.ts";
import { JUNG_FUNCTIONS, type JungFunction, LEVEL_SCORES, type TraitBank } from "./jung.ts";
import { kendallTau } from "./kendall.ts";
import { ALICE_SYSTEM } from "./questionnaire.ts";
import type { Simulacrum } from "./simulacrum.ts";

/** One test item. */
export interface JungItem {
  type: "Jung_cognitive_function_test";
  question: string;
  function: JungFunction;
  score: number;
  answer: [JungFunction, number];
}

/**
 * Samples ⌊ratio·10⌋ sentences (ratio 0.4 → 4) from every (function, level) cell of the bank:
 * 8 × 8 × 4 = 256 items with the default bank.
 *
 * @example
 * ```ts
 * import { buildJungItems } from "./jung_assessment.ts";
 * import { defaultTraitBank } from "./jung.ts";
 * import { Prng } from "../../core/util/prng.ts";
 * buildJungItems(defaultTraitBank(), new Prng(1)).length; // 256
 * ```
 */
export function buildJungItems(bank: TraitBank, rng: Prng, ratio = 0.4): JungItem[] {
  if (!(ratio > 0 && ratio <= 1)) throw new RangeError(`ratio is ${ratio}; pass a value in (0, 1]`);
  const per = Math.floor(ratio * 10);
  const items: JungItem[] = [];
  for (const fn of JUNG_FUNCTIONS) {
    bank[fn].forEach((cell, level) => {
      for (const s of rng.shuffle(cell).slice(0, per)) {
        const score = LEVEL_SCORES[level];
        items.push({
          type: "Jung_cognitive_function_test",
          question: s,
          function: fn,
          score,
          answer: [fn, score],
        });
      }
    });
  }
  return items;
}

/** The user message of an item. */
export function jungItemPrompt(item: JungItem): string {
  return `Alice said: 'Do you agree with this sentence about you: <<<${item.question}>>>?' ` +
    "Consider your personality and reply with Yes or No.";
}

/**
 * True when the reply agrees: it contains the word "yes" (any case).
 *
 * @example
 * ```ts
 * import { agrees } from "./jung_assessment.ts";
 * agrees("Yes, that's me."); // true
 * agrees("Not yesterday's me."); // false
 * ```
 */
export function agrees(reply: string): boolean {
  return /\byes\b/i.test(reply);
}

/** Scores and correlation of one test. */
export interface JungTestScore {
  totals: Record<JungFunction, number>;
  /** Functions by total, highest first (ties keep the canonical order Ne, Ni, …). */
  predicted_stack: JungFunction[];
  /** τ-b between each function's total and its true strength (8 − position); NaN if undefined. */
  kendall_tau: number;
}

/**
 * Totals agreed items per function and correlates with the true stack (strongest first).
 *
 * @example
 * ```ts
 * import { scoreJungTest } from "./jung_assessment.ts";
 * declare const items: import("./jung_assessment.ts").JungItem[];
 * declare const replies: string[];
 * scoreJungTest(items, replies, ["Se", "Ti", "Fi", "Ni", "Te", "Si", "Ne", "Fe"]).kendall_tau;
 * ```
 */
export function scoreJungTest(
  items: readonly JungItem[],
  replies: readonly string[],
  trueStack: readonly JungFunction[],
): JungTestScore {
  if (items.length !== replies.length) {
    throw new RangeError(
      `${items.length} items but ${replies.length} replies; pass one reply each`,
    );
  }
  if (trueStack.length !== 8 || new Set(trueStack).size !== 8) {
    throw new RangeError(`trueStack is [${trueStack.join(", ")}]; pass all eight functions once`);
  }
  const totals = Object.fromEntries(JUNG_FUNCTIONS.map((f) => [f, 0])) as Record<
    JungFunction,
    number
  >;
  items.forEach((item, i) => {
    if (agrees(replies[i])) totals[item.function] += item.score;
  });
  const predicted_stack = [...JUNG_FUNCTIONS].sort((a, b) => totals[b] - totals[a]);
  const strength = (f: JungFunction) => 8 - trueStack.indexOf(f);
  const kendall_tau = kendallTau(
    JUNG_FUNCTIONS.map((f) => totals[f]),
    JUNG_FUNCTIONS.map(strength),
  );
  return { totals, predicted_stack, kendall_tau };
}

/**
 * Runs the test on a simulacrum (evaluation mode, one call per item for non-MACM methods).
 *
 * @example
 * ```ts
 * import { runJungTest } from "./jung_assessment.ts";
 * import { defaultTraitBank } from "./jung.ts";
 * declare const s: import("./simulacrum.ts").Simulacrum;
 * const r = await runJungTest(s, defaultTraitBank(), ["Se", "Ti", "Fi", "Ni", "Te", "Si", "Ne", "Fe"]);
 * console.log(r.kendall_tau);
 * ```
 */
export async function runJungTest(
  simulacrum: Simulacrum,
  bank: TraitBank,
  trueStack: readonly JungFunction[],
  options: { seed?: number; ratio?: number } = {},
): Promise<JungTestScore & { items: JungItem[]; replies: string[] }> {
  const items = buildJungItems(bank, new Prng(options.seed ?? 0), options.ratio ?? 0.4);
  const replies: string[] = [];
  for (const item of items) {
    replies.push(
      (await simulacrum.evaluate(ALICE_SYSTEM, jungItemPrompt(item), item.question)).answer,
    );
  }
  return { ...scoreJungTest(items, replies, trueStack), items, replies };
}
