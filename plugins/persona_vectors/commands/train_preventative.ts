/**
 * `persona_vectors train-preventative`: LoRA finetuning under preventative steering or CAFT-style
 * ablation (spec B8) through the `lora` trainer's `steering` config, then an evaluation of the
 * trained adapter **without** steering: its own replies to eval prompts, projected onto the
 * vector (and judged when a judge is given), next to the base model's.
 *
 * @module
 */

import { basename, join } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import type { Engine } from "../../../core/model/engine.ts";
import { writeJsonAtomic } from "../../../core/util/atomic.ts";
import { createLoraTrainer } from "../../lora/mod.ts";
import { judgeRows } from "../judge_rows.ts";
import { projectRows } from "../project_rows.ts";
import { mean } from "../projection.ts";
import type { StoredRow } from "../rows_file.ts";
import { writeRows } from "../rows_file.ts";
import { splitArtifact, type TraitArtifact, traitBaseName } from "../trait_artifact.ts";
import { loadVectorFile } from "../vector_io.ts";
import {
  configFlag,
  emit,
  greedyRows,
  JUDGE_FLAGS,
  need,
  num,
  openEngine,
  progress,
  resolveArtifact,
  str,
} from "./common.ts";
import { openJudges } from "./judges.ts";
import { numberList } from "./sweep.ts";
import { PAPER_TARGET_MODULES, withPaperDefaults } from "../paper_training.ts";

