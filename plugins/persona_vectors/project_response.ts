/**
 * Per-response trait projections for the server (spec B6 monitoring): after a reply is generated,
 * run prompt + reply through the engine once and project the reply's mean residual at `layer`
 * onto each trait vector.
 *
 * Host wiring: after `LocalChatModel.chat()` returns, call
 * `projectResponse(engine, request.messages, reply, vectors, layer)` and put the result under
 * `response.metadata.persona_projections` (vectors loaded once with `loadVectorFile`).
 *
 * @module
 */

import type { ChatMessage } from "../../core/contracts/chat_model.ts";
import type { Engine } from "../../core/model/engine.ts";
import type { LayerVectors } from "./hidden_states.ts";
import { chatPrompt, promptAnswerStates } from "./model_states.ts";
import { type ProjectionMetrics, projectionMetrics } from "./projection.ts";

/** Options of {@link projectResponse}. */
export interface ProjectResponseOptions {
  /** Which metric to report (default `proj`: response_avg · v / |v|). */
  metric?: keyof ProjectionMetrics;
}

/**
 * Projects a reply onto trait vectors: `{trait: value}` (NaN for every trait when the reply adds
 * no token).
 *
 * @example
 * ```ts ignore
 * import { projectResponse } from "./project_response.ts";
 * import { loadVectorFile } from "./vector_io.ts";
 * const v = { optimistic: await loadVectorFile("runs/optimistic_response_avg_diff.safetensors") };
 * const p = await projectResponse(engine, [{ role: "user", content: "Hi" }], "Great day!", v, 20);
 * console.log(p.optimistic);
 * ```
 */
export async function projectResponse(
  engine: Pick<Engine, "tokenizer" | "forward" | "config">,
  messages: readonly ChatMessage[],
  answer: string,
  vectors: Readonly<Record<string, LayerVectors>>,
  layer: number,
  options: ProjectResponseOptions = {},
): Promise<Record<string, number>> {
  const metric = options.metric ?? "proj";
  const [s] = await promptAnswerStates(engine, [{ prompt: chatPrompt(engine, messages), answer }]);
  const out: Record<string, number> = {};
  for (const [trait, v] of Object.entries(vectors)) {
    out[trait] = s.hs ? projectionMetrics(s.hs, s.promptLength, v, layer)[metric] : NaN;
  }
  return out;
}
