/**
 * The macm plugin's judges, over replies already collected: the questionnaire scorer (one item
 * and its reply), the Jung cognitive-function test (all items, replies and the true stack), and
 * the bandwagon experiment (the 18 replies of each condition). Unreadable answers are verdicts of
 * `null` with a reason, counted by callers, never a silent 0.
 *
 * @module
 */

import { z } from "zod";
import type { Judge } from "../../core/contracts/judge.ts";
import {
  type BandwagonCondition,
  conformityEffect,
  extractLineAnswer,
  summarizeTrials,
  type TrialResult,
  TRIALS,
} from "./bandwagon.ts";
import { JUNG_FUNCTIONS, type JungFunction } from "./jung.ts";
import { type JungItem, scoreJungTest } from "./jung_assessment.ts";
import { type QuestionItem, scoreItem } from "./questionnaire.ts";

/** A questionnaire verdict. */
export const questionnaireVerdictSchema = z.object({
  type: z.string(),
  parsed: z.array(z.string()),
  points: z.number().min(0),
  max: z.number().min(0),
});

/**
 * Scores one questionnaire reply (§2.6); a choice reply without a standalone letter is `null`.
 *
 * @example
 * ```ts
 * import { questionnaireJudge } from "./judges.ts";
 * const item = { type: "Single_choice" as const, question: "Q?", options: ["A. x", "B. y"], answer: ["B"] };
 * const v = await questionnaireJudge().judge({ item, reply: "The answer is B." }, {});
 * v.value?.points; // 2
 * ```
 */
export function questionnaireJudge(): Judge<
  { item: QuestionItem; reply: string },
  z.infer<typeof questionnaireVerdictSchema>
> {
  return {
    name: "questionnaire",
    schema: questionnaireVerdictSchema,
    judge({ item, reply }) {
      const s = scoreItem(item, reply);
      if (s.parse_failure) {
        return Promise.resolve({
          value: null,
          reason: `no standalone letter A–F in the reply to a ${item.type} item`,
          raw: reply,
        });
      }
      return Promise.resolve({
        value: { type: item.type, parsed: s.parsed, points: s.points, max: s.max },
        raw: reply,
      });
    },
  };
}

/** A Jung-test verdict. */
export const jungVerdictSchema = z.object({
  totals: z.record(z.string(), z.number()),
  predicted_stack: z.array(z.enum(JUNG_FUNCTIONS)),
  kendall_tau: z.number().min(-1).max(1),
  agreed: z.number().int().min(0),
});

/**
 * Scores the Jung cognitive-function test (§2.7); `null` when τ is undefined (every function
 * totals the same, e.g. no reply said yes).
 *
 * @example
 * ```ts
 * import { jungJudge } from "./judges.ts";
 * declare const items: import("./jung_assessment.ts").JungItem[];
 * declare const replies: string[];
 * const v = await jungJudge().judge({ items, replies, stack: ["Si", "Fe", "Ti", "Ne", "Se", "Fi", "Te", "Ni"] }, {});
 * ```
 */
export function jungJudge(): Judge<
  { items: JungItem[]; replies: string[]; stack: JungFunction[] },
  z.infer<typeof jungVerdictSchema>
> {
  return {
    name: "jung_test",
    schema: jungVerdictSchema,
    judge({ items, replies, stack }) {
      const s = scoreJungTest(items, replies, stack);
      const agreed = replies.filter((r) => /\byes\b/i.test(r)).length;
      if (!Number.isFinite(s.kendall_tau)) {
        return Promise.resolve({
          value: null,
          reason:
            `Kendall τ is undefined: all eight functions total the same (${agreed} of ${items.length} replies agreed)`,
        });
      }
      return Promise.resolve({
        value: {
          totals: s.totals,
          predicted_stack: s.predicted_stack,
          kendall_tau: s.kendall_tau,
          agreed,
        },
      });
    },
  };
}

/** A bandwagon verdict. */
export const bandwagonVerdictSchema = z.object({
  conformity_rate: z.number().min(0).max(1),
  control_error_rate: z.number().min(0).max(1),
  control_same_line_rate: z.number().min(0).max(1),
  effect: z.number().min(-1).max(1),
  unanswered: z.object({ group_pressure: z.number().int(), control: z.number().int() }),
});

/** Trial results of one condition from its 18 replies. */
export function trialsFromReplies(replies: readonly string[]): TrialResult[] {
  if (replies.length !== TRIALS.length) {
    throw new RangeError(
      `${replies.length} replies; pass one for each of the ${TRIALS.length} trials`,
    );
  }
  return TRIALS.map((t, k) => ({
    i: k + 1,
    correct: t[4],
    group: t[5],
    answer_raw: replies[k],
    answer: extractLineAnswer(replies[k]),
    critical: t[4] !== t[5],
  }));
}

/**
 * Scores the bandwagon experiment (§2.8) from the 18 replies of each condition; `null` when no
 * critical reply of the group-pressure run names a line.
 *
 * @example
 * ```ts
 * import { bandwagonJudge } from "./judges.ts";
 * const v = await bandwagonJudge().judge({
 *   group_pressure: Array(18).fill("Line 1"), control: Array(18).fill("Line 2"),
 * }, {});
 * ```
 */
export function bandwagonJudge(): Judge<
  Record<BandwagonCondition, string[]>,
  z.infer<typeof bandwagonVerdictSchema>
> {
  return {
    name: "bandwagon",
    schema: bandwagonVerdictSchema,
    judge(input) {
      const run = (condition: BandwagonCondition) => {
        const trials = trialsFromReplies(input[condition]);
        return {
          character: "",
          method: "",
          condition,
          framing_reply: "",
          trials,
          ...summarizeTrials(trials),
        };
      };
      const pressure = run("group_pressure");
      const control = run("control");
      if (pressure.trials.every((t) => !t.critical || t.answer === null)) {
        return Promise.resolve({
          value: null,
          reason: "no critical trial of the group-pressure run names line 1, 2 or 3",
        });
      }
      return Promise.resolve({
        value: {
          ...conformityEffect(pressure, control),
          unanswered: { group_pressure: pressure.unanswered, control: control.unanswered },
        },
      });
    },
  };
}
