import assert from "node:assert/strict";
import { type DecoderConfig, parseDecoderConfig } from "../config.ts";
import { expectedWeightShapes } from "../weights.ts";
import { Prng } from "../../util/prng.ts";
import {
  applyRope,
  defaultPositionIds,
  referenceForward,
  type ReferenceWeights,
  rmsNorm,
  ropeInvFreq,
  type TokenRows,
} from "./reference.ts";

function micro(over: Record<string, unknown> = {}): DecoderConfig {
  return parseDecoderConfig({
    model_type: "llama",
    vocab_size: 11,
    hidden_size: 8,
    intermediate_size: 12,
    num_hidden_layers: 2,
    num_attention_heads: 2,
    num_key_value_heads: 1,
    rms_norm_eps: 1e-6,
    rope_theta: 10000,
    ...over,
  }, "micro");
}

function randomWeights(config: DecoderConfig, seed: number, std = 0.5): ReferenceWeights {
  const r = new Prng(seed);
  const w: ReferenceWeights = new Map();
  for (const [name, shape] of expectedWeightShapes(config)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const isNorm = name.endsWith("norm.weight");
    w.set(name, {
      shape,
      data: Float64Array.from(
        { length: n },
        () => isNorm ? 1 + 0.1 * r.normal() : std * r.normal(),
      ),
    });
  }
  return w;
}

/**
 * Seeded weights (as `type`) whose blocks add nothing (o_proj and down_proj zeroed), so the logits
 * are norm(embedding) · lm_head; with the tables those depend on.
 */
function blockless(
  cfg: DecoderConfig,
  type: Float32ArrayConstructor | Float64ArrayConstructor,
) {
  const w = randomWeights(cfg, 1);
  for (const [name, t] of w) {
    const zero = name.endsWith("o_proj.weight") || name.endsWith("down_proj.weight");
    t.data = zero ? new type(t.data.length) : type.from(t.data);
  }
  const data = (name: string) => w.get(name)!.data;
  return {
    w,
    emb: data("model.embed_tokens.weight"),
    head: data("lm_head.weight"),
    norm: data("model.norm.weight"),
  };
}

function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-10) {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `[${i}] ${a[i]} vs ${b[i]}`);
  }
}

Deno.test("rmsNorm() matches a hand computation", () => {
  const r = Math.sqrt((9 + 16) / 2);
  close(rmsNorm([3, 4], [1, 2], 0), [3 / r, 8 / r]);
  close(rmsNorm([0, 0], [1, 1], 1e-6), [0, 0]);
});

Deno.test("applyRope() rotates dimension pairs (i, i+d/2) by pos·freq", () => {
  const v = new Float64Array([1, 2, 0, 0]);
  applyRope(v, 0, 4, [1, 0.5], 3);
  close(v, [Math.cos(3), 2 * Math.cos(1.5), Math.sin(3), 2 * Math.sin(1.5)]);
  // Rotation keeps length; position 0 is the identity.
  const w = new Float64Array([0.3, -0.7, 1.1, 0.2]);
  applyRope(w, 0, 4, [1, 0.5], 0);
  close(w, [0.3, -0.7, 1.1, 0.2]);
});

Deno.test("ropeInvFreq() applies llama3 scaling band by band", () => {
  const base = ropeInvFreq({ headDim: 8, ropeTheta: 10000, ropeScaling: null });
  close(base, [1, 0.1, 0.01, 0.001]);
  const scaled = ropeInvFreq({
    headDim: 8,
    ropeTheta: 10000,
    ropeScaling: {
      type: "llama3",
      factor: 8,
      lowFreqFactor: 1,
      highFreqFactor: 20,
      originalMaxPositionEmbeddings: 1000,
    },
  });
  // Wavelengths 2π/f: 6.28 (< 1000/20 = 50: kept), 62.8 and 628 (between 50 and 1000: blended),
  // 6283 (> 1000: divided by the factor).
  const blend = (freq: number) => {
    const s = (1000 * freq / (2 * Math.PI) - 1) / 19;
    return (1 - s) * freq / 8 + s * freq;
  };
  close(scaled, [1, blend(0.1), blend(0.01), 0.001 / 8]);
  const linear = ropeInvFreq({
    headDim: 4,
    ropeTheta: 100,
    ropeScaling: { type: "linear", factor: 4 },
  });
  close(linear, [0.25, 0.025]);
});

