import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { errorCode } from "../../core/errors.ts";
import { loadBook, loadBooksFor, loadTestSet, validateTestSet } from "./test_set_file.ts";
import { parseTestRecord } from "./schemas.ts";

const COSER = new URL("../../../shared/upstream/coser/data/", import.meta.url).pathname;
const present = existsSync(COSER);
if (!present) console.warn(`skipped: ${COSER} is absent (../shared/upstream)`);

const rec = (over: Record<string, unknown> = {}) => ({
  book: "B",
  i_p: 0,
  i_c: 0,
  scenario: "S",
  speaking_characters_w_env: ["A"],
  dialogues: [{ character: "A", message: "Hi" }],
  plot: { summary: "P", chapter: "1" },
  ...over,
});

Deno.test("validateTestSet() names file, line, record and field of a bad record", () => {
  const text = `[\n${JSON.stringify(rec())},\n${JSON.stringify(rec({ scenario: 3 }))}\n]`;
  assert.throws(
    () => validateTestSet(JSON.parse(text), "t.json", text),
    (e: Error) =>
      errorCode(e) === "E_DATA" &&
      /^t\.json:3: record 1 is malformed: scenario: .*fix the record/.test(e.message),
  );
});

Deno.test("parseTestRecord() reads a null chapter as unknown and marks it", () => {
  const r = parseTestRecord(rec({ plot: { summary: "P", chapter: null } }));
  assert.equal(r.nullChapter, true);
  assert.equal("chapter" in r.plot, false);
  // A record parsed again (the simulator re-parses its input) keeps the mark.
  assert.equal(parseTestRecord(r).nullChapter, true);
  assert.equal(parseTestRecord(rec()).nullChapter, undefined);
});

Deno.test({
  name:
    "loadTestSet() reads CoSER's released test_set.json: 200 records, null chapters at 136, 145",
  ignore: !present,
  async fn() {
    const set = await loadTestSet(join(COSER, "test/test_set.json"));
    assert.equal(set.records.length, 200);
    assert.deepEqual(set.nullChapters, [136, 145]);
  },
});

Deno.test({
  name: "loadBook() reads the released books, counting their null chapters",
  ignore: !present,
  async fn() {
    const counts: Record<string, number> = {};
    for (const f of Deno.readDirSync(join(COSER, "final"))) {
      counts[f.name] = (await loadBook(join(COSER, "final", f.name))).book.nullChapters;
    }
    assert.deepEqual(counts, {
      "A Storm of Swords (A Song of Ice and Fire, #3).json": 1,
      "Harry Potter and the Sorcerer's Stone (Harry Potter, #1).json": 0,
      "King Lear.json": 1,
      "Othello.json": 2,
    });
  },
});

Deno.test({
  name: "loadBooksFor() picks each record's own book and names the missing ones",
  ignore: !present,
  async fn() {
    const set = await loadTestSet(join(COSER, "test/test_set.json"));
    // The released books belong to the scenes of the authors' own simulation file.
    const sims = JSON.parse(
      await Deno.readTextFile(join(COSER, "../exp/simulation/test_set_gpt-4o.json")),
    ) as { circumstance: unknown }[];
    const ofBooks = sims.map((s) => parseTestRecord(s.circumstance));
    const { books, notes } = await loadBooksFor(ofBooks, join(COSER, "final"));
    assert.deepEqual([...books.keys()].sort(), ["King Lear", "Othello"]);
    assert.equal(notes.length, 2);
    await assert.rejects(
      () => loadBooksFor(set.records, join(COSER, "final")),
      (e: Error) =>
        errorCode(e) === "E_DATA" &&
        /has no <title>\.json for \d+ book\(s\) of the records: "/.test(e.message),
    );
  },
});
