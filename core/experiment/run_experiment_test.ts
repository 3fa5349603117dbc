import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { parseExperiment } from "./load_experiment.ts";
import { runExperiment } from "./run_experiment.ts";
import { readJsonl } from "./run_store.ts";
import type { MetricRecord, OutputRecord } from "./step_executor.ts";
import {
  echoFactory,
  resetToy,
  toyExperiment,
  toyRegistry,
  toyState,
} from "./testing/toy_plugin.ts";

async function setup() {
  resetToy();
  const dir = await Deno.makeTempDir({ prefix: "exp_run_" });
  const raw = await toyExperiment(dir);
  const load = (r: unknown = raw) => ({
    experiment: parseExperiment(r, "toy.json"),
    raw: r,
    source: "toy.json",
    baseDir: dir,
  });
  return { dir, raw, load, out: join(dir, "run") };
}

Deno.test("runExperiment() writes the store and a second run skips finished steps", async () => {
  const { dir, load, out } = await setup();
  try {
    const registry = toyRegistry();
    const first = await runExperiment(load(), { registry, modelFactory: echoFactory, out });
    assert.deepEqual(first.steps.map((s) => [s.id, s.status, s.items]), [
      ["fit", "ran", 1],
      ["sim", "ran", 6],
      ["score", "ran", 6],
      ["sweep", "ran", 12],
      ["note", "ran", 1],
    ]);
    assert.deepEqual(toyState.calls, {
      train: 1,
      simulate: 6,
      chat: 6 + 12,
      judge: 6 + 12,
      command: 1,
    });

    const config = JSON.parse(await Deno.readTextFile(join(out, "config.resolved.json")));
    assert.equal(config.name, "toy-exp");
    assert.equal(config.resolved.plugin_options.toy.scale, 2);
    const sim = await readJsonl<OutputRecord>(join(out, "steps/sim/output.jsonl"));
    assert.deepEqual(sim.map((r) => r.key), ["p0", "p1", "p2", "p3", "p4", "p5"]);
    assert.equal(sim[1].tags?.identity, "EXT_low");
    const turns = (sim[0].output as { turns: { text: string }[] }).turns;
    assert.equal(turns[1].text, "ada says: 0 rebmun tpmorp");
    // judge score = length/10 * scale(2) over "prompt number 0 ada says: 0 rebmun tpmorp"
    const score = await readJsonl<OutputRecord>(join(out, "steps/score/output.jsonl"));
    const text0 = "prompt number 0 " + turns[1].text;
    assert.equal(
      (score[0].output as { value: { score: number } }).value.score,
      (text0.length / 10) * 2,
    );
    assert.equal(score[0].tags?.identity, "EXT_high");
    // the template expanded to the train step's artifacts folder, which holds the adapter
    assert.ok(await Deno.stat(join(out, "artifacts/fit/adapter.json")));
    const note = await readJsonl<OutputRecord>(join(out, "steps/note/output.jsonl"));
    assert.deepEqual(note[0].output, {
      command: "summarize",
      status: 0,
      result: { wrote: "note.txt", note: "done" },
    });
    assert.equal(await Deno.readTextFile(join(out, "artifacts/note/note.txt")), "done");

    const metrics = await readJsonl<MetricRecord>(join(out, "metrics.jsonl"));
    const loss = metrics.filter((m) => m.step === "fit" && m.name === "loss").map((
      m,
    ) => [m.x, m.value]);
    assert.deepEqual(loss, [[1, 2], [2, 1], [3, 2 / 3], [4, 0.5], [5, 0.4]]);
    const heat = metrics.filter((m) => m.step === "sweep" && m.name === "score");
    assert.equal(heat.length, 12);
    assert.deepEqual(heat[4].tags, { layer: 1, coefficient: 2, prompt: "0" });

    const db = new DatabaseSync(join(out, "index.sqlite"));
    const rows = db.prepare("SELECT id, status, items FROM steps ORDER BY position").all();
    assert.deepEqual(rows.map((r) => [r.id, r.status, r.items]), [
      ["fit", "done", 1],
      ["sim", "done", 6],
      ["score", "done", 6],
      ["sweep", "done", 12],
      ["note", "done", 1],
    ]);
    const art = db.prepare("SELECT step, path FROM artifacts ORDER BY step").all();
    assert.deepEqual(art.map((r) => [r.step, r.path]), [["fit", "adapter.json"], [
      "note",
      "note.txt",
    ]]);
    const n = db.prepare("SELECT COUNT(*) AS n FROM metrics").get() as { n: number };
    assert.equal(n.n, metrics.length);
    db.close();

    const calls = { ...toyState.calls };
    const second = await runExperiment(load(), { registry, modelFactory: echoFactory, out });
    assert.ok(second.steps.every((s) => s.status === "skipped"));
    assert.deepEqual(toyState.calls, calls);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runExperiment() reruns a step whose config changed, and the steps that depend on it", async () => {
  const { dir, raw, load, out } = await setup();
  try {
    const registry = toyRegistry();
    await runExperiment(load(), { registry, modelFactory: echoFactory, out });
    const changed = structuredClone(raw) as { steps: { with: Record<string, unknown> }[] };
    changed.steps[2].with.limit = 4;
    const r = await runExperiment(load(changed), { registry, modelFactory: echoFactory, out });
    assert.deepEqual(r.steps.map((s) => [s.id, s.status]), [
      ["fit", "skipped"],
      ["sim", "skipped"],
      ["score", "ran"],
      ["sweep", "skipped"],
      ["note", "ran"], // needs: [score]
    ]);
    assert.equal((await readJsonl(join(out, "steps/score/output.jsonl"))).length, 4);
    const forced = await runExperiment(load(changed), {
      registry,
      modelFactory: echoFactory,
      out,
      force: true,
    });
    assert.ok(forced.steps.every((s) => s.status === "ran"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runExperiment() after an interruption in step 2 resumes without redoing step 1", async () => {
  const { dir, load, out } = await setup();
  try {
    const registry = toyRegistry();
    toyState.failOn.add("simulate:prompt number 3");
    await assert.rejects(
      runExperiment(load(), { registry, modelFactory: echoFactory, out }),
      (e: Error & { code?: string }) =>
        e.code === "E_PLUGIN_HOOK" && /step 'sim'/.test(e.message) && /on purpose/.test(e.message),
    );
    assert.equal(toyState.calls.train, 1);
    assert.equal(toyState.calls.simulate, 4); // items 0..2 finished, 3 threw
    const db = new DatabaseSync(join(out, "index.sqlite"));
    assert.equal(
      (db.prepare("SELECT status FROM steps WHERE id = 'sim'").get() as { status: string }).status,
      "failed",
    );
    db.close();

    toyState.failOn.clear();
    const r = await runExperiment(load(), { registry, modelFactory: echoFactory, out });
    assert.equal(toyState.calls.train, 1, "step 1 was not redone");
    assert.equal(toyState.calls.simulate, 4 + 3, "only the unfinished items ran");
    assert.deepEqual(r.steps.slice(0, 2).map((s) => [s.id, s.status, s.reused]), [[
      "fit",
      "skipped",
      0,
    ], ["sim", "ran", 3]]);
    const sim = await readJsonl<OutputRecord>(join(out, "steps/sim/output.jsonl"));
    assert.deepEqual(sim.map((x) => x.index), [0, 1, 2, 3, 4, 5]);
    await assert.rejects(Deno.stat(join(out, "steps/sim/partial.jsonl")));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runExperiment() gives each item the same seed whatever the concurrency", async () => {
  const { dir, raw, load, out } = await setup();
  try {
    const registry = toyRegistry();
    await runExperiment(load(), { registry, modelFactory: echoFactory, out });
    const wide = structuredClone(raw) as { steps: { concurrency?: number }[] };
    wide.steps[1].concurrency = 4;
    await runExperiment(load(wide), { registry, modelFactory: echoFactory, out: out + "2" });
    const a = await Deno.readTextFile(join(out, "steps/sim/output.jsonl"));
    const b = await Deno.readTextFile(join(out + "2", "steps/sim/output.jsonl"));
    assert.equal(a, b);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runExperiment() mixes plugins: a toy simulation judged by the example lexicon_judge plugin", async () => {
  const { dir, out } = await setup();
  try {
    const registry = toyRegistry();
    await registry.load(new URL("../../examples/third_party_plugin/mod.ts", import.meta.url).href);
    const raw = {
      name: "mixed",
      models: { m: { kind: "local", path: "tiny" } },
      steps: [
        {
          id: "sim",
          kind: "simulate",
          plugin: "toy",
          with: {
            inputs: {
              items: [{ prompt: "what a wonderful day" }, { prompt: "a gloomy disaster" }],
            },
            models: { actor: "m" },
          },
        },
        {
          id: "valence",
          kind: "judge",
          plugin: "lexicon_judge",
          with: { inputs: { step: "sim" } },
        },
      ],
    };
    await runExperiment({ experiment: parseExperiment(raw, "m"), raw, source: "m", baseDir: dir }, {
      registry,
      modelFactory: echoFactory,
      out,
    });
    const sim = await readJsonl<OutputRecord>(join(out, "steps/sim/output.jsonl"));
    const judged = await readJsonl<OutputRecord>(join(out, "steps/valence/output.jsonl"));
    const { makeValenceJudge, LexiconJudgeOptions } = await import(
      "../../examples/third_party_plugin/mod.ts"
    );
    const judge = await makeValenceJudge(LexiconJudgeOptions.parse({}));
    for (const [i, r] of judged.entries()) {
      const direct = await judge.judge(
        sim[i].output as { turns: { speaker: string; text: string }[] },
        {},
      );
      assert.deepEqual(r.output, direct);
    }
    const scores = judged.map((r) => (r.output as { value: { score: number } }).value.score);
    assert.ok(scores[0] > 0 && scores[1] < 0, `valence ${scores}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("runExperiment() expands artifact templates in personas and makes their users depend on the step", async () => {
  const { dir, raw, load, out } = await setup();
  try {
    const r = structuredClone(raw) as {
      personas: Record<string, Record<string, unknown>>;
      steps: Record<string, unknown>[];
    };
    r.personas.ada.adapters = [{ plugin: "toy", path: "{{artifacts.fit}}/adapter" }];
    // "sim" no longer lists "fit" anywhere in `with`; the persona's template must add the edge.
    const seen: string[] = [];
    const factory: typeof echoFactory = (req) => {
      if (req.persona) seen.push(req.persona.adapters[0].path);
      return echoFactory(req);
    };
    const result = await runExperiment(load(r), {
      registry: toyRegistry(),
      modelFactory: factory,
      out,
    });
    assert.equal(result.steps.find((s) => s.id === "sim")!.status, "ran");
    assert.deepEqual(seen, [join(out, "artifacts", "fit", "adapter")]);
    const config = JSON.parse(await Deno.readTextFile(join(out, "config.resolved.json")));
    const sim = config.resolved.steps.find((s: { id: string }) => s.id === "sim");
    assert.deepEqual(sim.needs, ["fit"]);

    r.personas.ada.adapters = [{ plugin: "toy", path: "{{artifacts.note}}/adapter" }];
    await assert.rejects(
      () => runExperiment(load(r), { registry: toyRegistry(), modelFactory: factory, out }),
      /that step comes later/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
