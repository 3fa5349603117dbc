import assert from "node:assert/strict";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { errorCode } from "../../core/errors.ts";
import { parseCsv, readRows, rowsToCsv, type StoredRow, writeRows } from "./rows_file.ts";

const row = (i: number, trait: number | null): StoredRow => ({
  question_id: i,
  instruction_index: 1,
  sample: 2,
  question: `q${i}, "quoted"`,
  prompt: "<|user|>\nline two",
  answer: "a,b\nc",
  trait,
  coherence: 70,
  extra: { m_proj_layer1: 0.5 },
});

Deno.test("parseCsv() reads quoted fields with commas, quotes and newlines", () => {
  assert.deepEqual(parseCsv('a,b\n"x, ""y""\nz",2\n'), [["a", "b"], ['x, "y"\nz', "2"]]);
  assert.deepEqual(parseCsv("a,\n"), [["a", ""]]);
});

Deno.test("rowsToCsv() writes the upstream columns first and readRows() reads them back", async () => {
  const csv = rowsToCsv([row(0, 80)], "optimistic");
  assert.equal(
    csv.split("\n")[0],
    "question,prompt,answer,question_id,optimistic,coherence,instruction_index,sample,m_proj_layer1",
  );
  const dir = await Deno.makeTempDir();
  try {
    for (const ext of ["csv", "jsonl"]) {
      const p = join(dir, `r.${ext}`);
      await writeRows(p, [row(0, 80), row(1, null)], "optimistic");
      const back = await readRows(p);
      assert.equal(back.traitColumn, "optimistic");
      assert.deepEqual(back.rows.map((r) => r.trait), [80, null], ext);
      assert.equal(back.rows[0].answer, "a,b\nc");
      assert.equal(back.rows[0].question, 'q0, "quoted"');
      assert.equal(Number(back.rows[0].extra?.m_proj_layer1), 0.5);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readRows() names the file and line of a truncated CSV and a missing required column", async () => {
  const dir = await Deno.makeTempDir();
  const cut = `${dir}/cut.csv`;
  await Deno.writeTextFile(cut, 'question,answer,evil\nQ1,"fine",50\nQ2,"unfinished\nreply');
  await assert.rejects(
    () => readRows(cut),
    (e: Error) =>
      errorCode(e) === "E_DATA" &&
      e.message.startsWith(`${cut}:3: the CSV ends inside a quoted field that opens on line 3`),
  );
  const noAnswer = `${dir}/no_answer.csv`;
  await Deno.writeTextFile(noAnswer, "question,evil\nQ1,50\n");
  await assert.rejects(
    () => readRows(noAnswer, undefined, { require: ["answer"] }),
    new RegExp(
      `^RangeError: ${noAnswer}:1: the CSV has no "answer" column \\(columns: question, evil\\)`,
    ),
  );
  await Deno.remove(dir, { recursive: true });
});

const RELEASED_CSV = new URL(
  "../../../shared/upstream/persona_vectors/output/qwen2.5-7b-instruct_baseline.csv",
  import.meta.url,
).pathname;

Deno.test({
  name: "readRows() reads the released baseline CSV with its evil column",
  ignore: !existsSync(RELEASED_CSV),
  async fn() {
    const { rows, traitColumn } = await readRows(RELEASED_CSV, undefined, { require: ["answer"] });
    assert.equal(traitColumn, "evil");
    assert.ok(rows.length > 0 && rows.every((r) => r.answer.length > 0));
  },
});
