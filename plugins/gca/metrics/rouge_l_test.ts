import assert from "node:assert/strict";
import { lcsWords, rougeL } from "./rouge_l.ts";

const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);

Deno.test("rougeL() of one sentence each: LCS {a, c} of 3 distinct words per side", () => {
  const s = rougeL("a b c", "a c d");
  close(s.p, 2 / 3);
  close(s.r, 2 / 3);
  close(s.f, 2 * (4 / 9) / (4 / 3 + 1e-8));
});

Deno.test("rougeL() unions LCS words over sentence pairs and counts distinct tokens", () => {
  // ref sentences "the cat sat" / "the cat ran" (distinct: the cat sat ran = 4);
  // hyp sentences "the cat" / "the dog" (distinct: the cat dog = 3); union of LCS words {the, cat}
  const s = rougeL("the cat. the dog", "the cat sat. the cat ran");
  close(s.r, 2 / 4);
  close(s.p, 2 / 3);
  close(s.f, 2 * (1 / 3) / (2 / 4 + 2 / 3 + 1e-8));
});

Deno.test("rougeL() is case-sensitive and keeps a whitespace-only piece as an empty token", () => {
  close(rougeL("The cat", "the cat").r, 1 / 2);
  // "a b. " splits into "a b" and " " → tokens a, b and "" (3 distinct); LCS union {a, b}
  const s = rougeL("a b. ", "a b");
  close(s.p, 2 / 3);
  close(s.r, 1);
  close(s.f, 2 * (2 / 3) / (5 / 3 + 1e-8));
  assert.deepEqual(rougeL("", "a"), { p: 0, r: 0, f: 0 });
});

Deno.test("lcsWords() breaks ties by moving along the hypothesis first", () => {
  assert.deepEqual(lcsWords(["a", "b"], ["b", "a"]), ["b"]);
  assert.deepEqual(lcsWords(["a", "x", "b", "c"], ["a", "b", "y", "c"]), ["a", "b", "c"]);
});
