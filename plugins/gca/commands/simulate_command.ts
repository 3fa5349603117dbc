/**
 * `dramatis gca simulate`: runs the GCA scene simulation on a test set and writes a simulation
 * file.
 *
 * @module
 */

import type { ChatModel } from "../../../core/contracts/chat_model.ts";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { EMBEDDINGS_SYNTAX, embeddingsFor } from "../embeddings.ts";
import { MODEL_REF_SYNTAX as MODEL_SYNTAX } from "../../../core/services/model_ref.ts";
import { ModelResolver } from "../../../core/services/model_resolver.ts";
import { type GcaPluginOptions, simulationOptionsOf } from "../plugin_options.ts";
import { RETRIEVAL_VARIANTS } from "../retrieval.ts";
import type { Book } from "../schemas.ts";
import { simulateRecords, type SimulationFile, simulationsOf } from "../simulate_records.ts";
import { loadBook, loadBooksFor, loadTestSet, nullChapterNote } from "../test_set_file.ts";
import { createGcaSimulator } from "../simulator.ts";
import { intFlag, optionalString, readJsonFile, stringFlag, writeJsonFile } from "./io.ts";
import { withCode } from "../../../core/errors.ts";

/**
 * Makes the `simulate` command with the plugin's options as defaults.
 *
 * @example
 * ```ts
 * import { simulateCommand } from "./simulate_command.ts";
 * import { GcaPluginOptionsSchema } from "../plugin_options.ts";
 * console.log(simulateCommand(GcaPluginOptionsSchema.parse({})).name); // "simulate"
 * ```
 */
