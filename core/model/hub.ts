/**
 * Downloads a model from a Hugging Face compatible hub (`HF_ENDPOINT`, default
 * https://huggingface.co) into a local cache: `{endpoint}/{id}/resolve/{revision}/{file}` with
 * `Authorization: Bearer $HF_TOKEN` when a token is set. Files land atomically (a `.part` file is
 * renamed when complete), partial downloads resume with a `Range` request, files already in the
 * cache are skipped, processes sharing the cache take turns on each file (a file lock), and a
 * completed snapshot is reused without any network access.
 *
 * @module
 */

import { homedir } from "node:os";
import { join } from "node:path";
import { withCode } from "../errors.ts";
import { writeJsonAtomic } from "../util/atomic.ts";
import { Progress } from "../util/progress.ts";

/** Progress of one file download. */
export interface DownloadProgress {
  /** File name inside the repository. */
  file: string;
  /** Bytes on disk so far (including a resumed part). */
  loaded: number;
  /** Total bytes, or null when the server does not say. */
  total: number | null;
  /** True once the file is complete and in place. */
  done: boolean;
}

/** Options of {@link downloadModel} and `resolveModel`. */
export interface HubOptions {
  /** Cache directory (default `$DRAMATIS_CACHE/hub`, else `~/.cache/dramatis/hub`). */
  cacheDir?: string;
  /** Hub base URL (default `$HF_ENDPOINT`, else https://huggingface.co). */
  endpoint?: string;
  /** Access token (default `$HF_TOKEN`); an empty string means none. */
  token?: string;
  /** Branch, tag or commit (default `main`). */
  revision?: string;
  /** Called as bytes arrive. */
  onProgress?: (progress: DownloadProgress) => void;
  /** Where progress lines go instead of stderr (tests). */
  progressSink?: (text: string) => void;
  /** Draw no progress bar on stderr. */
  silent?: boolean;
}

/** Files every model needs. */
const REQUIRED = ["config.json", "tokenizer.json", "tokenizer_config.json"];
/** Files used when present. */
const OPTIONAL = ["generation_config.json", "chat_template.jinja"];
const MANIFEST = ".dramatis-snapshot.json";

/** The pattern of a hub id: `owner/name`. */
export const HUB_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9_.-]+$/;

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // no --allow-env: behave as if unset
  }
}

/**
 * The default hub cache directory.
 *
 * @example
 * ```ts
 * import { defaultHubCacheDir } from "./hub.ts";
 * console.log(defaultHubCacheDir()); // e.g. /home/me/.cache/dramatis/hub
 * ```
 */
export function defaultHubCacheDir(): string {
  const root = env("DRAMATIS_CACHE");
  return root ? join(root, "hub") : join(homedir(), ".cache", "dramatis", "hub");
}

/**
 * The cache directory of one model snapshot.
 *
 * @example
 * ```ts
 * import { snapshotDir } from "./hub.ts";
 * snapshotDir("/c", "Qwen/Qwen3-0.6B", "main"); // "/c/models--Qwen--Qwen3-0.6B/main"
 * ```
 */
export function snapshotDir(cacheDir: string, id: string, revision: string): string {
  return join(cacheDir, `models--${id.replace("/", "--")}`, encodeURIComponent(revision));
}

class HubClient {
  constructor(
    readonly id: string,
    readonly endpoint: string,
    readonly revision: string,
    readonly token: string | undefined,
    readonly options: HubOptions,
  ) {}

  url(file: string): string {
    return `${this.endpoint}/${this.id}/resolve/${encodeURIComponent(this.revision)}/${file}`;
  }

  headers(extra: Record<string, string> = {}): Headers {
    const h = new Headers({ "user-agent": "dramatis/0.1", ...extra });
    if (this.token) h.set("authorization", `Bearer ${this.token}`);
    return h;
  }

