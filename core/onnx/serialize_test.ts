import assert from "node:assert/strict";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { GraphBuilder } from "./builder.ts";
import { decodeModel, type DeferredData, isDeferred, readModel } from "./deserialize.ts";
import { makeModel, type Model } from "./ir.ts";
import { runModel, runSession } from "./ort_run.ts";
import { serializeModel, writeModel } from "./serialize.ts";
import { float32ToFloat16 } from "./float16.ts";
import { Prng } from "../util/prng.ts";

function randn(r: Prng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => r.normal());
}

/** x [n,3] → softmax(x @ W + b) and a few attribute kinds along the way. */
function smallModel(seed = 1): { model: Model; w: Float32Array; bias: Float32Array } {
  const r = new Prng(seed);
  const w = randn(r, 12);
  const bias = randn(r, 4);
  const b = new GraphBuilder();
  const x = b.input("x", "float32", ["n", 3]);
  const W = b.initializer("W", "float32", [3, 4], w);
  const B = b.initializer("B", "float32", [4], bias);
  const logits = b.op1("Add", [b.op1("MatMul", [x, W]), B]);
  b.output("probs", "float32", ["n", 4], b.op1("Softmax", [logits], { axis: -1 }));
  // Gemm exercises float attributes, Transpose exercises ints.
  const g = b.op1("Gemm", [x, W], { alpha: 0.5, transB: 0 });
  b.output("gemm", "float32", ["n", 4], g);
  b.output("xt", "float32", [3, "n"], b.op1("Transpose", [x], { perm: [1, 0] }));
  // ConstantOfShape exercises a tensor attribute; Shape/Gather with a negative index exercise int64.
  const shp = b.op1("Shape", [x]);
  const last = b.op1("Gather", [shp, b.constantInt([-1], [1])], { axis: 0 });
  b.output(
    "ones",
    "float32",
    [3],
    b.op1("ConstantOfShape", [last], {
      value: { name: "", dtype: "float32", shape: [1], data: new Float32Array([1.5]) },
    }),
  );
  return { model: makeModel(b.graph(), { metadata: { purpose: "test", layers: "0" } }), w, bias };
}

function reference(x: Float32Array, n: number, w: Float32Array, bias: Float32Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const z = [0, 1, 2, 3].map((j) =>
      bias[j] + [0, 1, 2].reduce((s, k) => s + x[i * 3 + k] * w[k * 4 + j], 0)
    );
    const m = Math.max(...z);
    const e = z.map((v) => Math.exp(v - m));
    const s = e.reduce((a, c) => a + c, 0);
    out.push(...e.map((v) => v / s));
  }
  return out;
}

function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < got.length; i++) {
    assert.ok(
      Math.abs(got[i] - want[i]) <= tol * (1 + Math.abs(want[i])),
      `[${i}] ${got[i]} vs ${want[i]}`,
    );
  }
}

Deno.test("serializeModel() output runs in onnxruntime and matches a TS computation", async () => {
  const { model, w, bias } = smallModel();
  const x = randn(new Prng(2), 6);
  const out = await runModel(model, { x: { dtype: "float32", shape: [2, 3], data: x } });
  assertClose(out.probs.data as Float32Array, reference(x, 2, w, bias), 1e-6);
  const gemm = [0, 1].flatMap((i) =>
    [0, 1, 2, 3].map((j) => 0.5 * [0, 1, 2].reduce((s, k) => s + x[i * 3 + k] * w[k * 4 + j], 0))
  );
  assertClose(out.gemm.data as Float32Array, gemm, 1e-6);
  assert.deepEqual(Array.from(out.xt.data as Float32Array), [x[0], x[3], x[1], x[4], x[2], x[5]]);
  assert.deepEqual(out.ones.shape, [3]);
  assert.deepEqual(Array.from(out.ones.data as Float32Array), [1.5, 1.5, 1.5]);
});

Deno.test("decodeModel() reads back what serializeModel() wrote", () => {
  const { model } = smallModel();
  const back = decodeModel(serializeModel(model).model);
  assert.equal(back.irVersion, model.irVersion);
  assert.deepEqual(back.opsetImports, model.opsetImports);
  assert.deepEqual(back.metadata, { purpose: "test", layers: "0" });
  assert.deepEqual(back.graph.inputs, model.graph.inputs);
  assert.deepEqual(back.graph.outputs, model.graph.outputs);
  assert.deepEqual(back.graph.nodes, model.graph.nodes);
  assert.deepEqual(
    back.graph.initializers.map((
      t,
    ) => [t.name, t.dtype, t.shape, Array.from(t.data as Float32Array)]),
    model.graph.initializers.map((
      t,
    ) => [t.name, t.dtype, t.shape, Array.from(t.data as Float32Array)]),
  );
});

