import assert from "node:assert/strict";
import { join } from "node:path";
import { errorCode } from "../../core/errors.ts";
import { parseDecoderConfig, readDecoderConfig } from "../../core/model/config.ts";
import { decoderHooks } from "../../core/model/decoder_graph.ts";
import {
  decodeSafetensors,
  encodeSafetensors,
  type RawTensor,
} from "../../core/model/safetensors.ts";
import { createTinyModel, tinyConfigJson } from "../../core/model/tiny.ts";
import { Prng } from "../../core/util/prng.ts";
import { IdentityAdapter } from "./adapter.ts";
import { resolveIdentityAdapterConfig } from "./adapter_config.ts";
import {
  checkpointConfigJson,
  IDENTITY_CONFIG_FILE,
  IDENTITY_WEIGHTS_FILE,
  parseCheckpointConfig,
  readIdentityCheckpoint,
} from "./checkpoint.ts";

function config(hiddenSize = 32, numLayers = 2) {
  return parseDecoderConfig(
    tinyConfigJson({
      preset: "tiny-llama",
      numLayers,
      vocabSize: 300,
      hiddenSize,
      intermediateSize: 48,
    }),
    "config.json",
  );
}

function randomized(options: Parameters<typeof IdentityAdapter.create>[1] = {}) {
  const adapter = IdentityAdapter.create(config(), { r: 4, ...options });
  const rng = new Prng(12);
  for (const p of adapter.parameters()) {
    for (let i = 0; i < p.data.length; i++) p.data[i] = rng.normal() / 3;
  }
  return adapter;
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "hirpf_ckpt_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

Deno.test("IdentityAdapter.save() then load() round-trips every tensor bit-exactly, for every insert mode", async () => {
  for (const insertMode of ["flat", "alternate", "layered"] as const) {
    await withDir(async (dir) => {
      const adapter = randomized({ insertMode, trainGates: false, baseModel: "tiny-llama" });
      await adapter.save(dir);
      const names = [];
      for await (const e of Deno.readDir(dir)) names.push(e.name);
      assert.deepEqual(names.sort(), [IDENTITY_CONFIG_FILE, IDENTITY_WEIGHTS_FILE]);
      for (const model of [undefined, config()]) {
        const loaded = await IdentityAdapter.load(dir, { model });
        assert.deepEqual(loaded.config, adapter.config);
        const a = adapter.parameters(), b = loaded.parameters();
        assert.deepEqual(
          b.map((p) => [p.name, p.shape, p.trainable]),
          a.map((p) => [p.name, p.shape, p.trainable]),
        );
        a.forEach((p, i) => assert.deepEqual(bytes(b[i].data), bytes(p.data), p.name));
      }
      // Saving the loaded adapter writes the same bytes again.
      const again = join(dir, "again");
      await (await IdentityAdapter.load(dir)).save(again);
      assert.deepEqual(
        await Deno.readFile(join(again, IDENTITY_WEIGHTS_FILE)),
        await Deno.readFile(join(dir, IDENTITY_WEIGHTS_FILE)),
      );
    });
  }
});

Deno.test("IdentityAdapter.save() names tensors per block, projection, group and expert in PEFT orientation", async () => {
  await withDir(async (dir) => {
    const adapter = randomized({ insertMode: "alternate" });
    await adapter.save(dir);
    const { tensors, metadata } = decodeSafetensors(
      await Deno.readFile(join(dir, IDENTITY_WEIGHTS_FILE)),
    );
    assert.equal(metadata["dramatis.kind"], "hirpf");
    // Block 0 hosts the traits (group 0), block 1 the professions (group 1); k/v project to 16.
    assert.deepEqual(tensors.get("layers.0.attn.q_proj.0.AGR_high.lora_A")?.shape, [4, 32]);
    assert.deepEqual(tensors.get("layers.0.attn.k_proj.0.OPE_low.lora_B")?.shape, [16, 4]);
    assert.deepEqual(tensors.get("layers.0.attn.v_proj.0.gate.weight")?.shape, [10, 32]);
    assert.deepEqual(tensors.get("layers.1.attn.o_proj.1.Doctor.lora_B")?.shape, [32, 4]);
    assert.deepEqual(tensors.get("layers.1.attn.o_proj.1.gate.bias")?.shape, [3]);
    assert.equal(tensors.has("layers.1.attn.q_proj.0.AGR_high.lora_A"), false);
    // 2 blocks x 4 projections: (10 + 3) experts x 2 + (2 gate tensors) x 4 x 2.
    assert.equal(tensors.size, 13 * 2 * 4 + 2 * 8);
    // Orientation: A_e [r, in] row j is column e·r + j of the graph's stacked lora_A_t [in, E·r].
    const A = tensors.get("layers.0.attn.q_proj.0.CON_high.lora_A")!.data as Float32Array;
    const At = adapter.parameters().find((p) =>
      p.name === "hirpf.layers.0.attn.q_proj.g0.lora_A_t"
    )!;
    const e = 2, r = 4, E = 10;
    assert.equal(A[1 * 32 + 5], At.data[5 * E * r + e * r + 1]);
    const json = JSON.parse(await Deno.readTextFile(join(dir, IDENTITY_CONFIG_FILE)));
    assert.deepEqual(
      { ...json, adapter_names: json.adapter_names.map((g: string[]) => g.length) },
      {
        format: "dramatis.hirpf",
        format_version: 1,
        base_model: null,
        num_layers: 2,
        adapter_names: [10, 3],
        professions: ["Doctor", "Artist", "Programmer"],
        insert_mode: "alternate",
        sparse: true,
        train_gates: true,
        mask_mode: "exclude",
        r: 4,
        lora_alpha: 16,
        lora_dropout: 0.05,
        target_modules: ["q_proj", "k_proj", "v_proj", "o_proj"],
        hard_mask_value: -50000,
      },
    );
  });
});

Deno.test("IdentityAdapter.load() against a model with other shapes names the file, the tensor and the fix", async () => {
  await withDir(async (dir) => {
    await randomized().save(dir);
    await assert.rejects(
      () => IdentityAdapter.load(dir, { model: config(16) }),
      (e: Error) => {
        assert.ok(e instanceof RangeError);
        assert.equal(errorCode(e), "E_WEIGHTS");
        assert.ok(e.message.includes(join(dir, IDENTITY_WEIGHTS_FILE)), e.message);
        assert.match(
          e.message,
          /tensor "layers\.0\.attn\.q_proj\.0\.AGR_high\.lora_A" has shape \[4,32\] but layers\.0\.attn\.q_proj needs \[4,16\]/,
        );
        assert.match(e.message, /load the checkpoint with the base model it was trained on/);
        return true;
      },
    );
    await assert.rejects(
      () => IdentityAdapter.load(dir, { model: decoderHooks(config(32, 3)) }),
      (e: Error) => {
        assert.ok(e.message.includes(join(dir, IDENTITY_CONFIG_FILE)), e.message);
        assert.match(e.message, /num_layers is 2 but the model has 3 decoder blocks/);
        return true;
      },
    );
  });
});

Deno.test("IdentityAdapter.load() checks against a real tiny-llama model directory", async () => {
  await withDir(async (dir) => {
    const modelDir = join(dir, "model");
    await createTinyModel(modelDir, { preset: "tiny-llama", seed: 1, numLayers: 2 });
    const model = await readDecoderConfig(modelDir);
    const adapter = IdentityAdapter.create(model, { r: 2, baseModel: modelDir });
    await adapter.save(join(dir, "ckpt"));
    const loaded = await IdentityAdapter.load(join(dir, "ckpt"), { model });
    assert.equal(loaded.config.baseModel, modelDir);
    assert.deepEqual(loaded.targets(decoderHooks(model)), adapter.targets(decoderHooks(model)));
  });
});

async function rewriteWeights(dir: string, edit: (t: Map<string, RawTensor>) => void) {
  const file = join(dir, IDENTITY_WEIGHTS_FILE);
  const { tensors } = decodeSafetensors(await Deno.readFile(file));
  edit(tensors);
  await Deno.writeFile(file, encodeSafetensors(tensors));
}

Deno.test("IdentityAdapter.load() reports missing, extra and non-float tensors by name", async () => {
  await withDir(async (dir) => {
    await randomized().save(dir);
    await rewriteWeights(dir, (t) => t.delete("layers.1.attn.v_proj.1.Artist.lora_B"));
    await assert.rejects(
      () => IdentityAdapter.load(dir),
      /hirpf_model\.safetensors: tensor "layers\.1\.attn\.v_proj\.1\.Artist\.lora_B" is missing/,
    );
  });
  await withDir(async (dir) => {
    await randomized().save(dir);
    await rewriteWeights(
      dir,
      (t) =>
        t.set("layers.0.attn.q_proj.0.Chef.lora_A", {
          dtype: "F32",
          shape: [1],
          data: new Float32Array(1),
        }),
    );
    await assert.rejects(
      () => IdentityAdapter.load(dir),
      /tensor "layers\.0\.attn\.q_proj\.0\.Chef\.lora_A" is not part of this adapter/,
    );
  });
  await withDir(async (dir) => {
    await randomized().save(dir);
    await rewriteWeights(dir, (t) => {
      const g = t.get("layers.0.attn.o_proj.0.gate.bias")!;
      t.set("layers.0.attn.o_proj.0.gate.bias", {
        dtype: "I64",
        shape: g.shape,
        data: new BigInt64Array(g.shape[0]),
      });
    });
    await assert.rejects(
      () => IdentityAdapter.load(dir),
      /"layers\.0\.attn\.o_proj\.0\.gate\.bias" has dtype I64/,
    );
  });
});

Deno.test("readIdentityCheckpoint() rejects a missing, malformed or inconsistent config with the file and field", async () => {
  await withDir(async (dir) => {
    await assert.rejects(() => readIdentityCheckpoint(dir), /hirpf_config\.json: file not found/);
    await randomized().save(dir);
    const file = join(dir, IDENTITY_CONFIG_FILE);
    await Deno.writeTextFile(file, "{ nope");
    await assert.rejects(
      () => readIdentityCheckpoint(dir),
      (e: Error) => e instanceof SyntaxError && e.message.includes(file),
    );
  });
  const json = checkpointConfigJson(resolveIdentityAdapterConfig({ r: 4 }), 2);
  const bad = (patch: Record<string, unknown>, re: RegExp) =>
    assert.throws(
      () => parseCheckpointConfig({ ...json, ...patch }, "ckpt/hirpf_config.json"),
      (e: Error) => {
        assert.equal(errorCode(e), "E_CONFIG");
        assert.match(e.message, /^ckpt\/hirpf_config\.json: /);
        assert.match(e.message, re);
        return true;
      },
    );
  bad({ format: "peft" }, /format is "peft"; expected "dramatis.hirpf"/);
  bad(
    { insert_mode: "stacked" },
    /field "insert_mode" is "stacked"; it must be one of flat, alternate, layered/,
  );
  bad({ r: 0 }, /field "r" is 0/);
  bad({ target_modules: ["up_proj"] }, /field "target_modules"/);
  bad({ adapter_names: [["Doctor"]] }, /adapter_names .* do not match insert_mode "alternate"/);
  bad({ professions: ["Chef_x"] }, /profession "Chef_x" is not a plain name/);
  assert.equal(parseCheckpointConfig(json, "x").options.insertMode, "alternate");
});
