/**
 * `macm build-memory`: MACM's offline long-term memory (§2.4), `index.json` and
 * `long_memory.json`, from a character's life story, two paragraphs per memory.
 *
 * @module
 */

import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import {
  CHARACTER_FLAGS,
  emit,
  loadCommandCharacter,
  MODEL_FLAGS,
  num,
  openCommandModels,
  str,
} from "../cli_support.ts";
import { buildLongMemory, saveMemory } from "../memory_build.ts";

/**
 * The command.
 *
 * @example
 * ```ts
 * import { buildMemoryCommand } from "./build_memory.ts";
 * console.log(buildMemoryCommand.name); // "build-memory"
 * ```
 */
export const buildMemoryCommand: PluginCommand = {
  name: "build-memory",
  description: "Build a character's long-term memory (index.json, long_memory.json) from its " +
    "story: four agent calls per chunk of paragraphs.",
  flags: {
    character: CHARACTER_FLAGS.character,
    out: { type: "string", required: true, description: "memory folder to write" },
    paragraphs: {
      type: "number",
      description: "use only the first N story paragraphs (quick runs; default: all)",
    },
    "chunk-size": { type: "number", default: 2, description: "paragraphs per memory" },
    ...MODEL_FLAGS,
  },
  async run(args, ctx) {
    const out = str(args, "out");
    if (!out) throw new UsageError("--out is required (the memory folder to write)");
    const character = await loadCommandCharacter(args);
    const limit = num(args, "paragraphs", { int: true, min: 1 });
    const story = limit ? character.story.slice(0, limit) : character.story;
    if (story.length === 0) {
      throw new UsageError(
        `${character.profile.Name} has no story.txt paragraphs; write one with 'macm life-story'`,
        "E_DATA",
      );
    }
    const models = await openCommandModels(args, ctx);
    try {
      const agentMax = num(args, "agent-max-tokens", { int: true, min: 1 });
      const memory = await buildLongMemory(models.agent, character.profile, story, {
        chunkSize: num(args, "chunk-size", { int: true, min: 1 }) ?? 2,
        extra: character.extra,
        request: {
          ...(agentMax ? { max_tokens: agentMax } : {}),
          signal: ctx.signal,
        },
        onChunk: (done, total) => ctx.log(`memory ${done}/${total}`),
      });
      await saveMemory(out, memory);
      const n = Object.keys(memory.index).length;
      emit(ctx, { out, memories: n, paragraphs: story.length, ...models.stats() }, [
        `wrote ${n} memories of ${character.profile.Name} to ${out} (index.json, long_memory.json)`,
      ]);
    } finally {
      models.close();
    }
    return 0;
  },
};
