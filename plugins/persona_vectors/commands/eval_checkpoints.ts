/**
 * `persona_vectors eval-checkpoints`: every saved checkpoint of one or more finetuning runs (spec
 * B9.3-4), evaluated without steering: greedy replies to each trait's eval questions, judged trait
 * score and coherence (when a judge is given), the mean projection of the replies onto every
 * vector, and the finetuning shift against the base model on the same text — one table
 * (`checkpoints.json`, `checkpoints.csv`) and the projection-across-checkpoints plot. A run that
 * continued from another run's adapter (`init_from`) is placed after it on the step axis.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { toCsv } from "../../../core/human_eval/csv.ts";
import { writeFileAtomic, writeJsonAtomic } from "../../../core/util/atomic.ts";
import { writeSvg } from "../heatmap.ts";
import type { LayerVectors } from "../hidden_states.ts";
import { judgeRows } from "../judge_rows.ts";
import { checkpointLinesSpec, type CheckpointPoint } from "../multi_persona_plots.ts";
import { finetuningShifts, projectRows } from "../project_rows.ts";
import { mean } from "../projection.ts";
import { splitArtifact, type TraitArtifact, traitBaseName } from "../trait_artifact.ts";
import { loadVectorFile } from "../vector_io.ts";
import {
  emit,
  greedyRows,
  JUDGE_FLAGS,
  need,
  num,
  openEngine,
  resolveArtifact,
  str,
} from "./common.ts";
import { type OpenedJudges, openJudges } from "./judges.ts";

/** One checkpoint to evaluate. */
export interface CheckpointRef {
  run: string;
  /** Step on the shared axis (own step + the steps of the runs it continued from). */
  step: number;
  ownStep: number;
  /** PEFT adapter directory; null for the base model. */
  adapter: string | null;
  /** The trait the run was finetuned on (`finetune --trait`), when recorded. */
  trainedOn?: string;
}

async function stepsOf(runDir: string): Promise<{ step: number; adapter: string }[]> {
  const dir = join(runDir, "checkpoints");
  const out: { step: number; adapter: string }[] = [];
  try {
    for await (const e of Deno.readDir(dir)) {
      const m = e.isDirectory ? /^step-(\d+)$/.exec(e.name) : null;
      if (!m) continue;
      const adapter = join(dir, e.name, "adapter");
      if (await Deno.stat(join(adapter, "adapter_config.json")).then(() => true, () => false)) {
        out.push({ step: Number(m[1]), adapter });
      }
    }
  } catch { /* no checkpoints folder */ }
  return out.sort((a, b) => a.step - b.step);
}

/**
 * The step at which a run that continued from `initFrom` starts: the step of that checkpoint
 * (`…/step-N/adapter`), or the last checkpoint of that run folder, plus that run's own offset.
 *
 * @example
 * ```ts ignore
 * import { stepOffset } from "./eval_checkpoints.ts";
 * await stepOffset("runs/ft_evil"); // e.g. 270
 * ```
 */
export async function stepOffset(initFrom: string | undefined, depth = 0): Promise<number> {
  if (!initFrom || depth > 16) return 0;
  const m = /step-(\d+)[\\/]adapter[\\/]?$/.exec(initFrom);
  const runDir = m ? dirname(dirname(dirname(initFrom))) : initFrom;
  let own = m ? Number(m[1]) : 0;
  if (!m) {
    const steps = await stepsOf(runDir);
    own = steps.at(-1)?.step ?? 0;
  }
  return own + await stepOffset(await initFromOf(runDir), depth + 1);
}

async function initFromOf(runDir: string): Promise<string | undefined> {
  for (
    const f of [join(runDir, "train_config.json"), join(runDir, "adapter", "train_config.json")]
  ) {
    try {
      const c = JSON.parse(await Deno.readTextFile(f));
      return typeof c.init_from === "string" ? c.init_from : undefined;
    } catch { /* try the next */ }
  }
  return undefined;
}

/**
 * The checkpoints of a run on the shared step axis.
 *
 * @example
 * ```ts ignore
 * import { runCheckpoints } from "./eval_checkpoints.ts";
 * const refs = await runCheckpoints("runs/ft_evil_then_syc");
 * ```
 */
export async function runCheckpoints(runDir: string): Promise<CheckpointRef[]> {
  let dir = runDir;
  let steps = await stepsOf(dir);
  if (!steps.length && (await stepsOf(join(runDir, "adapter"))).length) {
    dir = join(runDir, "adapter"); // train-preventative's layout
    steps = await stepsOf(dir);
  }
  if (!steps.length) {
    throw new UsageError(
      `--run ${runDir} has no checkpoints/step-N/adapter; train with --save-every N (the final ` +
        "step is always checkpointed)",
      "E_DATA",
    );
  }
  const offset = await stepOffset(await initFromOf(dir));
  let trainedOn: string | undefined;
  try {
    const f = JSON.parse(await Deno.readTextFile(join(runDir, "finetune.json")));
    if (typeof f.trait === "string") trainedOn = traitBaseName(basename(f.trait, ".json"));
  } catch { /* not a finetune run */ }
  return steps.map((s) => ({
    run: basename(resolve(runDir)),
    step: s.step + offset,
    ownStep: s.step,
    adapter: s.adapter,
    ...(trainedOn ? { trainedOn } : {}),
  }));
}

