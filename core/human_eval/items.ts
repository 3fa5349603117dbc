/**
 * An evaluation set for people: questions with fixed choices, and items (a text or a dialogue)
 * that may carry the true answer (`truth`) and an LLM judge's answer (`judge`). Plugins write such
 * sets from their own outputs; this module never knows which plugin made them.
 *
 * @module
 */

import { z } from "zod";
import { withCode } from "../errors.ts";
import { describeZodIssue } from "../util/zod_issue.ts";

/** One question asked about every item. */
export const HumanEvalQuestionSchema = z.object({
  /** Key of the answer in labels, truth and judge (`/^[A-Za-z][A-Za-z0-9_]*$/`). */
  id: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/),
  /** What the annotator is asked. */
  prompt: z.string().min(1),
  /** Allowed answers (2 or more, distinct). */
  choices: z.array(z.string().min(1)).min(2).refine((c) => new Set(c).size === c.length, {
    message: "choices must be distinct",
  }),
}).strict();

/** One turn of a dialogue item. */
export const HumanEvalTurnSchema = z.object({
  /** Who speaks, as shown to annotators (anonymized names such as `A` / `B` are the caller's). */
  speaker: z.string().min(1),
  content: z.string(),
}).strict();

/** One item to annotate. */
export const HumanEvalItemSchema = z.object({
  id: z.string().min(1),
  /** A text to read (shown before the turns when both are given). */
  text: z.string().optional(),
  turns: z.array(HumanEvalTurnSchema).optional(),
  /** The true answer per question id (never exported to annotators). */
  truth: z.record(z.string(), z.string()).optional(),
  /** The LLM judge's answer per question id (never exported to annotators). */
  judge: z.record(z.string(), z.string()).optional(),
  /** Anything else the caller wants back in the key (source file, model, …). */
  meta: z.record(z.string(), z.unknown()).optional(),
}).strict().refine((i) => i.text !== undefined || (i.turns?.length ?? 0) > 0, {
  message: "an item needs a text or at least one turn",
});

/**
 * A human-evaluation set.
 *
 * `task` picks the extra figures of the report: `indistinguishability` (LLM Roleplay: was this
 * user a person or a model? the truth of question `source` is `human` or `llm`), `identity` (HIS
 * situational tests: one question per identity slot), or `generic`.
 */
export const HumanEvalSetSchema = z.object({
  task: z.enum(["indistinguishability", "identity", "generic"]).default("generic"),
  title: z.string().min(1),
  /** Shown at the top of the form. */
  instructions: z.string().default(""),
  questions: z.array(HumanEvalQuestionSchema).min(1),
  items: z.array(HumanEvalItemSchema).min(1),
}).strict();

/** A question. */
export type HumanEvalQuestion = z.infer<typeof HumanEvalQuestionSchema>;
/** A turn. */
export type HumanEvalTurn = z.infer<typeof HumanEvalTurnSchema>;
/** An item. */
export type HumanEvalItem = z.infer<typeof HumanEvalItemSchema>;
/** A set. */
export type HumanEvalSet = z.infer<typeof HumanEvalSetSchema>;

/**
 * Validates a set: the schema, unique item ids, and truth / judge answers that are choices of
 * their question. A problem is a `TypeError` tagged `E_DATA` naming the source, the item and the
 * field.
 *
 * @example
 * ```ts
 * import { parseHumanEvalSet } from "./items.ts";
 * const set = parseHumanEvalSet({
 *   title: "demo",
 *   questions: [{ id: "ok", prompt: "Fine?", choices: ["yes", "no"] }],
 *   items: [{ id: "a", text: "Hello", truth: { ok: "yes" } }],
 * }, "demo.json");
 * console.log(set.task); // "generic"
 * ```
 */
export function parseHumanEvalSet(raw: unknown, source: string): HumanEvalSet {
  const r = HumanEvalSetSchema.safeParse(raw);
  if (!r.success) {
    const { path, value, reason } = describeZodIssue(r.error, raw);
    throw withCode(
      new TypeError(
        `${source}: field "${path || "(set)"}" is ${
          value === undefined ? "missing" : JSON.stringify(value)?.slice(0, 80)
        }: ${reason}`,
      ),
      "E_DATA",
    );
  }
  const set = r.data;
  const seen = new Set<string>();
  const choices = new Map(set.questions.map((q) => [q.id, q.choices]));
  for (const [i, item] of set.items.entries()) {
    if (seen.has(item.id)) {
      throw withCode(
        new TypeError(`${source}: items[${i}] repeats id "${item.id}"; give every item its own id`),
        "E_DATA",
      );
    }
    seen.add(item.id);
    for (const field of ["truth", "judge"] as const) {
      for (const [q, answer] of Object.entries(item[field] ?? {})) {
        const allowed = choices.get(q);
        if (!allowed) {
          throw withCode(
            new TypeError(
              `${source}: items[${i}] (id "${item.id}") ${field}.${q}: no question has id "${q}"; ` +
                `use one of ${[...choices.keys()].join(", ")}`,
            ),
            "E_DATA",
          );
        }
        if (!allowed.includes(answer)) {
          throw withCode(
            new TypeError(
              `${source}: items[${i}] (id "${item.id}") ${field}.${q} is ${
                JSON.stringify(answer)
              }; use one of ${allowed.join(", ")}`,
            ),
            "E_DATA",
          );
        }
      }
    }
  }
  return set;
}
