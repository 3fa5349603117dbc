import assert from "node:assert/strict";
import { join } from "node:path";
import { createTinyModel } from "../../core/model/tiny.ts";
import { runCli } from "../cli.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const DATA = join(ROOT, "datasets/train/lighthouse_keeper.jsonl");

const cli = (...args: string[]) => runCli(args, {}, ROOT);

Deno.test("dramatis train --plugin lora trains a tiny model and prints the final metrics as JSON", async () => {
  const dir = await Deno.makeTempDir({ prefix: "dramatis_train_cli_" });
  try {
    const model = join(dir, "tiny");
    await createTinyModel(model, { preset: "tiny-llama", seed: 2 });
    const out = join(dir, "run");
    const r = await cli(
      "train",
      "--plugin",
      "lora",
      "--model",
      model,
      "--data",
      DATA,
      "--out",
      out,
      "--config",
      '{"steps":30}',
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.plugin, "lora");
    assert.equal(json.steps, 30);
    assert.equal(json.metrics.steps, 30);
    assert.ok(Number.isFinite(json.metrics.train_loss));
    assert.ok(Number.isFinite(json.metrics.eval_loss));
    assert.ok(
      json.metrics.eval_loss < json.metrics.initial_eval_loss,
      JSON.stringify(json.metrics),
    );
    assert.deepEqual(json.skipped, []);
    for (const f of ["adapter_config.json", "adapter_model.safetensors", "metrics.jsonl"]) {
      await Deno.stat(join(out, f));
    }

    // --config as a file; a bad field exits 2 naming it.
    const cfg = join(dir, "bad.json");
    await Deno.writeTextFile(cfg, JSON.stringify({ steps: 2, learning_rat: 1e-3 }));
    const bad = await cli(
      "train",
      "--plugin=lora",
      "--model",
      model,
      "--data",
      DATA,
      "--out",
      join(dir, "bad"),
      "--config",
      cfg,
    );
    assert.equal(bad.code, 2);
    assert.match(
      bad.stderr,
      /error\[E_CONFIG\]: plugin lora \(trainer lora\): lora trainer config field "learning_rat" is 0\.001: unknown field/,
    );

    // Skipped records are counted and reported.
    const mixed = join(dir, "mixed.jsonl");
    const lines = (await Deno.readTextFile(DATA)).trim().split("\n").slice(0, 6);
    lines.splice(2, 0, "{not json");
    await Deno.writeTextFile(mixed, lines.join("\n"));
    const skip = await cli(
      "train",
      "--plugin",
      "lora",
      "--model",
      model,
      "--data",
      mixed,
      "--out",
      join(dir, "skip"),
      "--config",
      '{"steps": 1, "skip_invalid": true}',
      "--json",
    );
    assert.equal(skip.code, 0, skip.stderr);
    const sj = JSON.parse(skip.stdout);
    assert.equal(sj.metrics.skipped, 1);
    assert.match(sj.skipped[0], /mixed\.jsonl:3: record 2: \[invalid\] malformed JSON/);
    assert.match(skip.stderr, /skipped .*mixed\.jsonl:3/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dramatis train names the trainers when --plugin is missing or unknown", async () => {
  const none = await cli("train", "--model", "m", "--data", "d", "--out", "o");
  assert.equal(none.code, 2);
  assert.match(none.stderr, /train needs --plugin <name>; plugins with a trainer: .*lora/);
  const unknown = await cli(
    "train",
    "--plugin",
    "nope",
    "--model",
    "m",
    "--data",
    "d",
    "--out",
    "o",
  );
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--plugin nope: no such plugin/);
});

Deno.test("dramatis bench names its suites when the suite is missing", async () => {
  const r = await cli("bench");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bench needs one suite, got none; suites: decode .*; train /);
});
