import assert from "node:assert/strict";
import type { LinearHook, RuntimeTensor } from "../../core/contracts/adapter.ts";
import { errorCode } from "../../core/errors.ts";
import { type DecoderConfig, parseDecoderConfig } from "../../core/model/config.ts";
import { buildDecoderGraph, decoderHooks } from "../../core/model/decoder_graph.ts";
import { referenceForward, type TokenRows } from "../../core/model/testing/reference.ts";
import { tinyConfigJson, tinyWeights } from "../../core/model/tiny.ts";
import { checkGradients } from "../../core/onnx/autodiff/grad_check.ts";
import { GraphBuilder } from "../../core/onnx/builder.ts";
import { makeModel, type Model } from "../../core/onnx/ir.ts";
import { type HostTensor, runModel } from "../../core/onnx/ort_run.ts";
import { buildDecoderInto } from "../../core/model/decoder_graph.ts";
import { appendCausalLmLoss } from "../../core/train/loss_graph.ts";
import { buildTrainGraph } from "../../core/train/train_graph.ts";
import { Prng } from "../../core/util/prng.ts";
import { adapterConformance } from "../../tests/conformance/adapter.ts";
import { IdentityAdapter } from "./adapter.ts";
import type { IdentityAdapterOptions } from "./adapter_config.ts";
import { checkpointExpertNames, checkpointGateNames } from "./adapter_layout.ts";
import type { Float32Tensor } from "./adapter_tensors.ts";
import { expertGroupDelta } from "./gate_math.ts";
import { groupsForLayer, INSERT_MODES, type InsertMode } from "./identities.ts";

// ---------------------------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------------------------

/** The tiny-llama preset that createTinyModel writes (same config and seeded weights). */
function tinyLlama(
  numLayers = 4,
): { config: DecoderConfig; weights: ReturnType<typeof tinyWeights> } {
  const config = parseDecoderConfig(
    tinyConfigJson({
      preset: "tiny-llama",
      numLayers,
      vocabSize: 300,
      hiddenSize: 32,
      intermediateSize: 48,
    }),
    "config.json",
  );
  return { config, weights: tinyWeights(config, 11) };
}

/**
 * Overwrites every parameter with seeded non-zero values (B and gates included). `gateStd` 0.05
 * keeps gate logits moderate; 0.3 drives some of them below −10, where the `multiply` mask leaks.
 */
function randomize(adapter: IdentityAdapter, seed: number, gateStd = 0.05): void {
  const rng = new Prng(seed);
  for (const p of adapter.parameters()) {
    const std = p.name.endsWith("lora_B_t")
      ? 0.4
      : p.name.endsWith("lora_A_t")
      ? 0.3
      : p.name.endsWith("gate.bias")
      ? 0.5
      : gateStd;
    for (let i = 0; i < p.data.length; i++) p.data[i] = std * rng.normal();
  }
}

const f64 = (t: { shape: number[]; data: ArrayLike<number> }): HostTensor => ({
  dtype: "float64",
  shape: [...t.shape],
  data: Float64Array.from(t.data),
});

function parameterFeeds(adapter: IdentityAdapter): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const p of adapter.parameters()) feeds[p.name] = f64(p);
  return feeds;
}

function runtimeFeeds(feeds: Record<string, RuntimeTensor>): Record<string, HostTensor> {
  const out: Record<string, HostTensor> = {};
  for (const [k, v] of Object.entries(feeds)) {
    out[k] = f64(v as { shape: number[]; data: Float32Array });
  }
  return out;
}

const I64 = (rows: number[][]) => BigInt64Array.from(rows.flat(), BigInt);

function tokenFeeds(ids: number[][]): Record<string, HostTensor> {
  const shape = [ids.length, ids[0].length];
  return {
    input_ids: { dtype: "int64", shape, data: I64(ids) },
    attention_mask: { dtype: "int64", shape, data: I64(ids.map((r) => r.map(() => 1))) },
    position_ids: { dtype: "int64", shape, data: I64(ids.map((r) => r.map((_, i) => i))) },
  };
}

