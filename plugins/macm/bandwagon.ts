/**
 * The bandwagon (Asch conformity) experiment (§2.8): 18 line-judgement trials in one
 * conversation, with six earlier participants unanimously naming a line (group pressure) or with
 * their answers left out (control). Answers are extracted automatically and the conformity rate on
 * the 12 critical trials is compared with the control condition.
 *
 * @module
 */

import type { Exchange, Simulacrum, SimulacrumTurn } from "./simulacrum.ts";

/** One trial: `[standard, line1, line2, line3, correct, group]` (lengths in inches). */
export type Trial = readonly [number, number, number, number, number, number];

const NINE: readonly Trial[] = [
  [10, 8.75, 10, 8, 2, 2],
  [2, 2, 1, 1.5, 1, 1],
  [3, 3.75, 4.25, 3, 3, 1],
  [5, 5, 4, 6.5, 1, 2],
  [4, 3, 5, 4, 3, 3],
  [3, 3.75, 4.25, 3, 3, 2],
  [8, 6.25, 8, 6.75, 2, 3],
  [5, 5, 4, 6.5, 1, 3],
  [8, 6.25, 8, 6.75, 2, 1],
];

/** The 18 trials (the nine rows twice): 6 neutral, 12 critical. */
export const TRIALS: readonly Trial[] = [...NINE, ...NINE];

/** The two conditions. */
export type BandwagonCondition = "group_pressure" | "control";

/** The framing, sent as the first user message. */
export const BANDWAGON_FRAMING =
  "You have signed up for a study on visual judgement. Seven other " +
  "volunteers sit in the room with you, and you have the second-to-last seat. The experimenter " +
  "explains the task: there will be 18 rounds; in each round you see one standard line and three " +
  "numbered comparison lines, and everyone in turn says aloud the number of the comparison line " +
  "that is as long as the standard line.";

/**
 * The text of one trial (1-based number).
 *
 * @example
 * ```ts
 * import { trialPrompt, TRIALS } from "./bandwagon.ts";
 * trialPrompt(1, TRIALS[0], "group_pressure").includes("Line 2"); // true
 * ```
 */
export function trialPrompt(i: number, t: Trial, condition: BandwagonCondition): string {
  const [standard, l1, l2, l3, , group] = t;
  const others = condition === "group_pressure"
    ? ` The six people before you have answered, one after another: ${
      Array(6).fill(`"Line ${group}"`).join(", ")
    }.`
    : "";
  return `Round ${i}: the standard line is ${standard} inches long. Line 1 is ${l1} inches, ` +
    `line 2 is ${l2} inches and line 3 is ${l3} inches.${others} It is your turn. ` +
    "Considering your personality, your answer is:";
}

