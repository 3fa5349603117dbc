/**
 * A strict OpenAI stand-in on loopback for tests of remote-API code: it accepts exactly the
 * request fields of OpenAI's chat-completions API and answers any other field, as OpenAI does,
 * with 400 `Unrecognized request argument supplied: <field>`. Replies are deterministic: an
 * instance of the requested JSON schema, a number with `top_logprobs` when log-probabilities are
 * asked, otherwise plain text (or what the test's `reply` hook returns). Streaming is supported.
 * Test-only.
 *
 * @module
 */

/** The top-level fields OpenAI's chat-completions endpoint accepts. */
export const OPENAI_CHAT_FIELDS: ReadonlySet<string> = new Set([
  "model",
  "messages",
  "audio",
  "frequency_penalty",
  "function_call",
  "functions",
  "logit_bias",
  "logprobs",
  "max_completion_tokens",
  "max_tokens",
  "metadata",
  "modalities",
  "n",
  "parallel_tool_calls",
  "prediction",
  "presence_penalty",
  "reasoning_effort",
  "response_format",
  "seed",
  "service_tier",
  "stop",
  "store",
  "stream",
  "stream_options",
  "temperature",
  "tool_choice",
  "tools",
  "top_logprobs",
  "top_p",
  "user",
  "web_search_options",
]);

const MESSAGE_FIELDS = new Set([
  "role",
  "content",
  "name",
  "tool_calls",
  "tool_call_id",
  "refusal",
  "audio",
  "function_call",
]);

/** One request the stand-in saw. */
export interface StandInRequest {
  path: string;
  body: Record<string, unknown> | null;
  /** The 4xx status it answered, or null when it served the request. */
  rejected: number | null;
  error?: string;
}

/** Options of {@link strictOpenAI}. */
export interface StrictOpenAIOptions {
  /** Model ids listed by `GET /v1/models` (default `["gpt-4o", "gpt-4o-mini"]`). */
  models?: string[];
  /** Reply text for a request; return undefined for the default reply. */
  reply?: (body: Record<string, unknown>) => string | undefined;
}

/** A running stand-in. */
export interface StrictOpenAI {
  /** Base URL, e.g. `http://127.0.0.1:PORT/v1`. */
  baseURL: string;
  requests: StandInRequest[];
  close(): Promise<void>;
}

type Schema = Record<string, unknown>;

/** A small valid instance of a JSON schema (objects with every property, first enum values). */
export function schemaInstance(schema: Schema, defs: Schema = {}): unknown {
  if (typeof schema.$ref === "string") {
    const name = schema.$ref.split("/").pop()!;
    return schemaInstance((defs[name] ?? {}) as Schema, defs);
  }
  const allDefs = {
    ...defs,
    ...(schema.$defs as Schema ?? {}),
    ...(schema.definitions as Schema ?? {}),
  };
  if (Array.isArray(schema.enum)) return schema.enum[0];
  if ("const" in schema) return schema.const;
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    const list = schema[key];
    if (Array.isArray(list) && list.length > 0) return schemaInstance(list[0] as Schema, allDefs);
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries((schema.properties ?? {}) as Schema)) {
        out[k] = schemaInstance(v as Schema, allDefs);
      }
      return out;
    }
    case "array": {
      const n = typeof schema.minItems === "number" ? schema.minItems : 1;
      return Array.from(
        { length: n },
        () => schemaInstance((schema.items ?? {}) as Schema, allDefs),
      );
    }
    case "integer":
    case "number": {
      const min = typeof schema.minimum === "number" ? schema.minimum : 1;
      const max = typeof schema.maximum === "number" ? schema.maximum : min + 2;
      return type === "integer" ? Math.ceil((min + max) / 2) : (min + max) / 2;
    }
    case "boolean":
      return true;
    case "null":
      return null;
    default: {
      const min = typeof schema.minLength === "number" ? schema.minLength : 0;
      return "yes".padEnd(Math.max(3, min), ".");
    }
  }
}

function unrecognized(body: Record<string, unknown>): string | null {
  for (const k of Object.keys(body)) if (!OPENAI_CHAT_FIELDS.has(k)) return k;
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return "messages";
  for (const [i, m] of messages.entries()) {
    if (typeof m !== "object" || m === null) return `messages[${i}]`;
    for (const k of Object.keys(m)) if (!MESSAGE_FIELDS.has(k)) return `messages[${i}].${k}`;
  }
  return null;
}

function errorResponse(status: number, message: string, param: string | null = null): Response {
  return Response.json(
    { error: { message, type: "invalid_request_error", param, code: null } },
    { status },
  );
}

