import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadExperimentFile } from "../../core/experiment/load_experiment.ts";
import { prepareExperiment } from "../../core/experiment/prepare_experiment.ts";
import { PluginRegistry } from "../../core/plugin/registry.ts";
import { macm } from "./plugin.ts";

const EXAMPLE = fileURLToPath(new URL("../../examples/macm.json", import.meta.url));

Deno.test("examples/macm.json passes the experiment loader's up-front checks", async () => {
  const registry = new PluginRegistry();
  registry.register(macm());
  const loaded = await loadExperimentFile(EXAMPLE);
  const prepared = await prepareExperiment(loaded, registry, { checkModelPaths: false });
  assert.deepEqual(prepared.steps.map((s) => s.spec.id), ["memory", "questionnaires"]);
  // the questionnaires read the memory the first step writes into its artifacts
  assert.deepEqual(prepared.steps[1].deps, ["memory"]);
  assert.match(prepared.datasetPaths.hazel, /plugins\/macm\/data\/characters\/hazel_okafor$/);
});
