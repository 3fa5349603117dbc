/**
 * Conformance suite for the Steerer role.
 *
 * @example
 * ```ts
 * import { steererConformance } from "./steerer.ts";
 * Deno.test("my steerer conforms", async (t) => {
 *   await steererConformance(t, { steerer, context });
 * });
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Steerer, SteeringContext } from "../../core/contracts/steerer.ts";

/** What the steerer suite needs. */
export interface SteererConformanceOptions {
  steerer: Steerer;
  context: SteeringContext;
}

/** Runs the Steerer conformance checks as steps of `t`. */
export async function steererConformance(
  t: Deno.TestContext,
  options: SteererConformanceOptions,
): Promise<void> {
  const { steerer, context } = options;
  await t.step("edits target existing blocks with hidden-size vectors", async () => {
    const edits = await steerer.resolve(context);
    assert.ok(Array.isArray(edits));
    for (const e of edits) {
      assert.ok(Number.isInteger(e.block) && e.block >= 0 && e.block < context.numLayers);
      assert.equal(e.vector.length, context.hiddenSize);
      assert.ok(["add", "ablate"].includes(e.type));
      assert.ok(["all", "prompt", "response"].includes(e.positions));
      assert.ok(Number.isFinite(e.coefficient));
      assert.ok(e.vector.every(Number.isFinite));
    }
  });
  await t.step("resolving twice gives the same edits", async () => {
    const a = await steerer.resolve(context);
    const b = await steerer.resolve(context);
    assert.deepEqual(a, b);
  });
}
