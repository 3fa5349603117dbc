/**
 * The JSONL output record of one generated dialogue, in the reference layout.
 *
 * @module
 */

import { z } from "zod";
import { dirname } from "node:path";

/** One exchanged turn. */
export const dialogTurnSchema = z.object({
  turn: z.number().int().min(0),
  model_inquirer: z.string(),
  model_responder: z.string(),
});

/** One dialogue: `{persona, sample, num_turns, dialog}`. */
export const dialogRecordSchema = z.object({
  persona: z.string(),
  sample: z.record(z.string(), z.unknown()),
  num_turns: z.number().int().min(0),
  dialog: z.array(dialogTurnSchema),
});

/** One exchanged turn. */
export type DialogTurn = z.infer<typeof dialogTurnSchema>;
/** One dialogue record. */
export type DialogRecord = z.infer<typeof dialogRecordSchema>;

/**
 * One JSONL line (with the trailing newline) for a record, validated first.
 *
 * @example
 * ```ts
 * import { formatDialogRecord } from "./record.ts";
 * formatDialogRecord({ persona: "p", sample: { instruction: "g" }, num_turns: 0, dialog: [] });
 * ```
 */
export function formatDialogRecord(record: DialogRecord): string {
  return JSON.stringify(dialogRecordSchema.parse(record)) + "\n";
}

/**
 * Appends records to a JSONL file (reference layout:
 * `<workdir>/dialogs/<inquirer>/<run id>/<seed>.jsonl`), creating directories.
 *
 * @example
 * ```ts
 * import { appendDialogRecords } from "./record.ts";
 * await appendDialogRecords("/tmp/dialogs/gpt4/run1/5.jsonl", []);
 * ```
 */
export async function appendDialogRecords(path: string, records: DialogRecord[]): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeTextFile(path, records.map(formatDialogRecord).join(""), { append: true });
}

/**
 * The reference output path for a run.
 *
 * @example
 * ```ts
 * import { dialogsPath } from "./record.ts";
 * dialogsPath("runs", "org/Mixtral-8x7B", "r1", 5); // "runs/dialogs/Mixtral-8x7B/r1/5.jsonl"
 * ```
 */
export function dialogsPath(
  workdir: string,
  inquirer: string,
  runId: string,
  seed: number,
): string {
  const short = inquirer.split("/").pop() || inquirer;
  return `${workdir}/dialogs/${short}/${runId}/${seed}.jsonl`;
}
