import assert from "node:assert/strict";
import { decodeTiming, median } from "./timing.ts";

Deno.test("median() takes the middle value, or the mean of the two middle ones", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

Deno.test("decodeTiming() divides the extra N-1 tokens by the extra time, median and fastest", () => {
  const t = decodeTiming({ t1: [0.2, 0.1, 0.3], tN: [1.3, 1.1, 1.2] }, 11);
  assert.equal(t.t1, 0.2);
  assert.equal(t.tN, 1.2);
  assert.equal(t.decodeTokensPerSecond, 10 / (1.2 - 0.2));
  assert.equal(t.bestDecodeTokensPerSecond, 10 / (1.1 - 0.1));
});