function decoderModel(
  config: DecoderConfig,
  weights: ReturnType<typeof tinyWeights>,
  adapter?: IdentityAdapter,
): Model {
  return buildDecoderGraph(config, weights, {
    adapters: adapter ? [adapter] : [],
    cache: false,
    numLogitsToKeep: false,
    hiddenStates: false,
    dtype: "float64",
  }).model;
}

async function onnxLogits(
  model: Model,
  adapter: IdentityAdapter | undefined,
  ids: number[][],
  identities: string[][],
): Promise<Float64Array> {
  const feeds = tokenFeeds(ids);
  if (adapter) {
    Object.assign(feeds, parameterFeeds(adapter));
    Object.assign(
      feeds,
      runtimeFeeds(adapter.runtimeInputs({ batchSize: ids.length, extensions: { identities } })),
    );
  }
  // Level "basic": the full optimizer fuses into float32-only contrib kernels.
  const out = await runModel(model, feeds, { graphOptimizationLevel: "basic" });
  return out.logits.data as Float64Array;
}

function flatRows(rows: TokenRows): Float64Array {
  return Float64Array.from(rows.flatMap((r) => r.flatMap((v) => Array.from(v))));
}

function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  rel: number,
  what: string,
) {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    assert.ok(
      err <= rel * Math.max(Math.abs(expected[i]), scale * 1e-3),
      `${what}[${i}]: ${actual[i]} vs ${expected[i]} (err ${err})`,
    );
  }
}

/** y · Wᵀ for y a vector and W `[rows, cols]` row-major: returns W·y (length rows). */
function matVec(w: Float32Tensor, x: ArrayLike<number>): number[] {
  const [rows, cols] = w.shape;
  const out = new Array<number>(rows).fill(0);
  for (let i = 0; i < rows; i++) {
    let s = 0;
    for (let j = 0; j < cols; j++) s += w.data[i * cols + j] * x[j];
    out[i] = s;
  }
  return out;
}

/**
 * Oracle hook for the reference forward: plain LoRA of the single active expert of each group
 * hosted at the hook (`s · B_e A_e x`), from the per-expert checkpoint tensors.
 */
function plainLoraHook(adapter: IdentityAdapter, identities: string[][]) {
  const tensors = adapter.checkpointTensors();
  const { alpha, r } = adapter.config;
  const mods = adapter.modules;
  return (name: string, x: TokenRows, y: TokenRows): TokenRows => {
    const here = mods.filter((m) => m.hook === name);
    return y.map((row, b) =>
      row.map((yv, s) => {
        const out = Float64Array.from(yv);
        for (const m of here) {
          const active = m.experts.filter((e) => identities[b].includes(e));
          assert.ok(active.length <= 1, "fixture: at most one active expert per group");
          if (active.length === 0) continue;
          const n = checkpointExpertNames(m, active[0]);
          const h = matVec(tensors.get(n.loraA)!, x[b][s]);
          const d = matVec(tensors.get(n.loraB)!, h);
          for (let o = 0; o < out.length; o++) out[o] += (alpha / r) * d[o];
        }
        return out;
      })
    );
  };
}

const IDS = [[5, 17, 42, 9, 3, 120], [7, 299, 11, 64, 2, 8]];

// ---------------------------------------------------------------------------------------------
// Contract
// ---------------------------------------------------------------------------------------------

for (const mode of INSERT_MODES) {
  Deno.test(`IdentityAdapter passes the Adapter conformance suite (${mode})`, async (t) => {
    const { config } = tinyLlama(3);
    const adapter = IdentityAdapter.create(config, { insertMode: mode, r: 2 });
    await adapterConformance(t, {
      adapter,
      hooks: decoderHooks(config),
      batchSize: 2,
      identities: [["Doctor", "EXT_high"], []],
    });
  });
}