/** One row of the table: a checkpoint's replies to one trait's questions. */
export interface CheckpointRow {
  run: string;
  step: number;
  checkpoint: string;
  /** Whose eval questions were asked. */
  trait: string;
  n: number;
  score: number | null;
  coherence: number | null;
  /** Vector name → mean projection of the replies (response average, at `layer`). */
  projection: Record<string, number | null>;
  /** Vector name → mean finetuning shift against the base on the same text. */
  shift: Record<string, number | null>;
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors eval-checkpoints --model ./models/qwen --run runs/ft_evil \
 *   --run runs/ft_evil_then_syc --trait evil --trait sycophantic \
 *   --vector evil=runs/v/evil_response_avg_diff.safetensors \
 *   --vector sycophantic=runs/v/sycophantic_response_avg_diff.safetensors --layer 20 \
 *   --judge-base-url http://127.0.0.1:8000/v1 --judge-api-model judge --out runs/checkpoints
 * ```
 */
export const evalCheckpointsCommand: PluginCommand = {
  name: "eval-checkpoints",
  description: "Every checkpoint of finetuning runs: judged trait scores, projections and " +
    "finetuning shift vs the base, one table, and the projection-across-checkpoints plot.",
  flags: {
    model: { type: "string", description: "base model directory", required: true },
    run: {
      type: "string",
      multiple: true,
      required: true,
      description: "a finetuning output directory with checkpoints/step-N/adapter (repeatable)",
    },
    trait: {
      type: "string",
      multiple: true,
      required: true,
      description: "trait whose eval questions are asked (shipped name or artifact; repeatable)",
    },
    vector: {
      type: "string",
      multiple: true,
      required: true,
      description: "name=path of a persona vector to project onto (repeatable)",
    },
    layer: {
      type: "number",
      description: "hidden-state index of projections and shifts",
      default: 20,
    },
    questions: { type: "number", description: "eval questions per trait", default: 5 },
    "max-tokens": { type: "number", description: "new tokens per reply", default: 64 },
    "shift-type": {
      type: "string",
      description: "summary of the finetuning shift",
      choices: ["prompt_last", "prompt_avg", "response_avg"],
      default: "prompt_last",
    },
    "no-base": { type: "boolean", description: "skip the base model's row (step 0)" },
    threads: { type: "number", description: "onnxruntime threads" },
    "api-key": { type: "string", description: "API key for a judge endpoint" },
    out: { type: "string", description: "output directory", required: true },
    ...JUDGE_FLAGS,
  },
  async run(args, ctx) {
    const model = need(args, "model", "eval-checkpoints");
    const out = need(args, "out", "eval-checkpoints");
    const layer = num(args, "layer") ?? 20;
    const threads = num(args, "threads");
    const maxTokens = num(args, "max-tokens") ?? 64;
    const shiftType = (str(args, "shift-type") ?? "prompt_last") as
      | "prompt_last"
      | "prompt_avg"
      | "response_avg";
    const vectors: Record<string, LayerVectors> = {};
    for (const spec of args.flags.vector as string[]) {
      const eq = spec.indexOf("=");
      if (eq <= 0) throw new UsageError(`--vector ${spec}: write name=path`);
      vectors[spec.slice(0, eq)] = await loadVectorFile(spec.slice(eq + 1));
    }
    const traits: TraitArtifact[] = [];
    for (const t of args.flags.trait as string[]) traits.push(await resolveArtifact(t));
    const questions = new Map(
      traits.map((
        a,
      ) => [a.trait, splitArtifact(a).eval.questions.slice(0, num(args, "questions") ?? 5)]),
    );
    const refs: CheckpointRef[] = [];
    for (const r of args.flags.run as string[]) refs.push(...await runCheckpoints(r));
    if (!args.flags["no-base"]) refs.unshift({ run: "base", step: 0, ownStep: 0, adapter: null });
    const judging = Boolean(args.flags["judge-model"] || args.flags["judge-base-url"]);
    const judges = new Map<string, OpenedJudges>();
    const rows: CheckpointRow[] = [];
    const base = await openEngine(ctx.models, model, { threads });
    try {
      if (judging) { for (const a of traits) judges.set(a.trait, await openJudges(args, ctx, a)); }
      for (const [k, ref] of refs.entries()) {
        ctx.log(`checkpoint ${k + 1}/${refs.length}: ${ref.run} step ${ref.step}`);
        const engine = ref.adapter
          ? await openEngine(ctx.models, model, { adapter: ref.adapter, threads })
          : base;
        try {
          for (const a of traits) {
            const rs = await greedyRows(engine, questions.get(a.trait)!, maxTokens);
            let score: number | null = null, coherence: number | null = null;
            const j = judges.get(a.trait);
            if (j) {
              const s = await judgeRows(rs, {
                trait: j.trait,
                coherence: j.coherence,
                signal: ctx.signal,
              });
              score = s.meanTrait;
              coherence = s.meanCoherence;
            }
            const per = await projectRows(engine, rs, vectors, layer);
            const projection: Record<string, number | null> = {};
            for (const name of Object.keys(vectors)) {
              projection[name] = finite(
                mean(per.map((p) => p[name]?.proj).filter((x): x is number => x !== undefined)),
              );
            }
            const shift: Record<string, number | null> = {};
            if (ref.adapter) {
              const s = await finetuningShifts(engine, base, rs, vectors, layer, shiftType);
              for (const name of Object.keys(vectors)) shift[name] = finite(s.mean[name]);
            } else for (const name of Object.keys(vectors)) shift[name] = 0;
            rows.push({
              run: ref.run,
              step: ref.step,
              checkpoint: ref.adapter ?? "base",
              trait: traitBaseName(a.trait),
              n: rs.length,
              score,
              coherence,
              projection,
              shift,
            });
          }
        } finally {
          if (engine !== base) await engine.close();
        }
      }
    } finally {
      await base.close();
      for (const j of judges.values()) await j.close();
    }
    await Deno.mkdir(out, { recursive: true });
    const names = Object.keys(vectors);
    const csv = join(out, "checkpoints.csv");
    await writeFileAtomic(
      csv,
      toCsv([
        [
          "run",
          "step",
          "checkpoint",
          "trait",
          "n",
          "score",
          "coherence",
          ...names.map((n) => `proj_${n}`),
          ...names.map((n) => `shift_${n}`),
        ],
        ...rows.map((r) => [
          r.run,
          String(r.step),
          r.checkpoint,
          r.trait,
          String(r.n),
          r.score === null ? "" : String(r.score),
          r.coherence === null ? "" : String(r.coherence),
          ...names.map((n) => r.projection[n] === null ? "" : String(r.projection[n])),
          ...names.map((n) => r.shift[n] === null ? "" : String(r.shift[n])),
        ]),
      ]),
    );
    // Projection across checkpoints: per vector, the mean over the traits' questions.
    const points: CheckpointPoint[] = [];
    const steps = [...new Set(rows.map((r) => `${r.step}`))].map(Number).sort((a, b) => a - b);
    for (const step of steps) {
      const at = rows.filter((r) => r.step === step);
      for (const n of names) {
        const xs = at.map((r) => r.projection[n]).filter((x): x is number => x !== null);
        points.push({ step, series: n, value: xs.length ? mean(xs) : null });
      }
    }
    const starts = [...new Set(refs.filter((r) => r.adapter).map((r) => r.run))].map((run) => ({
      run,
      step: Math.min(...refs.filter((r) => r.run === run).map((r) => r.step - r.ownStep)),
    })).filter((s) => s.step > 0).map((s) => ({ step: s.step, label: `${s.run} starts` }));
    const images = { projection: join(out, "projection_across_checkpoints.svg") } as Record<
      string,
      string
    >;
    await writeSvg(
      images.projection,
      checkpointLinesSpec(
        points,
        `Projection onto each trait vector across checkpoints (layer ${layer})`,
        "mean projection",
        starts,
      ),
    );
    if (judging) {
      images.score = join(out, "score_across_checkpoints.svg");
      await writeSvg(
        images.score,
        checkpointLinesSpec(
          rows.map((r) => ({ step: r.step, series: r.trait, value: r.score })),
          "Judged trait score across checkpoints",
          "mean trait score",
          starts,
        ),
      );
    }
    const data = join(out, "checkpoints.json");
    const doc = { model, layer, shiftType, vectors: names, checkpoints: refs, rows, images, csv };
    await writeJsonAtomic(data, doc);
    const f = (x: number | null) => (x === null ? "—" : x.toFixed(3));
    emit(ctx, { ...doc, data }, [
      `${refs.length} checkpoints × ${traits.length} traits → ${data}, ${csv}`,
      ...rows.map((r) =>
        `  ${r.run} step ${r.step} [${r.trait}] score ${f(r.score)} ` +
        names.map((n) => `proj_${n} ${f(r.projection[n])} shift_${n} ${f(r.shift[n])}`).join(" ")
      ),
    ]);
    return 0;
  },
};
