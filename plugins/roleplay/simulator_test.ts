import assert from "node:assert/strict";
import type { ChatModel, ChatRequest, ChatResponse } from "../../core/contracts/chat_model.ts";
import type { SimulationEvent } from "../../core/contracts/simulator.ts";
import { makePersona } from "./persona.ts";
import { roleplaySimulator } from "./simulator.ts";

/** A ChatModel test double answering from a script and recording every request. */
class ScriptedModel implements ChatModel {
  readonly requests: ChatRequest[] = [];
  #script: string[];
  constructor(readonly id: string, script: string[]) {
    this.#script = script.slice();
  }
  chat(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(structuredClone({ ...request, signal: undefined }));
    const content = this.#script.shift();
    if (content === undefined) throw new Error(`${this.id}: script exhausted`);
    return Promise.resolve({
      id: "x",
      model: this.id,
      created: 0,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  }
  stream(): AsyncIterable<never> {
    throw new Error("not used");
  }
}

const persona = makePersona({
  age: "a 18 to 24",
  race: "White",
  gender: "Male",
  education: "Master's degree",
  native_english: "is not",
});
const goal = { id: "g1", kind: "trip_constraints", instruction: "You want a flat hike." };

function run(inq: string[], res: string[], options = {}) {
  const inquirer = new ScriptedModel("inq", inq);
  const responder = new ScriptedModel("res", res);
  const events: SimulationEvent[] = [];
  const sim = roleplaySimulator(options);
  const done = sim.simulate({ persona, goal }, {
    models: { inquirer, responder },
    seed: 7,
    onEvent: (e) => events.push(e),
  });
  return { inquirer, responder, events, sim, done };
}

Deno.test("roleplaySimulator() runs turns until FINISH and keeps only extracts in history", async () => {
  const { inquirer, responder, events, sim, done } = run(
    ['I would type "flat hikes near Lyon?"', 'Then "any in Alsace?" or "Vosges?"', "FINISH."],
    ["Try the Dombes.", "Yes, the wine route."],
  );
  const t = await done;
  assert.equal(t.metadata.end_reason, "stop_token");
  assert.deepEqual(t.metadata.record, {
    persona: persona.persona,
    sample: goal,
    num_turns: 2,
    dialog: [
      { turn: 0, model_inquirer: "flat hikes near Lyon?", model_responder: "Try the Dombes." },
      { turn: 1, model_inquirer: "any in Alsace?", model_responder: "Yes, the wine route." },
    ],
  });
  assert.equal(sim.counters.num_multiple_prompts, 1);
  assert.equal(inquirer.requests.length, 3);
  assert.equal(responder.requests.length, 2);

  const third = inquirer.requests[2].messages;
  assert.deepEqual(third.map((m) => m.role), [
    "system",
    "user",
    "assistant",
    "user",
    "assistant",
    "user",
  ]);
  assert.ok(third[0].content.startsWith(`You are ${persona.persona}.`));
  assert.equal(third[2].content, `${third[1].content} "flat hikes near Lyon?"`);
  assert.equal(third[4].content, `${third[3].content} "any in Alsace?"`);
  assert.ok(third[5].content.endsWith('"Yes, the wine route."'));
  assert.ok(!third.some((m) => m.content.includes("I would type")), "raw output stays out");

  assert.deepEqual(
    responder.requests[1].messages.map((m) => m.content).slice(1),
    ["flat hikes near Lyon?", "Try the Dombes.", "any in Alsace?"],
  );
  assert.equal(inquirer.requests[0].seed, 7);
  assert.equal(inquirer.requests[0].max_tokens, 1000);

  const names = events.filter((e) => e.data.turn === 1).map((e) => e.name);
  assert.deepEqual(names, [
    "inquirer_input",
    "inquirer_output",
    "inquirer_output_extract",
    "responder_input",
    "responder_output",
  ]);
  assert.equal(
    events.find((e) => e.name === "inquirer_output_extract" && e.data.turn === 1)
      ?.data.num_prompts,
    2,
  );
  assert.equal(events[0].data.persona_hash, persona.persona_hash);
  assert.deepEqual(t.turns.map((x) => x.speaker), [
    "inquirer",
    "responder",
    "inquirer",
    "responder",
  ]);
});

Deno.test("roleplaySimulator() stops at numTurns", async () => {
  const { inquirer, done } = run(['"a?"', '"b?"', '"c?"', '"d?"'], ["1", "2", "3", "4"], {
    numTurns: 3,
  });
  const t = await done;
  assert.equal(t.metadata.end_reason, "max_turns");
  assert.equal((t.metadata.record as { num_turns: number }).num_turns, 3);
  assert.equal(inquirer.requests.length, 3);
});

Deno.test("roleplaySimulator() counts a missing prompt and ends", async () => {
  const { sim, responder, done } = run(["I would ask about hikes."], []);
  const t = await done;
  assert.equal(t.metadata.end_reason, "no_prompt");
  assert.equal(sim.counters.num_no_prompts, 1);
  assert.equal(responder.requests.length, 0);
  assert.equal(t.turns.length, 0);
});

Deno.test("roleplaySimulator() ends on an empty quoted prompt as no prompt", async () => {
  const { sim, done } = run(['say ""'], []);
  assert.equal((await done).metadata.end_reason, "no_prompt");
  assert.equal(sim.counters.num_no_prompts, 1);
});

Deno.test("roleplaySimulator() counts non-coherent inquirer and responder outputs", async () => {
  const a = run(['"q" q q q q'], []);
  assert.equal((await a.done).metadata.end_reason, "inquirer_non_coherent");
  assert.equal(a.sim.counters.num_non_coherent, 1);

  const b = run(['"first"', '"second"'], ["fine", "yes yes yes yes"]);
  const t = await b.done;
  assert.equal(t.metadata.end_reason, "responder_non_coherent");
  assert.equal(b.sim.counters.num_non_coherent_model_responder, 1);
  assert.equal((t.metadata.record as { num_turns: number }).num_turns, 1);
});

Deno.test("roleplaySimulator() ends on empty outputs without counting", async () => {
  assert.equal((await run([""], []).done).metadata.end_reason, "inquirer_empty");
  const b = run(['"x"'], [""]);
  assert.equal((await b.done).metadata.end_reason, "responder_empty");
  assert.deepEqual(Object.values(b.sim.counters), [0, 0, 0, 0, 0, 0]);
});

Deno.test("roleplaySimulator() regenerates with random sampling and counts success", async () => {
  const { inquirer, sim, done } = run(
    ["no quotes", "still none", '"finally"', "FINISH"],
    ["ok"],
    { regenerateTries: 2 },
  );
  const t = await done;
  assert.equal(sim.counters.num_regenerate_worked, 1);
  assert.equal(sim.counters.num_no_prompts, 0);
  assert.equal((t.metadata.record as { num_turns: number }).num_turns, 1);
  assert.equal(inquirer.requests[0].temperature, undefined);
  for (const r of inquirer.requests.slice(1, 3)) {
    assert.ok(r.temperature! >= 0.5 && r.temperature! <= 1);
    assert.ok(r.top_k! >= 5 && r.top_k! <= 50);
  }
  assert.equal(inquirer.requests[3].temperature, undefined, "sampling resets after success");
  // retries do not duplicate the user message in history
  assert.equal(inquirer.requests[2].messages.length, 2);

  const fail = run(["none", "none"], [], { regenerateTries: 1 });
  assert.equal((await fail.done).metadata.end_reason, "no_prompt");
  assert.equal(fail.sim.counters.num_no_prompts, 1);
});

Deno.test("roleplaySimulator() cuts self-replies when asked", async () => {
  const { sim, done } = run(['"q"', "FINISH"], ["Answer. [INST] more [/INST]"], {
    cutSelfReplies: true,
  });
  const t = await done;
  assert.equal(sim.counters.num_self_replies, 1);
  assert.equal(t.turns[1].text, "Answer. ");
});

Deno.test("roleplaySimulator() totals counters over runs and records personas", async () => {
  const sim = roleplaySimulator();
  for (let i = 0; i < 2; i++) {
    await sim.simulate({ persona, goal }, {
      models: {
        inquirer: new ScriptedModel("i", ["nothing"]),
        responder: new ScriptedModel("r", []),
      },
    });
  }
  assert.equal(sim.counters.num_no_prompts, 2);
  assert.deepEqual(sim.personas, { [persona.persona_hash]: persona.persona });
});

Deno.test("roleplaySimulator() requires inquirer and responder models", async () => {
  await assert.rejects(
    roleplaySimulator().simulate({ persona, goal }, { models: {} }),
    /inquirer and responder/,
  );
  assert.throws(() => roleplaySimulator({ numTurns: 0 }), RangeError);
});

Deno.test("roleplaySimulator() sends inquirerRegex as a constraint on inquirer requests only", async () => {
  const { inquirer, responder, done } = run(['"a?"', '"b?"'], ["1", "2"], {
    numTurns: 2,
    inquirerRegex: '"[a-z?]{1,9}"',
  });
  await done;
  for (const r of inquirer.requests) assert.deepEqual(r.constraint, { regex: '"[a-z?]{1,9}"' });
  for (const r of responder.requests) assert.equal(r.constraint, undefined);
  const plain = run(['"a?"'], ["1"], { numTurns: 1 });
  await plain.done;
  assert.equal(plain.inquirer.requests[0].constraint, undefined);
});
