import assert from "node:assert/strict";
import type { ChatModel, ChatRequest, ChatResponse } from "../../core/contracts/chat_model.ts";
import {
  aggregateGcaScores,
  countActorTurns,
  createGcaJudge,
  dimensionJsonSchema,
  flawScore,
  gcaMetrics,
  renderMessages,
  validateDimensionReply,
} from "./judge.ts";
import { buildCriticPrompt, DIMENSIONS } from "./judge_prompt.ts";
import { parseTestRecord } from "./schemas.ts";

class Scripted implements ChatModel {
  readonly id = "critic";
  requests: ChatRequest[] = [];
  constructor(private script: (r: ChatRequest) => string) {}
  chat(request: ChatRequest): Promise<ChatResponse> {
    this.requests.push(request);
    const content = this.script(request);
    return Promise.resolve({
      id: "r",
      model: this.id,
      created: 0,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    });
  }
  stream(): AsyncIterable<never> {
    throw new Error("unused");
  }
}

const record = parseTestRecord({
  book: "The Salt Road",
  i_p: 2,
  i_c: 0,
  scenario: "Night at the ferry.",
  dialogues: [
    { character: "Mira", message: "[Lies.] (raises the lamp) Where is the box?" },
    { character: "Environment", message: "A bell [far off] rings." },
    { character: "Oskar", message: "Gone." },
  ],
  speaking_characters_w_env: ["Mira", "Oskar", "Environment"],
  major_characters: ["Mira", "Oskar"],
  plot: { summary: "Mira hunts for the toll box." },
  character_profiles: { Mira: "Stubborn.", Oskar: "The ferryman." },
});

Deno.test("flawScore() reproduces the spec's worked example: 2+3+2+3 with 11 turns is 66.5", () => {
  const flaws = [2, 3, 2, 3].map((severity) => ({ severity }));
  assert.equal(flawScore(flaws, 11), 66.5);
});

Deno.test("flawScore() ignores non-integer severities and clamps to [0, 100]", () => {
  assert.equal(flawScore([{ severity: 2.5 }, { severity: "3" }, { severity: 4 }], 0), 80);
  assert.equal(flawScore([], 10), 100); // 100 + 15 clamps to 100
  assert.equal(flawScore([{ severity: 10 }, { severity: 10 }, { severity: 5 }], 0), 0);
});

Deno.test("countActorTurns() counts entries other than NSP and Environment", () => {
  const sim = [
    { role: "Mira", content: "a" },
    { role: "NSP", content: "Environment" },
    { role: "Environment", content: "b" },
    { role: "NSP", content: "Oskar" },
    { role: "Oskar", content: "" },
  ];
  assert.equal(countActorTurns(sim), 2);
});

Deno.test("renderMessages() removes character thoughts, keeps Environment as is, prefixes names", () => {
  const text = renderMessages(
    record.dialogues.map((d) => ({ role: d.character, content: d.message })),
  );
  assert.equal(
    text,
    "Mira: (raises the lamp) Where is the box?\n\nEnvironment: A bell [far off] rings.\n\nOskar: Gone.",
  );
});

Deno.test("validateDimensionReply() checks keys and flaws and defaults severity to 1", () => {
  const flaws = validateDimensionReply({
    "Anthropomorphism": { flaws: [{ instance: "x", type: "Self-identity" }] },
  }, "Anthropomorphism");
  assert.deepEqual(flaws, [{ instance: "x", type: "Self-identity", severity: 1 }]);
  assert.throws(
    () => validateDimensionReply({ score: 3 }, "Anthropomorphism"),
    /unknown keys \["score"\]/,
  );
  assert.throws(
    () => validateDimensionReply({ "Storyline Quality": { flaws: [] } }, "Anthropomorphism"),
    /lacks the key "Anthropomorphism"/,
  );
  assert.throws(
    () => validateDimensionReply({ "Anthropomorphism": { flaws: "none" } }, "Anthropomorphism"),
    /"Anthropomorphism".flaws/,
  );
});

Deno.test("buildCriticPrompt() fills the main characters and orders the sections", () => {
  const p = buildCriticPrompt("Character Fidelity", {
    record,
    profiles: { Mira: "Stubborn." },
    reference: "REF",
    continueFrom: 2,
  });
  assert.doesNotMatch(p, /\{major_characters\}/);
  assert.match(p, /Judge only the main characters \(Mira, Oskar\)/);
  assert.match(p, /first 2 messages/);
  let at = -1;
  for (
    const h of [
      "## Scenario",
      "### Plot Summary",
      "### Current Scenario",
      "## Character Profiles",
      "### Mira",
      "## Original Conversation\n\nREF",
      "## Evaluation Criteria",
      "- Character Language:",
      "## Scoring Guidelines",
      "## Output Requirements",
      "===Dialogue Content===",
    ]
  ) {
    const i = p.indexOf(h);
    assert.ok(i > at, h);
    at = i;
  }
});

