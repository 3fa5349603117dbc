/**
 * Slurm: an array job with one task per shard and a merge job that starts when every task
 * succeeded (`--dependency=afterok`, `--kill-on-invalid-dep=yes` so that Slurm cancels the merge
 * when a task fails). The scripts are plain `sbatch` scripts; `sbatch --parsable` submits them.
 *
 * @module
 */

import { join } from "node:path";
import { withCode } from "../../errors.ts";
import { writeFileAtomic } from "../../util/atomic.ts";
import { formatTaskList, type JobPlan, mergeArgv, shardArgv, shellQuote } from "./job_plan.ts";

/** Slurm settings of a submission. */
export interface SlurmOptions {
  /** `--job-name` of both jobs (the merge adds `-merge`). */
  jobName: string;
  /** Shard indices to run (all by default; a subset resubmits failed shards alone). */
  tasks: number[];
  partition?: string;
  time?: string;
  /** At most this many array tasks at once (`--array=…%K`). */
  maxParallel?: number;
  /** Further `sbatch` options, written as `#SBATCH` lines of both scripts. */
  extra: string[];
}

/** The two scripts and where they are written. */
export interface SlurmScripts {
  array: { path: string; text: string };
  merge: { path: string; text: string };
  logs: string;
}

function usage(message: string): Error {
  return withCode(new RangeError(message), "E_USAGE");
}

function checkDirective(value: string, what: string): string {
  if (/[\s]/.test(value)) {
    throw usage(
      `${what} '${value}' holds whitespace, which an #SBATCH line cannot carry; ` +
        "use a path or value without spaces",
    );
  }
  return value;
}

function header(plan: JobPlan, o: SlurmOptions, lines: string[]): string[] {
  const out = [
    ...lines,
    `#SBATCH --chdir=${checkDirective(plan.workdir, "the working directory")}`,
  ];
  if (o.partition) out.push(`#SBATCH --partition=${checkDirective(o.partition, "--partition")}`);
  if (o.time) out.push(`#SBATCH --time=${checkDirective(o.time, "--time")}`);
  for (const option of o.extra) {
    if (!option.startsWith("-") || /[\r\n]/.test(option)) {
      throw usage(
        `sbatch option '${option}' is not an option; pass options such as --account=lab or ` +
          "--mem=8G (after --, or with --sbatch)",
      );
    }
    out.push(`#SBATCH ${option}`);
  }
  return out;
}

/**
 * Writes the text of the array script and the merge script.
 *
 * @example
 * ```ts
 * import { dramatisCommand, makeJobPlan } from "./job_plan.ts";
 * import { slurmScripts } from "./slurm_job.ts";
 * const plan = makeJobPlan({
 *   name: "study", configHash: "ab12", experiment: "/srv/exp.json", shards: 3,
 *   workdir: "/srv", dramatis: dramatisCommand("deno"), globalArgs: [],
 * });
 * const s = slurmScripts(plan, { jobName: "dramatis-study", tasks: [0, 1, 2], extra: [] });
 * console.log(s.array.text.includes("#SBATCH --array=0-2")); // true
 * ```
 */
export function slurmScripts(plan: JobPlan, o: SlurmOptions): SlurmScripts {
  const dir = join(plan.shardsRoot, "slurm");
  const logs = join(plan.shardsRoot, "logs");
  checkDirective(logs, "the log folder");
  if (o.tasks.length === 0) throw usage("no shard to submit; --tasks is empty");
  const array = formatTaskList(o.tasks) +
    (o.maxParallel !== undefined ? `%${o.maxParallel}` : "");
  const hash = plan.configHash.slice(0, 12);
  const resubmit = `dramatis submit ${plan.experiment} --slurm --shards ${plan.shards} ` +
    `--out ${plan.out} --tasks <i>`;
  const arrayText = [
    "#!/bin/bash",
    ...header(plan, o, [
      `#SBATCH --job-name=${checkDirective(o.jobName, "--job-name")}`,
      `#SBATCH --array=${array}`,
      `#SBATCH --output=${logs}/shard-%a.job-%A.out`,
    ]),
    "#",
    `# One shard of experiment '${plan.name}' (config hash ${hash}) per array task, written by`,
    "# `dramatis submit`. Task i runs shard i of " + plan.shards + " into " +
    `${plan.shardsRoot}/<i>-of-${plan.shards};`,
    "# a task that failed or was cancelled can be resubmitted alone and resumes its finished items:",
    `#   ${resubmit}`,
    "set -euo pipefail",
    `exec ${shardArgv(plan).map(shellQuote).join(" ")}`,
    "",
  ].join("\n");
  const mergeText = [
    "#!/bin/bash",
    ...header(plan, o, [
      `#SBATCH --job-name=${checkDirective(o.jobName, "--job-name")}-merge`,
      `#SBATCH --output=${logs}/merge.job-%j.out`,
    ]),
    "#",
    `# Merges the ${plan.shards} shards of experiment '${plan.name}' (config hash ${hash}) into`,
    `# ${plan.out}, written by \`dramatis submit\`; submitted with --dependency=afterok:<array job>.`,
    "# The merge refuses missing or unfinished shards and shards of another config, naming them.",
    "set -euo pipefail",
    `exec ${mergeArgv(plan).map(shellQuote).join(" ")}`,
    "",
  ].join("\n");
  return {
    array: { path: join(dir, "shards.sbatch"), text: arrayText },
    merge: { path: join(dir, "merge.sbatch"), text: mergeText },
    logs,
  };
}

