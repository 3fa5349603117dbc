/**
 * What a scheduler job of a sharded experiment runs: the same `dramatis run --shard auto/N`
 * command in every array task (each writes `<out>.shards/<i>-of-<N>`) and one `dramatis merge`
 * of all shard directories into `<out>`. Slurm scripts and Kubernetes manifests are written from
 * this one description, so both schedulers run the same commands.
 *
 * @module
 */

import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../../errors.ts";
import { shardDirName, shardsRoot } from "../../experiment/shard.ts";

/** The commands and folders of a sharded submission; every path is absolute. */
export interface JobPlan {
  /** Experiment name (from the file). */
  name: string;
  /** Config hash of the experiment; the merge refuses shards with another one. */
  configHash: string;
  /** The experiment file. */
  experiment: string;
  /** Number of shards (array tasks). */
  shards: number;
  /** The merged run directory. */
  out: string;
  /** The folder holding one run directory per shard. */
  shardsRoot: string;
  /** The working directory of every job (relative paths in the experiment resolve against it). */
  workdir: string;
  /** How a job starts the Dramatis CLI: deno, its flags, the entry module. */
  dramatis: string[];
  /** Global flags the jobs repeat (`--plugin`, `--plugin-options`). */
  globalArgs: string[];
}

/** The repository this CLI runs from (the jobs run the same checkout, on a shared filesystem). */
export const REPO_ROOT: string = fileURLToPath(new URL("../../../", import.meta.url));

/**
 * The argv prefix that starts the Dramatis CLI of this checkout with `deno` (a command, maybe
 * with arguments such as `npx --yes deno@2.9.6`); the config flag makes it independent of the
 * job's working directory.
 *
 * @example
 * ```ts
 * import { dramatisCommand } from "./job_plan.ts";
 * console.log(dramatisCommand("deno", "/srv/dramatis/").join(" "));
 * // deno run -A --config /srv/dramatis/deno.json /srv/dramatis/main.ts
 * ```
 */
export function dramatisCommand(deno: string, repoRoot: string = REPO_ROOT): string[] {
  const words = deno.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) throw new UsageError("--deno is empty; give the deno command");
  return [
    ...words,
    "run",
    "-A",
    "--config",
    join(repoRoot, "deno.json"),
    join(repoRoot, "main.ts"),
  ];
}

/**
 * Builds a plan; `out` defaults to `runs/<name>` under `workdir`.
 *
 * @example
 * ```ts
 * import { dramatisCommand, makeJobPlan } from "./job_plan.ts";
 * const plan = makeJobPlan({
 *   name: "study", configHash: "ab12", experiment: "/srv/exp.json", shards: 3,
 *   workdir: "/srv", dramatis: dramatisCommand("deno"), globalArgs: [],
 * });
 * console.log(plan.shardsRoot); // /srv/runs/study.shards
 * ```
 */
export function makeJobPlan(input: {
  name: string;
  configHash: string;
  experiment: string;
  shards: number;
  out?: string;
  workdir: string;
  dramatis: string[];
  globalArgs: string[];
}): JobPlan {
  if (!Number.isInteger(input.shards) || input.shards < 1) {
    throw new UsageError(`--shards is ${input.shards}; give a whole number >= 1`);
  }
  const abs = (p: string) => isAbsolute(p) ? p : resolve(input.workdir, p);
  const out = abs(input.out ?? join("runs", input.name));
  return {
    ...input,
    experiment: abs(input.experiment),
    out,
    shardsRoot: shardsRoot(out),
  };
}

/** The run directory of shard `index`. */
export function shardDir(plan: JobPlan, index: number): string {
  return join(plan.shardsRoot, shardDirName({ index, count: plan.shards }));
}

/** The argv of one shard's job; the index comes from the scheduler (`--shard auto/N`). */
export function shardArgv(plan: JobPlan): string[] {
  return [
    ...plan.dramatis,
    ...plan.globalArgs,
    "run",
    plan.experiment,
    "--shard",
    `auto/${plan.shards}`,
    "--shards-dir",
    plan.shardsRoot,
    "--no-report",
  ];
}

/** The argv of the merge job: every shard directory by name, so a missing one is named. */
export function mergeArgv(plan: JobPlan): string[] {
  return [
    ...plan.dramatis,
    ...plan.globalArgs,
    "merge",
    ...Array.from({ length: plan.shards }, (_, i) => shardDir(plan, i)),
    "--out",
    plan.out,
  ];
}

/**
 * Quotes a word for a POSIX shell (unchanged when it needs no quoting).
 *
 * @example
 * ```ts
 * import { shellQuote } from "./job_plan.ts";
 * console.log(shellQuote("a b'c")); // 'a b'\''c'
 * ```
 */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_\/.,:=@%+-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * Parses a Slurm-style list of task ids (`1`, `0,2`, `3-5`) of `count` shards into sorted ids.
 *
 * @example
 * ```ts
 * import { parseTaskList } from "./job_plan.ts";
 * console.log(parseTaskList("4,0-2", 5)); // [0, 1, 2, 4]
 * ```
 */
export function parseTaskList(text: string, count: number): number[] {
  const ids = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const from = m ? Number(m[1]) : NaN;
    const to = m ? Number(m[2] ?? m[1]) : NaN;
    if (!m || to < from || to >= count) {
      throw new UsageError(
        `--tasks is '${text}'; list shard indices below --shards ${count}, e.g. 1 or 0,2-3`,
      );
    }
    for (let i = from; i <= to; i++) ids.add(i);
  }
  return [...ids].sort((a, b) => a - b);
}

/**
 * Writes sorted ids in Slurm's compact array form.
 *
 * @example
 * ```ts
 * import { formatTaskList } from "./job_plan.ts";
 * console.log(formatTaskList([0, 1, 2, 4])); // "0-2,4"
 * ```
 */
export function formatTaskList(ids: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ids.length;) {
    let j = i;
    while (j + 1 < ids.length && ids[j + 1] === ids[j] + 1) j++;
    parts.push(i === j ? `${ids[i]}` : `${ids[i]}-${ids[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}