/** What may follow "line N" when the reply describes the line rather than choosing it. */
const DESCRIBED =
  /^\s*(?:is|was|=|:|,|measures|measuring|at|of|with|\u2014|-|\()?\s*(?:about|approximately|around|roughly|exactly|only|just)?\s*\d/i;
const NEGATED = /(?:\bnot|n't|\bno|\bnever|\brather than|\binstead of)\s*(?:the\s*)?$/i;
const ORDINAL: Record<string, 1 | 2 | 3> = { first: 1, second: 2, third: 3 };

/**
 * The line a reply asserts, or null when it asserts none or several. A reply often restates the
 * lines before choosing ("Line 1 is 6.25 inches, line 2 is 8 …, so line 2"): a "line N" followed
 * by its length is a description, a negated one ("not line 1") is no choice, and a bare digit
 * counts only when no line is named and it is not a length ("3 inches", "8.75", "10").
 *
 * @example
 * ```ts
 * import { extractLineAnswer } from "./bandwagon.ts";
 * extractLineAnswer("Line 3, obviously."); // 3
 * extractLineAnswer("Line 1 is 6.25 inches and line 2 is 8 inches; line 2 matches."); // 2
 * extractLineAnswer("The standard is 10 inches, so 2."); // 2
 * extractLineAnswer("I am not sure."); // null
 * ```
 */
export function extractLineAnswer(reply: string): 1 | 2 | 3 | null {
  const asserted = new Set<number>();
  const named: [number, number][] = [];
  for (const m of reply.matchAll(/\bline\s*(?:number\s*|no\.?\s*|#\s*)?([1-3])(?![\d]|\.\d)/gi)) {
    const at = m.index!;
    named.push([at, at + m[0].length]);
    const after = reply.slice(at + m[0].length);
    const before = reply.slice(Math.max(0, at - 16), at);
    if (DESCRIBED.test(after) || NEGATED.test(before)) continue;
    asserted.add(Number(m[1]));
  }
  for (const m of reply.matchAll(/\b(first|second|third)\s+(?:line|one)\b/gi)) {
    const before = reply.slice(Math.max(0, m.index! - 16), m.index!);
    if (!NEGATED.test(before)) asserted.add(ORDINAL[m[1].toLowerCase()]);
  }
  if (asserted.size === 1) return [...asserted][0] as 1 | 2 | 3;
  if (asserted.size > 1) return null;
  const bare = new Set<number>();
  for (
    const m of reply.matchAll(
      /(?<![\d.])([1-3])(?![\d]|\.\d|\s*(?:inch|in\b|cm\b|"|\u201d|\/|%))/gi,
    )
  ) {
    if (!named.some(([from, to]) => m.index! >= from && m.index! < to)) bare.add(Number(m[1]));
  }
  return bare.size === 1 ? [...bare][0] as 1 | 2 | 3 : null;
}

/** One answered trial. */
export interface TrialResult {
  i: number;
  correct: number;
  group: number;
  answer_raw: string;
  answer: number | null;
  critical: boolean;
}

/** A run in one condition. */
export interface BandwagonRun {
  character: string;
  method: string;
  condition: BandwagonCondition;
  framing_reply: string;
  trials: TrialResult[];
  critical_trials: number;
  /** Critical trials answered with the group's (wrong) line. */
  conformed: number;
  /** Critical trials answered with a wrong line (group's or not). */
  errors: number;
  /** Trials without an extractable answer. */
  unanswered: number;
  conformity_rate: number;
  error_rate: number;
}

/**
 * Summarises answered trials (pure; see {@link runBandwagon}).
 *
 * @example
 * ```ts
 * import { summarizeTrials } from "./bandwagon.ts";
 * summarizeTrials([{ i: 3, correct: 3, group: 1, answer_raw: "1", answer: 1, critical: true }]);
 * // { critical_trials: 1, conformed: 1, errors: 1, unanswered: 0, conformity_rate: 1, error_rate: 1 }
 * ```
 */
export function summarizeTrials(trials: readonly TrialResult[]) {
  const critical = trials.filter((t) => t.critical);
  const conformed = critical.filter((t) => t.answer === t.group).length;
  const errors = critical.filter((t) => t.answer !== null && t.answer !== t.correct).length;
  const n = critical.length;
  return {
    critical_trials: n,
    conformed,
    errors,
    unanswered: trials.filter((t) => t.answer === null).length,
    conformity_rate: n ? conformed / n : 0,
    error_rate: n ? errors / n : 0,
  };
}

/**
 * Runs the 18 trials in one conversation (framing first) in bandwagon mode.
 *
 * @example
 * ```ts
 * import { runBandwagon } from "./bandwagon.ts";
 * declare const s: import("./simulacrum.ts").Simulacrum;
 * const run = await runBandwagon(s, "group_pressure");
 * console.log(run.conformity_rate);
 * ```
 */
export async function runBandwagon(
  simulacrum: Simulacrum,
  condition: BandwagonCondition,
  onTurn?: (turn: SimulacrumTurn) => void,
): Promise<BandwagonRun> {
  const history: Exchange[] = [];
  const framing = await simulacrum.bandwagon(BANDWAGON_FRAMING, history);
  onTurn?.(framing);
  history.push({ other: BANDWAGON_FRAMING, you: framing.answer });
  const trials: TrialResult[] = [];
  for (let k = 0; k < TRIALS.length; k++) {
    const t = TRIALS[k];
    const text = trialPrompt(k + 1, t, condition);
    const turn = await simulacrum.bandwagon(text, history);
    onTurn?.(turn);
    history.push({ other: text, you: turn.answer });
    trials.push({
      i: k + 1,
      correct: t[4],
      group: t[5],
      answer_raw: turn.answer,
      answer: extractLineAnswer(turn.answer),
      critical: t[4] !== t[5],
    });
  }
  const o = simulacrum.options;
  return {
    character: o.character.profile.Name,
    method: o.method,
    condition,
    framing_reply: framing.answer,
    trials,
    ...summarizeTrials(trials),
  };
}

/**
 * Compares the two conditions: how much more often the group's wrong line is chosen under
 * pressure than in control (where nobody announced it).
 *
 * @example
 * ```ts
 * import { conformityEffect } from "./bandwagon.ts";
 * declare const pressure: import("./bandwagon.ts").BandwagonRun;
 * declare const control: import("./bandwagon.ts").BandwagonRun;
 * conformityEffect(pressure, control).effect;
 * ```
 */
export function conformityEffect(pressure: BandwagonRun, control: BandwagonRun): {
  conformity_rate: number;
  control_error_rate: number;
  control_same_line_rate: number;
  effect: number;
} {
  if (pressure.condition !== "group_pressure" || control.condition !== "control") {
    throw new TypeError(
      `got conditions ${pressure.condition} and ${control.condition}; pass (group_pressure, control)`,
    );
  }
  const same = summarizeTrials(control.trials).conformity_rate;
  return {
    conformity_rate: pressure.conformity_rate,
    control_error_rate: control.error_rate,
    control_same_line_rate: same,
    effect: pressure.conformity_rate - same,
  };
}
