import assert from "node:assert/strict";
import {
  bfloat16ToFloat32,
  float16BitsToFloat32,
  float16ToFloat32,
  float32ToBfloat16,
  float32ToFloat16,
  float32ToFloat16Bits,
} from "./float16.ts";
import { Prng } from "../util/prng.ts";

// Oracle: V8's own Float16Array / Math.f16round (IEEE round-to-nearest-even).
const oracleBits = (x: number): number => {
  const h = new Float16Array([x]);
  return new Uint16Array(h.buffer)[0];
};
const oracleValue = (bits: number): number => new Float16Array(new Uint16Array([bits]).buffer)[0];

Deno.test("float16BitsToFloat32() decodes every half bit pattern like Float16Array", () => {
  for (let h = 0; h < 0x10000; h++) {
    const want = oracleValue(h);
    const got = float16BitsToFloat32(h);
    if (Number.isNaN(want)) assert.ok(Number.isNaN(got), `bits ${h.toString(16)}`);
    else assert.equal(Object.is(got, want), true, `bits ${h.toString(16)}: ${got} vs ${want}`);
  }
});

Deno.test("float32ToFloat16Bits() rounds to nearest even like Float16Array", () => {
  const r = new Prng(7);
  const samples: number[] = [
    0,
    -0,
    65504,
    65520,
    65519.99,
    1e-8,
    2 ** -24,
    2 ** -25,
    3 * 2 ** -26,
    Infinity,
    -Infinity,
  ];
  // Exact ties between neighbouring halves, normal and subnormal.
  for (let h = 1; h < 0x7bff; h += 97) samples.push((oracleValue(h) + oracleValue(h + 1)) / 2);
  for (let i = 0; i < 20000; i++) {
    const mag = 2 ** (r.next() * 50 - 30);
    samples.push(Math.fround((r.next() < 0.5 ? -1 : 1) * mag));
  }
  for (const x of samples) {
    const f = Math.fround(x);
    assert.equal(float32ToFloat16Bits(f), oracleBits(f), `value ${f}`);
  }
  assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN))));
});

Deno.test("float32ToFloat16() and float16ToFloat32() round-trip representable values", () => {
  const values = new Float32Array([1, -2.5, 0.099975586, 65504, 6.103515625e-5]);
  const back = float16ToFloat32(float32ToFloat16(values));
  for (let i = 0; i < values.length; i++) assert.equal(back[i], Math.f16round(values[i]));
});

Deno.test("bfloat16ToFloat32() takes the upper half of the float32 bits", () => {
  const r = new Prng(3);
  const f = new Float32Array(1000).map(() => r.normal() * 100);
  const u = new Uint32Array(f.buffer);
  const hi = Uint16Array.from(u, (x) => x >>> 16);
  const back = bfloat16ToFloat32(hi);
  const dv = new DataView(new ArrayBuffer(4));
  for (let i = 0; i < f.length; i++) {
    dv.setUint32(0, (u[i] >>> 16) * 65536);
    assert.equal(back[i], dv.getFloat32(0));
  }
});

Deno.test("float32ToBfloat16() picks the nearest bfloat16, ties to even", () => {
  const r = new Prng(11);
  const dv = new DataView(new ArrayBuffer(4));
  const bf = (bits: number) => {
    dv.setUint32(0, bits * 65536);
    return dv.getFloat32(0);
  };
  const xs = Array.from({ length: 5000 }, () => Math.fround(r.normal() * 10 ** (r.int(10) - 5)));
  xs.push(bf(0x3f80) + (bf(0x3f81) - bf(0x3f80)) / 2, bf(0x3f81) + (bf(0x3f82) - bf(0x3f81)) / 2);
  const got = float32ToBfloat16(xs);
  xs.forEach((x, i) => {
    dv.setFloat32(0, x);
    const lo = dv.getUint32(0) >>> 16;
    const cands = [lo, lo + 1];
    const dist = cands.map((c) => Math.abs(bf(c) - x));
    const best = dist[0] < dist[1]
      ? cands[0]
      : dist[1] < dist[0]
      ? cands[1]
      : cands.find((c) => c % 2 === 0)!;
    assert.equal(got[i], best, `x=${x}`);
  });
});
