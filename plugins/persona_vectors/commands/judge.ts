/**
 * `persona_vectors judge`: trait and coherence scores for rollout files (spec B3); null verdicts
 * are counted per file and reported with their reasons.
 *
 * @module
 */

import { basename, join } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { judgeRows, type JudgeRowsStats } from "../judge_rows.ts";
import { readRows, writeRows } from "../rows_file.ts";
import { splitArtifact, traitBaseName } from "../trait_artifact.ts";
import { emit, JUDGE_FLAGS, need, progress, resolveArtifact, str } from "./common.ts";
import { openJudges } from "./judges.ts";

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors judge --trait optimistic --in runs/opt/optimistic_pos.csv \
 *   --in runs/opt/optimistic_neg.csv --judge-base-url http://127.0.0.1:8000/v1 --judge-api-model judge
 * ```
 */
export const judgeCommand: PluginCommand = {
  name: "judge",
  description:
    "Score rollout files with the trait and coherence judges (nulls counted and reported).",
  flags: {
    trait: { type: "string", description: "shipped trait name or artifact path", required: true },
    in: {
      type: "string",
      multiple: true,
      description: "rollout file (.csv/.jsonl), repeatable",
      required: true,
    },
    out: { type: "string", description: "output directory (default: rewrite the inputs in place)" },
    "judge-mode": {
      type: "string",
      description: "scoring mode of an endpoint judge",
      choices: ["0_100", "0_10", "binary", "binary_text"],
      default: "0_100",
    },
    split: {
      type: "string",
      choices: ["extract", "eval"],
      description: "which half's judge template scores the files (default: extract for " +
        "*_pos/*_neg files, eval otherwise); differs only for traits whose released halves differ",
    },
    threads: { type: "number", description: "onnxruntime threads of a local judge" },
    "api-key": { type: "string", description: "API key for the judge endpoint" },
    ...JUDGE_FLAGS,
  },
  async run(args, ctx) {
    const artifact = await resolveArtifact(need(args, "trait", "judge"));
    const files = (args.flags.in as string[] | undefined) ?? [];
    const outDir = str(args, "out");
    const halves = splitArtifact(artifact);
    const fixed = str(args, "split") as "extract" | "eval" | undefined;
    const halfOf = (file: string) =>
      fixed ?? (/_(pos|neg)\.(csv|jsonl)$/i.test(file) ? "extract" : "eval");
    const differs = halves.extract.eval_prompt !== halves.eval.eval_prompt;
    if (differs) ctx.log(`trait ${artifact.trait}: each half is judged with its own eval_prompt`);
    const opened = new Map<string, Awaited<ReturnType<typeof openJudges>>>();
    const judgesFor = async (half: "extract" | "eval") => {
      const key = differs ? half : "eval";
      if (!opened.has(key)) {
        opened.set(
          key,
          await openJudges(args, ctx, {
            trait: artifact.trait,
            eval_prompt: halves[half].eval_prompt,
          }),
        );
      }
      return opened.get(key)!;
    };
    const judges = await judgesFor("eval");
    const column = traitBaseName(artifact.trait);
    const results: (JudgeRowsStats & { file: string; out: string })[] = [];
    try {
      for (const file of files) {
        const { rows } = await readRows(file, column);
        const fileJudges = await judgesFor(halfOf(file));
        const stats = await judgeRows(rows, {
          trait: fileJudges.trait,
          coherence: fileJudges.coherence,
          onProgress: progress(ctx, `judging ${basename(file)}`),
          signal: ctx.signal,
        });
        const out = outDir ? join(outDir, basename(file)) : file;
        if (outDir) await Deno.mkdir(outDir, { recursive: true });
        await writeRows(out, rows, column);
        results.push({ file, out, ...stats });
      }
    } finally {
      for (const j of opened.values()) await j.close();
    }
    const f = (x: number | null) => (x === null ? "—" : x.toFixed(1));
    emit(
      ctx,
      { judge: judges.kind, files: results },
      results.map((r) =>
        `${r.out}: ${r.rows} rows, mean ${column} ${f(r.meanTrait)}, mean coherence ${
          f(r.meanCoherence)
        }; ` +
        `nulls: ${column} ${r.traitNulls}, coherence ${r.coherenceNulls}` +
        (r.traitNulls + r.coherenceNulls
          ? ` (${
            Object.entries({ ...r.reasons.trait, ...r.reasons.coherence }).map(([k, v]) =>
              `${v}× ${k}`
            ).join("; ")
          })`
          : "")
      ),
    );
    return 0;
  },
};
