import assert from "node:assert/strict";
import { FnModel, testProfile } from "./testing/fixtures.ts";
import type { CharacterMemory } from "./memory_build.ts";
import { Simulacrum } from "./simulacrum.ts";
import { macmSimulator } from "./simulator.ts";

/** A ChatModel test double: answers with a function of the request and records every request. */

const profile = testProfile;

const mem = (id: string) => ({
  Memory_Summary: `summary ${id}`,
  Memory: {
    "Memory Content": `content ${id}`,
    Thinking: `thought ${id}`,
    Emotion: `feeling ${id}`,
  },
});
const memory: CharacterMemory = {
  index: { "001": "summary 001", "002": "summary 002", "003": "summary 003" },
  long: { "001": mem("001"), "002": mem("002"), "003": mem("003") },
};
const character = { profile, biography: "Born in East Town.", memory };

/** The agent double: retrieval names "003" in the second half (and "002" in the first). */
function agentModel() {
  return new FnModel("agent", (r) => {
    const sys = r.messages[0].content;
    if (sys.includes("find Test Person's memories")) {
      const user = r.messages[1].content;
      return user.includes('"003"') ? 'Relevant: "003" and "999"' : 'I pick "002"';
    }
    if (sys.includes("inner thoughts")) return "I miss the bakery.";
    if (sys.includes("feelings and mood")) return "Wistful.";
    return "?";
  });
}

Deno.test("Simulacrum.chat() macm makes 5 calls and composes the top-agent messages", async () => {
  const agent = agentModel();
  const sim = new FnModel("sim", () => "Ah, the bakery...");
  const s = new Simulacrum({ method: "macm", character, simulacrum: sim, agent });
  const t = await s.chat("Do you miss your old job?", []);
  assert.equal(agent.requests.length, 4); // 2 retrieval + thinking + emotion
  assert.equal(sim.requests.length, 1);
  // halves: {001, 002} then {003}
  assert.ok(agent.requests[0].messages[1].content.includes('"002"'));
  assert.ok(!agent.requests[0].messages[1].content.includes('"003"'));
  assert.ok(agent.requests[1].messages[1].content.includes('"003"'));
  // candidates in order of appearance, unknown ids dropped, only the first kept
  assert.deepEqual(t.memory_agent, {
    candidate_ids: ["002", "003"],
    selected: { "002": mem("002").Memory },
  });
  assert.equal(t.thinking, "I miss the bakery.");
  assert.equal(t.emotion, "Wistful.");
  assert.deepEqual(t.final_messages_roles, ["system", "system", "user", "system", "system"]);
  const msgs = sim.requests[0].messages;
  assert.ok(msgs[0].content.startsWith('You are "Test Person"'));
  assert.ok(msgs[0].content.includes("Born in East Town."));
  assert.equal(msgs[2].content, "Do you miss your old job?");
  assert.ok(msgs[3].content.includes("content 002"));
  assert.ok(
    msgs[4].content.includes("<<<I miss the bakery.>>>") &&
      msgs[4].content.includes("<<<Wistful.>>>"),
  );
  assert.equal(sim.requests[0].temperature, 0.7);
  assert.equal(agent.requests[2].temperature, 0);
  assert.ok(
    agent.requests[2].messages[0].content.includes("Born in East Town."),
    "thinking sees the biography",
  );
  assert.ok(
    !agent.requests[3].messages[0].content.includes("Born in East Town."),
    "emotion does not",
  );
});

Deno.test("Simulacrum.chat() rebuilds the message list per turn", async () => {
  const agent = agentModel();
  const sim = new FnModel("sim", () => "fine");
  const s = new Simulacrum({ method: "macm", character, simulacrum: sim, agent });
  await s.chat("first?", []);
  await s.chat("second?", [{ other: "first?", you: "fine" }]);
  const second = sim.requests[1].messages;
  assert.equal(second.length, 5, "no leftover memory or cognition messages");
  assert.ok(second[1].content.includes("The other person: first?\nYou: fine"));
  assert.equal(second.filter((m) => m.role === "user").length, 1);
});

