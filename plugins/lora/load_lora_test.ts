import assert from "node:assert/strict";
import { join } from "node:path";
import { errorCode } from "../../core/errors.ts";
import {
  bf16ToF32,
  f32ToBf16,
  type RawTensor,
  writeSafetensors,
} from "../../core/model/safetensors.ts";
import { Prng } from "../../core/util/prng.ts";
import { loadLora } from "./load_lora.ts";
import {
  assertClose,
  onnxLogits,
  referenceLogits,
  type ReferenceLoraModule,
  tinyFixture,
} from "./testing/fixtures.ts";

/** adapter_config.json as PEFT 0.13 `save_pretrained` writes it (every field, PEFT's order). */
function peftConfig(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: "dramatis/tiny-llama",
    bias: "none",
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: 16,
    lora_dropout: 0.05,
    megatron_config: null,
    megatron_core: "megatron.core",
    modules_to_save: null,
    peft_type: "LORA",
    r: 4,
    rank_pattern: {},
    revision: null,
    target_modules: ["v_proj", "q_proj"],
    task_type: "CAUSAL_LM",
    use_dora: false,
    use_rslora: false,
    ...over,
  };
}

async function writePeftDir(
  dir: string,
  config: Record<string, unknown>,
  tensors: Map<string, RawTensor>,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "adapter_config.json"), JSON.stringify(config, null, 2));
  await writeSafetensors(join(dir, "adapter_model.safetensors"), tensors, { format: "pt" });
}

function normal(rng: Prng, n: number, std: number): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal() * std);
}

async function throwsCoded(
  fn: () => Promise<unknown>,
  code: string,
  ...patterns: RegExp[]
): Promise<void> {
  await assert.rejects(fn, (e) => {
    for (const p of patterns) assert.match((e as Error).message, p);
    assert.equal(errorCode(e), code);
    return true;
  });
}

Deno.test("loadLora() reads a PEFT adapter written by hand, in every key form PEFT writes", async () => {
  const f = await tinyFixture();
  const root = await Deno.makeTempDir({ prefix: "lora_peft_" });
  const rng = new Prng(77);
  const r = 4;
  // q_proj [64 → 64] and v_proj [64 → 32] (2 kv heads × 16) in both blocks.
  const outOf = { q_proj: 64, v_proj: 32 } as const;
  const tensors = new Map<string, RawTensor>();
  const expected = new Map<string, ReferenceLoraModule>();
  const forms = [
    (l: number, p: string, w: string) =>
      `base_model.model.model.layers.${l}.self_attn.${p}.${w}.weight`,
    (l: number, p: string, w: string) =>
      `base_model.model.model.layers.${l}.self_attn.${p}.${w}.default.weight`,
    (l: number, p: string, w: string) => `model.layers.${l}.self_attn.${p}.${w}.weight`,
  ];
  for (const [fi, key] of forms.entries()) {
    tensors.clear();
    expected.clear();
    for (const l of [0, 1]) {
      for (const p of ["q_proj", "v_proj"] as const) {
        const A = normal(rng, r * 64, 0.1);
        const B = normal(rng, outOf[p] * r, 0.1);
        // The third form stores bfloat16, as bf16 training runs save.
        const bf16 = fi === 2;
        tensors.set(
          key(l, p, "lora_A"),
          bf16
            ? { dtype: "BF16", shape: [r, 64], data: f32ToBf16(A) }
            : { dtype: "F32", shape: [r, 64], data: A },
        );
        tensors.set(
          key(l, p, "lora_B"),
          bf16
            ? { dtype: "BF16", shape: [outOf[p], r], data: f32ToBf16(B) }
            : { dtype: "F32", shape: [outOf[p], r], data: B },
        );
        expected.set(`layers.${l}.attn.${p}`, {
          r,
          scaling: 16 / 4,
          A: bf16 ? bf16ToF32(f32ToBf16(A)) : A,
          B: bf16 ? bf16ToF32(f32ToBf16(B)) : B,
          inFeatures: 64,
          outFeatures: outOf[p],
        });
      }
    }
    const dir = join(root, `form${fi}`);
    await writePeftDir(dir, peftConfig(), tensors);
    const lora = await loadLora(dir, f.config);
    assert.deepEqual(lora.modules().map((m) => m.hook.name), [
      "layers.0.attn.q_proj",
      "layers.0.attn.v_proj",
      "layers.1.attn.q_proj",
      "layers.1.attn.v_proj",
    ]);
    assert.equal(lora.options.dropout, 0.05);
    assert.equal(lora.options.baseModel, "dramatis/tiny-llama");
    for (const m of lora.modules()) {
      assert.equal(m.scaling, 4);
      assert.deepEqual(m.A, Float32Array.from(expected.get(m.hook.name)!.A));
      assert.deepEqual(m.B, Float32Array.from(expected.get(m.hook.name)!.B));
    }
    const ids = [[3, 14, 15, 92, 65]];
    assertClose(
      await onnxLogits(f, ids, [lora]),
      referenceLogits(f, ids, expected),
      1e-4,
      `key form ${fi}`,
    );
  }
  await Deno.remove(root, { recursive: true });
});

