/**
 * Reading CoSER test sets and books as released, before any model call: every record is
 * validated up front with errors that name the file, the record (`file:LINE: record N:`, line
 * from 1 and record index from 0, the project's one numbering) and the field; released quirks
 * (null chapters) are counted and reported. `--books <dir>` resolves each record's own book by
 * title (`<dir>/<title>.json`, CoSER's `data/final/` layout).
 *
 * @module
 */

import { join } from "node:path";
import { withCode } from "../../core/errors.ts";
import { recordLines, sourceLabel } from "../../core/train/chat_data.ts";
import { readJsonFile } from "./commands/io.ts";
import { type Book, parseBook, parseTestRecord, type TestRecord } from "./schemas.ts";

/** A validated test set and what was noticed in it. */
export interface TestSetFile {
  path: string;
  /** The records as read (what the simulator is given). */
  raw: unknown[];
  records: TestRecord[];
  /** Indexes of records with `plot.chapter: null`. */
  nullChapters: number[];
}

/**
 * Validates every record of a parsed test set; a bad record is an `E_DATA` error naming file,
 * line, record index and field.
 *
 * @example
 * ```ts
 * import { validateTestSet } from "./test_set_file.ts";
 * const rec = { book: "B", i_p: 0, i_c: 0, scenario: "S", speaking_characters_w_env: ["A"],
 *   dialogues: [{ character: "A", message: "Hi" }], plot: { summary: "P", chapter: null } };
 * console.log(validateTestSet([rec], "t.json").nullChapters); // [0]
 * ```
 */
export function validateTestSet(json: unknown, path: string, text?: string): TestSetFile {
  if (!Array.isArray(json)) {
    throw withCode(
      new TypeError(
        `${path}:1: the test set is ${
          json === null ? "null" : typeof json
        }; pass a JSON array of CoSER test records (data/test/test_set.json)`,
      ),
      "E_DATA",
    );
  }
  const lines = text ? recordLines(text, json.length) : [];
  const records = json.map((r, i) => {
    const where = sourceLabel({ file: path, line: lines[i] ?? 1, record: i }).slice(0, -2);
    return parseTestRecord(r, where);
  });
  const nullChapters = records.flatMap((r, i) => r.nullChapter ? [i] : []);
  return { path, raw: json, records, nullChapters };
}

/**
 * Reads and validates a test-set file.
 *
 * @example
 * ```ts ignore
 * import { loadTestSet } from "./test_set_file.ts";
 * const t = await loadTestSet("../shared/upstream/coser/data/test/test_set.json");
 * console.log(t.records.length, t.nullChapters); // 200 [136, 145]
 * ```
 */
export async function loadTestSet(path: string, flag = "--records"): Promise<TestSetFile> {
  const json = await readJsonFile(path, flag);
  const text = await Deno.readTextFile(path);
  return validateTestSet(json, path, text);
}

/** The one line a command logs about a test set's null chapters (none when there are none). */
export function nullChapterNote(set: TestSetFile): string | undefined {
  if (set.nullChapters.length === 0) return undefined;
  return `${set.path}: ${set.nullChapters.length} record(s) have "chapter": null (records ${
    set.nullChapters.join(", ")
  }), read as an unknown chapter`;
}

/**
 * Reads a book file and notes its null chapters.
 *
 * @example
 * ```ts ignore
 * import { loadBook } from "./test_set_file.ts";
 * const { book, note } = await loadBook("../shared/upstream/coser/data/final/Othello.json");
 * console.log(book.nullChapters, note);
 * ```
 */
export async function loadBook(
  path: string,
  flag = "--book",
): Promise<{ book: Book; note?: string }> {
  const book = parseBook(await readJsonFile(path, flag), path);
  const note = book.nullChapters > 0
    ? `${path}: ${book.nullChapters} plot(s) have "chapter": null, read as ""`
    : undefined;
  return { book, note };
}

/**
 * Each record's own book from a folder of `<title>.json` files (CoSER's `data/final/`), loaded
 * once per title. Titles without a file are an `E_DATA` error listing them with their record
 * indexes, raised before any model call.
 *
 * @example
 * ```ts ignore
 * import { loadBooksFor, loadTestSet } from "./test_set_file.ts";
 * const set = await loadTestSet("test_set.json");
 * const { books } = await loadBooksFor(set.records, "../shared/upstream/coser/data/final");
 * ```
 */
export async function loadBooksFor(
  records: readonly TestRecord[],
  dir: string,
): Promise<{ books: Map<string, Book>; notes: string[] }> {
  const titles = new Map<string, number[]>();
  records.forEach((r, i) => titles.set(r.book, [...(titles.get(r.book) ?? []), i]));
  const missing: string[] = [];
  const books = new Map<string, Book>();
  const notes: string[] = [];
  for (const [title, idx] of titles) {
    const path = join(dir, `${title}.json`);
    const exists = await Deno.stat(path).then((s) => s.isFile, () => false);
    if (!exists) {
      missing.push(`"${title}" (record${idx.length > 1 ? "s" : ""} ${idx.join(", ")})`);
      continue;
    }
    const { book, note } = await loadBook(path, "--books");
    books.set(title, book);
    if (note) notes.push(note);
  }
  if (missing.length > 0) {
    throw withCode(
      new RangeError(
        `--books ${dir} has no <title>.json for ${missing.length} book(s) of the records: ${
          missing.slice(0, 8).join("; ")
        }${
          missing.length > 8 ? `; … (${missing.length - 8} more)` : ""
        }; add the books (gca build-dataset writes them) or simulate only records whose book is ` +
          `there (--limit, or a filtered --records file)`,
      ),
      "E_DATA",
    );
  }
  return { books, notes };
}
