/**
 * `dramatis submit <experiment> --slurm --shards N`: hands a sharded experiment to Slurm as an
 * array job (one task per shard, `run --shard auto/N`) plus a merge job that depends on it
 * (`--dependency=afterok`), and prints the job ids. `--dry-run` prints the scripts instead;
 * `--k8s --dry-run` prints a Kubernetes Indexed Job manifest of the same commands. The
 * scheduler is Slurm's or Kubernetes': Dramatis keeps no queue of its own.
 *
 * @module
 */

import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { UsageError } from "../../errors.ts";
import { loadExperimentFile } from "../../experiment/load_experiment.ts";
import { prepareExperiment } from "../../experiment/prepare_experiment.ts";
import { downloadModel, HUB_ID } from "../../model/hub.ts";
import {
  dramatisCommand,
  makeJobPlan,
  mergeArgv,
  parseTaskList,
  shardArgv,
  shellQuote,
} from "../submit/job_plan.ts";
import { k8sJobs, k8sManifest } from "../submit/k8s_job.ts";
import { sbatchCommands, slurmScripts, submitSlurm } from "../submit/slurm_job.ts";
import type { HostContext, HostVerb } from "../verb.ts";
import { printJson } from "../verb.ts";

/** The cache root (hub snapshots, exported graphs) the jobs must share with this process. */
function dramatisCacheDir(): string {
  return Deno.env.get("DRAMATIS_CACHE") || join(homedir(), ".cache", "dramatis");
}

/** `--plugin` / `--plugin-options` of this invocation, for the jobs to repeat. */
function globalArgs(ctx: HostContext): string[] {
  const out: string[] = [];
  for (const { source } of ctx.registry.list()) {
    if (source === "built-in") continue;
    const abs = /^[a-z][a-z0-9+.-]*:/i.test(source) || isAbsolute(source)
      ? source
      : resolve(source);
    out.push("--plugin", abs);
  }
  for (const [name, value] of ctx.pluginOptions) {
    out.push("--plugin-options", `${name}=${JSON.stringify(value)}`);
  }
  return out;
}

function positiveInt(value: unknown, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    throw new UsageError(`--${flag} is ${value}; give a whole number >= 1`);
  }
  return value;
}

/**
 * Hub ids among the experiment's local models and persona base models (not folders that exist,
 * not templates filled in by earlier steps). `submit` downloads them into the shared cache before
 * queueing, so the shards find them there: compute nodes are often offline, and shards that
 * downloaded at once would write the same files.
 */
export function hubModelIds(
  models: Record<string, { kind: string; path?: string }>,
  personas: Record<string, { model: string }>,
  baseDir: string,
): string[] {
  const refs = [
    ...Object.values(models).filter((m) => m.kind === "local").map((m) => m.path ?? ""),
    ...Object.values(personas).map((p) => p.model),
  ];
  const found = (path: string) =>
    [resolve(baseDir, path), resolve(path)].some((p) => {
      try {
        Deno.statSync(p);
        return true;
      } catch {
        return false;
      }
    });
  return [...new Set(refs.filter((r) => !r.includes("{{") && HUB_ID.test(r) && !found(r)))]
    .sort();
}

/**
 * The `submit` verb. `sbatch` is looked up on PATH (`SLURM_CONF` picks the cluster).
 *
 * @example
 * ```ts
 * import { submitVerb } from "./submit.ts";
 * console.log(submitVerb.flags?.shards.required); // true
 * ```
 */
