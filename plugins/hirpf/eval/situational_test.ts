import assert from "node:assert/strict";
import { ScriptedChatModel } from "../testing/scripted_chat_model.ts";
import { SITUATIONAL_TESTS } from "./items.ts";
import {
  accuracyByIdentityCount,
  allIdentityCombinations,
  identityDict,
  judgeIdentity,
  parseIdentityGuess,
  runSituationalDialogue,
  slotCorrectness,
} from "./situational.ts";

Deno.test("allIdentityCombinations() yields 3^5·4−1 distinct non-empty sets", () => {
  const all = allIdentityCombinations();
  assert.equal(all.length, 971);
  assert.equal(new Set(all.map((c) => c.join(","))).size, 971);
  assert.equal(all.filter((c) => c.length === 1).length, 13);
  assert.equal(all.filter((c) => c.length === 6).length, 32 * 3);
  assert.equal(allIdentityCombinations(["Chef"]).length, 243 * 2 - 1);
});

Deno.test("SITUATIONAL_TESTS has 5 factor and 3 profession scenarios", () => {
  assert.deepEqual(SITUATIONAL_TESTS.map((t) => t.dimension).sort(), [
    "AGR",
    "Artist",
    "CON",
    "Doctor",
    "EXT",
    "NEU",
    "OPE",
    "Programmer",
  ]);
});

Deno.test("parseIdentityGuess() reads slots, maps None to null and rejects odd values", () => {
  const v = parseIdentityGuess('{"AGR":"low","EXT":"high","NEU":null,"Profession":"None"}');
  assert.deepEqual(v.value, {
    AGR: "low",
    CON: null,
    EXT: "high",
    NEU: null,
    OPE: null,
    Profession: null,
  });
  assert.equal(parseIdentityGuess('{"AGR":"medium"}').value, null);
  assert.match(parseIdentityGuess('{"Profession":"Chef"}').reason!, /Profession is "Chef"/);
  assert.equal(parseIdentityGuess("nothing").value, null);
});

Deno.test("slotCorrectness() compares slot by slot", () => {
  const c = slotCorrectness(["AGR_low", "Artist"], identityDict(["AGR_high", "Artist", "CON_low"]));
  assert.deepEqual(c, {
    AGR: false,
    CON: false,
    EXT: true,
    NEU: true,
    OPE: true,
    Profession: true,
  });
});

Deno.test("accuracyByIdentityCount() groups by combination size with hand-counted accuracies", () => {
  const rows = accuracyByIdentityCount([
    { identities: ["EXT_high"], guess: identityDict(["EXT_high"]) }, // 1/1 active, 6/6 all
    { identities: ["EXT_low"], guess: identityDict(["EXT_high"]) }, // 0/1, 5/6
    { identities: ["EXT_low", "Doctor"], guess: identityDict(["EXT_low", "Artist", "OPE_high"]) }, // 1/2, 4/6
    { identities: ["AGR_high", "Doctor"], guess: null },
  ]);
  assert.equal(rows.length, 2);
  assert.deepEqual(rows[0], {
    numIdentities: 1,
    dialogues: 2,
    judgeFailures: 0,
    activeSlotAccuracy: 0.5,
    allSlotAccuracy: 11 / 12,
    perSlot: { EXT: 0.5 },
  });
  assert.equal(rows[1].judgeFailures, 1);
  assert.equal(rows[1].activeSlotAccuracy, 0.5);
  assert.equal(rows[1].allSlotAccuracy, 4 / 6);
  assert.deepEqual(rows[1].perSlot, { EXT: 1, Profession: 0 });
});

Deno.test("runSituationalDialogue() gives the agent four turns after the NPC opens", async () => {
  const npc = new ScriptedChatModel((_, i) => `npc ${i}`);
  const agent = new ScriptedChatModel((_, i) => `agent ${i}`);
  const t = await runSituationalDialogue({
    agent,
    npc,
    identities: ["Doctor"],
    test: SITUATIONAL_TESTS[7],
  });
  assert.equal(t.length, 8);
  assert.deepEqual(t.slice(0, 3).map((l) => l.text), ["npc 0", "agent 0", "npc 1"]);
  assert.deepEqual(agent.calls[1].messages.map((m) => m.role), [
    "system",
    "user",
    "assistant",
    "user",
  ]);
  assert.deepEqual(npc.calls[1].messages.map((m) => m.role), ["system", "assistant", "user"]);
  assert.deepEqual(agent.calls[0].extensions, { identities: ["Doctor"] });
});

Deno.test("judgeIdentity() retries and reports a null verdict when it never parses", async () => {
  const judge = new ScriptedChatModel(() => "I think they are nice");
  const v = await judgeIdentity(judge, "s", [], { maxRetries: 2 });
  assert.equal(v.value, null);
  assert.equal(judge.calls.length, 3);
  const ok = new ScriptedChatModel((_, i) => (i === 0 ? "?" : '{"CON":"high"}'));
  assert.equal((await judgeIdentity(ok, "s", [])).value?.CON, "high");
});