Deno.test("Simulacrum.chat() omits the memory message when nothing is retrieved", async () => {
  const agent = new FnModel("agent", () => "nothing relevant");
  const sim = new FnModel("sim", () => "ok");
  const t = await new Simulacrum({ method: "macm", character, simulacrum: sim, agent }).chat(
    "hi",
    [],
  );
  assert.deepEqual(t.memory_agent, { candidate_ids: [], selected: {} });
  assert.deepEqual(t.final_messages_roles, ["system", "system", "user", "system"]);
});

Deno.test("Simulacrum baselines none / prompt / rag build their own message lists", async () => {
  const sim = new FnModel("sim", () => "ok");
  await new Simulacrum({ method: "none", character, simulacrum: sim }).chat("hi", []);
  assert.deepEqual(sim.requests[0].messages.map((m) => m.role), ["system", "user"]);
  assert.ok(!sim.requests[0].messages[0].content.includes("Test Person"));

  await new Simulacrum({ method: "prompt", character, simulacrum: sim }).chat("hi", []);
  assert.deepEqual(sim.requests[1].messages.map((m) => m.role), ["system", "system", "user"]);

  const rag = {
    chunks: ["about bread", "about chess"],
    vectors: [[1, 0], [0, 1]],
    embed: (t: string[]) => Promise.resolve(t.map((x) => x.includes("chess") ? [0, 1] : [1, 0])),
  };
  const t = await new Simulacrum({ method: "rag", character, simulacrum: sim, rag, ragK: 1 })
    .chat("do you play chess?", []);
  assert.deepEqual(t.rag_chunks, ["about chess"]);
  const m = sim.requests[2].messages;
  assert.deepEqual(m.map((x) => x.role), ["system", "system", "system", "user"]);
  assert.ok(m[1].content.includes("<<<about chess>>>"));
  assert.equal(m[3].content, "The one you are chatting with said: <<<do you play chess?>>>");
});

Deno.test("Simulacrum.evaluate() macm appends the cognition block as a user message", async () => {
  const agent = agentModel();
  const sim = new FnModel("sim", () => "The answer is B.");
  const s = new Simulacrum({ method: "macm", character, simulacrum: sim, agent });
  const t = await s.evaluate("chat with Alice", "Alice said: <<< Q? A. x B. y >>>", "Q? A. x B. y");
  assert.deepEqual(t.final_messages_roles, ["system", "system", "user", "user"]);
  assert.ok(agent.requests[0].messages[1].content.endsWith("Message: Q? A. x B. y"));
  const last = sim.requests[0].messages[3].content;
  assert.ok(last.includes("content 002") && last.includes("I miss the bakery."));
});

Deno.test("Simulacrum rejects macm without memory or agent, and unknown methods", () => {
  const sim = new FnModel("sim", () => "");
  assert.throws(
    () =>
      new Simulacrum({
        method: "macm",
        character: { profile, biography: "" },
        simulacrum: sim,
        agent: sim,
      }),
    /buildLongMemory/,
  );
  assert.throws(
    () => new Simulacrum({ method: "rag", character, simulacrum: sim }),
    /buildRagIndex/,
  );
  assert.throws(
    () => new Simulacrum({ method: "base" as unknown as "none", character, simulacrum: sim }),
    RangeError,
  );
});

Deno.test("macmSimulator() returns a transcript with thoughts and memories", async () => {
  const agent = agentModel();
  const sim = new FnModel("sim", (r) => `answer ${r.messages.at(-3)!.content}`);
  const events: string[] = [];
  const t = await macmSimulator().simulate(
    { character, queries: ["one?", "two?"] },
    { models: { simulacrum: sim, agent }, onEvent: (e) => events.push(e.name) },
  );
  assert.deepEqual(t.turns.map((x) => x.speaker), ["other", "Test Person", "other", "Test Person"]);
  assert.equal(t.turns[1].thought, "I miss the bakery.");
  assert.equal(t.turns[3].text, "answer two?");
  assert.deepEqual(events, ["macm_turn", "macm_turn"]);
  assert.equal(agent.requests.length, 8);
  await assert.rejects(
    macmSimulator().simulate({ character, queries: [] }, { models: {} }),
    TypeError,
  );
});
