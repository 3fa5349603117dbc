/**
 * `dramatis gca build-dataset`: a story text → a CoSER book file, with every model call cached,
 * progress on stderr, and failed chunks logged, skipped and counted.
 *
 * @module
 */

import { basename, extname } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { withCode } from "../../../core/errors.ts";
import { constructBook } from "../construction/pipeline.ts";
import { MODEL_REF_SYNTAX as MODEL_SYNTAX } from "../../../core/services/model_ref.ts";
import { ModelResolver } from "../../../core/services/model_resolver.ts";
import type { GcaPluginOptions } from "../plugin_options.ts";
import { ProgressChatModel } from "../progress_chat_model.ts";
import { intFlag, optionalString, stringFlag, writeJsonFile } from "./io.ts";

/** The title of a story: `--title`, else its first non-empty line when it is short, else the file stem. */
export function storyTitle(path: string, text: string, title?: string): string {
  if (title) return title;
  const first = text.split("\n").map((l) => l.trim()).find((l) => l) ?? "";
  if (first && first.length <= 80 && !/[.!?]$/.test(first)) {
    // "THE SALT ROAD" → "The Salt Road"
    return first === first.toUpperCase()
      ? first.toLowerCase().replace(/\b\p{L}/gu, (c) => c.toUpperCase())
      : first;
  }
  return basename(path, extname(path));
}

/**
 * Makes the `build-dataset` command.
 *
 * @example
 * ```ts
 * import { buildDatasetCommand } from "./build_dataset_command.ts";
 * import { GcaPluginOptionsSchema } from "../plugin_options.ts";
 * console.log(buildDatasetCommand(GcaPluginOptionsSchema.parse({})).name); // "build-dataset"
 * ```
 */
export function buildDatasetCommand(defaults: GcaPluginOptions): PluginCommand {
  return {
    name: "build-dataset",
    description: "Turn a story (plain text) into a CoSER book file: chunking, extraction with " +
      "JSON repair and retries, plot merging, enhancement, name normalisation and profiles.",
    flags: {
      story: { type: "string", required: true, description: "the story as a UTF-8 text file" },
      title: { type: "string", description: "book title (default: the story's first line)" },
      model: { type: "string", required: true, description: `the <model>: ${MODEL_SYNTAX}` },
      "fallback-model": {
        type: "string",
        description: "a second <model> tried when name normalisation fails",
      },
      "chunk-size": {
        type: "number",
        default: 8192,
        description: "chunk size in (approximate cl100k) tokens",
      },
      "max-retries": {
        type: "number",
        default: 5,
        description: "retries per JSON call (attempt 0 at temperature 0, then 1)",
      },
      enhance: {
        type: "boolean",
        default: true,
        description: "rewrite scenarios and motivations (--no-enhance skips)",
      },
      profiles: {
        type: "boolean",
        default: true,
        description: "write character profiles (--no-profiles skips)",
      },
      cache: { type: "string", default: defaults.cache, description: "SQLite response cache" },
      out: { type: "string", required: true, description: "book JSON file to write" },
    },
    async run(args, ctx) {
      const c = "build-dataset";
      const storyPath = stringFlag(args, "story", c);
      let text: string;
      try {
        text = await Deno.readTextFile(storyPath);
      } catch (error) {
        throw withCode(
          new TypeError(`--story ${storyPath} cannot be read (${(error as Error).message})`),
          "E_DATA",
        );
      }
      const title = storyTitle(storyPath, text, optionalString(args, "title"));
      const resolver = new ModelResolver({
        hub: ctx.models,
        cachePath: stringFlag(args, "cache", c),
      });
      try {
        const model = new ProgressChatModel(
          await resolver.get(stringFlag(args, "model", c)),
          ctx.log,
        );
        const fallbackSpec = optionalString(args, "fallback-model");
        const fallbackModel = fallbackSpec ? await resolver.get(fallbackSpec) : undefined;
        ctx.log(`building "${title}" from ${storyPath} (${text.length} characters)`);
        const { book, stats } = await constructBook(model, { title, content: text }, {
          chunkSize: intFlag(args, "chunk-size", c, 8192, 16),
          maxRetries: intFlag(args, "max-retries", c, 5),
          enhance: args.flags.enhance !== false,
          profiles: args.flags.profiles !== false,
          fallbackModel,
          log: ctx.log,
        });
        const out = stringFlag(args, "out", c);
        await writeJsonFile(out, book);
        const cache = resolver.stats();
        const summary = { out, title, ...stats, model_calls: model.calls, cache };
        if (ctx.json) console.log(JSON.stringify(summary, null, 2));
        else {
          console.log(
            `${title}: ${stats.chunks} chunk(s), ${stats.failedChunks.length} skipped ` +
              `[${stats.failedChunks.join(", ")}]; ${stats.plots} plot(s) ` +
              `(${stats.droppedPlots} dropped), ${stats.conversations} conversation(s), ` +
              `${stats.characters} character(s), ${stats.failedEnhancements} failed ` +
              `enhancement(s), names ${stats.namesNormalised ? "normalised" : "kept"}`,
          );
          console.log(
            `${model.calls} call(s): ${cache.hits} from the cache, ${cache.misses} to the model; ` +
              `written to ${out}`,
          );
        }
        return 0;
      } finally {
        resolver.close();
      }
    },
  };
}
