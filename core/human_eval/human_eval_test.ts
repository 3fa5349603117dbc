import assert from "node:assert/strict";
import { join } from "node:path";
import { fromCsv, toCsv } from "./csv.ts";
import { exportHumanEval } from "./export_set.ts";
import { type HumanEvalSet, parseHumanEvalSet } from "./items.ts";
import { readKey } from "./key.ts";
import { type LabelSet, readLabels } from "./labels.ts";
import { humanEvalReport } from "./report.ts";

function roleplaySet(): HumanEvalSet {
  return parseHumanEvalSet({
    task: "indistinguishability",
    title: "Who is the user?",
    questions: [{
      id: "source",
      prompt: "Was the user a person or a model?",
      choices: ["human", "llm"],
    }],
    items: Array.from({ length: 6 }, (_, i) => ({
      id: `d${i}`,
      turns: [{ speaker: "User", content: `hello ${i}` }, { speaker: "Bot", content: "hi" }],
      truth: { source: i < 4 ? "llm" : "human" },
      judge: { source: i % 2 ? "human" : "llm" },
      meta: { model: i < 4 ? "sim-model" : "person-source" },
    })),
  }, "t");
}

Deno.test("toCsv() and fromCsv() round-trip quotes, commas and line breaks", () => {
  const rows = [["item", "content"], ["a", 'say "hi",\nthen go'], ["b", ""]];
  assert.deepEqual(fromCsv(toCsv(rows)), rows);
});

Deno.test("parseHumanEvalSet() names the item and field of a bad answer", () => {
  const raw = {
    title: "x",
    questions: [{ id: "ok", prompt: "?", choices: ["yes", "no"] }],
    items: [{ id: "a", text: "t", truth: { ok: "maybe" } }],
  };
  assert.throws(
    () => parseHumanEvalSet(raw, "set.json"),
    /set\.json: items\[0\] \(id "a"\) truth\.ok is "maybe"; use one of yes, no/,
  );
  assert.throws(
    () => parseHumanEvalSet({ ...raw, items: [{ id: "a" }] }, "set.json"),
    /set\.json: field "items\.0".*text or at least one turn/,
  );
});

