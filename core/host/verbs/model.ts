/**
 * `dramatis model new <dir> --preset …`: writes a tiny model in Hugging Face layout with seeded
 * random weights, made entirely by the project's own code (the fixture of every model test).
 *
 * @module
 */

import { join, resolve } from "node:path";
import { UsageError } from "../../errors.ts";
import {
  createRealTokenizerModel,
  REAL_TOKENIZER_PRESETS,
  type RealTokenizerPreset,
} from "../../model/real_presets.ts";
import { createTinyModel, TINY_PRESETS, type TinyPreset } from "../../model/tiny.ts";
import { readDecoderConfig } from "../../model/config.ts";
import { GGUF_TENSOR_TYPES, type GgufDType, writeGguf } from "../../model/gguf.ts";
import { loadWeights } from "../../model/weights.ts";
import { mergeAdapters } from "../../model/merge_adapters.ts";
import { defaultGraphCacheDir, graphBuildIdentity } from "../../model/engine.ts";
import { type GraphCacheEntry, listGraphCache, pruneGraphCache } from "../../model/graph_cache.ts";
import { printJson } from "../verb.ts";
import type { HostVerb } from "../verb.ts";

const sizeFlag = (description: string) => ({ type: "number" as const, description });

/** The `model new` subcommand. */
export const modelNewVerb: HostVerb = {
  name: "new",
  description: "Create a tiny model (config.json, model.safetensors, tokenizer with chat " +
    "template, generation_config.json) with seeded random weights.",
  positionals: ["<dir>"],
  flags: {
    preset: {
      type: "string",
      description: "model family to mimic (tiny-llama2-chat, tiny-llama31 and tiny-qwen3-real " +
        "wear the real Llama-2-chat, Llama-3.1 and Qwen3 tokenizers and chat templates)",
      choices: [...TINY_PRESETS, ...REAL_TOKENIZER_PRESETS],
      default: "tiny-llama",
    },
    seed: { type: "number", description: "weight seed", default: 0 },
    "hidden-size": sizeFlag("model width (default 64; 32 for the real-tokenizer presets)"),
    "intermediate-size": sizeFlag("MLP width (default 128)"),
    layers: sizeFlag("decoder blocks (default 2)"),
    heads: sizeFlag("query heads (default 4)"),
    "kv-heads": sizeFlag("key/value heads (preset default)"),
    "vocab-size": sizeFlag("vocabulary size including 8 special slots (default 1024)"),
    "max-position-embeddings": sizeFlag(
      "longest sequence the model takes (default 4096)",
    ),
    dtype: { type: "string", description: "weights dtype", choices: ["F32", "F16", "BF16"] },
  },
  async run(args, ctx) {
    const [dir, ...extra] = args.positionals;
    if (!dir || extra.length) {
      throw new UsageError("model new: give exactly one directory, e.g. 'model new ./tiny'");
    }
    const f = args.flags;
    const num = (name: string) => f[name] as number | undefined;
    const target = await Deno.lstat(dir).catch((e) => e instanceof Deno.errors.NotFound ? null : e);
    if (target instanceof Error) {
      throw new UsageError(`model new: ${dir} cannot be used (${target.message})`, "E_PATH");
    }
    if (target && !target.isDirectory) {
      throw new UsageError(
        `model new: ${dir} exists and is a file; pass a new or existing folder instead`,
        "E_PATH",
      );
    }
    const real = (REAL_TOKENIZER_PRESETS as readonly string[]).includes(f.preset as string);
    if (real) {
      for (
        const flag of [
          "intermediate-size",
          "heads",
          "kv-heads",
          "vocab-size",
          "max-position-embeddings",
        ]
      ) {
        if (f[flag] !== undefined) {
          throw new UsageError(
            `model new: --${flag} does not apply to ${f.preset}, whose shape follows the real ` +
              `family; use --hidden-size and --layers`,
          );
        }
      }
    }
    const make = () =>
      real
        ? createRealTokenizerModel(resolve(dir), {
          preset: f.preset as RealTokenizerPreset,
          seed: num("seed"),
          hiddenSize: num("hidden-size"),
          numLayers: num("layers"),
          dtype: f.dtype as "F32" | "F16" | "BF16" | undefined,
        })
        : createTinyModel(resolve(dir), {
          preset: f.preset as TinyPreset,
          seed: num("seed"),
          hiddenSize: num("hidden-size"),
          intermediateSize: num("intermediate-size"),
          numLayers: num("layers"),
          numHeads: num("heads"),
          numKvHeads: num("kv-heads"),
          vocabSize: num("vocab-size"),
          maxPositionEmbeddings: num("max-position-embeddings"),
          dtype: f.dtype as "F32" | "F16" | "BF16" | undefined,
        });
    let info: Awaited<ReturnType<typeof make>>;
    try {
      info = await make();
    } catch (error) {
      // A folder that cannot be made or written (a read-only or virtual file system such as
      // /proc, a missing permission) is the path's fault, not a crash.
      if (
        error instanceof Deno.errors.PermissionDenied || error instanceof Deno.errors.NotFound ||
        error instanceof Deno.errors.NotADirectory || error instanceof Deno.errors.AlreadyExists ||
        error instanceof Deno.errors.IsADirectory || /os error/i.test(String(error))
      ) {
        throw new UsageError(
          `model new: cannot write the model to ${dir} (${(error as Error).message}); pick a ` +
            "writable folder",
          "E_PATH",
        );
      }
      throw error;
    }
    const summary = {
      dir: info.dir,
      preset: f.preset,
      seed: f.seed,
      files: info.files,
      config: {
        model_type: info.config.modelType,
        hidden_size: info.config.hiddenSize,
        num_hidden_layers: info.config.numLayers,
        vocab_size: info.config.vocabSize,
      },
    };
    if (ctx.json) printJson(summary);
    else {
      console.log(
        `Wrote ${f.preset} (seed ${f.seed}) to ${info.dir}: ${info.config.numLayers} layers, ` +
          `hidden ${info.config.hiddenSize}, vocab ${info.config.vocabSize}`,
      );
    }
    return 0;
  },
};

