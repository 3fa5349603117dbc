import assert from "node:assert/strict";
import { filterPairs, keepPair } from "./filter.ts";
import {
  alignRollouts,
  assistantNames,
  evaluationPlan,
  extractionPlan,
  rolloutSampling,
  rolloutSystemPrompt,
} from "./rollout.ts";

const ok = { trait: 50, coherence: 50 };

Deno.test("keepPair() applies each threshold at its boundary", () => {
  assert.equal(keepPair(ok, { trait: 49.9, coherence: 50 }), true);
  assert.equal(keepPair({ trait: 49.9, coherence: 80 }, { trait: 0, coherence: 80 }), false);
  assert.equal(keepPair(ok, { trait: 50, coherence: 80 }), false); // neg must be < 100 − 50
  assert.equal(keepPair({ trait: 90, coherence: 49 }, { trait: 0, coherence: 80 }), false);
  assert.equal(keepPair(ok, { trait: 0, coherence: 49 }), false);
  assert.equal(
    keepPair({ trait: 75, coherence: 60 }, { trait: 20, coherence: 60 }, {
      trait: 75,
      coherence: 60,
    }),
    true,
  );
  assert.equal(
    keepPair({ trait: 75, coherence: 60 }, { trait: 25, coherence: 60 }, { trait: 75 }),
    false,
  );
});

Deno.test("filterPairs() treats null scores as failures", () => {
  const good = { pos: { trait: 90, coherence: 90 }, neg: { trait: 10, coherence: 90 } };
  const pairs = [
    good,
    { ...good, pos: { trait: null, coherence: 90 } },
    { ...good, neg: { trait: 10, coherence: null } },
    good,
  ];
  assert.deepEqual(filterPairs(pairs), [0, 3]);
});

Deno.test("rolloutSystemPrompt() picks the article by the first letter", () => {
  assert.equal(rolloutSystemPrompt("apathetic", "X"), "You are an apathetic assistant. X");
  assert.equal(rolloutSystemPrompt("helpful", "Y"), "You are a helpful assistant. Y");
  assert.deepEqual(assistantNames({ trait: "impolite", antonym: "courteous" }), {
    pos: "impolite",
    neg: "courteous",
  });
});

Deno.test("extractionPlan() orders rows question-major, then instruction, then sample", () => {
  const split = {
    questions: ["q0", "q1"],
    instruction: [{ pos: "P0", neg: "N0" }, { pos: "P1", neg: "N1" }],
  };
  const rows = extractionPlan({ trait: "optimistic" }, split, 2);
  assert.deepEqual(rows.map((r) => `${r.question_id}${r.instruction_index}${r.sample}`), [
    "000",
    "001",
    "010",
    "011",
    "100",
    "101",
    "110",
    "111",
  ]);
  assert.equal(rows[2].pos[0].content, "You are an optimistic assistant. P1");
  assert.equal(rows[2].neg[0].content, "You are a helpful assistant. N1");
  assert.equal(rows[5].pos[1].content, "q1");
  assert.equal(evaluationPlan(["a", "b", "c"], 10).length, 30);
  assert.deepEqual(rolloutSampling(1), { temperature: 0, top_p: 1, max_tokens: 1000 });
  assert.equal(rolloutSampling(10).temperature, 1);
});

Deno.test("alignRollouts() rejects different lengths and misaligned keys", () => {
  const row = (q: number, i: number, s: number) => ({
    question_id: q,
    instruction_index: i,
    sample: s,
  });
  assert.equal(alignRollouts([row(0, 0, 0), row(0, 0, 1)], [row(0, 0, 0), row(0, 0, 1)]).length, 2);
  assert.throws(() => alignRollouts([row(0, 0, 0)], []), /1 rows and negative ones 0/);
  assert.throws(() => alignRollouts([row(0, 0, 1)], [row(0, 1, 0)]), /row 0 is misaligned/);
});