/** The sbatch argv that submit the scripts (`<array job id>` stands for the first one's id). */
export function sbatchCommands(scripts: SlurmScripts, arrayJobId = "<array job id>"): string[][] {
  return [
    ["sbatch", "--parsable", scripts.array.path],
    [
      "sbatch",
      "--parsable",
      `--dependency=afterok:${arrayJobId}`,
      "--kill-on-invalid-dep=yes",
      scripts.merge.path,
    ],
  ];
}

/** Runs `sbatch` (or another command) and returns the job id it prints with `--parsable`. */
async function sbatch(argv: string[], what: string, before = ""): Promise<string> {
  let result: Deno.CommandOutput;
  try {
    result = await new Deno.Command(argv[0], { args: argv.slice(1), stdin: "null" }).output();
  } catch (error) {
    throw withCode(
      new Error(
        `${before}cannot run ${argv[0]} (${(error as Error).message}); submit on a Slurm login ` +
          "node where sbatch is on PATH, or print the scripts with --dry-run",
      ),
      "E_SCHEDULER",
    );
  }
  const stdout = new TextDecoder().decode(result.stdout).trim();
  const stderr = new TextDecoder().decode(result.stderr).trim();
  const id = stdout.split("\n").at(-1)?.split(";")[0].trim() ?? "";
  if (!result.success || !/^\d+$/.test(id)) {
    throw withCode(
      new Error(
        `${before}sbatch refused the ${what} (exit ${result.code}): ${
          stderr || stdout || "no message"
        }`,
      ),
      "E_SCHEDULER",
    );
  }
  return id;
}

/** The job ids of a submission. */
export interface SlurmSubmission {
  arrayJobId: string;
  mergeJobId: string;
}

/**
 * Writes the scripts (atomically, under `<shards root>/slurm/`) and submits the array job and the
 * dependent merge job. `sbatchPath` replaces the `sbatch` command (tests).
 *
 * @example
 * ```ts
 * import { dramatisCommand, makeJobPlan } from "./job_plan.ts";
 * import { slurmScripts, submitSlurm } from "./slurm_job.ts";
 * const plan = makeJobPlan({
 *   name: "study", configHash: "ab12", experiment: "/srv/exp.json", shards: 3,
 *   workdir: "/srv", dramatis: dramatisCommand("deno"), globalArgs: [],
 * });
 * const ids = await submitSlurm(slurmScripts(plan, { jobName: "s", tasks: [0, 1, 2], extra: [] }));
 * console.log(ids.arrayJobId, ids.mergeJobId);
 * ```
 */
export async function submitSlurm(
  scripts: SlurmScripts,
  sbatchPath = "sbatch",
): Promise<SlurmSubmission> {
  await Deno.mkdir(scripts.logs, { recursive: true });
  await writeFileAtomic(scripts.array.path, scripts.array.text);
  await writeFileAtomic(scripts.merge.path, scripts.merge.text);
  const [arrayCmd] = sbatchCommands(scripts);
  const arrayJobId = await sbatch([sbatchPath, ...arrayCmd.slice(1)], "array job");
  const mergeCmd = sbatchCommands(scripts, arrayJobId)[1];
  const mergeJobId = await sbatch(
    [sbatchPath, ...mergeCmd.slice(1)],
    "merge job",
    `the array job ${arrayJobId} is queued, but `,
  );
  return { arrayJobId, mergeJobId };
}
