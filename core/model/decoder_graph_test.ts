import assert from "node:assert/strict";
import * as ort from "onnxruntime-node";
import type { Adapter, AdapterGraphOps, LinearHook } from "../contracts/adapter.ts";
import { errorCode } from "../errors.ts";
import { inferShapes } from "../onnx/shape.ts";
import { serializeModel } from "../onnx/serialize.ts";
import { Prng } from "../util/prng.ts";
import type { DecoderConfig } from "./config.ts";
import {
  buildDecoderGraph,
  type DecoderGraphOptions,
  type DecoderWeightMap,
} from "./decoder_graph.ts";
import { ropeInverseFrequencies } from "./graph_rope.ts";
import { expectedWeightShapes } from "./weights.ts";
import { referenceForward } from "./testing/reference.ts";

// ---------------------------------------------------------------------------------------------
// Oracle: the plain float64 reference forward of core/model/testing/reference.ts (naive loops,
// no ONNX), wrapped to plain arrays.
// ---------------------------------------------------------------------------------------------

type Mat = number[][];
interface Edit {
  block: number;
  kind: "add" | "ablate";
  vector: number[];
  /** coefficient per [batch][position] (0 = untouched). */
  coef: number[][];
}

function reference(
  c: DecoderConfig,
  W: DecoderWeightMap,
  ids: number[][],
  mask: number[][],
  pos: number[][],
  edits: Edit[] = [],
): { logits: Mat[]; hidden: Mat[][] } {
  // The graph ablates before it adds within a block; list the edits in that order.
  const ordered = [...edits].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "ablate" ? -1 : 1));
  const out = referenceForward(c, W, {
    inputIds: ids,
    attentionMask: mask,
    positionIds: pos,
    edits: ordered.map((e) => ({
      block: e.block,
      vector: e.vector,
      type: e.kind,
      positions: (b, s) => e.coef[b][s],
    })),
  });
  const plain = (rows: Float64Array[][]) => rows.map((r) => r.map((v) => Array.from(v)));
  return { logits: plain(out.logits), hidden: out.hiddenStates.map(plain) };
}

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

function toyConfig(over: Partial<DecoderConfig> = {}): DecoderConfig {
  return {
    modelType: "llama",
    vocabSize: 37,
    hiddenSize: 16,
    intermediateSize: 24,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 4,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    ropeScaling: null,
    maxPositionEmbeddings: 256,
    tieWordEmbeddings: true,
    attentionBias: false,
    qkNorm: false,
    bosTokenId: 1,
    eosTokenIds: [2],
    padTokenId: 0,
    raw: {},
    ...over,
  };
}

function randomWeights(c: DecoderConfig, seed: number): DecoderWeightMap {
  const r = new Prng(seed);
  const out: DecoderWeightMap = new Map();
  for (const [name, shape] of expectedWeightShapes(c)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const isNorm = name.endsWith("norm.weight");
    const scale = name.includes("embed") ? 1 : 0.3;
    out.set(name, {
      shape,
      data: Float32Array.from(
        { length: n },
        () => (isNorm ? 1 + 0.2 * r.normal() : scale * r.normal()),
      ),
    });
  }
  return out;
}

async function session(c: DecoderConfig, w: DecoderWeightMap, options: DecoderGraphOptions = {}) {
  const built = buildDecoderGraph(c, w, options);
  const { model } = serializeModel(built.model);
  return { built, session: await ort.InferenceSession.create(model) };
}

const i64 = (rows: number[][]) =>
  new ort.Tensor("int64", BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0].length]);

interface Feed {
  ids: number[][];
  mask: number[][];
  pos?: number[][];
  past?: Record<string, ort.Tensor>;
  keep?: number;
  extra?: Record<string, ort.Tensor>;
}

function positionsFromMask(mask: number[][], seq: number): number[][] {
  return mask.map((row) => {
    let c = 0;
    const p = row.map((m) => (c += m, m ? c - 1 : 1));
    return p.slice(row.length - seq);
  });
}

