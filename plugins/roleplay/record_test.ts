import assert from "node:assert/strict";
import { join } from "node:path";
import { dialogsPath, formatDialogRecord, readDialogRecords } from "./record.ts";

const rec = { persona: "p", sample: { instruction: "g" }, num_turns: 0, dialog: [] };

Deno.test("formatDialogRecord() keeps the reference fields first and the optional ones", () => {
  const line = formatDialogRecord({ ...rec, id: "g/p0", end_reason: "no_prompt" });
  assert.equal(
    line,
    '{"persona":"p","sample":{"instruction":"g"},"num_turns":0,"dialog":[],"id":"g/p0","end_reason":"no_prompt"}\n',
  );
  assert.throws(() => formatDialogRecord({ ...rec, num_turns: -1 }));
});

Deno.test("readDialogRecords() is strict by default and lenient for resume", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "5.jsonl");
    await Deno.writeTextFile(file, formatDialogRecord(rec) + "\n" + '{"persona": "cut');
    await assert.rejects(
      readDialogRecords(file),
      (e: Error) => e.message.startsWith(`${file}:3 is not JSON`),
    );
    assert.deepEqual(await readDialogRecords(file, { strict: false }), {
      records: [rec],
      badLines: [3],
    });
    await Deno.writeTextFile(file, '{"persona": 1}\n');
    await assert.rejects(readDialogRecords(file), /field 'persona'/);
    assert.deepEqual(await readDialogRecords(join(dir, "none.jsonl"), { strict: false }), {
      records: [],
      badLines: [],
    });
    await assert.rejects(readDialogRecords(join(dir, "none.jsonl")), /cannot be read/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dialogsPath() uses the inquirer's short name", () => {
  assert.equal(
    dialogsPath("runs", "org/Mixtral-8x7B", "r1", 5),
    "runs/dialogs/Mixtral-8x7B/r1/5.jsonl",
  );
});
