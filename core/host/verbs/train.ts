/**
 * `dramatis train --plugin <name> --model <dir|id> --data <path> --out <dir> [--config <file |
 * inline JSON>]`: runs a plugin's trainer. Progress bar on a TTY; `--json` prints the final
 * metrics; Ctrl-C stops after the current step with a checkpoint (run again to resume).
 *
 * @module
 */

import { callHook, wrapRoles } from "../../plugin/hooks.ts";
import { pluginContext } from "../../services/plugin_context.ts";
import type { Plugin } from "../../contracts/plugin.ts";
import type { Trainer, TrainEvent } from "../../contracts/trainer.ts";
import { UsageError, withCode } from "../../errors.ts";
import { parsePluginOptions } from "../../plugin/validate.ts";
import type { HostContext, HostVerb } from "../verb.ts";
import { printJson } from "../verb.ts";

/**
 * Reads `--config`: inline JSON (starts with `{`) or the path of a JSON file.
 *
 * @example
 * ```ts
 * import { readConfigFlag } from "./train.ts";
 * console.log(await readConfigFlag('{"steps": 30}')); // { steps: 30 }
 * ```
 */
export async function readConfigFlag(value: string | undefined): Promise<Record<string, unknown>> {
  if (value === undefined || value.trim() === "") return {};
  const inline = value.trim().startsWith("{");
  let text = value;
  if (!inline) {
    try {
      text = await Deno.readTextFile(value);
    } catch {
      throw new UsageError(
        `--config "${value}" is neither inline JSON nor a readable file; pass '{"steps": 30}' or a .json path`,
        "E_CONFIG",
      );
    }
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(
      `--config ${inline ? "(inline)" : value} is not valid JSON (${(error as Error).message})`,
      "E_CONFIG",
    );
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new UsageError(
      `--config ${inline ? "(inline)" : value} is ${
        JSON.stringify(json)
      }; it must be a JSON object`,
      "E_CONFIG",
    );
  }
  return json as Record<string, unknown>;
}

function trainerPlugins(ctx: HostContext): Plugin[] {
  return ctx.registry.list().map((r) => r.plugin).filter((p) => p.provides.includes("trainer"));
}

function choosePlugin(names: string[], ctx: HostContext): Plugin {
  const withTrainers = trainerPlugins(ctx);
  const list = withTrainers.map((p) => p.name).join(", ") || "(none)";
  if (names.length > 1) {
    throw new UsageError(`train takes one --plugin name, got ${names.join(", ")}`);
  }
  if (names.length === 0) {
    const loaded = ctx.registry.list().filter((r) =>
      r.source !== "built-in" && r.plugin.provides.includes("trainer")
    );
    if (loaded.length === 1) return loaded[0].plugin;
    throw new UsageError(`train needs --plugin <name>; plugins with a trainer: ${list}`);
  }
  if (!ctx.registry.has(names[0])) {
    throw new UsageError(
      `--plugin ${
        names[0]
      }: no such plugin; plugins with a trainer: ${list} (load a file with --plugin ./path.ts)`,
      "E_PLUGIN_UNKNOWN",
    );
  }
  const plugin = ctx.registry.get(names[0]);
  if (!plugin.provides.includes("trainer")) {
    throw new UsageError(
      `--plugin ${plugin.name} provides ${
        plugin.provides.join(", ") || "nothing"
      }, not a trainer; plugins with a trainer: ${list}`,
    );
  }
  return plugin;
}

async function chooseTrainer(plugin: Plugin, ctx: HostContext, name?: string): Promise<Trainer> {
  const options = ctx.pluginOptions.has(plugin.name)
    ? ctx.pluginOptions.get(plugin.name)
    : parsePluginOptions(plugin, {});
  const context = pluginContext(plugin.name, ctx);
  const roles = wrapRoles(
    plugin.name,
    await callHook(plugin.name, "create", () => plugin.create(options, context)),
  );
  const trainers = roles.trainers ?? {};
  const keys = Object.keys(trainers);
  const pick = name ?? (keys.length === 1 ? keys[0] : plugin.name);
  const trainer = trainers[pick];
  if (!trainer) {
    throw withCode(
      new RangeError(
        `plugin ${plugin.name} has no trainer "${pick}"; its trainers: ${
          keys.join(", ") || "(none)"
        }${keys.length > 1 ? " (choose with --trainer)" : ""}`,
      ),
      "E_USAGE",
    );
  }
  return trainer;
}

/**
 * Checks the paths before any model loads: the data must exist, an explicit model path (absolute,
 * `./`, `../`) must be a folder, and `--out` must not be a file.
 */
