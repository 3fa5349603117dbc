/**
 * `dramatis serve`: serves personas behind an OpenAI-compatible endpoint (DESIGN §4). Each
 * persona's model is built by the context's model hub (`--provider`, `--threads`; local engine
 * with adapters and steering, plugin backends, or any OpenAI-compatible endpoint); tests may
 * inject another backend (`createServeVerb({ backend })`).
 *
 * @module
 */

import { basename, resolve } from "node:path";
import type { ChatModel, ChatRequest } from "../../contracts/chat_model.ts";
import { type Persona, PersonaSchema } from "../../contracts/persona.ts";
import { isSteererEntry } from "../../contracts/steerer.ts";
import { UsageError } from "../../errors.ts";
import { HttpError } from "../server/http_error.ts";
import { ResourceDir, resourcesDisabled } from "../server/resources.ts";
import { personaNameFor } from "../../persona/character_card.ts";
import { PersonaStore } from "../../persona/persona_store.ts";
import { PersonaResolver } from "../server/persona_resolver.ts";
import type { AppOptions } from "../server/app.ts";
import { type ServerHandle, startServer } from "../server/serve.ts";
import type { HostContext, HostVerb } from "../verb.ts";
import { printJson } from "../verb.ts";

/** What the serve verb hands a backend besides the persona: the confined vector lookups. */
export interface ServeResources {
  /**
   * Turns a vector id of a request or persona (steering, request extensions such as
   * projections) into its file inside `--vectors`; absent without `--vectors`.
   */
  locateVector?: (id: string) => Promise<string>;
}

/**
 * Builds the base ChatModel for a persona; `persona.model` is its base model dir or id (always the
 * served `--model`), and adapter paths are already resolved inside `--adapters`.
 */