export function simulateCommand(defaults: GcaPluginOptions): PluginCommand {
  return {
    name: "simulate",
    description: "Simulate CoSER test records: one actor per character, an environment agent " +
      "and a next-speaker agent, every call through the response cache.",
    flags: {
      records: { type: "string", required: true, description: "test set JSON (array of records)" },
      actor: {
        type: "string",
        description: `actor <model> for every character: ${MODEL_SYNTAX}`,
        ...(defaults.actor ? { default: defaults.actor } : {}),
      },
      "actor-for": {
        type: "string",
        multiple: true,
        description: "actor for one character, 'Name=<model>' (e.g. a persona:<file.json>)",
      },
      env: { type: "string", default: defaults.env, description: "environment <model>" },
      nsp: { type: "string", default: defaults.nsp, description: "next-speaker <model>" },
      retrieval: {
        type: "string",
        choices: Object.keys(RETRIEVAL_VARIANTS),
        description: "retrieval variant (needs --book and --embeddings)",
        ...(defaults.retrieval ? { default: defaults.retrieval } : {}),
      },
      book: {
        type: "string",
        description: "one book JSON for retrieval, for records of that one book",
      },
      books: {
        type: "string",
        description: "folder of <title>.json books (CoSER data/final): each record retrieves " +
          "from its own book; a missing title is an error before any model call",
      },
      embeddings: { type: "string", description: `embeddings for retrieval: ${EMBEDDINGS_SYNTAX}` },
      "leakage-filter": {
        type: "boolean",
        default: defaults.leakageFilter,
        description: "leave the test plot and held-out plots out of retrieval corpora " +
          "(--no-leakage-filter keeps them, as the paper's code does)",
      },
      "wo-thought": {
        type: "boolean",
        default: defaults.woThought,
        description: "actors speak and act without [thoughts]",
      },
      "continue-from": {
        type: "number",
        default: defaults.continueFrom,
        description: "replay the first k utterances from the original",
      },
      runs: {
        type: "number",
        default: defaults.runs,
        description: "repeated runs per record (nth = 0..runs-1; the paper's --nth_exp -1 is 3)",
      },
      nth: { type: "number", default: defaults.nth, description: "first repeat index" },
      "max-rounds": {
        type: "number",
        default: defaults.maxRounds,
        description: "most utterances per scene (paper: 20)",
      },
      "min-rounds": {
        type: "number",
        default: defaults.minRoundsBeforeEnd,
        description: "<END CHAT> is honoured from this 0-based round",
      },
      "max-tokens": {
        type: "number",
        default: defaults.maxTokens,
        description: "max_tokens per call",
      },
      "max-retries": {
        type: "number",
        default: defaults.maxRetries,
        description: "retries of a failed or empty call",
      },
      "nsp-format": {
        type: "string",
        default: defaults.nspFormat,
        choices: ["reasoned", "name_only"],
        description: "next-speaker answer format",
      },
      "actor-style": {
        type: "string",
        default: defaults.actorStyle,
        choices: ["auto", "coser", "generic"],
        description: "actor requirements (auto: coser when the model name contains 'coser')",
      },
      limit: { type: "number", description: "simulate only the first n records" },
      seed: { type: "number", default: defaults.seed, description: "base seed" },
      cache: { type: "string", default: defaults.cache, description: "SQLite response cache" },
      out: {
        type: "string",
        required: true,
        description: "simulation file, rewritten after every scene; an unfinished one there is " +
          "resumed",
      },
    },
    async run(args, ctx) {
      const c = "simulate";
      // Everything that can be checked is checked before the first model call.
      const set = await loadTestSet(stringFlag(args, "records", c), "--records");
      const limit = args.flags.limit === undefined
        ? set.raw.length
        : intFlag(args, "limit", c, 0, 1);
      const records = set.raw.slice(0, limit);
      const parsed = set.records.slice(0, limit);
      const note = nullChapterNote(set);
      if (note) ctx.log(note);
      const actor = optionalString(args, "actor");
      const perCharacter = (args.flags["actor-for"] as string[] | undefined) ?? [];
      if (!actor && perCharacter.length === 0) {
        throw new UsageError(
          "gca simulate: give --actor <model> (and/or --actor-for 'Name=<model>')",
        );
      }
      const retrieval = optionalString(args, "retrieval") ?? null;
      const bookPath = optionalString(args, "book");
      const booksDir = optionalString(args, "books");
      const embeddingsSpec = optionalString(args, "embeddings") ?? defaults.embeddings;
      if (bookPath && booksDir) {
        throw new UsageError("gca simulate: give --book <file> or --books <dir>, not both");
      }
      if (retrieval && ((!bookPath && !booksDir) || !embeddingsSpec)) {
        throw new UsageError(
          `gca simulate: --retrieval ${retrieval} needs --books <dir> (or --book <book.json>) ` +
            `and --embeddings <source>`,
        );
      }
      let book: Book | undefined;
      let books: Map<string, Book> | undefined;
      if (booksDir) {
        const loaded = await loadBooksFor(parsed, booksDir);
        books = loaded.books;
        for (const n of loaded.notes) ctx.log(n);
      } else if (bookPath) {
        const titles = [...new Set(parsed.map((r) => r.book))];
        if (titles.length > 1) {
          throw withCode(
            new RangeError(
              `gca simulate: --book ${bookPath} is one book but the records come from ` +
                `${titles.length} (${titles.slice(0, 4).map((t) => `"${t}"`).join(", ")}${
                  titles.length > 4 ? ", …" : ""
                }); pass --books <dir> with one <title>.json per book so each record retrieves ` +
                `from its own`,
            ),
            "E_DATA",
          );
        }
        const loaded = await loadBook(bookPath, "--book");
        book = loaded.book;
        if (loaded.note) ctx.log(loaded.note);
      }
      const out = stringFlag(args, "out", c);
      const done = await previousSimulations(out, intFlag(args, "seed", c, 42));
      const cachePath = stringFlag(args, "cache", c);
      const resolver = new ModelResolver({ hub: ctx.models, cachePath });
      try {
        const models: Record<string, ChatModel> = {};
        if (actor) models.actor = await resolver.get(actor);
        for (const entry of perCharacter) {
          const eq = entry.indexOf("=");
          if (eq <= 0 || eq === entry.length - 1) {
            throw new UsageError(
              `gca simulate: --actor-for '${entry}' must look like 'Name=<model>'`,
            );
          }
          models[`actor:${entry.slice(0, eq).trim()}`] = await resolver.get(entry.slice(eq + 1));
        }
        if (!models.actor) models.actor = Object.values(models)[0];
        models.environment = await resolver.get(stringFlag(args, "env", c));
        models.nsp = await resolver.get(stringFlag(args, "nsp", c));
        const embed = retrieval
          ? embeddingsFor(embeddingsSpec!, { cachePath, models: ctx.models })
          : undefined;
        const options = {
          ...simulationOptionsOf(defaults),
          retrieval,
          leakageFilter: args.flags["leakage-filter"] !== false,
          woThought: args.flags["wo-thought"] === true,
          continueFrom: intFlag(args, "continue-from", c, 0),
          nth: intFlag(args, "nth", c, 0),
          maxRounds: intFlag(args, "max-rounds", c, 20, 1),
          minRoundsBeforeEnd: intFlag(args, "min-rounds", c, 5),
          maxTokens: intFlag(args, "max-tokens", c, 512, 1),
          maxRetries: intFlag(args, "max-retries", c, 2),
          nspFormat: stringFlag(args, "nsp-format", c) as "reasoned" | "name_only",
          actorStyle: stringFlag(args, "actor-style", c) as "auto" | "coser" | "generic",
        };
        const file = await simulateRecords(records, {
          simulator: createGcaSimulator({ embed }),
          models,
          options,
          runs: intFlag(args, "runs", c, 1, 1),
          seed: intFlag(args, "seed", c, 42),
          book,
          books,
          done,
          onProgress: (partial) => writeJsonFile(out, { ...partial, complete: false }),
          signal: ctx.signal,
          log: ctx.log,
        });
        const cache = resolver.stats();
        await writeJsonFile(out, { ...file, complete: true, cache });
        const summary = {
          out,
          simulations: file.simulations.length,
          resumed: done.length,
          null_chapters: set.nullChapters.filter((i) => i < limit),
          models: file.models,
          cache,
          fallbacks: file.simulations.reduce((s, x) => s + Number(x.fallbacks ?? 0), 0),
          failed_calls: file.simulations.reduce((s, x) => s + Number(x.failedCalls ?? 0), 0),
        };
        if (ctx.json) console.log(JSON.stringify(summary, null, 2));
        else {
          console.log(
            `${summary.simulations} simulation(s) written to ${out} ` +
              `(cache: ${cache.hits} hit(s), ${cache.misses} model call(s); ` +
              `${summary.fallbacks} NSP fallback(s), ${summary.failed_calls} failed call(s))`,
          );
        }
        return 0;
      } finally {
        resolver.close();
      }
    },
  };
}

/**
 * The simulations an interrupted run left in `out` (a file with `complete: false`), so they are
 * kept; a finished file or none gives none. A file written with another seed is an error.
 */
async function previousSimulations(out: string, seed: number) {
  const exists = await Deno.stat(out).then((s) => s.isFile, () => false);
  if (!exists) return [];
  const file = await readJsonFile(out, "--out") as Partial<SimulationFile> & { complete?: boolean };
  if (file?.complete !== false) return [];
  if (file.seed !== seed) {
    throw new UsageError(
      `gca simulate: ${out} holds an unfinished run with seed ${file.seed}, not ${seed}; rerun ` +
        `with --seed ${file.seed} to resume it, or write to another --out`,
    );
  }
  return simulationsOf(file);
}
