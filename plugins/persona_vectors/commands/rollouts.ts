/**
 * `persona_vectors rollouts`: extraction rollouts with positive and negative system prompts
 * (spec B2), or plain evaluation rollouts, written as CSV or JSONL.
 *
 * @module
 */

import { join } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { chatPrompt } from "../model_states.ts";
import { writeRows } from "../rows_file.ts";
import { evaluationRollouts, extractionRollouts } from "../run_rollouts.ts";
import { halfDifferences, splitArtifact, traitBaseName } from "../trait_artifact.ts";
import {
  emit,
  MODEL_FLAGS,
  need,
  num,
  openModel,
  parseSteerFlags,
  progress,
  resolveArtifact,
  str,
} from "./common.ts";

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors rollouts --trait optimistic --model ./models/qwen --out runs/opt
 * # → runs/opt/optimistic_pos.csv, runs/opt/optimistic_neg.csv
 * ```
 */
export const rolloutsCommand: PluginCommand = {
  name: "rollouts",
  description:
    "Generate rollouts: extraction (pos/neg system prompts, row-aligned) or evaluation (plain questions).",
  flags: {
    trait: { type: "string", description: "shipped trait name or artifact path", required: true },
    split: {
      type: "string",
      description: "which question half",
      choices: ["extract", "eval"],
      default: "extract",
    },
    "n-per-question": {
      type: "number",
      description: "samples per question and instruction",
      default: 10,
    },
    "max-tokens": { type: "number", description: "new tokens per answer", default: 1000 },
    temperature: {
      type: "number",
      description: "override the B2 temperature (1, or 0 for one sample)",
    },
    questions: { type: "number", description: "use only the first N questions" },
    instructions: { type: "number", description: "use only the first N instruction pairs" },
    seed: { type: "number", description: "sampling seed", default: 0 },
    steer: {
      type: "string",
      multiple: true,
      description: "steering entry vector:coefficient:layer[:positions] (evaluation rollouts)",
    },
    format: {
      type: "string",
      description: "file format",
      choices: ["csv", "jsonl"],
      default: "csv",
    },
    out: { type: "string", description: "output directory", required: true },
    ...MODEL_FLAGS,
  },
  async run(args, ctx) {
    const artifact = await resolveArtifact(need(args, "trait", "rollouts"));
    const out = need(args, "out", "rollouts");
    const splitName = (str(args, "split") ?? "extract") as "extract" | "eval";
    const split = splitArtifact(artifact)[splitName];
    for (const d of halfDifferences(artifact)) ctx.log(`trait ${artifact.trait}: ${d}`);
    const nq = num(args, "questions");
    const ni = num(args, "instructions");
    const use = {
      instruction: split.instruction.slice(0, ni ?? split.instruction.length),
      questions: split.questions.slice(0, nq ?? split.questions.length),
    };
    const ext = str(args, "format") ?? "csv";
    const trait = traitBaseName(artifact.trait);
    const m = (await openModel(args, ctx))!;
    try {
      const engine = m.engine;
      const options = {
        model: m.chat,
        nPerQuestion: num(args, "n-per-question") ?? 10,
        maxTokens: num(args, "max-tokens") ?? 1000,
        temperature: num(args, "temperature"),
        seed: num(args, "seed") ?? 0,
        promptText: engine
          ? (msgs: Parameters<typeof chatPrompt>[1]) => chatPrompt(engine, msgs)
          : undefined,
        steering: parseSteerFlags((args.flags.steer as string[] | undefined) ?? []),
        onProgress: progress(ctx, `rollouts (${splitName})`),
        signal: ctx.signal,
      };
      await Deno.mkdir(out, { recursive: true });
      if (splitName === "extract") {
        const { pos, neg } = await extractionRollouts(artifact, use, options);
        const files = {
          pos: join(out, `${artifact.trait}_pos.${ext}`),
          neg: join(out, `${artifact.trait}_neg.${ext}`),
        };
        await writeRows(files.pos, pos, trait);
        await writeRows(files.neg, neg, trait);
        emit(ctx, { files, rows: pos.length, model: m.chat.id }, [
          `wrote ${pos.length} aligned rows to ${files.pos} and ${files.neg}`,
        ]);
      } else {
        const rows = await evaluationRollouts(use.questions, options);
        const file = join(out, `${artifact.trait}_eval.${ext}`);
        await writeRows(file, rows, trait);
        emit(ctx, { files: { eval: file }, rows: rows.length, model: m.chat.id }, [
          `wrote ${rows.length} rows to ${file}`,
        ]);
      }
      return 0;
    } finally {
      await m.close();
    }
  },
};
