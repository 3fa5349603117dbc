/**
 * `dramatis model new <dir> --preset …`: writes a tiny model in Hugging Face layout with seeded
 * random weights, made entirely by the project's own code (the fixture of every model test).
 *
 * @module
 */

import { resolve } from "node:path";
import { UsageError } from "../../errors.ts";
import {
  createRealTokenizerModel,
  REAL_TOKENIZER_PRESETS,
  type RealTokenizerPreset,
} from "../../model/real_presets.ts";
import { createTinyModel, TINY_PRESETS, type TinyPreset } from "../../model/tiny.ts";
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
      "longest sequence the model takes (default 512); raise it to train on long released " +
        "dialogues, e.g. 2048 for HIS",
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
    const info = real
      ? await createRealTokenizerModel(resolve(dir), {
        preset: f.preset as RealTokenizerPreset,
        seed: num("seed"),
        hiddenSize: num("hidden-size"),
        numLayers: num("layers"),
        dtype: f.dtype as "F32" | "F16" | "BF16" | undefined,
      })
      : await createTinyModel(resolve(dir), {
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

/** The `model` verb. */
export const modelVerb: HostVerb = {
  name: "model",
  description:
    "Model utilities. 'model new <dir> --preset tiny-llama|tiny-qwen3|tiny-llama2-chat|" +
    "tiny-llama31|tiny-qwen3-real' creates a tiny seeded model in Hugging Face layout.",
  positionals: ["new", "<dir>"],
  subcommands: [modelNewVerb],
};
