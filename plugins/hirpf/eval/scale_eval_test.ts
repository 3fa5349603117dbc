import assert from "node:assert/strict";
import { ScriptedChatModel } from "../testing/scripted_chat_model.ts";
import type { ProfessionItem, ScaleItem } from "./items.ts";
import { runBigFiveScale, runProfessionScale } from "./scale_eval.ts";

const items: ScaleItem[] = [
  { id: "E1", factor: "EXT", key: "pos", content: "Am the life of the party" },
  { id: "E2", factor: "EXT", key: "neg", content: "Keep in the background" },
  { id: "S1", factor: "EMS", key: "pos", content: "Am relaxed most of the time" },
  { id: "A1", factor: "AGR", key: "pos", content: "Love to help others" },
];

Deno.test("runBigFiveScale() scores only targeted factors and maps NEU onto EMS", async () => {
  const agent = new ScriptedChatModel(() => "sure");
  const interviewer = new ScriptedChatModel(() => "Why?");
  // Judge: E1 → E (5), E2 → B (neg: 4), S1 → B (pos: 2). Mean EXT 4.5 → high; EMS 2 → low = NEU_high.
  const perItem: Record<string, string> = {
    "I am the life of the party": "E",
    "I keep in the background": "B",
    "I am relaxed most of the time": "B",
  };
  const judge = new ScriptedChatModel((req) => {
    const text = req.messages[0].content;
    const statement = Object.keys(perItem).find((k) => text.includes(`describe Y: "${k}"`))!;
    return `{"option": "${perItem[statement]}"}`;
  });
  const r = await runBigFiveScale({
    agent,
    interviewer,
    judge,
    identities: ["EXT_high", "NEU_high"],
    items,
    followUps: 0,
    votes: 3,
  });
  assert.deepEqual(r.items.map((i) => i.id), ["E1", "E2", "S1"]);
  assert.equal(r.factors.EXT.mean, 4.5);
  assert.equal(r.factors.EMS.mean, 2);
  assert.deepEqual(r.targets.map((t) => [t.identity, t.factor, t.expect, t.got, t.correct]), [
    ["EXT_high", "EXT", "high", "high", true],
    ["NEU_high", "EMS", "low", "low", true],
  ]);
  assert.equal(judge.calls.length, 9);
  assert.match(
    agent.calls[0].messages[0].content,
    /^You are a human with high extraversion, high neuroticism\./,
  );
});

Deno.test("runProfessionScale() expects expression only from the matching profession", async () => {
  const bank: ProfessionItem[] = [
    { id: "D1", profession: "Doctor", statement: "I can read an X-ray" },
    { id: "D2", profession: "Doctor", statement: "I can suture a wound" },
    { id: "P1", profession: "Programmer", statement: "I can write tests" },
  ];
  const m = new ScriptedChatModel(() => "fine");
  const judge = new ScriptedChatModel((
    _,
    i,
  ) => (i % 2 === 0 ? '{"option":"D"}' : '{"option":"A"}'));
  const r = await runProfessionScale({
    agent: m,
    interviewer: m,
    judge,
    identities: ["Doctor"],
    items: bank,
    followUps: 0,
    votes: 1,
  });
  // D1 → D (4), D2 → A (1): mean 2.5 → low, expected high
  assert.equal(r.factors.Doctor.sum, 5);
  assert.deepEqual(r.targets[0], {
    identity: "Doctor",
    factor: "Doctor",
    expect: "high",
    got: "low",
    correct: false,
  });
  await assert.rejects(
    () =>
      runProfessionScale({ agent: m, interviewer: m, judge, identities: ["EXT_low"], items: bank }),
    /hold no profession/,
  );
});
