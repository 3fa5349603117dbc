import assert from "node:assert/strict";
import { join } from "node:path";
import {
  bf16ToF32,
  decodeSafetensors,
  encodeSafetensors,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  openSafetensorsDir,
  SafetensorsFile,
  writeSafetensors,
} from "./safetensors.ts";
import { errorCode } from "../errors.ts";

/** Builds a safetensors file by hand, independent of the encoder under test. */
function handMade(header: object, data: number[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  out[0] = json.length & 0xff;
  out[1] = json.length >> 8;
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

Deno.test("f16ToF32() decodes known half-precision bit patterns", () => {
  const got = f16ToF32(new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x7c00, 0x8000]));
  assert.deepEqual(Array.from(got.slice(0, 5)), [1, -2, 65504, 2 ** -24, 0.333251953125]);
  assert.equal(got[5], Infinity);
  assert.ok(Object.is(got[6], -0));
  assert.ok(Number.isNaN(f16ToF32(new Uint16Array([0x7e00]))[0]));
});

Deno.test("f32ToF16() rounds to nearest even and round-trips exact halves", () => {
  assert.deepEqual(Array.from(f32ToF16([1, -2, 65504, 2 ** -24, 1e6, 0])), [
    0x3c00,
    0xc000,
    0x7bff,
    0x0001,
    0x7c00,
    0,
  ]);
  // 1 + 2^-11 lies exactly between 1 and 1 + 2^-10: ties go to the even mantissa (1).
  assert.equal(f32ToF16([1 + 2 ** -11])[0], 0x3c00);
  // 1 + 3*2^-11 lies between 1+2^-10 (odd) and 1+2^-9 (even): goes up.
  assert.equal(f32ToF16([1 + 3 * 2 ** -11])[0], 0x3c02);
  const all = new Uint16Array(0x7c00);
  for (let i = 0; i < all.length; i++) all[i] = i;
  assert.deepEqual(f32ToF16(f16ToF32(all)), all);
});

Deno.test("bf16ToF32() and f32ToBf16() agree with the top-16-bit definition", () => {
  assert.deepEqual(Array.from(bf16ToF32(new Uint16Array([0x3f80, 0xc040, 0x4049]))), [
    1,
    -3,
    3.140625,
  ]);
  assert.deepEqual(Array.from(f32ToBf16([1, -3, Math.PI])), [0x3f80, 0xc040, 0x4049]);
});

Deno.test("decodeSafetensors() reads a hand-built file with F32, I64 and BF16 tensors", () => {
  const data = [
    ...new Uint8Array(new Float32Array([1.5, -2]).buffer),
    ...new Uint8Array(new BigInt64Array([7n]).buffer),
    0x80,
    0x3f, // bf16 1.0, little-endian
  ];
  const bytes = handMade({
    a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
    b: { dtype: "I64", shape: [1, 1], data_offsets: [8, 16] },
    c: { dtype: "BF16", shape: [1], data_offsets: [16, 18] },
    __metadata__: { format: "pt" },
  }, data);
  const { tensors, metadata } = decodeSafetensors(bytes);
  assert.deepEqual(metadata, { format: "pt" });
  assert.deepEqual(Array.from(tensors.get("a")!.data as Float32Array), [1.5, -2]);
  assert.deepEqual(tensors.get("b")!.shape, [1, 1]);
  assert.equal((tensors.get("b")!.data as BigInt64Array)[0], 7n);
  assert.deepEqual(Array.from(bf16ToF32(tensors.get("c")!.data as Uint16Array)), [1]);
});

Deno.test("encodeSafetensors() writes an 8-aligned header with offsets and metadata", () => {
  const bytes = encodeSafetensors(
    { x: { dtype: "F16", shape: [3], data: f32ToF16([1, 2, 3]) } },
    { note: "hi" },
  );
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(header.x, { dtype: "F16", shape: [3], data_offsets: [0, 6] });
  assert.deepEqual(header.__metadata__, { note: "hi" });
  assert.equal(bytes.length, 8 + n + 6);
});

Deno.test("SafetensorsFile.open() reads tensors lazily and converts to f32", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "m.safetensors");
  await writeSafetensors(path, {
    h: { dtype: "F16", shape: [2, 2], data: f32ToF16([0.5, 1, -1, 4]) },
    f: { dtype: "F64", shape: [1], data: new Float64Array([0.25]) },
  });
  const f = await SafetensorsFile.open(path);
  assert.deepEqual(f.names(), ["h", "f"]);
  assert.deepEqual(f.info("h")?.shape, [2, 2]);
  assert.deepEqual(Array.from(await f.readF32("h")), [0.5, 1, -1, 4]);
  assert.deepEqual(Array.from(await f.readF32("f")), [0.25]);
  await assert.rejects(() => f.read("nope"), /no tensor named "nope"/);
  f.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("SafetensorsFile.open() rejects a truncated file with E_WEIGHTS", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "bad.safetensors");
  const good = encodeSafetensors({ a: { dtype: "F32", shape: [4], data: new Float32Array(4) } });
  await Deno.writeFile(path, good.subarray(0, good.length - 3));
  await assert.rejects(() => SafetensorsFile.open(path), (e: Error) => {
    assert.equal(errorCode(e), "E_WEIGHTS");
    assert.match(e.message, /bad\.safetensors/);
    return true;
  });
  await Deno.remove(dir, { recursive: true });
});

Deno.test("openSafetensorsDir() merges shards listed in the index", async () => {
  const dir = await Deno.makeTempDir();
  await writeSafetensors(join(dir, "model-00001-of-00002.safetensors"), {
    a: { dtype: "F32", shape: [1], data: new Float32Array([1]) },
  });
  await writeSafetensors(join(dir, "model-00002-of-00002.safetensors"), {
    b: { dtype: "F32", shape: [1], data: new Float32Array([2]) },
  });
  await Deno.writeTextFile(
    join(dir, "model.safetensors.index.json"),
    JSON.stringify({
      metadata: {},
      weight_map: { a: "model-00001-of-00002.safetensors", b: "model-00002-of-00002.safetensors" },
    }),
  );
  const src = await openSafetensorsDir(dir);
  assert.deepEqual(src.names().sort(), ["a", "b"]);
  assert.deepEqual(Array.from(await src.readF32("b")), [2]);
  assert.match(src.fileOf("b"), /00002/);
  src.close();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("openSafetensorsDir() names the directory when no weights exist", async () => {
  const dir = await Deno.makeTempDir();
  await assert.rejects(() => openSafetensorsDir(dir), (e: Error) => {
    assert.equal(errorCode(e), "E_WEIGHTS");
    assert.ok(e.message.includes(dir) && e.message.includes("model.safetensors"));
    return true;
  });
  await Deno.remove(dir);
});
