/**
 * The results store of one run directory:
 *
 * ```
 * <run>/config.resolved.json     the experiment as run, with hashes and shard
 * <run>/index.sqlite             steps (status, times, input hash), metrics, artifacts
 * <run>/metrics.jsonl            every metric of every finished step
 * <run>/steps/<id>/output.jsonl  one output record per work item
 * <run>/steps/<id>/partial.jsonl items finished by an interrupted attempt (resume)
 * <run>/artifacts/<id>/          files a step writes (adapters, vectors, checkpoints)
 * <run>/report.html              the report
 * ```
 *
 * Files are written atomically; a step is `done` in the index only after its files are in place.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { join, relative } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { withCode } from "../errors.ts";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic.ts";
import type { MetricRecord, OutputRecord } from "./step_executor.ts";

/** A step's row in the index. */
export interface StepRow {
  id: string;
  position: number;
  kind: string;
  plugin: string;
  role: string | null;
  fan_out: number;
  status: "running" | "done" | "failed";
  input_hash: string;
  started_at: string | null;
  finished_at: string | null;
  items: number | null;
  /** JSON of the executor's summary numbers. */
  summary: string | null;
  error: string | null;
}

/** What identifies a step when it starts. */
export interface StepStart {
  id: string;
  position: number;
  kind: string;
  plugin: string;
  role?: string;
  fanOut: boolean;
  hash: string;
}

/** A line of `partial.jsonl`. */
export interface PartialItem {
  record: OutputRecord;
  metrics: MetricRecord[];
}

function toJsonl(rows: unknown[]): string {
  return rows.map((r) => JSON.stringify(r)).join("\n") + (rows.length ? "\n" : "");
}

/** The run directory as it appears inside JSON strings. */
function jsonNeedle(dir: string): string {
  return JSON.stringify(dir).slice(1, -1);
}

/** Reads a JSONL file; a torn last line (from a crash) is ignored. Missing file → []. */
export async function readJsonl<T>(path: string): Promise<T[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return parseJsonl<T>(text);
}

/** Parses JSONL text; a torn last line (from a crash) is ignored. */
export function parseJsonl<T>(text: string): T[] {
  const out: T[] = [];
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch { /* a line cut by an interruption */ }
  }
  return out;
}

/** Streams a file through SHA-256 (artifacts may be checkpoints of many gigabytes). */
async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  const file = await Deno.open(path); // the readable closes it when drained
  for await (const chunk of file.readable) hash.update(chunk);
  return hash.digest("hex");
}

/**
 * One run directory.
 *
 * @example
 * ```ts
 * import { RunStore } from "./run_store.ts";
 * const store = await RunStore.open("runs/demo", { name: "demo", shard: "" });
 * console.log(store.steps().map((s) => `${s.id}: ${s.status}`));
 * store.close();
 * ```
 */
export class RunStore {
  readonly dir: string;
  #db: DatabaseSync;

  private constructor(dir: string, db: DatabaseSync) {
    this.dir = dir;
    this.#db = db;
  }

  /**
   * Opens (creating) a run directory. `name` and `shard` must match what the directory was made
   * with; pass `undefined` to accept whatever is there (for reading).
   */
  static async open(
    dir: string,
    expect: { name?: string; shard?: string } = {},
  ): Promise<RunStore> {
    await Deno.mkdir(dir, { recursive: true });
    const db = new DatabaseSync(join(dir, "index.sqlite"));
    db.exec(`PRAGMA busy_timeout = 5000;
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS steps (id TEXT PRIMARY KEY, position INTEGER NOT NULL,
        kind TEXT NOT NULL, plugin TEXT NOT NULL, role TEXT, fan_out INTEGER NOT NULL,
        status TEXT NOT NULL, input_hash TEXT NOT NULL, started_at TEXT, finished_at TEXT,
        items INTEGER, summary TEXT, error TEXT);
      CREATE TABLE IF NOT EXISTS metrics (step TEXT NOT NULL, name TEXT NOT NULL,
        value REAL NOT NULL, x REAL, item INTEGER, tags TEXT);
      CREATE INDEX IF NOT EXISTS metrics_step ON metrics (step, name);
      CREATE TABLE IF NOT EXISTS artifacts (step TEXT NOT NULL, path TEXT NOT NULL,
        bytes INTEGER NOT NULL, sha256 TEXT NOT NULL, PRIMARY KEY (step, path));`);
    const store = new RunStore(dir, db);
    for (const [key, want] of Object.entries(expect)) {
      if (want === undefined) continue;
      const have = store.meta(key);
      if (have !== undefined && have !== want) {
        db.close();
        const what = key === "shard"
          ? `shard '${have || "(none)"}', not '${want || "(none)"}'`
          : `experiment '${have}', not '${want}'`;
        throw withCode(
          new TypeError(`run directory ${dir} holds ${what}; choose another --out directory`),
          "E_CONFIG",
        );
      }
      if (have === undefined) store.setMeta(key, want);
    }
    return store;
  }

