import assert from "node:assert/strict";
import { join } from "node:path";
import { CachedChatModel } from "../../core/chat/cached_chat_model.ts";
import { ScriptedChatModel } from "../../core/chat/testing/mod.ts";
import type { ChatRequest } from "../../core/contracts/chat_model.ts";
import { dialogSeed, generateDialogs, planDialogs, summarizeRecords } from "./generate_dialogs.ts";
import type { Goal } from "./goals.ts";
import { randomPersonas } from "./persona.ts";
import type { DialogRecord } from "./record.ts";

// Each goal's text tells the scripted inquirer how to behave, so every end reason is reachable.
const goals: Goal[] = [
  { id: "ask", kind: "k", instruction: "You want to ASK twice." },
  { id: "multi", kind: "k", instruction: "You want to MULTI." },
  { id: "mute", kind: "k", instruction: "You want to MUTE." },
];

const turnOf = (r: ChatRequest) => r.messages.filter((m) => m.role === "user").length - 1;
const goalWord = (r: ChatRequest) =>
  /You want to (\w+)/.exec(r.messages.find((m) => m.role === "user")!.content)![1];

function inquirerReply(r: ChatRequest): string {
  const turn = turnOf(r);
  switch (goalWord(r)) {
    case "ASK":
      return turn < 2 ? `I'd type "question ${turn} (seed ${r.seed})"` : "FINISH";
    case "MULTI":
      return turn < 1 ? `"first ${r.seed}" or "second"` : "FINISH.";
    default:
      return "no quotes here at all";
  }
}

function models() {
  return {
    inquirer: new ScriptedChatModel({ id: "inq/model-a", reply: inquirerReply }),
    responder: new ScriptedChatModel({
      id: "res",
      reply: (r) => `answer to ${r.messages.at(-1)!.content}`,
    }),
  };
}

const personas = randomPersonas(2, 3);
const lines = async (path: string) =>
  (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));

Deno.test("planDialogs() pairs every goal with every persona slot under distinct seeds", () => {
  const plan = planDialogs(goals, personas, 5);
  assert.deepEqual(plan.map((s) => s.id), [
    "ask/p0",
    "ask/p1",
    "multi/p0",
    "multi/p1",
    "mute/p0",
    "mute/p1",
  ]);
  assert.equal(new Set(plan.map((s) => s.seed)).size, plan.length);
  assert.equal(plan[0].seed, dialogSeed(5, "ask/p0"));
  assert.throws(() => planDialogs([goals[0], goals[0]], personas, 5), /appears twice/);
});

Deno.test("dialogSeed() is FNV-1a of seed and id", () => {
  // Independent oracle: FNV-1a 32-bit of "1\u0000a" computed by hand-rolled BigInt arithmetic.
  let h = 0x811c9dc5n;
  for (const c of "1\u0000a") h = ((h ^ BigInt(c.charCodeAt(0))) * 0x01000193n) & 0xffffffffn;
  assert.equal(dialogSeed(1, "a"), Number(h));
});

