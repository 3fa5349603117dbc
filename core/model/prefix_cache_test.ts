import assert from "node:assert/strict";
import { PrefixCache } from "./prefix_cache.ts";

Deno.test("PrefixCache reuses the longest shared prefix under the same condition, leaving one token", () => {
  const c = new PrefixCache({ minTokens: 2 });
  const a = c.add([1, 2, 3, 4, 5], "x", 10).key;
  c.add([1, 2, 9], "x", 10);
  assert.deepEqual(c.match([1, 2, 3, 4, 7], "x"), { key: a, length: 4 });
  // never the whole prompt: its last token must run to give logits
  assert.deepEqual(c.match([1, 2, 3, 4, 5], "x"), { key: a, length: 4 });
  assert.equal(c.match([1, 2, 3], "y"), undefined);
  assert.equal(c.match([7, 2, 3], "x"), undefined);
  assert.equal(c.match([1, 5], "x"), undefined); // shorter than minTokens
  assert.deepEqual(c.stats, { hits: 2, reusedTokens: 8 });
});

Deno.test("PrefixCache evicts least recently used entries past its byte budget and covered prefixes", () => {
  const c = new PrefixCache({ maxBytes: 25, minTokens: 1 });
  const a = c.add([1, 2], "", 10).key;
  const b = c.add([5, 6], "", 10).key;
  c.match([1, 2, 3], ""); // a is now the most recent
  const r = c.add([8, 9], "", 10);
  assert.deepEqual(r.evicted, [b]);
  // a longer prompt sharing a's tokens replaces it
  const r2 = c.add([1, 2, 3, 4], "", 12);
  assert.deepEqual(r2.evicted, [a]);
  assert.equal(c.size, 2);
  assert.equal(c.worthSaving([1, 2, 3], "", 5), false);
  assert.equal(c.worthSaving([1, 2, 3, 4, 5], "", 5), true);
});