Deno.test("exportHumanEval() shuffles and anonymizes; nothing hidden reaches the form or CSV", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const set = roleplaySet();
    const files = await exportHumanEval(set, { out: dir, seed: 7 });
    const key = await readKey(files.key);
    assert.equal(key.items.length, 6);
    assert.deepEqual(key.items.map((i) => i.anon), [
      "item-001",
      "item-002",
      "item-003",
      "item-004",
      "item-005",
      "item-006",
    ]);
    assert.deepEqual(key.items.map((i) => i.id).sort(), set.items.map((i) => i.id).sort());
    assert.notDeepEqual(key.items.map((i) => i.id), set.items.map((i) => i.id), "seed 7 reorders");
    const again = await exportHumanEval(set, { out: join(dir, "b"), seed: 7 });
    assert.equal(again.set, files.set);
    for (const file of [files.form, files.csv]) {
      const text = await Deno.readTextFile(file);
      for (const hidden of ["d0", "d5", "sim-model", "person-source", " checked"]) {
        assert.ok(!text.includes(hidden), `${file} leaks ${hidden}`);
      }
    }
    const csv = fromCsv(await Deno.readTextFile(files.csv));
    assert.deepEqual(csv[0], ["item", "content", "source"]);
    assert.equal(csv.length, 7);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readLabels() reads a filled CSV and rejects unknown items and answers with the file and row", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const files = await exportHumanEval(roleplaySet(), { out: dir, seed: 1 });
    const key = await readKey(files.key);
    const sheet = fromCsv(await Deno.readTextFile(files.csv));
    sheet[1][2] = "human";
    sheet[2][2] = "llm";
    const filled = join(dir, "ann.csv");
    await Deno.writeTextFile(filled, toCsv(sheet));
    const labels = await readLabels(filled, key);
    assert.equal(labels.annotator, "ann");
    assert.deepEqual([...labels.labels], [["item-001", { source: "human" }], ["item-002", {
      source: "llm",
    }]]);
    sheet[3][2] = "robot";
    await Deno.writeTextFile(filled, toCsv(sheet));
    await assert.rejects(
      readLabels(filled, key),
      /ann\.csv: row 4, item "item-003", field source is "robot"; use one of human, llm/,
    );
    const wrong = join(dir, "wrong.json");
    await Deno.writeTextFile(
      wrong,
      JSON.stringify({ format: "dramatis-human-eval-labels", set: "other", labels: {} }),
    );
    await assert.rejects(readLabels(wrong, key), /belong to another export/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("humanEvalReport() computes indistinguishability, accuracies and κ from fixed labels", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const files = await exportHumanEval(roleplaySet(), { out: dir, seed: 2 });
    const key = await readKey(files.key);
    // Annotator 1 calls d0, d1, d4, d5 human; annotator 2 calls d0 and d5 human.
    const by = (humans: string[]): LabelSet["labels"] =>
      new Map(key.items.map((i) => [i.anon, { source: humans.includes(i.id) ? "human" : "llm" }]));
    const sets: LabelSet[] = [
      { annotator: "p1", file: "p1", labels: by(["d0", "d1", "d4", "d5"]) },
      { annotator: "p2", file: "p2", labels: by(["d0", "d5"]) },
    ];
    const r = humanEvalReport(key, sets, { resamples: 200 });
    const ind = r.indistinguishability!;
    // Model-played d0..d3: p1 says human on d0, d1; p2 on d0 → 3 of 8.
    assert.deepEqual(ind.llmItems, { answers: 8, judgedHuman: 3, rate: 3 / 8 });
    // Human d4, d5: p1 both, p2 d5 → 3 of 4.
    assert.deepEqual(ind.humanItems, { answers: 4, judgedHuman: 3, rate: 3 / 4 });
    // Judge calls odd ids human: among d0..d3 that is d1, d3.
    assert.deepEqual(ind.judgeLlmJudgedHuman, { n: 4, rate: 0.5 });
    const q = r.questions[0];
    // People right: p1 d2,d3,d4,d5 (4), p2 d1,d2,d3,d5 (4) → 8 of 12.
    assert.equal(q.people.correct, 8);
    assert.equal(q.people.n, 12);
    // Judge right on d0, d2 (llm) and d5 (human) → 3 of 6.
    assert.equal(q.judge.correct, 3);
    // Majority of people (tie → p1): d0 human, d1 human(tie, p1), d2 llm, d3 llm, d4 human(tie), d5 human.
    // Judge: d0 llm, d1 human, d2 llm, d3 human, d4 llm, d5 human.
    // Table (judge, people): (llm,human) d0, (human,human) d1 d5, (llm,llm) d2, (human,llm) d3, (llm,human) d4.
    const po = 3 / 6;
    const pe = (3 / 6) * (4 / 6) + (3 / 6) * (2 / 6);
    assert.ok(Math.abs(q.judgeVsPeople!.kappa - (po - pe) / (1 - pe)) < 1e-12);
    // p1 vs p2 agree on d0, d2, d3, d5: po 4/6, pe = (4/6)(2/6) + (2/6)(4/6).
    const pe2 = (4 / 6) * (2 / 6) + (2 / 6) * (4 / 6);
    assert.ok(Math.abs(q.betweenPeople[0].kappa - (4 / 6 - pe2) / (1 - pe2)) < 1e-12);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("humanEvalReport() reports identity recognition per slot and over all slots", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const set = parseHumanEvalSet({
      task: "identity",
      title: "Which identity?",
      questions: [
        { id: "EXT", prompt: "Extraversion", choices: ["high", "low", "none"] },
        { id: "Profession", prompt: "Profession", choices: ["Doctor", "Artist", "None"] },
      ],
      items: [
        {
          id: "a",
          text: "x",
          truth: { EXT: "high", Profession: "Doctor" },
          judge: { EXT: "high", Profession: "Doctor" },
        },
        {
          id: "b",
          text: "y",
          truth: { EXT: "low", Profession: "Artist" },
          judge: { EXT: "high", Profession: "Artist" },
        },
      ],
    }, "t");
    const files = await exportHumanEval(set, { out: dir });
    const key = await readKey(files.key);
    const anon = (id: string) => key.items.find((i) => i.id === id)!.anon;
    const r = humanEvalReport(key, [{
      annotator: "p",
      file: "p",
      labels: new Map([[anon("a"), { EXT: "high", Profession: "Artist" }], [anon("b"), {
        EXT: "low",
        Profession: "Artist",
      }]]),
    }], { resamples: 50 });
    assert.deepEqual(r.identity!.slots, [{ id: "EXT", people: 1, judge: 0.5 }, {
      id: "Profession",
      people: 0.5,
      judge: 1,
    }]);
    assert.equal(r.identity!.peopleAllSlots.accuracy, 0.5);
    assert.equal(r.identity!.judgeAllSlots.accuracy, 0.5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
