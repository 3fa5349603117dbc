/**
 * Conformance suite for the Simulator role.
 *
 * @example
 * ```ts
 * import { simulatorConformance } from "./simulator.ts";
 * Deno.test("my simulator conforms", async (t) => {
 *   await simulatorConformance(t, { simulator, input, models });
 * });
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import type { ChatModel } from "../../core/contracts/chat_model.ts";
import type { SimulationEvent, Simulator } from "../../core/contracts/simulator.ts";

/** What the simulator suite needs. */
export interface SimulatorConformanceOptions<I> {
  simulator: Simulator<I>;
  input: I;
  /** Models for every role the simulator declares. */
  models: Record<string, ChatModel>;
  seed?: number;
}

/** Runs the Simulator conformance checks as steps of `t`. */
export async function simulatorConformance<I>(
  t: Deno.TestContext,
  options: SimulatorConformanceOptions<I>,
): Promise<void> {
  const { simulator, input, models } = options;
  const seed = options.seed ?? 1;
  await t.step("simulator declares its roles and they are provided", () => {
    assert.ok(simulator.name.length > 0);
    for (const role of simulator.roles) assert.ok(role in models, `missing model for ${role}`);
  });
  await t.step("a run returns a transcript of typed turns and emits named events", async () => {
    const events: SimulationEvent[] = [];
    const transcript = await simulator.simulate(input, {
      models,
      seed,
      onEvent: (e) => events.push(e),
    });
    assert.equal(typeof transcript.id, "string");
    assert.ok(Array.isArray(transcript.turns));
    for (const turn of transcript.turns) {
      assert.equal(typeof turn.speaker, "string");
      assert.equal(typeof turn.text, "string");
    }
    assert.equal(typeof transcript.metadata, "object");
    for (const e of events) assert.equal(typeof e.name, "string");
  });
  await t.step("the same seed gives the same transcript", async () => {
    const a = await simulator.simulate(input, { models, seed });
    const b = await simulator.simulate(input, { models, seed });
    assert.deepEqual(a.turns, b.turns);
  });
  await t.step("an aborted signal stops the run with an error", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(simulator.simulate(input, { models, seed, signal: controller.signal }));
  });
}
