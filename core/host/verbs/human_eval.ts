/**
 * `dramatis human-eval export|report`: the human-evaluation round trip. `export` turns a set
 * (written by a plugin, e.g. `roleplay human-eval-set`, `hirpf human-eval-set`) into a shuffled,
 * anonymized HTML form and CSV sheet plus a private key; `report` reads the annotators' label
 * files back and reports accuracy, indistinguishability / identity recognition and the LLM judge's
 * agreement with the people (Cohen's κ with a bootstrap interval).
 *
 * @module
 */

import { join } from "node:path";
import { UsageError } from "../../errors.ts";
import { exportHumanEval } from "../../human_eval/export_set.ts";
import { readHumanEvalSet, readKey } from "../../human_eval/key.ts";
import { readLabels } from "../../human_eval/labels.ts";
import { formatHumanEvalReport, humanEvalReport } from "../../human_eval/report.ts";
import { writeJsonAtomic } from "../../util/atomic.ts";
import type { HostVerb } from "../verb.ts";
import { printJson } from "../verb.ts";

/** `human-eval export`. */
export const humanEvalExportVerb: HostVerb = {
  name: "export",
  description: "Write form.html (fill in a browser, saves a labels file), items.csv and the " +
    "private key.json for a human-evaluation set; items are shuffled and renamed item-001…",
  flags: {
    set: { type: "string", description: "human-evaluation set (JSON)", required: true },
    out: { type: "string", description: "output directory", required: true },
    seed: { type: "number", description: "shuffle seed", default: 0 },
  },
  async run(args, ctx) {
    const set = await readHumanEvalSet(args.flags.set as string);
    const files = await exportHumanEval(set, {
      out: args.flags.out as string,
      seed: args.flags.seed as number,
    });
    if (ctx.json) printJson(files);
    else {
      console.log(
        `${files.items} items → ${files.form} (send to annotators), ${files.csv}; keep ${files.key} private`,
      );
    }
    return 0;
  },
};

/** `human-eval report`. */
export const humanEvalReportVerb: HostVerb = {
  name: "report",
  description: "Read annotators' label files (the form's JSON or a filled items.csv) against the " +
    "key and report accuracy, indistinguishability / identity recognition and judge-vs-people κ.",
  flags: {
    key: { type: "string", description: "key.json written by export", required: true },
    labels: {
      type: "string",
      description: "labels file (.json from the form or .csv), one per annotator",
      multiple: true,
      required: true,
    },
    resamples: { type: "number", description: "bootstrap resamples", default: 2000 },
    level: { type: "number", description: "confidence level of the κ interval", default: 0.95 },
    seed: { type: "number", description: "bootstrap seed", default: 0 },
    out: { type: "string", description: "write report.json here (a directory)" },
  },
  async run(args, ctx) {
    const key = await readKey(args.flags.key as string);
    const files = args.flags.labels as string[];
    if (!files?.length) {
      throw new UsageError("human-eval report: give --labels <file> (repeatable)");
    }
    const sets = [];
    for (const f of files) sets.push(await readLabels(f, key));
    const report = humanEvalReport(key, sets, {
      resamples: args.flags.resamples as number,
      level: args.flags.level as number,
      seed: args.flags.seed as number,
    });
    if (typeof args.flags.out === "string") {
      await writeJsonAtomic(join(args.flags.out, "report.json"), report);
    }
    if (ctx.json) printJson(report);
    else console.log(formatHumanEvalReport(report).join("\n"));
    return 0;
  },
};

/** The `human-eval` verb. */
export const humanEvalVerb: HostVerb = {
  name: "human-eval",
  description: "Human evaluation: 'export' a set as an annotation form, 'report' on the labels.",
  positionals: ["export|report"],
  subcommands: [humanEvalExportVerb, humanEvalReportVerb],
};
