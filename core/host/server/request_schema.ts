/**
 * The request schema of `POST /v1/chat/completions`: the OpenAI fields Dramatis honours plus its
 * extras (`steering`, `constraint`, `top_k`, `repetition_penalty`) and the request extensions the
 * loaded plugins declare (hirpf's `identities`, persona_vectors' `projections`; see
 * core/contracts/request_extension.ts), validated with zod; errors carry the failing field as
 * OpenAI's `param`. A field that is none of these is refused (400), as OpenAI refuses unknown
 * arguments, except OpenAI fields this server accepts and ignores ({@link IGNORED_OPENAI_FIELDS}).
 *
 * @module
 */

import { z } from "zod";
import type { ChatMessage, ChatRequest } from "../../contracts/chat_model.ts";
import type { RequestExtension } from "../../contracts/request_extension.ts";
import { SteererEntrySchema, SteeringEntrySchema } from "../../contracts/persona.ts";
import { HttpError } from "./http_error.ts";

const TextPart = z.object({ type: z.literal("text"), text: z.string() });

const Message = z.object({
  role: z.enum(["system", "developer", "user", "assistant"], {
    error: "role must be system, developer, user or assistant (tool messages are not supported)",
  }),
  content: z.union([
    z.string(),
    z.array(TextPart, { error: "only text content parts are supported" }),
  ])
    .nullish(),
  name: z.string().optional(),
});

const ResponseFormat = z.discriminatedUnion("type", [
  z.object({ type: z.literal("text") }),
  z.object({ type: z.literal("json_object") }),
  z.object({
    type: z.literal("json_schema"),
    json_schema: z.object({
      name: z.string().min(1),
      schema: z.record(z.string(), z.unknown()).default({}),
      strict: z.boolean().nullish(),
      description: z.string().optional(),
    }),
  }),
]);

const Stop = z.union([z.string(), z.array(z.string()).max(4, "at most 4 stop sequences")])
  .nullish();

const Empty = z.union([z.array(z.unknown()).length(0), z.null()], {
  error: "tools and function calling are not supported by this server",
}).optional();

/**
 * The zod schema of a chat-completions request body.
 *
 * @example
 * ```ts
 * import { ChatCompletionRequestSchema } from "./request_schema.ts";
 * console.log(ChatCompletionRequestSchema.safeParse({ model: "ada", messages: [] }).success); // false
 * ```
 */
export const ChatCompletionRequestSchema = z.object({
  model: z.string({ error: "model is required: pass a persona name from GET /v1/models" }).min(1),
  messages: z.array(Message).min(1, "messages must hold at least one message"),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  top_k: z.number().int().min(0).nullish(),
  repetition_penalty: z.number().gt(0).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  seed: z.number().int().nullish(),
  stop: Stop,
  n: z.number().int().min(1).nullish(),
  logprobs: z.boolean().nullish(),
  top_logprobs: z.number().int().min(0).max(20).nullish(),
  response_format: ResponseFormat.nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  user: z.string().optional(),
  tools: Empty,
  functions: Empty,
  steering: z.array(
    z.union([SteererEntrySchema, SteeringEntrySchema.partial({ positions: true, type: true })]),
  ).optional(),
  constraint: z.union([
    z.object({ choices: z.array(z.string()).min(1) }),
    z.object({ regex: z.string().min(1) }),
  ]).optional(),
});

/**
 * OpenAI chat-completions fields the server accepts and ignores (they change nothing here), so
 * clients that send them by default keep working.
 */
export const IGNORED_OPENAI_FIELDS: readonly string[] = [
  "logit_bias",
  "metadata",
  "store",
  "service_tier",
  "parallel_tool_calls",
  "tool_choice",
  "function_call",
  "modalities",
  "reasoning_effort",
  "prediction",
  "audio",
  "web_search_options",
  "verbosity",
  "prompt_cache_key",
  "safety_identifier",
];

/** A validated request body: the core fields plus the declared request extensions given. */
export type ChatCompletionBody = z.infer<typeof ChatCompletionRequestSchema> & {
  /** The declared request extensions the body carries, validated, by name. */
  extensions?: Record<string, unknown>;
};

function invalid(
  value: unknown,
  issue: { path: PropertyKey[]; message: string },
  prefix: PropertyKey[] = [],
): HttpError {
  const path = [...prefix, ...issue.path];
  const param = path.map(String).join(".") || null;
  const got = path.reduce<unknown>(
    (v, k) =>
      v && typeof v === "object" && Object.hasOwn(v, k)
        ? (v as Record<PropertyKey, unknown>)[k]
        : undefined,
    value,
  );
  const shown = got === undefined ? "missing" : JSON.stringify(got)?.slice(0, 80);
  return new HttpError(400, `${param ?? "body"}: ${issue.message} (got ${shown})`, {
    param,
    code: "invalid_value",
  });
}

