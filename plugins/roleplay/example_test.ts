import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadExperimentFile } from "../../core/experiment/load_experiment.ts";
import { prepareExperiment } from "../../core/experiment/prepare_experiment.ts";
import { runExperiment } from "../../core/experiment/run_experiment.ts";
import { ModelHub } from "../../core/services/model_hub.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { PluginRegistry } from "../../core/plugin/registry.ts";
import { roleplay } from "./plugin.ts";
import { dialogRecordSchema } from "./record.ts";

const EXAMPLE = fileURLToPath(new URL("../../examples/roleplay.json", import.meta.url));

Deno.test("examples/roleplay.json passes the experiment loader's up-front checks", async () => {
  const registry = new PluginRegistry();
  registry.register(roleplay());
  const prepared = await prepareExperiment(await loadExperimentFile(EXAMPLE), registry, {
    checkModelPaths: false,
  });
  assert.deepEqual(prepared.steps.map((s) => s.spec.id), ["dialogues", "indistinguishability"]);
  assert.deepEqual(prepared.steps[1].deps, ["dialogues"]);
  assert.equal((prepared.pluginOptions.roleplay as { numTurns: number }).numTurns, 3);
  assert.match(prepared.datasetPaths.dialogues, /examples\/roleplay\/dialogues\.jsonl$/);
});

Deno.test("examples/roleplay.json runs end to end on a tiny model and resumes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dramatis_roleplay_example_" });
  const hubs: ModelHub[] = [];
  try {
    // The example expects examples/roleplay/tiny-llama; the test makes its own and points the
    // personas and the judge at it.
    const model = join(dir, "tiny-llama");
    await createTinyModel(model, { preset: "tiny-llama", seed: 1 });
    const loaded = await loadExperimentFile(EXAMPLE);
    const e = loaded.experiment;
    const personas = Object.fromEntries(
      Object.entries(e.personas).map(([id, p]) => [id, { ...(p as object), model }]),
    ) as typeof e.personas;
    const experiment = {
      ...e,
      personas,
      models: { ...e.models, judge: { kind: "local" as const, path: model, options: {} } },
    };
    const registry = new PluginRegistry();
    registry.register(roleplay());
    const hub = new ModelHub({ registry });
    hubs.push(hub);
    const options = { registry, modelFactory: hub.experimentFactory(), out: join(dir, "run") };
    const first = await runExperiment({ ...loaded, experiment }, options);
    assert.deepEqual(first.steps.map((s) => [s.id, s.status, s.items]), [
      ["dialogues", "ran", 4],
      ["indistinguishability", "ran", 4],
    ]);
    const lines = async (step: string) =>
      (await Deno.readTextFile(join(dir, "run", "steps", step, "output.jsonl"))).split("\n")
        .filter(Boolean).map((l) => JSON.parse(l));
    for (const out of await lines("dialogues")) {
      const record = dialogRecordSchema.parse(out.output.metadata.record);
      assert.equal(out.output.turns.length, 2 * record.num_turns);
      assert.ok(record.num_turns <= 3);
    }
    for (const out of await lines("indistinguishability")) {
      // Tiny-model verdicts are mostly unparsable: an explicit null with a reason, or a verdict.
      const v = out.output;
      assert.ok(
        v.value === null
          ? typeof v.reason === "string"
          : ["human", "simulated"].includes(v.value.verdict),
      );
    }
    const second = await runExperiment({ ...loaded, experiment }, options);
    assert.deepEqual(second.steps.map((s) => s.status), ["skipped", "skipped"]);
  } finally {
    for (const h of hubs) await h.close();
    await Deno.remove(dir, { recursive: true });
  }
});
