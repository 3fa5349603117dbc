import assert from "node:assert/strict";
import { errorCode } from "../../core/errors.ts";
import {
  LoraConfigSchema,
  loraOptionsFromConfig,
  loraScaling,
  resolveLoraOptions,
} from "./options.ts";

Deno.test("resolveLoraOptions() applies PEFT's defaults", () => {
  assert.deepEqual(resolveLoraOptions(), {
    r: 8,
    alpha: 8,
    dropout: 0,
    useRslora: false,
    targetModules: ["q_proj", "v_proj"],
    layers: undefined,
    seed: 0,
    name: "lora",
    baseModel: "",
  });
});

Deno.test("resolveLoraOptions() names the field, the value and the fix", () => {
  assert.throws(() => resolveLoraOptions({ r: 2.5 }), (e) => {
    assert.equal((e as Error).message, "LoRA option r is 2.5; use a whole number >= 1");
    assert.equal(errorCode(e), "E_CONFIG");
    return true;
  });
  assert.throws(() => resolveLoraOptions({ layers: [-1] }), /option layers is \[-1\]/);
  assert.throws(() => resolveLoraOptions({ useRslora: "yes" as never }), /useRslora/);
});

Deno.test("loraScaling() is alpha/r, or alpha/√r with rsLoRA (spec B7: 64, 32 → 11.31)", () => {
  assert.equal(loraScaling(16, 8, false), 2);
  assert.equal(loraScaling(64, 32, false), 2);
  assert.equal(loraScaling(64, 32, true).toFixed(2), "11.31");
  assert.equal(loraScaling(8, 4, true), 4);
});

Deno.test("LoraConfigSchema reads PEFT-named fields into adapter options", () => {
  const o = loraOptionsFromConfig(LoraConfigSchema.parse({
    r: 32,
    lora_alpha: 64,
    use_rslora: true,
    target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
  }));
  assert.equal(o.r, 32);
  assert.equal(o.alpha, 64);
  assert.equal(o.useRslora, true);
  assert.equal(o.dropout, 0);
  assert.equal(o.layers, undefined);
  assert.ok(!LoraConfigSchema.safeParse({ lora_dropout: 1 }).success);
});
