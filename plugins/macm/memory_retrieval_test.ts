import assert from "node:assert/strict";
import { parseMemoryIds, splitIndex } from "./memory_retrieval.ts";

Deno.test("parseMemoryIds() finds quoted ids, de-duplicated in order", () => {
  assert.deepEqual(parseMemoryIds('The most relevant are "012" and "003". "012" again.'), [
    "012",
    "003",
  ]);
  assert.deepEqual(parseMemoryIds('["007", "101"]'), ["007", "101"]);
  assert.deepEqual(parseMemoryIds('{"1001": "x"}'), ["1001"]);
});

Deno.test("parseMemoryIds() ignores unquoted, single-quoted and short numbers", () => {
  assert.deepEqual(parseMemoryIds("memory 012 and '004' and \"12\""), []);
  assert.deepEqual(parseMemoryIds(""), []);
});

Deno.test("splitIndex() gives the first half the extra entry", () => {
  assert.deepEqual(splitIndex({ "001": "a", "002": "b", "003": "c" }), [
    { "001": "a", "002": "b" },
    { "003": "c" },
  ]);
  assert.deepEqual(splitIndex({}), [{}, {}]);
});
