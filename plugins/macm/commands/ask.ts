/**
 * `macm ask`: one question to a simulacrum with one method (chat mode), printing the answer and
 * the agents' trace.
 *
 * @module
 */

import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { UsageError } from "../../../core/errors.ts";
import {
  CHARACTER_FLAGS,
  EMBED_FLAG,
  emit,
  loadCommandCharacter,
  MODEL_FLAGS,
  openCommandModels,
  simulacrumMaker,
  str,
} from "../cli_support.ts";
import { SIMULACRUM_METHODS, type SimulacrumMethod } from "../simulacrum.ts";

/**
 * The command.
 *
 * @example
 * ```ts
 * import { askCommand } from "./ask.ts";
 * console.log(askCommand.name); // "ask"
 * ```
 */
export const askCommand: PluginCommand = {
  name: "ask",
  description: "Ask a character one question with none, prompt, rag or macm.",
  flags: {
    question: { type: "string", required: true, description: "what the other person says" },
    method: {
      type: "string",
      default: "macm",
      choices: SIMULACRUM_METHODS,
      description: "none, prompt, rag or macm",
    },
    ...CHARACTER_FLAGS,
    ...MODEL_FLAGS,
    ...EMBED_FLAG,
  },
  async run(args, ctx) {
    const question = str(args, "question");
    if (!question) throw new UsageError("--question is required");
    const method = (str(args, "method") ?? "macm") as SimulacrumMethod;
    const character = await loadCommandCharacter(args);
    const models = await openCommandModels(args, ctx);
    const maker = simulacrumMaker(args, character, models, ctx.signal);
    try {
      const turn = await (await maker.make(method)).chat(question, []);
      const lines = [`${character.profile.Name}: ${turn.answer}`];
      if (turn.memory_agent) {
        lines.push(`  memory: ${Object.keys(turn.memory_agent.selected).join(", ") || "(none)"}`);
        lines.push(`  thinking: ${turn.thinking}`, `  emotion: ${turn.emotion}`);
      }
      emit(ctx, { ...turn, ...models.stats() }, lines);
    } finally {
      maker.close();
      models.close();
    }
    return 0;
  },
};
