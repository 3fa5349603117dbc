import assert from "node:assert/strict";
import {
  expectedScore,
  localNumberScore,
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

Deno.test("localNumberScore() restricts a full distribution to the number tokens", () => {
  // vocabulary of 6: ids 2 → "0", 4 → "50", 5 → "100"; other numbers are multi-token (-1)
  const p = [0.3, 0.1, 0.1, 0.05, 0.3, 0.15];
  const ids = Array.from(
    { length: 101 },
    (_, k) => (k === 0 ? 2 : k === 50 ? 4 : k === 100 ? 5 : -1),
  );
  const s = localNumberScore(p.map(L), ids);
  // mass 0.55; (0·0.1 + 50·0.3 + 100·0.15) / 0.55 = 30 / 0.55
  close(s.score, 30 / 0.55);
  close(s.mass, 0.55);
  const tiny = [0.9, 0.02, 0.02, 0.02, 0.02, 0.02];
  assert.equal(localNumberScore(tiny.map(L), ids).score, null);
  assert.throws(() => localNumberScore(p.map(L), [1, 2]), /pass 101 ids/);
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