Deno.test("defaultPositionIds() counts only unmasked tokens", () => {
  assert.deepEqual(defaultPositionIds([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]]), [
    [1, 1, 0, 1, 2],
    [0, 1, 2, 3, 4],
  ]);
});

Deno.test("referenceForward() with zeroed block outputs reduces to norm(embedding)·lm_head", () => {
  const cfg = micro();
  const { w, emb, head, norm } = blockless(cfg, Float64Array);
  const out = referenceForward(cfg, w, { inputIds: [[3, 7]] });
  for (let s = 0; s < 2; s++) {
    const tok = [3, 7][s];
    const e = Array.from({ length: 8 }, (_, i) => emb[tok * 8 + i]);
    close(out.hiddenStates[0][0][s], e);
    close(out.hiddenStates[1][0][s], e);
    const x = rmsNorm(e, norm, 1e-6);
    close(out.hiddenStates[2][0][s], x);
    const want = Array.from({ length: 11 }, (_, v) => {
      let acc = 0;
      for (let i = 0; i < 8; i++) acc += head[v * 8 + i] * x[i];
      return acc;
    });
    close(out.logits[0][s], want);
  }
});

Deno.test("referenceForward() at one position passes v_proj straight into o_proj (GQA)", () => {
  const cfg = micro({ num_hidden_layers: 1 });
  const seen = new Map<string, TokenRows>();
  referenceForward(cfg, randomWeights(cfg, 2), {
    inputIds: [[5]],
    linearHook: (name, x, y) => {
      seen.set(name + ":x", x);
      seen.set(name + ":y", y);
    },
  });
  const v = seen.get("layers.0.attn.v_proj:y")![0][0];
  const oIn = seen.get("layers.0.attn.o_proj:x")![0][0];
  // Softmax over a single key is 1; both query heads share the one kv head.
  close(oIn, [...v, ...v]);
});

Deno.test("referenceForward() is causal: a later token does not change earlier logits", () => {
  const cfg = micro();
  const w = randomWeights(cfg, 3);
  const a = referenceForward(cfg, w, { inputIds: [[1, 2, 3, 4]] });
  const b = referenceForward(cfg, w, { inputIds: [[1, 2, 3, 9]] });
  for (let s = 0; s < 3; s++) close(a.logits[0][s], b.logits[0][s]);
  assert.ok(Math.abs(a.logits[0][3][0] - b.logits[0][3][0]) > 1e-6);
});

Deno.test("referenceForward() gives left-padded rows the same logits as unpadded ones", () => {
  for (const type of ["llama", "qwen2", "qwen3"]) {
    const cfg = micro({ model_type: type, head_dim: type === "qwen3" ? 6 : undefined });
    const w = randomWeights(cfg, 4);
    const single = referenceForward(cfg, w, { inputIds: [[4, 8, 2]] });
    const batch = referenceForward(cfg, w, {
      inputIds: [[0, 0, 4, 8, 2], [1, 2, 3, 4, 5]],
      attentionMask: [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]],
    });
    for (let s = 0; s < 3; s++) {
      close(batch.logits[0][s + 2], single.logits[0][s], 1e-9);
      close(batch.hiddenStates[1][0][s + 2], single.hiddenStates[1][0][s], 1e-9);
    }
    const alone = referenceForward(cfg, w, { inputIds: [[1, 2, 3, 4, 5]] });
    close(batch.logits[1][4], alone.logits[0][4], 1e-9);
  }
});

Deno.test("referenceForward() with GQA equals full attention with duplicated kv heads", () => {
  const gqa = micro({ num_attention_heads: 4, num_key_value_heads: 2, hidden_size: 8 });
  const mha = micro({ num_attention_heads: 4, num_key_value_heads: 4, hidden_size: 8 });
  const w = randomWeights(gqa, 5);
  const wm: ReferenceWeights = new Map(w);
  const hd = 2;
  for (let l = 0; l < 2; l++) {
    for (const kv of ["k", "v"]) {
      const name = `model.layers.${l}.self_attn.${kv}_proj.weight`;
      const src = w.get(name)!.data;
      const dup = new Float64Array(4 * hd * 8);
      // Query head a uses kv head floor(a / 2): rows of kv head g are copied to heads 2g, 2g+1.
      for (let a = 0; a < 4; a++) {
        const g = Math.floor(a / 2);
        for (let r = 0; r < hd * 8; r++) dup[a * hd * 8 + r] = src[g * hd * 8 + r];
      }
      wm.set(name, { shape: [4 * hd, 8], data: dup });
    }
  }
  const ids = { inputIds: [[1, 5, 9, 2]] };
  const a = referenceForward(gqa, w, ids);
  const b = referenceForward(mha, wm, ids);
  for (let s = 0; s < 4; s++) close(a.logits[0][s], b.logits[0][s], 1e-9);
});