async function run(
  s: ort.InferenceSession,
  c: DecoderConfig,
  f: Feed,
  opts: { cache?: boolean; steering?: boolean } = {},
) {
  const B = f.ids.length;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: i64(f.ids),
    attention_mask: i64(f.mask),
    position_ids: i64(f.pos ?? positionsFromMask(f.mask, f.ids[0].length)),
  };
  if (s.inputNames.includes("num_logits_to_keep")) {
    feeds.num_logits_to_keep = new ort.Tensor(
      "int64",
      BigInt64Array.from([BigInt(f.keep ?? 0)]),
      [],
    );
  }
  if (opts.cache ?? true) {
    for (let i = 0; i < c.numLayers; i++) {
      for (const kind of ["key", "value"]) {
        const name = `past_key_values.${i}.${kind}`;
        feeds[name] = f.past?.[`present.${i}.${kind}`] ??
          new ort.Tensor("float32", new Float32Array(0), [B, c.numKvHeads, 0, c.headDim]);
      }
    }
  }
  if (opts.steering) {
    const S = f.ids[0].length;
    for (let i = 0; i < c.numLayers; i++) {
      for (
        const [k, n] of [["steer", "vectors"], ["steer", "scales"], ["ablate", "directions"], [
          "ablate",
          "mask",
        ]]
      ) {
        const name = `${k}.${i}.${n}`;
        feeds[name] = f.extra?.[name] ??
          new ort.Tensor(
            "float32",
            new Float32Array(0),
            n === "vectors" || n === "directions" ? [0, c.hiddenSize] : [B, S, 0],
          );
      }
    }
  }
  return await s.run(feeds);
}

function rows3(t: ort.Tensor): number[][][] {
  const [B, S, V] = t.dims as number[];
  const d = t.data as Float32Array;
  return Array.from(
    { length: B },
    (_, b) =>
      Array.from(
        { length: S },
        (_, s) => Array.from(d.subarray((b * S + s) * V, (b * S + s + 1) * V)),
      ),
  );
}

