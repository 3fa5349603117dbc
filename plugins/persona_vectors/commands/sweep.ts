/**
 * `persona_vectors sweep`: a steering sweep over layers × coefficients (spec B9 figures): steered
 * replies to eval questions, judged, and drawn as SVGs: the paper's line plots of trait score and
 * coherence against layer (one line per coefficient) and layer × coefficient heatmaps.
 *
 * @module
 */

import { join } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { writeJsonAtomic } from "../../../core/util/atomic.ts";
import { sweepLinesSpec } from "../../../core/report/sweep_lines.ts";
import { type SweepCell, sweepHeatmapSpec, writeSvg } from "../heatmap.ts";
import { judgeRows } from "../judge_rows.ts";
import type { StoredRow } from "../rows_file.ts";
import { splitArtifact, traitBaseName } from "../trait_artifact.ts";
import {
  emit,
  JUDGE_FLAGS,
  MODEL_FLAGS,
  need,
  num,
  openModel,
  progress,
  resolveArtifact,
  str,
} from "./common.ts";
import { openJudges } from "./judges.ts";

/** Parses `"1,2,5"` into numbers. */
export function numberList(value: string | undefined, flag: string): number[] {
  const xs = (value ?? "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  if (xs.length === 0 || xs.some((x) => !Number.isFinite(x))) {
    throw new UsageError(
      `--${flag} is ${JSON.stringify(value)}; pass comma-separated numbers like 1,2,3`,
    );
  }
  return xs;
}

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors sweep --model ./models/qwen --trait optimistic \
 *   --vector runs/opt/vectors/optimistic_response_avg_diff.safetensors --layers 12,16,20 \
 *   --coefficients 0.5,1,1.5,2 --judge-base-url http://127.0.0.1:8000/v1 --out runs/opt/sweep
 * ```
 */
export const sweepCommand: PluginCommand = {
  name: "sweep",
  description:
    "Layer × coefficient steering sweep, judged, rendered as SVGs: score against layer per coefficient (lines) and heatmaps (trait, coherence).",
  flags: {
    trait: { type: "string", description: "shipped trait name or artifact path", required: true },
    vector: { type: "string", description: "vector file", required: true },
    layers: { type: "string", description: "comma-separated hidden-state indices", required: true },
    coefficients: {
      type: "string",
      description: "comma-separated coefficients",
      default: "0.5,1,1.5,2,2.5",
    },
    positions: {
      type: "string",
      description: "position mode",
      choices: ["all", "prompt", "response"],
      default: "response",
    },
    questions: { type: "number", description: "eval questions per cell", default: 5 },
    "max-tokens": { type: "number", description: "new tokens per reply", default: 64 },
    seed: { type: "number", description: "seed", default: 0 },
    "judge-mode": {
      type: "string",
      description: "endpoint judge mode",
      choices: ["0_100", "0_10", "binary"],
      default: "0_100",
    },
    out: { type: "string", description: "output directory", required: true },
    ...MODEL_FLAGS,
    ...JUDGE_FLAGS,
  },
  async run(args, ctx) {
    const artifact = await resolveArtifact(need(args, "trait", "sweep"));
    const vector = need(args, "vector", "sweep");
    const out = need(args, "out", "sweep");
    const layers = numberList(str(args, "layers"), "layers");
    const coefficients = numberList(str(args, "coefficients") ?? "0.5,1,1.5,2,2.5", "coefficients");
    const questions = splitArtifact(artifact).eval.questions.slice(0, num(args, "questions") ?? 5);
    const positions = (str(args, "positions") ?? "response") as "all" | "prompt" | "response";
    const trait = traitBaseName(artifact.trait);
    const m = (await openModel(args, ctx))!;
    const rows: (StoredRow & { layer: number; coefficient: number })[] = [];
    const tick = progress(ctx, "steered replies");
    const total = layers.length * coefficients.length * questions.length;
    try {
      for (const layer of layers) {
        for (const coefficient of coefficients) {
          for (const [q, question] of questions.entries()) {
            const r = await m.chat.chat({
              messages: [{ role: "user", content: question }],
              max_tokens: num(args, "max-tokens") ?? 64,
              temperature: 0,
              seed: num(args, "seed") ?? 0,
              steering: [{ vector, coefficient, layer, positions }],
              signal: ctx.signal,
            });
            rows.push({
              layer,
              coefficient,
              question_id: q,
              instruction_index: 0,
              sample: 0,
              question,
              prompt: "",
              answer: r.choices[0].message.content,
              trait: null,
              coherence: null,
            });
            tick(rows.length, total);
          }
        }
      }
    } finally {
      await m.close();
    }
    const judges = await openJudges(args, ctx, artifact);
    let stats;
    try {
      stats = await judgeRows(rows, {
        trait: judges.trait,
        coherence: judges.coherence,
        onProgress: progress(ctx, "judging"),
        signal: ctx.signal,
      });
    } finally {
      await judges.close();
    }
    const cells = (key: "trait" | "coherence"): SweepCell[] =>
      layers.flatMap((layer) =>
        coefficients.map((coefficient) => {
          const xs = rows.filter((r) => r.layer === layer && r.coefficient === coefficient)
            .map((r) => r[key]).filter((x): x is number => x !== null);
          return {
            layer,
            coefficient,
            mean: xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null,
            n: xs.length,
          };
        })
      );
    const traitCells = cells("trait");
    const coherenceCells = cells("coherence");
    await Deno.mkdir(out, { recursive: true });
    const images = {
      trait: join(out, `sweep_${trait}.svg`),
      coherence: join(out, "sweep_coherence.svg"),
    };
    await writeSvg(
      images.trait,
      sweepHeatmapSpec(traitCells, `Steering sweep: ${trait} (${positions})`),
    );
    await writeSvg(images.coherence, sweepHeatmapSpec(coherenceCells, `Steering sweep: coherence`));
    const lines = {
      trait: join(out, `sweep_${trait}_by_layer.svg`),
      coherence: join(out, "sweep_coherence_by_layer.svg"),
    };
    await writeSvg(
      lines.trait,
      sweepLinesSpec(traitCells, {
        title: `${trait} against steering layer (${positions})`,
        score: trait,
        domain: [0, 100],
      }),
    );
    await writeSvg(
      lines.coherence,
      sweepLinesSpec(coherenceCells, {
        title: `Coherence against steering layer (${positions})`,
        score: "coherence",
        domain: [0, 100],
      }),
    );
    const data = join(out, "sweep.json");
    await writeJsonAtomic(data, {
      trait,
      vector,
      positions,
      cells: { trait: traitCells, coherence: coherenceCells },
      rows,
      nulls: { trait: stats.traitNulls, coherence: stats.coherenceNulls },
    });
    emit(ctx, {
      data,
      images,
      lines,
      cells: { trait: traitCells, coherence: coherenceCells },
      nulls: {
        trait: stats.traitNulls,
        coherence: stats.coherenceNulls,
      },
    }, [
      `wrote ${data}, ${lines.trait}, ${lines.coherence} (score against layer per coefficient), ` +
      `${images.trait} and ${images.coherence} (heatmaps; SVG rendered by core/report)`,
      `nulls: ${trait} ${stats.traitNulls}, coherence ${stats.coherenceNulls} of ${rows.length}`,
    ]);
    return 0;
  },
};