Deno.test("referenceForward() with tied embeddings uses the embedding as lm_head", () => {
  const tied = micro({ tie_word_embeddings: true });
  const untied = micro();
  const w = randomWeights(tied, 6);
  const wu: ReferenceWeights = new Map(w);
  wu.set("lm_head.weight", w.get("model.embed_tokens.weight")!);
  const a = referenceForward(tied, w, { inputIds: [[2, 3]] });
  const b = referenceForward(untied, wu, { inputIds: [[2, 3]] });
  close(a.logits[0][1], b.logits[0][1]);
});

Deno.test("referenceForward() applies q/k norm (scale-invariant q_proj) and qkv biases", () => {
  const q3 = micro({ model_type: "qwen3", head_dim: 4, rms_norm_eps: 1e-14 });
  const w = randomWeights(q3, 7);
  const scaled: ReferenceWeights = new Map(w);
  const qn = "model.layers.0.self_attn.q_proj.weight";
  scaled.set(qn, { shape: w.get(qn)!.shape, data: Array.from(w.get(qn)!.data, (x) => 10 * x) });
  const a = referenceForward(q3, w, { inputIds: [[1, 2, 3]] });
  const b = referenceForward(q3, scaled, { inputIds: [[1, 2, 3]] });
  close(a.logits[0][2], b.logits[0][2], 1e-8);

  // qwen2 with zero q/k/v weights: attention output is the v bias for every head.
  const q2 = micro({ model_type: "qwen2", num_hidden_layers: 1 });
  const w2 = randomWeights(q2, 8);
  for (const kv of ["q", "k", "v"]) {
    const t = w2.get(`model.layers.0.self_attn.${kv}_proj.weight`)!;
    t.data = new Float64Array(t.data.length);
  }
  const vb = w2.get("model.layers.0.self_attn.v_proj.bias")!.data;
  let oIn: TokenRows = [];
  referenceForward(q2, w2, {
    inputIds: [[4, 5, 6]],
    linearHook: (name, x) => {
      if (name === "layers.0.attn.o_proj") oIn = x;
    },
  });
  for (let s = 0; s < 3; s++) close(oIn[0][s], [...Array.from(vb), ...Array.from(vb)], 1e-12);
});

Deno.test("referenceForward() edits add c·v after a block and propagate", () => {
  const cfg = micro();
  const w = randomWeights(cfg, 9);
  const vec = Array.from({ length: 8 }, (_, i) => (i - 3) / 4);
  const plain = referenceForward(cfg, w, { inputIds: [[1, 2, 3]] });
  const edited = referenceForward(cfg, w, {
    inputIds: [[1, 2, 3]],
    edits: [{ block: 0, vector: vec, positions: (_b, s) => (s === 2 ? 2 : 0) }],
  });
  close(edited.hiddenStates[0][0][2], plain.hiddenStates[0][0][2]);
  close(edited.hiddenStates[1][0][1], plain.hiddenStates[1][0][1]);
  close(edited.hiddenStates[1][0][2], plain.hiddenStates[1][0][2].map((x, i) => x + 2 * vec[i]));
  assert.ok(Math.abs(edited.logits[0][2][0] - plain.logits[0][2][0]) > 1e-9);
  // The last hidden state is the final norm of the residual after the block's edit.
  let residual = new Float64Array(0);
  const last = referenceForward(cfg, w, {
    inputIds: [[1, 2, 3]],
    edits: (block, h) => {
      if (block !== 1) return;
      for (const row of h[0]) row[0] += 1;
      residual = h[0][2].slice();
    },
  });
  close(last.hiddenStates[2][0][2], rmsNorm(residual, w.get("model.norm.weight")!.data, 1e-6));
  // A callback that returns a replacement acts like one that mutates in place.
  const replaced = referenceForward(cfg, w, {
    inputIds: [[1, 2, 3]],
    edits: (block, h) =>
      block === 1 ? h.map((r) => r.map((v) => v.map((x, i) => (i === 0 ? x + 1 : x)))) : undefined,
  });
  close(replaced.logits[0][2], last.logits[0][2]);
});