  async request(file: string, extra: Record<string, string> = {}): Promise<Response> {
    try {
      return await fetch(this.url(file), { headers: this.headers(extra) });
    } catch (error) {
      throw withCode(
        new TypeError(
          `could not reach ${this.endpoint} for ${this.id}/${file} (${
            (error as Error).message
          }); ` +
            `check the network or HF_ENDPOINT, or pass a local model directory (works offline)`,
        ),
        "E_MODEL_DIR",
      );
    }
  }

  statusError(file: string, status: number): Error {
    if (status === 401 || status === 403) {
      return withCode(
        new TypeError(
          `${this.id}: HTTP ${status} for ${file} at ${this.endpoint}: the repository does not ` +
            `exist or needs access; check the spelling of the id, and set HF_TOKEN to a token ` +
            `that can read it (for gated models, accept the license on the model page)` +
            (this.token ? " (a token was sent)" : " (no token was sent)"),
        ),
        "E_MODEL_DIR",
      );
    }
    if (status === 404) {
      return withCode(
        new TypeError(
          `${this.id}: ${file} not found at revision "${this.revision}" (HTTP 404 from ` +
            `${this.endpoint}); check the spelling of the id and the revision`,
        ),
        "E_MODEL_DIR",
      );
    }
    return withCode(
      new TypeError(
        `${this.id}: HTTP ${status} for ${file} from ${this.endpoint}; try again later`,
      ),
      "E_MODEL_DIR",
    );
  }

  /**
   * Downloads one file into `dir` unless it is already there. Returns false when an optional
   * file does not exist on the hub.
   */
  async fetchFile(dir: string, file: string, optional: boolean): Promise<boolean> {
    const target = join(dir, file);
    if (await exists(target)) return true;
    // Processes sharing the cache (shards, a server beside a job) take turns on one file: the
    // `.part` is theirs to resume, and whoever waited finds the finished file under the lock.
    const lockPath = `${target}.lock`;
    const lock = await Deno.open(lockPath, { create: true, write: true });
    try {
      await lock.lock(true);
      if (await exists(target)) return true;
      return await this.#download(target, file, optional);
    } finally {
      lock.close();
      await Deno.remove(lockPath).catch(() => {});
    }
  }

  async #download(target: string, file: string, optional: boolean): Promise<boolean> {
    const part = `${target}.part`;
    let offset = (await sizeOf(part)) ?? 0;
    let res = await this.request(file, offset > 0 ? { range: `bytes=${offset}-` } : {});
    if (res.status === 416) {
      await res.body?.cancel();
      await Deno.remove(part).catch(() => {});
      offset = 0;
      res = await this.request(file);
    }
    if (!res.ok) {
      await res.body?.cancel();
      if (optional && (res.status === 404)) return false;
      throw this.statusError(file, res.status);
    }
    if (res.status !== 206) offset = 0; // the server ignored the range: start over
    const length = Number(res.headers.get("content-length") ?? NaN);
    const total = Number.isFinite(length) ? offset + length : null;
    const out = await Deno.open(part, {
      write: true,
      create: true,
      append: offset > 0,
      truncate: offset === 0,
    });
    const scale = downloadScale(total);
    const bar = this.options.silent ? null : new Progress(
      `${this.id}/${file}`,
      total === null ? 0 : scale.of(total),
      { unit: scale.unit, sink: this.options.progressSink },
    );
    let loaded = offset;
    try {
      for await (const chunk of res.body ?? new ReadableStream<Uint8Array>()) {
        let w = 0;
        while (w < chunk.length) w += await out.write(chunk.subarray(w));
        loaded += chunk.length;
        this.options.onProgress?.({ file, loaded, total, done: false });
        bar?.update(scale.of(loaded));
      }
    } finally {
      out.close();
    }
    if (total !== null && loaded !== total) {
      throw withCode(
        new TypeError(
          `${this.id}: ${file} ended after ${loaded} of ${total} bytes; run again to resume`,
        ),
        "E_MODEL_DIR",
      );
    }
    await Deno.rename(part, target);
    this.options.onProgress?.({ file, loaded, total, done: true });
    if (bar) {
      // The finished line shows the bytes received (also when the server sent no length).
      bar.total = scale.of(loaded);
      bar.update(scale.of(loaded));
      bar.done();
    }
    return true;
  }
}

