/**
 * A Simulator that puts a list of stimuli to a simulacrum in one coffee-shop conversation and
 * returns the transcript with each answer's thoughts, mood and retrieved memory.
 *
 * @module
 */

import type {
  SimulationContext,
  Simulator,
  Transcript,
  Turn,
} from "../../core/contracts/simulator.ts";
import type { RagIndex } from "./rag.ts";
import { type Character, type Exchange, Simulacrum, type SimulacrumMethod } from "./simulacrum.ts";

/** What one simulation receives. */
export interface MacmSimulationInput {
  character: Character;
  /** What the other person says, one per turn. */
  queries: string[];
  /** Required for the `rag` method. */
  rag?: RagIndex;
}

/**
 * Creates the simulator: `context.models.simulacrum` answers; `context.models.agent` runs the
 * memory, thinking and emotion agents (`macm`; defaults to the simulacrum model).
 *
 * @example
 * ```ts
 * import { macmSimulator } from "./simulator.ts";
 * declare const input: import("./simulator.ts").MacmSimulationInput;
 * declare const models: Record<string, import("../../core/contracts/chat_model.ts").ChatModel>;
 * const t = await macmSimulator({ method: "macm" }).simulate(input, { models });
 * console.log(t.turns.map((x) => `${x.speaker}: ${x.text}`).join("\n"));
 * ```
 */
export function macmSimulator(
  options: {
    method?: SimulacrumMethod;
    memoryLimit?: number;
    temperature?: number;
    maxTokens?: number;
  } = {},
): Simulator<MacmSimulationInput> {
  const method = options.method ?? "macm";
  return {
    name: "macm",
    roles: ["simulacrum", "agent"] as const,
    async simulate(input: MacmSimulationInput, ctx: SimulationContext): Promise<Transcript> {
      const simulacrum = ctx.models.simulacrum;
      if (!simulacrum) {
        throw new TypeError(
          `context.models has [${
            Object.keys(ctx.models).join(", ")
          }]; pass a ChatModel as simulacrum ` +
            "(and optionally agent)",
        );
      }
      const s = new Simulacrum({
        ...options,
        method,
        character: input.character,
        simulacrum,
        agent: ctx.models.agent ?? simulacrum,
        rag: input.rag,
        seed: ctx.seed,
        signal: ctx.signal,
      });
      const history: Exchange[] = [];
      const turns: Turn[] = [];
      const name = input.character.profile.Name;
      for (const query of input.queries) {
        ctx.signal?.throwIfAborted();
        const t = await s.chat(query, history);
        ctx.onEvent?.({ name: "macm_turn", data: { ...t } });
        history.push({ other: query, you: t.answer });
        turns.push({ speaker: "other", text: query }, {
          speaker: name,
          text: t.answer,
          thought: t.thinking,
          metadata: {
            emotion: t.emotion,
            memory_agent: t.memory_agent,
            rag_chunks: t.rag_chunks,
            final_messages_roles: t.final_messages_roles,
          },
        });
      }
      return {
        id: `${input.character.profile.ID}:${method}`,
        turns,
        metadata: { character: name, method, simulacrum: simulacrum.id, seed: ctx.seed },
      };
    },
  };
}
