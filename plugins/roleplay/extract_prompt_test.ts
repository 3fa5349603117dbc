import assert from "node:assert/strict";
import { extractPrompt } from "./extract_prompt.ts";

Deno.test("extractPrompt() returns the single quoted span without quotes", () => {
  assert.deepEqual(extractPrompt('Sure, I would write: "how fast did I run?" to it.'), {
    prompt: "how fast did I run?",
    count: 1,
  });
});

Deno.test("extractPrompt() takes index 0 of several spans and reports the count", () => {
  assert.deepEqual(extractPrompt('"first one" and then "second one" or "third"'), {
    prompt: "first one",
    count: 3,
  });
  assert.equal(extractPrompt('"first one" and then "second one"', 1).prompt, "second one");
});

Deno.test("extractPrompt() spans newlines and is non-greedy", () => {
  assert.deepEqual(extractPrompt('Prompt: "line one\nline two" "x"'), {
    prompt: "line one\nline two",
    count: 2,
  });
});

Deno.test("extractPrompt() gives null without quotes or with a lone quote", () => {
  assert.deepEqual(extractPrompt("just ask it about France"), { prompt: null, count: 0 });
  assert.deepEqual(extractPrompt('an unmatched " quote'), { prompt: null, count: 0 });
});

Deno.test("extractPrompt() pairs quotes left to right (odd count drops the last)", () => {
  assert.deepEqual(extractPrompt('"a" "b'), { prompt: "a", count: 1 });
});

Deno.test("extractPrompt() returns an empty span as the empty string", () => {
  assert.deepEqual(extractPrompt('say "" now'), { prompt: "", count: 1 });
});

Deno.test("extractPrompt() rejects an index past the spans", () => {
  assert.throws(() => extractPrompt('"a" "b"', 5), RangeError);
});
