/**
 * Deterministic sharding of work items: `--shard i/n` (0-based `i`, as Kubernetes
 * `JOB_COMPLETION_INDEX` and a Slurm array `--array=0-(n-1)` number their tasks) keeps the items
 * whose index is `i` modulo `n`. Item indices come from the item's origin, so every shard agrees
 * on them without talking to the others.
 *
 * @module
 */

import { withCode } from "../errors.ts";

/** One shard of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/**
 * Parses `i/n`.
 *
 * @example
 * ```ts
 * import { parseShard } from "./shard.ts";
 * console.log(parseShard("2/8")); // { index: 2, count: 8 }
 * ```
 */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw withCode(
      new RangeError(
        `--shard is '${text}'; write i/n with 0 <= i < n, e.g. --shard 0/4 ` +
          "(Slurm: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT with --array=0-3)",
      ),
      "E_USAGE",
    );
  }
  return { index, count };
}

/**
 * Whether an item index belongs to a shard (every index belongs to the absent shard).
 *
 * @example
 * ```ts
 * import { inShard } from "./shard.ts";
 * console.log([0, 1, 2, 3, 4].filter((i) => inShard(i, { index: 1, count: 2 }))); // [1, 3]
 * ```
 */
export function inShard(index: number, shard: Shard | undefined): boolean {
  return shard === undefined || index % shard.count === shard.index;
}

/** `i/n`, or the empty string for an unsharded run. */
export function formatShard(shard: Shard | undefined): string {
  return shard ? `${shard.index}/${shard.count}` : "";
}
