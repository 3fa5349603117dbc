/**
 * A second example third-party plugin, written against the public API alone (`../../mod.ts`;
 * outside this repository, the published package): it provides
 *
 * - a **Steerer** `nudge`: adds `coefficient · u` to the residual stream after block `layer - 1`,
 *   where `u` is a seeded random unit direction. A request to `dramatis serve` applies it per
 *   request with `steering: [{"steerer": "nudge", "config": {"layer": 1, "coefficient": 4}}]`;
 * - an **Adapter** `bias`: a trainable bias added to the logits (`lm_head`);
 * - a **Trainer** `bias`: trains that bias on chat data with the shared training driver the
 *   plugin context hands over (set-up, eval split, loop, checkpoints, resume, results), so the
 *   trainer itself only builds the adapter and loads the data.
 *
 * Load it by path: `deno task dramatis serve --model <dir> --plugin ./examples/nudge_plugin/mod.ts`.
 *
 * @module
 */

import { join } from "node:path";
import { z } from "zod";
import {
  type Adapter,
  type AdapterGraphOps,
  buildTrainGraph,
  type LinearHook,
  loadWeights,
  type Plugin,
  type PluginContext,
  Prng,
  readChatData,
  type ResidualEdit,
  type Steerer,
  tokenizeDataset,
  type Trainer,
  writeJsonAtomic,
} from "../../mod.ts";

/** Config of the `nudge` steerer (a request's or persona's `config`). */
export const NudgeConfig = z.object({
  /** Hugging Face hidden-state index 1..numLayers (edits the output of block layer-1). */
  layer: z.number().int().min(1),
  coefficient: z.number().finite().default(1),
  /** Seed of the random direction. */
  seed: z.number().int().min(0).default(0),
}).strict();

/**
 * The seeded unit direction the steerer adds.
 *
 * @example
 * ```ts
 * import { nudgeDirection } from "./mod.ts";
 * const u = nudgeDirection(8, 1);
 * console.log(Math.hypot(...u).toFixed(3)); // "1.000"
 * ```
 */
export function nudgeDirection(hiddenSize: number, seed: number): Float32Array {
  const rng = new Prng(seed);
  const v = Float32Array.from({ length: hiddenSize }, () => rng.normal());
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

/**
 * The `nudge` steerer for one config.
 *
 * @example
 * ```ts
 * import { nudgeSteerer } from "./mod.ts";
 * const s = nudgeSteerer({ layer: 1, coefficient: 2 });
 * const [edit] = await s.resolve({ numLayers: 2, hiddenSize: 4, loadVector: () => Promise.reject() });
 * console.log(edit.block, edit.coefficient); // 0 2
 * ```
 */
export function nudgeSteerer(raw: Record<string, unknown>): Steerer {
  const config = NudgeConfig.parse(raw);
  return {
    name: "nudge",
    resolve(context): ResidualEdit[] {
      if (config.layer > context.numLayers) {
        throw new RangeError(
          `nudge: layer is ${config.layer}; this model has layers 1..${context.numLayers}`,
        );
      }
      return [{
        block: config.layer - 1,
        type: "add",
        vector: nudgeDirection(context.hiddenSize, config.seed),
        coefficient: config.coefficient,
        positions: "all",
      }];
    },
  };
}

/** A trainable bias on the logits: `logits += b`, `b` of vocabulary size. */
export class LogitBiasAdapter implements Adapter {
  readonly kind = "nudge_bias";
  readonly name = "nudge.lm_head.bias";
  readonly bias: Float32Array;

  constructor(vocabSize: number, bias?: Float32Array) {
    this.bias = bias ?? new Float32Array(vocabSize);
  }

  /** Reads a bias saved by {@link LogitBiasAdapter.save}. */
  static async load(dir: string): Promise<LogitBiasAdapter> {
    const saved = JSON.parse(await Deno.readTextFile(join(dir, "logit_bias.json")));
    return new LogitBiasAdapter(saved.bias.length, Float32Array.from(saved.bias));
  }

  targets(hooks: LinearHook[]): string[] {
    return hooks.filter((h) => h.name === "lm_head").map((h) => h.name);
  }

  parameters() {
    return [{ name: this.name, shape: [this.bias.length], data: this.bias }];
  }

  emit(hook: LinearHook, _input: string, ops: AdapterGraphOps): string {
    return ops.parameter(this.name, [hook.outFeatures]);
  }

  async save(dir: string): Promise<void> {
    await Deno.mkdir(dir, { recursive: true });
    await writeJsonAtomic(join(dir, "logit_bias.json"), { bias: [...this.bias] });
  }
}

/** Trainer config: the shared training fields plus the trainer's own. */
export function biasTrainConfig(context: PluginContext) {
  return z.object({
    ...context.training.fields.shape,
    learning_rate: z.number().positive().default(0.1),
    batch_size: z.number().int().min(1).default(2),
    epochs: z.number().int().min(1).default(1),
    seed: z.number().int().min(0).default(0),
  }).strict();
}

/** The `bias` trainer: load the data, build the adapter, hand the rest to the driver. */
export function biasTrainer(context: PluginContext): Trainer {
  const training = context.training;
  return {
    name: "bias",
    async train(request) {
      const config = biasTrainConfig(context).parse(request.config ?? {});
      const setup = await training.prepare(request.model, config.max_length);
      const read = await readChatData(request.data);
      const tokenized = tokenizeDataset(setup.tok, read.conversations, {
        maxLength: setup.maxLength,
      });
      const split = training.splitEval(tokenized.examples, config);
      const adapter = new LogitBiasAdapter(setup.model.vocabSize);
      const weights = await loadWeights(setup.modelDir, setup.model);
      const graph = buildTrainGraph(setup.model, weights, {
        adapters: [adapter],
        trainable: [adapter.name],
      });
      return await training.run({
        request,
        config,
        setup,
        data: { ...split, skipped: [...read.skipped, ...tokenized.skipped] },
        graph,
        params: adapter.parameters(),
        schedule: {
          lr: config.learning_rate,
          epochs: config.epochs,
          microBatchSize: config.batch_size,
          gradAccumulation: 1,
          warmupSteps: 0,
        },
        adapters: [adapter],
        description: `logit-bias training on ${split.train.length} examples`,
        snapshot: (dir) => new LogitBiasAdapter(0, adapter.bias.slice()).save(dir),
        finish: () => adapter.save(request.out),
        progress: false,
      });
    },
  };
}

/** The plugin object. */
const nudge: Plugin<Record<string, never>> = {
  name: "nudge",
  version: "0.1.0",
  description: "Example third-party plugin: a random-direction steerer and a logit-bias trainer.",
  options: z.object({}).strict(),
  provides: ["steerer", "adapter", "trainer"],
  create(_options, context) {
    return {
      steerers: { nudge: nudgeSteerer },
      adapters: {
        bias: async (config?: Record<string, unknown>) =>
          await LogitBiasAdapter.load(String(config?.path)),
      },
      trainers: { bias: biasTrainer(context) },
    };
  },
};

export default nudge;
