/**
 * Self-report questionnaires (§2.6): cloze, single-choice and multiple-choice items about the
 * character, asked by "Alice", scored automatically at 2 points per unit.
 *
 * @module
 */

import { z } from "zod";
import { withCode } from "../../core/errors.ts";
import { Prng } from "../../core/util/prng.ts";
import type { Simulacrum } from "./simulacrum.ts";

/** The item types (Open-Ended items are human-scored and score 0 here). */
export const ITEM_TYPES = ["Cloze", "Single_choice", "Multiple_choices", "Open-Ended"] as const;

/** One questionnaire item in the reference layout. */
export const questionItemSchema = z.object({
  type: z.enum(ITEM_TYPES),
  question: z.string().min(1),
  // The released Cloze items carry `"options": [""]` (no options); empty strings are dropped.
  options: z.preprocess(
    (v) => Array.isArray(v) ? v.filter((o) => o !== "") : v,
    z.array(z.string().regex(/^[A-F]\. /, 'options start with "A. " … "F. "')),
  ).default([]),
  answer: z.array(z.string()).default([]),
}).superRefine((item, ctx) => {
  if (item.type !== "Single_choice" && item.type !== "Multiple_choices") return;
  const letters = item.options.map((o) => o[0]);
  if (item.answer.length === 0 || (item.type === "Single_choice" && item.answer.length !== 1)) {
    ctx.addIssue({
      code: "custom",
      path: ["answer"],
      message: `is ${JSON.stringify(item.answer)}; a ${item.type} item needs ${
        item.type === "Single_choice" ? "exactly one" : "at least one"
      } answer letter`,
    });
    return;
  }
  const outside = item.answer.filter((a) => !letters.includes(a));
  if (outside.length) {
    ctx.addIssue({
      code: "custom",
      path: ["answer"],
      message: `${JSON.stringify(outside)} is not among the options (${
        letters.join(", ") || "none"
      }); such a key can never be scored correct, fix the key or the options`,
    });
  }
});

/** One questionnaire item. */
export type QuestionItem = z.infer<typeof questionItemSchema>;

/**
 * Validates a list of items (a questionnaire file); a bad item raises a TypeError (`E_DATA`).
 *
 * @example
 * ```ts
 * import { parseQuestionnaire } from "./questionnaire.ts";
 * parseQuestionnaire([{ type: "Cloze", question: "What is your name?", answer: ["Ada"] }]);
 * ```
 */
export function parseQuestionnaire(value: unknown, source = "questionnaire"): QuestionItem[] {
  const r = z.array(questionItemSchema).safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    const [index, ...field] = i.path;
    throw withCode(
      new TypeError(
        `${source}: record ${String(index ?? 0)}: ${field.join(".") || "(item)"}: ${i.message}; ` +
          'items are {type, question, options: ["A. …"], answer: ["A"]}',
      ),
      "E_DATA",
    );
  }
  return r.data;
}

/** The scene of every item: a trusted friend asking. */
export const ALICE_SYSTEM = "You are having a relaxed chat with your friend Alice. You trust her " +
  "completely and tell her everything.";

const ASK: Record<QuestionItem["type"], string> = {
  Cloze: 'Think it over, then answer in the form "The answer is …".',
  Single_choice: 'Pick one option from A to D and answer in the form "The answer is …".',
  Multiple_choices: "Pick all the correct options from A to F and answer in the form " +
    '"The answer is …".',
  "Open-Ended": "Answer in your own words.",
};

/** A rendered item. */
export interface RenderedItem {
  system: string;
  user: string;
  /** The text inside `<<< >>>` (question and options), used for retrieval. */
  stimulus: string;
  /** Option letters in the order shown. */
  shown_order: string[];
}

/**
 * Renders an item; options are shuffled but keep their letters, so keys stay valid.
 *
 * @example
 * ```ts
 * import { renderItem } from "./questionnaire.ts";
 * import { Prng } from "../../core/util/prng.ts";
 * const r = renderItem({ type: "Single_choice", question: "Q?", options: ["A. x", "B. y"], answer: ["A"] }, new Prng(1));
 * console.log(r.user, r.shown_order);
 * ```
 */
export function renderItem(item: QuestionItem, rng: Prng): RenderedItem {
  const options = rng.shuffle(item.options);
  const stimulus = [item.question, ...options].join(" ");
  return {
    system: ALICE_SYSTEM,
    user: `Alice said: 'I have got a question for you: <<< ${stimulus} >>>' ${ASK[item.type]}`,
    stimulus,
    shown_order: options.map((o) => o[0]),
  };
}

