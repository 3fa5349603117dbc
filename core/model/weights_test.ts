import assert from "node:assert/strict";
import { join } from "node:path";
import { parseDecoderConfig } from "./config.ts";
import { expectedWeightShapes, loadWeights } from "./weights.ts";
import { f32ToBf16, f32ToF16, type RawTensor, writeSafetensors } from "./safetensors.ts";
import { errorCode } from "../errors.ts";

const BASE = {
  model_type: "qwen2",
  vocab_size: 10,
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 1,
  num_attention_heads: 2,
  num_key_value_heads: 1,
};

function fill(n: number, start: number): number[] {
  return Array.from({ length: n }, (_, i) => (start + i) / 16);
}

/** Writes every expected tensor with a value pattern, the first ones as F16 / BF16. */
async function writeAll(dir: string, shapes: Map<string, number[]>, skip?: string) {
  const tensors = new Map<string, RawTensor>();
  let k = 0;
  for (const [name, shape] of shapes) {
    if (name === skip) continue;
    const n = shape.reduce((a, b) => a * b, 1);
    const values = fill(n, k++);
    const dtype = k === 1 ? "F16" : k === 2 ? "BF16" : "F32";
    tensors.set(name, {
      dtype,
      shape,
      data: dtype === "F16"
        ? f32ToF16(values)
        : dtype === "BF16"
        ? f32ToBf16(values)
        : new Float32Array(values),
    });
  }
  await writeSafetensors(join(dir, "model.safetensors"), tensors);
}

Deno.test("expectedWeightShapes() lists biases for qwen2 and q/k norms for qwen3", () => {
  const q2 = expectedWeightShapes(parseDecoderConfig(BASE, "c"));
  assert.deepEqual(q2.get("model.layers.0.self_attn.q_proj.weight"), [8, 8]);
  assert.deepEqual(q2.get("model.layers.0.self_attn.k_proj.weight"), [4, 8]);
  assert.deepEqual(q2.get("model.layers.0.self_attn.v_proj.bias"), [4]);
  assert.deepEqual(q2.get("model.layers.0.mlp.down_proj.weight"), [8, 12]);
  assert.deepEqual(q2.get("lm_head.weight"), [10, 8]);
  assert.equal(q2.size, 1 + 12 + 2, "embed + 12 per layer + norm + lm_head");

  const q3 = expectedWeightShapes(
    parseDecoderConfig(
      { ...BASE, model_type: "qwen3", head_dim: 6, tie_word_embeddings: true },
      "c",
    ),
  );
  assert.deepEqual(q3.get("model.layers.0.self_attn.q_proj.weight"), [12, 8]);
  assert.deepEqual(q3.get("model.layers.0.self_attn.o_proj.weight"), [8, 12]);
  assert.deepEqual(q3.get("model.layers.0.self_attn.k_norm.weight"), [6]);
  assert.equal(q3.has("model.layers.0.self_attn.q_proj.bias"), false);
  assert.equal(q3.has("lm_head.weight"), false);
});

Deno.test("loadWeights() converts F16/BF16 to f32 and returns every expected tensor", async () => {
  const dir = await Deno.makeTempDir();
  const cfg = parseDecoderConfig(BASE, "c");
  const shapes = expectedWeightShapes(cfg);
  await writeAll(dir, shapes);
  const seen: string[] = [];
  const w = await loadWeights(dir, cfg, { onTensor: (n) => seen.push(n) });
  assert.equal(w.size, shapes.size);
  assert.deepEqual(seen, [...shapes.keys()]);
  // Multiples of 1/16 below 8 are exact in f16 and bf16 alike.
  assert.deepEqual(Array.from(w.get("model.embed_tokens.weight")!.data.slice(0, 3)), [
    0,
    1 / 16,
    2 / 16,
  ]);
  const ln = w.get("model.layers.0.input_layernorm.weight")!;
  assert.deepEqual(ln.shape, [8]);
  assert.deepEqual(Array.from(ln.data.slice(0, 2)), [1 / 16, 2 / 16]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadWeights() names file, tensor, expected and found shape on mismatch", async () => {
  const dir = await Deno.makeTempDir();
  const cfg = parseDecoderConfig(BASE, "c");
  const shapes = new Map(expectedWeightShapes(cfg));
  shapes.set("model.layers.0.self_attn.k_proj.weight", [8, 8]);
  await writeAll(dir, shapes);
  await assert.rejects(() => loadWeights(dir, cfg), (e: Error) => {
    assert.equal(errorCode(e), "E_WEIGHTS");
    for (const part of ["model.safetensors", "k_proj.weight", "[8, 8]", "[4, 8]", "disagree"]) {
      assert.ok(e.message.includes(part), `${e.message} lacks ${part}`);
    }
    return true;
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("loadWeights() explains a missing lm_head of an untied model", async () => {
  const dir = await Deno.makeTempDir();
  const cfg = parseDecoderConfig(BASE, "c");
  await writeAll(dir, expectedWeightShapes(cfg), "lm_head.weight");
  await assert.rejects(
    () => loadWeights(dir, cfg),
    /lm_head\.weight" is missing.*tie_word_embeddings/,
  );
  await Deno.remove(dir, { recursive: true });
});
