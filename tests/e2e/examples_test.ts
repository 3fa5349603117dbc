import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { loadExperimentFile } from "../../core/experiment/load_experiment.ts";
import { prepareExperiment } from "../../core/experiment/prepare_experiment.ts";
import { PluginRegistry } from "../../core/plugin/registry.ts";
import { builtinPlugins } from "../../plugins/mod.ts";
import { WORLD_DIR } from "../../core/host/verbs/start.ts";
import { buildWorld } from "../../datasets/persona_world/build.ts";

const EXAMPLES = fileURLToPath(new URL("../../examples/", import.meta.url));

Deno.test("every examples/*.json experiment passes the up-front checks, one per plugin at least", async () => {
  const registry = new PluginRegistry();
  for (const p of builtinPlugins) registry.register(p);
  await registry.load(`${EXAMPLES}third_party_plugin/mod.ts`);
  await registry.load(`${EXAMPLES}quickstart/world_plugin.ts`);
  // The quickstart's datasets are generated (deterministically) by the persona world.
  await buildWorld(WORLD_DIR);
  const used = new Set<string>();
  const files = [];
  for await (const e of Deno.readDir(EXAMPLES)) if (e.name.endsWith(".json")) files.push(e.name);
  assert.ok(files.includes("quickstart.json"));
  for (const name of files.sort()) {
    const prepared = await prepareExperiment(await loadExperimentFile(EXAMPLES + name), registry, {
      checkModelPaths: false,
    });
    assert.ok(prepared.steps.length > 0, name);
    for (const s of prepared.steps) used.add(s.spec.plugin);
  }
  for (const p of builtinPlugins) assert.ok(used.has(p.name), `no example uses ${p.name}`);
});