/** Replies of an engine to prompts, projected onto `vector` at `layer` (no steering). */
async function evaluate(
  engine: Engine,
  prompts: readonly string[],
  vectorPath: string,
  layer: number,
  maxNewTokens: number,
): Promise<{ rows: StoredRow[]; meanProj: number }> {
  const rows = await greedyRows(engine, prompts, maxNewTokens);
  const v = await loadVectorFile(vectorPath);
  const per = await projectRows(engine, rows, { v }, layer);
  rows.forEach((r, i) => r.extra = { proj: per[i].v?.proj ?? null });
  return {
    rows,
    meanProj: mean(per.map((p) => p.v?.proj).filter((x): x is number => x !== undefined)),
  };
}

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors train-preventative --model ./models/qwen --data ft/misaligned_2.jsonl \
 *   --vector runs/evil/evil_response_avg_diff.safetensors --coefficient 5 --layers 20 --out runs/prevent \
 *   --steps 200 --trait evil    # r 32, α 64, rsLoRA, 7 projections, lr 1e-5 unless overridden
 * ```
 */
export const trainPreventativeCommand: PluginCommand = {
  name: "train-preventative",
  description:
    "LoRA finetuning with preventative steering (steer) or CAFT ablation at every position, then an unsteered evaluation.",
  flags: {
    model: { type: "string", description: "base model directory", required: true },
    data: { type: "string", description: "training data (messages JSONL)", required: true },
    vector: { type: "string", description: "persona vector file", required: true },
    type: {
      type: "string",
      description: "steer: h += c·v[L]; ablate: h −= (h·u)u",
      choices: ["steer", "ablate"],
      default: "steer",
    },
    coefficient: { type: "number", description: "steering coefficient (B10: 5.0)", default: 5 },
    layers: {
      type: "string",
      description: "comma-separated hidden-state indices (B10: 20)",
      default: "20",
    },
    config: {
      type: "string",
      description:
        "more lora trainer config: inline JSON or a .json file (over the paper's configuration: r 32, " +
        "lora_alpha 64, use_rslora, 7 projections, learning_rate 1e-5, warmup 5, weight_decay 0.01, batch 2 × accumulation 8)",
    },
    r: { type: "number", description: "LoRA rank (paper default: 32)" },
    "lora-alpha": { type: "number", description: "LoRA alpha (paper default: 64)" },
    rslora: {
      type: "boolean",
      description: "rsLoRA scaling alpha/√r (paper default: on; --no-rslora for alpha/r)",
    },
    "target-modules": {
      type: "string",
      description: `comma-separated projections (paper default: ${PAPER_TARGET_MODULES.join(",")})`,
    },
    "learning-rate": { type: "number", description: "peak learning rate (paper default: 1e-5)" },
    "save-every": { type: "number", description: "checkpoint every N steps (default: end only)" },
    "init-from": {
      type: "string",
      description: "start from this LoRA adapter (sequential finetuning; its r/alpha/targets win)",
    },
    steps: { type: "number", description: "optimizer steps (shortcut for config.steps)" },
    trait: {
      type: "string",
      description: "evaluate on this trait's eval questions after training",
    },
    prompt: { type: "string", multiple: true, description: "evaluation prompts (repeatable)" },
    questions: { type: "number", description: "how many eval questions", default: 5 },
    "eval-layer": {
      type: "number",
      description: "projection layer of the evaluation (default: first of --layers)",
    },
    "max-tokens": { type: "number", description: "new tokens per evaluation reply", default: 64 },
    "no-baseline": { type: "boolean", description: "skip evaluating the base model" },
    threads: { type: "number", description: "onnxruntime threads" },
    "api-key": { type: "string", description: "API key for a judge endpoint" },
    out: { type: "string", description: "output directory (adapter + evaluation)", required: true },
    ...JUDGE_FLAGS,
  },
  async run(args, ctx) {
    const model = need(args, "model", "train-preventative");
    const out = need(args, "out", "train-preventative");
    const vector = need(args, "vector", "train-preventative");
    const layers = numberList(str(args, "layers") ?? "20", "layers");
    const type = (str(args, "type") ?? "steer") as "steer" | "ablate";
    const extra = await configFlag(args);
    const steering = layers.map((layer) => ({
      vector,
      coefficient: num(args, "coefficient") ?? 5,
      layer,
      type,
    }));
    const flagged: Record<string, unknown> = {};
    if (num(args, "r") !== undefined) flagged.r = num(args, "r");
    if (num(args, "lora-alpha") !== undefined) flagged.lora_alpha = num(args, "lora-alpha");
    if (typeof args.flags.rslora === "boolean") flagged.use_rslora = args.flags.rslora;
    if (str(args, "target-modules")) {
      flagged.target_modules = str(args, "target-modules")!.split(",").map((m) => m.trim())
        .filter(Boolean);
    }
    if (num(args, "learning-rate") !== undefined) {
      flagged.learning_rate = num(args, "learning-rate");
    }
    if (num(args, "save-every") !== undefined) flagged.save_every = num(args, "save-every");
    if (str(args, "init-from")) flagged.init_from = str(args, "init-from");
    const config = {
      ...withPaperDefaults({ ...extra, ...flagged }),
      ...(num(args, "steps") ? { steps: num(args, "steps") } : {}),
      ...(num(args, "threads") ? { threads: num(args, "threads") } : {}),
      steering,
    };
    ctx.log(
      `training LoRA under ${type} at layers ${layers.join(",")} (c = ${steering[0].coefficient})`,
    );
    const trainer = createLoraTrainer({ progress: false });
    const adapterDir = join(out, "adapter");
    const trained = await trainer.train({
      model,
      data: need(args, "data", "train-preventative"),
      out: adapterDir,
      config,
      signal: ctx.signal,
      onEvent: (e) => {
        if (e.type === "step") ctx.log(`step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)}`);
        else if (e.type === "log") ctx.log(e.message);
      },
    });

    // Evaluation without steering: the point of B8 is that the trained model no longer needs to
    // move along v, so its replies are generated and projected with no edits at all.
    let prompts = [...((args.flags.prompt as string[] | undefined) ?? [])];
    let artifact: TraitArtifact | undefined;
    if (str(args, "trait")) {
      artifact = await resolveArtifact(str(args, "trait")!);
      prompts.push(...splitArtifact(artifact).eval.questions.slice(0, num(args, "questions") ?? 5));
    }
    const evalLayer = num(args, "eval-layer") ?? layers[0];
    const maxTokens = num(args, "max-tokens") ?? 64;
    const evaluation: Record<
      string,
      { meanProj: number; meanTrait?: number | null; file: string }
    > = {};
    if (prompts.length) {
      prompts = prompts.slice();
      const judges = artifact && (args.flags["judge-model"] || args.flags["judge-base-url"])
        ? await openJudges(args, ctx, artifact)
        : undefined;
      try {
        const runs: [string, string | undefined][] = [["trained", adapterDir]];
        if (!args.flags["no-baseline"]) runs.push(["base", undefined]);
        for (const [name, adapter] of runs) {
          ctx.log(`evaluating the ${name} model without steering`);
          const engine = await openEngine(ctx.models, model, {
            adapter,
            threads: num(args, "threads"),
          });
          try {
            const r = await evaluate(engine, prompts, vector, evalLayer, maxTokens);
            let meanTrait: number | null | undefined;
            if (judges) {
              const s = await judgeRows(r.rows, {
                trait: judges.trait,
                coherence: judges.coherence,
                onProgress: progress(ctx, `judging ${name}`),
              });
              meanTrait = s.meanTrait;
            }
            const file = join(out, `eval_${name}.csv`);
            await writeRows(file, r.rows, artifact ? traitBaseName(artifact.trait) : "trait");
            evaluation[name] = {
              meanProj: r.meanProj,
              ...(meanTrait !== undefined ? { meanTrait } : {}),
              file,
            };
          } finally {
            await engine.close();
          }
        }
      } finally {
        await judges?.close();
      }
    }
    const summary = {
      adapter: adapterDir,
      steering,
      metrics: trained.metrics,
      evalLayer,
      evaluation,
    };
    await writeJsonAtomic(join(out, "preventative.json"), summary);
    emit(ctx, summary, [
      `trained ${trained.steps} steps under ${type} (${basename(vector)}, layers ${
        layers.join(",")
      }); adapter in ${adapterDir}`,
      `final loss ${trained.metrics.train_loss?.toFixed(4)}`,
      ...Object.entries(evaluation).map(([k, v]) =>
        `  ${k} (unsteered): mean proj@${evalLayer} ${v.meanProj.toFixed(3)}` +
        (v.meanTrait !== undefined ? `, mean trait ${v.meanTrait?.toFixed(1) ?? "—"}` : "") +
        ` → ${v.file}`
      ),
    ]);
    return 0;
  },
};