export const submitVerb: HostVerb = {
  name: "submit",
  description: "Submit an experiment in N shards to Slurm (an array job plus a dependent merge " +
    "job) or print a Kubernetes Indexed Job manifest for it. Options after -- go to sbatch.",
  positionals: ["<experiment.json|ts>", "[-- sbatch options...]"],
  flags: {
    slurm: { type: "boolean", description: "submit to Slurm with sbatch (array job + merge job)" },
    k8s: {
      type: "boolean",
      description: "print a Kubernetes Indexed Job manifest (with --dry-run)",
    },
    shards: { type: "number", required: true, description: "number of shards (array tasks)" },
    out: {
      type: "string",
      description:
        "merged run directory (default runs/<experiment name>); shards go to <out>.shards/",
    },
    tasks: {
      type: "string",
      description:
        "only these shard indices, e.g. 1 or 0,2-3 (resubmit failed shards; they resume)",
    },
    partition: { type: "string", description: "Slurm partition (sbatch --partition)" },
    time: { type: "string", description: "Slurm time limit per task, e.g. 02:00:00" },
    "job-name": { type: "string", description: "job name (default dramatis-<experiment name>)" },
    "max-parallel": { type: "number", description: "at most this many shards at once" },
    sbatch: {
      type: "string",
      multiple: true,
      description: "one more sbatch option for both jobs, e.g. --sbatch=--account=lab",
    },
    deno: {
      type: "string",
      description: "how jobs start deno (default: this deno's absolute path; k8s: deno), " +
        "e.g. 'npx --yes deno@2.9.6'",
    },
    image: { type: "string", default: "denoland/deno:2.9.6", description: "k8s container image" },
    pvc: {
      type: "string",
      default: "dramatis-shared",
      description: "k8s ReadWriteMany PersistentVolumeClaim with checkout, data and runs",
    },
    "mount-path": {
      type: "string",
      description: "where the k8s pods mount the claim (default: the working directory)",
    },
    namespace: { type: "string", description: "k8s namespace" },
    secret: { type: "string", description: "k8s Secret whose keys become environment variables" },
    cpu: { type: "string", description: "k8s CPU request per pod, e.g. 4" },
    memory: { type: "string", description: "k8s memory request per pod, e.g. 16Gi" },
    "dry-run": { type: "boolean", description: "print the scripts or manifest; submit nothing" },
    fetch: {
      type: "boolean",
      description: "download hub models into the shared cache first (default with --slurm; " +
        "--no-fetch skips it; with --k8s --dry-run it fetches only when given)",
    },
  },
  async run(args, ctx) {
    const [file, ...extra] = args.positionals;
    if (!file) {
      throw new UsageError(
        "dramatis submit takes an experiment file, e.g. submit examples/roleplay.json --slurm " +
          "--shards 4",
      );
    }
    const slurm = args.flags.slurm === true;
    const k8s = args.flags.k8s === true;
    if (slurm === k8s) {
      throw new UsageError("dramatis submit: choose one scheduler, --slurm or --k8s");
    }
    const dryRun = args.flags["dry-run"] === true;
    if (k8s && !dryRun) {
      throw new UsageError(
        "dramatis submit --k8s prints the manifest only: add --dry-run and apply it with kubectl " +
          "(the printed header has the commands)",
      );
    }
    const shards = positiveInt(args.flags.shards, "shards")!;
    const maxParallel = positiveInt(args.flags["max-parallel"], "max-parallel");
    const sbatchExtra = [
      ...((args.flags.sbatch as string[] | undefined) ?? []),
      ...extra,
    ];
    if (k8s && sbatchExtra.length) {
      throw new UsageError(`sbatch options (${sbatchExtra.join(" ")}) go with --slurm, not --k8s`);
    }

    // Validate the whole experiment before anything is queued.
    const loaded = await loadExperimentFile(file);
    const prepared = await prepareExperiment(loaded, ctx.registry, {
      pluginOptionOverrides: ctx.pluginOptions,
    });
    const workdir = Deno.cwd();
    const deno = typeof args.flags.deno === "string"
      ? args.flags.deno
      : k8s
      ? "deno"
      : Deno.execPath();
    const plan = makeJobPlan({
      name: prepared.experiment.name,
      configHash: prepared.configHash,
      experiment: resolve(file),
      shards,
      out: typeof args.flags.out === "string" ? args.flags.out : undefined,
      workdir,
      dramatis: dramatisCommand(deno),
      globalArgs: globalArgs(ctx),
    });

    const fetch = args.flags.fetch === true || (slurm && !dryRun && args.flags.fetch !== false);
    if (fetch) {
      for (
        const id of hubModelIds(prepared.experiment.models, prepared.personas, prepared.baseDir)
      ) {
        ctx.log(`fetching ${id} into the shared model cache before the shards start`);
        await downloadModel(id);
      }
    }

    if (k8s) {
      const options = {
        image: String(args.flags.image),
        pvc: String(args.flags.pvc),
        mountPath: typeof args.flags["mount-path"] === "string"
          ? resolve(args.flags["mount-path"])
          : workdir,
        namespace: args.flags.namespace as string | undefined,
        maxParallel,
        backoffLimitPerIndex: 2,
        secret: args.flags.secret as string | undefined,
        cpu: args.flags.cpu as string | undefined,
        memory: args.flags.memory as string | undefined,
        cacheDir: dramatisCacheDir(),
      };
      if (args.flags.tasks !== undefined) {
        throw new UsageError(
          "--tasks is for Slurm; an Indexed Job retries a failed index alone by itself",
        );
      }
      if (ctx.json) {
        printJson({ scheduler: "k8s", dry_run: true, manifests: k8sJobs(plan, options) });
      } else console.log(k8sManifest(plan, options));
      return 0;
    }

    const tasks = typeof args.flags.tasks === "string"
      ? parseTaskList(args.flags.tasks, shards)
      : Array.from({ length: shards }, (_, i) => i);
    const scripts = slurmScripts(plan, {
      jobName: typeof args.flags["job-name"] === "string"
        ? args.flags["job-name"]
        : `dramatis-${plan.name}`,
      tasks,
      partition: args.flags.partition as string | undefined,
      time: args.flags.time as string | undefined,
      maxParallel,
      extra: sbatchExtra,
    });
    const summary = {
      scheduler: "slurm",
      name: plan.name,
      config_hash: plan.configHash,
      shards,
      tasks,
      out: plan.out,
      shards_dir: plan.shardsRoot,
      logs: scripts.logs,
      scripts: { array: scripts.array.path, merge: scripts.merge.path },
    };
    if (dryRun) {
      const commands = sbatchCommands(scripts).map((c) => c.map(shellQuote).join(" "));
      if (ctx.json) {
        printJson({
          ...summary,
          dry_run: true,
          scripts: {
            array: { path: scripts.array.path, text: scripts.array.text },
            merge: { path: scripts.merge.path, text: scripts.merge.text },
          },
          commands,
          shard_command: shardArgv(plan),
          merge_command: mergeArgv(plan),
        });
      } else {
        console.log(`# ${scripts.array.path}\n${scripts.array.text}`);
        console.log(`# ${scripts.merge.path}\n${scripts.merge.text}`);
        console.log(`# submit (not done: --dry-run):\n${commands.join("\n")}`);
      }
      return 0;
    }
    const ids = await submitSlurm(scripts);
    if (ctx.json) {
      printJson({
        ...summary,
        array_job_id: ids.arrayJobId,
        merge_job_id: ids.mergeJobId,
      });
    } else {
      console.log(
        `${plan.name}: array job ${ids.arrayJobId} (shards ${tasks.join(",")} of ${shards}), ` +
          `merge job ${ids.mergeJobId} (after every shard succeeded)`,
      );
      console.log(`Shard run directories: ${plan.shardsRoot}/<i>-of-${shards}`);
      console.log(`Merged run directory: ${plan.out}`);
      console.log(`Logs: ${scripts.logs}`);
    }
    return 0;
  },
};
