import assert from "node:assert/strict";
import { bleu, bleuTokens, modifiedPrecision } from "./bleu.ts";

const ref = "the cat sat on the mat".split(" ");

Deno.test("bleuTokens() matches a hand computation: (5/6 · 3/5 · 2/4 · 1/3)^(1/4)", () => {
  const hyp = "the cat sat on a mat".split(" ");
  assert.deepEqual(modifiedPrecision(ref, hyp, 1), { numerator: 5, denominator: 6 });
  assert.deepEqual(modifiedPrecision(ref, hyp, 2), { numerator: 3, denominator: 5 });
  assert.ok(Math.abs(bleuTokens(ref, hyp) - Math.pow(1 / 12, 0.25)) < 1e-12);
});

Deno.test("bleuTokens() clips counts and applies the brevity penalty", () => {
  // "the the the": unigram matches clipped to 2 of 3; no bigram "the the" in the reference
  assert.deepEqual(modifiedPrecision(ref, ["the", "the", "the"], 1), {
    numerator: 2,
    denominator: 3,
  });
  // 4 of 6 reference words, every n-gram matching: BLEU = exp(1 − 6/4)
  const hyp = "the cat sat on".split(" ");
  assert.ok(Math.abs(bleuTokens(ref, hyp) - Math.exp(1 - 6 / 4)) < 1e-12);
});

Deno.test("bleuTokens() without smoothing: no 4-gram match gives ~1e-77, no unigram gives 0", () => {
  const hyp = "the cat on the sat mat".split(" "); // bigrams match, no trigram or 4-gram does
  const v = bleuTokens(ref, hyp);
  assert.ok(v > 0 && v < 1e-70, String(v));
  assert.equal(bleuTokens(ref, ["dog"]), 0);
  assert.equal(bleuTokens(ref, []), 0);
});

Deno.test("bleu() lower-cases and tokenizes both texts", () => {
  // the tokens of both sides: "tom : the ledger is gone , tom ."
  assert.equal(bleu("Tom: The ledger is gone, Tom.", "tom: the LEDGER is gone, tom."), 1);
  // "the cat sat on the mat ." vs "the cat sat on a mat ." : (6/7 · 4/6 · 2/5 · 1/4)^(1/4)
  const v = bleu("The cat sat on the mat.", "the cat sat on a mat.");
  assert.ok(Math.abs(v - Math.pow((6 / 7) * (4 / 6) * (2 / 5) * (1 / 4), 0.25)) < 1e-12);
});
