/**
 * A connection guard in front of `Deno.serve`, which has no header, body or idle timeouts and no
 * cap on open connections of its own. The guard accepts TCP connections, reads each request head
 * under a time limit, forwards it (with `Connection: close`, one request per connection) to the
 * app listening on a private Unix socket, times the body, and caps open connections. Slow
 * headers, slow or missing bodies and idle connections are cut with a 408; past the cap, the
 * oldest connection still sending its head makes room (or the new one is refused with a 503).
 *
 * @module
 */

/** Connection limits; every one is configurable from `serve` flags. */
export interface ConnectionLimits {
  /** A connection must send its first byte within this (default 10 s). */
  idleTimeoutMs: number;
  /** The whole request head must arrive within this from the first byte (default 10 s). */
  headerTimeoutMs: number;
  /** The declared body must arrive within this after the head (default 30 s). */
  bodyTimeoutMs: number;
  /** Open client connections at once (default 4096, less when the descriptor limit is low). */
  maxConnections: number;
  /** Largest request head in bytes (default 64 KiB). */
  maxHeadBytes: number;
}

/**
 * Defaults of {@link ConnectionLimits}.
 *
 * @example
 * ```ts
 * import { DEFAULT_CONNECTION_LIMITS } from "./connection_guard.ts";
 * console.log(DEFAULT_CONNECTION_LIMITS.headerTimeoutMs); // 10000
 * ```
 */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  idleTimeoutMs: 10_000,
  headerTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  maxConnections: 4096,
  maxHeadBytes: 64 << 10,
};