/**
 * The unit of a download's progress bar: kB below one megabyte, else MB, one decimal.
 *
 * @example
 * ```ts
 * import { downloadScale } from "./hub.ts";
 * const s = downloadScale(2_500_000);
 * console.log(s.of(2_500_000), s.unit); // 2.5 MB
 * ```
 */
export function downloadScale(total: number | null): { unit: string; of(bytes: number): number } {
  const [unit, div] = total !== null && total < 1e6 ? ["kB", 1e3] : ["MB", 1e6];
  return { unit, of: (bytes) => Math.round((bytes / div) * 10) / 10 };
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isFile;
  } catch {
    return false;
  }
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await Deno.stat(path)).size;
  } catch {
    return null;
  }
}

/**
 * Downloads (or finds in the cache) the files of a hub model and returns its local directory:
 * config.json, tokenizer.json, tokenizer_config.json, generation_config.json and
 * chat_template.jinja when present, and model.safetensors or model.safetensors.index.json with
 * its shards. Errors are `TypeError`s tagged `E_MODEL_DIR` naming the id, the file and the fix.
 *
 * @example
 * ```ts
 * import { downloadModel } from "./hub.ts";
 * const dir = await downloadModel("HuggingFaceTB/SmolLM2-135M-Instruct");
 * ```
 */
export async function downloadModel(id: string, options: HubOptions = {}): Promise<string> {
  if (!HUB_ID.test(id) || id.includes("..")) {
    throw withCode(
      new TypeError(
        `hub id is ${JSON.stringify(id)}; use the form owner/name, e.g. Qwen/Qwen3-0.6B`,
      ),
      "E_MODEL_DIR",
    );
  }
  const revision = options.revision ?? "main";
  const endpoint = (options.endpoint ?? env("HF_ENDPOINT") ?? "https://huggingface.co").replace(
    /\/+$/,
    "",
  );
  const token = options.token ?? env("HF_TOKEN");
  const dir = snapshotDir(options.cacheDir ?? defaultHubCacheDir(), id, revision);

  // A finished snapshot is used offline.
  try {
    const manifest = JSON.parse(await Deno.readTextFile(join(dir, MANIFEST)));
    const files: string[] = manifest.files ?? [];
    if (
      files.length > 0 && (await Promise.all(files.map((f) => exists(join(dir, f))))).every(Boolean)
    ) {
      return dir;
    }
  } catch { /* no snapshot yet */ }

  await Deno.mkdir(dir, { recursive: true });
  const client = new HubClient(id, endpoint, revision, token || undefined, options);
  const got: string[] = [];
  for (const f of REQUIRED) {
    await client.fetchFile(dir, f, false);
    got.push(f);
  }
  for (const f of OPTIONAL) if (await client.fetchFile(dir, f, true)) got.push(f);
  if (await client.fetchFile(dir, "model.safetensors.index.json", true)) {
    got.push("model.safetensors.index.json");
    let shards: string[];
    try {
      const index = JSON.parse(await Deno.readTextFile(join(dir, "model.safetensors.index.json")));
      shards = [...new Set(Object.values(index.weight_map ?? {}) as string[])].sort();
    } catch (error) {
      await Deno.remove(join(dir, "model.safetensors.index.json")).catch(() => {});
      throw withCode(
        new SyntaxError(
          `${id}: model.safetensors.index.json is not valid JSON (${(error as Error).message})`,
        ),
        "E_WEIGHTS",
      );
    }
    for (const s of shards) {
      if (typeof s !== "string" || !/^[\w.-]+$/.test(s)) {
        throw withCode(
          new TypeError(
            `${id}: index names shard ${JSON.stringify(s)}; expected a plain file name`,
          ),
          "E_WEIGHTS",
        );
      }
      await client.fetchFile(dir, s, false);
      got.push(s);
    }
  } else {
    await client.fetchFile(dir, "model.safetensors", false);
    got.push("model.safetensors");
  }
  await writeJsonAtomic(join(dir, MANIFEST), { id, revision, endpoint, files: got });
  return dir;
}