/**
 * The scored part of a reply: from the first "The answer is" on, else the whole reply.
 *
 * @example
 * ```ts
 * import { answerText } from "./questionnaire.ts";
 * answerText("Hmm, A or B... The answer is B."); // "The answer is B."
 * ```
 */
export function answerText(raw: string): string {
  const at = raw.indexOf("The answer is");
  return at >= 0 ? raw.slice(at) : raw;
}

/** Standalone capital letters A–F in order. */
export function letters(text: string): string[] {
  return [...text.matchAll(/\b([A-F])\b/g)].map((m) => m[1]);
}

/** The score and the parsed answer of one reply. */
export interface ItemScore {
  parsed: string[];
  points: number;
  max: number;
  /**
   * No answer could be read: a choice item whose reply has no standalone letter A–F. (A cloze
   * reply is always read; a miss is 0 points, not a failure.) Failures score 0 and are counted.
   */
  parse_failure: boolean;
}

/**
 * Scores a reply: Single → the first standalone A–F letter, 2 if it is the key; Multiple → every
 * distinct standalone letter, +2 per key letter, −2 per other letter, at least 0; Cloze → +2 per
 * key answer found as a lower-cased substring; Open-Ended → 0 (human-scored).
 *
 * @example
 * ```ts
 * import { scoreItem } from "./questionnaire.ts";
 * scoreItem({ type: "Multiple_choices", question: "", options: [], answer: ["C", "E", "F"] },
 *   "The answer is C, E and A.").points; // 2 + 2 − 2 = 2
 * ```
 */
export function scoreItem(item: QuestionItem, raw: string): ItemScore {
  const text = answerText(raw);
  switch (item.type) {
    case "Single_choice": {
      const first = letters(text)[0];
      const parsed = first ? [first] : [];
      return {
        parsed,
        points: first !== undefined && first === item.answer[0] ? 2 : 0,
        max: 2,
        parse_failure: first === undefined,
      };
    }
    case "Multiple_choices": {
      const parsed = [...new Set(letters(text))];
      const key = new Set(item.answer);
      const raw = parsed.reduce((s, l) => s + (key.has(l) ? 2 : -2), 0);
      return {
        parsed,
        points: Math.max(0, raw),
        max: 2 * key.size,
        parse_failure: parsed.length === 0,
      };
    }
    case "Cloze": {
      const lower = text.toLowerCase();
      const parsed = item.answer.filter((a) => lower.includes(a.toLowerCase()));
      return {
        parsed,
        points: 2 * parsed.length,
        max: 2 * item.answer.length,
        parse_failure: false,
      };
    }
    default:
      return { parsed: [], points: 0, max: 0, parse_failure: false };
  }
}

/** One answered item. */
export interface ItemResult extends ItemScore {
  type: QuestionItem["type"];
  question: string;
  shown_order: string[];
  raw: string;
  key: string[];
}

/** A questionnaire run. */
export interface QuestionnaireResult {
  character: string;
  method: string;
  model: string;
  items: ItemResult[];
  totals: Record<string, number>;
  /** Items whose reply had no readable answer (scored 0). */
  parse_failures: number;
}

/**
 * Asks every item and scores it; `totals` has points per type plus `max`.
 *
 * @example
 * ```ts
 * import { runQuestionnaire } from "./questionnaire.ts";
 * declare const s: import("./simulacrum.ts").Simulacrum;
 * declare const items: import("./questionnaire.ts").QuestionItem[];
 * const r = await runQuestionnaire(s, items, 1);
 * console.log(r.totals);
 * ```
 */
export async function runQuestionnaire(
  simulacrum: Simulacrum,
  items: readonly QuestionItem[],
  seed = 0,
  onItem?: (result: ItemResult, done: number, total: number) => void,
): Promise<QuestionnaireResult> {
  const rng = new Prng(seed);
  const results: ItemResult[] = [];
  const totals: Record<string, number> = { max: 0 };
  for (const item of items) {
    const r = renderItem(item, rng);
    const turn = await simulacrum.evaluate(r.system, r.user, r.stimulus);
    const s = scoreItem(item, turn.answer);
    results.push({
      type: item.type,
      question: item.question,
      shown_order: r.shown_order,
      raw: turn.answer,
      key: item.answer,
      ...s,
    });
    totals[item.type] = (totals[item.type] ?? 0) + s.points;
    totals.max += s.max;
    onItem?.(results[results.length - 1], results.length, items.length);
  }
  const o = simulacrum.options;
  return {
    character: o.character.profile.Name,
    method: o.method,
    model: o.simulacrum.id,
    items: results,
    totals,
    parse_failures: results.filter((r) => r.parse_failure).length,
  };
}
