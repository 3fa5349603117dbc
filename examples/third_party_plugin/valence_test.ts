import assert from "node:assert/strict";
import { scoreValence, tokenize } from "./valence.ts";

const lex = {
  valences: { good: 2, bad: -2.5, happy: 2.5 },
  negators: ["not", "never"],
  intensifiers: { very: 0.5 },
};
const settings = { negationFactor: -0.5, window: 3, alpha: 15 };

Deno.test("tokenize() lower-cases words and keeps contractions", () => {
  assert.deepEqual(tokenize("I DON’T like it, ok?"), ["i", "don't", "like", "it", "ok"]);
});

Deno.test("scoreValence() sums valences with intensifiers and negation, then squashes", () => {
  // very good: 2 + 0.5 = 2.5; "not happy": 2.5 * -0.5 = -1.25; "bad" has no negator in the
  // three words before it (at, all, today): -2.5 → sum -1.25
  const s = scoreValence("A very good day. I am not happy at all today. Bad news.", lex, settings)!;
  assert.equal(s.sum, 2.5 - 1.25 - 2.5);
  assert.equal(s.score, -1.25 / Math.sqrt(1.25 * 1.25 + 15));
  assert.equal(s.positive, 1);
  assert.equal(s.negative, 2);
  assert.equal(s.tokens, 13);
});

Deno.test("scoreValence() applies negation only within the window and to n't forms", () => {
  assert.equal(scoreValence("not a b c good", lex, settings)!.sum, 2);
  assert.equal(scoreValence("not a b good", lex, settings)!.sum, -1);
  assert.equal(scoreValence("isn't good", lex, settings)!.sum, -1);
});

Deno.test("scoreValence() returns null for text without words and 0 for neutral text", () => {
  assert.equal(scoreValence("?! 42", lex, settings), null);
  assert.equal(scoreValence("the cat sat", lex, settings)!.score, 0);
});
