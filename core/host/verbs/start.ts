/**
 * `dramatis start`: the main job. It generates the persona world (`datasets/persona_world/`: a
 * seeded small English whose speakers' traits decide their phrases, with a ground-truth
 * labeller), makes a tiny model whose tokenizer knows the world's words, and runs the shipped
 * quickstart experiment (`examples/quickstart.json`) on it — no network: pretrain the base model
 * on the world's conversations, train identity experts and probe how well they control replies,
 * extract an "optimistic" persona vector, project the rollouts on it and sweep steering with it,
 * compare judges with the ground truth, simulate a conversation with a steered persona wearing
 * experts, write the HTML report and print where it is. A second run reuses every finished step.
 *
 * `--model <dir|hub id>` swaps in a real model as the base (the pretraining step is dropped) and
 * replaces the ground-truth labeller, which only understands the world's language, by the
 * configured valence judge (the third-party lexicon judge).
 *
 * @module
 */

import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseExperiment } from "../../experiment/load_experiment.ts";
import { runExperiment } from "../../experiment/run_experiment.ts";
import { createTinyModel } from "../../model/tiny.ts";
import { buildWorld } from "../../../datasets/persona_world/build.ts";
import { writeReport } from "../../report/write_report.ts";
import { writeFileAtomic } from "../../util/atomic.ts";
import { formatSeconds } from "../../util/progress.ts";
import { printJson } from "../verb.ts";
import type { HostVerb } from "../verb.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const EXPERIMENT = join(ROOT, "examples", "quickstart.json");
const EXAMPLE_PLUGIN = join(ROOT, "examples", "third_party_plugin", "mod.ts");
/** The plugin that exposes the persona world's labeller as a judge. */
const WORLD_PLUGIN = join(ROOT, "examples", "quickstart", "world_plugin.ts");
/** Where the world's files are generated; `examples/quickstart.json` names them. */
export const WORLD_DIR: string = join(ROOT, ".cache", "quickstart", "world");
/** The base model the quickstart makes; `examples/quickstart.json` names it relative to itself. */
const TINY_BASE = join(ROOT, ".cache", "quickstart", "tiny-llama");
const TINY_SIZE = {
  preset: "tiny-llama",
  seed: 1,
  hiddenSize: 128,
  intermediateSize: 384,
  numLayers: 4,
  numHeads: 4,
  numKvHeads: 2,
  vocabSize: 1536,
  maxPositionEmbeddings: 1024,
} as const;

/** The file in the tiny base that names the recipe (sizes and world corpus) it was made from. */
const RECIPE_FILE = "quickstart_recipe.sha256";

