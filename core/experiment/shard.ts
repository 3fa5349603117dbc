/**
 * Deterministic sharding of work items: `--shard i/n` (0-based `i`, as Kubernetes
 * `JOB_COMPLETION_INDEX` and a Slurm array `--array=0-(n-1)` number their tasks) keeps the items
 * whose index is `i` modulo `n`. Item indices come from the item's origin, so every shard agrees
 * on them without talking to the others. `--shard auto` (or `auto/n`) reads `i` (and `n`) from
 * the scheduler's environment instead.
 *
 * Each shard of a run writes its own run directory, `<shards root>/<i>-of-<n>`, so shards on
 * hosts that share one filesystem never write the same file.
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

/** The scheduler variables `--shard auto` reads (a snapshot of the environment). */
export type ShardEnvironment = Record<string, string | undefined>;

function shardEnvError(message: string): Error {
  return withCode(new RangeError(message), "E_USAGE");
}

function envInt(env: ShardEnvironment, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d+$/.test(raw.trim())) {
    throw shardEnvError(`--shard auto: ${name} is '${raw}', not a whole number >= 0`);
  }
  return Number(raw);
}

/**
 * The shard of this process under a scheduler: the index from Slurm's `SLURM_ARRAY_TASK_ID` or
 * Kubernetes' `JOB_COMPLETION_INDEX` (Indexed Jobs); the count from `count` when given (always
 * needed under Kubernetes, and when a Slurm array holds only some shards, as when one failed
 * shard is resubmitted alone), else from `SLURM_ARRAY_TASK_COUNT` or `SLURM_ARRAY_TASK_MIN` /
 * `SLURM_ARRAY_TASK_MAX`, which must then describe the whole array `0-(n-1)`.
 *
 * @example
 * ```ts
 * import { shardFromEnvironment } from "./shard.ts";
 * const env = { SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_COUNT: "4" };
 * console.log(shardFromEnvironment(env)); // { index: 2, count: 4 }
 * console.log(shardFromEnvironment({ JOB_COMPLETION_INDEX: "1" }, 3)); // { index: 1, count: 3 }
 * ```
 */
export function shardFromEnvironment(env: ShardEnvironment, count?: number): Shard {
  const slurmId = envInt(env, "SLURM_ARRAY_TASK_ID");
  const k8sIndex = envInt(env, "JOB_COMPLETION_INDEX");
  const index = slurmId ?? k8sIndex;
  if (index === undefined) {
    throw shardEnvError(
      "--shard auto: neither SLURM_ARRAY_TASK_ID (a Slurm array task) nor JOB_COMPLETION_INDEX " +
        "(a Kubernetes Indexed Job) is set, so there is no scheduler to take the shard from; " +
        "pass --shard i/n, or submit with 'dramatis submit <experiment> --slurm --shards N'",
    );
  }
  let n = count;
  if (n === undefined && slurmId !== undefined) {
    const min = envInt(env, "SLURM_ARRAY_TASK_MIN");
    const max = envInt(env, "SLURM_ARRAY_TASK_MAX");
    const total = envInt(env, "SLURM_ARRAY_TASK_COUNT");
    if (min !== undefined && max !== undefined && min !== 0) {
      throw shardEnvError(
        `--shard auto: the Slurm array is ${min}-${max}, not 0-(n-1), so the shard count is ` +
          "unknown (a resubmitted subset?); give it: --shard auto/N",
      );
    }
    n = total ?? (max !== undefined ? max + 1 : undefined);
    if (n !== undefined && max !== undefined && max + 1 !== n) {
      throw shardEnvError(
        `--shard auto: the Slurm array holds ${n} task(s) but reaches index ${max}, so it is not ` +
          "0-(n-1) (a resubmitted subset, or a step in the ids?); give the count: --shard auto/N",
      );
    }
  }
  if (n === undefined) {
    throw shardEnvError(
      slurmId !== undefined
        ? "--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT and " +
          "SLURM_ARRAY_TASK_MAX are not; give the count: --shard auto/N"
        : "--shard auto: JOB_COMPLETION_INDEX is set, but Kubernetes does not tell the number " +
          "of completions; give it: --shard auto/N (N = the Job's spec.completions)",
    );
  }
  if (n < 1 || index >= n) {
    throw shardEnvError(
      `--shard auto: the scheduler says task ${index}, but there are ${n} shard(s) ` +
        "(indices 0 to n-1); check the array range and --shard auto/N",
    );
  }
  return { index, count: n };
}

/**
 * Parses `--shard`: `i/n`, `auto` or `auto/n` (see {@link shardFromEnvironment}).
 *
 * @example
 * ```ts
 * import { parseShardOption } from "./shard.ts";
 * console.log(parseShardOption("auto/3", { SLURM_ARRAY_TASK_ID: "1" })); // { index: 1, count: 3 }
 * console.log(parseShardOption("0/2", {})); // { index: 0, count: 2 }
 * ```
 */
export function parseShardOption(text: string, env: ShardEnvironment): Shard {
  const auto = /^\s*auto\s*(?:\/\s*(\d+)\s*)?$/.exec(text);
  if (!auto) return parseShard(text);
  const count = auto[1] === undefined ? undefined : Number(auto[1]);
  if (count !== undefined && count < 1) {
    throw shardEnvError(`--shard is '${text}'; the count after auto/ must be at least 1`);
  }
  return shardFromEnvironment(env, count);
}

/** The environment variables {@link shardFromEnvironment} reads, from `Deno.env`. */
export function schedulerEnvironment(): ShardEnvironment {
  const names = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "JOB_COMPLETION_INDEX",
  ];
  const out: ShardEnvironment = {};
  for (const name of names) {
    try {
      out[name] = Deno.env.get(name);
    } catch { /* no env permission: as if unset */ }
  }
  return out;
}

/**
 * The folder name of a shard's run directory inside the shards root: `<i>-of-<n>`.
 *
 * @example
 * ```ts
 * import { shardDirName } from "./shard.ts";
 * console.log(shardDirName({ index: 1, count: 3 })); // "1-of-3"
 * ```
 */
export function shardDirName(shard: Shard): string {
  return `${shard.index}-of-${shard.count}`;
}

/**
 * The folder that holds the shard run directories of the run that merges into `out`.
 *
 * @example
 * ```ts
 * import { shardsRoot } from "./shard.ts";
 * console.log(shardsRoot("runs/exp")); // "runs/exp.shards"
 * ```
 */
export function shardsRoot(out: string): string {
  return `${out.replace(/[\\/]+$/, "")}.shards`;
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
