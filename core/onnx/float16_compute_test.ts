import assert from "node:assert/strict";
import { join } from "node:path";
import { GraphBuilder } from "./builder.ts";
import { toFloat16Compute } from "./float16_compute.ts";
import { float16BitsToFloat32, float32ToFloat16 } from "./float16.ts";
import { type Graph, makeModel } from "./ir.ts";
import { writeModel } from "./serialize.ts";
import { OrtSession } from "../runtime/session.ts";
import { tensor } from "../runtime/tensor.ts";

/** x·W + bias, masked by Where(keep, 0, lowest float32), then softmax; W stored as float16. */
function sample(): Graph {
  const b = new GraphBuilder();
  const x = b.input("x", "float32", ["n", 3]);
  const keep = b.input("keep", "bool", ["n", 2]);
  const w = [0.5, -1.25, 2, 0.75, -0.3, 1.1];
  const wHalf = b.initializer("w", "float16", [3, 2], float32ToFloat16(w));
  const wf = b.op1("Cast", [wHalf], { to: "float32" });
  const y = b.op1("Add", [b.op1("MatMul", [x, wf]), b.constant([0.25, -0.5], [2])]);
  const bias = b.op1("Where", [
    keep,
    b.constant([0], []),
    b.constant([-3.4028234663852886e38], []),
  ]);
  b.output("p", "float32", ["n", 2], b.op1("Softmax", [b.op1("Add", [y, bias])], { axis: -1 }));
  b.output("y", "float32", ["n", 2], y);
  return b.graph();
}

async function run(graph: Graph, dir: string, name: string) {
  const path = join(dir, `${name}.onnx`);
  await writeModel(makeModel(graph), path);
  const s = await OrtSession.create(path, { intraOpThreads: 1 });
  try {
    return await s.run({
      x: tensor("float32", [2, 3], new Float32Array([1, 2, 3, -1, 0.5, 4])),
      keep: tensor("bool", [2, 2], new Uint8Array([1, 1, 1, 0])),
    });
  } finally {
    await s.release();
  }
}

Deno.test("toFloat16Compute: float16 inside, float32 interface, finite masks, same results", async () => {
  const g = sample();
  const h = toFloat16Compute(g);
  // The interface is unchanged; every float initializer is float16 and the mask stays finite.
  assert.deepEqual(h.inputs, g.inputs);
  assert.deepEqual(h.outputs, g.outputs);
  assert.ok(h.initializers.every((t) => t.dtype === "float16"));
  const lowest = h.initializers.find((t) =>
    t.shape.length === 0 && float16BitsToFloat32((t.data as Uint16Array)[0]) < 0
  );
  assert.equal(float16BitsToFloat32((lowest!.data as Uint16Array)[0]), -65504);
  // The float16 weight is read directly: no cast of it remains.
  assert.ok(!h.nodes.some((n) => n.opType === "Cast" && n.inputs[0] === "w"));
  assert.equal(g.nodes.filter((n) => n.opType === "Cast" && n.inputs[0] === "w").length, 1);
  // x enters through one cast to float16 (code 10); both outputs leave through casts to float32.
  const casts = h.nodes.filter((n) => n.opType === "Cast");
  assert.deepEqual(
    casts.map((n) => [n.inputs[0] === "x" ? "in" : "out", n.attributes.to.value]).sort(),
    [["in", 10], ["out", 1], ["out", 1]],
  );
  const dir = await Deno.makeTempDir({ prefix: "dramatis_f16c_" });
  try {
    const want = await run(g, dir, "f32");
    const got = await run(h, dir, "f16");
    assert.equal(got.y.dtype, "float32");
    const y = got.y.data as Float32Array, yw = want.y.data as Float32Array;
    for (let i = 0; i < yw.length; i++) {
      // float16 keeps 11 significant bits: relative error about 2^-11 per rounding.
      assert.ok(Math.abs(y[i] - yw[i]) <= 4e-3 * Math.max(1, Math.abs(yw[i])), `y[${i}]`);
    }
    const p = got.p.data as Float32Array, pw = want.p.data as Float32Array;
    assert.equal(p[3], 0); // masked by the clamped lowest value, not NaN
    for (let i = 0; i < pw.length; i++) assert.ok(Math.abs(p[i] - pw[i]) <= 4e-3, `p[${i}]`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("toFloat16Compute refuses float64 graphs", () => {
  const b = new GraphBuilder({ floatType: "float64" });
  const x = b.input("x", "float64", [2]);
  b.output("y", "float64", [2], b.op1("Mul", [x, b.constant([1, 2], [2])]));
  assert.throws(() => toFloat16Compute(b.graph()), /float64/);
});
