/**
 * Rollout files (spec B2): CSV with the upstream columns `question, prompt, answer, question_id,
 * {trait}, coherence`, followed by `instruction_index, sample` (the alignment key) and any
 * projection columns; or JSONL with the same fields plus `messages`. Empty cells are null scores.
 *
 * @module
 */

import { extname } from "node:path";
import { withCode } from "../../core/errors.ts";
import { writeFileAtomic } from "../../core/util/atomic.ts";
import type { ChatMessage } from "../../core/contracts/chat_model.ts";
import type { RolloutRow } from "./rollout.ts";

/** A rollout row as stored, with optional conversation and extra (projection) columns. */
export interface StoredRow extends RolloutRow {
  messages?: ChatMessage[];
  extra?: Record<string, number | string | null>;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return "";
  const s = typeof v === "number" ? (Number.isFinite(v) ? String(v) : "") : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/**
 * Parses CSV text (RFC 4180: quoted fields, doubled quotes, newlines inside quotes).
 *
 * @example
 * ```ts
 * import { parseCsv } from "./rows_file.ts";
 * console.log(parseCsv('a,b\n"x, ""y""",2\n')); // [["a","b"],["x, \"y\"","2"]]
 * ```
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  let any = false;
  let line = 1;
  let quoteLine = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") line++;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += c;
      continue;
    }
    if (c === '"') {
      quoted = true;
      quoteLine = line;
      any = true;
    } else if (c === ",") {
      row.push(cell);
      cell = "";
      any = true;
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      if (any || cell !== "") {
        row.push(cell);
        rows.push(row);
      }
      row = [];
      cell = "";
      any = false;
    } else {
      cell += c;
      any = true;
    }
  }
  if (quoted) {
    throw withCode(
      new SyntaxError(
        `${quoteLine}: the CSV ends inside a quoted field that opens on line ${quoteLine} (a ` +
          `truncated file?); fetch or write the file again`,
      ),
      "E_DATA",
    );
  }
  if (any || cell !== "") {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/**
 * Renders rows as CSV with the trait column named `traitColumn`.
 *
 * @example
 * ```ts
 * import { rowsToCsv } from "./rows_file.ts";
 * const csv = rowsToCsv([{ question_id: 0, instruction_index: 0, sample: 0, question: "q", prompt: "p",
 *   answer: "a, b", trait: 80, coherence: null }], "optimistic");
 * console.log(csv.split("\n")[0]); // question,prompt,answer,question_id,optimistic,coherence,instruction_index,sample
 * ```
 */
export function rowsToCsv(rows: readonly StoredRow[], traitColumn: string): string {
  const extra = [...new Set(rows.flatMap((r) => Object.keys(r.extra ?? {})))];
  const head = [
    "question",
    "prompt",
    "answer",
    "question_id",
    traitColumn,
    "coherence",
    "instruction_index",
    "sample",
    ...extra,
  ];
  const lines = [head.map(csvCell).join(",")];
  for (const r of rows) {
    lines.push(
      [
        r.question,
        r.prompt,
        r.answer,
        r.question_id,
        r.trait,
        r.coherence,
        r.instruction_index,
        r.sample,
        ...extra.map((k) => r.extra?.[k]),
      ].map(csvCell).join(","),
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * Writes rows as `.csv` or `.jsonl` (by extension), atomically.
 *
 * @example
 * ```ts ignore
 * import { writeRows } from "./rows_file.ts";
 * await writeRows("runs/optimistic_pos.csv", rows, "optimistic");
 * ```
 */
export async function writeRows(
  path: string,
  rows: readonly StoredRow[],
  traitColumn: string,
): Promise<void> {
  if (extname(path) === ".jsonl") {
    const text = rows.map((r) => {
      const { trait, extra, ...rest } = r;
      return JSON.stringify({ ...rest, [traitColumn]: trait, ...(extra ?? {}) });
    }).join("\n");
    await writeFileAtomic(path, text + (rows.length ? "\n" : ""));
  } else {
    await writeFileAtomic(path, rowsToCsv(rows, traitColumn));
  }
}

const BASE = new Set([
  "question",
  "prompt",
  "answer",
  "question_id",
  "coherence",
  "instruction_index",
  "sample",
  "messages",
]);

function score(v: unknown, where: string): number | null {
  if (v === null || v === undefined || v === "") return null;
  const n = typeof v === "number" ? v : Number(v);
  if (!Number.isFinite(n)) {
    throw withCode(
      new SyntaxError(`${where} is ${JSON.stringify(v)}; expected a number or empty`),
      "E_DATA",
    );
  }
  return n;
}

/**
 * Reads a rollout file (`.csv` or `.jsonl`). `traitColumn` names the trait score column (default:
 * the first column that is not a known one and holds numbers or blanks); the rest become `extra`.
 *
 * @example
 * ```ts ignore
 * import { readRows } from "./rows_file.ts";
 * const { rows, traitColumn } = await readRows("runs/optimistic_pos.csv");
 * ```
 */
export async function readRows(
  path: string,
  traitColumn?: string,
  options: { require?: readonly string[] } = {},
): Promise<{ rows: StoredRow[]; traitColumn: string | undefined }> {
  const text = await Deno.readTextFile(path).catch((e) => {
    throw withCode(
      new TypeError(
        `rollout file "${path}" cannot be read (${(e as Error).message}); pass a CSV or JSONL file`,
      ),
      "E_DATA",
    );
  });
  let records: Record<string, unknown>[];
  if (extname(path) === ".jsonl") {
    records = [];
    text.split("\n").forEach((l, i) => {
      if (!l.trim()) return;
      try {
        records.push(JSON.parse(l));
      } catch (e) {
        throw withCode(
          new SyntaxError(
            `${path}:${i + 1}: record ${records.length}: not JSON (${(e as Error).message}); ` +
              `each line is one complete JSON object`,
          ),
          "E_DATA",
        );
      }
    });
  } else {
    let table: string[][];
    try {
      table = parseCsv(text);
    } catch (e) {
      throw withCode(new SyntaxError(`${path}:${(e as Error).message}`), "E_DATA");
    }
    const [head, ...body] = table;
    if (!head) return { rows: [], traitColumn };
    const missing = (options.require ?? []).filter((c) => !head.includes(c));
    if (missing.length) {
      throw withCode(
        new RangeError(
          `${path}:1: the CSV has no ${missing.map((c) => `"${c}"`).join(", ")} column ` +
            `(columns: ${head.join(", ")}); write the rollouts with 'persona_vectors rollouts' ` +
            `or add the column`,
        ),
        "E_DATA",
      );
    }
    records = body.map((cells) => Object.fromEntries(head.map((h, i) => [h, cells[i] ?? ""])));
  }
  if (extname(path) === ".jsonl") {
    for (const [i, r] of records.entries()) {
      const field = (options.require ?? []).find((c) => !(c in r));
      if (field !== undefined) {
        throw withCode(
          new RangeError(
            `${path}: record ${i}: no "${field}" field; every row needs ` +
              `${(options.require ?? []).map((c) => `"${c}"`).join(", ")}`,
          ),
          "E_DATA",
        );
      }
    }
  }
  const col = traitColumn ?? Object.keys(records[0] ?? {}).find((k) => !BASE.has(k));
  const rows = records.map((r, i): StoredRow => {
    const where = `${path} row ${i + 1}`;
    const messages = Array.isArray(r.messages) ? r.messages as ChatMessage[] : undefined;
    const lastUser = messages?.filter((m) => m.role === "user").at(-1)?.content;
    const extra: Record<string, number | string | null> = {};
    for (const [k, v] of Object.entries(r)) {
      if (!BASE.has(k) && k !== col) extra[k] = v as string;
    }
    return {
      question: String(r.question ?? lastUser ?? ""),
      prompt: String(r.prompt ?? ""),
      answer: String(r.answer ?? ""),
      question_id: Number(r.question_id ?? i),
      instruction_index: Number(r.instruction_index ?? 0),
      sample: Number(r.sample ?? 0),
      trait: col ? score(r[col], `${where} column ${col}`) : null,
      coherence: score(r.coherence, `${where} column coherence`),
      ...(messages ? { messages } : {}),
      ...(Object.keys(extra).length ? { extra } : {}),
    };
  });
  return { rows, traitColumn: col };
}