/** The `model export-gguf` subcommand. */
export const modelExportGgufVerb: HostVerb = {
  name: "export-gguf",
  description: "Write a model directory (config.json, safetensors, tokenizer.json) as one GGUF " +
    "file for llama.cpp, with the same weights.",
  positionals: ["<dir>"],
  flags: {
    out: { type: "string", description: "GGUF file to write (required)" },
    dtype: {
      type: "string",
      description: "encoding of the matrices (norms stay f32)",
      choices: Object.keys(GGUF_TENSOR_TYPES),
      default: "f32",
    },
    adapter: {
      type: "string",
      description: "an adapter directory to merge into the weights first (e.g. a LoRA run's out)",
    },
    "adapter-plugin": {
      type: "string",
      description: "the plugin that loads --adapter (default lora)",
    },
  },
  async run(args, ctx) {
    const [dir, ...extra] = args.positionals;
    const out = args.flags.out as string | undefined;
    if (!dir || extra.length || !out) {
      throw new UsageError(
        "model export-gguf: give one model directory and --out, e.g. " +
          "'model export-gguf ./tiny --out tiny.gguf --dtype f16'",
      );
    }
    const modelDir = resolve(dir);
    const config = await readDecoderConfig(modelDir);
    let weights = await loadWeights(modelDir, config);
    if (typeof args.flags.adapter === "string") {
      const plugin = String(args.flags["adapter-plugin"] ?? "lora");
      if (!ctx.registry.has(plugin)) {
        throw new UsageError(
          `model export-gguf: --adapter-plugin ${plugin} is not loaded; load it with --plugin ` +
            "or name a loaded adapter plugin (default lora)",
        );
      }
      const roles = await ctx.registry.instantiate(plugin, ctx.pluginOptions.get(plugin) ?? {});
      const factory = Object.values(roles.adapters ?? {})[0];
      if (!factory) {
        throw new UsageError(`model export-gguf: plugin ${plugin} provides no adapter`);
      }
      const adapter = await factory({ model: modelDir, path: resolve(args.flags.adapter) });
      weights = await mergeAdapters(config, weights, [adapter]);
    }
    const tokenizerPath = join(modelDir, "tokenizer.json");
    let tokenizer: Record<string, unknown>;
    try {
      tokenizer = JSON.parse(await Deno.readTextFile(tokenizerPath));
    } catch (e) {
      throw new UsageError(
        `model export-gguf: cannot read ${tokenizerPath} (${(e as Error).message}); ` +
          "the directory needs the model's tokenizer.json",
      );
    }
    const r = await writeGguf(resolve(out), config, weights, {
      tokenizer,
      dtype: args.flags.dtype as GgufDType,
    });
    if (ctx.json) printJson(r);
    else console.log(`Wrote ${r.path}: ${r.tensors} tensors, ${(r.bytes / 1e6).toFixed(1)} MB`);
    return 0;
  },
};

