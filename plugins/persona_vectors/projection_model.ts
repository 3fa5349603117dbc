/**
 * Per-response projections as a request extension: {@link withProjections} wraps a local
 * ChatModel so a request carrying the extension `projections: {vectors, layer, metric}` gets, in
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
import { z } from "zod";
import { requestExtension, withRequestExtension } from "../../core/chat/request_extensions.ts";
import type { RequestExtension } from "../../core/contracts/request_extension.ts";
import { withCode } from "../../core/errors.ts";
import type { Engine } from "../../core/model/engine.ts";
import { type VectorSource, vectorSource } from "../../core/steering/vector_source.ts";
import type { LayerVectors } from "./hidden_states.ts";
import { projectResponse } from "./project_response.ts";

/** The schema of the `projections` request extension. */
export const ProjectionsRequestSchema = z.object({
  /**
   * Vector files or registered names (results keyed by file name without extension), or ids of
   * the server's `--vectors` directory (results keyed by id).
   */
  vectors: z.array(z.string().min(1)).min(1).max(16),
  /** Hugging Face hidden-state index, 1..numLayers. */
  layer: z.number().int().min(1),
  metric: z.enum(["proj", "prompt_last_proj", "prompt_avg_proj", "cos_sim"]).optional(),
});

/** The `projections` request extension. */
export type ProjectionsRequest = z.infer<typeof ProjectionsRequestSchema>;

/**
 * The `projections` request extension: ask a local model to report each reply's projection onto
 * persona vectors (files `[L+1, d]`) at one layer; the values come back in
 * `metadata.persona_projections`, one map per choice (non-streamed requests only). Answered by
 * {@link withProjections}, the plugin's `wrapLocalModel`.
 *
 * @example
 * ```ts
 * import { PROJECTIONS_EXTENSION } from "./projection_model.ts";
 * console.log(PROJECTIONS_EXTENSION.schema.safeParse({ vectors: ["calm"], layer: 2 }).success); // true
 * ```
 */
export const PROJECTIONS_EXTENSION: RequestExtension<ProjectionsRequest> = {
  name: "projections",
  description: "each reply's projection onto persona vectors at one layer " +
    "(metadata.persona_projections)",
  schema: ProjectionsRequestSchema,
  appliesTo: "wrapper",
  vectorRefs: (value) => value.vectors.map((id) => ({ param: "projections.vectors", id })),
};

/** Validates a `projections` value that did not come through the server's schema check. */
function parseProjections(raw: unknown, id: string): ProjectionsRequest {
  const r = ProjectionsRequestSchema.safeParse(raw);
  if (r.success) return r.data;
  const i = r.error.issues[0];
  throw withCode(
    new TypeError(
      `${id}: projections.${i.path.join(".") || "?"}: ${i.message}; pass ` +
        "{ vectors: [file or id, ...], layer: 1..numLayers, metric? }",
    ),
    "E_CONFIG",
  );
}

/**
 * Wraps a local model so it answers the `projections` request extension.
 *
 * @example
 * ```ts ignore
 * import { withProjections } from "./projection_model.ts";
 * const model = withProjections(local, engine);
 * const r = await model.chat({
 *   messages,
 *   extensions: { projections: { vectors: ["v.safetensors"], layer: 2 } },
 * });
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
      const raw = requestExtension(request, "projections");
      if (raw === undefined) return await model.chat(request);
      const p = parseProjections(raw, model.id);
      const rest = withRequestExtension(request, "projections", undefined);
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
      if (requestExtension(request, "projections") !== undefined) {
        throw withCode(
          new TypeError(`${model.id}: projections are computed for non-streamed requests only`),
          "E_CONFIG",
        );
      }
      return model.stream(request);
    },
  };
}
