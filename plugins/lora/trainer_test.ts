import assert from "node:assert/strict";
import { pluginContext } from "../../core/services/plugin_context.ts";
import { join } from "node:path";
import type { TrainEvent } from "../../core/contracts/trainer.ts";
import { readDecoderConfig } from "../../core/model/config.ts";
import { encodeSafetensors } from "../../core/model/safetensors.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { loadWeights } from "../../core/model/weights.ts";
import { trainerConformance } from "../../tests/conformance/trainer.ts";
import { lora } from "./plugin.ts";
import { loadLora } from "./load_lora.ts";
import { parseLoraTrainConfig } from "./train_config.ts";
import { createLoraTrainer, evalLoraLoss } from "./trainer.ts";

const DATA = new URL("../../datasets/train/lighthouse_keeper.jsonl", import.meta.url).pathname;

let modelDir: string | undefined;
async function tinyModel(): Promise<string> {
  if (modelDir) return modelDir;
  modelDir = await Deno.makeTempDir({ prefix: "dramatis_lora_model_" });
  await createTinyModel(modelDir, { preset: "tiny-llama", seed: 1 });
  return modelDir;
}

const trainer = createLoraTrainer({ progress: false, runner: "in-process" });

async function tmp(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "dramatis_lora_run_" });
}

function stepLosses(metricsJsonl: string): number[] {
  return metricsJsonl.trim().split("\n").map((l) => JSON.parse(l))
    .filter((m) => m.type === "step").map((m) => m.loss);
}

Deno.test("lora plugin trainer passes the Trainer conformance suite", async (t) => {
  const plugin = lora();
  assert.equal(plugin.name, "lora");
  assert.deepEqual([...plugin.provides], ["adapter", "trainer"]);
  const roles = await plugin.create(
    plugin.options.parse({ progress: false }),
    pluginContext("lora"),
  );
  await trainerConformance(t, {
    trainer: roles.trainers!.lora,
    request: { model: await tinyModel(), data: DATA, out: "", config: { steps: 3 } },
  });
});

Deno.test("lora trainer lowers the eval loss on the shipped dataset over the first steps and writes a PEFT adapter", async () => {
  const out = await tmp();
  const events: TrainEvent[] = [];
  const r = await trainer.train({
    model: await tinyModel(),
    data: DATA,
    out,
    config: {
      steps: 20,
      eval_every: 5,
      eval_at_start: true,
      learning_rate: 3e-3,
      r: 8,
      lora_alpha: 16,
      target_modules: "all-linear",
    },
    onEvent: (e) => events.push(e),
  });
  const evals = events.filter((e) => e.type === "eval").map((e) => (e as { loss: number }).loss);
  assert.equal(evals.length, 5);
  for (let i = 1; i < evals.length; i++) assert.ok(evals[i] < evals[i - 1], `eval losses ${evals}`);
  assert.equal(r.metrics.initial_eval_loss, evals[0]);
  assert.equal(r.metrics.eval_loss, evals.at(-1));
  const peft = JSON.parse(await Deno.readTextFile(join(out, "adapter_config.json")));
  assert.equal(peft.peft_type, "LORA");
  assert.equal(peft.r, 8);
  await Deno.stat(join(out, "adapter_model.safetensors"));
  await Deno.stat(join(out, "checkpoints", "step-000020", "adapter", "adapter_config.json"));
  const result = JSON.parse(await Deno.readTextFile(join(out, "train_result.json")));
  assert.equal(result.metrics.steps, 20);
  await Deno.remove(out, { recursive: true });
});

Deno.test("lora trainer overfits 8 examples to loss < 0.1", async () => {
  const out = await tmp();
  const lines = (await Deno.readTextFile(DATA)).trim().split("\n").slice(0, 8);
  const data = join(out, "eight.jsonl");
  await Deno.writeTextFile(data, lines.join("\n") + "\n");
  const r = await trainer.train({
    model: await tinyModel(),
    data,
    out: join(out, "run"),
    config: {
      steps: 80,
      batch_size: 8,
      eval_split: 0,
      learning_rate: 1e-2,
      warmup_steps: 5,
      r: 16,
      lora_alpha: 32,
      target_modules: "all-linear",
    },
  });
  assert.ok(r.metrics.first_loss > 3, `first loss ${r.metrics.first_loss}`);
  assert.ok(r.metrics.train_loss < 0.1, `last loss ${r.metrics.train_loss}`);
  await Deno.remove(out, { recursive: true });
});

