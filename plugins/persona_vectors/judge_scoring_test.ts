import assert from "node:assert/strict";
import {
  expectedScore,
  numberSequenceScore,
  score0to10,
  score0to100,
  scoreBinary,
  scoreBinaryText,
  stripThinking,
} from "./judge_scoring.ts";

const L = Math.log;
const close = (a: number | null, b: number, tol = 1e-9) => {
  assert.ok(a !== null, "score is null");
  assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);
};

Deno.test("score0to100() weights integer tokens by probability, ignoring others", () => {
  // numeric mass 0.5 + 0.2 + 0.1 = 0.8; (90·0.5 + 10·0.2 + 100·0.1) / 0.8 = 57 / 0.8 = 71.25
  const s = score0to100([
    { token: "90", logprob: L(0.5) },
    { token: " 10", logprob: L(0.2) },
    { token: "100", logprob: L(0.1) },
    { token: "101", logprob: L(0.05) },
    { token: "REFUSAL", logprob: L(0.1) },
    { token: "-5", logprob: L(0.05) },
  ]);
  close(s.score, 71.25);
  close(s.mass, 0.8);
});

Deno.test("score0to100() is null below the 0.25 numeric mass floor and at exactly 0.25 is not", () => {
  const low = score0to100([{ token: "40", logprob: L(0.2) }, { token: "REF", logprob: L(0.8) }]);
  assert.equal(low.score, null);
  assert.match(low.reason!, /below 0.25/);
  close(score0to100([{ token: "40", logprob: L(0.25) }]).score, 40);
  assert.equal(score0to100([]).score, null);
});

Deno.test("numberSequenceScore() counts multi-token numbers and the end of the number", async () => {
  // Digit-splitting vocabulary: ids 0..9 spell digits, 10 = "x", 11 = " " (a leading space).
  // After the prompt: "8" 0.5, " " 0.2, "x" 0.3. After "8": "5" 0.8, end 0.2.
  // After " ": "9" 1. After " 9": "0" 0.5, end 0.5. After "85", "90": end.
  const dist = (pairs: [number, number][]) => {
    const l = new Array(12).fill(-Infinity);
    for (const [id, p] of pairs) l[id] = L(p);
    return l;
  };
  const table: Record<string, number[]> = {
    "": dist([[8, 0.5], [11, 0.2], [10, 0.3]]),
    "8": dist([[5, 0.8], [10, 0.2]]),
    "11": dist([[9, 1]]),
    "11,9": dist([[0, 0.5], [10, 0.5]]),
  };
  const candidates = [];
  for (let k = 0; k <= 100; k++) {
    const digits = [...String(k)].map(Number);
    candidates.push({ value: k, ids: digits }, { value: k, ids: [11, ...digits] });
  }
  const asked: string[] = [];
  const next = (ps: number[][]) => {
    asked.push(...ps.map((p) => p.join()));
    return Promise.resolve(ps.map((p) => table[p.join()] ?? dist([[10, 1]])));
  };
  const s = await numberSequenceScore(next, candidates, (id) => id < 10);
  // P(8) = 0.5·0.2 = 0.1, P(85) = 0.5·0.8 = 0.4, P(" 9") = 0.2·0.5 = 0.1, P(" 90") = 0.1.
  // mass 0.7; score (8·0.1 + 85·0.4 + 9·0.1 + 90·0.1) / 0.7
  close(s.score, (0.8 + 34 + 0.9 + 9) / 0.7);
  close(s.mass, 0.7);
  // The first-token reading that this replaces would see only "8": a score of 8.
  close(score0to100([{ token: "8", logprob: L(0.5) }]).score, 8);
  // Impossible prefixes are never expanded.
  assert.ok(!asked.includes("3"));
  assert.equal(
    (await numberSequenceScore(next, candidates, (id) => id < 10, { minMass: 0.8 })).score,
    null,
  );
});

Deno.test("expectedScore() applies a custom floor", () => {
  assert.equal(expectedScore([{ value: 10, logprob: L(0.3) }], 0.5).score, null);
});

Deno.test("score0to10() reports digits on 0-100 and nulls a dominant REFUSAL", () => {
  // (2·0.2 + 8·0.6) / 0.8 = 6.5 → 65
  close(
    score0to10([{ token: "2", logprob: L(0.2) }, { token: "8", logprob: L(0.6) }, {
      token: "10",
      logprob: L(0.1),
    }]).score,
    65,
  );
  assert.equal(
    score0to10([{ token: "REFUSAL", logprob: L(0.5) }, { token: "3", logprob: L(0.3) }]).score,
    null,
  );
  close(
    score0to10([{ token: "REFUSAL", logprob: L(0.3) }, { token: "3", logprob: L(0.4) }]).score,
    30,
  );
});

Deno.test("scoreBinary() is P(YES)/(P(YES)+P(NO)) with refusal and mass rules", () => {
  close(
    scoreBinary([{ token: "YES", logprob: L(0.3) }, { token: " no", logprob: L(0.1) }]).score,
    75,
  );
  assert.equal(
    scoreBinary([{ token: "REFUSAL", logprob: L(0.6) }, { token: "YES", logprob: L(0.3) }]).score,
    null,
  );
  assert.equal(
    scoreBinary([{ token: "YES", logprob: L(0.1) }, { token: "NO", logprob: L(0.1) }]).score,
    null,
  );
});

Deno.test("scoreBinaryText() parses the answer tag", () => {
  assert.equal(scoreBinaryText("<answer> no </answer>").score, 0);
  assert.equal(scoreBinaryText("<answer>REFUSAL</answer>").score, null);
  assert.equal(scoreBinaryText("YES").score, null);
});

Deno.test("stripThinking() drops everything up to the last </think>", () => {
  assert.equal(stripThinking("a</think>b</think>  final"), "final");
  assert.equal(stripThinking("no tags"), "no tags");
});
