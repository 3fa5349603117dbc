/**
 * The engine's graph cache (`$DRAMATIS_CACHE/graphs`, `~/.cache/dramatis/graphs` by default):
 * what it holds and what can go. Every `Engine.load` of a new model, weight format, adapter set or
 * graph-builder version exports a graph folder `<key>/` (graph, `done.json`, a hard link to the
 * shared weights) and, once per model and weight format, a shared weights folder
 * `weights/<key>/`. Keys hash the builder's own source files, so an upgrade of Dramatis or a
 * changed checkpoint leaves the old folders behind, never to be hit again.
 *
 * {@link listGraphCache} reads each folder and says why one is stale: built by another graph
 * builder (or, for a float16 graph, another float16 pass), its model folder gone, its weight files
 * changed, or (shared weights) no graph links it any more. {@link pruneGraphCache} removes stale
 * folders and, optionally, those unused for a number of days (`Engine.load` refreshes
 * `done.json`'s time on every hit). Folders younger than a minute are left alone, so a prune never
 * races an export in progress.
 *
 * @module
 */

import { join } from "node:path";
import { withCode } from "../errors.ts";
import { pathExists } from "../util/fs.ts";

/** What `done.json` of a graph folder records (older folders hold only the first fields). */
export interface GraphRecord {
  modelDir?: string;
  steering?: boolean;
  adapters?: string[];
  /**
   * The graph format and builder stamps the folder was built with, and for a float16 graph the
   * stamps of the float16 pass.
   */
  build?: { format: number; builder: string[]; halfPass?: string[] };
  /** Name, size and mtime of the model's weight files at export (absent for generated weights). */
  files?: string[];
  /** Where generated weights came from (a `WeightSource` id). */
  source?: string;
}

/** One folder of the cache. */
export interface GraphCacheEntry {
  kind: "graph" | "weights";
  /** The folder's name (its cache key). */
  key: string;
  dir: string;
  /**
   * Bytes this folder holds: a file linked from several folders counts once, in the shared
   * weights folder that holds it (so the entries' bytes add up to the cache's size).
   */
  bytes: number;
  /** Bytes of its files, linked or not. */
  apparentBytes: number;
  /** Last use: `done.json`'s modification time for graphs, the folder's for shared weights. */
  lastUsed: Date;
  modelDir?: string;
  /** Why it can never be used again, when it cannot. */
  stale?: string;
}

/** The current graph format and builder stamps, and the weight-file stamps of a model folder. */
export interface BuildIdentity {
  format: number;
  builder: string[];
  /** Stamps of the float16 pass (what float16 graphs are also built with). */
  halfPass?: string[];
  fileStamps(modelDir: string): Promise<string[]>;
}

/** Options of {@link pruneGraphCache}. */
export interface PruneOptions {
  /** Also remove folders not used for this many days. */
  olderThanDays?: number;
  /** Only say what would go. */
  dryRun?: boolean;
  /** Folders younger than this are kept whatever they are (default 60 000 ms). */
  minAgeMs?: number;
  /** Clock (tests). */
  now?: Date;
}

/** What {@link pruneGraphCache} removed (or would remove with `dryRun`). */
export interface PruneResult {
  removed: (GraphCacheEntry & { reason: string })[];
  freedBytes: number;
  kept: GraphCacheEntry[];
}

async function readRecord(dir: string): Promise<GraphRecord | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(join(dir, "done.json")));
  } catch {
    return undefined;
  }
}

async function folderFiles(dir: string): Promise<{ path: string; info: Deno.FileInfo }[]> {
  const out: { path: string; info: Deno.FileInfo }[] = [];
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) out.push(...await folderFiles(path));
    else if (e.isFile) out.push({ path, info: await Deno.stat(path) });
  }
  return out;
}

