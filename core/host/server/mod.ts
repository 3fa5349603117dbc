/**
 * The Dramatis HTTP server: an OpenAI-compatible chat endpoint serving personas, with persona
 * management, health, Prometheus metrics and plugin routes. See DESIGN §4.
 *
 * @example
 * ```ts
 * import { PersonaResolver, startServer } from "./mod.ts";
 * import { PersonaStore } from "../../persona/persona_store.ts";
 * import { ScriptedChatModel } from "../../chat/testing/mod.ts";
 * const store = new PersonaStore("./personas");
 * const resolver = new PersonaResolver({ store, backend: () => new ScriptedChatModel() });
 * const server = startServer({ port: 0, resolve: (n) => resolver.resolve(n),
 *   listModels: () => resolver.models(), personas: { store }, adminKey: "admin" });
 * await server.shutdown();
 * ```
 *
 * @module
 */

export * from "./app.ts";
export * from "./auth.ts";
export * from "./body.ts";
export * from "./completions.ts";
export * from "./http_error.ts";
export * from "./metrics.ts";
export * from "./openai_shapes.ts";
export * from "./persona_resolver.ts";
export * from "./persona_routes.ts";
export * from "./request_schema.ts";
export * from "./serve.ts";
