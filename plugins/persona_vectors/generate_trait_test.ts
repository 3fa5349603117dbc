import assert from "node:assert/strict";
import {
  generateTraitArtifact,
  traitMetaPrompt,
  validateGeneratedTrait,
} from "./generate_trait.ts";
import { PersonaVectorsOptionsSchema } from "./options.ts";
import { LogprobChatModel } from "./testing/logprob_chat_model.ts";

const good = {
  instruction: Array.from({ length: 5 }, (_, i) => ({ pos: `be it ${i}`, neg: `avoid it ${i}` })),
  questions: Array.from({ length: 43 }, (_, i) => `question ${i}?`),
  eval_prompt: "Rate it. Q: {question} A: {answer}",
};

Deno.test("validateGeneratedTrait() clips questions to 40 and checks every field", () => {
  const v = validateGeneratedTrait(
    "Here:\n" + JSON.stringify(good),
    "pedantic",
    "Corrects things.",
  );
  assert.ok(v.ok);
  if (v.ok) {
    assert.equal(v.artifact.questions.length, 40);
    assert.equal(v.artifact.questions[39], "question 39?");
  }
  const r1 = validateGeneratedTrait(
    JSON.stringify({ ...good, questions: good.questions.slice(0, 39) }),
    "p",
    "d",
  );
  assert.equal(r1.ok, false);
  const r2 = validateGeneratedTrait(
    JSON.stringify({ ...good, instruction: good.instruction.slice(1) }),
    "p",
    "d",
  );
  assert.ok(!r2.ok && /instruction/.test(r2.reason));
  const r3 = validateGeneratedTrait(JSON.stringify({ ...good, eval_prompt: "no slots" }), "p", "d");
  assert.ok(!r3.ok && /\{question\} and \{answer\}/.test(r3.reason));
});

Deno.test("generateTraitArtifact() retries until valid and gives up after the attempts", async () => {
  const replies = ["not json", JSON.stringify({ ...good, questions: [] }), JSON.stringify(good)];
  const model = new LogprobChatModel((_, i) => ({ content: replies[i] }));
  const a = await generateTraitArtifact({
    model,
    trait: "pedantic",
    description: "Corrects things.",
    attempts: 3,
  });
  assert.equal(a.trait, "pedantic");
  assert.equal(model.calls.length, 3);
  assert.deepEqual(model.calls[0].response_format, { type: "json_object" });
  const bad = new LogprobChatModel(() => ({ content: "{}" }));
  await assert.rejects(
    () => generateTraitArtifact({ model: bad, trait: "pedantic", description: "d", attempts: 2 }),
    /failed after 2 attempts: attempt 1: .*; attempt 2/,
  );
});

Deno.test("traitMetaPrompt() keeps the judge placeholders literal", () => {
  const p = traitMetaPrompt("pedantic", "Corrects things.");
  assert.ok(p.includes("{question}") && p.includes("{answer}") && p.includes('"pedantic"'));
});

Deno.test("PersonaVectorsOptionsSchema applies the B10 defaults and rejects layer 0", () => {
  const o = PersonaVectorsOptionsSchema.parse({});
  assert.deepEqual([o.layer, o.coefficient, o.trait_threshold, o.preventative.coefficient], [
    20,
    2,
    50,
    5,
  ]);
  assert.equal(PersonaVectorsOptionsSchema.safeParse({ layer: 0 }).success, false);
});
