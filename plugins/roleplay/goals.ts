/**
 * The goals dataset: second-person tasks ("You want to …") a simulated user tries to accomplish.
 * The shipped file holds ten goal kinds with three goals each, written for this project after the
 * ten kinds of the reference configuration.
 *
 * @module
 */

import { z } from "zod";
import { withCode } from "../../core/errors.ts";

/** The ten goal kinds. */
export const GOAL_KINDS = [
  "pace_energy", // speed from distance and time, then energy burned
  "mixed_rates", // a rate puzzle with several speeds and time shares, then the swapped case
  "farm_sums", // feeding arithmetic plus a domain follow-up
  "code_improve", // make a function recursive and safe, then add a CLI
  "code_unfamiliar", // write code in an unfamiliar language, OOP, then fetch input via an API
  "draw_then_edit", // turtle drawing, then edit the numbers of the k-th line
  "ranked_facts", // a top-N list, pick the k-th, ask for details
  "argue_other_side", // have the bot argue for a claim the user disagrees with
  "trip_constraints", // plan a trip under a physical constraint
  "verse_refine", // a structured poem, refined, one part restyled
] as const;

/** One goal kind. */
export type GoalKind = typeof GOAL_KINDS[number];

/** The schema of one line of `goals.jsonl`; `id` and `kind` may be left out (instruction-only goals). */
export const goalSchema = z.object({
  id: z.string().min(1).optional(),
  kind: z.string().min(1).optional(),
  instruction: z.string().min(1),
});

/** One goal (`id` defaults to `goal-<record>`, `kind` to `custom`). */
export interface Goal {
  id: string;
  kind: string;
  instruction: string;
}

/** The shipped dataset's location. */
export const DEFAULT_GOALS_URL: URL = new URL("./data/goals.jsonl", import.meta.url);

/**
 * Parses JSONL text into goals; blank lines are skipped. Bad lines raise a SyntaxError or
 * TypeError (code `E_DATA`) naming the line.
 *
 * @example
 * ```ts
 * import { parseGoals } from "./goals.ts";
 * const goals = parseGoals('{"id":"a","kind":"x","instruction":"You want tea."}\n');
 * console.log(goals[0].instruction);
 * ```
 */
export function parseGoals(text: string, source = "goals.jsonl"): Goal[] {
  const out: Goal[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw withCode(
        new SyntaxError(
          `${source}:${i + 1} is not JSON (${(error as Error).message}); ` +
            `write one {"id","kind","instruction"} object per line`,
        ),
        "E_DATA",
      );
    }
    const parsed = goalSchema.safeParse(value);
    if (!parsed.success) {
      throw withCode(
        new TypeError(
          `${source}:${i + 1}: ${
            parsed.error.issues.map((x) => `${x.path.join(".") || "(root)"} ${x.message}`).join(
              "; ",
            )
          }; each line needs a string instruction (id and kind are optional)`,
        ),
        "E_DATA",
      );
    }
    out.push({
      id: parsed.data.id ?? `goal-${out.length}`,
      kind: parsed.data.kind ?? "custom",
      instruction: parsed.data.instruction,
    });
  }
  return out;
}

/**
 * Loads goals from a JSONL file (the shipped dataset by default).
 *
 * @example
 * ```ts
 * import { loadGoals } from "./goals.ts";
 * const goals = await loadGoals();
 * console.log(goals.length); // 30
 * ```
 */
export async function loadGoals(path: string | URL = DEFAULT_GOALS_URL): Promise<Goal[]> {
  return parseGoals(await Deno.readTextFile(path), String(path));
}
