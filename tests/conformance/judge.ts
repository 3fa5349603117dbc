/**
 * Conformance suite for the Judge role. A plugin test calls it with its judge and sample inputs.
 *
 * @example
 * ```ts
 * import { judgeConformance } from "./judge.ts";
 * Deno.test("valence judge conforms", async (t) => {
 *   await judgeConformance(t, { judge: myJudge, inputs: ["good"], unscorable: [""] });
 * });
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Judge, JudgeContext } from "../../core/contracts/judge.ts";

/** What the judge suite needs. */
export interface JudgeConformanceOptions<I> {
  // deno-lint-ignore no-explicit-any
  judge: Judge<I, any>;
  /** Inputs the judge must score (non-null verdicts). */
  inputs: I[];
  /** Inputs the judge cannot score: it must return `null` with a reason, not throw. */
  unscorable?: I[];
  context?: JudgeContext;
}

/** Runs the Judge conformance checks as steps of `t`. */
export async function judgeConformance<I>(
  t: Deno.TestContext,
  options: JudgeConformanceOptions<I>,
): Promise<void> {
  const { judge } = options;
  const ctx = options.context ?? {};
  await t.step("judge has a name and a zod schema", () => {
    assert.equal(typeof judge.name, "string");
    assert.ok(judge.name.length > 0);
    assert.equal(typeof judge.schema?.safeParse, "function");
  });
  await t.step("verdicts validate against the judge's schema", async () => {
    assert.ok(options.inputs.length > 0, "give at least one scorable input");
    for (const input of options.inputs) {
      const v = await judge.judge(input, ctx);
      assert.notEqual(
        v.value,
        null,
        `expected a verdict for ${JSON.stringify(input)}: ${v.reason}`,
      );
      const parsed = judge.schema.safeParse(v.value);
      assert.ok(parsed.success, `verdict fails the schema: ${JSON.stringify(v.value)}`);
    }
  });
  await t.step("the same input gives the same verdict", async () => {
    const input = options.inputs[0];
    const a = await judge.judge(input, ctx);
    const b = await judge.judge(input, ctx);
    assert.deepEqual(a.value, b.value);
  });
  await t.step("unscorable input is an explicit null with a reason, never a throw", async () => {
    for (const input of options.unscorable ?? []) {
      const v = await judge.judge(input, ctx);
      assert.equal(v.value, null);
      assert.equal(typeof v.reason, "string");
      assert.ok(v.reason!.length > 0);
    }
  });
}