Deno.test("judge() scores four dimensions with json_schema requests and metrics", async () => {
  const severities: Record<string, number[]> = {
    "Storyline Consistency": [2, 3, 2, 3],
    "Anthropomorphism": [],
    "Character Fidelity": [5],
    "Storyline Quality": [1, 1],
  };
  const critic = new Scripted((r) => {
    const dim = DIMENSIONS.find((d) => r.messages[0].content.includes(`for ${d}:`))!;
    const flaws = severities[dim].map((severity) => ({ instance: "i", type: "t", severity }));
    return "```json\n" + JSON.stringify({ [dim]: { flaws } }) + "\n```";
  });
  const simulation = Array.from(
    { length: 11 },
    (_, i) => ({ role: i % 2 ? "Oskar" : "Mira", content: "Gone." }),
  )
    .flatMap((e) => [e, { role: "NSP", content: "x" }]);
  const v = await createGcaJudge().judge({ record, simulation }, { model: critic });
  assert.ok(v.value);
  assert.equal(v.value.dimensions["Storyline Consistency"].score, 66.5);
  assert.equal(v.value.dimensions["Anthropomorphism"].score, 100);
  assert.equal(v.value.dimensions["Character Fidelity"].score, 91.5); // 100 − 5·(5 − 3.3)
  assert.equal(v.value.dimensions["Storyline Quality"].score, 100); // 100 − 5·(2 − 3.3) clamps
  assert.equal(v.value.score, (66.5 + 100 + 91.5 + 100) / 4);
  assert.equal(v.value.actor_turns, 11);
  assert.equal(critic.requests.length, 4);
  assert.equal(critic.requests[0].response_format?.type, "json_schema");
  assert.equal(critic.requests[0].messages[1].content.split("\n\n").length, 11);
  assert.equal(typeof v.value.bleu, "number");
});

Deno.test("judge() returns null with the reason when a dimension never parses; aggregate counts it", async () => {
  const critic = new Scripted((r) =>
    r.messages[0].content.includes("for Anthropomorphism:") ||
      r.messages[0].content.startsWith("You fix")
      ? "I would rather not."
      : JSON.stringify({
        [DIMENSIONS.find((d) => r.messages[0].content.includes(`for ${d}:`))!]: { flaws: [] },
      })
  );
  const simulation = [{ role: "Mira", content: "Hi." }];
  const judge = createGcaJudge({ maxRetries: 1 });
  const bad = await judge.judge({ record, simulation }, { model: critic });
  assert.equal(bad.value, null);
  assert.match(bad.reason!, /^Anthropomorphism: no JSON object found/);
  const good = {
    value: {
      score: 80,
      bleu: 0.5,
      rouge_l: 0.25,
      actor_turns: 1,
      dimensions: Object.fromEntries(
        DIMENSIONS.map((d, i) => [d, { flaws: [], score: 70 + 10 * i }]),
      ),
    },
  } as unknown as Parameters<typeof aggregateGcaScores>[0][number];
  const run = aggregateGcaScores([good, bad, good]);
  assert.equal(run.cases, 3);
  assert.equal(run.failed, 1);
  assert.equal(run.scores["Anthropomorphism"], 80);
  assert.equal(run.scores.avg, 85);
  assert.equal(run.scores.bleu, 0.5);
  assert.equal(aggregateGcaScores([bad]).scores.avg, null);
});

Deno.test("gcaMetrics() compares simulation[k:] without NSP to dialogues[k:]", () => {
  const sim = record.dialogues.flatMap((
    d,
  ) => [{ role: d.character, content: d.message }, { role: "NSP", content: "x" }]);
  const m = gcaMetrics(record, sim);
  assert.equal(m.bleu, 1);
  assert.ok(Math.abs(m.rouge_l - 1) < 1e-8);
  const changed = [...sim.slice(0, 4), { role: "Oskar", content: "Nothing to say here at all." }];
  const k2 = gcaMetrics(record, changed, 2);
  // "oskar : gone ." vs "oskar : nothing to say here at all .": p1 = 3/9, p2 = 1/8, no 3- or
  // 4-gram (each replaced by the smallest normal double), hypothesis longer so no penalty
  const tiny = 2.2250738585072014e-308;
  const want = Math.exp(0.25 * (Math.log(3 / 9) + Math.log(1 / 8) + 2 * Math.log(tiny)));
  assert.ok(Math.abs(k2.bleu - want) / want < 1e-9);
});

Deno.test("dimensionJsonSchema() requires the dimension key and integer severities", () => {
  const s = dimensionJsonSchema("Storyline Quality") as {
    required: string[];
    properties: Record<
      string,
      { properties: { flaws: { items: { properties: { severity: { type: string } } } } } }
    >;
  };
  assert.deepEqual(s.required, ["Storyline Quality"]);
  assert.equal(
    s.properties["Storyline Quality"].properties.flaws.items.properties.severity.type,
    "integer",
  );
});
