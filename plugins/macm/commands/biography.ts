/**
 * `macm biography`: writes a character's biography from its profile (§2.3).
 *
 * @module
 */

import { join } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { writeFileAtomic } from "../../../core/util/atomic.ts";
import { writeBiography } from "../biography.ts";
import { emit, MODEL_FLAGS, openCommandModels, str } from "../cli_support.ts";
import { parseProfile } from "../profile.ts";

/**
 * The command.
 *
 * @example
 * ```ts
 * import { biographyCommand } from "./biography.ts";
 * console.log(biographyCommand.name); // "biography"
 * ```
 */
export const biographyCommand: PluginCommand = {
  name: "biography",
  description: "Write the biography of a character folder's profile.json into biography.txt " +
    "(one paragraph per line; the writer runs at temperature 0.5).",
  flags: {
    character: {
      type: "string",
      required: true,
      description: "character folder with profile.json",
    },
    ...MODEL_FLAGS,
  },
  async run(args, ctx) {
    const dir = str(args, "character");
    if (!dir) throw new UsageError("--character is required");
    const profile = parseProfile(
      JSON.parse(await Deno.readTextFile(join(dir, "profile.json"))),
      join(dir, "profile.json"),
    );
    const models = await openCommandModels(args, ctx);
    try {
      ctx.log(`writing the biography of ${profile.Name} …`);
      const text = await writeBiography(models.simulacrum, profile);
      const path = join(dir, "biography.txt");
      const paragraphs = text.split(/\n\s*\n|\r?\n/).map((p) => p.trim()).filter(Boolean);
      await writeFileAtomic(path, paragraphs.join("\n") + "\n");
      emit(ctx, { path, paragraphs: paragraphs.length, biography: text, ...models.stats() }, [
        `wrote ${path} (${paragraphs.length} paragraphs)`,
      ]);
    } finally {
      models.close();
    }
    return 0;
  },
};
