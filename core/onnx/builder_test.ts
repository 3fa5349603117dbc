import assert from "node:assert/strict";
import { GraphBuilder } from "./builder.ts";
import { errorCode } from "../errors.ts";
import { makeModel } from "./ir.ts";
import { runModel } from "./ort_run.ts";

const isGraphError =
  (cls: ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor, re: RegExp) =>
  (e: Error) => e instanceof cls && re.test(e.message) && errorCode(e) === "E_GRAPH";

Deno.test("GraphBuilder.op() rejects an unknown default-domain op by name", () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [2]);
  assert.throws(
    () => b.op("Softmaxx", [x]),
    isGraphError(TypeError, /op "Softmaxx" is not in the builder's operator table/),
  );
});

Deno.test("GraphBuilder.op() validates attribute names and kinds against the ONNX spec", () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [2, 3]);
  assert.throws(
    () => b.op("Softmax", [x], { axes: [1] }),
    isGraphError(TypeError, /Softmax has no attribute "axes"; its attributes are axis/),
  );
  assert.throws(
    () => b.op("Softmax", [x], { axis: 1.5 }),
    isGraphError(TypeError, /Softmax\.axis is 1\.5; it must be a whole number/),
  );
  assert.throws(
    () => b.op("Transpose", [x], { perm: [1, "0"] }),
    isGraphError(TypeError, /Transpose\.perm .* array of whole numbers/),
  );
  assert.throws(
    () => b.op("Concat", [x, x]),
    isGraphError(TypeError, /Concat needs attribute "axis"/),
  );
  assert.throws(
    () => b.op("Cast", [x], { to: "float8" }),
    isGraphError(TypeError, /Cast\.to is "float8"/),
  );
  assert.throws(
    () => b.op("Gemm", [x, x], { alpha: { type: "int", value: 1 } }),
    isGraphError(TypeError, /Gemm\.alpha is a int attribute; ONNX declares it float/),
  );
  // A whole-number float attribute keeps its float kind (the table, not the JS value, decides).
  b.op("Gemm", [x, x], { alpha: 2, transB: 1 });
  const node = b.graph().nodes.at(-1)!;
  assert.deepEqual(node.attributes.alpha, { type: "float", value: 2 });
  assert.deepEqual(node.attributes.transB, { type: "int", value: 1 });
});

Deno.test("GraphBuilder.op() checks input counts and that inputs exist", () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [2]);
  assert.throws(
    () => b.op("Add", [x]),
    isGraphError(RangeError, /Add got 1 inputs; it takes 2\.\.2/),
  );
  assert.throws(
    () => b.op("Neg", ["nope"]),
    isGraphError(RangeError, /Neg input "nope" is not a value of this graph/),
  );
});

Deno.test("GraphBuilder names values uniquely and refuses duplicate names", () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [2]);
  const names = new Set<string>();
  for (let i = 0; i < 50; i++) names.add(b.op1("Neg", [x]));
  b.scoped("layers.0", () => names.add(b.op1("Neg", [x])));
  assert.equal(names.size, 51);
  assert.ok([...names].some((n) => n.startsWith("layers.0/Neg_")));
  assert.throws(
    () => b.input("x", "float32", [2]),
    isGraphError(RangeError, /"x" is already used/),
  );
  assert.throws(() => b.input("y", "float32", [-1]), isGraphError(TypeError, /has dim -1/));
});

Deno.test("GraphBuilder.parameter() and runtimeInput() return one value per name and check shapes", () => {
  const b = new GraphBuilder({ floatType: "float64" });
  const a1 = b.parameter("lora.A", [4, 2]);
  assert.equal(b.parameter("lora.A", [4, 2]), a1);
  assert.throws(() => b.parameter("lora.A", [2, 4]), /declared with shape \[4,2\] and now \[2,4\]/);
  const m = b.runtimeInput("mask", "float32", ["batch", 3]);
  assert.equal(b.runtimeInput("mask", "float32", ["batch", 3]), m);
  assert.throws(() => b.runtimeInput("mask", "int64", ["batch", 3]), /declare it once/);
  // The builder's float type applies to adapter parameters and float runtime inputs.
  assert.deepEqual(b.graph().inputs.map((i) => i.dtype), ["float64", "float64"]);
  assert.deepEqual(b.parameters().map((p) => p.name), ["lora.A"]);
});

