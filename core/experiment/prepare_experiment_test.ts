import assert from "node:assert/strict";
import { join } from "node:path";
import { parseExperiment } from "./load_experiment.ts";
import { prepareExperiment } from "./prepare_experiment.ts";
import { runExperiment } from "./run_experiment.ts";
import {
  echoFactory,
  resetToy,
  toyExperiment,
  toyRegistry,
  toyState,
} from "./testing/toy_plugin.ts";

type Raw = {
  plugins: Record<string, unknown>;
  models: Record<string, unknown>;
  datasets: Record<string, unknown>;
  steps: Record<string, unknown>[];
};

/** Runs a broken variant of the toy experiment and returns the error, checking nothing ran. */
async function failure(edit: (raw: Raw) => void): Promise<Error & { code?: string }> {
  resetToy();
  const dir = await Deno.makeTempDir({ prefix: "exp_prep_" });
  try {
    const raw = await toyExperiment(dir) as unknown as Raw;
    edit(raw);
    let caught: unknown;
    try {
      const experiment = parseExperiment(raw, "toy.json");
      await runExperiment({ experiment, raw, source: "toy.json", baseDir: dir }, {
        registry: toyRegistry(),
        modelFactory: echoFactory,
        out: join(dir, "run"),
      });
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof Error, "expected an error");
    assert.deepEqual(toyState.calls, {}, "no step ran");
    await assert.rejects(Deno.stat(join(dir, "run")), "no run directory was made");
    return caught as Error & { code?: string };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("prepareExperiment() rejects a bad step field naming the step, the field and the value", async () => {
  const e = await failure((r) => (r.steps[1].with as Record<string, unknown>).limit = -3);
  assert.equal(e.code, "E_CONFIG");
  assert.ok(e instanceof TypeError);
  assert.match(e.message, /^toy\.json: step 'sim' \(steps\[1\]\) field 'with\.limit' is -3: /);
});

Deno.test("parseExperiment() names the step of a bad kind and lists every problem", async () => {
  const e = await failure((r) => {
    r.steps[2].kind = "evaluate";
    r.steps[3].concurrency = 0;
  });
  assert.equal(e.code, "E_CONFIG");
  const [first, second] = e.message.split("\n");
  assert.match(first, /step 'score' \(steps\[2\]\) field 'kind' is "evaluate"/);
  assert.match(second, /step 'sweep' \(steps\[3\]\) field 'concurrency' is 0/);
});

Deno.test("prepareExperiment() rejects references to unknown plugins, models, datasets and steps", async () => {
  const cases: [string, (r: Raw) => void, RegExp][] = [
    [
      "plugin",
      (r) => r.steps[0].plugin = "nope",
      /step 'fit' \(steps\[0\]\) field 'plugin' is "nope": no plugin has this name; known: toy/,
    ],
    ["plugin options", (r) => r.plugins.toy = { scale: -1 }, /field 'plugins\.toy\.scale' is -1/],
    [
      "plugins entry",
      (r) => r.plugins.ghost = {},
      /field 'plugins\.ghost' is \{\}: no plugin is named 'ghost'/,
    ],
    [
      "model",
      (r) => (r.steps[1].with as { models: Record<string, string> }).models.actor = "gpt",
      /step 'sim' .* field 'with\.models\.actor' is "gpt": no model has this id; known: base, ada/,
    ],
    [
      "dataset",
      (r) => (r.steps[0].with as Record<string, unknown>).data = "other",
      /step 'fit' .* field 'with\.data' is "other": no dataset has this id/,
    ],
    [
      "dataset path",
      (r) => r.datasets.sft = "missing.jsonl",
      /field 'datasets\.sft' is "missing\.jsonl": no file or folder exists/,
    ],
    [
      "step source",
      (r) => (r.steps[2].with as Record<string, unknown>).inputs = { step: "simulate" },
      /step 'score' .* field 'with\.inputs\.step' is "simulate": no earlier step/,
    ],
    [
      "later step",
      (r) => r.steps[0].needs = ["note"],
      /step 'fit' .* field 'needs\[0\]' is "note": that step comes later/,
    ],
    [
      "template",
      (r) => (r.steps[3].with as Record<string, unknown>).vector = "{{artifacts.nope}}/v",
      /step 'sweep' .* field 'with\.vector' is .*no earlier step has this id/,
    ],
    [
      "persona",
      (r) => r.models.ada = { kind: "persona", persona: "bob" },
      /field 'models\.ada\.persona' is "bob": no persona has this id/,
    ],
    [
      "role",
      (r) => r.steps[2].role = "valence",
      /step 'score' .* field 'role' is "valence": plugin toy has no judge named so; choose one of length/,
    ],
    [
      "simulator roles",
      (r) => (r.steps[1].with as Record<string, unknown>).models = {},
      /step 'sim' .* field 'with\.models' is \{\}: simulator 'echo' needs a model for role\(s\) 'actor'/,
    ],
    [
      "command",
      (r) => (r.steps[4].with as Record<string, unknown>).command = "explode",
      /step 'note' .* field 'with\.command' is "explode": plugin toy has no command 'explode'; known: summarize/,
    ],
    [
      "command flag",
      (r) => (r.steps[4].with as Record<string, unknown>).args = { colour: "red" },
      /step 'note' .* field 'with\.args\.colour' is "red": the command has no such flag/,
    ],
    [
      "duplicate id",
      (r) => r.steps[4].id = "sim",
      /step 'sim' \(steps\[4\]\) field 'id' is "sim": another step has the same id/,
    ],
  ];
  for (const [what, edit, pattern] of cases) {
    const e = await failure(edit);
    assert.match(e.message, pattern, what);
    assert.equal(e.code, "E_CONFIG", what);
  }
});

Deno.test("prepareExperiment() gives equal hashes for equal inputs and chains them through dependencies", async () => {
  const dir = await Deno.makeTempDir({ prefix: "exp_hash_" });
  try {
    const raw = await toyExperiment(dir) as unknown as Raw;
    const prep = async (r: unknown) =>
      (await prepareExperiment({
        experiment: parseExperiment(r, "t"),
        raw: r,
        source: "t",
        baseDir: dir,
      }, toyRegistry()))
        .steps.map((s) => s.hash);
    const a = await prep(raw);
    assert.deepEqual(await prep(structuredClone(raw)), a);
    await Deno.writeTextFile(join(dir, "train.jsonl"), '{"messages":[1]}\n'); // the train data changes
    const b = await prep(raw);
    assert.notEqual(b[0], a[0]);
    assert.equal(b[4], a[4], "note depends on score and sim, which do not read the train data");
    assert.equal(b[1], a[1], "sim does not read the train data");
    assert.notEqual(b[3], a[3], "sweep uses fit's artifacts");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
