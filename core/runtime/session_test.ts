import assert from "node:assert/strict";
import { join } from "node:path";
import { GraphBuilder } from "../onnx/builder.ts";
import { makeModel } from "../onnx/ir.ts";
import { writeModel } from "../onnx/serialize.ts";
import { errorCode } from "../errors.ts";
import { OrtSession } from "./session.ts";
import { hasCudaProvider, hasVulkanLoader } from "./providers.ts";
import { tensor } from "./tensor.ts";

/** y = a + b (float32), h2 = h + h (float16), i2 = i (int64), all with symbolic dims. */
async function tinyModel(): Promise<{ path: string; dir: string }> {
  const dir = await Deno.makeTempDir({ prefix: "dramatis_rt_" });
  const b = new GraphBuilder();
  const a = b.input("a", "float32", ["n"]);
  const bb = b.input("b", "float32", ["n"]);
  const h = b.input("h", "float16", ["m"]);
  const i = b.input("i", "int64", ["k"]);
  b.output("y", "float32", ["n"], b.op1("Add", [a, bb]));
  b.output("h2", "float16", ["m"], b.op1("Add", [h, h]));
  b.output("i2", "int64", ["k"], b.op1("Identity", [i]));
  const path = join(dir, "tiny.onnx");
  await writeModel(makeModel(b.graph()), path, { externalData: false });
  return { path, dir };
}

function feeds(x: number[], y: number[]) {
  return {
    a: tensor("float32", [x.length], new Float32Array(x)),
    b: tensor("float32", [y.length], new Float32Array(y)),
    h: tensor("float16", [2], new Uint16Array([0x3c00, 0x4000])), // 1, 2
    i: tensor("int64", [2], new BigInt64Array([5n, -7n])),
  };
}

Deno.test("OrtSession.run() computes outputs on a worker, fp16 and int64 included", async () => {
  const { path, dir } = await tinyModel();
  const s = await OrtSession.create(path, { intraOpThreads: 1 });
  try {
    assert.deepEqual(s.inputNames, ["a", "b", "h", "i"]);
    assert.deepEqual(s.outputNames, ["y", "h2", "i2"]);
    assert.deepEqual(s.inputMetadata[2], {
      name: "h",
      isTensor: true,
      type: "float16",
      shape: ["m"],
    });
    const f = feeds([1, 2, 3], [10, 20, 30]);
    const out = await s.run(f);
    assert.deepEqual([...out.y.data as Float32Array], [11, 22, 33]);
    assert.deepEqual(out.y.dims, [3]);
    assert.equal(out.h2.dtype, "float16");
    assert.deepEqual([...out.h2.data as Uint16Array], [0x4000, 0x4400]); // 2, 4
    assert.deepEqual([...out.i2.data as BigInt64Array], [5n, -7n]);
    // feeds were transferred, not copied
    assert.equal(f.a.data.byteLength, 0);
    const g = feeds([1], [2]);
    const only = await s.run(g, ["y"], { copyInputs: true });
    assert.deepEqual(Object.keys(only), ["y"]);
    assert.equal(g.a.data.length, 1);
  } finally {
    await s.release();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("OrtSession.run() keeps call order when calls are not awaited one by one", async () => {
  const { path, dir } = await tinyModel();
  const s = await OrtSession.create(path);
  try {
    const runs = Array.from({ length: 8 }, (_, k) => s.run(feeds([k], [k])));
    const outs = await Promise.all(runs);
    assert.deepEqual(outs.map((o) => (o.y.data as Float32Array)[0]), [0, 2, 4, 6, 8, 10, 12, 14]);
  } finally {
    await s.release();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("OrtSession.run() rejects with onnxruntime's message and stays usable", async () => {
  const { path, dir } = await tinyModel();
  const s = await OrtSession.create(path);
  try {
    await assert.rejects(() => s.run(feeds([1, 2, 3], [1, 2])), /broadcast/i);
    const ok = await s.run(feeds([1], [1]));
    assert.equal((ok.y.data as Float32Array)[0], 2);
    await assert.rejects(
      () => s.run({ ...feeds([1], [1]), nope: tensor("float32", [1]) }),
      (e: Error) => e instanceof TypeError && /"nope" is not an input/.test(e.message),
    );
    const { a: _a, ...partial } = feeds([1], [1]);
    await assert.rejects(() => s.run(partial), /lack graph inputs a/);
    await assert.rejects(() => s.run(feeds([1], [1]), ["zz"]), /zz, not outputs/);
  } finally {
    await s.release();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("OrtSession.release() makes later runs reject clearly", async () => {
  const { path, dir } = await tinyModel();
  const s = await OrtSession.create(path);
  await s.release();
  await s.release();
  assert.equal(s.released, true);
  await assert.rejects(() => s.run(feeds([1], [1])), /released; create a new OrtSession/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("OrtSession.create() reports a missing file and bad options", async () => {
  await assert.rejects(() => OrtSession.create("/nonexistent/x.onnx"), /not a readable file/);
  const { path, dir } = await tinyModel();
  await assert.rejects(() => OrtSession.create(path, { intraOpThreads: -1 }), RangeError);
  await assert.rejects(
    // deno-lint-ignore no-explicit-any
    () => OrtSession.create(path, { provider: "tpu" as any }),
    (e: Error) => errorCode(e) === "E_PROVIDER",
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("OrtSession.create() refuses a missing GPU provider with E_PROVIDER and the fix", async () => {
  const { path, dir } = await tinyModel();
  try {
    if (!hasCudaProvider()) {
      await assert.rejects(
        () => OrtSession.create(path, { provider: "cuda" }),
        (e: Error) => errorCode(e) === "E_PROVIDER" && /deno task setup:cuda/.test(e.message),
      );
    }
    if (!hasVulkanLoader()) {
      await assert.rejects(
        () => OrtSession.create(path, { provider: "webgpu" }),
        (e: Error) => errorCode(e) === "E_PROVIDER" && /libvulkan1/.test(e.message),
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
