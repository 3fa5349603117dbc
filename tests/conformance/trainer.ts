/**
 * Conformance suite for the Trainer role.
 *
 * @example
 * ```ts
 * import { trainerConformance } from "./trainer.ts";
 * Deno.test("my trainer conforms", async (t) => {
 *   await trainerConformance(t, { trainer, request: { model, data, out: "", config } });
 * });
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Trainer, TrainEvent, TrainRequest } from "../../core/contracts/trainer.ts";

/** What the trainer suite needs: a short run (a few steps) on a tiny model. */
export interface TrainerConformanceOptions {
  trainer: Trainer;
  /** `out` is replaced by a fresh temporary directory. */
  request: TrainRequest;
}

/** Runs the Trainer conformance checks as steps of `t`. */
export async function trainerConformance(
  t: Deno.TestContext,
  options: TrainerConformanceOptions,
): Promise<void> {
  const { trainer } = options;
  const out = await Deno.makeTempDir();
  try {
    await t.step("a short run emits finite step events and returns metrics", async () => {
      const events: TrainEvent[] = [];
      const result = await trainer.train({
        ...options.request,
        out,
        onEvent: (e) => events.push(e),
      });
      const steps = events.filter((e) => e.type === "step");
      assert.ok(steps.length > 0, "no step events");
      for (const e of steps) {
        assert.ok(Number.isFinite(e.loss) && Number.isFinite(e.lr), JSON.stringify(e));
      }
      assert.equal(result.out, out);
      assert.ok(result.steps > 0);
      for (const v of Object.values(result.metrics)) assert.equal(typeof v, "number");
      let wrote = false;
      for await (const _ of Deno.readDir(out)) wrote = true;
      assert.ok(wrote, "the run wrote nothing to its output directory");
    });
    await t.step("an aborted signal stops training with an error", async () => {
      const controller = new AbortController();
      controller.abort();
      const dir = await Deno.makeTempDir();
      try {
        await assert.rejects(
          trainer.train({ ...options.request, out: dir, signal: controller.signal }),
        );
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  } finally {
    await Deno.remove(out, { recursive: true });
  }
}