Deno.test("loadLora() honours rank_pattern, alpha_pattern and use_rslora", async () => {
  const f = await tinyFixture();
  const dir = await Deno.makeTempDir({ prefix: "lora_peft_" });
  const rng = new Prng(5);
  const tensors = new Map<string, RawTensor>();
  const shapes: [string, number, number, number][] = [
    ["model.layers.0.self_attn.q_proj", 64, 64, 4],
    ["model.layers.0.self_attn.v_proj", 32, 64, 2],
    ["model.layers.1.self_attn.q_proj", 64, 64, 4],
    ["model.layers.1.self_attn.v_proj", 32, 64, 2],
  ];
  for (const [m, out, inn, r] of shapes) {
    tensors.set(`base_model.model.${m}.lora_A.weight`, {
      dtype: "F32",
      shape: [r, inn],
      data: normal(rng, r * inn, 0.1),
    });
    tensors.set(`base_model.model.${m}.lora_B.weight`, {
      dtype: "F32",
      shape: [out, r],
      data: normal(rng, out * r, 0.1),
    });
  }
  await writePeftDir(
    dir,
    peftConfig({
      rank_pattern: { v_proj: 2 },
      alpha_pattern: { "model.layers.1.self_attn.q_proj": 32 },
      use_rslora: true,
    }),
    tensors,
  );
  const lora = await loadLora(dir, f.config);
  assert.deepEqual(
    lora.modules().map((m) => [m.hook.name, m.r, m.alpha, m.scaling]),
    [
      ["layers.0.attn.q_proj", 4, 16, 8],
      ["layers.0.attn.v_proj", 2, 16, 16 / Math.SQRT2],
      ["layers.1.attn.q_proj", 4, 32, 16],
      ["layers.1.attn.v_proj", 2, 16, 16 / Math.SQRT2],
    ],
  );
  // The patterns survive a save.
  await lora.save(join(dir, "resaved"));
  const c = JSON.parse(await Deno.readTextFile(join(dir, "resaved", "adapter_config.json")));
  assert.deepEqual(c.rank_pattern, {
    "model.layers.0.self_attn.v_proj": 2,
    "model.layers.1.self_attn.v_proj": 2,
  });
  assert.deepEqual(c.alpha_pattern, { "model.layers.1.self_attn.q_proj": 32 });
  const again = await loadLora(join(dir, "resaved"), f.config);
  assert.deepEqual(again.modules().map((m) => m.scaling), lora.modules().map((m) => m.scaling));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadLora() names the file, the key and the fix on a shape mismatch", async () => {
  const f = await tinyFixture();
  const dir = await Deno.makeTempDir({ prefix: "lora_peft_" });
  const key = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight";
  await writePeftDir(
    dir,
    peftConfig({ target_modules: ["v_proj"] }),
    new Map<string, RawTensor>([
      ["base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight", {
        dtype: "F32",
        shape: [4, 64],
        data: new Float32Array(256),
      }],
      // A 4096-wide model's v_proj would be [1024, 4]; this one's is [32, 4].
      [key, { dtype: "F32", shape: [64, 4], data: new Float32Array(256) }],
    ]),
  );
  await throwsCoded(
    () => loadLora(dir, f.config),
    "E_WEIGHTS",
    /adapter_model\.safetensors/,
    new RegExp(key.replaceAll(".", "\\.")),
    /has shape \[64,4\]/,
    /needs \[32,4\]/,
    /base model the adapter was trained for \(dramatis\/tiny-llama\)/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadLora() rejects modules the model lacks, half pairs and unsupported variants", async () => {
  const f = await tinyFixture();
  const root = await Deno.makeTempDir({ prefix: "lora_peft_" });
  const A = (l: number) =>
    [
      `base_model.model.model.layers.${l}.self_attn.q_proj.lora_A.weight`,
      { dtype: "F32", shape: [4, 64], data: new Float32Array(256) },
    ] as [string, RawTensor];
  const B = (l: number) =>
    [
      `base_model.model.model.layers.${l}.self_attn.q_proj.lora_B.weight`,
      { dtype: "F32", shape: [64, 4], data: new Float32Array(256) },
    ] as [string, RawTensor];
  const cases: [string, Record<string, unknown>, [string, RawTensor][], string, RegExp][] = [
    ["layer5", {}, [A(5), B(5)], "E_WEIGHTS", /layers\.5\.self_attn\.q_proj.*does not have/],
    ["halfpair", {}, [A(0)], "E_WEIGHTS", /no lora_B partner/],
    ["dora", { use_dora: true }, [A(0), B(0)], "E_CONFIG", /"use_dora" is true; DoRA/],
    ["bias", { bias: "all" }, [A(0), B(0)], "E_CONFIG", /"bias" is "all"/],
    ["adalora", { peft_type: "ADALORA" }, [A(0), B(0)], "E_CONFIG", /only "LORA"/],
    [
      "embed",
      {},
      [A(0), B(0), ["base_model.model.model.embed_tokens.lora_embedding_A", {
        dtype: "F32",
        shape: [4, 300],
        data: new Float32Array(1200),
      }]],
      "E_WEIGHTS",
      /lora_embedding_A" is not a LoRA matrix; embedding LoRA/,
    ],
  ];
  for (const [name, over, tensors, code, pattern] of cases) {
    const dir = join(root, name);
    await writePeftDir(dir, peftConfig(over), new Map(tensors));
    await throwsCoded(() => loadLora(dir, f.config), code, pattern);
  }
  await throwsCoded(
    () => loadLora(join(root, "missing"), f.config),
    "E_CONFIG",
    /adapter_config\.json not found/,
  );
  await Deno.mkdir(join(root, "bin"));
  await Deno.writeTextFile(join(root, "bin", "adapter_config.json"), JSON.stringify(peftConfig()));
  await Deno.writeFile(join(root, "bin", "adapter_model.bin"), new Uint8Array(4));
  await throwsCoded(
    () => loadLora(join(root, "bin"), f.config),
    "E_WEIGHTS",
    /safe_serialization=True/,
  );
  await Deno.writeTextFile(join(root, "bin", "adapter_config.json"), "{ nope");
  await throwsCoded(() => loadLora(join(root, "bin"), f.config), "E_CONFIG", /not valid JSON/);
  await Deno.remove(root, { recursive: true });
});
