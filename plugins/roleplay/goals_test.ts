import assert from "node:assert/strict";
import { GOAL_KINDS, loadGoals, parseGoals } from "./goals.ts";

Deno.test("loadGoals() reads the shipped 30 goals, three per kind", async () => {
  const goals = await loadGoals();
  assert.equal(goals.length, 30);
  for (const kind of GOAL_KINDS) {
    assert.equal(goals.filter((g) => g.kind === kind).length, 3, kind);
  }
  assert.equal(new Set(goals.map((g) => g.id)).size, 30);
  for (const g of goals) assert.match(g.instruction, /\b[Yy]our?\b/); // second person
});

Deno.test("parseGoals() names the bad line", () => {
  assert.throws(
    () => parseGoals('{"id":"a","kind":"k","instruction":"x"}\n{oops'),
    /:2 is not JSON/,
  );
  assert.throws(() => parseGoals('{"id":"a","kind":"k"}'), /instruction/);
});
