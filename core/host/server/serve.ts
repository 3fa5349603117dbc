/**
 * Starting the app on `Deno.serve` and stopping it cleanly.
 *
 * @module
 */

import { join } from "node:path";
import { type AppOptions, createApp, type DramatisApp } from "./app.ts";
import {
  type ConnectionGuard,
  type ConnectionLimits,
  startConnectionGuard,
} from "./connection_guard.ts";

/** Options of {@link startServer}. */
export interface ServerOptions extends AppOptions {
  /** Interface to bind (default `127.0.0.1`). */
  hostname?: string;
  /** Port (default 8000; 0 picks a free one). */
  port?: number;
  /**
   * Connection limits (header, body and idle timeouts, open-connection cap) enforced by a guard
   * in front of `Deno.serve`; `false` serves `Deno.serve` directly (no such limits).
   */
  connections?: Partial<ConnectionLimits> | false;
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
  const host = (port: number) =>
    `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${port}`;
  if (options.connections === false) {
    const server = Deno.serve(
      { hostname, port: options.port ?? 8000, onListen: () => {} },
      (request) => app.fetch(request),
    );
    const { port } = server.addr;
    return {
      url: host(port),
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
  // The app listens on a private Unix socket (a loopback port where there are none); clients
  // reach it only through the guard.
  const dir = Deno.makeTempDirSync({ prefix: "dramatis-serve-" });
  let guard: ConnectionGuard;
  let server: Deno.HttpServer;
  let upstream: string | number;
  try {
    Deno.chmodSync(dir, 0o700);
    const path = join(dir, "app.sock");
    server = Deno.serve({ path, onListen: () => {} }, (request) => app.fetch(request));
    upstream = path;
  } catch {
    server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => app.fetch(request),
    );
    upstream = (server.addr as Deno.NetAddr).port;
  }
  try {
    guard = startConnectionGuard({
      hostname,
      port: options.port ?? 8000,
      upstream,
      limits: options.connections,
      onCut: (why) => app.metrics.connectionCut(why),
    });
  } catch (error) {
    server.shutdown().finally(() => Deno.remove(dir, { recursive: true }).catch(() => {}));
    throw error;
  }
  const { port } = guard.addr;
  const finished = server.finished.then(() =>
    Deno.remove(dir, { recursive: true }).catch(() => {})
  );
  return {
    url: host(port),
    hostname,
    port,
    app,
    async shutdown() {
      guard.close(false); // stop accepting; cut connections still sending their heads
      app.abortAll();
      await server.shutdown();
      guard.close(true);
      await finished;
    },
    finished,
  };
}
