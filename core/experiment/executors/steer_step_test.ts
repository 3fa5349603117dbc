import assert from "node:assert/strict";
import { join } from "node:path";
import { parseExperiment } from "../load_experiment.ts";
import { runExperiment } from "../run_experiment.ts";
import { RunStore } from "../run_store.ts";
import { echoFactory, resetToy, toyRegistry } from "../testing/toy_plugin.ts";
import { commandMetrics } from "./command_step.ts";
import { SteerWithSchema } from "./steer_step.ts";

Deno.test("steer step: an identity sweep asks for each set, tags it, and samples each prompt", async () => {
  resetToy();
  const dir = await Deno.makeTempDir({ prefix: "steer_ids_" });
  try {
    const raw = {
      name: "ids",
      models: { m: { kind: "local", path: "./m" } },
      steps: [{
        id: "probe",
        kind: "steer",
        plugin: "toy",
        role: "length",
        with: {
          model: "m",
          identity_sets: [[], ["EXT_high"], ["EXT_high", "Doctor"]],
          prompts: { items: ["ab", "cd"] },
          samples: 2,
          judge_input: "text",
        },
      }],
    };
    await Deno.mkdir(join(dir, "m")); // local model paths are checked up front
    const loaded = { experiment: parseExperiment(raw, "t"), raw, source: "t", baseDir: dir };
    const out = join(dir, "run");
    await runExperiment(loaded, { registry: toyRegistry(), modelFactory: echoFactory, out });
    const store = await RunStore.open(out);
    try {
      const records = await store.readOutput("probe");
      assert.equal(records.length, 3 * 2 * 2);
      const metrics = store.metrics("probe").filter((m) => m.name === "score");
      const sets = metrics.map((m) => m.tags?.identities);
      assert.deepEqual([...new Set(sets)], ["none", "EXT_high", "EXT_high+Doctor"]);
      for (const r of records) {
        const o = r.output as { prompt: string; response: string };
        const set = String((r as { tags?: Record<string, unknown> }).tags?.identities ?? "");
        assert.ok(["ab", "cd"].includes(o.prompt));
        if (o.response.includes("wearing")) {
          assert.ok(o.response.startsWith(`m wearing ${set} says`), o.response);
        } else assert.ok(o.response.startsWith("m says"), o.response);
      }
      const worn = records.filter((r) =>
        (r.output as { response: string }).response.includes("wearing")
      );
      assert.equal(worn.length, 8, "two of three sets wear identities");
      assert.ok(metrics.every((m) => m.tags?.layer === undefined), "no steering tags");
      assert.equal(new Set(metrics.map((m) => m.tags?.sample)).size, 2);
    } finally {
      store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("steer step with: a vector needs layers and coefficients; something must be swept", () => {
  const base = { model: "m", prompts: "p" };
  assert.ok(
    SteerWithSchema.safeParse({ ...base, vector: "v", layers: [1], coefficients: [0] }).success,
  );
  assert.ok(!SteerWithSchema.safeParse({ ...base, vector: "v", layers: [1] }).success);
  assert.ok(!SteerWithSchema.safeParse({ ...base, layers: [1], coefficients: [1] }).success);
  assert.ok(!SteerWithSchema.safeParse(base).success);
  assert.ok(SteerWithSchema.safeParse({ ...base, identity_sets: [[]] }).success);
});

Deno.test("commandMetrics() keeps well-formed metric records of a command's JSON document", () => {
  const got = commandMetrics({
    metrics: [
      { name: "proj", value: 1.5, index: 0, tags: { polarity: "pos", bad: {} } },
      { name: "proj", value: Number.NaN },
      { value: 2 },
      { name: "x", value: "3" },
      { name: "y", value: -1 },
    ],
  });
  assert.deepEqual(got, [
    { name: "proj", value: 1.5, index: 0, tags: { polarity: "pos" } },
    { name: "y", value: -1 },
  ]);
  assert.deepEqual(commandMetrics({ files: [] }), []);
  assert.deepEqual(commandMetrics("text"), []);
});