Deno.test("referenceForward() ablate edits remove the direction from the residual", () => {
  const cfg = micro();
  const w = randomWeights(cfg, 10);
  const u = [1, 0, 0, 0, 0, 0, 0, 0];
  const out = referenceForward(cfg, w, {
    inputIds: [[1, 2]],
    edits: [{ block: 0, vector: u.map((x) => 3 * x), type: "ablate" }],
  });
  assert.ok(Math.abs(out.hiddenStates[1][0][0][0]) < 1e-12);
  assert.ok(Math.abs(out.hiddenStates[1][0][1][0]) < 1e-12);
});

Deno.test("referenceForward() linearHook sees every linear and can replace outputs", () => {
  const cfg = micro({ num_hidden_layers: 1 });
  const w = randomWeights(cfg, 11);
  const names: string[] = [];
  const ids = { inputIds: [[1, 2, 3]] };
  const base = referenceForward(cfg, w, { ...ids, linearHook: (n) => void names.push(n) });
  assert.deepEqual(names, [
    "layers.0.attn.q_proj",
    "layers.0.attn.k_proj",
    "layers.0.attn.v_proj",
    "layers.0.attn.o_proj",
    "layers.0.mlp.gate_proj",
    "layers.0.mlp.up_proj",
    "layers.0.mlp.down_proj",
    "lm_head",
  ]);
  const zeroO: ReferenceWeights = new Map(w);
  const o = "model.layers.0.self_attn.o_proj.weight";
  zeroO.set(o, { shape: w.get(o)!.shape, data: new Float64Array(w.get(o)!.data.length) });
  const viaWeights = referenceForward(cfg, zeroO, ids);
  const viaHook = referenceForward(cfg, w, {
    ...ids,
    linearHook: (n, _x, y) =>
      n === "layers.0.attn.o_proj" ? y.map((r) => r.map((v) => v.map(() => 0))) : undefined,
  });
  close(viaHook.logits[0][2], viaWeights.logits[0][2]);
  assert.ok(Math.abs(base.logits[0][2][0] - viaHook.logits[0][2][0]) > 1e-9);
});

Deno.test("referenceForward({ float32: true }) evaluates as a float32 loop: rounded stores, float32 sums term by term", () => {
  const f = Math.fround;
  // rmsNorm by hand: ss = 25, mean 12.5, inv = fround(1 / fround(√12.5)).
  const inv = f(1 / f(Math.sqrt(12.5)));
  assert.deepEqual(Array.from(rmsNorm([3, 4], [1, 1], 0, f)), [f(3 * inv), f(4 * inv)]);
  // With zeroed block outputs the logits are norm(embedding) · lm_head, summed in float32.
  const cfg = micro();
  const { w, emb, head, norm } = blockless(cfg, Float32Array);
  const out = referenceForward(cfg, w, { inputIds: [[3, 7]], float32: true });
  const exact = referenceForward(cfg, w, { inputIds: [[3, 7]] });
  for (let s = 0; s < 2; s++) {
    const tok = [3, 7][s];
    const e = Array.from({ length: 8 }, (_, i) => emb[tok * 8 + i]);
    let ss = 0;
    for (const v of e) ss = f(ss + f(v * v));
    const k = f(1 / f(Math.sqrt(f(f(ss / 8) + 1e-6))));
    const x = e.map((v, i) => f(f(v * k) * norm[i]));
    const want = Array.from({ length: 11 }, (_, v) => {
      let acc = 0;
      for (let i = 0; i < 8; i++) acc = f(acc + f(head[v * 8 + i] * x[i]));
      return acc;
    });
    assert.deepEqual(Array.from(out.logits[0][s]), want);
    // Close to the float64 forward, but not the same numbers.
    close(out.logits[0][s], exact.logits[0][s], 1e-5);
    assert.notDeepEqual(Array.from(out.logits[0][s]), Array.from(exact.logits[0][s]));
  }
  // A full forward pass stores only float32 values.
  const full = referenceForward(cfg, randomWeights(cfg, 2), {
    inputIds: [[1, 2, 3]],
    float32: true,
  });
  for (const rows of [full.logits, ...full.hiddenStates]) {
    for (const v of rows.flat()) assert.ok(v.every((x) => f(x) === x));
  }
});
