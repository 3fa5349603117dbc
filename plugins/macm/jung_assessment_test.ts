import assert from "node:assert/strict";
import { Prng } from "../../core/util/prng.ts";
import { defaultTraitBank, type JungFunction } from "./jung.ts";
import { agrees, buildJungItems, scoreJungTest } from "./jung_assessment.ts";

const stack: JungFunction[] = ["Se", "Ti", "Fi", "Ni", "Te", "Si", "Ne", "Fe"];

Deno.test("buildJungItems() samples 4 sentences per cell with level scores", () => {
  const items = buildJungItems(defaultTraitBank(), new Prng(1));
  assert.equal(items.length, 256);
  assert.equal(items.filter((i) => i.function === "Ne" && i.score === 4).length, 4);
  assert.equal(items.filter((i) => i.score === -4).length, 32);
  assert.deepEqual(items[0].answer, [items[0].function, items[0].score]);
  assert.equal(buildJungItems(defaultTraitBank(), new Prng(1), 0.2).length, 128);
});

Deno.test("agrees() looks for the word yes in any case", () => {
  assert.equal(agrees("Yes."), true);
  assert.equal(agrees("Well... YES, I guess"), true);
  assert.equal(agrees("No."), false);
  assert.equal(agrees("yesterday I did"), false);
});

Deno.test("scoreJungTest() recovers the true stack from a faithful responder (tau = 1)", () => {
  const items = buildJungItems(defaultTraitBank(), new Prng(2));
  // agree exactly with sentences whose strength level matches the function's true position
  const replies = items.map((it) => {
    const level = [4, 3, 2, 1, -1, -2, -3, -4].indexOf(it.score);
    return stack.indexOf(it.function) === level ? "Yes" : "No";
  });
  const r = scoreJungTest(items, replies, stack);
  assert.deepEqual(r.predicted_stack, stack);
  assert.equal(r.kendall_tau, 1);
  assert.equal(r.totals.Se, 16);
  assert.equal(r.totals.Fe, -16);
});

Deno.test("scoreJungTest() gives tau = -1 for a reversed responder and NaN for all-no", () => {
  const items = buildJungItems(defaultTraitBank(), new Prng(2));
  const reversed = items.map((it) => {
    const level = [4, 3, 2, 1, -1, -2, -3, -4].indexOf(it.score);
    return stack.indexOf(it.function) === 7 - level ? "yes" : "no";
  });
  // reversed stack agrees with the negative-level sentence of the strongest function, etc.
  const r = scoreJungTest(items, reversed, stack);
  assert.equal(r.kendall_tau, -1);
  assert.ok(Number.isNaN(scoreJungTest(items, items.map(() => "No"), stack).kendall_tau));
  assert.throws(() => scoreJungTest(items, [], stack), RangeError);
});
