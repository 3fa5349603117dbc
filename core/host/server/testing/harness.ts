/**
 * A test harness: a server on 127.0.0.1 port 0 with scripted backends, and an `openai` client
 * pointed at it (SDK retries off, so every status reaches the test).
 *
 * @module
 */

import OpenAI from "openai";
import type { ChatModel } from "../../../contracts/chat_model.ts";
import { PersonaSchema } from "../../../contracts/persona.ts";
import { ScriptedChatModel } from "../../../chat/testing/mod.ts";
import { PersonaStore } from "../../../persona/persona_store.ts";
import type { AppOptions } from "../app.ts";
import { PersonaResolver } from "../persona_resolver.ts";
import { type ServerHandle, type ServerOptions, startServer } from "../serve.ts";

/** What a test gets. */
export interface Harness {
  server: ServerHandle;
  client: OpenAI;
  /** The backend of every persona unless `backends` names another. */
  backend: ScriptedChatModel;
  store: PersonaStore;
  resolver: PersonaResolver;
  baseURL: string;
}

/** Options of {@link withServer}. */
export interface HarnessOptions extends Partial<Omit<AppOptions, "resolve" | "listModels">> {
  /** Backends by the persona's base `model` field (default: the shared scripted backend). */
  backends?: Record<string, ChatModel>;
  /** Extra always-served personas, each `{ name, model }` (default one: `echo` on `base`). */
  fixed?: { name: string; model: string }[];
  apiKey?: string;
  /** Connection limits of the guard (see `startServer`). */
  connections?: ServerOptions["connections"];
}

/**
 * Runs `fn` against a fresh server and always shuts it down.
 *
 * @example
 * ```ts
 * import { withServer } from "./harness.ts";
 * await withServer({}, async ({ client }) => {
 *   const r = await client.chat.completions.create({ model: "echo", messages: [{ role: "user", content: "hi" }] });
 *   console.log(r.choices[0].message.content);
 * });
 * ```
 */
export async function withServer(
  options: HarnessOptions,
  fn: (h: Harness) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "dramatis_serve_" });
  const backend = new ScriptedChatModel();
  const store = new PersonaStore(`${dir}/personas`);
  const fixed = (options.fixed ?? [{ name: "echo", model: "base" }]).map((p) =>
    PersonaSchema.parse(p)
  );
  const resolver = new PersonaResolver({
    store,
    fixed,
    backend: (persona) => options.backends?.[persona.model] ?? backend,
  });
  const server = startServer({
    ...options,
    hostname: "127.0.0.1",
    port: 0,
    apiKeys: options.apiKey ? [options.apiKey] : options.apiKeys,
    resolve: (name) => resolver.resolve(name),
    listModels: () => resolver.models(),
    personas: options.personas ??
      { store, defaultModel: "base", onChange: (n) => resolver.invalidate(n) },
  });
  const baseURL = `${server.url}/v1`;
  const client = new OpenAI({ baseURL, apiKey: options.apiKey ?? "none", maxRetries: 0 });
  try {
    await fn({ server, client, backend, store, resolver, baseURL });
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}
