/**
 * `dramatis run <experiment.json|ts>`: validates the experiment completely, runs its steps into a
 * run directory (resuming finished work), writes `report.html` and prints its path.
 *
 * @module
 */

import { join } from "node:path";
import { UsageError } from "../../errors.ts";
import { loadExperimentFile } from "../../experiment/load_experiment.ts";
import type { ChatModelFactory } from "../../experiment/model_pool.ts";
import { runExperiment } from "../../experiment/run_experiment.ts";
import { parseShardOption, schedulerEnvironment, shardDirName } from "../../experiment/shard.ts";
import { writeReport } from "../../report/write_report.ts";
import type { HostVerb } from "../verb.ts";
import { printJson } from "../verb.ts";

/** What a test may plug into the run verb. */
export interface RunVerbOptions {
  /**
   * Builds ChatModels for the experiment's `models`; default the context's model hub (local
   * engine with `--provider` / `--threads` and each entry's `options`, OpenAI-compatible, persona).
   */
  modelFactory?: ChatModelFactory;
}

/**
 * Makes the `run` verb with the host's ChatModel factory.
 *
 * @example
 * ```ts
 * import { createRunVerb } from "./run.ts";
 * import { echoFactory } from "../../experiment/testing/toy_plugin.ts";
 * const runVerb = createRunVerb({ modelFactory: echoFactory });
 * console.log(runVerb.name); // "run"
 * ```
 */
export function createRunVerb(options: RunVerbOptions = {}): HostVerb {
  return {
    name: "run",
    description: "Run an experiment file that mixes plugins. Finished steps whose inputs are " +
      "unchanged are skipped, an interrupted step resumes, and report.html is written at the end.",
    positionals: ["<experiment.json|ts>"],
    flags: {
      out: {
        type: "string",
        description: "run directory (default runs/<experiment name>, for a shard " +
          "runs/<experiment name>.shards/<i>-of-<n>)",
      },
      shard: {
        type: "string",
        description:
          "run only shard i of n (0-based) of each fan-out step, e.g. 0/4; merge after. " +
          "'auto' takes i and n from a Slurm array task (SLURM_ARRAY_TASK_ID/_COUNT), " +
          "'auto/N' takes i from Slurm or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)",
      },
      "shards-dir": {
        type: "string",
        description: "with --shard: write the run to <dir>/<i>-of-<n> (instead of --out)",
      },
      force: { type: "boolean", description: "rerun every step even if finished" },
      report: { type: "boolean", default: true, description: "write report.html (--no-report)" },
    },
    async run(args, ctx) {
      const [file, ...extra] = args.positionals;
      if (!file || extra.length) {
        throw new UsageError(
          `dramatis run takes one experiment file (.json or .ts); got ${
            args.positionals.length ? args.positionals.join(" ") : "none"
          }`,
        );
      }
      const shard = typeof args.flags.shard === "string"
        ? parseShardOption(args.flags.shard, schedulerEnvironment())
        : undefined;
      const shardsDir = args.flags["shards-dir"];
      if (typeof shardsDir === "string" && (!shard || typeof args.flags.out === "string")) {
        throw new UsageError(
          "dramatis run: --shards-dir goes with --shard and without --out " +
            `(got --shards-dir ${shardsDir}${shard ? " and --out" : " without --shard"})`,
        );
      }
      const out = typeof shardsDir === "string" && shard
        ? join(shardsDir, shardDirName(shard))
        : typeof args.flags.out === "string"
        ? args.flags.out
        : undefined;
      const modelFactory = options.modelFactory ?? ctx.models.experimentFactory();
      const loaded = await loadExperimentFile(file);
      const result = await runExperiment(loaded, {
        registry: ctx.registry,
        modelFactory,
        models: ctx.models,
        out,
        shard,
        force: args.flags.force === true,
        signal: ctx.signal,
        log: ctx.log,
        progress: true,
        pluginOptionOverrides: ctx.pluginOptions,
      });
      const report = args.flags.report === false ? null : await writeReport(result.runDir);
      if (ctx.json) {
        printJson({
          name: result.name,
          run_dir: result.runDir,
          shard: result.shard || null,
          config_hash: result.configHash,
          report,
          steps: result.steps,
        });
      } else {
        const ran = result.steps.filter((s) => s.status === "ran").length;
        console.log(
          `${result.name}: ${ran} step(s) ran, ${result.steps.length - ran} skipped` +
            (result.shard ? ` (shard ${result.shard})` : ""),
        );
        console.log(`Run directory: ${result.runDir}`);
        if (report) console.log(`Report: ${report}`);
        if (result.shard) {
          console.log(
            "Merge the shards with: dramatis merge <each shard's run directory, or the folder " +
              "holding them> --out <dir>",
          );
        }
      }
      return 0;
    },
  };
}

/** The `run` verb (models built by the context's model hub). */
export const runVerb: HostVerb = createRunVerb();
