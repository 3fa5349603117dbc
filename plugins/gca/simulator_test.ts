import assert from "node:assert/strict";
import type { ChatModel, ChatRequest, ChatResponse } from "../../core/contracts/chat_model.ts";
import { createGcaSimulator, type SimulationEntry } from "./simulator.ts";

/** A ChatModel test double: answers with `script(request, callIndex)` and records requests. */
class Scripted implements ChatModel {
  requests: ChatRequest[] = [];
  constructor(readonly id: string, private script: (r: ChatRequest, i: number) => string | Error) {}
  chat(request: ChatRequest): Promise<ChatResponse> {
    const out = this.script(request, this.requests.length);
    this.requests.push(request);
    if (out instanceof Error) return Promise.reject(out);
    return Promise.resolve({
      id: "r",
      model: this.id,
      created: 0,
      choices: [{ index: 0, message: { role: "assistant", content: out }, finish_reason: "stop" }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  }
  stream(): AsyncIterable<never> {
    throw new Error("unused");
  }
}

const record = {
  book: "The Salt Road",
  i_p: 2,
  i_c: 0,
  scenario: "Night at the ferry crossing.",
  topic: "The missing toll box",
  key_characters: [{ name: "Mira", thought: "Find the box before dawn." }, {
    name: "Oskar",
    thought: "Keep her away from the shed.",
  }],
  dialogues: [
    {
      character: "Mira",
      message: "[He is hiding something.] (raises the lamp) Where is the box, Oskar?",
    },
    { character: "Oskar", message: "(shrugs) Gone with the tide, I suppose." },
    { character: "Environment", message: "The ferry bell clangs once in the wind." },
    { character: "Mira", message: "Tides don't carry iron." },
  ],
  speaking_characters_w_env: ["Mira", "Oskar", "Environment"],
  major_characters: ["Mira", "Oskar"],
  plot: {
    summary: "Mira hunts for the toll box.",
    key_characters: [{
      name: "Mira",
      description: "The ferry keeper's daughter.",
      summary: "She searches.",
    }],
  },
  character_profiles: { Mira: "Mira is stubborn.", Oskar: "Oskar is the ferryman." },
};

const actorLines: Record<string, string> = {
  Mira: "[I must stay calm.] (steps closer) Tell me the truth.",
  Oskar: "(looks away) There is nothing to tell.",
};

function actorFor(id = "gpt-4o") {
  return new Scripted(id, (r) => {
    const who = /^You are (\w+) from/.exec(r.messages[0].content)![1];
    return actorLines[who];
  });
}

function models(nspScript: (r: ChatRequest, i: number) => string | Error, actorId = "gpt-4o") {
  const actor = actorFor(actorId);
  const environment = new Scripted("gpt-4o", () => "Wind rattles the shutters.");
  const nsp = new Scripted("gpt-4o-mini", nspScript);
  return { actor, environment, nsp };
}

const roles = (sim: SimulationEntry[]) => sim.filter((e) => e.role !== "NSP").map((e) => e.role);

Deno.test("simulate() honours <END CHAT> only from round 5", async () => {
  const m = models(() => "1. Reasoning: done.\n2. Next Speaker: <END CHAT>");
  const t = await createGcaSimulator().simulate({ record }, { models: m, seed: 1 });
  const sim = t.metadata.simulation as SimulationEntry[];
  assert.equal(roles(sim).length, 6);
  assert.equal(sim.filter((e) => e.role === "NSP").length, 6);
  assert.equal(t.metadata.endedBy, "end_chat");
  assert.equal(t.metadata.fallbacks, 5);
  assert.equal(roles(sim)[0], "Mira"); // the most frequent original speaker starts
  // consecutive speakers always differ because the fallback excludes the current one
  const r = roles(sim);
  for (let i = 1; i < r.length; i++) assert.notEqual(r[i], r[i - 1]);
});

Deno.test("simulate() stops after maxRounds utterances when the scene never ends", async () => {
  const m = models((_r, i) => `Next Speaker: ${i % 2 === 0 ? "Oskar" : "Mira"}`);
  const t = await createGcaSimulator().simulate({ record }, { models: m });
  const sim = t.metadata.simulation as SimulationEntry[];
  assert.equal(roles(sim).length, 20);
  assert.deepEqual(roles(sim).slice(0, 4), ["Mira", "Oskar", "Mira", "Oskar"]);
  assert.equal(t.metadata.endedBy, "max_rounds");
  assert.equal(t.metadata.fallbacks, 0);
  const t2 = await createGcaSimulator().simulate({ record, options: { maxRounds: 3 } }, {
    models: models(() => "Oskar"),
  });
  assert.equal(roles(t2.metadata.simulation as SimulationEntry[]).length, 3);
});

Deno.test("simulate() shares replies without thoughts, prefixed, with alternating roles", async () => {
  const m = models((_r, i) => (i === 0 ? "Next Speaker: Oskar" : "Next Speaker: <END CHAT>"));
  await createGcaSimulator().simulate({ record, options: { maxRounds: 2 } }, { models: m });
  const oskarCall = m.actor.requests[1];
  assert.match(oskarCall.messages[0].content, /^You are Oskar from The Salt Road\./);
  assert.deepEqual(oskarCall.messages.map((x) => x.role), ["system", "user"]);
  assert.equal(
    oskarCall.messages[1].content,
    "===Conversation Start===\n\n\n\nMira: (steps closer) Tell me the truth.",
  );
  // the NSP saw the same shared line and its own previous answer as an assistant turn
  const nsp2 = m.nsp.requests[1].messages;
  assert.deepEqual(nsp2.map((x) => x.role), ["system", "user", "assistant", "user"]);
  assert.equal(nsp2[2].content, "Next Speaker: Oskar");
  assert.equal(nsp2[3].content, "Oskar: (looks away) There is nothing to tell.");
});

Deno.test("simulate() uses temperature 0 first and 1 on retries; a failed turn is logged empty", async () => {
  const actor = new Scripted(
    "gpt-4o",
    (_r, i) => (i === 0 ? new Error("rate limited") : actorLines.Mira),
  );
  const environment = new Scripted("gpt-4o", () => "x");
  const nsp = new Scripted("nsp", () => "Next Speaker: Oskar");
  await createGcaSimulator().simulate({ record, options: { maxRounds: 1 } }, {
    models: { actor, environment, nsp },
  });
  assert.deepEqual(actor.requests.map((r) => r.temperature), [0, 1]);
  assert.equal(actor.requests[0].max_tokens, 512);

  const broken = new Scripted("gpt-4o", () => new Error("down"));
  const env2 = new Scripted("gpt-4o", () => "x");
  const nsp2 = new Scripted("nsp", () => "Next Speaker: Oskar");
  const t = await createGcaSimulator().simulate({
    record,
    options: { maxRounds: 2, maxRetries: 1 },
  }, {
    models: { actor: broken, environment: env2, nsp: nsp2 },
  });
  const sim = t.metadata.simulation as SimulationEntry[];
  assert.deepEqual(sim[0], { role: "Mira", content: "" });
  assert.equal(broken.requests.length, 4); // two turns × (1 + 1 retry)
  // the empty turn was not shared: the NSP's first request holds only the opening message
  assert.equal(nsp2.requests[0].messages[1].content, "===Conversation Start===\n\n");
  assert.equal(t.metadata.failedCalls, 2);
});

Deno.test("simulate() replays ground truth for continueFrom rounds", async () => {
  const m = models(() => "Next Speaker: <END CHAT>");
  const t = await createGcaSimulator().simulate({ record, options: { continueFrom: 3 } }, {
    models: m,
  });
  const sim = t.metadata.simulation as SimulationEntry[];
  assert.deepEqual(sim.slice(0, 6), [
    { role: "Mira", content: record.dialogues[0].message },
    { role: "NSP", content: "Oskar" },
    { role: "Oskar", content: record.dialogues[1].message },
    { role: "NSP", content: "Environment" },
    { role: "Environment", content: record.dialogues[2].message },
    { role: "NSP", content: "Mira" },
  ]);
  // no model call for replayed rounds: one NSP call per generated round, one actor call per actor turn
  const generated = sim.slice(6).filter((e) => e.role !== "NSP");
  assert.equal(m.nsp.requests.length, generated.length);
  assert.equal(m.actor.requests.length, generated.filter((e) => e.role !== "Environment").length);
  const first = m.actor.requests[0].messages;
  assert.deepEqual(first.map((x) => x.role), ["system", "user", "assistant", "user"]);
  assert.equal(first[2].content, record.dialogues[0].message); // own replayed line, thoughts kept
  assert.equal(
    first[3].content,
    "Oskar: (shrugs) Gone with the tide, I suppose.\n\nEnvironment: The ferry bell clangs once in the wind.",
  );
  assert.equal((t.turns[0].metadata as { source: string }).source, "ground_truth");
});

Deno.test("simulate() keeps raw and display forms and extracts thought and action", async () => {
  const m = models(() => "Next Speaker: Oskar");
  const t = await createGcaSimulator().simulate({ record, options: { maxRounds: 1 } }, {
    models: m,
  });
  assert.equal((t.metadata.simulation as SimulationEntry[])[0].content, actorLines.Mira);
  assert.equal(
    (t.metadata.simulation_display as SimulationEntry[])[0].content,
    `Mira: ${actorLines.Mira}`,
  );
  assert.equal(t.turns[0].thought, "I must stay calm.");
  assert.equal(t.turns[0].action, "steps closer");
  assert.deepEqual(t.metadata.fields, { motivation: "thought", experience: "summary" });
  assert.equal(t.id, "The Salt Road-2-0");
});

Deno.test("simulate() falls back deterministically for a seed and varies with nth", async () => {
  const run = async (seed: number, nth = 0) => {
    const t = await createGcaSimulator().simulate({ record, options: { maxRounds: 8, nth } }, {
      models: models(() => "Next Speaker: random"),
      seed,
    });
    return { roles: roles(t.metadata.simulation as SimulationEntry[]), seed: t.metadata.seed };
  };
  const a = await run(7), b = await run(7);
  assert.deepEqual(a, b);
  for (const r of a.roles) assert.ok(["Mira", "Oskar", "Environment"].includes(r));
  const c = await run(7, 1);
  assert.notEqual(c.seed, a.seed);
});

Deno.test("simulate() builds wo-thought, CoSER and llama prompts and trims llama multi-block replies", async () => {
  const m1 = models(() => "Oskar");
  await createGcaSimulator().simulate({ record, options: { maxRounds: 1, woThought: true } }, {
    models: m1,
  });
  const sys1 = m1.actor.requests[0].messages[0].content;
  assert.doesNotMatch(sys1, /square brackets/);
  assert.match(sys1, /round brackets/);

  const m2 = models(() => "Oskar", "CoSER-Llama-3.1-8B");
  await createGcaSimulator().simulate({ record, options: { maxRounds: 1 } }, { models: m2 });
  assert.doesNotMatch(m2.actor.requests[0].messages[0].content, /For instance/);
  assert.doesNotMatch(m2.actor.requests[0].messages[0].content, /Begin your reply/);

  const llama = new Scripted("meta/llama-3.1-8b", () => "Mira: Tell me.\nOskar: No.");
  const environment = new Scripted("gpt-4o", () => "x");
  const nsp = new Scripted("n", () => "Oskar");
  const t = await createGcaSimulator().simulate({ record, options: { maxRounds: 1 } }, {
    models: { actor: llama, environment, nsp },
  });
  assert.match(llama.requests[0].messages[0].content, /Begin your reply with "Mira: "/);
  assert.match(llama.requests[0].messages[0].content, /For instance/);
  assert.equal((t.metadata.simulation as SimulationEntry[])[0].content, "Mira: Tell me.");
});

Deno.test("simulate() uses a character-specific actor and rejects missing models", async () => {
  const m = models(() => "Next Speaker: Oskar");
  const oskar = new Scripted("oskar-model", () => "(nods)");
  await createGcaSimulator().simulate({ record, options: { maxRounds: 2 } }, {
    models: { ...m, "actor:Oskar": oskar },
  });
  assert.equal(oskar.requests.length, 1);
  assert.equal(m.actor.requests.length, 1);
  await assert.rejects(
    createGcaSimulator().simulate({ record }, { models: { actor: m.actor, nsp: m.nsp } }),
    /context.models has no "environment" model/,
  );
});

Deno.test("simulate() fills the retrieval slot per call for characters with book data", async () => {
  const { parseBook } = await import("./schemas.ts");
  const book = parseBook({
    plots: [0, 1, 2, 3].map((i) => ({
      text: `text ${i}`,
      summary: `Summary ${i}.`,
      key_characters: [{ name: "Mira", experience: `Mira did ${i}.` }],
    })),
    character_datasets: {
      Mira: {
        plots: [0, 1, 2, 3].map((i_p) => ({ i_p })),
        conversations: [],
        utterances: [],
        profile: "",
      },
    },
    split_plot_index: 3,
  });
  const embed = (texts: string[]) => Promise.resolve(texts.map((t) => [t.length % 7, 1]));
  const m = models(() => "Next Speaker: Oskar");
  await createGcaSimulator({ embed }).simulate({
    record,
    book,
    options: { maxRounds: 2, retrieval: "expr3" },
  }, { models: m });
  const miraSys = m.actor.requests[0].messages[0].content;
  const oskarSys = m.actor.requests[1].messages[0].content;
  assert.match(
    miraSys,
    /===Relevant Background Information===\n<begin of background information>\n\n====Historical Experience====/,
  );
  assert.doesNotMatch(miraSys, /\{retrieved_knowledge\}/);
  // record.i_p = 2 and held-out plot 3 are filtered out: only plots 0 and 1 remain
  assert.match(miraSys, /Summary 0\.[\s\S]*Summary 1\./);
  assert.doesNotMatch(miraSys, /Summary [23]\./);
  assert.doesNotMatch(oskarSys, /Relevant Background Information/);
  await assert.rejects(
    createGcaSimulator().simulate({ record, book, options: { retrieval: "conv1" } }, { models: m }),
    /embed function is missing/,
  );
});