Deno.test("IdentityAdapter.create() places groups on blocks as groupsForLayer() says, for every insert mode", () => {
  const { config } = tinyLlama(4);
  const hooks = decoderHooks(config);
  for (const mode of INSERT_MODES) {
    const adapter = IdentityAdapter.create(config, { insertMode: mode, r: 2 });
    const groups = adapter.config.groups;
    assert.deepEqual(
      adapter.targets(hooks),
      [0, 1, 2, 3].flatMap((i) => ["q", "k", "v", "o"].map((p) => `layers.${i}.attn.${p}_proj`)),
    );
    for (let i = 0; i < 4; i++) {
      const expected = groupsForLayer(i, mode, 4, groups.length);
      for (const proj of ["q_proj", "k_proj", "v_proj", "o_proj"]) {
        const at = adapter.modules.filter((m) => m.layer === i && m.proj === proj);
        assert.deepEqual(at.map((m) => m.group), expected, `${mode} block ${i} ${proj}`);
        for (const m of at) assert.deepEqual(m.experts, groups[m.group]);
      }
    }
    const expertCount = adapter.modules.reduce((s, m) => s + m.experts.length, 0);
    // flat: 13 experts on 16 modules; alternate: (10 + 3) x 2 blocks x 4; layered: 13 x 16.
    assert.equal(expertCount, { flat: 13 * 16, alternate: 13 * 8, layered: 13 * 16 }[mode], mode);
  }
});

Deno.test("IdentityAdapter.create() initialises A Kaiming-uniform, B zero and gates like nn.Linear", () => {
  const { config } = tinyLlama(2);
  const adapter = IdentityAdapter.create(config, { r: 4, seed: 9 });
  const bound = 1 / Math.sqrt(config.hiddenSize);
  for (const p of adapter.parameters()) {
    if (p.name.endsWith("lora_B_t")) assert.ok(p.data.every((v) => v === 0), p.name);
    else {
      assert.ok(p.data.every((v) => Math.abs(v) <= bound + 1e-7), p.name);
      assert.ok(p.data.some((v) => v !== 0), p.name);
    }
  }
  // Same seed, same weights; another seed, others.
  const again = IdentityAdapter.create(config, { r: 4, seed: 9 }).parameters();
  assert.deepEqual(again[0].data, adapter.parameters()[0].data);
  assert.notDeepEqual(
    IdentityAdapter.create(config, { r: 4, seed: 10 }).parameters()[0].data,
    again[0].data,
  );
});

Deno.test("IdentityAdapter.trainableParameters() includes the gates only when trainGates is on", () => {
  const { config } = tinyLlama(2);
  const on = IdentityAdapter.create(config, { r: 2 });
  const off = IdentityAdapter.create(config, { r: 2, trainGates: false });
  assert.equal(on.trainableParameters().length, on.parameters().length);
  assert.ok(on.parameters().every((p) => p.trainable));
  const names = off.trainableParameters();
  assert.equal(names.length, off.parameters().length / 2);
  assert.ok(names.every((n) => /\.lora_[AB]_t$/.test(n)));
  for (const p of off.parameters()) assert.equal(p.trainable, /\.lora_[AB]_t$/.test(p.name));
});

// ---------------------------------------------------------------------------------------------
// Runtime inputs
// ---------------------------------------------------------------------------------------------

