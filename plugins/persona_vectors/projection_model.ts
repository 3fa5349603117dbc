/**
 * Per-response projections as a request extension: {@link withProjections} wraps a local
 * ChatModel so a request carrying `projections: {vectors, layer, metric}` gets, in
 * `metadata.persona_projections`, each reply's projection onto the named vector files. The
 * plugin hands it to the model hub (`wrapLocalModel`), so every local model the host builds —
 * served personas included — answers it while persona_vectors is loaded.
 *
 * @module
 */

import type {
  ChatChunk,
  ChatModel,
  ChatRequest,
  ChatResponse,
} from "../../core/contracts/chat_model.ts";
import { withCode } from "../../core/errors.ts";
import type { Engine } from "../../core/model/engine.ts";
import { type VectorSource, vectorSource } from "../../core/steering/vector_source.ts";
import type { LayerVectors } from "./hidden_states.ts";
import { projectResponse } from "./project_response.ts";

/** The `projections` request extension. */
export interface ProjectionsRequest {
  /**
   * Vector files or registered names (results keyed by file name without extension), or ids of
   * the server's `--vectors` directory (results keyed by id).
   */
  vectors: string[];
  /** Hugging Face hidden-state index, 1..numLayers. */
  layer: number;
  metric?: "proj" | "prompt_last_proj" | "prompt_avg_proj" | "cos_sim";
}

/**
 * Wraps a local model so it answers the `projections` request extension.
 *
 * @example
 * ```ts ignore
 * import { withProjections } from "./projection_model.ts";
 * const model = withProjections(local, engine);
 * const r = await model.chat({ messages, projections: { vectors: ["v.safetensors"], layer: 2 } });
 * console.log(r.metadata?.persona_projections);
 * ```
 */
export function withProjections(
  model: ChatModel,
  engine: Pick<Engine, "tokenizer" | "forward" | "config">,
  vectors: VectorSource = vectorSource(),
): ChatModel {
  // The server asks a model for its context window and prompt size when it offers them.
  const sizing = model as ChatModel & {
    contextWindow?(): number | undefined;
    countPromptTokens?(messages: ChatRequest["messages"]): number | Promise<number> | undefined;
  };
  return {
    ...(sizing.contextWindow ? { contextWindow: () => sizing.contextWindow!() } : {}),
    ...(sizing.countPromptTokens
      ? { countPromptTokens: (m: ChatRequest["messages"]) => sizing.countPromptTokens!(m) }
      : {}),
    id: model.id,
    async chat(request: ChatRequest): Promise<ChatResponse> {
      const p = request.projections as ProjectionsRequest | undefined;
      if (!p) return await model.chat(request);
      const { projections: _p, ...rest } = request;
      const loaded: Record<string, LayerVectors> = {};
      for (const ref of p.vectors) loaded[vectors.key(ref)] = await vectors.load(ref);
      const response = await model.chat(rest);
      const values = [];
      for (const c of response.choices) {
        values.push(
          await projectResponse(engine, request.messages, c.message.content, loaded, p.layer, {
            metric: p.metric,
          }),
        );
      }
      return { ...response, metadata: { ...response.metadata, persona_projections: values } };
    },
    stream(request: ChatRequest): AsyncIterable<ChatChunk> {
      if (request.projections) {
        throw withCode(
          new TypeError(`${model.id}: projections are computed for non-streamed requests only`),
          "E_CONFIG",
        );
      }
      return model.stream(request);
    },
  };
}