/** The soft descriptor limit of this process (Linux), or undefined. */
function descriptorLimit(): number | undefined {
  try {
    const text = Deno.readTextFileSync("/proc/self/limits");
    const m = /^Max open files\s+(\d+)/m.exec(text);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

function plainResponse(status: number, reason: string, message: string): Uint8Array {
  const body = JSON.stringify({
    error: { message, type: "invalid_request_error", param: null, code: reason },
  });
  return encoder.encode(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\n` +
      `content-length: ${encoder.encode(body).length}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** Finds `\r\n\r\n` in bytes; -1 when absent. */
function headEnd(bytes: Uint8Array, from: number): number {
  for (let i = Math.max(0, from - 3); i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/** Tracks a chunked body to its end (chunk sizes, data, CRLFs, trailers). */
class ChunkedEnd {
  #state: "size" | "data" | "crlf" | "trailer" | "done" = "size";
  #line = "";
  #left = 0;
  /** Feeds bytes; returns true once the body has ended; throws on malformed framing. */
  feed(bytes: Uint8Array): boolean {
    for (let i = 0; i < bytes.length && this.#state !== "done"; i++) {
      const b = bytes[i];
      switch (this.#state) {
        case "size":
        case "trailer":
          if (b === 10) {
            const line = this.#line.replace(/\r$/, "");
            this.#line = "";
            if (this.#state === "trailer") {
              if (line === "") this.#state = "done";
            } else {
              const size = parseInt(line.split(";")[0].trim(), 16);
              if (!Number.isFinite(size) || size < 0) throw new Error("bad chunk size");
              if (size === 0) this.#state = "trailer";
              else {
                this.#left = size;
                this.#state = "data";
              }
            }
          } else {
            this.#line += String.fromCharCode(b);
            if (this.#line.length > 4096) throw new Error("chunk line too long");
          }
          break;
        case "data": {
          const take = Math.min(this.#left, bytes.length - i);
          this.#left -= take;
          i += take - 1;
          if (this.#left === 0) this.#state = "crlf";
          break;
        }
        case "crlf":
          if (b === 10) this.#state = "size";
          break;
      }
    }
    return this.#state === "done";
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let at = 0;
  while (at < bytes.length) at += await conn.write(bytes.subarray(at));
}

/** A running guard. */
export interface ConnectionGuard {
  /** The address clients connect to. */
  addr: Deno.NetAddr;
  /** Open client connections now. */
  readonly open: number;
  /** Stops accepting; with `force`, closes every open connection too. */
  close(force?: boolean): void;
  /** Resolves once every connection has closed after {@link close}. */
  drained(): Promise<void>;
}

/**
 * Starts the guard on `hostname:port`, forwarding to the app at `upstream`: a Unix socket path,
 * or a loopback TCP port where Unix sockets are not available.
 *
 * @example
 * ```ts ignore
 * import { startConnectionGuard } from "./connection_guard.ts";
 * const guard = startConnectionGuard({ hostname: "127.0.0.1", port: 0, upstream: "/tmp/app.sock" });
 * ```
 */
export function startConnectionGuard(options: {
  hostname: string;
  port: number;
  upstream: string | number;
  limits?: Partial<ConnectionLimits>;
  /** Told about each connection cut by a limit (for metrics). */
  onCut?: (why: "idle" | "header" | "body" | "cap" | "head_size") => void;
}): ConnectionGuard {
  const given = Object.fromEntries(
    Object.entries(options.limits ?? {}).filter(([, v]) => v !== undefined),
  );
  const limits: ConnectionLimits = { ...DEFAULT_CONNECTION_LIMITS, ...given };
  const fdLimit = descriptorLimit();
  if (fdLimit !== undefined && options.limits?.maxConnections === undefined) {
    // Each forwarded connection holds two descriptors; keep some for files and the engine.
    limits.maxConnections = Math.max(64, Math.min(limits.maxConnections, (fdLimit - 256) >> 1));
  }
  const listener = Deno.listen({ hostname: options.hostname, port: options.port });
  /** Open connections, oldest first; `waiting` marks those still sending their head. */
  const open = new Map<Deno.Conn, { waiting: boolean; started: number; kill: () => void }>();
  let closing = false;
  let onEmpty: (() => void) | undefined;

  const serveOne = async (conn: Deno.Conn) => {
    let upstream: Deno.Conn | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      try {
        conn.close();
      } catch { /* closed already */ }
      try {
        upstream?.close();
      } catch { /* closed already */ }
      open.delete(conn);
      if (closing && open.size === 0) onEmpty?.();
    };
    const cut = async (why: "idle" | "header" | "body" | "head_size", status = 408) => {
      if (done) return;
      options.onCut?.(why);
      const message = why === "head_size"
        ? `the request head is over ${limits.maxHeadBytes} bytes`
        : `the request ${why === "body" ? "body" : "head"} did not arrive in time`;
      await writeAll(
        conn,
        plainResponse(
          status,
          why === "head_size" ? "request_header_too_large" : "request_timeout",
          message,
        ),
      ).catch(() => {});
      finish();
    };
    const arm = (ms: number, why: "idle" | "header" | "body") => {
      clearTimeout(timer);
      timer = setTimeout(() => void cut(why), ms);
    };
    open.set(conn, { waiting: true, started: performance.now(), kill: finish });
    arm(limits.idleTimeoutMs, "idle");
    const buf = new Uint8Array(16 << 10);
    let head = new Uint8Array(0);
    let phase: "head" | "body" | "rest" = "head";
    let bodyLeft = 0;
    let chunked: ChunkedEnd | undefined;
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) {
          // Client finished sending: pass the half-close on, or give up if nothing was sent.
          if (upstream) await upstream.closeWrite().catch(() => {});
          else finish();
          break;
        }
        let bytes = buf.subarray(0, n);
        if (phase === "head") {
          if (head.length === 0) arm(limits.headerTimeoutMs, "header");
          const joined = new Uint8Array(head.length + bytes.length);
          joined.set(head);
          joined.set(bytes, head.length);
          head = joined;
          const end = headEnd(head, head.length - bytes.length);
          if (end < 0) {
            if (head.length > limits.maxHeadBytes) return void await cut("head_size", 431);
            continue;
          }
          if (end > limits.maxHeadBytes) return void await cut("head_size", 431);
          const lines = latin1.decode(head.subarray(0, end)).split("\r\n");
          let length: number | undefined;
          let isChunked = false;
          const kept = [lines[0]];
          for (const line of lines.slice(1)) {
            const colon = line.indexOf(":");
            const name = line.slice(0, colon).trim().toLowerCase();
            const value = line.slice(colon + 1).trim();
            if (name === "connection" || name === "keep-alive") continue;
            if (name === "content-length") {
              const v = Number(value);
              if (!/^\d+$/.test(value) || (length !== undefined && length !== v)) {
                await writeAll(conn, plainResponse(400, "invalid_request", "bad content-length"))
                  .catch(() => {});
                return finish();
              }
              length = v;
            }
            if (name === "transfer-encoding" && /chunked/i.test(value)) isChunked = true;
            kept.push(line);
          }
          if (isChunked && length !== undefined) {
            await writeAll(
              conn,
              plainResponse(400, "invalid_request", "both content-length and chunked encoding"),
            ).catch(() => {});
            return finish();
          }
          kept.push("connection: close", "", "");
          const rest = head.subarray(end + 4);
          head = new Uint8Array(0);
          const entry = open.get(conn);
          if (entry) entry.waiting = false;
          upstream = typeof options.upstream === "number"
            ? await Deno.connect({ hostname: "127.0.0.1", port: options.upstream })
            : await Deno.connect({ transport: "unix", path: options.upstream });
          await writeAll(upstream, encoder.encode(kept.join("\r\n")));
          void pump(upstream);
          if (isChunked) chunked = new ChunkedEnd();
          else bodyLeft = length ?? 0;
          phase = "body";
          bytes = rest;
          if (!isChunked && bodyLeft === 0) {
            phase = "rest";
            clearTimeout(timer);
          } else arm(limits.bodyTimeoutMs, "body");
          if (bytes.length === 0) continue;
        }
        if (phase === "body") {
          let forward = bytes;
          let ended = false;
          if (chunked) {
            try {
              ended = chunked.feed(bytes);
            } catch {
              return finish();
            }
          } else {
            forward = bytes.subarray(0, Math.min(bytes.length, bodyLeft));
            bodyLeft -= forward.length;
            ended = bodyLeft === 0;
          }
          await writeAll(upstream!, forward);
          if (ended) {
            phase = "rest";
            clearTimeout(timer);
          }
        }
        // phase "rest": one request per connection; anything pipelined after it is dropped.
      }
    } catch {
      finish();
    }

    async function pump(up: Deno.Conn) {
      const buf2 = new Uint8Array(16 << 10);
      try {
        let first = true;
        for (;;) {
          const n = await up.read(buf2);
          if (n === null) break;
          if (first) {
            first = false;
            // The app answered: it no longer waits for the body.
            if (phase === "body") clearTimeout(timer);
          }
          await writeAll(conn, buf2.subarray(0, n));
        }
      } catch { /* either side went away */ }
      finish();
    }
  };

  (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch {
        break; // listener closed
      }
      if (closing) {
        conn.close();
        continue;
      }
      if (open.size >= limits.maxConnections) {
        // Make room by cutting the oldest connection still sending its head, if any.
        const victim = [...open.entries()].find(([, e]) => e.waiting);
        if (victim) {
          options.onCut?.("cap");
          victim[1].kill();
        } else {
          options.onCut?.("cap");
          writeAll(conn, plainResponse(503, "server_busy", "too many open connections; retry"))
            .catch(() => {}).finally(() => {
              try {
                conn.close();
              } catch { /* closed */ }
            });
          continue;
        }
      }
      void serveOne(conn);
    }
  })();

  return {
    addr: listener.addr as Deno.NetAddr,
    get open() {
      return open.size;
    },
    close(force = false) {
      closing = true;
      try {
        listener.close();
      } catch { /* closed */ }
      for (const e of open.values()) if (force || e.waiting) e.kill();
    },
    drained() {
      return open.size === 0 ? Promise.resolve() : new Promise((r) => (onEmpty = r));
    },
  };
}
