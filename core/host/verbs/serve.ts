/**
 * `dramatis serve`: serves personas behind an OpenAI-compatible endpoint (DESIGN §4). Each
 * persona's model is built by the context's model hub (`--provider`, `--threads`; local engine
 * with adapters and steering, plugin backends, or any OpenAI-compatible endpoint); tests may
 * inject another backend (`createServeVerb({ backend })`).
 *
 * @module
 */

import { basename } from "node:path";
import type { ChatModel } from "../../contracts/chat_model.ts";
import { type Persona, PersonaSchema } from "../../contracts/persona.ts";
import { UsageError } from "../../errors.ts";
import { personaNameFor } from "../../persona/character_card.ts";
import { PersonaStore } from "../../persona/persona_store.ts";
import { PersonaResolver } from "../server/persona_resolver.ts";
import type { AppOptions } from "../server/app.ts";
import { type ServerHandle, startServer } from "../server/serve.ts";
import type { HostContext, HostVerb } from "../verb.ts";
import { printJson } from "../verb.ts";

/** Builds the base ChatModel for a persona; `persona.model` is its base model dir or id. */
export type ServeBackend = (
  persona: Persona,
  context: HostContext,
) => ChatModel | Promise<ChatModel>;

/** Options of {@link createServeVerb}. */
export interface ServeVerbOptions {
  /** The backend factory (default: the context's model hub, `ctx.models.personaBackend`). */
  backend?: ServeBackend;
  /** Called once the server listens (tests use it to find the port). */
  onListen?: (server: ServerHandle) => void;
  /** Prompt token counter for `--context` (default: a byte-length estimate). */
  countTokens?: AppOptions["countTokens"];
}

/**
 * The name the bare `--model` is served under: its last path or id segment.
 *
 * @example
 * ```ts
 * import { defaultPersonaName } from "./serve.ts";
 * console.log(defaultPersonaName("./models/tiny-llama")); // "tiny-llama"
 * ```
 */
export function defaultPersonaName(model: string): string {
  const tail = model.replace(/[/\\]+$/, "");
  return personaNameFor(
    basename(tail.includes(":") ? tail.slice(tail.lastIndexOf(":") + 1) : tail),
  );
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

function positiveInt(flags: Record<string, unknown>, name: string): number | undefined {
  const v = flags[name];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < (name === "queue" ? 0 : 1)) {
    throw new UsageError(
      `serve: --${name} is ${v}; pass a whole number >= ${name === "queue" ? 0 : 1}`,
    );
  }
  return v;
}

/**
 * Builds the `serve` verb.
 *
 * @example
 * ```ts
 * import { createServeVerb } from "./serve.ts";
 * import { ScriptedChatModel } from "../../chat/testing/mod.ts";
 * const verb = createServeVerb({ backend: () => new ScriptedChatModel() });
 * console.log(verb.name); // "serve"
 * ```
 */