Deno.test("IdentityAdapter.runtimeInputs() encodes each row's sanitized identities as per-group masks", () => {
  const { config } = tinyLlama(2);
  const adapter = IdentityAdapter.create(config, { r: 2 });
  const feeds = adapter.runtimeInputs({
    batchSize: 3,
    extensions: {
      identities: [["Artist", "AGR_high", "OPE_low"], [], [
        "EMS_high",
        "NEU_high",
        "Doctor",
        "Programmer",
      ]],
    },
  });
  assert.deepEqual(Object.keys(feeds).sort(), ["hirpf.mask.g0", "hirpf.mask.g1"]);
  assert.deepEqual(feeds["hirpf.mask.g0"].shape, [3, 10]);
  assert.deepEqual(feeds["hirpf.mask.g1"].shape, [3, 3]);
  // traits: AGR_high=0, OPE_low=9; EMS_high → NEU_low=7 (NEU_high dropped: factor already kept).
  assert.deepEqual(Array.from(feeds["hirpf.mask.g0"].data), [
    ...[1, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    ...[0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    ...[0, 0, 0, 0, 0, 0, 0, 1, 0, 0],
  ]);
  // professions: Artist; none; Doctor (Programmer dropped: first profession wins).
  assert.deepEqual(Array.from(feeds["hirpf.mask.g1"].data), [0, 1, 0, 0, 0, 0, 1, 0, 0]);
  // Without identities every row is the base model; sparse off ignores identities.
  assert.ok(adapter.runtimeInputs({ batchSize: 2 })["hirpf.mask.g0"].data.every((v) => v === 0));
  const dense = IdentityAdapter.create(config, { r: 2, sparse: false, insertMode: "flat" });
  const d = dense.runtimeInputs({ batchSize: 2, extensions: { identities: [["Doctor"], []] } });
  assert.deepEqual(d["hirpf.mask.g0"].shape, [2, 13]);
  assert.ok(d["hirpf.mask.g0"].data.every((v) => v === 1));
});

Deno.test("IdentityAdapter.runtimeInputs() rejects unknown identities naming them and the valid list", () => {
  const { config } = tinyLlama(2);
  const adapter = IdentityAdapter.create(config, { r: 2 });
  assert.throws(
    () =>
      adapter.runtimeInputs({
        batchSize: 2,
        extensions: { identities: [["Doctor"], ["EXT_high", "Pirate"]] },
      }),
    (e: Error) => {
      assert.ok(e instanceof RangeError);
      assert.equal(errorCode(e), "E_USAGE");
      assert.match(e.message, /"Pirate" \(batch row 1\)/);
      assert.match(e.message, /AGR_high, AGR_low, .*OPE_low, Doctor, Artist, Programmer/);
      return true;
    },
  );
  assert.throws(
    () => adapter.runtimeInputs({ batchSize: 1, extensions: { identities: [["AGR_medium"]] } }),
    /"AGR_medium"/,
  );
  assert.throws(
    () => adapter.runtimeInputs({ batchSize: 3, extensions: { identities: [["Doctor"]] } }),
    /identities has 1 rows but batchSize is 3/,
  );
  // The released behaviour (drop unknown names) is available by option.
  const lenient = IdentityAdapter.create(config, { r: 2, unknownIdentities: "drop" });
  const f = lenient.runtimeInputs({
    batchSize: 1,
    extensions: { identities: [["Pirate", "Doctor"]] },
  });
  assert.deepEqual(Array.from(f["hirpf.mask.g1"].data), [1, 0, 0]);
});

Deno.test("IdentityAdapter in training mode feeds seeded inverted-dropout masks per hook", () => {
  const { config } = tinyLlama(2);
  const adapter = IdentityAdapter.create(config, { r: 2, dropout: 0.25 }).setTraining(true);
  assert.throws(() => adapter.runtimeInputs({ batchSize: 1 }), /sequenceLength is missing/);
  const feeds = adapter.runtimeInputs({ batchSize: 2, sequenceLength: 5, seed: 3 });
  const name = "hirpf.dropout.layers.1.attn.o_proj";
  assert.deepEqual(feeds[name].shape, [2, 5, 32]);
  const values = new Set(feeds[name].data);
  assert.deepEqual([...values].sort(), [0, Math.fround(1 / 0.75)]);
  const zeros = Array.from(feeds[name].data).filter((v) => v === 0).length;
  assert.ok(zeros > 50 && zeros < 110, `${zeros} of 320 dropped at p = 0.25`);
  const again = adapter.runtimeInputs({ batchSize: 2, sequenceLength: 5, seed: 3 });
  assert.deepEqual(again[name].data, feeds[name].data);
  assert.equal(Object.keys(feeds).filter((k) => k.startsWith("hirpf.dropout.")).length, 8);
  // Eval mode declares and feeds none.
  adapter.setTraining(false);
  assert.ok(
    Object.keys(adapter.runtimeInputs({ batchSize: 1 })).every((k) => k.startsWith("hirpf.mask.")),
  );
});

// ---------------------------------------------------------------------------------------------
// The ONNX fragment against the gate_math.ts oracle
// ---------------------------------------------------------------------------------------------

function fragmentHooks(numLayers: number, din: number, dout: number): LinearHook[] {
  return Array.from(
    { length: numLayers },
    (_, i) =>
      ["q_proj", "k_proj", "v_proj", "o_proj"].map((p) => ({
        name: `layers.${i}.attn.${p}`,
        layer: i,
        inFeatures: din,
        outFeatures: dout,
      })),
  ).flat();
}

/** Random per-expert checkpoint tensors built from the documented names, independent of the adapter. */
function randomCheckpoint(
  options: IdentityAdapterOptions,
  hooks: LinearHook[],
  seed: number,
): { tensors: Map<string, Float32Tensor>; adapter: IdentityAdapter } {
  const rng = new Prng(seed);
  const rand = (shape: number[], std: number): Float32Tensor => ({
    shape,
    data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => std * rng.normal()),
  });
  const probe = IdentityAdapter.create(hooks, options); // only for the module list
  const r = probe.config.r;
  const tensors = new Map<string, Float32Tensor>();
  for (const m of probe.modules) {
    for (const e of m.experts) {
      const n = checkpointExpertNames(m, e);
      tensors.set(n.loraA, rand([r, m.inFeatures], 0.5));
      tensors.set(n.loraB, rand([m.outFeatures, r], 0.5));
    }
    const g = checkpointGateNames(m);
    tensors.set(g.weight, rand([m.experts.length, m.inFeatures], 0.6));
    tensors.set(g.bias, rand([m.experts.length], 0.5));
  }
  return { tensors, adapter: IdentityAdapter.fromCheckpointTensors(hooks, options, tensors) };
}

const ROW_IDENTITIES = [
  ["AGR_high"],
  ["Doctor", "EXT_low", "AGR_low"],
  [],
  ["EXT_high", "OPE_low", "Artist", "NEU_high"],
];

for (const mode of INSERT_MODES) {
  for (
    const [sparse, maskMode] of [[true, "multiply"], [false, "multiply"], [
      true,
      "exclude",
    ]] as const
  ) {
    Deno.test(`IdentityAdapter.emit() equals the gate_math oracle in float64 (${mode}, sparse ${sparse}, ${maskMode})`, async () => {
      const din = 6, dout = 5, B = ROW_IDENTITIES.length, S = 3;
      const hooks = fragmentHooks(2, din, dout);
      const options: IdentityAdapterOptions = {
        insertMode: mode,
        sparse,
        maskMode,
        r: 3,
        alpha: 6,
      };
      const { tensors, adapter } = randomCheckpoint(options, hooks, 21);
      const rng = new Prng(4);
      const x = Float64Array.from({ length: B * S * din }, () => rng.normal());
      for (const hook of [hooks[0], hooks[7]]) { // layers.0.attn.q_proj, layers.1.attn.o_proj
        const b = new GraphBuilder({ floatType: "float64" });
        const input = b.input("x", "float64", ["batch_size", "sequence_length", din]);
        b.output(
          "delta",
          "float64",
          ["batch_size", "sequence_length", dout],
          adapter.emit(hook, input, b),
        );
        const feeds: Record<string, HostTensor> = {
          x: { dtype: "float64", shape: [B, S, din], data: x },
          ...parameterFeeds(adapter),
          ...runtimeFeeds(
            adapter.runtimeInputs({ batchSize: B, extensions: { identities: ROW_IDENTITIES } }),
          ),
        };
        const used = new Set(b.graph().inputs.map((i) => i.name));
        for (const k of Object.keys(feeds)) if (!used.has(k)) delete feeds[k];
        const got = (await runModel(makeModel(b.graph()), feeds)).delta.data as Float64Array;

        const expected: number[] = [];
        const groups = groupsForLayer(hook.layer, mode, 2, adapter.config.groups.length);
        for (let row = 0; row < B; row++) {
          for (let s = 0; s < S; s++) {
            const xv = Array.from(x.subarray((row * S + s) * din, (row * S + s + 1) * din));
            const sum = new Array<number>(dout).fill(0);
            for (const g of groups) {
              // The oracle takes the same mask mode over the whole group.
              const experts = adapter.config.groups[g];
              const gn = checkpointGateNames({ hook: hook.name, group: g });
              const at = experts.map((e) => adapter.config.groups[g].indexOf(e));
              const W = tensors.get(gn.weight)!;
              const rows = (t: Float32Tensor) =>
                Array.from(
                  { length: t.shape[0] },
                  (_, i) => Array.from(t.data.subarray(i * t.shape[1], (i + 1) * t.shape[1])),
                );
              const d = expertGroupDelta(
                xv,
                {
                  gateWeight: at.map((i) => rows(W)[i]),
                  gateBias: at.map((i) => tensors.get(gn.bias)!.data[i]),
                  loraA: experts.map((e) =>
                    rows(
                      tensors.get(checkpointExpertNames({ hook: hook.name, group: g }, e).loraA)!,
                    )
                  ),
                  loraB: experts.map((e) =>
                    rows(
                      tensors.get(checkpointExpertNames({ hook: hook.name, group: g }, e).loraB)!,
                    )
                  ),
                  scaling: 6 / 3,
                },
                experts.map((e) => ROW_IDENTITIES[row].includes(e)),
                { sparse, maskMode },
              );
              d.forEach((v, o) => (sum[o] += v));
            }
            expected.push(...sum);
          }
        }
        assertClose(got, expected, 1e-10, `${mode} ${hook.name}`);
        if (sparse) {
          // Row 2 has no identities: nothing is added.
          assert.ok(got.subarray(2 * S * dout, 3 * S * dout).every((v) => v === 0));
        }
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Whole decoder (tiny-llama) in onnxruntime against the float64 reference forward
// ---------------------------------------------------------------------------------------------

const ONE_PER_GROUP: Record<InsertMode, string[][]> = {
  flat: [["Doctor"], ["EXT_low"]],
  alternate: [["AGR_high", "Doctor"], ["OPE_low", "Programmer"]],
  layered: [["CON_low", "Artist"], ["NEU_high", "Doctor"]],
};

for (const mode of INSERT_MODES) {
  for (const maskMode of ["multiply", "exclude"] as const) {
    Deno.test(`IdentityAdapter in a tiny-llama decoder with one active expert per group equals plain LoRA of that expert (${mode}, ${maskMode})`, async () => {
      const { config, weights } = tinyLlama(4);
      const adapter = IdentityAdapter.create(config, {
        insertMode: mode,
        maskMode,
        r: 4,
        alpha: 8,
      });
      // "exclude" is exact for any gate; "multiply" only while no inactive sigmoid underflows.
      randomize(adapter, 31, maskMode === "exclude" ? 0.3 : 0.05);
      const identities = ONE_PER_GROUP[mode];
      const got = await onnxLogits(
        decoderModel(config, weights, adapter),
        adapter,
        IDS,
        identities,
      );
      const ref = referenceForward(config, weights, {
        inputIds: IDS,
        linearHook: plainLoraHook(adapter, identities),
      });
      const base = flatRows(referenceForward(config, weights, { inputIds: IDS }).logits);
      const expected = flatRows(ref.logits);
      assertClose(got, expected, 1e-4, mode);
      // The experts really change the output (the test would be vacuous otherwise).
      const diff = expected.reduce((m, v, i) => Math.max(m, Math.abs(v - base[i])), 0);
      assert.ok(diff > 1e-2, `adapter effect ${diff}`);
    });
  }
}

Deno.test("IdentityAdapter maskMode multiply leaks an inactive expert whose sigmoid underflows; exclude does not", async () => {
  const din = 4, dout = 3;
  const hooks = fragmentHooks(1, din, dout);
  const x = Float64Array.from([0.5, -1, 2, 0.25]);
  const results: Record<string, Float64Array> = {};
  for (const maskMode of ["multiply", "exclude"] as const) {
    const options: IdentityAdapterOptions = {
      insertMode: "flat",
      maskMode,
      r: 2,
      alpha: 2,
      professions: ["Doctor"],
    };
    const { tensors } = randomCheckpoint(options, hooks, 5);
    // Expert 1 (AGR_low, inactive) gets a gate logit of about −40: sigmoid ≈ 4e-18.
    const gate = checkpointGateNames({ hook: "layers.0.attn.q_proj", group: 0 });
    tensors.get(gate.bias)!.data[1] = -40;
    const a = IdentityAdapter.fromCheckpointTensors(hooks, options, tensors);
    const b = new GraphBuilder({ floatType: "float64" });
    const input = b.input("x", "float64", [1, 1, din]);
    b.output("delta", "float64", [1, 1, dout], a.emit(hooks[0], input, b));
    const feeds: Record<string, HostTensor> = {
      x: { dtype: "float64", shape: [1, 1, din], data: x },
      ...parameterFeeds(a),
      ...runtimeFeeds(
        a.runtimeInputs({ batchSize: 1, extensions: { identities: [["AGR_high"]] } }),
      ),
    };
    const used = new Set(b.graph().inputs.map((i) => i.name));
    for (const k of Object.keys(feeds)) if (!used.has(k)) delete feeds[k];
    results[maskMode] = (await runModel(makeModel(b.graph()), feeds)).delta.data as Float64Array;
    // Plain LoRA of AGR_high, the only active expert.
    const n = checkpointExpertNames({ hook: "layers.0.attn.q_proj", group: 0 }, "AGR_high");
    const plain = matVec(tensors.get(n.loraB)!, matVec(tensors.get(n.loraA)!, x)).map((v) => v);
    if (maskMode === "exclude") assertClose(results[maskMode], plain, 1e-12, "exclude");
    else {
      // The spec formula (and its gate_math oracle) mixes AGR_low in.
      const W = tensors.get(gate.weight)!;
      const rows = (t: Float32Tensor) =>
        Array.from(
          { length: t.shape[0] },
          (_, i) => Array.from(t.data.subarray(i * t.shape[1], (i + 1) * t.shape[1])),
        );
      const experts = a.config.groups[0];
      const oracle = expertGroupDelta(
        Array.from(x),
        {
          gateWeight: rows(W),
          gateBias: Array.from(tensors.get(gate.bias)!.data),
          loraA: experts.map((e) =>
            rows(
              tensors.get(
                checkpointExpertNames({ hook: "layers.0.attn.q_proj", group: 0 }, e).loraA,
              )!,
            )
          ),
          loraB: experts.map((e) =>
            rows(
              tensors.get(
                checkpointExpertNames({ hook: "layers.0.attn.q_proj", group: 0 }, e).loraB,
              )!,
            )
          ),
          scaling: 1,
        },
        experts.map((e) => e === "AGR_high"),
        { maskMode: "multiply" },
      );
      assertClose(results[maskMode], oracle, 1e-10, "multiply");
      const off = plain.reduce((m, v, i) => Math.max(m, Math.abs(v - results[maskMode][i])), 0);
      assert.ok(off > 1e-3, `multiply should leak here (max deviation ${off})`);
    }
  }
});

Deno.test("IdentityAdapter in a tiny-llama decoder with no identities equals the base model", async () => {
  const { config, weights } = tinyLlama(4);
  for (const mode of INSERT_MODES) {
    const adapter = IdentityAdapter.create(config, { insertMode: mode, r: 4 });
    randomize(adapter, 5, 0.3);
    const got = await onnxLogits(decoderModel(config, weights, adapter), adapter, IDS, [[], []]);
    const expected = flatRows(referenceForward(config, weights, { inputIds: IDS }).logits);
    assertClose(got, expected, 1e-9, mode);
  }
});

Deno.test("IdentityAdapter with different identity sets per batch row equals each row run alone", async () => {
  const { config, weights } = tinyLlama(4);
  const ids = [[5, 17, 42, 9, 3], [7, 299, 11, 64, 2], [12, 12, 40, 1, 90], [3, 4, 5, 6, 7]];
  const rows = [["AGR_high", "EXT_low", "Doctor"], [], ["Artist"], [
    "NEU_low",
    "OPE_high",
    "CON_high",
  ]];
  for (const mode of INSERT_MODES) {
    const adapter = IdentityAdapter.create(config, { insertMode: mode, r: 4 });
    randomize(adapter, 77, 0.3);
    const model = decoderModel(config, weights, adapter);
    const batch = await onnxLogits(model, adapter, ids, rows);
    const per = batch.length / ids.length;
    for (let i = 0; i < ids.length; i++) {
      const alone = await onnxLogits(model, adapter, [ids[i]], [rows[i]]);
      assertClose(batch.subarray(i * per, (i + 1) * per), alone, 1e-9, `${mode} row ${i}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Training: frozen vs trainable gates, gradients through the dropout path
// ---------------------------------------------------------------------------------------------

Deno.test("IdentityAdapter gradients (dropout on, gates trainable) match finite differences; frozen gates get none", async () => {
  const config = parseDecoderConfig(
    tinyConfigJson({
      preset: "tiny-llama",
      numLayers: 2,
      vocabSize: 300,
      hiddenSize: 16,
      intermediateSize: 24,
    }),
    "config.json",
  );
  const weights = tinyWeights(config, 2);
  const ids = [[5, 17, 42, 9], [7, 299, 11, 64]];
  const labels = [[-100, 17, 42, 9], [-100, -100, 11, 64]];
  const identities = [["AGR_high", "EXT_low", "Doctor"], ["Artist"]];
  const adapter = IdentityAdapter.create(config, { insertMode: "layered", r: 2, dropout: 0.3 })
    .setTraining(true);
  randomize(adapter, 8);
  const frozen = buildTrainGraph(config, weights, {
    adapters: [IdentityAdapter.create(config, { r: 2, trainGates: false }).setTraining(true)],
    trainable: IdentityAdapter.create(config, { r: 2, trainGates: false }).trainableParameters(),
    dtype: "float64",
  });
  assert.ok(frozen.model.graph.outputs.every((o) => !o.name.includes(".gate.")));
  assert.ok(frozen.model.graph.outputs.some((o) => o.name.endsWith(".lora_B_t")));

  const b = new GraphBuilder({ floatType: "float64" });
  const values = buildDecoderInto(b, config, weights, {
    adapters: [adapter],
    cache: false,
    numLogitsToKeep: false,
    hiddenStates: false,
    dtype: "float64",
  });
  const lab = b.input("labels", "int64", ["batch_size", "sequence_length"]);
  b.output(
    "loss",
    "float64",
    [],
    appendCausalLmLoss(b, { logits: values.logits, labels: lab, vocabSize: config.vocabSize }),
  );
  const feeds: Record<string, HostTensor> = {
    ...tokenFeeds(ids),
    labels: { dtype: "int64", shape: [2, 4], data: I64(labels) },
    ...parameterFeeds(adapter),
    ...runtimeFeeds(
      adapter.runtimeInputs({
        batchSize: 2,
        extensions: { identities },
        sequenceLength: 4,
        seed: 1,
      }),
    ),
  };
  const wrt = adapter.trainableParameters().filter((n) =>
    n.includes("layers.0.attn.v_proj") || n.includes("layers.1.attn.o_proj")
  );
  assert.ok(wrt.some((n) => n.includes(".gate.")));
  const results = await checkGradients(b.graph(), feeds, {
    loss: "loss",
    wrt,
    maxElements: 3,
    step: 1e-5,
  });
  for (const [name, r] of Object.entries(results)) {
    assert.ok(r.relativeError <= 1e-6, `${name}: relative error ${r.relativeError}`);
    // A group with a single active expert has w = 1 whatever its gate says, so only the trait
    // group (two active experts in row 0) gives its gate a gradient.
    if (name.includes(".g0.")) {
      assert.ok(r.analytic.some((v) => v !== 0), `${name}: gradient is zero`);
    }
  }
});

Deno.test("IdentityAdapter rejects a decoder whose shapes differ from the ones it was built for", () => {
  const { config } = tinyLlama(2);
  const adapter = IdentityAdapter.create(config, { r: 2 });
  const other = parseDecoderConfig(
    tinyConfigJson({
      preset: "tiny-llama",
      numLayers: 2,
      vocabSize: 300,
      hiddenSize: 16,
      intermediateSize: 24,
    }),
    "config.json",
  );
  assert.throws(
    () => adapter.targets(decoderHooks(other)),
    /hook layers\.0\.attn\.q_proj is \[in 16, out 16\].*\[in 32, out 32\]/,
  );
  assert.throws(
    () => adapter.targets(decoderHooks(tinyLlama(3).config)),
    /3 blocks but .* built for 2/,
  );
});
