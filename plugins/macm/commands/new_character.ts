/**
 * `macm new-character`: a seeded random profile with its Jungian function stack (§2.2).
 *
 * @module
 */

import { join } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { writeJsonAtomic } from "../../../core/util/atomic.ts";
import { emit, num, str } from "../cli_support.ts";
import { generateProfile } from "../profile_generator.ts";

/**
 * The command.
 *
 * @example
 * ```ts
 * import { newCharacterCommand } from "./new_character.ts";
 * console.log(newCharacterCommand.name); // "new-character"
 * ```
 */
export const newCharacterCommand: PluginCommand = {
  name: "new-character",
  description: "Draw a random character profile (seeded) with its function stack; writes " +
    "<out>/profile.json when --out is given.",
  flags: {
    seed: { type: "number", default: 0, description: "random seed (same seed, same profile)" },
    id: { type: "string", description: "profile ID (default: the seed, zero-padded)" },
    today: {
      type: "string",
      default: "2024-01-01",
      description: "date ages are counted at (ISO)",
    },
    out: { type: "string", description: "character folder to write profile.json into" },
  },
  async run(args, ctx) {
    const profile = generateProfile(num(args, "seed", { int: true }) ?? 0, {
      id: str(args, "id"),
      today: str(args, "today"),
    });
    const out = str(args, "out");
    if (out) {
      await writeJsonAtomic(join(out, "profile.json"), profile);
      ctx.log(`wrote ${join(out, "profile.json")}`);
    }
    emit(ctx, { profile, path: out ? join(out, "profile.json") : null }, [
      `${profile.Name}, ${profile.Age}, ${profile.Gender}, ${profile.Occupation}`,
      `Function stack: ${profile.Function_stack!.join(" ")}`,
      `Traits: ${profile.Traits}`,
    ]);
    return 0;
  },
};