function assertRel(got: number[], want: number[], tol: number, what: string): void {
  const scale = Math.max(1e-12, ...want.map(Math.abs));
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < got.length; i++) {
    assert.ok(
      Math.abs(got[i] - want[i]) <= tol * scale,
      `${what}[${i}]: ${got[i]} vs ${want[i]} (scale ${scale})`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

async function checkAgainstReference(
  c: DecoderConfig,
  seed: number,
  ids: number[][],
  mask: number[][],
) {
  const w = randomWeights(c, seed);
  const { session: s } = await session(c, w);
  const out = await run(s, c, { ids, mask });
  const pos = positionsFromMask(mask, ids[0].length);
  const ref = reference(c, w, ids, mask, pos);
  const logits = rows3(out.logits);
  for (let b = 0; b < ids.length; b++) {
    for (let t = 0; t < ids[0].length; t++) {
      if (!mask[b][t]) continue;
      assertRel(logits[b][t], ref.logits[b][t], 1e-4, `logits[${b}][${t}]`);
      for (let j = 0; j <= c.numLayers; j++) {
        assertRel(
          rows3(out[`hidden_states.${j}`])[b][t],
          ref.hidden[j][b][t],
          1e-4,
          `hidden_states.${j}[${b}][${t}]`,
        );
      }
    }
  }
  await s.release();
}

Deno.test("buildDecoderGraph() llama with GQA and tied embeddings matches the float64 reference", async () => {
  await checkAgainstReference(toyConfig(), 1, [[3, 5, 7, 11, 13, 17], [2, 4, 6, 8, 10, 12]], [[
    1,
    1,
    1,
    1,
    1,
    1,
  ], [1, 1, 1, 1, 1, 1]]);
});

Deno.test("buildDecoderGraph() qwen2 q/k/v bias with an untied lm_head matches the reference", async () => {
  const c = toyConfig({
    modelType: "qwen2",
    attentionBias: true,
    tieWordEmbeddings: false,
    numKvHeads: 1,
    ropeTheta: 1e6,
  });
  await checkAgainstReference(c, 2, [[9, 8, 7, 6, 5]], [[1, 1, 1, 1, 1]]);
});

Deno.test("buildDecoderGraph() qwen3 per-head q/k RMSNorm with head_dim != hidden/heads matches the reference", async () => {
  const c = toyConfig({
    modelType: "qwen3",
    qkNorm: true,
    headDim: 8,
    numHeads: 4,
    numKvHeads: 2,
    tieWordEmbeddings: false,
  });
  await checkAgainstReference(c, 3, [[1, 2, 3, 4, 30, 31, 32]], [[1, 1, 1, 1, 1, 1, 1]]);
});

Deno.test("buildDecoderGraph() llama3 rope scaling covers all three frequency bands and matches the reference", async () => {
  const ropeScaling = {
    type: "llama3" as const,
    factor: 8,
    lowFreqFactor: 1,
    highFreqFactor: 4,
    originalMaxPositionEmbeddings: 64,
  };
  const c = toyConfig({ headDim: 16, numHeads: 2, numKvHeads: 1, ropeTheta: 500000, ropeScaling });
  const inv = ropeInverseFrequencies(c);
  // Unscaled wavelengths decide the band of each frequency.
  const wl = Array.from(inv, (_, i) => 2 * Math.PI / (c.ropeTheta ** (-(2 * i) / 16)));
  assert.ok(
    wl.some((w) => w < 16) && wl.some((w) => w > 64) && wl.some((w) => w >= 16 && w <= 64),
    `bands: ${wl}`,
  );
  // Hand check of one band each: kept, divided by factor, blended.
  const base = (i: number) => c.ropeTheta ** (-(2 * i) / 16);
  assert.equal(inv[0], base(0));
  assert.equal(inv[7], base(7) / 8);
  // Positions far from 0 make the scaled frequencies matter.
  const ids = [[4, 5, 6, 7]];
  const w = randomWeights(c, 4);
  const { session: s } = await session(c, w);
  const pos = [[100, 137, 250, 251]];
  const out = await run(s, c, { ids, mask: [[1, 1, 1, 1]], pos });
  const ref = reference(c, w, ids, [[1, 1, 1, 1]], pos);
  rows3(out.logits)[0].forEach((row, t) => assertRel(row, ref.logits[0][t], 1e-4, `logits[${t}]`));
  await s.release();
});

Deno.test("buildDecoderGraph() KV-cache decoding equals full recompute (mistral, batch of 2, left padded)", async () => {
  const c = toyConfig({ modelType: "mistral", tieWordEmbeddings: false });
  const w = randomWeights(c, 5);
  const { session: s } = await session(c, w);
  const full = [[0, 0, 3, 4, 5, 6, 7, 8, 9], [10, 11, 12, 13, 14, 15, 16, 17, 18]];
  const fullMask = [[0, 0, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1]];
  const whole = rows3((await run(s, c, { ids: full, mask: fullMask })).logits);
  const prefill = 6;
  let out = await run(s, c, {
    ids: full.map((r) => r.slice(0, prefill)),
    mask: fullMask.map((r) => r.slice(0, prefill)),
  });
  for (let b = 0; b < 2; b++) {
    assertRel(rows3(out.logits)[b][prefill - 1], whole[b][prefill - 1], 1e-5, `prefill row ${b}`);
  }
  for (let t = prefill; t < full[0].length; t++) {
    const past = Object.fromEntries(Object.entries(out).filter(([k]) => k.startsWith("present.")));
    out = await run(s, c, {
      ids: full.map((r) => [r[t]]),
      mask: fullMask.map((r) => r.slice(0, t + 1)),
      past,
      keep: 1,
    });
    assert.deepEqual(out["present.0.key"].dims, [2, 2, t + 1, 4]);
    for (let b = 0; b < 2; b++) {
      assertRel(rows3(out.logits)[b][0], whole[b][t], 1e-5, `step ${t} row ${b}`);
    }
  }
  await s.release();
});

Deno.test("buildDecoderGraph() a left-padded batch equals each row run alone", async () => {
  const c = toyConfig();
  const w = randomWeights(c, 6);
  const { session: s } = await session(c, w);
  const a = [5, 6, 7, 8, 9];
  const bRow = [20, 21];
  const batch = await run(s, c, {
    ids: [a, [0, 0, 0, ...bRow]],
    mask: [[1, 1, 1, 1, 1], [0, 0, 0, 1, 1]],
  });
  const alone = await run(s, c, { ids: [bRow], mask: [[1, 1]] });
  const got = rows3(batch.logits);
  for (const v of got.flat(2)) assert.ok(Number.isFinite(v), "padding rows must not produce NaN");
  rows3(alone.logits)[0].forEach((row, t) =>
    assertRel(got[1][3 + t], row, 1e-5, `row 1 position ${t}`)
  );
  await s.release();
});

Deno.test("buildDecoderGraph() steering adds scales·vectors to hidden_states.{i+1} at steered positions only", async () => {
  const c = toyConfig();
  const w = randomWeights(c, 7);
  const { session: s } = await session(c, w, { steering: true });
  const ids = [[3, 4, 5, 6], [7, 8, 9, 10]];
  const mask = [[1, 1, 1, 1], [1, 1, 1, 1]];
  const base = await run(s, c, { ids, mask }, { steering: true });
  const r = new Prng(8);
  const vecs = Float32Array.from({ length: 2 * c.hiddenSize }, () => r.normal());
  // Two vectors, coefficients only at positions 1 and 3 of row 0 and position 2 of row 1.
  const scales = new Float32Array(2 * 4 * 2);
  const coef: Record<string, [number, number]> = {
    "0,1": [1.5, 0],
    "0,3": [0.5, -2],
    "1,2": [0, 3],
  };
  for (const [k, [c0, c1]] of Object.entries(coef)) {
    const [b, t] = k.split(",").map(Number);
    scales[(b * 4 + t) * 2] = c0;
    scales[(b * 4 + t) * 2 + 1] = c1;
  }
  const steered = await run(s, c, {
    ids,
    mask,
    extra: {
      "steer.0.vectors": new ort.Tensor("float32", vecs, [2, c.hiddenSize]),
      "steer.0.scales": new ort.Tensor("float32", scales, [2, 4, 2]),
    },
  }, { steering: true });
  const h0 = rows3(base["hidden_states.1"]);
  const h1 = rows3(steered["hidden_states.1"]);
  for (let b = 0; b < 2; b++) {
    for (let t = 0; t < 4; t++) {
      const [c0, c1] = coef[`${b},${t}`] ?? [0, 0];
      const want = h0[b][t].map((v, i) => v + c0 * vecs[i] + c1 * vecs[c.hiddenSize + i]);
      if (c0 === 0 && c1 === 0) assert.deepEqual(h1[b][t], h0[b][t], `untouched [${b}][${t}]`);
      else assertRel(h1[b][t], want, 1e-6, `steered [${b}][${t}]`);
    }
  }
  // The edit flows on: the final logits match the reference with the same edit.
  const edits: Edit[] = [0, 1].map((k) => ({
    block: 0,
    kind: "add",
    vector: Array.from(vecs.subarray(k * 16, (k + 1) * 16)),
    coef: [0, 1].map((b) => [0, 1, 2, 3].map((t) => (coef[`${b},${t}`] ?? [0, 0])[k])),
  }));
  const ref = reference(c, w, ids, mask, positionsFromMask(mask, 4), edits);
  rows3(steered.logits).forEach((rows, b) =>
    rows.forEach((row, t) => assertRel(row, ref.logits[b][t], 1e-4, `logits[${b}][${t}]`))
  );
  await s.release();
});

Deno.test("buildDecoderGraph() ablation removes the direction from the last block's residual before the final norm", async () => {
  const c = toyConfig();
  const w = randomWeights(c, 9);
  const { session: s } = await session(c, w, { steering: true });
  const ids = [[3, 4, 5]];
  const mask = [[1, 1, 1]];
  const r = new Prng(10);
  const u = Array.from({ length: c.hiddenSize }, () => r.normal());
  const n = Math.hypot(...u);
  const unit = u.map((v) => v / n);
  const out = await run(s, c, {
    ids,
    mask,
    extra: {
      "ablate.1.directions": new ort.Tensor("float32", Float32Array.from(unit), [1, c.hiddenSize]),
      "ablate.1.mask": new ort.Tensor("float32", Float32Array.from([1, 0, 1]), [1, 3, 1]),
    },
  }, { steering: true });
  const ref = reference(c, w, ids, mask, [[0, 1, 2]], [{
    block: 1,
    kind: "ablate",
    vector: unit,
    coef: [[1, 0, 1]],
  }]);
  rows3(out["hidden_states.2"])[0].forEach((row, t) =>
    assertRel(row, ref.hidden[2][0][t], 1e-4, `hidden_states.2[${t}]`)
  );
  rows3(out.logits)[0].forEach((row, t) => assertRel(row, ref.logits[0][t], 1e-4, `logits[${t}]`));
  await s.release();
});

/** A LoRA-like adapter: delta = (x @ A) @ B · scale at the hooks it targets, A/B as parameters. */
function toyLora(
  targets: string[],
  rank: number,
  seed: number,
): Adapter & { merged(h: LinearHook): Float64Array } {
  const r = new Prng(seed);
  const params = new Map<string, { A: Float32Array; B: Float32Array; hook: LinearHook }>();
  const scale = 0.7;
  return {
    kind: "toy_lora",
    targets: (hooks) => hooks.map((h) => h.name).filter((n) => targets.includes(n)),
    parameters: () => [],
    emit(hook: LinearHook, input: string, ops: AdapterGraphOps): string {
      const A = Float32Array.from({ length: hook.inFeatures * rank }, () => r.normal() * 0.3);
      const B = Float32Array.from({ length: rank * hook.outFeatures }, () => r.normal() * 0.3);
      params.set(hook.name, { A, B, hook });
      const a = ops.constant(A, [hook.inFeatures, rank]);
      const b = ops.constant(B, [rank, hook.outFeatures]);
      const [xa] = ops.op("MatMul", [input, a]);
      const [xab] = ops.op("MatMul", [xa, b]);
      const [out] = ops.op("Mul", [xab, ops.constant([scale], [])]);
      return out;
    },
    save: () => Promise.resolve(),
    /** The delta in HF [out, in] layout: scale · (A B)ᵀ. */
    merged(h: LinearHook): Float64Array {
      const { A, B } = params.get(h.name)!;
      const out = new Float64Array(h.outFeatures * h.inFeatures);
      for (let o = 0; o < h.outFeatures; o++) {
        for (let i = 0; i < h.inFeatures; i++) {
          let s = 0;
          for (let k = 0; k < rank; k++) s += A[i * rank + k] * B[k * h.outFeatures + o];
          out[o * h.inFeatures + i] = scale * s;
        }
      }
      return out;
    },
  };
}

Deno.test("buildDecoderGraph() adds adapter deltas at the hooks they target (checked against merged weights)", async () => {
  const c = toyConfig({ tieWordEmbeddings: false });
  const w = randomWeights(c, 11);
  const targets = [
    "layers.0.attn.q_proj",
    "layers.1.attn.v_proj",
    "layers.1.mlp.down_proj",
    "lm_head",
  ];
  const lora = toyLora(targets, 2, 12);
  const { built, session: s } = await session(c, w, { adapters: [lora] });
  const ids = [[1, 2, 3, 4]];
  const mask = [[1, 1, 1, 1]];
  const out = await run(s, c, { ids, mask });
  const hfName: Record<string, string> = {
    "layers.0.attn.q_proj": "model.layers.0.self_attn.q_proj.weight",
    "layers.1.attn.v_proj": "model.layers.1.self_attn.v_proj.weight",
    "layers.1.mlp.down_proj": "model.layers.1.mlp.down_proj.weight",
    lm_head: "lm_head.weight",
  };
  const merged: DecoderWeightMap = new Map(w);
  for (const hook of built.hooks.filter((h) => targets.includes(h.name))) {
    const base = w.get(hfName[hook.name])!;
    const delta = lora.merged(hook);
    merged.set(hfName[hook.name], {
      shape: base.shape,
      data: Float32Array.from(base.data, (v, i) => v + delta[i]),
    });
  }
  const ref = reference(c, merged, ids, mask, [[0, 1, 2, 3]]);
  rows3(out.logits)[0].forEach((row, t) => assertRel(row, ref.logits[0][t], 1e-4, `logits[${t}]`));
  // Without the adapter the logits differ, so the test can fail.
  const plain = reference(c, w, ids, mask, [[0, 1, 2, 3]]);
  assert.ok(Math.abs(plain.logits[0][3][0] - ref.logits[0][3][0]) > 1e-3);
  await s.release();
});

Deno.test("buildDecoderGraph() rejects adapters that target unknown hooks", () => {
  const c = toyConfig();
  const bad = toyLora(["layers.9.attn.q_proj"], 1, 1);
  bad.targets = () => ["layers.9.attn.q_proj"];
  assert.throws(
    () => buildDecoderGraph(c, randomWeights(c, 1), { adapters: [bad] }),
    /targets "layers\.9\.attn\.q_proj"/,
  );
});

Deno.test("buildDecoderGraph() num_logits_to_keep keeps the last k positions", async () => {
  const c = toyConfig();
  const w = randomWeights(c, 13);
  const { session: s } = await session(c, w);
  const f = { ids: [[3, 4, 5, 6, 7]], mask: [[1, 1, 1, 1, 1]] };
  const all = rows3((await run(s, c, { ...f, keep: 0 })).logits)[0];
  const last2 = rows3((await run(s, c, { ...f, keep: 2 })).logits)[0];
  assert.equal(all.length, 5);
  assert.equal(last2.length, 2);
  assert.deepEqual(last2, all.slice(3));
  await s.release();
});

Deno.test("buildDecoderGraph() float64 training forward without cache matches the reference to 1e-9", async () => {
  const c = toyConfig({ modelType: "qwen3", qkNorm: true, headDim: 8 });
  const w = randomWeights(c, 14);
  const built = buildDecoderGraph(c, w, {
    dtype: "float64",
    cache: false,
    numLogitsToKeep: false,
    hiddenStates: false,
  });
  assert.deepEqual(built.inputs.map((i) => i.name), [
    "input_ids",
    "attention_mask",
    "position_ids",
  ]);
  assert.deepEqual(built.outputs.map((o) => o.name), ["logits"]);
  const s = await ort.InferenceSession.create(serializeModel(built.model).model, {
    graphOptimizationLevel: "basic",
  });
  const ids = [[5, 6, 7, 8]];
  const mask = [[1, 1, 1, 1]];
  const out = await run(s, c, { ids, mask }, { cache: false });
  const ref = reference(c, w, ids, mask, [[0, 1, 2, 3]]);
  const d = out.logits.data as Float64Array;
  ref.logits[0].flat().forEach((v, i) =>
    assert.ok(Math.abs(d[i] - v) <= 1e-9 * (1 + Math.abs(v)), `${i}: ${d[i]} vs ${v}`)
  );
  await s.release();
});

Deno.test("inferShapes() types every value of the decoder graph with transformers.js dims", () => {
  const c = toyConfig();
  const built = buildDecoderGraph(c, randomWeights(c, 15), { steering: true });
  const types = inferShapes(built.model.graph);
  const logits = types.get("logits")!;
  assert.equal(logits.dtype, "float32");
  // The kept length depends on the num_logits_to_keep value, so it is a fresh symbol.
  assert.equal(logits.shape.length, 3);
  assert.deepEqual([logits.shape[0], logits.shape[2]], ["batch_size", 37]);
  assert.deepEqual(types.get("present.1.key")!.shape, [
    "batch_size",
    2,
    "past_sequence_length+sequence_length",
    4,
  ]);
  assert.deepEqual(types.get("hidden_states.2")!.shape, ["batch_size", "sequence_length", 16]);
  for (const n of built.model.graph.nodes) {
    for (const o of n.outputs) assert.ok(types.has(o), `no type for ${o}`);
  }
});

Deno.test("buildDecoderGraph() reports a missing or misshapen weight with E_WEIGHTS", () => {
  const c = toyConfig();
  const w = randomWeights(c, 16);
  w.delete("model.layers.1.mlp.up_proj.weight");
  assert.throws(
    () => buildDecoderGraph(c, w),
    (e: Error) =>
      /model\.layers\.1\.mlp\.up_proj\.weight" is missing/.test(e.message) &&
      errorCode(e) === "E_WEIGHTS",
  );
  const w2 = randomWeights(c, 16);
  w2.set("model.norm.weight", { shape: [8], data: new Float32Array(8) });
  assert.throws(() => buildDecoderGraph(c, w2), /has shape \[8\].*needs \[16\]/);
});

Deno.test("buildDecoderGraph({ largestProductFirst }) int4 lists its largest product (the lm_head) first, the rest in topological order, and gives the same logits as the topological list", async () => {
  const c = toyConfig({ vocabSize: 96, hiddenSize: 32, intermediateSize: 64 });
  const w = randomWeights(c, 21);
  const format = { dtype: "int4", blockSize: 32 } as const;
  const { built, session: s } = await session(c, w, { weights: format, largestProductFirst: true });
  const { nodes, initializers } = built.model.graph;
  const bytes = new Map(initializers.map((t) => [t.name, t.shape.reduce((a, v) => a * v, 1)]));
  const products = nodes.filter((n) => n.opType === "MatMulNBits");
  assert.ok(products.length > 7, `${products.length} MatMulNBits nodes`);
  const first = nodes[0];
  assert.equal(first.opType, "MatMulNBits");
  // vocab 96 × hidden 32 is the largest matrix (the tied table read again as the lm_head):
  // 96 rows of one block of 32 four-bit values.
  assert.equal(bytes.get(first.inputs[1]), 96 * 16);
  for (const n of products.slice(1)) assert.ok(bytes.get(n.inputs[1])! < 96 * 16, n.name);
  // Every other node only reads values made before it.
  const made = new Set([
    ...built.model.graph.inputs.map((v) => v.name),
    ...initializers.map((t) => t.name),
    ...first.outputs,
    "",
  ]);
  for (const n of nodes.slice(1)) {
    for (const i of n.inputs) assert.ok(made.has(i), `${n.name} reads ${i} before it is made`);
    for (const o of n.outputs) made.add(o);
  }
  // The same graph with the product back where a topological order puts it.
  const at = nodes.findIndex((n) => n.outputs.some((o) => o === first.inputs[0]));
  const topological = [...nodes.slice(1, at + 1), first, ...nodes.slice(at + 1)];
  const other = await ort.InferenceSession.create(
    serializeModel({ ...built.model, graph: { ...built.model.graph, nodes: topological } }).model,
  );
  const f = { ids: [[3, 4, 5, 6, 7]], mask: [[1, 1, 1, 1, 1]] };
  const got = (await run(s, c, f)).logits.data as Float32Array;
  const want = (await run(other, c, f)).logits.data as Float32Array;
  assert.deepEqual(got, want);
  // Without the option the list stays topological: shape inference walks it in order.
  const plain = buildDecoderGraph(c, w, { weights: format });
  assert.notEqual(plain.model.graph.nodes[0].opType, "MatMulNBits");
  assert.ok(inferShapes(plain.model.graph).has("logits"));
  assert.throws(() => inferShapes(built.model.graph), /not defined before/);
  await s.release();
  await other.release();
});