export type ServeBackend = (
  persona: Persona,
  context: HostContext,
  resources: ServeResources,
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

/** Reads a key: from a file (`--api-key-file`), the flag, or the environment; "" when empty. */
async function readKey(
  flags: Record<string, unknown>,
  flag: string,
  envName: string,
  log: (m: string) => void,
): Promise<string | undefined> {
  const file = flags[`${flag}-file`] as string | undefined;
  if (file !== undefined) {
    let text: string;
    try {
      const info = await Deno.stat(file);
      if (!info.isFile || info.size > 4096) throw new Error("not a small regular file");
      text = await Deno.readTextFile(file);
    } catch (error) {
      throw new UsageError(
        `serve: --${flag}-file ${file} cannot be read (${(error as Error).message}); pass a file ` +
          "holding the key on one line",
      );
    }
    return text.replace(/\r?\n$/, "");
  }
  const given = flags[flag];
  if (given !== undefined) {
    log(
      `serve: warning: --${flag} on the command line shows in 'ps' and in deno task's echo; ` +
        `prefer --${flag}-file <file> or the ${envName} environment variable`,
    );
    return String(given);
  }
  try {
    return Deno.env.get(envName);
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
    ((persona, ctx, resources) =>
      ctx.models.with({ locateVector: resources.locateVector }).personaBackend(persona));
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
        description:
          "bearer key clients must send (shows in ps: prefer --api-key-file or DRAMATIS_API_KEY)",
      },
      "api-key-file": { type: "string", description: "file holding the bearer key" },
      "admin-key": {
        type: "string",
        description: "bearer key for /v1/personas (prefer --admin-key-file or DRAMATIS_ADMIN_KEY)",
      },
      "admin-key-file": { type: "string", description: "file holding the admin key" },
      "no-auth": {
        type: "boolean",
        description: "serve without a key (needed for an empty key or a non-loopback --host)",
      },
      vectors: {
        type: "string",
        description:
          "directory of persona vector files; requests and personas name them by id (default: steering off)",
      },
      adapters: {
        type: "string",
        description:
          "directory of saved adapters; personas name them by id (default: adapters off)",
      },
      "max-tokens": {
        type: "number",
        description: "largest max_tokens a request may ask for (default 4096)",
      },
      "context": {
        type: "number",
        description:
          "context length: prompt + max_tokens must fit (default: the model's max_position_embeddings)",
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
      "header-timeout": {
        type: "number",
        description: "seconds a client has to send a request head (default 10)",
      },
      "body-timeout": {
        type: "number",
        description: "seconds a client has to send the declared body after the head (default 30)",
      },
      "idle-timeout": {
        type: "number",
        description: "seconds a new connection may stay silent (default 10)",
      },
      "max-connections": {
        type: "number",
        description: "open client connections at once (default 4096, fewer under a low ulimit -n)",
      },
      queue: {
        type: "number",
        description: "waiting requests before new ones get 429 (default 64)",
      },
    },
    async run(args, ctx) {
      const f = args.flags;
      const model = String(f.model);
      const noAuth = f["no-auth"] === true;
      const apiKey = await readKey(f, "api-key", "DRAMATIS_API_KEY", ctx.log);
      const adminKey = await readKey(f, "admin-key", "DRAMATIS_ADMIN_KEY", ctx.log);
      for (const [name, key] of [["--api-key", apiKey], ["--admin-key", adminKey]] as const) {
        if (key !== undefined && key.trim() === "" && !noAuth) {
          throw new UsageError(
            `serve: ${name} is empty, which would leave the server open; pass a key, or ` +
              "--no-auth to serve without one on purpose",
          );
        }
      }
      const personasDir = f.personas as string | undefined;
      if (adminKey && !personasDir) {
        throw new UsageError(
          "serve: --admin-key manages personas on disk; pass --personas <dir> too",
        );
      }
      const dirs: Record<string, string | undefined> = {
        personas: personasDir,
        vectors: f.vectors as string | undefined,
        adapters: f.adapters as string | undefined,
      };
      for (const [flag, dir] of Object.entries(dirs)) {
        if (dir === undefined) continue;
        const info = await Deno.stat(dir).catch(() => null);
        if (info && !info.isDirectory) {
          throw new UsageError(`serve: --${flag} ${dir} is a file; pass a directory`);
        }
        if (!info && flag !== "personas") {
          throw new UsageError(`serve: --${flag} ${dir} does not exist; pass a directory`);
        }
      }
      const port = Number(f.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        throw new UsageError(`serve: --port is ${f.port}; pass a whole number from 0 to 65535`);
      }
      const timeout = f.timeout === undefined ? undefined : Number(f.timeout);
      if (timeout !== undefined && !(timeout > 0)) {
        throw new UsageError(`serve: --timeout is ${f.timeout}; pass seconds > 0`);
      }
      const limits = {
        maxTokens: positiveInt(f, "max-tokens"),
        maxContextTokens: positiveInt(f, "context"),
        maxBodyBytes: positiveInt(f, "max-body"),
        requestTimeoutMs: timeout === undefined ? undefined : Math.round(timeout * 1000),
        maxConcurrent: positiveInt(f, "concurrency"),
        maxQueue: positiveInt(f, "queue"),
      };
      const seconds = (name: string): number | undefined => {
        const v = f[name];
        if (v === undefined) return undefined;
        if (typeof v !== "number" || !(v > 0) || v > 86_400) {
          throw new UsageError(`serve: --${name} is ${v}; pass seconds > 0 (at most 86400)`);
        }
        return Math.round(v * 1000);
      };
      const connections = {
        headerTimeoutMs: seconds("header-timeout"),
        bodyTimeoutMs: seconds("body-timeout"),
        idleTimeoutMs: seconds("idle-timeout"),
        maxConnections: positiveInt(f, "max-connections"),
      };
      const host = String(f.host);
      const loopback = ["127.0.0.1", "localhost", "::1"].includes(host);
      if (!apiKey && !loopback && !noAuth) {
        throw new UsageError(
          `serve: --host ${host} without a key would let anyone who reaches it use it; pass ` +
            "--api-key-file <file> (or DRAMATIS_API_KEY), or --no-auth to serve open on purpose",
        );
      }
      // A taken port fails now, before the model loads (which can take minutes).
      if (port !== 0) {
        try {
          Deno.listen({ hostname: host, port }).close();
        } catch (error) {
          if (error instanceof Deno.errors.AddrInUse) {
            throw new UsageError(
              `serve: port ${port} on ${host} is in use by another program; pass another --port ` +
                "(0 picks a free one)",
              "E_ADDR_IN_USE",
            );
          }
          throw new UsageError(
            `serve: cannot listen on ${host}:${port} (${(error as Error).message})`,
            "E_USAGE",
          );
        }
      }
      const vectors = dirs.vectors
        ? new ResourceDir(dirs.vectors, {
          kind: "steering vector",
          param: "steering",
          flag: "--vectors",
          suffix: ".safetensors",
          maxBytes: 64 << 20,
        })
        : undefined;
      const adapterDir = dirs.adapters
        ? new ResourceDir(dirs.adapters, {
          kind: "adapter",
          param: "adapters",
          flag: "--adapters",
          directories: true,
          maxBytes: 16 << 30,
        })
        : undefined;
      const locateVector = (param: string) => (id: string) => {
        if (!vectors) {
          throw resourcesDisabled(
            "steering vectors (and vectors named by request extensions)",
            param,
            "--vectors",
          );
        }
        return vectors.resolve(id, param);
      };
      const resources: ServeResources = vectors ? { locateVector: locateVector("steering") } : {};
      const store = personasDir ? new PersonaStore(personasDir) : undefined;
      const base = PersonaSchema.parse({
        name: defaultPersonaName(model),
        model,
        description: `the base model ${defaultPersonaName(model)} without a persona`,
      });
      /** A persona with its resources checked and resolved; a 400 names what is wrong. */
      const confine = async (p: Persona): Promise<Persona> => {
        if (p.model !== model && p.model !== base.name) {
          throw new HttpError(
            400,
            `persona ${p.name} names the base model ${
              JSON.stringify(p.model.slice(0, 80))
            }; this server serves only '${base.name}': set model to it`,
            { param: "model", code: "invalid_persona" },
          );
        }
        for (const entry of p.steering) {
          // A plugin steerer entry names no file; its plugin reads vectors through the hub.
          if (!isSteererEntry(entry)) await locateVector("steering")(entry.vector);
        }
        const adapters = [];
        for (const a of p.adapters) {
          if (!adapterDir) throw resourcesDisabled("persona adapters", "adapters", "--adapters");
          adapters.push({ ...a, path: await adapterDir.resolve(a.path) });
        }
        return { ...p, model, adapters };
      };
      const resolver = new PersonaResolver({
        store,
        fixed: [base],
        backend: async (p) => backend(await confine(p), ctx, resources),
        onInvalid: (name, error) =>
          ctx.log(`serve: persona file ${name}.json is skipped: ${(error as Error).message}`),
      });
      // Build the base backend now, so a model that cannot load fails at start, not on first use.
      await resolver.resolve(base.name);
      const models = await resolver.models();

      if (!apiKey) ctx.log(`serve: no API key: any client that can reach ${host} may use it`);
      const checkRequest = async (request: ChatRequest) => {
        for (const entry of request.steering ?? []) {
          if (!isSteererEntry(entry)) await locateVector("steering")(entry.vector);
        }
        // Vector ids inside plugin request extensions (persona_vectors' projections) are
        // confined the same way.
        for (const ext of ctx.registry.requestExtensions()) {
          const value = request.extensions?.[ext.name];
          if (value === undefined || !ext.vectorRefs) continue;
          for (const { param, id } of ext.vectorRefs(value)) await locateVector(param)(id);
        }
      };
      let server: ServerHandle;
      try {
        server = startServer({
          hostname: host,
          port,
          resolve: (name) => resolver.resolve(name),
          listModels: () => resolver.models(),
          apiKeys: apiKey ? [apiKey] : undefined,
          adminKey: adminKey || undefined,
          personas: store
            ? {
              store,
              defaultModel: model,
              onChange: (n) => resolver.invalidate(n),
              validate: async (p) => void await confine(p),
            }
            : undefined,
          plugins: ctx.registry.list().map((r) => r.plugin),
          countTokens: options.countTokens,
          checkRequest,
          log: ctx.log,
          redact: Object.values(dirs).filter((d): d is string => d !== undefined).map((d) =>
            resolve(d)
          ),
          limits,
          connections,
        });
      } catch (error) {
        if (error instanceof Deno.errors.AddrInUse) {
          throw new UsageError(
            `serve: port ${port} on ${host} is in use by another program; pass another --port ` +
              "(0 picks a free one)",
            "E_ADDR_IN_USE",
          );
        }
        throw error;
      }
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