/** A digest of what the tiny base is made from: its sizes and the generated world's corpus. */
export async function recipeDigest(corpus: string): Promise<string> {
  const bytes = new TextEncoder().encode(JSON.stringify(TINY_SIZE) + "\n" + corpus);
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Whether a complete tiny base made from this recipe is there (every file, not only the
 * weights). A base made from another world (an older checkout's generator) does not count: its
 * tokenizer would not know the current world's words.
 */
export async function tinyBaseIsCurrent(path: string, digest: string): Promise<boolean> {
  const files = ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"];
  for (const file of files) {
    if (!(await Deno.stat(join(path, file)).catch(() => null))?.isFile) return false;
  }
  const stamp = await Deno.readTextFile(join(path, RECIPE_FILE)).catch(() => "");
  return stamp.trim() === digest;
}

/**
 * The quickstart experiment, optionally rebased on a real model: every use of the pretraining
 * step's output becomes the given model and the pretraining step is dropped.
 */
export async function quickstartExperiment(model?: string): Promise<Record<string, unknown>> {
  const text = await Deno.readTextFile(EXPERIMENT);
  if (!model) return JSON.parse(text);
  const raw = JSON.parse(text.replaceAll("{{artifacts.pretrain}}", model.replaceAll('"', "")));
  raw.steps = (raw.steps as { id: string }[]).filter((s) => s.id !== "pretrain");
  // A real model does not speak the world's language: the configured judge (the lexicon valence
  // judge) replaces the ground-truth labeller.
  for (const s of raw.steps as { plugin: string; role?: string }[]) {
    if (s.plugin === "persona_world") {
      Object.assign(s, { plugin: "lexicon_judge", role: "valence" });
    }
  }
  // talk_traits becomes a copy of the valence step.
  raw.steps = (raw.steps as { id: string }[]).filter((s) => s.id !== "talk_traits");
  // Rollouts are judged by the model itself (persona_vectors' LLM judge) instead of the labeller.
  const judge = (raw.steps as { id: string }[]).find((s) => s.id === "judge_rollouts") as
    | { plugin: string; role?: string; with: { command: string; args: Record<string, unknown> } }
    | undefined;
  if (judge) {
    judge.plugin = "persona_vectors";
    delete judge.role;
    judge.with = {
      command: "judge",
      args: { trait: judge.with.args.trait, in: judge.with.args.in, "judge-model": model },
    };
  }
  if (raw.report) {
    for (const s of raw.report.sweeps ?? []) s.metric = "score";
    for (const a of raw.report.agreement ?? []) a.truth.metric = "score";
  }
  delete raw.models.tiny;
  raw.name = `quickstart-${model.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+/, "")}`;
  return raw;
}

/** The `start` verb. */
export const startVerb: HostVerb = {
  name: "start",
  description: "Run the quickstart: make and train a tiny model from shipped data, train " +
    "identity experts, extract and sweep a persona vector, simulate and judge a conversation " +
    "with the trained persona, and write an HTML report. Finished steps are reused on a rerun.",
  flags: {
    model: {
      type: "string",
      description: "use this model (directory or hub id, e.g. Qwen/Qwen2.5-0.5B-Instruct) as the " +
        "base instead of the tiny one (skips pretraining)",
    },
    out: { type: "string", description: "run directory (default runs/<experiment name>)" },
    force: { type: "boolean", description: "rerun every step" },
  },
  async run(args, ctx) {
    const started = performance.now();
    const model = typeof args.flags.model === "string" ? args.flags.model : undefined;
    const world = await buildWorld(WORLD_DIR);
    // A remade base invalidates every step trained or run on the old one: rerun them all.
    let remade = false;
    if (!model) {
      const text = await Deno.readTextFile(world.corpus);
      const digest = await recipeDigest(text);
      if (!(await tinyBaseIsCurrent(TINY_BASE, digest))) {
        ctx.log(`making the tiny base model in ${TINY_BASE}`);
        await Deno.remove(TINY_BASE, { recursive: true }).catch(() => {});
        const corpus = text.split("\n").filter((l) => l);
        await createTinyModel(TINY_BASE, { ...TINY_SIZE, corpus });
        await writeFileAtomic(join(TINY_BASE, RECIPE_FILE), digest + "\n");
        remade = true;
      }
    }
    if (!ctx.registry.has("lexicon_judge")) await ctx.registry.load(EXAMPLE_PLUGIN);
    if (!ctx.registry.has("persona_world")) await ctx.registry.load(WORLD_PLUGIN);
    const raw = await quickstartExperiment(model);
    const experiment = parseExperiment(raw, EXPERIMENT);
    const result = await runExperiment(
      { experiment, raw, source: EXPERIMENT, baseDir: join(ROOT, "examples") },
      {
        registry: ctx.registry,
        modelFactory: ctx.models.experimentFactory(),
        models: ctx.models,
        out: typeof args.flags.out === "string"
          ? resolve(args.flags.out)
          : join(ROOT, "runs", experiment.name),
        force: args.flags.force === true || remade,
        signal: ctx.signal,
        log: ctx.log,
        progress: !ctx.json,
        pluginOptionOverrides: ctx.pluginOptions,
      },
    );
    const report = await writeReport(result.runDir);
    const seconds = (performance.now() - started) / 1000;
    if (ctx.json) {
      printJson({
        name: result.name,
        run_dir: result.runDir,
        report,
        seconds,
        steps: result.steps,
      });
    } else {
      const ran = result.steps.filter((s) => s.status === "ran").length;
      console.log(
        `\n${result.name}: ${ran} step(s) ran, ${result.steps.length - ran} reused, ` +
          `in ${formatSeconds(seconds)}`,
      );
      for (const s of result.steps) {
        console.log(
          `  ${s.id.padEnd(16)} ${s.kind.padEnd(8)} ${s.status.padEnd(8)} ${s.items} item(s)`,
        );
      }
      console.log(`\nReport: ${report}`);
      console.log(`Run directory: ${result.runDir}`);
    }
    return 0;
  },
};
