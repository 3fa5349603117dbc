import assert from "node:assert/strict";
import { join } from "node:path";
import { SafetensorsFile } from "../../core/model/safetensors.ts";
import { LoraAdapter } from "./lora_adapter.ts";
import { loadLora } from "./load_lora.ts";
import { hookToModule } from "./peft_names.ts";
import { selectTargets } from "./target_modules.ts";
import { randomizeLora, tinyFixture } from "./testing/fixtures.ts";

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "lora_save_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("saveLora() writes PEFT key names and an adapter_config.json as PEFT does", async () => {
  const { hooks } = await tinyFixture();
  const lora = new LoraAdapter(hooks, {
    r: 4,
    alpha: 16,
    dropout: 0.05,
    useRslora: true,
    targetModules: ["q_proj", "down_proj"],
    baseModel: "org/tiny-llama",
  });
  await withTempDir(async (dir) => {
    await lora.save(dir);
    const config = JSON.parse(await Deno.readTextFile(join(dir, "adapter_config.json")));
    assert.equal(config.peft_type, "LORA");
    assert.equal(config.task_type, "CAUSAL_LM");
    assert.equal(config.bias, "none");
    assert.equal(config.r, 4);
    assert.equal(config.lora_alpha, 16);
    assert.equal(config.lora_dropout, 0.05);
    assert.equal(config.use_rslora, true);
    assert.equal(config.base_model_name_or_path, "org/tiny-llama");
    assert.deepEqual(config.target_modules, ["down_proj", "q_proj"]);
    assert.equal(config.layers_to_transform, null);
    assert.deepEqual(config.rank_pattern, {});
    const f = await SafetensorsFile.open(join(dir, "adapter_model.safetensors"));
    try {
      assert.deepEqual(f.names(), [
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
        "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight",
        "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight",
        "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight",
        "base_model.model.model.layers.1.self_attn.q_proj.lora_A.weight",
        "base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight",
        "base_model.model.model.layers.1.mlp.down_proj.lora_A.weight",
        "base_model.model.model.layers.1.mlp.down_proj.lora_B.weight",
      ]);
      assert.deepEqual(f.info("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight"), {
        dtype: "F32",
        shape: [4, 128],
        dataOffsets: f.info("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight")!
          .dataOffsets,
      });
      assert.deepEqual(f.metadata, { format: "pt" });
    } finally {
      f.close();
    }
  });
});

Deno.test("saveLora() → loadLora() round-trips weights bit-exactly", async () => {
  const { config, hooks } = await tinyFixture();
  const lora = new LoraAdapter(hooks, {
    r: 3,
    alpha: 7,
    dropout: 0.1,
    useRslora: true,
    targetModules: ["all-linear", "lm_head"],
    seed: 8,
  });
  randomizeLora(lora, 21, 0.3);
  await withTempDir(async (dir) => {
    await lora.save(dir);
    const back = await loadLora(dir, config);
    assert.deepEqual(
      back.parameters().map((p) => [p.name, p.shape]),
      lora.parameters().map((p) => [
        p.name,
        p.shape,
      ]),
    );
    for (const [i, p] of lora.parameters().entries()) {
      const q = back.parameters()[i];
      assert.deepEqual(
        new Uint8Array(q.data.buffer, q.data.byteOffset, q.data.byteLength),
        new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength),
        p.name,
      );
    }
    const o = back.options;
    assert.deepEqual([o.r, o.alpha, o.dropout, o.useRslora], [3, 7, 0.1, true]);
    assert.deepEqual(back.modules().map((m) => m.scaling), lora.modules().map((m) => m.scaling));
    // Saving what was loaded gives the same bytes.
    const again = join(dir, "again");
    await back.save(again);
    for (const name of ["adapter_model.safetensors", "adapter_config.json"]) {
      assert.deepEqual(
        await Deno.readFile(join(again, name)),
        await Deno.readFile(join(dir, name)),
      );
    }
  });
});

Deno.test("saveLora() expresses layer subsets with layers_to_transform and odd sets as a regex", async () => {
  const { hooks } = await tinyFixture();
  await withTempDir(async (dir) => {
    const subset = new LoraAdapter(hooks, { targetModules: ["q_proj", "v_proj"], layers: [1] });
    await subset.save(join(dir, "subset"));
    const c1 = JSON.parse(await Deno.readTextFile(join(dir, "subset", "adapter_config.json")));
    assert.deepEqual(c1.target_modules, ["q_proj", "v_proj"]);
    assert.deepEqual(c1.layers_to_transform, [1]);

    const odd = new LoraAdapter(hooks, {
      targetModules: ["layers.0.attn.q_proj", "layers.1.mlp.up_proj", "lm_head"],
    });
    await odd.save(join(dir, "odd"));
    const c2 = JSON.parse(await Deno.readTextFile(join(dir, "odd", "adapter_config.json")));
    assert.equal(typeof c2.target_modules, "string");
    // PEFT full-matches the regex against module names: it must pick exactly these modules.
    const re = new RegExp(`^(?:${c2.target_modules})$`);
    const picked = hooks.map((h) => hookToModule(h.name)!).filter((n) => re.test(n));
    assert.deepEqual(picked, [
      "model.layers.0.self_attn.q_proj",
      "model.layers.1.mlp.up_proj",
      "lm_head",
    ]);
    assert.deepEqual(selectTargets(c2.target_modules, hooks), [
      "layers.0.attn.q_proj",
      "layers.1.mlp.up_proj",
      "lm_head",
    ]);
  });
});
