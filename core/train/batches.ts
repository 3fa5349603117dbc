/**
 * Micro-batches: right padding (pad tokens masked out of attention and loss), length bucketing
 * (examples of similar length share a micro-batch, so little compute goes to padding), and a
 * deterministic per-epoch order derived from the seed — the data position of any step can be
 * recomputed, which is what makes resume exact.
 *
 * @module
 */

import type { HostTensor } from "../onnx/ort_run.ts";
import { Prng } from "../util/prng.ts";
import type { TokenizedExample } from "./chat_tokenize.ts";
import { countLossTokens, IGNORE_INDEX } from "./loss_graph.ts";

/** A padded micro-batch as graph feeds plus its token counts. */
export interface MicroBatch {
  feeds: {
    input_ids: HostTensor;
    attention_mask: HostTensor;
    position_ids: HostTensor;
    labels: HostTensor;
  };
  rows: number;
  seq: number;
  /** Per row: the example's `identities` (empty when it has none). */
  identities: string[][];
  /** Tokens that carry loss (after the next-token shift). */
  lossTokens: number;
  /** Non-pad tokens. */
  tokens: number;
}

/**
 * Right-pads examples to the longest one. Pad positions get `padId`, attention mask 0 and label
 * -100; position ids run 0..seq-1 on every row (pads sit after the real tokens, so causal
 * attention of real tokens never sees them).
 *
 * @example
 * ```ts
 * import { collate } from "./batches.ts";
 * const mb = collate([{ inputIds: [1, 2, 3], labels: [-100, 2, 3] }, { inputIds: [4], labels: [4] }], 0);
 * console.log(mb.seq, mb.lossTokens); // 3 2
 * ```
 */
export function collate(examples: TokenizedExample[], padId: number): MicroBatch {
  const rows = examples.length;
  const seq = Math.max(...examples.map((e) => e.inputIds.length));
  const ids = new BigInt64Array(rows * seq).fill(BigInt(padId));
  const mask = new BigInt64Array(rows * seq);
  const pos = new BigInt64Array(rows * seq);
  const labels = new BigInt64Array(rows * seq).fill(BigInt(IGNORE_INDEX));
  let lossTokens = 0;
  let tokens = 0;
  examples.forEach((e, r) => {
    for (let t = 0; t < seq; t++) pos[r * seq + t] = BigInt(t);
    e.inputIds.forEach((id, t) => {
      ids[r * seq + t] = BigInt(id);
      mask[r * seq + t] = 1n;
      labels[r * seq + t] = BigInt(e.labels[t]);
    });
    lossTokens += countLossTokens(e.labels);
    tokens += e.inputIds.length;
  });
  const shape = [rows, seq];
  return {
    feeds: {
      input_ids: { dtype: "int64", shape, data: ids },
      attention_mask: { dtype: "int64", shape, data: mask },
      position_ids: { dtype: "int64", shape, data: pos },
      labels: { dtype: "int64", shape, data: labels },
    },
    rows,
    seq,
    identities: examples.map((e) => e.identities?.slice() ?? []),
    lossTokens,
    tokens,
  };
}

/** Options of {@link epochOrder}. */
export interface EpochOrderOptions {
  microBatchSize: number;
  seed: number;
  /** Group similar lengths (default true). */
  bucketing?: boolean;
  /** Micro-batches per sorting window when bucketing. Default 16. */
  window?: number;
}

/** A seed for epoch `epoch` of run seed `seed`. */
export function epochSeed(seed: number, epoch: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(epoch + 1, 0x165667b1)) | 0;
}

/**
 * The micro-batches of one epoch as lists of example indices: shuffled with a seed derived from
 * (seed, epoch); with bucketing, each window of `window · microBatchSize` shuffled examples is
 * sorted by length before it is cut, and the micro-batches are shuffled again. Every epoch has
 * `ceil(n / microBatchSize)` micro-batches.
 *
 * @example
 * ```ts
 * import { epochOrder } from "./batches.ts";
 * const lengths = [5, 9, 3, 8, 4];
 * console.log(epochOrder(lengths, 0, { microBatchSize: 2, seed: 1 }));
 * ```
 */
export function epochOrder(
  lengths: number[],
  epoch: number,
  options: EpochOrderOptions,
): number[][] {
  const { microBatchSize: mbs } = options;
  const rng = new Prng(epochSeed(options.seed, epoch));
  const order = rng.shuffle(lengths.map((_, i) => i));
  const batches: number[][] = [];
  if (options.bucketing ?? true) {
    const span = mbs * (options.window ?? 16);
    for (let s = 0; s < order.length; s += span) {
      const win = order.slice(s, s + span).sort((a, b) => lengths[b] - lengths[a] || a - b);
      for (let k = 0; k < win.length; k += mbs) batches.push(win.slice(k, k + mbs));
    }
    return rng.shuffle(batches);
  }
  for (let k = 0; k < order.length; k += mbs) batches.push(order.slice(k, k + mbs));
  return batches;
}
