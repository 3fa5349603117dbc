/**
 * The Dramatis HTTP app (Hono): the OpenAI-compatible chat endpoint, the model list, persona
 * management, health, metrics, and plugin routes under `/plugins/<name>`.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import type { ChatMessage, ChatModel, ChatRequest } from "../../contracts/chat_model.ts";
import type { RequestExtension } from "../../contracts/request_extension.ts";
import type { Plugin } from "../../contracts/plugin.ts";
import type { Persona } from "../../contracts/persona.ts";
import { PluginError } from "../../errors.ts";
import { FifoLimiter } from "../../chat/fifo_limiter.ts";
import type { PersonaStore } from "../../persona/persona_store.ts";
import { bearerToken, keyMatches, requireKey } from "./auth.ts";
import {
  type CompletionsContext,
  DEFAULT_LIMITS,
  estimateTokens,
  handleCompletions,
  type Job,
  type ServerLimits,
} from "./completions.ts";
import { HttpError, publicError, requestId, toHttpError } from "./http_error.ts";
import { ServerMetrics } from "./metrics.ts";
import { mountPersonaRoutes } from "./persona_routes.ts";

/** One entry of `GET /v1/models`. */
export interface ModelInfo {
  id: string;
  /** Unix seconds (default: the server's start time). */
  created?: number;
  owned_by?: string;
}

/** Options of {@link createApp}. */
export interface AppOptions {
  /** The ChatModel serving a `model` name (a persona), or undefined for 404. */
  resolve(model: string): ChatModel | undefined | Promise<ChatModel | undefined>;
  /** The names `GET /v1/models` lists. */
  listModels(): ModelInfo[] | Promise<ModelInfo[]>;
  /** Keys accepted on `/v1/*` and `/plugins/*` (none: open). The admin key is accepted too. */
  apiKeys?: string[];
  /** Key for `/v1/personas` (none: persona management is disabled). */
  adminKey?: string;
  /** Enables `/v1/personas`. */
  personas?: {
    store: PersonaStore;
    defaultModel?: string;
    onChange?: (name: string) => void;
    validate?: (persona: Persona) => void | Promise<void>;
  };
  limits?: Partial<ServerLimits>;
  /**
   * Plugins whose `routes` are mounted at `/plugins/<name>`; their `requestExtensions` are the
   * extra fields chat requests may carry unless {@link requestExtensions} is given.
   */
  plugins?: Plugin[];
  /** The request extensions chat requests may carry (default: those of {@link plugins}). */
  requestExtensions?: readonly RequestExtension[];
  /** `system_fingerprint` of responses whose backend gives none (default `fp_dramatis`). */
  systemFingerprint?: string;
  /** Prompt token count for the context check (default {@link estimateTokens}). */
  countTokens?: (messages: ChatMessage[], model: string) => number | Promise<number>;
  /**
   * Checks a validated request before it takes a slot (e.g. that steering vectors name files in
   * the configured directory); throw an HttpError (4xx) to refuse it.
   */
  checkRequest?: (request: ChatRequest, model: string) => void | Promise<void>;
  /** Where error details go (never to clients); default `console.error`. */
  log?: (line: string) => void;
  /** Directories whose absolute paths are removed from error messages (besides the cwd). */
  redact?: string[];
}

/** The app plus what a host needs to observe and stop it. */
export interface DramatisApp {
  fetch(request: Request): Response | Promise<Response>;
  hono: Hono;
  metrics: ServerMetrics;
  limiter: FifoLimiter;
  limits: ServerLimits;
  /** Aborts every generation in progress (on shutdown). */
  abortAll(reason?: unknown): void;
}

function routeLabel(c: Context): string {
  const path = c.req.routePath;
  return !path || path === "*" || path === "/*" ? "unmatched" : path;
}

function validateLimits(limits: ServerLimits): void {
  for (const [key, value] of Object.entries(limits)) {
    if (value !== undefined && (!Number.isInteger(value) || value < (key === "maxQueue" ? 0 : 1))) {
      throw new RangeError(
        `limits.${key} is ${value}; pass a whole number >= ${key === "maxQueue" ? 0 : 1}`,
      );
    }
  }
}

/**
 * Builds the app. Serve it with `startServer` (serve.ts) or any Fetch-API server.
 *
 * @example
 * ```ts
 * import { createApp } from "./app.ts";
 * import { ScriptedChatModel } from "../../chat/testing/mod.ts";
 * const model = new ScriptedChatModel();
 * const app = createApp({ resolve: (name) => (name === "echo" ? model : undefined),
 *   listModels: () => [{ id: "echo" }] });
 * const r = await app.fetch(new Request("http://x/v1/models"));
 * console.log(await r.json());
 * ```
 */
