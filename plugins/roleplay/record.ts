/**
 * The JSONL output record of one generated dialogue, in the reference layout.
 *
 * @module
 */

import { z } from "zod";
import { dirname } from "node:path";
import { withCode } from "../../core/errors.ts";

/** One exchanged turn. */
export const dialogTurnSchema = z.object({
  turn: z.number().int().min(0),
  model_inquirer: z.string(),
  model_responder: z.string(),
});

/**
 * One dialogue: the reference fields `{persona, sample, num_turns, dialog}`, then optional fields
 * this project adds (the generate command writes them all): a stable `id` (goal id and persona
 * slot, the resume key), the persona hash, the two models, the dialogue's seed, why it ended and
 * its own counters.
 */
export const dialogRecordSchema = z.object({
  persona: z.string(),
  sample: z.record(z.string(), z.unknown()),
  num_turns: z.number().int().min(0),
  dialog: z.array(dialogTurnSchema),
  id: z.string().min(1).optional(),
  persona_hash: z.string().optional(),
  inquirer: z.string().optional(),
  responder: z.string().optional(),
  seed: z.number().int().optional(),
  end_reason: z.string().optional(),
  counters: z.record(z.string(), z.number().int().min(0)).optional(),
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

/** What {@link readDialogRecords} found in a file. */
export interface DialogRecordsFile {
  records: DialogRecord[];
  /** 1-based numbers of lines that are not valid records (e.g. a line cut off by a crash). */
  badLines: number[];
}

/**
 * Reads a dialogue JSONL file. A missing file holds no records. With `strict` (the default) a bad
 * line raises a SyntaxError / TypeError (code `E_DATA`) naming the line; otherwise bad lines are
 * skipped and listed, so a run interrupted mid-write can resume.
 *
 * @example
 * ```ts ignore
 * import { readDialogRecords } from "./record.ts";
 * const { records } = await readDialogRecords("runs/dialogs/ada/3f2a/5.jsonl");
 * console.log(records.length);
 * ```
 */
export async function readDialogRecords(
  path: string,
  options: { strict?: boolean } = {},
): Promise<DialogRecordsFile> {
  const strict = options.strict ?? true;
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound && !strict) return { records: [], badLines: [] };
    throw withCode(
      new TypeError(
        `dialogue file ${path} cannot be read (${(error as Error).message}); check the path`,
      ),
      "E_DATA",
    );
  }
  const records: DialogRecord[] = [];
  const badLines: number[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(lines[i]);
    } catch (error) {
      if (!strict) {
        badLines.push(i + 1);
        continue;
      }
      throw withCode(
        new SyntaxError(`${path}:${i + 1} is not JSON (${(error as Error).message})`),
        "E_DATA",
      );
    }
    const parsed = dialogRecordSchema.safeParse(value);
    if (!parsed.success) {
      if (!strict) {
        badLines.push(i + 1);
        continue;
      }
      const issue = parsed.error.issues[0];
      throw withCode(
        new TypeError(
          `${path}:${i + 1}: field '${issue.path.join(".") || "(root)"}' ${issue.message}; ` +
            "each line needs {persona, sample, num_turns, dialog}",
        ),
        "E_DATA",
      );
    }
    records.push(parsed.data);
  }
  return { records, badLines };
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
