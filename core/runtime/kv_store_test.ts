import assert from "node:assert/strict";
import { KvStore } from "./kv_store.ts";
import { tensor } from "./tensor.ts";

const shape = { numLayers: 2, numKvHeads: 2, headDim: 3 };

/**
 * kv_new outputs (keys `[B, H, S, D]`, values `[B, H, D, S]`) whose entries encode
 * (layer, kind, b, h, s, d).
 */
function newRows(B: number, S: number, base: number) {
  const out: Record<string, ReturnType<typeof tensor>> = {};
  for (let i = 0; i < 2; i++) {
    for (const [k, kind] of [[0, "key"], [1, "value"]] as const) {
      const data = new Float32Array(B * 2 * S * 3);
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < 2; h++) {
          for (let s = 0; s < S; s++) {
            for (let d = 0; d < 3; d++) {
              const at = k === 0 ? ((b * 2 + h) * S + s) * 3 + d : ((b * 2 + h) * 3 + d) * S + s;
              data[at] = base + i * 1000 + k * 100 + b * 10 + h + s * 0.1 + d * 0.01;
            }
          }
        }
      }
      out[`kv_new.${i}.${kind}`] = tensor("float32", k === 0 ? [B, 2, S, 3] : [B, 2, 3, S], data);
    }
  }
  return out;
}

function at(kv: KvStore, layer: number, kind: "key" | "value", b: number, h: number, p: number) {
  const t = kv.feeds()[`past_key_values.${layer}.${kind}`];
  const d = t.data as Float32Array;
  if (kind === "value") {
    // values are fed transposed: [B, H, D, C]
    const C = t.dims[3];
    return [0, 1, 2].map((x) => d[((b * 2 + h) * 3 + x) * C + p]);
  }
  const C = t.dims[2];
  return Array.from(d.subarray(((b * 2 + h) * C + p) * 3, ((b * 2 + h) * C + p + 1) * 3));
}

Deno.test("KvStore appends rows in place, keeps them when growing, compacts and restores", () => {
  const kv = new KvStore(shape);
  kv.ensure(2, 4);
  // row 0: 3 new tokens (columns 0..2); row 1: 2 new tokens (columns 1..2, left padded)
  kv.append(newRows(2, 3, 0), [
    { row: 0, from: 0, count: 3, at: 0 },
    { row: 1, from: 1, count: 2, at: 0 },
  ]);
  assert.deepEqual(at(kv, 1, "value", 0, 1, 2).map((x) => +x.toFixed(3)), [
    1101.2,
    1101.21,
    1101.22,
  ]);
  assert.deepEqual(at(kv, 0, "key", 1, 0, 0).map((x) => +x.toFixed(3)), [10.1, 10.11, 10.12]);
  kv.ensure(2, 8); // grow: contents stay
  assert.equal(kv.capacity, 8);
  assert.deepEqual(at(kv, 0, "key", 1, 0, 1).map((x) => +x.toFixed(3)), [10.2, 10.21, 10.22]);
  kv.append(newRows(2, 1, 5000), [{ row: 1, from: 0, count: 1, at: 2 }]);
  assert.deepEqual(at(kv, 0, "key", 1, 1, 2).map((x) => +x.toFixed(3)), [5011, 5011.01, 5011.02]);
  const snap = kv.snapshot(1, 3);
  assert.equal(snap.bytes, 2 * 2 * 2 * 3 * 3 * 4);
  kv.select([1]);
  assert.equal(kv.batch, 1);
  assert.deepEqual(at(kv, 0, "key", 0, 1, 2).map((x) => +x.toFixed(3)), [5011, 5011.01, 5011.02]);
  const other = new KvStore(shape);
  other.ensure(3, 4);
  other.restore(2, snap, 2);
  assert.deepEqual(at(other, 1, "value", 2, 0, 1), at(kv, 1, "value", 0, 0, 1));
  assert.deepEqual(at(other, 1, "value", 2, 0, 2), [0, 0, 0]);
  assert.throws(() => kv.append(newRows(1, 1, 0), [{ row: 0, from: 0, count: 1, at: 8 }]), /fit/);
});

Deno.test("KvStore grows and compacts inside reserved buffers without reallocating", () => {
  const kv = new KvStore(shape);
  kv.reserve(8);
  kv.ensure(3, 2);
  assert.equal(kv.bytes, 2 * 2 * 3 * 2 * 8 * 3 * 4); // the reserve is allocated at once
  kv.append(newRows(3, 2, 0), [0, 1, 2].map((row) => ({ row, from: 0, count: 2, at: 0 })));
  const both = (b: number, h: number, p: number) => [
    ...at(kv, 1, "key", b, h, p),
    ...at(kv, 1, "value", b, h, p),
  ];
  const before = [0, 1, 2].map((b) => [0, 1].map((h) => [0, 1].map((p) => both(b, h, p))));
  const backing = kv.feeds()["past_key_values.1.key"].data.buffer;
  kv.ensure(3, 6); // grows inside the same buffer, rows intact
  assert.equal(kv.feeds()["past_key_values.1.key"].data.buffer, backing);
  assert.equal(kv.feeds()["past_key_values.1.key"].dims[2], 6);
  for (let b = 0; b < 3; b++) {
    for (let h = 0; h < 2; h++) {
      for (let p = 0; p < 2; p++) assert.deepEqual(both(b, h, p), before[b][h][p]);
    }
  }
  kv.select([0, 2]); // ascending rows: compacted in place
  assert.equal(kv.feeds()["past_key_values.1.key"].data.buffer, backing);
  assert.deepEqual(both(1, 1, 1), before[2][1][1]);
  assert.deepEqual(both(0, 0, 0), before[0][0][0]);
  kv.ensure(2, 3); // shrinking keeps the first positions
  assert.deepEqual(both(1, 1, 1), before[2][1][1]);
  kv.ensure(2, 16); // beyond the reserve: one new allocation, contents copied
  assert.notEqual(kv.feeds()["past_key_values.1.key"].data.buffer, backing);
  assert.deepEqual(both(1, 0, 1), before[2][0][1]);
  kv.select([1, 0]); // any order still works (by copy)
  assert.deepEqual(both(0, 0, 1), before[2][0][1]);
});

Deno.test("KvStore appends short and long runs of positions to the same places", () => {
  // Runs of 1..8 new positions (keys: 3..24 floats per head, values 1..8 per head dimension),
  // so both the element loop and the bulk copy write; every cached float is checked against
  // the code newRows gave it.
  const kv = new KvStore(shape);
  kv.ensure(2, 40);
  const expect: number[][] = [[], []]; // per row: the code base of each cached position
  let base = 0;
  for (const count of [1, 8, 2, 6, 1, 7]) {
    base += 10000;
    const S = count + 1;
    const out = newRows(2, S, base);
    kv.append(out, [0, 1].map((row) => ({ row, from: 1, count, at: expect[row].length })));
    for (const row of [0, 1]) {
      for (let s = 1; s <= count; s++) expect[row].push(base + s * 0.1);
    }
  }
  for (let i = 0; i < 2; i++) {
    for (const [k, kind] of [[0, "key"], [1, "value"]] as const) {
      for (const b of [0, 1]) {
        for (const h of [0, 1]) {
          expect[b].forEach((code, p) => {
            const want = [0, 1, 2].map((d) => code + i * 1000 + k * 100 + b * 10 + h + d * 0.01);
            const got = at(kv, i, kind, b, h, p);
            got.forEach((g, d) =>
              assert.ok(Math.abs(g - want[d]) < 1e-2, `${kind} ${b} ${h} ${p}`)
            );
          });
        }
      }
    }
  }
});