/**
 * Validates a body against the core fields and the given request extensions, throwing a 400
 * HttpError naming the first failing field.
 *
 * @example
 * ```ts
 * import { parseChatCompletionBody } from "./request_schema.ts";
 * const body = parseChatCompletionBody({ model: "ada", messages: [{ role: "user", content: "hi" }] });
 * console.log(body.model);
 * // A field no loaded plugin declares is a 400:
 * try { parseChatCompletionBody({ model: "ada", messages: [{ role: "user", content: "hi" }], moods: [] }); }
 * catch (e) { console.log((e as Error).message); }
 * ```
 */
export function parseChatCompletionBody(
  value: unknown,
  extensions: readonly RequestExtension[] = [],
): ChatCompletionBody {
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new HttpError(400, "the request body must be a JSON object", {
      code: "invalid_request_body",
    });
  }
  const result = ChatCompletionRequestSchema.safeParse(value);
  if (!result.success) throw invalid(value, result.error.issues[0]);
  const body: ChatCompletionBody = result.data;
  const declared = new Map(extensions.map((e) => [e.name, e]));
  const known = ChatCompletionRequestSchema.shape;
  for (const key of Object.keys(value)) {
    if (Object.hasOwn(known, key) || IGNORED_OPENAI_FIELDS.includes(key)) continue;
    const ext = declared.get(key);
    if (!ext) {
      const offered = [...declared.keys()];
      throw new HttpError(
        400,
        `${key.slice(0, 80)}: unrecognized request argument; this server accepts the OpenAI ` +
          "chat-completions fields, steering, constraint, top_k, repetition_penalty" +
          (offered.length
            ? ` and the request extensions of its plugins (${offered.join(", ")})`
            : " (no plugin request extensions are loaded)"),
        { param: key.slice(0, 80), code: "invalid_value" },
      );
    }
    const raw = (value as Record<string, unknown>)[key];
    if (raw === undefined || raw === null) continue;
    const parsed = ext.schema.safeParse(raw);
    if (!parsed.success) throw invalid(value, parsed.error.issues[0], [key]);
    (body.extensions ??= {})[key] = parsed.data;
  }
  return body;
}

function messageText(content: ChatCompletionBody["messages"][number]["content"]): string {
  if (content === null || content === undefined) return "";
  return typeof content === "string" ? content : content.map((p) => p.text).join("");
}

/**
 * The ChatRequest a validated body asks for (`developer` becomes `system`, content parts are
 * joined, `max_completion_tokens` stands in for `max_tokens`).
 *
 * @example
 * ```ts
 * import { parseChatCompletionBody, toChatRequest } from "./request_schema.ts";
 * const body = parseChatCompletionBody({ model: "ada", messages: [{ role: "developer", content: "be brief" }] });
 * console.log(toChatRequest(body).messages[0].role); // "system"
 * ```
 */
export function toChatRequest(body: ChatCompletionBody): ChatRequest {
  const messages: ChatMessage[] = body.messages.map((m) => ({
    role: m.role === "developer" ? "system" : m.role,
    content: messageText(m.content),
    ...(m.name ? { name: m.name } : {}),
  }));
  const request: ChatRequest = {
    model: body.model,
    messages,
    max_tokens: body.max_tokens ?? body.max_completion_tokens ?? undefined,
    temperature: body.temperature ?? undefined,
    top_p: body.top_p ?? undefined,
    top_k: body.top_k ?? undefined,
    repetition_penalty: body.repetition_penalty ?? undefined,
    seed: body.seed ?? undefined,
    stop: body.stop ?? undefined,
    n: body.n ?? undefined,
    logprobs: body.logprobs ?? undefined,
    top_logprobs: body.top_logprobs ?? undefined,
    response_format: body.response_format
      ? body.response_format.type === "json_schema"
        ? {
          type: "json_schema",
          json_schema: {
            name: body.response_format.json_schema.name,
            schema: body.response_format.json_schema.schema,
            ...(typeof body.response_format.json_schema.strict === "boolean"
              ? { strict: body.response_format.json_schema.strict }
              : {}),
          },
        }
        : body.response_format
      : undefined,
    constraint: body.constraint,
    steering: body.steering,
    extensions: body.extensions,
  };
  for (const key of Object.keys(request) as (keyof ChatRequest)[]) {
    if (request[key] === undefined) delete request[key];
  }
  return request;
}