  /** A value of the meta table. */
  meta(key: string): string | undefined {
    const row = this.#db.prepare("SELECT value FROM meta WHERE key = ?").get(key) as
      | { value: string }
      | undefined;
    return row?.value;
  }

  /** Sets a value of the meta table. */
  setMeta(key: string, value: string): void {
    this.#db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)").run(key, value);
  }

  /** Writes `config.resolved.json`. */
  writeConfig(config: unknown): Promise<void> {
    return writeJsonAtomic(join(this.dir, "config.resolved.json"), config);
  }

  /** Reads `config.resolved.json`, or undefined. */
  async readConfig(): Promise<Record<string, unknown> | undefined> {
    try {
      return JSON.parse(await Deno.readTextFile(join(this.dir, "config.resolved.json")));
    } catch {
      return undefined;
    }
  }

  stepDir(id: string): string {
    return join(this.dir, "steps", id);
  }

  artifactsDir(id: string): string {
    return join(this.dir, "artifacts", id);
  }

  /** The index row of a step. */
  step(id: string): StepRow | undefined {
    return this.#db.prepare("SELECT * FROM steps WHERE id = ?").get(id) as StepRow | undefined;
  }

  /** All step rows in experiment order. */
  steps(): StepRow[] {
    return this.#db.prepare("SELECT * FROM steps ORDER BY position").all() as unknown as StepRow[];
  }

