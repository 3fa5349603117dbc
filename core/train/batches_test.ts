import assert from "node:assert/strict";
import { collate, epochOrder } from "./batches.ts";

Deno.test("collate() right-pads with mask 0 and label -100 and counts loss tokens", () => {
  const mb = collate([
    { inputIds: [1, 2, 3], labels: [-100, 2, 3] },
    { inputIds: [4, 5], labels: [-100, 5] },
  ], 9);
  assert.deepEqual(mb.feeds.input_ids.shape, [2, 3]);
  assert.deepEqual([...mb.feeds.input_ids.data as BigInt64Array], [1n, 2n, 3n, 4n, 5n, 9n]);
  assert.deepEqual([...mb.feeds.attention_mask.data as BigInt64Array], [1n, 1n, 1n, 1n, 1n, 0n]);
  assert.deepEqual([...mb.feeds.labels.data as BigInt64Array], [-100n, 2n, 3n, -100n, 5n, -100n]);
  assert.deepEqual([...mb.feeds.position_ids.data as BigInt64Array], [0n, 1n, 2n, 0n, 1n, 2n]);
  assert.equal(mb.lossTokens, 3);
  assert.equal(mb.tokens, 5);
});

Deno.test("epochOrder() covers every example once, repeats per seed and epoch, and buckets lengths", () => {
  const lengths = Array.from({ length: 37 }, (_, i) => (i * 7919) % 50 + 1);
  const opts = { microBatchSize: 4, seed: 3 };
  const e0 = epochOrder(lengths, 0, opts);
  assert.equal(e0.length, Math.ceil(37 / 4));
  assert.deepEqual(e0.flat().sort((a, b) => a - b), lengths.map((_, i) => i));
  assert.deepEqual(epochOrder(lengths, 0, opts), e0);
  assert.notDeepEqual(epochOrder(lengths, 1, opts), e0);
  const padding = (batches: number[][]) =>
    batches.reduce(
      (s, b) =>
        s + b.length * Math.max(...b.map((i) => lengths[i])) -
        b.reduce((t, i) => t + lengths[i], 0),
      0,
    );
  assert.ok(padding(e0) < padding(epochOrder(lengths, 0, { ...opts, bucketing: false })));
});