/**
 * Starts the stand-in on 127.0.0.1 (a free port).
 *
 * @example
 * ```ts ignore
 * import { strictOpenAI } from "./strict_openai.ts";
 * const api = strictOpenAI();
 * // … point OpenAIChatModel at api.baseURL …
 * console.log(api.requests.filter((r) => r.rejected).length); // 0
 * await api.close();
 * ```
 */
export function strictOpenAI(options: StrictOpenAIOptions = {}): StrictOpenAI {
  const requests: StandInRequest[] = [];
  const models = options.models ?? ["gpt-4o", "gpt-4o-mini"];
  let counter = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "GET" && path === "/v1/models") {
      requests.push({ path, body: null, rejected: null });
      return Response.json({
        object: "list",
        data: models.map((id) => ({ id, object: "model", created: 0, owned_by: "openai" })),
      });
    }
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      requests.push({ path, body: null, rejected: 404 });
      return errorResponse(404, `Invalid URL (${req.method} ${path})`);
    }
    let body: Record<string, unknown>;
    try {
      body = await req.json();
    } catch {
      requests.push({ path, body: null, rejected: 400, error: "bad json" });
      return errorResponse(400, "We could not parse the JSON body of your request.");
    }
    const bad = unrecognized(body);
    if (bad) {
      const error = `Unrecognized request argument supplied: ${bad}`;
      requests.push({ path, body, rejected: 400, error });
      return errorResponse(400, error, bad);
    }
    if (!models.includes(String(body.model))) {
      const error = `The model \`${body.model}\` does not exist or you do not have access to it.`;
      requests.push({ path, body, rejected: 404, error });
      return errorResponse(404, error, "model");
    }
    const top = body.top_logprobs;
    if (top !== undefined && (typeof top !== "number" || top < 0 || top > 20 || !body.logprobs)) {
      const error = "top_logprobs must be 0..20 and requires logprobs: true";
      requests.push({ path, body, rejected: 400, error });
      return errorResponse(400, error, "top_logprobs");
    }
    requests.push({ path, body, rejected: null });
    const format = body.response_format as
      | { type: string; json_schema?: { schema?: Schema } }
      | undefined;
    let text = options.reply?.(body);
    if (text === undefined) {
      if (format?.type === "json_schema") {
        text = JSON.stringify(schemaInstance(format.json_schema?.schema ?? {}));
      } else if (format?.type === "json_object") text = "{}";
      else if (body.logprobs) text = "85";
      else text = "I would say so, yes.";
    }
    const lp = body.logprobs
      ? {
        content: [{
          token: text,
          logprob: Math.log(0.9),
          bytes: null,
          top_logprobs: Array.from({ length: Number(top ?? 0) }, (_, i) => ({
            token: i === 0 ? text : String(90 - i),
            logprob: i === 0 ? Math.log(0.9) : Math.log(0.1 / 20),
            bytes: null,
          })),
        }],
      }
      : null;
    const id = `chatcmpl-${++counter}`;
    const created = 1_700_000_000;
    const n = typeof body.n === "number" ? body.n : 1;
    const usage = { prompt_tokens: 10, completion_tokens: 3, total_tokens: 13 };
    if (body.stream) {
      const enc = new TextEncoder();
      const chunk = (o: unknown) => enc.encode(`data: ${JSON.stringify(o)}\n\n`);
      const base = { id, object: "chat.completion.chunk", created, model: body.model };
      const parts: Uint8Array[] = [];
      for (let i = 0; i < n; i++) {
        parts.push(chunk({
          ...base,
          choices: [{ index: i, delta: { role: "assistant", content: text }, logprobs: lp }],
        }));
        parts.push(chunk({
          ...base,
          choices: [{ index: i, delta: {}, finish_reason: "stop", logprobs: null }],
        }));
      }
      const opts = body.stream_options as { include_usage?: boolean } | undefined;
      if (opts?.include_usage) parts.push(chunk({ ...base, choices: [], usage }));
      parts.push(enc.encode("data: [DONE]\n\n"));
      return new Response(new Blob(parts as BlobPart[]).stream(), {
        headers: { "content-type": "text/event-stream" },
      });
    }
    return Response.json({
      id,
      object: "chat.completion",
      created,
      model: body.model,
      choices: Array.from({ length: n }, (_, i) => ({
        index: i,
        message: { role: "assistant", content: text, refusal: null },
        logprobs: lp,
        finish_reason: "stop",
      })),
      usage,
      system_fingerprint: "fp_standin",
    });
  });
  return {
    baseURL: `http://127.0.0.1:${server.addr.port}/v1`,
    requests,
    close: () => server.shutdown(),
  };
}