async function checkPaths(flags: Record<string, unknown>): Promise<void> {
  const stat = (p: string) => Deno.stat(p).catch(() => null);
  const data = String(flags.data);
  if (!(await stat(data))) {
    throw new UsageError(
      `train: --data ${data} does not exist; pass a dataset file or folder`,
      "E_PATH",
    );
  }
  const model = String(flags.model);
  if (/^(\/|\.{1,2}[/\\]|\.{1,2}$)/.test(model) && !(await stat(model))?.isDirectory) {
    throw new UsageError(
      `train: --model ${model} is not a model folder; pass one, or a hub id`,
      "E_PATH",
    );
  }
  const out = await stat(String(flags.out));
  if (out && !out.isDirectory) {
    throw new UsageError(`train: --out ${flags.out} is a file; pass a folder`, "E_PATH");
  }
}

/**
 * The `train` verb.
 *
 * @example
 * ```ts
 * import { trainVerb } from "./train.ts";
 * console.log(trainVerb.flags?.model.required); // true
 * ```
 */
export const trainVerb: HostVerb = {
  name: "train",
  description: "Train an adapter (or a small model) with a plugin's trainer, e.g. --plugin lora. " +
    "Writes the result, checkpoints and metrics.jsonl to --out; an existing run there resumes.",
  flags: {
    plugin: {
      type: "string",
      multiple: true,
      description:
        "the plugin whose trainer runs, by name (lora); a path or URL loads a plugin file",
    },
    model: { type: "string", required: true, description: "model directory or hub id" },
    data: {
      type: "string",
      required: true,
      description: "chat data: messages JSONL, ShareGPT JSON(L), or a directory of them",
    },
    out: { type: "string", required: true, description: "output directory" },
    config: {
      type: "string",
      description: "trainer config: inline JSON ('{\"steps\": 30}') or a JSON file path; lora " +
        "fields: PEFT r, lora_alpha, lora_dropout, use_rslora, target_modules, " +
        "layers_to_transform; trainable (lora|all), steps, epochs, learning_rate, warmup_steps, " +
        "lr_scheduler_type, batch_size, gradient_accumulation_steps, max_length, eval_split, " +
        "eval_every, save_every, seed, skip_invalid, weight_decay, max_grad_norm, steering, …",
    },
    trainer: {
      type: "string",
      description: "which trainer of the plugin (when it provides several)",
    },
    strict: {
      type: "boolean",
      description: "fail on records a loader would skip with a counted warning (e.g. hirpf " +
        "dialogues whose labels carry both polarities of a factor)",
    },
  },
  async run(args, ctx) {
    const names = ([] as string[]).concat(
      (args.flags.plugin as string[] | string | undefined) ?? [],
    );
    const plugin = choosePlugin(names, ctx);
    const trainer = await chooseTrainer(plugin, ctx, args.flags.trainer as string | undefined);
    const config = await readConfigFlag(args.flags.config as string | undefined);
    await checkPaths(args.flags);
    const skipped: string[] = [];
    const onEvent = (e: TrainEvent) => {
      if (e.type === "log") {
        if (e.message.startsWith("skipped ")) {
          skipped.push(e.message.slice(8));
          ctx.log(e.message);
        } else if (e.message.startsWith("trimmed ") || e.message.startsWith("truncated ")) {
          ctx.log(e.message);
        } else if (!ctx.json) ctx.log(e.message);
      } else if (!ctx.json && e.type === "eval") {
        ctx.log(`eval loss ${e.loss.toFixed(4)} at step ${e.step}`);
      } else if (!ctx.json && e.type === "checkpoint") {
        ctx.log(`checkpoint ${e.path}`);
      }
    };
    const result = await trainer.train({
      model: String(args.flags.model),
      data: String(args.flags.data),
      out: String(args.flags.out),
      config,
      strict: args.flags.strict === true,
      signal: ctx.signal,
      onEvent,
      provider: ctx.models.options.provider,
      threads: ctx.models.options.threads,
      dtype: ctx.models.options.dtype,
    });
    if (ctx.json) {
      printJson({
        plugin: plugin.name,
        trainer: trainer.name,
        out: result.out,
        steps: result.steps,
        metrics: result.metrics,
        skipped,
      });
    } else {
      const m = result.metrics;
      const fmt = (v: number) => Number.isInteger(v) ? String(v) : v.toPrecision(5);
      console.log(`${plugin.name}: trained ${result.steps} steps → ${result.out}`);
      for (const [k, v] of Object.entries(m)) console.log(`  ${k.padEnd(20)} ${fmt(v)}`);
      if (skipped.length) console.log(`  ${skipped.length} record(s) skipped (listed above)`);
    }
    return 0;
  },
};