const sameList = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * The folders of a graph cache, graphs first, each with its size, last use and staleness.
 * `identity` is what the running engine would build with (`Engine`'s `graphBuildIdentity()`).
 *
 * @example
 * ```ts ignore
 * import { listGraphCache } from "./graph_cache.ts";
 * import { graphBuildIdentity } from "./engine.ts";
 * const entries = await listGraphCache("~/.cache/dramatis/graphs", await graphBuildIdentity());
 * console.log(entries.filter((e) => e.stale).map((e) => `${e.key}: ${e.stale}`));
 * ```
 */
export async function listGraphCache(
  root: string,
  identity: BuildIdentity,
): Promise<GraphCacheEntry[]> {
  if (!(await pathExists(root))) return [];
  const dirs: { kind: "graph" | "weights"; key: string; dir: string }[] = [];
  for await (const e of Deno.readDir(root)) {
    if (!e.isDirectory || e.name.includes(".tmp-")) continue;
    if (e.name === "weights") {
      for await (const w of Deno.readDir(join(root, "weights"))) {
        if (w.isDirectory && !w.name.includes(".tmp-")) {
          dirs.push({ kind: "weights", key: w.name, dir: join(root, "weights", w.name) });
        }
      }
    } else {
      dirs.push({ kind: "graph", key: e.name, dir: join(root, e.name) });
    }
  }
  // Files by inode: a file linked from several folders belongs to none of them alone.
  const files = new Map<string, { path: string; info: Deno.FileInfo }[]>();
  for (const d of dirs) files.set(d.dir, await folderFiles(d.dir));
  // Each file to one folder: a shared weights folder first (dirs lists graphs before them).
  const owner = new Map<string, string>();
  for (const d of [...dirs].reverse()) {
    for (const f of files.get(d.dir)!) {
      const id = `${f.info.dev}:${f.info.ino}`;
      if (!owner.has(id) || d.kind === "weights") owner.set(id, d.dir);
    }
  }
  const stampsOf = new Map<string, Promise<string[] | undefined>>();
  const stamps = (modelDir: string) => {
    let p = stampsOf.get(modelDir);
    if (!p) {
      p = identity.fileStamps(modelDir).catch(() => undefined);
      stampsOf.set(modelDir, p);
    }
    return p;
  };
  const out: GraphCacheEntry[] = [];
  for (const d of dirs) {
    const list = files.get(d.dir)!;
    let bytes = 0, apparentBytes = 0;
    const seen = new Set<string>();
    for (const f of list) {
      const id = `${f.info.dev}:${f.info.ino}`;
      if (seen.has(id)) continue;
      seen.add(id);
      apparentBytes += f.info.size;
      if (owner.get(id) === d.dir) bytes += f.info.size;
    }
    const entry: GraphCacheEntry = {
      kind: d.kind,
      key: d.key,
      dir: d.dir,
      bytes,
      apparentBytes,
      lastUsed: (await Deno.stat(d.dir)).mtime ?? new Date(0),
    };
    if (d.kind === "graph") {
      const record = await readRecord(d.dir);
      const done = list.find((f) => f.path === join(d.dir, "done.json"));
      if (done?.info.mtime) entry.lastUsed = done.info.mtime;
      entry.modelDir = record?.modelDir;
      if (!record) entry.stale = "unfinished export (no done.json)";
      else if (
        record.build &&
        (record.build.format !== identity.format ||
          !sameList(record.build.builder, identity.builder))
      ) {
        entry.stale = "built by another version of the graph builder";
      } else if (
        record.build?.halfPass && identity.halfPass &&
        !sameList(record.build.halfPass, identity.halfPass)
      ) {
        entry.stale = "built by another version of the float16 pass";
      } else if (record.modelDir && !(await pathExists(record.modelDir))) {
        entry.stale = `its model folder ${record.modelDir} is gone`;
      } else if (record.files && record.modelDir && record.source === undefined) {
        const now = await stamps(record.modelDir);
        if (now && !sameList(now, record.files)) entry.stale = "its model's weight files changed";
      }
    } else {
      // A shared weights folder is used through hard links from graph folders.
      const linked = list.some((f) => (f.info.nlink ?? 1) > 1);
      if (!linked) entry.stale = "no graph uses these weights";
    }
    out.push(entry);
  }
  return out.sort((a, b) =>
    a.kind === b.kind ? b.lastUsed.getTime() - a.lastUsed.getTime() : a.kind === "graph" ? -1 : 1
  );
}

/**
 * Removes the stale folders of a graph cache (see {@link listGraphCache}) and, with
 * `olderThanDays`, those unused for longer; shared weights left without a graph go in the same
 * pass. Folders younger than `minAgeMs` are kept.
 *
 * @example
 * ```ts ignore
 * import { pruneGraphCache } from "./graph_cache.ts";
 * import { graphBuildIdentity } from "./engine.ts";
 * const r = await pruneGraphCache(root, await graphBuildIdentity(), { olderThanDays: 30 });
 * console.log(`freed ${r.freedBytes} bytes in ${r.removed.length} folders`);
 * ```
 */
export async function pruneGraphCache(
  root: string,
  identity: BuildIdentity,
  options: PruneOptions = {},
): Promise<PruneResult> {
  const days = options.olderThanDays;
  if (days !== undefined && !(Number.isFinite(days) && days >= 0)) {
    throw withCode(
      new RangeError(`older-than is ${days}; pass a number of days >= 0`),
      "E_USAGE",
    );
  }
  const now = (options.now ?? new Date()).getTime();
  const minAge = options.minAgeMs ?? 60_000;
  const removed: PruneResult["removed"] = [];
  const kept: GraphCacheEntry[] = [];
  const take = async (entry: GraphCacheEntry, reason: string) => {
    removed.push({ ...entry, reason });
    if (options.dryRun) return;
    // Renamed first, so no reader sees a half-removed folder under its key.
    const doomed = `${entry.dir}.tmp-prune-${crypto.randomUUID()}`;
    await Deno.rename(entry.dir, doomed);
    await Deno.remove(doomed, { recursive: true });
  };
  const oldEnough = (e: GraphCacheEntry) => now - e.lastUsed.getTime() >= minAge;
  const unused = (e: GraphCacheEntry) =>
    days !== undefined && now - e.lastUsed.getTime() > days * 86_400_000;
  const graphs = (await listGraphCache(root, identity)).filter((e) => e.kind === "graph");
  for (const g of graphs) {
    if (!oldEnough(g)) kept.push(g);
    else if (g.stale) await take(g, g.stale);
    else if (unused(g)) await take(g, `unused for more than ${days} days`);
    else kept.push(g);
  }
  // Shared weights after the graphs, so those whose last graph just went are seen unlinked. In a
  // dry run, weights linked only from graphs that would go count as unlinked too.
  const goneKeys = new Set(removed.map((r) => r.dir));
  for (const w of (await listGraphCache(root, identity)).filter((e) => e.kind === "weights")) {
    const orphan = w.stale ??
      (options.dryRun && (await onlyLinkedFrom(w.dir, goneKeys, root))
        ? "no graph uses these weights"
        : undefined);
    if (oldEnough(w) && orphan) await take(w, orphan);
    else kept.push(w);
  }
  return { removed, freedBytes: removed.reduce((s, r) => s + r.bytes, 0), kept };
}

/** Whether every other link to the files of `dir` sits in one of the `gone` graph folders. */
async function onlyLinkedFrom(dir: string, gone: Set<string>, root: string): Promise<boolean> {
  const ids = new Set(
    (await folderFiles(dir)).map((f) => `${f.info.dev}:${f.info.ino}`),
  );
  let outside = false;
  for await (const e of Deno.readDir(root)) {
    if (!e.isDirectory || e.name === "weights") continue;
    const g = join(root, e.name);
    if (gone.has(g)) continue;
    for (const f of await folderFiles(g)) {
      if (ids.has(`${f.info.dev}:${f.info.ino}`)) outside = true;
    }
  }
  return !outside;
}
