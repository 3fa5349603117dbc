/**
 * `persona_vectors extract`: the three persona vectors from judged pos/neg rollouts (spec B4),
 * saved as safetensors `[L+1, d]` with metadata.
 *
 * @module
 */

import { join } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { extractVectors } from "../extract_vectors.ts";
import { readRows } from "../rows_file.ts";
import { VECTOR_TYPES } from "../vectors.ts";
import { saveVectorFile, vectorFileName } from "../vector_io.ts";
import { emit, need, num, progress, str } from "./common.ts";

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors extract --model ./models/qwen --trait optimistic \
 *   --pos runs/opt/optimistic_pos.csv --neg runs/opt/optimistic_neg.csv --out runs/opt/vectors
 * ```
 */
export const extractCommand: PluginCommand = {
  name: "extract",
  description:
    "Extract prompt_avg / response_avg / prompt_last vectors from judged pos/neg rollouts (filtered).",
  flags: {
    model: {
      type: "string",
      description: "local model directory (the one that wrote the rollouts)",
      required: true,
    },
    trait: {
      type: "string",
      description: "trait name for file names and metadata",
      required: true,
    },
    pos: { type: "string", description: "judged positive rollouts (.csv/.jsonl)", required: true },
    neg: { type: "string", description: "judged negative rollouts, row-aligned", required: true },
    "trait-column": {
      type: "string",
      description: "score column (default: the trait's base name)",
    },
    threshold: {
      type: "number",
      description: "trait threshold t: pos ≥ t, neg < 100 − t",
      default: 50,
    },
    "coherence-threshold": {
      type: "number",
      description: "both rollouts' coherence ≥ this",
      default: 50,
    },
    "batch-size": { type: "number", description: "samples per forward pass", default: 4 },
    threads: { type: "number", description: "onnxruntime threads" },
    out: { type: "string", description: "output directory", required: true },
  },
  async run(args, ctx) {
    const trait = need(args, "trait", "extract");
    const out = need(args, "out", "extract");
    const column = str(args, "trait-column") ?? trait.split("_")[0];
    const pos = (await readRows(need(args, "pos", "extract"), column)).rows;
    const neg = (await readRows(need(args, "neg", "extract"), column)).rows;
    const threshold = num(args, "threshold") ?? 50;
    const coherence = num(args, "coherence-threshold") ?? 50;
    const modelDir = need(args, "model", "extract");
    const engine = await ctx.models.with({ onProgress: (s) => ctx.log(`model: ${s}`) })
      .openEngine(modelDir, { threads: num(args, "threads") });
    try {
      const r = await extractVectors(engine, pos, neg, { trait: threshold, coherence }, {
        batchSize: num(args, "batch-size") ?? 4,
        onProgress: progress(ctx, "forward passes"),
      }).catch((e) => {
        if (e instanceof RangeError && /at least one kept/.test(e.message)) {
          throw new UsageError(`persona_vectors extract: ${e.message}`, "E_DATA");
        }
        throw e;
      });
      const files: Record<string, string> = {};
      for (const type of VECTOR_TYPES) {
        const path = join(out, vectorFileName(trait, type));
        await saveVectorFile(path, r.vectors[type], {
          model: modelDir,
          trait,
          type,
          n_pos: r.nPos,
          n_neg: r.nNeg,
          threshold,
          coherence_threshold: coherence,
          pairs: r.pairs,
          kept_pairs: r.kept,
        });
        files[type] = path;
      }
      emit(ctx, {
        files,
        pairs: r.pairs,
        kept: r.kept,
        nPos: r.nPos,
        nNeg: r.nNeg,
        skipped: r.skipped,
        boundaryMerges: r.boundaryMerges,
        shape: [r.vectors.response_avg.rows, r.vectors.response_avg.cols],
      }, [
        `kept ${r.kept}/${r.pairs} pairs (trait ${threshold}, coherence ${coherence}); ` +
        `${r.nPos} pos / ${r.nNeg} neg samples; vectors [${r.vectors.response_avg.rows}, ${r.vectors.response_avg.cols}]`,
        ...Object.entries(files).map(([t, p]) => `  ${t}: ${p}`),
      ]);
      return 0;
    } finally {
      await engine.close();
    }
  },
};
