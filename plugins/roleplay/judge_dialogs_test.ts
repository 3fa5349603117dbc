import assert from "node:assert/strict";
import { join } from "node:path";
import { ScriptedChatModel } from "../../core/chat/testing/mod.ts";
import { inquirerOf, judgeDialogs } from "./judge_dialogs.ts";
import { type DialogRecord, formatDialogRecord } from "./record.ts";

const record = (user: string, extra: Partial<DialogRecord> = {}): DialogRecord => ({
  persona: "p",
  sample: { id: "g", instruction: "You want tea." },
  num_turns: 1,
  dialog: [{ turn: 0, model_inquirer: user, model_responder: "ok" }],
  ...extra,
});

Deno.test("inquirerOf() prefers the record field, then the layout folder, then the file name", () => {
  assert.equal(inquirerOf(record("x", { inquirer: "gpt" }), "a/b.jsonl"), "gpt");
  assert.equal(inquirerOf(record("x"), "runs/dialogs/Mixtral/ab12/5.jsonl"), "Mixtral");
  assert.equal(inquirerOf(record("x"), "elsewhere/human.jsonl"), "human");
});

Deno.test("judgeDialogs() judges every record and aggregates per inquirer", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The scripted judge calls a user turn human when it has a typo marker "teh".
    const model = new ScriptedChatModel({
      id: "judge",
      reply: (r) => {
        const text = r.messages.map((m) => m.content).join("\n");
        // The broken dialogue gets no verdict, and neither does the judge's repair request.
        if (text.includes("BROKEN") || text.includes("malformed JSON")) return "no json at all";
        const human = text.includes("teh");
        return JSON.stringify({
          rationale: "r",
          verdict: human ? "human" : "simulated",
          confidence: human ? 0.8 : 0.6,
        });
      },
    });
    const simFile = join(dir, "dialogs", "sim", "run1", "5.jsonl");
    await Deno.mkdir(join(dir, "dialogs", "sim", "run1"), { recursive: true });
    await Deno.writeTextFile(
      simFile,
      [record("teh hikes", { id: "a" }), record("Provide hikes.", { id: "b" }), record("BROKEN")]
        .map(formatDialogRecord).join(""),
    );
    const humanFile = join(dir, "human.jsonl");
    await Deno.writeTextFile(humanFile, formatDialogRecord(record("teh cat")));
    const seen: number[] = [];
    const { judged, stats } = await judgeDialogs({
      files: [simFile, humanFile],
      model,
      maxRetries: 0,
      onProgress: (done) => seen.push(done),
    });
    assert.deepEqual(seen, [1, 2, 3, 4]);
    assert.deepEqual(judged.map((j) => [j.inquirer, j.id, j.index]), [
      ["sim", "a", 0],
      ["sim", "b", 1],
      ["sim", null, 2],
      ["human", null, 0],
    ]);
    assert.equal(judged[2].verdict.value, null);
    assert.deepEqual(stats, [
      {
        inquirer: "sim",
        n: 3,
        failed: 1,
        judged_human: 1,
        indistinguishability_rate: 0.5,
        mean_confidence: 0.7,
      },
      {
        inquirer: "human",
        n: 1,
        failed: 0,
        judged_human: 1,
        indistinguishability_rate: 1,
        mean_confidence: 0.8,
      },
    ]);
    assert.ok(model.calls[0].messages[1].content.includes("You want tea."));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("judgeDialogs() names the file and line of a malformed record", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "bad.jsonl");
    await Deno.writeTextFile(file, formatDialogRecord(record("x")) + '{"persona": 3}\n');
    await assert.rejects(
      judgeDialogs({ files: [file], model: new ScriptedChatModel() }),
      (e: Error) => e.message.includes(`${file}:2`) && (e as { code?: string }).code === "E_DATA",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
