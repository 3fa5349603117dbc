import assert from "node:assert/strict";
import { join } from "node:path";
import { formatHelp } from "../../core/host/args.ts";
import { createTinyModel } from "../../core/model/tiny.ts";
import { PERSONA_VECTORS_COMMANDS } from "./commands/mod.ts";
import { PAPER_TRAINING_CONFIG, withPaperDefaults } from "./paper_training.ts";
import { runCommand } from "./testing/run_command.ts";
import { saveVectorFile } from "./vector_io.ts";

const SEVEN = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

Deno.test("withPaperDefaults() keeps spec B7's values and lets the user override them", () => {
  const c = withPaperDefaults({});
  assert.deepEqual(
    [c.r, c.lora_alpha, c.use_rslora, c.learning_rate, c.warmup_steps, c.weight_decay],
    [32, 64, true, 1e-5, 5, 0.01],
  );
  assert.deepEqual(c.target_modules, SEVEN);
  assert.equal(withPaperDefaults({ r: 8 }).r, 8);
  assert.equal(
    PAPER_TRAINING_CONFIG.batch_size * PAPER_TRAINING_CONFIG.gradient_accumulation_steps,
    16,
  );
});

Deno.test("train-preventative --help shows the paper's training configuration", () => {
  const cmd = PERSONA_VECTORS_COMMANDS.find((c) => c.name === "train-preventative")!;
  const help = formatHelp("dramatis persona_vectors train-preventative", cmd);
  for (
    const want of [
      "LoRA rank (paper default: 32)",
      "LoRA alpha (paper default: 64)",
      "rsLoRA",
      "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
      "peak learning rate (paper default: 1e-5)",
    ]
  ) assert.ok(help.includes(want), `help lacks ${want}:\n${help}`);
});

Deno.test("train-preventative writes the paper's adapter config by default and honours overrides", async () => {
  const root = await Deno.makeTempDir({ prefix: "pv_paper_" });
  try {
    const model = join(root, "model");
    const info = await createTinyModel(model, { preset: "tiny-llama", seed: 2 });
    const { numLayers: L, hiddenSize: d } = info.config;
    const vector = join(root, "v.safetensors");
    await saveVectorFile(vector, {
      rows: L + 1,
      cols: d,
      data: new Float32Array((L + 1) * d).fill(0.02),
    }, { model: "tiny", trait: "t", type: "response_avg", n_pos: 1, n_neg: 1, threshold: 50 });
    const data = join(root, "d.jsonl");
    await Deno.writeTextFile(
      data,
      ["a", "b"].map((q) =>
        JSON.stringify({
          messages: [{ role: "user", content: q }, { role: "assistant", content: "ok then" }],
        })
      ).join("\n") + "\n",
    );
    const common = [
      "--model",
      model,
      "--data",
      data,
      "--vector",
      vector,
      "--layers",
      "1",
      "--steps",
      "1",
      "--threads",
      "1",
      "--config",
      '{"eval_split": 0, "gradient_accumulation_steps": 1}',
    ];
    const paper = join(root, "paper");
    await runCommand("train-preventative", [...common, "--out", paper]);
    const peft = JSON.parse(await Deno.readTextFile(join(paper, "adapter", "adapter_config.json")));
    assert.equal(peft.r, 32);
    assert.equal(peft.lora_alpha, 64);
    assert.equal(peft.use_rslora, true);
    assert.equal(peft.lora_dropout, 0);
    const modules = Array.isArray(peft.target_modules)
      ? peft.target_modules
      : SEVEN.filter((m) => new RegExp(peft.target_modules).test(`layers.0.x.${m}`));
    assert.deepEqual([...modules].sort(), [...SEVEN].sort());
    const cfg = JSON.parse(await Deno.readTextFile(join(paper, "adapter", "train_config.json")));
    assert.equal(cfg.learning_rate, 1e-5);
    assert.equal(cfg.warmup_steps, 5);
    assert.equal(cfg.weight_decay, 0.01);
    assert.equal(cfg.batch_size, 2);
    assert.equal(cfg.gradient_accumulation_steps, 1, "--config wins over the paper's value");

    const custom = join(root, "custom");
    await runCommand("train-preventative", [
      ...common,
      "--r",
      "4",
      "--lora-alpha",
      "8",
      "--no-rslora",
      "--target-modules",
      "q_proj,v_proj",
      "--learning-rate",
      "0.001",
      "--out",
      custom,
    ]);
    const c2 = JSON.parse(await Deno.readTextFile(join(custom, "adapter", "adapter_config.json")));
    assert.deepEqual([c2.r, c2.lora_alpha, c2.use_rslora], [4, 8, false]);
    assert.deepEqual([...c2.target_modules].sort(), ["q_proj", "v_proj"]);
    const t2 = JSON.parse(await Deno.readTextFile(join(custom, "adapter", "train_config.json")));
    assert.equal(t2.learning_rate, 0.001);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
