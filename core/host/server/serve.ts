/**
 * Starting the app on `Deno.serve` and stopping it cleanly.
 *
 * @module
 */

import { type AppOptions, createApp, type DramatisApp } from "./app.ts";

/** Options of {@link startServer}. */
export interface ServerOptions extends AppOptions {
  /** Interface to bind (default `127.0.0.1`). */
  hostname?: string;
  /** Port (default 8000; 0 picks a free one). */
  port?: number;
}

/** A running server. */
export interface ServerHandle {
  /** Base URL, e.g. `http://127.0.0.1:8000`; the OpenAI base URL is this plus `/v1`. */
  url: string;
  hostname: string;
  port: number;
  app: DramatisApp;
  /** Aborts generations in progress, stops accepting connections and waits for the rest. */
  shutdown(): Promise<void>;
  /** Resolves once the server has stopped. */
  finished: Promise<void>;
}

/**
 * Builds the app and serves it.
 *
 * @example
 * ```ts
 * import { startServer } from "./serve.ts";
 * import { ScriptedChatModel } from "../../chat/testing/mod.ts";
 * const model = new ScriptedChatModel();
 * const server = startServer({ port: 0, resolve: () => model, listModels: () => [{ id: "echo" }] });
 * console.log(`${server.url}/v1`);
 * await server.shutdown();
 * ```
 */
export function startServer(options: ServerOptions): ServerHandle {
  const app = createApp(options);
  const hostname = options.hostname ?? "127.0.0.1";
  const server = Deno.serve(
    { hostname, port: options.port ?? 8000, onListen: () => {} },
    (request) => app.fetch(request),
  );
  const { port } = server.addr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  return {
    url: `http://${host}:${port}`,
    hostname,
    port,
    app,
    async shutdown() {
      app.abortAll();
      await server.shutdown();
    },
    finished: server.finished,
  };
}