Deno.test("writeModel() streams large initializers to aligned external data that onnxruntime loads by path", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { model, w, bias } = smallModel(5);
    // A big initializer makes sure data sits past the first alignment boundary.
    const big = new Float32Array(5000).map((_, i) => i * 0.25);
    const b2 = model.graph;
    b2.initializers.push({
      name: "big",
      dtype: "float32",
      shape: [5000],
      data: { byteLength: 20000, read: () => big },
    });
    b2.nodes.push({
      name: "sum_big",
      opType: "ReduceSum",
      domain: "",
      inputs: ["big"],
      outputs: ["big_sum"],
      attributes: { keepdims: { type: "int", value: 0 } },
    });
    b2.outputs.push({ name: "big_sum", dtype: "float32", shape: [] });
    const path = join(dir, "model.onnx");
    const res = await writeModel(model, path, { externalData: { threshold: 16, align: 4096 } });
    assert.equal(res.dataPath, join(dir, "model.onnx_data"));
    // W (48 B), B (16 B), big (20000 B) go external; each offset is 4096-aligned.
    const back = decodeModel(await Deno.readFile(path), {
      external: (ref) => {
        assert.equal(ref.offset % 4096, 0);
        assert.equal(ref.location, "model.onnx_data");
        return new Uint8Array(ref.length);
      },
    });
    assert.equal(back.graph.initializers.length, 4);
    const stat = await Deno.stat(res.dataPath!);
    assert.equal(stat.size, 2 * 4096 + 20000);
    const session = await ort.InferenceSession.create(path);
    const x = randn(new Prng(9), 9);
    const out = await runSession(session, { x: { dtype: "float32", shape: [3, 3], data: x } });
    await session.release();
    assertClose(out.probs.data as Float32Array, reference(x, 3, w, bias), 1e-6);
    assertClose(out.big_sum.data as Float32Array, [big.reduce((s, v) => s + v, 0)], 1e-6);
    const read = await readModel(path);
    const bigBack = read.graph.initializers.find((t) => t.name === "big")!;
    assert.deepEqual(Array.from(bigBack.data as Float32Array), Array.from(big));
    // Deferred: where each external tensor lies, nothing read.
    const deferred = decodeModel(await Deno.readFile(path), { external: "defer" });
    const big2 = deferred.graph.initializers.find((t) => t.name === "big")!;
    assert.ok(isDeferred(big2.data));
    // The three external tensors are deferred; the one under the threshold is read inline.
    assert.equal(deferred.graph.initializers.filter((t) => isDeferred(t.data)).length, 3);
    const bigRef = big2.data as DeferredData;
    assert.deepEqual(bigRef.ref, { location: "model.onnx_data", offset: 8192, length: 20000 });
    const file = await Deno.readFile(res.dataPath!);
    assert.deepEqual(
      new Float32Array(file.slice(bigRef.ref.offset, bigRef.ref.offset + 20000).buffer),
      big,
    );
    assert.equal(bigRef.byteLength, 20000);
    assert.throws(() => bigRef.read(), (e: Error & { code?: string }) => e.code === "E_GRAPH");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("serializeModel() with externalData feeds onnxruntime from memory", async () => {
  const { model, w, bias } = smallModel(3);
  const x = randn(new Prng(4), 3);
  const out = await runModel(model, { x: { dtype: "float32", shape: [1, 3], data: x } }, {
    externalThreshold: 1,
  });
  assertClose(out.probs.data as Float32Array, reference(x, 1, w, bias), 1e-6);
});

Deno.test("serializeModel() refuses inline protobufs over 2 GB", () => {
  const b = new GraphBuilder();
  const huge = b.initializer("huge", "float32", [2 ** 29 + 1], {
    byteLength: (2 ** 29 + 1) * 4,
    read: () => new Float32Array(0),
  });
  b.output("y", "float32", [2 ** 29 + 1], b.op1("Neg", [huge]));
  assert.throws(
    () => serializeModel(makeModel(b.graph())),
    (e: Error) => e instanceof RangeError && /2 GB.*external data/.test(e.message),
  );
});

Deno.test("float16 initializers and Uint16-backed float16 inputs round-trip through onnxruntime", async () => {
  const vals = new Float32Array([0.5, -1.25, 3, 1000]);
  const b = new GraphBuilder();
  const h = b.initializer("h", "float16", [4], float32ToFloat16(vals));
  const x = b.input("x", "float16", [4]);
  const sum = b.op1("Add", [h, x]);
  b.output("y", "float32", [4], b.op1("Cast", [sum], { to: "float32" }));
  const out = await runModel(makeModel(b.graph()), {
    x: { dtype: "float16", shape: [4], data: float32ToFloat16([1, 1, 1, 1]) },
  });
  assert.deepEqual(
    Array.from(out.y.data as Float32Array),
    Array.from(vals, (v) => Math.f16round(v + 1)),
  );
});

Deno.test("int64 initializers with negative values and float64 graphs serialize exactly", async () => {
  const b = new GraphBuilder({ floatType: "float64" });
  const x = b.input("x", "float64", [2, 3]);
  const idx = b.constantInt([-1, 0, -3], [3]);
  const g = b.op1("Gather", [x, idx], { axis: 1 });
  const c = b.constant([1e-300, 2, 3], [3]);
  b.output("y", "float64", [2, 3], b.op1("Add", [g, c]));
  const xs = new Float64Array([1, 2, 3, 4, 5, 6]);
  const out = await runModel(makeModel(b.graph()), {
    x: { dtype: "float64", shape: [2, 3], data: xs },
  });
  assert.deepEqual(Array.from(out.y.data as Float64Array), [
    3 + 1e-300,
    1 + 2,
    1 + 3,
    6 + 1e-300,
    4 + 2,
    4 + 3,
  ]);
});
