import assert from "node:assert/strict";
import { join } from "node:path";
import { scoresFromCheckpoints } from "./commands/interference.ts";
import { runCommand } from "./testing/run_command.ts";
import { saveVectorFile } from "./vector_io.ts";

Deno.test("interference adds the finetuning-shift axis with its own fit and plots", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const vec = async (name: string, row: number[]) => {
      const path = join(dir, `${name}.safetensors`);
      await saveVectorFile(path, { rows: 2, cols: 2, data: new Float32Array([0, 0, ...row]) }, {
        model: "m",
        trait: name,
        type: "response_avg",
        n_pos: 1,
        n_neg: 1,
        threshold: 50,
      });
      return path;
    };
    const scores = join(dir, "scores.json");
    await Deno.writeTextFile(
      scores,
      JSON.stringify({
        base: { a: 10, b: 20, c: 30 },
        finetuned: { a: { a: 60, b: 45, c: 30 } },
        shifts: { a: { a: 4, b: 2, c: -1 } },
        vectors: {
          a: await vec("a", [1, 0]),
          b: await vec("b", [1, 1]),
          c: await vec("c", [0, 1]),
        },
        layer: 1,
      }),
    );
    const out = join(dir, "res", "interference.json");
    await runCommand("interference", ["--scores", scores, "--out", out]);
    const r = JSON.parse(await Deno.readTextFile(out));
    const ab = r.pairs.find((p: { b: string }) => p.b === "b");
    const ac = r.pairs.find((p: { b: string }) => p.b === "c");
    assert.equal(ab.relative, 25 / 50);
    assert.equal(ac.relative, 0);
    assert.equal(ab.relativeShift, 2 / 4);
    assert.equal(ac.relativeShift, -1 / 4);
    assert.ok(Math.abs(ab.cos - Math.SQRT1_2) < 1e-6);
    assert.ok(Math.abs(ac.cos) < 1e-9);
    // Shift fit through (cos, relative shift) = (0.7071, 0.5), (0, −0.25).
    assert.ok(Math.abs(r.shiftFit.slope - 0.75 / Math.SQRT1_2) < 1e-5);
    assert.ok(Math.abs(r.shiftFit.intercept + 0.25) < 1e-9);
    for (const f of Object.values(r.images as Record<string, string>)) {
      assert.match(await Deno.readTextFile(f), /^<svg/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scoresFromCheckpoints() takes the base row and each run's last checkpoint", () => {
  const row = (run: string, step: number, trait: string, score: number | null, shift: number) => ({
    run,
    step,
    checkpoint: "x",
    trait,
    n: 1,
    score,
    coherence: null,
    projection: {},
    shift: { [trait]: shift },
  });
  const doc = scoresFromCheckpoints({
    rows: [
      row("base", 0, "a", 10, 0),
      row("base", 0, "b", 20, 0),
      row("r", 1, "a", 30, 1),
      row("r", 1, "b", 25, 0.5),
      row("r", 2, "a", 50, 3),
      row("r", 2, "b", null, 1.5),
    ],
    checkpoints: [{ run: "r", step: 1, ownStep: 1, adapter: "x", trainedOn: "a" }],
  }, {});
  assert.deepEqual(doc.base, { a: 10, b: 20 });
  assert.deepEqual(doc.finetuned, { a: { a: 50 } });
  assert.deepEqual(doc.shifts, { a: { a: 3, b: 1.5 } });
});
