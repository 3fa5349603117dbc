import assert from "node:assert/strict";
import { join } from "node:path";
import { loadExperimentFile, parseExperiment } from "./load_experiment.ts";

const minimal = {
  name: "m",
  steps: [{ id: "a", kind: "custom", plugin: "toy", with: { command: "x" } }],
};

Deno.test("loadExperimentFile() reads JSON and TS modules and resolves against their folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "exp_load_" });
  try {
    await Deno.writeTextFile(join(dir, "e.json"), JSON.stringify(minimal));
    await Deno.writeTextFile(
      join(dir, "e.ts"),
      `export default ${JSON.stringify({ ...minimal, seed: 5 })};`,
    );
    const json = await loadExperimentFile(join(dir, "e.json"));
    assert.equal(json.baseDir, dir);
    assert.equal(json.experiment.seed, 0);
    assert.deepEqual(json.experiment.steps[0].needs, []);
    const ts = await loadExperimentFile(join(dir, "e.ts"));
    assert.equal(ts.experiment.seed, 5);

    await Deno.writeTextFile(join(dir, "bad.json"), "{ name: ");
    await assert.rejects(
      loadExperimentFile(join(dir, "bad.json")),
      (e: Error & { code?: string }) =>
        e instanceof SyntaxError && e.code === "E_CONFIG" && /not valid JSON/.test(e.message),
    );
    await Deno.writeTextFile(join(dir, "nodefault.ts"), "export const x = 1;");
    await assert.rejects(loadExperimentFile(join(dir, "nodefault.ts")), /no default export/);
    await assert.rejects(
      loadExperimentFile(join(dir, "e.yaml")),
      /extension '\.yaml'; use \.json or \.ts/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parseExperiment() reports unknown top-level keys, bad models and missing steps", () => {
  const check = (raw: unknown, pattern: RegExp) =>
    assert.throws(
      () => parseExperiment(raw, "x.json"),
      (e: Error & { code?: string }) => e.code === "E_CONFIG" && pattern.test(e.message),
    );
  check({ ...minimal, stepz: [] }, /field '\(root\)' is .*stepz/);
  check(
    { ...minimal, models: { gpt: { kind: "openai", base_url: "not a url", model: "m" } } },
    /field 'models\.gpt\.base_url' is "not a url"/,
  );
  check({ ...minimal, models: { m: { kind: "remote" } } }, /field 'models\.m\.kind' is "remote"/);
  check({ name: "m", steps: [] }, /field 'steps' is \[\]: an experiment needs at least one step/);
  check({ ...minimal, name: "has space" }, /field 'name' is "has space"/);
  check(
    { name: "m", steps: [{ kind: "judge", plugin: "toy" }] },
    /step #1 \(steps\[0\]\) field 'id' is missing/,
  );
});