Deno.test("generateDialogs() writes records, trace and metrics in the reference layout", async () => {
  const out = await Deno.makeTempDir();
  try {
    const { inquirer, responder } = models();
    const r = await generateDialogs({
      inquirer,
      responder,
      goals,
      personas,
      options: { seed: 7, numTurns: 12 },
      out,
    });
    assert.equal(r.dialogsPath, join(out, "dialogs", "model-a", r.runId, "7.jsonl"));
    assert.equal(r.metricsPath, join(out, "dialogs", "model-a", r.runId, "metrics.json"));
    assert.match(r.runId, /^[0-9a-f]{12}$/);
    assert.equal(r.written, 6);
    const records: DialogRecord[] = await lines(r.dialogsPath);
    const byId = Object.fromEntries(records.map((x) => [x.id, x]));
    const ask = byId["ask/p1"];
    const seed = dialogSeed(7, "ask/p1");
    assert.equal(ask.seed, seed);
    assert.deepEqual(ask.dialog, [
      {
        turn: 0,
        model_inquirer: `question 0 (seed ${seed})`,
        model_responder: `answer to question 0 (seed ${seed})`,
      },
      {
        turn: 1,
        model_inquirer: `question 1 (seed ${seed})`,
        model_responder: `answer to question 1 (seed ${seed})`,
      },
    ]);
    assert.equal(ask.end_reason, "stop_token");
    assert.equal(ask.persona, personas[1].persona);
    assert.equal(ask.persona_hash, personas[1].persona_hash);
    assert.equal(ask.inquirer, "inq/model-a");
    assert.equal(ask.responder, "res");
    assert.deepEqual(ask.sample, goals[0]);
    assert.equal(byId["multi/p0"].counters!.num_multiple_prompts, 1);
    assert.equal(byId["mute/p0"].end_reason, "no_prompt");

    const metrics = JSON.parse(await Deno.readTextFile(r.metricsPath));
    assert.equal(metrics.planned, 6);
    assert.equal(metrics.dialogues, 6);
    assert.equal(metrics.turns_total, 2 * 2 + 2 * 1);
    assert.deepEqual(metrics.end_reasons, { stop_token: 4, no_prompt: 2 });
    assert.equal(metrics.counters.num_no_prompts, 2);
    assert.equal(metrics.counters.num_multiple_prompts, 2);
    assert.deepEqual(
      metrics.personas,
      Object.fromEntries(personas.map((p) => [p.persona_hash, p.persona])),
    );
    assert.equal(metrics.cfg.numTurns, 12);

    const trace = await lines(r.tracePath);
    const askTrace = trace.filter((e) => e.dialog_id === "ask/p1").map((e) => e.name);
    assert.deepEqual(askTrace, [
      ...Array(2).fill([
        "inquirer_input",
        "inquirer_output",
        "inquirer_output_extract",
        "responder_input",
        "responder_output",
      ]).flat(),
      "inquirer_input",
      "inquirer_output",
      "dialog_end",
    ]);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("generateDialogs() resumes: cut-off lines and orphan trace events are dropped, cache serves the rest", async () => {
  const out = await Deno.makeTempDir();
  try {
    const cache = join(out, "cache.sqlite");
    const first = models();
    const wrap = (m: ScriptedChatModel) => new CachedChatModel(m, { path: cache });
    const a = [wrap(first.inquirer), wrap(first.responder)];
    const r1 = await generateDialogs({
      inquirer: a[0],
      responder: a[1],
      goals,
      personas,
      out,
    });
    a.forEach((m) => m.close());
    const full = await Deno.readTextFile(r1.dialogsPath);
    const fullTrace = await Deno.readTextFile(r1.tracePath);
    const kept = full.split("\n").filter(Boolean).slice(0, 3);
    // A crash: three complete records, half a fourth line, and trace events of later dialogues.
    await Deno.writeTextFile(r1.dialogsPath, kept.join("\n") + '\n{"persona": "a 2');

    const second = models();
    const b = [wrap(second.inquirer), wrap(second.responder)];
    const progress: boolean[] = [];
    const r2 = await generateDialogs({
      inquirer: b[0],
      responder: b[1],
      goals,
      personas,
      out,
      onProgress: (p) => progress.push(p.skipped),
    });
    b.forEach((m) => m.close());
    assert.equal(r2.runId, r1.runId);
    assert.equal(r2.skipped, 3);
    assert.equal(r2.written, 3);
    assert.deepEqual(progress, [true, true, true, false, false, false]);
    assert.equal(second.inquirer.calls.length + second.responder.calls.length, 0);
    assert.equal(await Deno.readTextFile(r2.dialogsPath), full);
    assert.equal(await Deno.readTextFile(r2.tracePath), fullTrace);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("generateDialogs() with concurrency writes the same records in some order", async () => {
  const one = await Deno.makeTempDir();
  const two = await Deno.makeTempDir();
  try {
    const m1 = models();
    const m2 = models();
    const r1 = await generateDialogs({ ...m1, goals, personas, out: one });
    const r2 = await generateDialogs({ ...m2, goals, personas, out: two, concurrency: 3 });
    const sort = (x: DialogRecord[]) => x.sort((a, b) => a.id!.localeCompare(b.id!));
    assert.deepEqual(sort(await lines(r2.dialogsPath)), sort(await lines(r1.dialogsPath)));
    await assert.rejects(
      generateDialogs({ ...m2, goals, personas, out: two, concurrency: 0 }),
      /concurrency is 0/,
    );
  } finally {
    await Deno.remove(one, { recursive: true });
    await Deno.remove(two, { recursive: true });
  }
});

Deno.test("generateDialogs() stops at a model error and its metrics describe the records written", async () => {
  const out = await Deno.makeTempDir();
  try {
    const inquirer = new ScriptedChatModel({
      id: "inq",
      reply: inquirerReply,
      fail: (r) => goalWord(r) === "MULTI" ? new Error("server down") : undefined,
    });
    const { responder } = models();
    await assert.rejects(
      generateDialogs({ inquirer, responder, goals, personas, out, runId: "r" }),
      /server down/,
    );
    const path = join(out, "dialogs", "inq", "r", "5.jsonl");
    const records: DialogRecord[] = await lines(path);
    assert.deepEqual(records.map((r) => r.id), ["ask/p0", "ask/p1"]);
    const metrics = JSON.parse(
      await Deno.readTextFile(join(out, "dialogs", "inq", "r", "metrics.json")),
    );
    assert.equal(metrics.dialogues, 2);
    assert.equal(metrics.planned, 6);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("summarizeRecords() totals counters, turns and end reasons", () => {
  const base = { persona: "p", sample: {}, dialog: [] };
  const c = (n: number) => ({
    num_no_prompts: n,
    num_multiple_prompts: 0,
    num_non_coherent: 0,
    num_regenerate_worked: 0,
    num_self_replies: 0,
    num_non_coherent_model_responder: 0,
  });
  const s = summarizeRecords([
    { ...base, num_turns: 3, end_reason: "max_turns", counters: c(0), persona_hash: "h" },
    { ...base, num_turns: 0, end_reason: "no_prompt", counters: c(1) },
  ]);
  assert.equal(s.turns_total, 3);
  assert.equal(s.mean_turns, 1.5);
  assert.deepEqual(s.end_reasons, { max_turns: 1, no_prompt: 1 });
  assert.equal(s.counters.num_no_prompts, 1);
  assert.deepEqual(s.personas, { h: "p" });
});
