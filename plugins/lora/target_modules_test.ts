import assert from "node:assert/strict";
import { errorCode } from "../../core/errors.ts";
import { decoderHooks } from "../../core/model/decoder_graph.ts";
import { selectTargets } from "./target_modules.ts";

// A 3-block model: q/k/v/o, gate/up/down per block, then lm_head.
const hooks = decoderHooks({
  modelType: "llama",
  vocabSize: 40,
  hiddenSize: 8,
  intermediateSize: 16,
  numLayers: 3,
  numHeads: 2,
  numKvHeads: 1,
  headDim: 4,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  ropeScaling: null,
  maxPositionEmbeddings: 64,
  tieWordEmbeddings: false,
  attentionBias: false,
  qkNorm: false,
  bosTokenId: null,
  eosTokenIds: [],
  padTokenId: null,
  raw: {},
});

Deno.test("selectTargets() picks PEFT short names in every block, in hook order", () => {
  assert.deepEqual(selectTargets(["v_proj", "q_proj"], hooks), [
    "layers.0.attn.q_proj",
    "layers.0.attn.v_proj",
    "layers.1.attn.q_proj",
    "layers.1.attn.v_proj",
    "layers.2.attn.q_proj",
    "layers.2.attn.v_proj",
  ]);
});

Deno.test("selectTargets() accepts hook names, HF module names, suffixes and globs", () => {
  assert.deepEqual(selectTargets(["layers.1.mlp.up_proj"], hooks), ["layers.1.mlp.up_proj"]);
  assert.deepEqual(selectTargets(["model.layers.2.self_attn.o_proj"], hooks), [
    "layers.2.attn.o_proj",
  ]);
  assert.deepEqual(selectTargets(["self_attn.k_proj"], hooks).length, 3);
  assert.deepEqual(selectTargets(["layers.2.mlp.*"], hooks), [
    "layers.2.mlp.gate_proj",
    "layers.2.mlp.up_proj",
    "layers.2.mlp.down_proj",
  ]);
  // `*` stays within one segment, `**` crosses dots.
  assert.throws(() => selectTargets(["layers.*"], hooks), /matches no linear layer/);
  assert.equal(selectTargets(["layers.**"], hooks).length, 21);
  assert.deepEqual(selectTargets(["lm_head"], hooks), ["lm_head"]);
});

Deno.test("selectTargets() 'all-linear' takes every block projection but not lm_head", () => {
  const all = selectTargets("all-linear", hooks);
  assert.equal(all.length, 21);
  assert.ok(!all.includes("lm_head"));
  assert.equal(selectTargets(["all-linear", "lm_head"], hooks).length, 22);
});

Deno.test("selectTargets() treats a string as a PEFT regex over whole module names", () => {
  assert.deepEqual(selectTargets(String.raw`model\.layers\.[02]\.self_attn\.(q|v)_proj`, hooks), [
    "layers.0.attn.q_proj",
    "layers.0.attn.v_proj",
    "layers.2.attn.q_proj",
    "layers.2.attn.v_proj",
  ]);
  // Full match: a bare suffix regex does not match.
  assert.throws(() => selectTargets("q_proj", hooks), /matches no module/);
  assert.throws(() => selectTargets("(", hooks), /not a valid regular expression/);
});

Deno.test("selectTargets() with layers keeps those blocks only (0-based) and drops lm_head", () => {
  assert.deepEqual(selectTargets(["q_proj", "lm_head"], hooks, { layers: [0, 2] }), [
    "layers.0.attn.q_proj",
    "layers.2.attn.q_proj",
  ]);
  assert.throws(() => selectTargets(["q_proj"], hooks, { layers: [3] }), /blocks 0\.\.2/);
});

Deno.test("selectTargets() rejects bad patterns with E_CONFIG", () => {
  for (const bad of [[], ["nope_proj"], [""], 3]) {
    assert.throws(() => selectTargets(bad as never, hooks), (e) => {
      assert.equal(errorCode(e), "E_CONFIG");
      assert.match((e as Error).message, /target_modules/);
      return true;
    });
  }
});