Deno.test("lora trainer: save → load → eval reproduces the final eval loss exactly", async () => {
  const out = await tmp();
  const config = { steps: 6, learning_rate: 5e-3, r: 4, lora_alpha: 8, seed: 3, eval_split: 0.2 };
  const model = await tinyModel();
  const r = await trainer.train({ model, data: DATA, out, config });
  const again = await evalLoraLoss({ model, data: DATA, adapter: out, config });
  assert.equal(again.examples, r.metrics.eval_examples);
  assert.equal(again.loss, r.metrics.eval_loss);
  const base = await evalLoraLoss({ model, data: DATA, config });
  assert.ok(base.loss > again.loss, `base ${base.loss} adapter ${again.loss}`);
  // The saved adapter is a PEFT directory the loader reads back with the trained values.
  const loaded = await loadLora(out, await readDecoderConfig(model));
  assert.ok(loaded.modules().some((m) => m.B.some((v) => v !== 0)));
  await Deno.remove(out, { recursive: true });
});

Deno.test("lora trainer: an interrupted run resumed in the same --out continues the same loss curve", async () => {
  const model = await tinyModel();
  const config = {
    steps: 8,
    learning_rate: 4e-3,
    warmup_steps: 2,
    lr_scheduler_type: "cosine",
    batch_size: 3,
    gradient_accumulation_steps: 2,
    weight_decay: 0.01,
    lora_dropout: 0.1,
    seed: 5,
  };
  const full = await tmp();
  await trainer.train({ model, data: DATA, out: full, config });
  const cut = await tmp();
  const controller = new AbortController();
  await assert.rejects(
    trainer.train({
      model,
      data: DATA,
      out: cut,
      config,
      signal: controller.signal,
      onEvent: (e) => {
        if (e.type === "step" && e.step === 3) controller.abort();
      },
    }),
    /training stopped/,
  );
  const events: TrainEvent[] = [];
  const resumed = await trainer.train({
    model,
    data: DATA,
    out: cut,
    config,
    onEvent: (e) => events.push(e),
  });
  assert.ok(events.some((e) => e.type === "log" && e.message === "resumed from step 3"));
  assert.equal(resumed.steps, 8);
  const a = stepLosses(await Deno.readTextFile(join(full, "metrics.jsonl")));
  const b = stepLosses(await Deno.readTextFile(join(cut, "metrics.jsonl")));
  assert.equal(a.length, 8);
  assert.deepEqual(b, a);
  assert.deepEqual(
    await Deno.readFile(join(cut, "adapter_model.safetensors")),
    await Deno.readFile(join(full, "adapter_model.safetensors")),
  );
  await Deno.remove(full, { recursive: true });
  await Deno.remove(cut, { recursive: true });
});

