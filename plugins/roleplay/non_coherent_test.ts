import assert from "node:assert/strict";
import { nonCoherent } from "./non_coherent.ts";

Deno.test("nonCoherent() flags one word four times in a row but not three", () => {
  assert.equal(nonCoherent("well well well well", 4, 2), true);
  assert.equal(nonCoherent("well well well", 4, 2), false);
  assert.equal(nonCoherent("it is very very very very good", 2, 2), true);
});

Deno.test("nonCoherent() flags a 2-word phrase said three times, not twice", () => {
  assert.equal(nonCoherent("I see I see I see", 2, 2), true);
  assert.equal(nonCoherent("I see I see", 4, 2), false);
  // two and a half: the last 2-gram is cut short and matches nothing
  assert.equal(nonCoherent("I see I see I", 4, 2), false);
});

Deno.test("nonCoherent() finds a 3-word loop only when maxN reaches 3", () => {
  const loop = "the cat sat the cat sat the cat sat";
  assert.equal(nonCoherent(loop, 2, 2), false);
  assert.equal(nonCoherent(loop, 3, 2), true);
});

Deno.test("nonCoherent() passes ordinary prose and ignores whitespace layout", () => {
  const prose = "Which parts of France are good for walking tours without serious climbing? " +
    "I would like routes that are easy and well marked.";
  assert.equal(nonCoherent(prose, 5, 2), false);
  assert.equal(nonCoherent("a\nb\ta  b \n a b", 2, 2), true);
  assert.equal(nonCoherent("", 4, 2), false);
});

Deno.test("nonCoherent() with r = 3 needs one more repetition", () => {
  assert.equal(nonCoherent("go go go go", 2, 3), false);
  assert.equal(nonCoherent("go go go go go", 2, 3), true);
});

Deno.test("nonCoherent() rejects maxN below 2", () => {
  assert.throws(() => nonCoherent("x", 1, 2), RangeError);
});