Deno.test("GraphBuilder.initializer() checks data type and length", () => {
  const b = new GraphBuilder();
  assert.throws(
    () => b.initializer("w", "float32", [2, 2], new Float32Array(3)),
    isGraphError(RangeError, /has 12 bytes of data; float32\[2,2\] needs 16/),
  );
  assert.throws(
    () => b.initializer("w", "int64", [2], new Float32Array(4)),
    isGraphError(TypeError, /int64 but its data is a Float32Array/),
  );
});

Deno.test("GraphBuilder graphs with custom-domain-free ops run in onnxruntime", async () => {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", [3]);
  const y = b.op1("Mul", [b.op1("Sigmoid", [x]), x]);
  b.output("silu", "float32", [3], y);
  const xs = new Float32Array([-2, 0.5, 3]);
  const out = await runModel(makeModel(b.graph()), {
    x: { dtype: "float32", shape: [3], data: xs },
  });
  const want = Array.from(xs, (v) => v / (1 + Math.exp(-v)));
  (out.silu.data as Float32Array).forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-6));
});

Deno.test("GraphBuilder.parameter() bakes a parameter listed in parameterValues into an initializer copy", async () => {
  const live = new Float32Array([1, -2, 0.5, 4, 3, -1]);
  const b = new GraphBuilder({ parameterValues: new Map([["w", live]]) });
  const x = b.input("x", "float32", [1, 2]);
  const w = b.parameter("w", [2, 3]);
  assert.equal(b.parameter("w", [2, 3]), w);
  assert.throws(() => b.parameter("w", [3, 2]), /declared with shape \[2,3\] and now \[3,2\]/);
  const fed = b.parameter("v", [3]); // not listed: stays an input
  b.output("y", "float32", [1, 3], b.op1("Add", [b.op1("MatMul", [x, w]), fed]));
  live.fill(0); // the graph holds a copy taken at parameter() time
  const g = b.graph();
  assert.deepEqual(g.inputs.map((i) => i.name), ["x", "v"]);
  assert.deepEqual(b.parameters().map((p) => p.name), ["v"]);
  assert.deepEqual(b.bakedParameters(), [{ name: "w", dtype: "float32", shape: [2, 3] }]);
  const init = g.initializers.find((t) => t.name === "w")!;
  assert.deepEqual(Array.from(init.data as Float32Array), [1, -2, 0.5, 4, 3, -1]);
  const out = await runModel(makeModel(g), {
    x: { dtype: "float32", shape: [1, 2], data: new Float32Array([2, 1]) },
    v: { dtype: "float32", shape: [3], data: new Float32Array([10, 20, 30]) },
  });
  // [2, 1] · [[1, -2, 0.5], [4, 3, -1]] + [10, 20, 30], worked by hand.
  assert.deepEqual(Array.from(out.y.data as Float32Array), [16, 19, 30]);
});

Deno.test("GraphBuilder.parameter() converts baked values to float64 graphs and checks their length", () => {
  const b = new GraphBuilder({
    floatType: "float64",
    parameterValues: new Map([["w", new Float32Array([0.1, 0.2])], ["bad", new Float32Array(3)]]),
  });
  b.parameter("w", [2]);
  const init = b.graph().initializers.find((t) => t.name === "w")!;
  assert.equal(init.dtype, "float64");
  assert.ok(init.data instanceof Float64Array);
  assert.deepEqual(Array.from(init.data), [Math.fround(0.1), Math.fround(0.2)]);
  assert.throws(
    () => b.parameter("bad", [2, 2]),
    isGraphError(RangeError, /holds 3 values for parameter "bad"; its shape \[2,2\] needs 4/),
  );
  assert.throws(
    () => new GraphBuilder({ parameterValues: { w: new Float32Array(1) } as never }),
    isGraphError(TypeError, /parameterValues is .*; pass a Map/),
  );
});
