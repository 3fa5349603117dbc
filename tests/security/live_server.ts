/**
 * A live `dramatis serve` process on loopback for the security suite: a tiny model, a vectors
 * folder with one real persona vector, a personas folder, key files, and short connection
 * timeouts. It reports the process's RSS and open descriptors (Linux /proc) and how long
 * `/health` takes.
 *
 * @module
 */

import { join } from "node:path";
import { createTinyModel } from "../../core/model/tiny.ts";
import { encodeVectorFile } from "../../plugins/persona_vectors/vector_file.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** The folders a live server uses (all inside one temporary folder). */
export interface Fixture {
  dir: string;
  model: string;
  vectors: string;
  personas: string;
  apiKeyFile: string;
  adminKeyFile: string;
  apiKey: string;
  adminKey: string;
}

let fixture: Promise<Fixture> | undefined;

/** The shared fixture (made once per test process). */
export function makeFixture(): Promise<Fixture> {
  fixture ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "dramatis-security-" });
    const model = join(dir, "tiny");
    const info = await createTinyModel(model, { preset: "tiny-llama", seed: 3 });
    const vectors = join(dir, "vectors");
    await Deno.mkdir(vectors);
    const { numLayers, hiddenSize } = info.config;
    const data = new Float32Array((numLayers + 1) * hiddenSize).map((_, i) => Math.sin(i));
    await Deno.writeFile(
      join(vectors, "calm.safetensors"),
      encodeVectorFile({ rows: numLayers + 1, cols: hiddenSize, data }, {
        model: "tiny",
        trait: "calm",
        type: "response_avg",
        n_pos: 1,
        n_neg: 1,
        threshold: 50,
      }),
    );
    const personas = join(dir, "personas");
    await Deno.mkdir(personas);
    const apiKey = `user-${crypto.randomUUID()}`;
    const adminKey = `admin-${crypto.randomUUID()}`;
    const apiKeyFile = join(dir, "api.key");
    const adminKeyFile = join(dir, "admin.key");
    await Deno.writeTextFile(apiKeyFile, apiKey + "\n");
    await Deno.writeTextFile(adminKeyFile, adminKey + "\n");
    return { dir, model, vectors, personas, apiKeyFile, adminKeyFile, apiKey, adminKey };
  })();
  return fixture;
}

/** A running server process. */
export interface LiveServer {
  url: string;
  pid: number;
  fixture: Fixture;
  /** Resident memory of the server process in bytes. */
  rss(): number;
  /** Open descriptors of the server process. */
  fds(): number;
  /** The most RSS seen by {@link rss} calls so far. */
  peakRss: number;
  /** Milliseconds `/health` took (throws when it does not answer 200 within `limitMs`). */
  health(limitMs?: number): Promise<number>;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Sends a signal and waits for the exit status. */
  stop(signal?: Deno.Signal): Promise<number>;
  /** `fetch` against the server with the user key. */
  call(path: string, init?: RequestInit & { key?: string | null }): Promise<Response>;
}

/** Runs the CLI once and returns its status and output. */
export async function runCli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", join(ROOT, "main.ts"), ...args],
    env,
    stdout: "piped",
    stderr: "piped",
    cwd: ROOT,
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** `extra` flags plus each default flag that `extra` does not set itself. */
function withDefaults(extra: string[], defaults: Record<string, string>): string[] {
  const out = [...extra];
  for (const [flag, value] of Object.entries(defaults)) {
    if (!extra.includes(flag)) out.push(flag, value);
  }
  return out;
}

/** Starts `serve` on the fixture with short connection timeouts; extra flags are appended. */
export async function startLiveServer(extra: string[] = []): Promise<LiveServer> {
  const fx = await makeFixture();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(ROOT, "main.ts"),
      "serve",
      "--model",
      fx.model,
      "--port",
      "0",
      "--json",
      "--api-key-file",
      fx.apiKeyFile,
      "--admin-key-file",
      fx.adminKeyFile,
      "--personas",
      fx.personas,
      "--vectors",
      fx.vectors,
      ...withDefaults(extra, {
        "--header-timeout": "1",
        "--body-timeout": "1",
        "--idle-timeout": "1",
        "--timeout": "30",
      }),
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let errText = "";
  (async () => {
    const dec = new TextDecoder();
    for await (const chunk of child.stderr) errText += dec.decode(chunk, { stream: true });
  })();
  const reader = child.stdout.getReader();
  let outText = "";
  const dec = new TextDecoder();
  const deadline = Date.now() + 180_000;
  let url = "";
  while (!url) {
    if (Date.now() > deadline) throw new Error(`serve did not start: ${errText}`);
    const { done, value } = await reader.read();
    if (done) throw new Error(`serve exited before listening: ${errText}`);
    outText += dec.decode(value, { stream: true });
    const start = outText.indexOf("{");
    if (start >= 0) {
      try {
        url = JSON.parse(outText.slice(start)).url.replace(/\/v1$/, "");
      } catch { /* not complete yet */ }
    }
  }
  (async () => {
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch { /* closed */ }
  })();
  const status = child.status;
  const server: LiveServer = {
    url,
    pid: child.pid,
    fixture: fx,
    peakRss: 0,
    rss() {
      const text = Deno.readTextFileSync(`/proc/${child.pid}/status`);
      const kb = Number(/VmRSS:\s+(\d+)/.exec(text)?.[1] ?? 0);
      server.peakRss = Math.max(server.peakRss, kb * 1024);
      return kb * 1024;
    },
    fds() {
      let n = 0;
      for (const _ of Deno.readDirSync(`/proc/${child.pid}/fd`)) n++;
      return n;
    },
    async health(limitMs = 1000) {
      const t0 = performance.now();
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(limitMs) });
      await r.body?.cancel();
      if (r.status !== 200) throw new Error(`/health answered ${r.status}`);
      return performance.now() - t0;
    },
    stderr: () => errText,
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch { /* exited */ }
      return (await status).code;
    },
    call(path, init = {}) {
      const { key, ...rest } = init;
      const headers = new Headers(rest.headers);
      const k = key === undefined ? fx.apiKey : key;
      if (k !== null) headers.set("authorization", `Bearer ${k}`);
      if (rest.body !== undefined && !headers.has("content-type")) {
        headers.set("content-type", "application/json");
      }
      return fetch(`${url}${path}`, { ...rest, headers });
    },
  };
  return server;
}

/** A chat-completions body for the served base model. */
export function chat(extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    model: "tiny",
    messages: [{ role: "user", content: "Hello there" }],
    max_tokens: 4,
    ...extra,
  });
}

/** Paths and file bytes that must never appear in a response body. */
export function assertNoLeak(text: string, fx: Fixture): void {
  const forbidden = [fx.dir, ROOT.replace(/\/$/, ""), "/etc/", "/proc/", "/dev/", "root:x:0"];
  for (const f of forbidden) {
    if (text.includes(f)) throw new Error(`the response leaks ${JSON.stringify(f)}: ${text}`);
  }
  if (/onnxruntime|\.cc:\d+|node_modules/.test(text)) {
    throw new Error(`the response leaks internals: ${text}`);
  }
}
