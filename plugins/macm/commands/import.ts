/**
 * `macm import`: the Human Simulacra release (`Characters/`) as one character folder per
 * character, with missing parts and ID/name disagreements reported.
 *
 * @module
 */

import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { emit, str } from "../cli_support.ts";
import { importHumanSimulacra } from "../import_release.ts";

/**
 * The command.
 *
 * @example
 * ```ts
 * import { importCommand } from "./import.ts";
 * console.log(importCommand.name); // "import"
 * ```
 */
export const importCommand: PluginCommand = {
  name: "import",
  description: "Import the released Human Simulacra Characters/ folder: one character folder " +
    "per character (profile, biography, story, questions, memory), missing parts and " +
    "disagreements between the release's files reported.",
  positionals: ["<Characters dir>"],
  flags: {
    out: { type: "string", required: true, description: "folder to write the characters into" },
  },
  async run(args, ctx) {
    const [src, ...rest] = args.positionals;
    if (!src || rest.length) {
      throw new UsageError(
        "macm import: give the released Characters/ folder, e.g. 'macm import " +
          "../shared/upstream/human_simulacra/Characters --out ./characters'",
      );
    }
    const out = str(args, "out")!;
    const chars = await importHumanSimulacra(src, out);
    const lines: string[] = [];
    for (const c of chars) {
      lines.push(
        `${c.id} ${c.name}: ${c.dir || "(not written)"} [${c.parts.join(", ")}]` +
          (c.missing.length ? `; missing: ${c.missing.join("; ")}` : ""),
      );
      for (const n of c.notes) lines.push(`  note: ${n}`);
    }
    const complete = chars.filter((c) => c.parts.includes("memory")).length;
    lines.push(
      `${chars.length} character(s) imported to ${out}; ${complete} with story, questions and memory`,
    );
    emit(ctx, { out, characters: chars }, lines);
    return 0;
  },
};