  /** Marks a step running (an interrupted run leaves it so, and the next run reruns it). */
  begin(s: StepStart): void {
    this.#db.prepare(
      `INSERT OR REPLACE INTO steps (id, position, kind, plugin, role, fan_out, status, input_hash,
        started_at, finished_at, items, summary, error)
       VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, NULL, NULL, NULL, NULL)`,
    ).run(
      s.id,
      s.position,
      s.kind,
      s.plugin,
      s.role ?? null,
      s.fanOut ? 1 : 0,
      s.hash,
      new Date().toISOString(),
    );
  }

  /** Marks a step failed with the error message. */
  fail(id: string, error: string): void {
    this.#db.prepare("UPDATE steps SET status = 'failed', finished_at = ?, error = ? WHERE id = ?")
      .run(new Date().toISOString(), error, id);
  }

  /**
   * Output records are stored with this run directory written as `{{run_dir}}`, so that paths a
   * step returns stay valid when shard directories from other machines are merged or moved.
   */
  #portable(text: string): string {
    return text.replaceAll(jsonNeedle(this.dir), "{{run_dir}}");
  }

  #local(text: string): string {
    return text.replaceAll("{{run_dir}}", jsonNeedle(this.dir));
  }

  async #readRecords<T>(path: string): Promise<T[]> {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
    return parseJsonl<T>(this.#local(text));
  }

  /** Items an interrupted attempt finished (only valid when the input hash is unchanged). */
  readPartial(id: string): Promise<PartialItem[]> {
    return this.#readRecords<PartialItem>(join(this.stepDir(id), "partial.jsonl"));
  }

  /** Appends one finished item to the step's partial file. */
  async appendPartial(id: string, item: PartialItem): Promise<void> {
    await Deno.mkdir(this.stepDir(id), { recursive: true });
    await Deno.writeTextFile(
      join(this.stepDir(id), "partial.jsonl"),
      this.#portable(JSON.stringify(item)) + "\n",
      {
        append: true,
      },
    );
  }

  /** Drops a step's partial file. */
  async clearPartial(id: string): Promise<void> {
    await Deno.remove(join(this.stepDir(id), "partial.jsonl")).catch(() => {});
  }

  /**
   * Writes a finished step: outputs, metrics, the artifact index, then marks it done and rebuilds
   * `metrics.jsonl`.
   */
  async finish(
    id: string,
    result: { records: OutputRecord[]; metrics: MetricRecord[]; summary?: Record<string, number> },
  ): Promise<void> {
    const records = [...result.records].sort((a, b) => a.index - b.index);
    await writeFileAtomic(join(this.stepDir(id), "output.jsonl"), this.#portable(toJsonl(records)));
    await writeFileAtomic(join(this.stepDir(id), "metrics.jsonl"), toJsonl(result.metrics));
    const artifacts = await this.#scanArtifacts(id);
    this.#db.exec("BEGIN");
    try {
      this.#db.prepare("DELETE FROM metrics WHERE step = ?").run(id);
      const insert = this.#db.prepare(
        "INSERT INTO metrics (step, name, value, x, item, tags) VALUES (?, ?, ?, ?, ?, ?)",
      );
      for (const m of result.metrics) {
        insert.run(
          m.step,
          m.name,
          m.value,
          m.x ?? null,
          m.index ?? null,
          m.tags ? JSON.stringify(m.tags) : null,
        );
      }
      this.#db.prepare("DELETE FROM artifacts WHERE step = ?").run(id);
      const art = this.#db.prepare(
        "INSERT INTO artifacts (step, path, bytes, sha256) VALUES (?, ?, ?, ?)",
      );
      for (const a of artifacts) art.run(id, a.path, a.bytes, a.sha256);
      this.#db.prepare(
        "UPDATE steps SET status = 'done', finished_at = ?, items = ?, summary = ?, error = NULL WHERE id = ?",
      ).run(new Date().toISOString(), records.length, JSON.stringify(result.summary ?? {}), id);
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    await this.clearPartial(id);
    await this.rebuildMetrics();
  }

  /** Copies a step row as-is (used by merge). */
  putStepRow(row: StepRow): void {
    this.#db.prepare(
      `INSERT OR REPLACE INTO steps (id, position, kind, plugin, role, fan_out, status, input_hash,
        started_at, finished_at, items, summary, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      row.id,
      row.position,
      row.kind,
      row.plugin,
      row.role,
      row.fan_out,
      row.status,
      row.input_hash,
      row.started_at,
      row.finished_at,
      row.items,
      row.summary,
      row.error,
    );
  }

  /** Removes index rows (and metrics) of steps that are no longer in the experiment. */
  async prune(keep: string[]): Promise<void> {
    const stale = this.steps().map((s) => s.id).filter((id) => !keep.includes(id));
    for (const id of stale) {
      this.#db.prepare("DELETE FROM steps WHERE id = ?").run(id);
      this.#db.prepare("DELETE FROM metrics WHERE step = ?").run(id);
      this.#db.prepare("DELETE FROM artifacts WHERE step = ?").run(id);
    }
    if (stale.length) await this.rebuildMetrics();
  }

  /** The output records of a step, in index order. */
  readOutput(id: string): Promise<OutputRecord[]> {
    return this.#readRecords<OutputRecord>(join(this.stepDir(id), "output.jsonl"));
  }

  /** Metrics from the index, optionally of one step, in insertion order. */
  metrics(step?: string): MetricRecord[] {
    const rows =
      (step === undefined
        ? this.#db.prepare("SELECT * FROM metrics ORDER BY rowid").all()
        : this.#db.prepare("SELECT * FROM metrics WHERE step = ? ORDER BY rowid").all(step)) as {
          step: string;
          name: string;
          value: number;
          x: number | null;
          item: number | null;
          tags: string | null;
        }[];
    return rows.map((r) => ({
      step: r.step,
      name: r.name,
      value: r.value,
      ...(r.x !== null ? { x: r.x } : {}),
      ...(r.item !== null ? { index: r.item } : {}),
      ...(r.tags !== null ? { tags: JSON.parse(r.tags) } : {}),
    }));
  }

  /** The artifact index of a step. */
  artifacts(step: string): { path: string; bytes: number; sha256: string }[] {
    return this.#db.prepare(
      "SELECT path, bytes, sha256 FROM artifacts WHERE step = ? ORDER BY path",
    )
      .all(step) as { path: string; bytes: number; sha256: string }[];
  }

  /** Rewrites `metrics.jsonl` from the finished steps, in experiment order. */
  async rebuildMetrics(): Promise<void> {
    const all: MetricRecord[] = [];
    for (const s of this.steps()) if (s.status === "done") all.push(...this.metrics(s.id));
    await writeFileAtomic(join(this.dir, "metrics.jsonl"), toJsonl(all));
  }

  async #scanArtifacts(id: string): Promise<{ path: string; bytes: number; sha256: string }[]> {
    const root = this.artifactsDir(id);
    const out: { path: string; bytes: number; sha256: string }[] = [];
    const walk = async (dir: string) => {
      let entries: Deno.DirEntry[];
      try {
        entries = await Array.fromAsync(Deno.readDir(dir));
      } catch {
        return;
      }
      for (const e of entries) {
        const path = join(dir, e.name);
        if (e.isDirectory) await walk(path);
        else if (e.isFile) {
          const info = await Deno.stat(path);
          out.push({
            path: relative(root, path),
            bytes: info.size,
            sha256: await sha256File(path),
          });
        }
      }
    };
    await walk(root);
    return out.sort((a, b) => a.path.localeCompare(b.path));
  }

  /** Closes the index. */
  close(): void {
    this.#db.close();
  }
}