export function createServeVerb(options: ServeVerbOptions = {}): HostVerb {
  const backend: ServeBackend = options.backend ??
    ((persona, ctx) => ctx.models.personaBackend(persona));
  return {
    name: "serve",
    description:
      "Serve personas behind an OpenAI-compatible endpoint (POST /v1/chat/completions, " +
      "GET /v1/models, /v1/personas, /health, /metrics). Stop with Ctrl-C.",
    flags: {
      model: {
        type: "string",
        required: true,
        description: "base model directory or hub id (served as a persona named after it)",
      },
      personas: {
        type: "string",
        description: "directory of persona JSON files (enables /v1/personas with --admin-key)",
      },
      port: {
        type: "number",
        default: 8000,
        description: "port to listen on (0 picks a free one)",
      },
      host: { type: "string", default: "127.0.0.1", description: "interface to bind" },
      "api-key": {
        type: "string",
        description: "bearer key clients must send (default: DRAMATIS_API_KEY; none: open)",
      },
      "admin-key": {
        type: "string",
        description: "bearer key for /v1/personas (default: DRAMATIS_ADMIN_KEY)",
      },
      "max-tokens": {
        type: "number",
        description: "largest max_tokens a request may ask for (default 4096)",
      },
      "context": {
        type: "number",
        description: "context length: prompt + max_tokens must fit (default: no check)",
      },
      "max-body": {
        type: "number",
        description: "largest request body in bytes (default 1048576)",
      },
      timeout: {
        type: "number",
        description: "request time limit in seconds, queue wait included (default 120)",
      },
      concurrency: { type: "number", description: "generations running at once (default 4)" },
      queue: {
        type: "number",
        description: "waiting requests before new ones get 429 (default 64)",
      },
    },
    async run(args, ctx) {
      const f = args.flags;
      const model = String(f.model);
      const apiKey = (f["api-key"] as string | undefined) ?? env("DRAMATIS_API_KEY");
      const adminKey = (f["admin-key"] as string | undefined) ?? env("DRAMATIS_ADMIN_KEY");
      const personasDir = f.personas as string | undefined;
      if (adminKey && !personasDir) {
        throw new UsageError(
          "serve: --admin-key manages personas on disk; pass --personas <dir> too",
        );
      }
      const port = Number(f.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new UsageError(`serve: --port is ${f.port}; pass a whole number from 0 to 65535`);
      }
      const timeout = f.timeout === undefined ? undefined : Number(f.timeout);
      if (timeout !== undefined && !(timeout > 0)) {
        throw new UsageError(`serve: --timeout is ${f.timeout}; pass seconds > 0`);
      }
      const store = personasDir ? new PersonaStore(personasDir) : undefined;
      const base = PersonaSchema.parse({
        name: defaultPersonaName(model),
        model,
        description: `the base model ${model} without a persona`,
      });
      const resolver = new PersonaResolver({
        store,
        fixed: [base],
        backend: (p) => backend(p, ctx),
      });
      // Build the base backend now, so a model that cannot load fails at start, not on first use.
      await resolver.resolve(base.name);
      const models = await resolver.models(); // also validates every persona file up front

      const host = String(f.host);
      if (!apiKey && !["127.0.0.1", "localhost", "::1"].includes(host)) {
        ctx.log(
          `serve: warning: listening on ${host} without --api-key; anyone who can reach it can use it`,
        );
      }
      const server = startServer({
        hostname: host,
        port,
        resolve: (name) => resolver.resolve(name),
        listModels: () => resolver.models(),
        apiKeys: apiKey ? [apiKey] : undefined,
        adminKey,
        personas: store
          ? { store, defaultModel: model, onChange: (n) => resolver.invalidate(n) }
          : undefined,
        plugins: ctx.registry.list().map((r) => r.plugin),
        countTokens: options.countTokens,
        limits: {
          maxTokens: positiveInt(f, "max-tokens"),
          maxContextTokens: positiveInt(f, "context"),
          maxBodyBytes: positiveInt(f, "max-body"),
          requestTimeoutMs: timeout === undefined ? undefined : Math.round(timeout * 1000),
          maxConcurrent: positiveInt(f, "concurrency"),
          maxQueue: positiveInt(f, "queue"),
        },
      });
      const info = {
        url: `${server.url}/v1`,
        models: models.map((m) => m.id),
        auth: Boolean(apiKey),
      };
      if (ctx.json) printJson(info);
      else {
        ctx.log(
          `Serving ${info.models.length} persona(s) at ${info.url} (OpenAI-compatible): ${
            info.models.join(", ")
          }`,
        );
        ctx.log(`Health: ${server.url}/health  Metrics: ${server.url}/metrics  Stop: Ctrl-C`);
      }
      options.onListen?.(server);
      await new Promise<void>((resolve) => {
        if (ctx.signal.aborted) resolve();
        else ctx.signal.addEventListener("abort", () => resolve(), { once: true });
      });
      ctx.log("serve: shutting down");
      await server.shutdown();
      return 0;
    },
  };
}

/**
 * The `serve` verb with the model hub's backend.
 *
 * @example
 * ```ts
 * import { serveVerb } from "./serve.ts";
 * console.log(serveVerb.name); // "serve"
 * ```
 */
export const serveVerb: HostVerb = createServeVerb();
