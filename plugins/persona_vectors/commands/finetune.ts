/**
 * `persona_vectors finetune`: plain LoRA finetuning with the paper's training configuration (spec
 * B7), no steering: the multi-persona experiments finetune on one trait's data (e.g. its
 * `misaligned_2.jsonl`), optionally continuing from an earlier run's adapter (`--init-from`,
 * sequential finetuning), with checkpoints every `--save-every` steps for `eval-checkpoints`.
 *
 * @module
 */

import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { writeJsonAtomic } from "../../../core/util/atomic.ts";
import { createLoraTrainer } from "../../lora/mod.ts";
import { PAPER_TARGET_MODULES, withPaperDefaults } from "../paper_training.ts";
import { configFlag, emit, need, str } from "./common.ts";
import { join } from "node:path";

/**
 * The command.
 *
 * @example
 * ```sh
 * deno task dramatis persona_vectors finetune --model ./models/qwen --data ft/evil/misaligned_2.jsonl \
 *   --trait evil --save-every 50 --out runs/ft_evil
 * deno task dramatis persona_vectors finetune --model ./models/qwen --data ft/sycophantic/misaligned_2.jsonl \
 *   --trait sycophantic --init-from runs/ft_evil --save-every 50 --out runs/ft_evil_then_syc
 * ```
 */
export const finetuneCommand: PluginCommand = {
  name: "finetune",
  description: "LoRA finetuning with the paper's configuration and no steering (multi-persona " +
    "runs); --init-from continues from an adapter (sequential finetuning).",
  flags: {
    model: { type: "string", description: "base model directory", required: true },
    data: { type: "string", description: "training data (messages JSONL)", required: true },
    out: {
      type: "string",
      description: "output directory (adapter + checkpoints)",
      required: true,
    },
    trait: {
      type: "string",
      description: "the trait this data teaches (recorded for eval-checkpoints)",
    },
    "init-from": {
      type: "string",
      description: "start from this LoRA adapter directory (its r/alpha/targets win)",
    },
    steps: { type: "number", description: "optimizer steps (default: one epoch)" },
    "save-every": { type: "number", description: "checkpoint every N steps (default: end only)" },
    r: { type: "number", description: "LoRA rank (paper default: 32)" },
    "lora-alpha": { type: "number", description: "LoRA alpha (paper default: 64)" },
    rslora: { type: "boolean", description: "rsLoRA (paper default: on; --no-rslora for alpha/r)" },
    "target-modules": {
      type: "string",
      description: `comma-separated projections (paper default: ${PAPER_TARGET_MODULES.join(",")})`,
    },
    "learning-rate": { type: "number", description: "peak learning rate (paper default: 1e-5)" },
    config: {
      type: "string",
      description: "more lora trainer config over the paper's: inline JSON or a .json file",
    },
    threads: { type: "number", description: "onnxruntime threads" },
  },
  async run(args, ctx) {
    const model = need(args, "model", "finetune");
    const out = need(args, "out", "finetune");
    const extra = await configFlag(args);
    const flagged: Record<string, unknown> = {};
    const put = (flag: string, field: string) => {
      if (args.flags[flag] !== undefined) flagged[field] = args.flags[flag];
    };
    put("steps", "steps");
    put("save-every", "save_every");
    put("r", "r");
    put("lora-alpha", "lora_alpha");
    put("rslora", "use_rslora");
    put("learning-rate", "learning_rate");
    put("init-from", "init_from");
    put("threads", "threads");
    if (str(args, "target-modules")) {
      flagged.target_modules = str(args, "target-modules")!.split(",").map((m) => m.trim())
        .filter(Boolean);
    }
    const config = withPaperDefaults({ ...extra, ...flagged });
    const trained = await createLoraTrainer({ progress: false }).train({
      model,
      data: need(args, "data", "finetune"),
      out,
      config,
      signal: ctx.signal,
      onEvent: (e) => {
        if (e.type === "step") ctx.log(`step ${e.step}/${e.totalSteps} loss ${e.loss.toFixed(4)}`);
        else if (e.type === "log") ctx.log(e.message);
      },
    });
    const summary = {
      adapter: out,
      model,
      data: args.flags.data,
      trait: str(args, "trait") ?? null,
      init_from: str(args, "init-from") ?? null,
      steps: trained.steps,
      metrics: trained.metrics,
    };
    await writeJsonAtomic(join(out, "finetune.json"), summary);
    emit(ctx, summary, [
      `trained ${trained.steps} steps${
        summary.init_from ? ` from ${summary.init_from}` : ""
      }; adapter and checkpoints in ${out}`,
      `final loss ${trained.metrics.train_loss?.toFixed(4)}`,
    ]);
    return 0;
  },
};
