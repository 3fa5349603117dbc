import assert from "node:assert/strict";
import { ScriptedChatModel } from "../testing/scripted_chat_model.ts";
import { judgeInterview, runInterview } from "./interview.ts";

Deno.test("runInterview() alternates agent answers and interviewer follow-ups", async () => {
  const agent = new ScriptedChatModel((_, i) => `answer ${i}`);
  const interviewer = new ScriptedChatModel((_, i) => `follow-up ${i}`);
  const t = await runInterview({
    agent,
    interviewer,
    identities: ["EXT_high"],
    system: "SYS",
    opening: "Q0",
    statement: "I am the life of the party",
  });
  assert.deepEqual(t.map((l) => `${l.speaker}:${l.text}`), [
    "interviewer:Q0",
    "agent:answer 0",
    "interviewer:follow-up 0",
    "agent:answer 1",
    "interviewer:follow-up 1",
    "agent:answer 2",
  ]);
  assert.deepEqual(agent.calls[0].extensions, { identities: ["EXT_high"] });
  assert.deepEqual(agent.calls[1].messages.map((m) => m.role), [
    "system",
    "user",
    "assistant",
    "user",
  ]);
  // interviewer: instruction, then its own questions as assistant and answers as user
  assert.deepEqual(interviewer.calls[1].messages.map((m) => m.role), [
    "user",
    "assistant",
    "user",
    "assistant",
    "user",
  ]);
  assert.equal(interviewer.calls[0].temperature, 0.5);
});

Deno.test("judgeInterview() retries malformed votes, caps retries and takes the majority", async () => {
  // vote 0: "D"; vote 1: garbage then "B"; vote 2: "D"; vote 3: garbage x4 (null); vote 4: "B"
  const script = [
    '{"option":"D"}',
    "no idea",
    '{"option":"B"}',
    '{"option":"D"}',
    "x",
    "x",
    "x",
    "x",
    '{"option":"B"}',
  ];
  const judge = new ScriptedChatModel((_, i) => script[i]);
  const j = await judgeInterview(
    judge,
    [{ speaker: "agent", text: "I host parties." }],
    "I like parties",
    {
      seed: 10,
    },
  );
  assert.deepEqual(j.votes, ["D", "B", "D", null, "B"]);
  assert.equal(j.option, "D");
  assert.equal(j.failures, 1);
  assert.equal(judge.calls.length, 9);
  assert.match(j.reasons[0], /no JSON object/);
  assert.equal(new Set(judge.calls.map((c) => c.seed)).size, 9);
});
