/**
 * `dramatis gca transform`: a book file → ShareGPT training samples and GCA test records.
 *
 * @module
 */

import { basename, extname, join } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { parseBook } from "../schemas.ts";
import { transformBook } from "../transform_book.ts";
import { intFlag, optionalString, readJsonFile, stringFlag, writeJsonFile } from "./io.ts";
import { UsageError } from "../../../core/errors.ts";

/**
 * Makes the `transform` command.
 *
 * @example
 * ```ts
 * import { transformCommand } from "./transform_command.ts";
 * console.log(transformCommand().name); // "transform"
 * ```
 */
export function transformCommand(): PluginCommand {
  return {
    name: "transform",
    description: "Write ShareGPT samples (four variants per conversation and speaker, " +
      "next-speaker samples for ~10% of conversations) and test records from a book file.",
    flags: {
      book: { type: "string", required: true, description: "book JSON (gca build-dataset output)" },
      title: { type: "string", description: "book title (default: the file stem)" },
      out: {
        type: "string",
        required: true,
        description: "folder for sft_sharegpt.json and test_set.json",
      },
      seed: { type: "number", default: 42, description: "seed of every random choice" },
      "nsp-rate": {
        type: "number",
        default: 0.1,
        description: "share of conversations that give a next-speaker sample",
      },
      "test-size": { type: "number", default: 100, description: "most test records" },
      tag: {
        type: "string",
        default: "ood",
        choices: ["id", "ood"],
        description: "tag of the test records",
      },
    },
    async run(args, ctx) {
      const c = "transform";
      const path = stringFlag(args, "book", c);
      const book = parseBook(await readJsonFile(path, "--book"), path);
      const title = optionalString(args, "title") ?? basename(path, extname(path));
      const rate = args.flags["nsp-rate"];
      if (typeof rate !== "number" || rate < 0 || rate > 1) {
        throw new UsageError(`gca transform: --nsp-rate is ${rate}; pass a number from 0 to 1`);
      }
      const { samples, testRecords, stats } = transformBook(book, title, {
        seed: intFlag(args, "seed", c, 42),
        nspRate: rate,
        testSize: intFlag(args, "test-size", c, 100, 1),
        tag: stringFlag(args, "tag", c) as "id" | "ood",
      });
      const out = stringFlag(args, "out", c);
      const files = {
        sharegpt: join(out, "sft_sharegpt.json"),
        test_set: join(out, "test_set.json"),
      };
      await writeJsonFile(files.sharegpt, samples);
      await writeJsonFile(files.test_set, testRecords);
      ctx.log(`${title}: ${stats.trainPlots} training plot(s), ${stats.heldOutPlots} held out`);
      if (ctx.json) console.log(JSON.stringify({ title, files, ...stats }, null, 2));
      else {
        console.log(
          `${samples.length} ShareGPT sample(s) (${stats.characterSamples} character, ` +
            `${stats.environmentSamples} environment, ${stats.nspSamples} next-speaker; ` +
            `${stats.variants} variants) → ${files.sharegpt}`,
        );
        console.log(
          `${testRecords.length} test record(s) of ${stats.testCandidates} candidate(s) → ${files.test_set}`,
        );
      }
      return 0;
    },
  };
}
