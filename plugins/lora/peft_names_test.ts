import assert from "node:assert/strict";
import {
  hookToModule,
  hookToWeightName,
  moduleToHook,
  parsePeftKey,
  peftKey,
  shortName,
} from "./peft_names.ts";

Deno.test("hookToModule() and moduleToHook() map hook points to HF modules and back", () => {
  const pairs = [
    ["layers.0.attn.q_proj", "model.layers.0.self_attn.q_proj"],
    ["layers.12.attn.o_proj", "model.layers.12.self_attn.o_proj"],
    ["layers.3.mlp.gate_proj", "model.layers.3.mlp.gate_proj"],
    ["layers.3.mlp.down_proj", "model.layers.3.mlp.down_proj"],
    ["lm_head", "lm_head"],
  ];
  for (const [hook, module] of pairs) {
    assert.equal(hookToModule(hook), module);
    assert.equal(moduleToHook(module), hook);
  }
  assert.equal(hookToModule("layers.0.out"), undefined);
  assert.equal(moduleToHook("model.layers.0.self_attn.qkv_proj"), undefined);
  assert.equal(moduleToHook("model.layers.0.mlp.q_proj"), undefined);
  assert.equal(hookToWeightName("layers.1.attn.k_proj"), "model.layers.1.self_attn.k_proj.weight");
  assert.equal(shortName("layers.1.mlp.up_proj"), "up_proj");
});

Deno.test("peftKey() writes the keys save_pretrained writes", () => {
  assert.equal(
    peftKey("layers.0.attn.q_proj", "A"),
    "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight",
  );
  assert.equal(peftKey("lm_head", "B"), "base_model.model.lm_head.lora_B.weight");
  assert.throws(() => peftKey("embed", "A"), /not a linear hook/);
});

Deno.test("parsePeftKey() accepts prefixed, bare and adapter-named keys", () => {
  const want = { module: "model.layers.0.mlp.up_proj", which: "B" };
  assert.deepEqual(parsePeftKey("base_model.model.model.layers.0.mlp.up_proj.lora_B.weight"), want);
  assert.deepEqual(parsePeftKey("model.layers.0.mlp.up_proj.lora_B.weight"), want);
  assert.deepEqual(parsePeftKey("layers.0.mlp.up_proj.lora_B.weight"), want);
  assert.deepEqual(
    parsePeftKey("base_model.model.model.layers.0.mlp.up_proj.lora_B.default.weight"),
    { ...want, adapterName: "default" },
  );
  assert.deepEqual(parsePeftKey("base_model.model.lm_head.lora_A.weight"), {
    module: "lm_head",
    which: "A",
  });
  assert.equal(parsePeftKey("base_model.model.model.embed_tokens.lora_embedding_A"), undefined);
  assert.equal(parsePeftKey("base_model.model.model.layers.0.mlp.up_proj.weight"), undefined);
});
