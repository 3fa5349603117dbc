/**
 * `persona_vectors project`: projections of rollouts or training data onto persona vectors
 * (spec B6): proj, prompt_last_proj, prompt_avg_proj and cos_sim columns; the finetuning shift
 * against `--base-model`; projection-difference data screening with `--screen`.
 *
 * @module
 */

import { basename, extname, join } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import type { Engine } from "../../../core/model/engine.ts";
import { rowPromptAnswer } from "../extract_vectors.ts";
import type { LayerVectors } from "../hidden_states.ts";
import { finetuningShifts, projectRows, screenData } from "../project_rows.ts";
import { mean, projectionColumnName } from "../projection.ts";
import { readRows, writeRows } from "../rows_file.ts";
import { loadVectorFile } from "../vector_io.ts";
import type { VectorType } from "../vectors.ts";
import { emit, need, num, openEngine, progress, str } from "./common.ts";

const METRICS = ["proj", "prompt_last_proj", "prompt_avg_proj", "cos_sim"] as const;

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors project --model ./models/qwen --layer 20 \
 *   --vector runs/opt/vectors/optimistic_response_avg_diff.safetensors --in runs/opt/optimistic_eval.csv \
 *   --out runs/opt/projected
 * ```
 */
export const projectCommand: PluginCommand = {
  name: "project",
  description:
    "Project rows onto vectors (proj, prompt_last_proj, prompt_avg_proj, cos_sim); finetuning shift; data screening.",
  flags: {
    model: {
      type: "string",
      description: "local model (the finetuned one for --base-model)",
      required: true,
    },
    adapter: { type: "string", description: "PEFT LoRA adapter directory attached to --model" },
    vector: {
      type: "string",
      multiple: true,
      description: "vector file (repeatable)",
      required: true,
    },
    layer: { type: "number", description: "hidden-state index (1..numLayers)", default: 20 },
    in: {
      type: "string",
      multiple: true,
      description: "rows: CSV (prompt, answer) or JSONL (messages)",
      required: true,
    },
    metric: {
      type: "string",
      multiple: true,
      description: "metrics (default all)",
      choices: METRICS,
    },
    "base-model": {
      type: "string",
      description: "base model: adds the finetuning shift of --model",
    },
    "shift-type": {
      type: "string",
      description: "summary of the finetuning shift",
      choices: ["prompt_last", "prompt_avg", "response_avg"],
      default: "prompt_last",
    },
    screen: {
      type: "boolean",
      description: "projection-difference screening (base answers each prompt itself)",
    },
    "max-tokens": {
      type: "number",
      description: "new tokens of the base model's own answers (--screen)",
      default: 128,
    },
    "batch-size": { type: "number", description: "samples per forward pass", default: 4 },
    threads: { type: "number", description: "onnxruntime threads" },
    out: {
      type: "string",
      description: "output directory (default: rewrite inputs with new columns)",
    },
  },
  async run(args, ctx) {
    const modelDir = need(args, "model", "project");
    const layer = num(args, "layer") ?? 20;
    const metrics =
      ((args.flags.metric as string[] | undefined) ?? [...METRICS]) as (typeof METRICS)[number][];
    const vectors: Record<string, LayerVectors> = {};
    for (const p of (args.flags.vector as string[] | undefined) ?? []) {
      vectors[basename(p, extname(p))] = await loadVectorFile(p);
    }
    if (Object.keys(vectors).length === 0) {
      throw new UsageError("persona_vectors project: give --vector");
    }
    const threads = num(args, "threads");
    const batchSize = num(args, "batch-size") ?? 4;
    const log = (s: string) => ctx.log(`model: ${s}`);
    // Every input is read and checked before the model loads.
    const inputs = new Map<string, Awaited<ReturnType<typeof readRows>>>();
    for (const file of (args.flags.in as string[] | undefined) ?? []) {
      inputs.set(file, await readRows(file, undefined, { require: ["answer"] }));
    }
    const engine = await openEngine(ctx.models, modelDir, {
      adapter: str(args, "adapter"),
      threads,
      log,
    });
    let base: Engine | undefined;
    const baseDir = str(args, "base-model");
    const tag = basename(modelDir) +
      (str(args, "adapter") ? `+${basename(str(args, "adapter")!)}` : "");
    const report: Record<string, unknown>[] = [];
    // One metric per row, vector and metric (the experiment's command step records them).
    const rowMetrics: {
      name: string;
      value: number;
      index: number;
      tags: Record<string, string>;
    }[] = [];
    try {
      if (baseDir) {
        base = await openEngine(ctx.models, baseDir, {
          threads,
          log: (s) => ctx.log(`base: ${s}`),
        });
      }
      for (const file of (args.flags.in as string[] | undefined) ?? []) {
        const { rows, traitColumn } = inputs.get(file)!;
        const items = rows.map((r) => rowPromptAnswer(engine, r));
        const per = await projectRows(engine, items, vectors, layer, {
          batchSize,
          onProgress: progress(ctx, `projecting ${basename(file)}`),
        });
        const means: Record<string, number> = {};
        const fileTag = basename(file, extname(file));
        const polarity = /_pos$/.test(fileTag) ? "pos" : /_neg$/.test(fileTag) ? "neg" : undefined;
        rows.forEach((r, i) => {
          r.extra ??= {};
          for (const [name, m] of Object.entries(per[i])) {
            for (const k of metrics) {
              const col = projectionColumnName(tag, name, k, layer);
              r.extra[col] = m ? m[k] : null;
              if (m && Number.isFinite(m[k])) {
                rowMetrics.push({
                  name: k,
                  value: m[k],
                  index: rowMetrics.length,
                  tags: { file: fileTag, vector: name, ...(polarity ? { polarity } : {}) },
                });
              }
            }
          }
        });
        for (const name of Object.keys(vectors)) {
          for (const k of metrics) {
            means[projectionColumnName(tag, name, k, layer)] = mean(
              per.map((p) => p[name]?.[k]).filter((x): x is number => x !== undefined),
            );
          }
        }
        let shift: Record<string, number> | undefined;
        if (base) {
          const type = (str(args, "shift-type") ?? "prompt_last") as VectorType;
          const s = await finetuningShifts(engine, base, items, vectors, layer, type, {
            batchSize,
          });
          shift = {};
          for (const name of Object.keys(vectors)) {
            const col = projectionColumnName(tag, name, `${type}_proj`, layer, true);
            rows.forEach((r, i) => r.extra![col] = s.rows[i][name]);
            shift[col] = s.mean[name];
          }
        }
        let screening;
        if (args.flags.screen) {
          ctx.log(
            `screening ${basename(file)}: the ${base ? "base" : ""} model answers each prompt`,
          );
          const s = await screenData(base ?? engine, items, vectors, layer, {
            maxNewTokens: num(args, "max-tokens") ?? 128,
            batchSize,
          });
          screening = { difference: s.difference, training: s.training, base: s.base };
        }
        const outDir = str(args, "out");
        const out = outDir ? join(outDir, basename(file)) : file;
        if (outDir) await Deno.mkdir(outDir, { recursive: true });
        await writeRows(out, rows, traitColumn ?? "trait");
        report.push({
          file,
          out,
          rows: rows.length,
          means,
          ...(shift ? { finetuningShift: shift } : {}),
          ...(screening ? { screening } : {}),
        });
      }
    } finally {
      await engine.close();
      await base?.close();
    }
    const f = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : "—");
    emit(
      ctx,
      { layer, files: report, metrics: rowMetrics },
      report.flatMap((r) => [
        `${r.out} (${r.rows} rows):`,
        ...Object.entries(r.means as Record<string, number>).map(([k, v]) =>
          `  mean ${k} = ${f(v)}`
        ),
        ...Object.entries((r.finetuningShift ?? {}) as Record<string, number>).map(([k, v]) =>
          `  ${k} = ${f(v)}`
        ),
        ...Object.entries(
          ((r.screening as { difference: Record<string, number> })?.difference) ?? {},
        ).map(
          ([k, v]) => `  projection difference ${k} = ${f(v)}`,
        ),
      ]),
    );
    return 0;
  },
};