Deno.test("lora trainer: bad data is an error with file, line and fix, or a counted skip with skip_invalid", async () => {
  const model = await tinyModel();
  const dir = await tmp();
  const good = (await Deno.readTextFile(DATA)).trim().split("\n").slice(0, 4);
  const long = JSON.stringify({
    messages: [
      { role: "user", content: "Tell me everything. ".repeat(60) },
      { role: "assistant", content: "That is a lot." },
    ],
  });
  const cases: [string, string, RegExp][] = [
    [
      "malformed",
      '{"messages": [',
      /malformed\.jsonl:3: record 2: malformed JSON .*one complete JSON object/,
    ],
    [
      "order",
      JSON.stringify({
        messages: [{ role: "assistant", content: "Hi" }, { role: "user", content: "Hello" }],
      }),
      /order\.jsonl:3: record 2: turn 0 has role "assistant" where "user" belongs/,
    ],
    [
      "empty",
      JSON.stringify({
        messages: [{ role: "user", content: "Hi" }, { role: "assistant", content: "  " }],
      }),
      /empty\.jsonl:3: record 2: assistant turn 1 is empty; remove the record or give the turn content/,
    ],
    [
      "long",
      long,
      /long\.jsonl:3: record 2: the conversation is \d+ tokens, over maxLength 200; raise/,
    ],
  ];
  for (const [name, bad, pattern] of cases) {
    const file = join(dir, `${name}.jsonl`);
    await Deno.writeTextFile(file, [...good.slice(0, 2), bad, ...good.slice(2)].join("\n"));
    await assert.rejects(
      trainer.train({
        model,
        data: file,
        out: join(dir, `out-${name}`),
        config: { steps: 1, max_length: 200, truncate: false },
      }),
      pattern,
    );
    const logs: string[] = [];
    const r = await trainer.train({
      model,
      data: file,
      out: join(dir, `skip-${name}`),
      config: { steps: 1, max_length: 200, truncate: false, skip_invalid: true, eval_split: 0 },
      onEvent: (e) => e.type === "log" && logs.push(e.message),
    });
    assert.equal(r.metrics.skipped, 1, name);
    assert.ok(logs.some((l) => l.startsWith(`skipped ${file}:3: `)), logs.join("\n"));
    const result = JSON.parse(
      await Deno.readTextFile(join(dir, `skip-${name}`, "train_result.json")),
    );
    assert.equal(result.skipped[0].line, 3);
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("parseLoraTrainConfig() names the field, value and reason of a bad config", () => {
  assert.equal(parseLoraTrainConfig({ steps: 30 }).steps, 30);
  assert.throws(
    () => parseLoraTrainConfig({ step: 30 }),
    /field "step" is 30: unknown field; known fields: .*steps/,
  );
  assert.throws(() => parseLoraTrainConfig({ learning_rate: -1 }), /field "learning_rate" is -1/);
  assert.throws(
    () => parseLoraTrainConfig({ steering: [{ vector: "v.safetensors", layer: 0 }] }),
    /field "steering\.0\.layer" is 0/,
  );
});

Deno.test("lora trainer with steering trains under the edit and rejects a layer outside the model", async () => {
  const model = await tinyModel();
  const config = await readDecoderConfig(model);
  const dir = await tmp();
  const vec = new Float32Array((config.numLayers + 1) * config.hiddenSize);
  for (let i = 0; i < vec.length; i++) vec[i] = Math.sin(i + 1);
  const file = join(dir, "vector.safetensors");
  await Deno.writeFile(
    file,
    encodeSafetensors({
      vector: { dtype: "F32", shape: [config.numLayers + 1, config.hiddenSize], data: vec },
    }),
  );
  const base = { steps: 2, eval_split: 0, seed: 1 };
  const plain = await trainer.train({ model, data: DATA, out: join(dir, "plain"), config: base });
  const steered = await trainer.train({
    model,
    data: DATA,
    out: join(dir, "steer"),
    config: { ...base, steering: [{ vector: file, coefficient: 4, layer: 1, type: "steer" }] },
  });
  const ablated = await trainer.train({
    model,
    data: DATA,
    out: join(dir, "ablate"),
    config: { ...base, steering: [{ vector: file, layer: 2, type: "ablate" }] },
  });
  assert.notEqual(steered.metrics.first_loss, plain.metrics.first_loss);
  assert.notEqual(ablated.metrics.first_loss, plain.metrics.first_loss);
  // The adapter is saved without the edit (the point of preventative steering).
  const peft = JSON.parse(await Deno.readTextFile(join(dir, "steer", "adapter_config.json")));
  assert.equal(peft.peft_type, "LORA");
  await assert.rejects(
    trainer.train({
      model,
      data: DATA,
      out: join(dir, "bad"),
      config: { ...base, steering: [{ vector: file, layer: 3 }] },
    }),
    /steering\[0\]\.layer is 3; this model has hidden-state layers 1\.\.2/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("lora trainer with trainable all trains every base weight and writes a loadable HF model", async () => {
  const model = await tinyModel();
  const out = await tmp();
  const r = await trainer.train({
    model,
    data: DATA,
    out,
    config: { trainable: "all", steps: 10, learning_rate: 3e-3, eval_split: 0.1 },
  });
  assert.ok(r.metrics.train_loss < r.metrics.first_loss);
  const config = await readDecoderConfig(out);
  const before = await loadWeights(model, config);
  const after = await loadWeights(out, config);
  assert.equal(after.size, before.size);
  let changed = 0;
  for (const [name, w] of after) {
    if (w.data.some((v, i) => v !== before.get(name)!.data[i])) changed++;
  }
  assert.equal(changed, before.size, "every base weight should move");
  await Deno.stat(join(out, "tokenizer.json"));
  // The written model evaluates to the trainer's final eval loss.
  const ev = await evalLoraLoss({ model: out, data: DATA, config: { eval_split: 0.1 } });
  assert.ok(Math.abs(ev.loss - r.metrics.eval_loss) < 1e-5, `${ev.loss} vs ${r.metrics.eval_loss}`);
  await Deno.remove(out, { recursive: true });
});

Deno.test({
  name: "lora trainer: cleanup of the shared tiny model",
  fn: async () => {
    if (modelDir) await Deno.remove(modelDir, { recursive: true });
    modelDir = undefined;
  },
});