export function createApp(options: AppOptions): DramatisApp {
  const given = Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined);
  const limits: ServerLimits = { ...DEFAULT_LIMITS, ...Object.fromEntries(given) };
  validateLimits(limits);
  const started = Math.floor(Date.now() / 1000);
  const limiter = new FifoLimiter({ limit: limits.maxConcurrent, maxQueue: limits.maxQueue });
  const metrics = new ServerMetrics(() => ({ queued: limiter.queued, inFlight: limiter.inFlight }));
  const jobs = new Set<Job>();
  const apiKeys = [...(options.apiKeys ?? []), ...(options.adminKey ? [options.adminKey] : [])];
  const ctx: CompletionsContext = {
    resolve: options.resolve,
    limits,
    limiter,
    metrics,
    systemFingerprint: options.systemFingerprint ?? "fp_dramatis",
    countTokens: options.countTokens ?? estimateTokens,
    checkRequest: options.checkRequest,
    requestExtensions: options.requestExtensions ??
      (options.plugins ?? []).flatMap((p) => p.requestExtensions ?? []),
    jobs,
    publish: (error, request) => publish(error, request),
  };
  const log = options.log ?? ((line: string) => console.error(line));
  const redact = options.redact ?? [];
  /** The client-facing form of an error; 5xx details go to the log with the request id. */
  function publish(error: unknown, request: Request): HttpError {
    const http = toHttpError(error);
    const id = requestId(request);
    if (http.status >= 500) {
      const cause = http.cause ?? error;
      const detail = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
      log(
        `dramatis serve: ${id} ${request.method} ${new URL(request.url).pathname} -> ` +
          `${http.status}: ${http.message}\n${detail}`,
      );
    }
    return publicError(http, id, redact);
  }

  const app = new Hono();
  app.use("*", async (c, next) => {
    const t0 = performance.now();
    await next();
    try {
      c.res.headers.set("x-request-id", requestId(c.req.raw));
    } catch { /* immutable headers (a proxied response) */ }
    metrics.request(c.req.method, routeLabel(c), c.res.status, (performance.now() - t0) / 1000);
  });
  app.onError((error, c) => publish(error, c.req.raw).response());
  app.notFound((c) =>
    new HttpError(404, `no route for ${c.req.method} ${new URL(c.req.url).pathname}`, {
      code: "unknown_url",
    })
      .response()
  );

  app.use("/v1/personas", adminOnly);
  app.use("/v1/personas/*", adminOnly);
  app.use("/v1/*", async (c, next) => {
    if (apiKeys.length && !c.req.path.startsWith("/v1/personas")) requireKey(c.req.raw, apiKeys);
    await next();
  });
  app.use("/plugins/*", async (c, next) => {
    if (apiKeys.length) requireKey(c.req.raw, apiKeys);
    await next();
  });

  async function adminOnly(c: Context, next: () => Promise<void>) {
    if (!options.adminKey) {
      throw new HttpError(
        403,
        "persona management is disabled; start the server with --admin-key",
        {
          code: "admin_disabled",
        },
      );
    }
    const token = bearerToken(c.req.raw);
    if (
      token !== undefined && !keyMatches(token, [options.adminKey]) && options.apiKeys?.length &&
      keyMatches(token, options.apiKeys)
    ) {
      throw new HttpError(403, "this key may not manage personas; use the admin key", {
        code: "permission_denied",
      });
    }
    requireKey(c.req.raw, [options.adminKey]);
    await next();
  }

  app.get("/health", (c) =>
    c.json({
      status: "ok",
      uptime_s: Math.floor(Date.now() / 1000) - started,
      in_flight: limiter.inFlight,
      queued: limiter.queued,
    }));
  app.get(
    "/metrics",
    (c) => c.text(metrics.render(), 200, { "content-type": "text/plain; version=0.0.4" }),
  );

  app.get("/v1/models", async (c) => {
    const models = await options.listModels();
    return c.json({
      object: "list",
      data: models.map((m) => ({
        id: m.id,
        object: "model",
        created: m.created ?? started,
        owned_by: m.owned_by ?? "dramatis",
      })),
    });
  });
  app.get("/v1/models/:id", async (c) => {
    const id = c.req.param("id");
    const m = (await options.listModels()).find((x) => x.id === id);
    if (!m) {
      throw new HttpError(404, `the model '${id}' does not exist`, {
        param: "model",
        code: "model_not_found",
      });
    }
    return c.json({
      id: m.id,
      object: "model",
      created: m.created ?? started,
      owned_by: m.owned_by ?? "dramatis",
    });
  });
  app.post("/v1/chat/completions", (c) => handleCompletions(c.req.raw, ctx));

  if (options.personas) {
    mountPersonaRoutes(app, { ...options.personas, maxBodyBytes: limits.maxBodyBytes });
  }

  for (const plugin of options.plugins ?? []) {
    for (const route of plugin.routes ?? []) {
      const path = `/plugins/${plugin.name}${route.path.startsWith("/") ? "" : "/"}${route.path}`;
      app.on(route.method, path, async (c) => {
        try {
          return await route.handler(c.req.raw);
        } catch (error) {
          if (error instanceof HttpError) throw error;
          throw new HttpError(
            500,
            new PluginError(
              plugin.name,
              `route ${route.method} ${route.path}`,
              "E_PLUGIN_HOOK",
              (error as Error)?.message ?? String(error),
            ).message,
            {
              code: "plugin_error",
              cause: error,
            },
          );
        }
      });
    }
  }

  return {
    fetch: (request) => app.fetch(request),
    hono: app,
    metrics,
    limiter,
    limits,
    abortAll(reason) {
      for (const job of jobs) {
        job.controller.abort(
          reason ?? new DOMException("the server is shutting down", "AbortError"),
        );
      }
    },
  };
}