const GB = 1e9;

/** The `model cache` subcommand. */
export const modelCacheVerb: HostVerb = {
  name: "cache",
  description: "List the engine's graph cache (exported graphs and shared weights: size, last " +
    "use, model, and why a folder is stale); --prune removes stale folders (built by another " +
    "graph builder, model folder gone, weights changed, weights no graph uses) and, with " +
    "--older-than, folders unused for that many days.",
  positionals: [],
  flags: {
    dir: {
      type: "string",
      description: "the graph cache (default $DRAMATIS_CACHE/graphs or ~/.cache/dramatis/graphs)",
    },
    prune: { type: "boolean", description: "remove stale folders", default: false },
    "older-than": {
      type: "number",
      description: "with --prune: also remove folders unused for more than this many days",
    },
    "dry-run": { type: "boolean", description: "with --prune: only list what would go" },
  },
  async run(args, ctx) {
    if (args.positionals.length) {
      throw new UsageError("model cache takes no positional arguments; use --dir <graph cache>");
    }
    const root = resolve((args.flags.dir as string | undefined) ?? defaultGraphCacheDir());
    const identity = await graphBuildIdentity();
    const days = args.flags["older-than"] as number | undefined;
    if (!args.flags.prune) {
      if (days !== undefined || args.flags["dry-run"]) {
        throw new UsageError("model cache: --older-than and --dry-run go with --prune");
      }
      const entries = await listGraphCache(root, identity);
      const total = sum(entries);
      const stale = entries.filter((e) => e.stale);
      if (ctx.json) {
        printJson({ root, totalBytes: total, staleBytes: sum(stale), entries });
        return 0;
      }
      console.log(`${root}: ${entries.length} folders, ${(total / GB).toFixed(2)} GB`);
      for (const e of entries) {
        console.log(
          `  ${e.kind === "graph" ? "graph  " : "weights"} ${e.key}  ${
            (e.bytes / GB).toFixed(3)
          } GB  used ${e.lastUsed.toISOString().slice(0, 16)}  ${e.modelDir ?? ""}${
            e.stale ? `  STALE: ${e.stale}` : ""
          }`,
        );
      }
      if (stale.length) {
        console.log(
          `${stale.length} stale (${(sum(stale) / GB).toFixed(2)} GB); ` +
            "'model cache --prune' removes them",
        );
      }
      return 0;
    }
    const r = await pruneGraphCache(root, identity, {
      olderThanDays: days,
      dryRun: Boolean(args.flags["dry-run"]),
    });
    if (ctx.json) {
      printJson({ root, dryRun: Boolean(args.flags["dry-run"]), ...r });
      return 0;
    }
    for (const e of r.removed) {
      console.log(
        `  ${args.flags["dry-run"] ? "would remove" : "removed"} ${e.kind} ${e.key}: ${e.reason}`,
      );
    }
    console.log(
      `${args.flags["dry-run"] ? "Would free" : "Freed"} ${(r.freedBytes / GB).toFixed(2)} GB ` +
        `in ${r.removed.length} folders; ${r.kept.length} kept`,
    );
    return 0;
  },
};

const sum = (entries: readonly GraphCacheEntry[]) => entries.reduce((s, e) => s + e.bytes, 0);

/** The `model` verb. */
export const modelVerb: HostVerb = {
  name: "model",
  description:
    "Model utilities. 'model new <dir> --preset tiny-llama|tiny-qwen3|tiny-llama2-chat|" +
    "tiny-llama31|tiny-qwen3-real' creates a tiny seeded model in Hugging Face layout; " +
    "'model export-gguf <dir> --out model.gguf --dtype f32|f16|q8_0|q4_0 [--adapter <dir>]' " +
    "writes it (with a LoRA adapter merged in) for llama.cpp; 'model cache [--prune]' lists and " +
    "cleans the engine's graph cache.",
  positionals: ["new|export-gguf|cache", "<dir>"],
  subcommands: [modelNewVerb, modelExportGgufVerb, modelCacheVerb],
};
