/**
 * `macm add-memory`: appends a new experience to a built memory (next id = largest + 1) and,
 * optionally, attributes to the character's `extra.json`.
 *
 * @module
 */

import { join } from "node:path";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import { writeJsonAtomic } from "../../../core/util/atomic.ts";
import { shippedCharacterDir } from "../character_dir.ts";
import {
  CHARACTER_FLAGS,
  emit,
  loadCommandCharacter,
  MODEL_FLAGS,
  num,
  openCommandModels,
  str,
} from "../cli_support.ts";
import { addLongMemory, loadMemory, saveMemory } from "../memory_build.ts";

/**
 * The command.
 *
 * @example
 * ```ts
 * import { addMemoryCommand } from "./add_memory.ts";
 * console.log(addMemoryCommand.name); // "add-memory"
 * ```
 */
export const addMemoryCommand: PluginCommand = {
  name: "add-memory",
  description: "Add a new experience to a character's memory (four agent calls), and " +
    "attributes (--attribute Key=Value) to its extra.json.",
  flags: {
    character: CHARACTER_FLAGS.character,
    memory: { type: "string", required: true, description: "memory folder to extend" },
    text: { type: "string", required: true, description: "the new experience, first person" },
    attribute: {
      type: "string",
      multiple: true,
      description: "an attribute added to the basic information, Key=Value",
    },
    ...MODEL_FLAGS,
  },
  async run(args, ctx) {
    const memoryDir = str(args, "memory")!;
    const text = str(args, "text");
    if (!text) {
      throw new UsageError('--text is required (the new experience, e.g. "I adopted a dog")');
    }
    const character = await loadCommandCharacter({
      ...args,
      flags: { ...args.flags, memory: undefined },
    });
    const attributes = (args.flags.attribute as string[] | undefined) ?? [];
    const extra = { ...(character.extra ?? {}) };
    for (const a of attributes) {
      const eq = a.indexOf("=");
      if (eq <= 0) throw new UsageError(`--attribute is '${a}'; write Key=Value`);
      extra[a.slice(0, eq).trim()] = a.slice(eq + 1).trim();
    }
    if (attributes.length) {
      const dir = str(args, "character") ?? shippedCharacterDir();
      await writeJsonAtomic(join(dir, "extra.json"), extra);
      ctx.log(`wrote ${join(dir, "extra.json")}`);
    }
    const memory = await loadMemory(memoryDir);
    const models = await openCommandModels(args, ctx);
    try {
      const agentMax = num(args, "agent-max-tokens", { int: true, min: 1 });
      const id = await addLongMemory(models.agent, character.profile, memory, text, extra, {
        ...(agentMax ? { max_tokens: agentMax } : {}),
        signal: ctx.signal,
      });
      await saveMemory(memoryDir, memory);
      emit(ctx, { id, summary: memory.index[id], extra, ...models.stats() }, [
        `added memory ${id}: ${memory.index[id]}`,
      ]);
    } finally {
      models.close();
    }
    return 0;
  },
};
