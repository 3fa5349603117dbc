import assert from "node:assert/strict";
import { z } from "zod";
import { describeZodIssue } from "./zod_issue.ts";

const Schema = z.object({
  steps: z.number().int().min(1),
  steering: z.array(z.object({ layer: z.number() }).strict()).default([]),
}).strict();

function fail(input: unknown) {
  const r = Schema.safeParse(input);
  assert.equal(r.success, false);
  return r.error!;
}

Deno.test("describeZodIssue() names the nested field, its value and zod's reason", () => {
  const input = { steps: 3, steering: [{ layer: "x" }] };
  const d = describeZodIssue(fail(input), input);
  assert.equal(d.path, "steering.0.layer");
  assert.equal(d.value, "x");
  assert.match(d.reason, /number/);
  const top = { steps: 0 };
  assert.deepEqual(describeZodIssue(fail(top), top).value, 0);
});

Deno.test("describeZodIssue() reports an unknown key with its value and the known fields", () => {
  const input = { steps: 3, steering: [{ layer: 1, coef: 2 }] };
  const d = describeZodIssue(fail(input), input, (at) => at.length ? ["layer"] : undefined);
  assert.equal(d.path, "steering.0.coef");
  assert.equal(d.value, 2);
  assert.equal(d.reason, "unknown field; known fields: layer");
  const top = { steps: 3, step: 30 };
  const t = describeZodIssue(fail(top), top);
  assert.equal(t.path, "step");
  assert.equal(t.value, 30);
  assert.match(t.reason, /step/); // zod's own message when no field list is given
});
