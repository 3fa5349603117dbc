/**
 * `dramatis merge <run dirs...> --out <dir>`: combines the run directories of an experiment's
 * shards into one run directory and writes its report. Idempotent; refuses directories from
 * different experiment configs, missing shards and unfinished steps.
 *
 * @module
 */

import { UsageError } from "../../errors.ts";
import { mergeRuns } from "../../experiment/merge_runs.ts";
import { writeReport } from "../../report/write_report.ts";
import type { HostVerb } from "../verb.ts";
import { printJson } from "../verb.ts";

/**
 * The `merge` verb.
 *
 * @example
 * ```ts
 * import { mergeVerb } from "./merge.ts";
 * console.log(mergeVerb.flags?.out.required); // true
 * ```
 */
export const mergeVerb: HostVerb = {
  name: "merge",
  description: "Merge the run directories of an experiment's shards (run --shard i/n) into one " +
    "run directory with its report.",
  positionals: ["<run dir>..."],
  flags: {
    out: { type: "string", required: true, description: "the merged run directory" },
    report: { type: "boolean", default: true, description: "write report.html (--no-report)" },
  },
  async run(args, ctx) {
    if (args.positionals.length === 0) {
      throw new UsageError(
        "dramatis merge needs the shard run directories, e.g. runs/exp-0 runs/exp-1",
      );
    }
    const result = await mergeRuns(args.positionals, { out: String(args.flags.out), log: ctx.log });
    const report = args.flags.report === false ? null : await writeReport(result.runDir);
    if (ctx.json) {
      printJson({
        name: result.name,
        run_dir: result.runDir,
        shards: result.shards,
        report,
        steps: result.steps,
      });
    } else {
      console.log(`${result.name}: merged ${result.shards} shard(s) into ${result.runDir}`);
      for (const s of result.steps) console.log(`  ${s.id.padEnd(20)} ${s.items} item(s)`);
      if (report) console.log(`Report: ${report}`);
    }
    return 0;
  },
};
