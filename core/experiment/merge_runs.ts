/**
 * Merges the run directories of the shards of one experiment (`--shard i/n` for i = 0..n-1) into
 * one run directory that reads as if the experiment had run unsharded: fan-out steps get every
 * shard's records in index order, the other steps (run identically by every shard) come from
 * shard 0. The shards must share the experiment's config hash and have finished every step.
 * Merging again into the same directory rewrites the same result.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import { withCode } from "../errors.ts";
import { DEFAULT_EXECUTORS } from "./executors/mod.ts";
import { readJsonl, RunStore, type StepRow } from "./run_store.ts";
import { parseShard, type Shard } from "./shard.ts";
import type { ExecutorTable, MetricRecord, OutputRecord } from "./step_executor.ts";
import { pathExists } from "../util/fs.ts";

/** Options of {@link mergeRuns}. */
export interface MergeOptions {
  out: string;
  /** Used to recompute step summaries over the merged records. */
  executors?: ExecutorTable;
  log?: (message: string) => void;
}

/** The result of a merge. */
export interface MergeResult {
  name: string;
  runDir: string;
  shards: number;
  steps: { id: string; items: number }[];
}

function configError(message: string): Error {
  return withCode(new TypeError(message), "E_CONFIG");
}

async function copyTree(
  from: string,
  to: string,
  seen: Map<string, string>,
  shas: Map<string, string>,
) {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(from));
  } catch {
    return;
  }
  for (const e of entries) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    if (e.isDirectory) await copyTree(src, dst, seen, shas);
    else if (e.isFile) {
      const sha = shas.get(src) ?? "";
      const before = seen.get(dst);
      if (before !== undefined) {
        if (before !== sha) {
          throw configError(`artifact ${dst} differs between shards (${src}); the shards disagree`);
        }
        continue;
      }
      seen.set(dst, sha);
      await Deno.mkdir(dirname(dst), { recursive: true });
      await Deno.copyFile(src, dst);
    }
  }
}

/**
 * Replaces each folder that is not itself a run directory but holds run directories (the shards
 * root `runs/<name>.shards` that `run --shard` and `submit` fill) by those run directories.
 */
async function expandShardFolders(dirs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    if (await pathExists(join(dir, "index.sqlite"))) {
      out.push(dir);
      continue;
    }
    let children: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) {
        if (e.isDirectory && (await pathExists(join(dir, e.name, "index.sqlite")))) {
          children.push(join(dir, e.name));
        }
      }
    } catch { /* not a folder: reported as a missing run directory below */ }
    children = children.sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
    out.push(...(children.length ? children : [dir]));
  }
  return out;
}

/**
 * Merges shard run directories into `options.out`. A folder that holds shard run directories
 * (such as `runs/<name>.shards`) stands for all of them.
 *
 * @example
 * ```ts
 * import { mergeRuns } from "./merge_runs.ts";
 * const r = await mergeRuns(["runs/exp-0", "runs/exp-1"], { out: "runs/exp" });
 * console.log(r.steps);
 * ```
 */
export async function mergeRuns(dirs: string[], options: MergeOptions): Promise<MergeResult> {
  const executors = options.executors ?? DEFAULT_EXECUTORS;
  const log = options.log ?? (() => {});
  if (dirs.length === 0) throw configError("merge needs at least one run directory");
  const out = resolve(options.out);
  const inputs = await expandShardFolders(dirs.map((d) => resolve(d)));
  if (inputs.includes(out)) {
    throw configError(`--out ${options.out} is also an input; merge into a new directory`);
  }
  const stores: { dir: string; store: RunStore; shard?: Shard }[] = [];
  try {
    for (const dir of inputs) {
      if (!(await pathExists(join(dir, "index.sqlite")))) {
        const named = /(\d+)-of-(\d+)$/.exec(basename(dir));
        throw configError(
          named
            ? `shard ${named[1]}/${named[2]} has not run: ${dir} ${
              (await pathExists(dir)) ? "has no index.sqlite" : "does not exist"
            }; run (or resubmit) that shard, then merge`
            : `${dir} is not a run directory (it has no index.sqlite)`,
        );
      }
      const store = await RunStore.open(dir);
      const text = store.meta("shard") ?? "";
      stores.push({ dir, store, shard: text ? parseShard(text) : undefined });
    }
    const first = stores[0];
    const name = first.store.meta("name")!;
    const hash = first.store.meta("config_hash");
    for (const s of stores) {
      if (s.store.meta("name") !== name || s.store.meta("config_hash") !== hash) {
        throw configError(
          `${s.dir} comes from experiment '${s.store.meta("name")}' with config hash ${
            s.store.meta("config_hash")?.slice(0, 12)
          }, but ${first.dir} from '${name}' with ${hash?.slice(0, 12)}; ` +
            "merge only the shards of one experiment config",
        );
      }
    }
    // Every shard of one count, each exactly once (a single unsharded directory is also fine).
    const count = first.shard?.count ?? 1;
    const byIndex = new Map<number, (typeof stores)[number]>();
    for (const s of stores) {
      const shard = s.shard ?? { index: 0, count: 1 };
      if (shard.count !== count) {
        throw configError(
          `${s.dir} is shard ${shard.index}/${shard.count}, but ${first.dir} has ${count} shards`,
        );
      }
      if (byIndex.has(shard.index)) {
        throw configError(
          `${s.dir} and ${byIndex.get(shard.index)!.dir} are both shard ${shard.index}/${count}`,
        );
      }
      byIndex.set(shard.index, s);
    }
    const missing = Array.from({ length: count }, (_, i) => i).filter((i) => !byIndex.has(i));
    if (missing.length) {
      throw configError(
        `shard(s) ${
          missing.map((i) => `${i}/${count}`).join(", ")
        } missing; pass every shard's run directory`,
      );
    }
    const ordered = Array.from({ length: count }, (_, i) => byIndex.get(i)!);
    const rows = ordered[0].store.steps();
    for (const s of ordered) {
      for (const row of rows) {
        const other = s.store.step(row.id);
        if (other?.status !== "done") {
          throw configError(
            `step '${row.id}' is ${other?.status ?? "not started"} in ${s.dir}; ` +
              "rerun that shard with the same command (it resumes), then merge",
          );
        }
        if (other.input_hash !== row.input_hash) {
          throw configError(
            `step '${row.id}' ran with different inputs in ${s.dir} and ${ordered[0].dir}`,
          );
        }
      }
    }

    // Start the output from scratch, so merging twice gives the same directory.
    if (await pathExists(join(out, "index.sqlite"))) {
      const previous = await RunStore.open(out);
      const same = previous.meta("name") === name && previous.meta("config_hash") === hash;
      previous.close();
      if (!same) {
        throw configError(`${options.out} holds another experiment's run; choose another --out`);
      }
    }
    for (
      const name of [
        "steps",
        "artifacts",
        "index.sqlite",
        "index.sqlite-wal",
        "index.sqlite-shm",
        "metrics.jsonl",
        "report.html",
      ]
    ) {
      await Deno.remove(join(out, name), { recursive: true }).catch(() => {});
    }
    const merged = await RunStore.open(out, { name, shard: "" });
    try {
      merged.setMeta("config_hash", hash ?? "");
      const config = (await ordered[0].store.readConfig()) ?? {};
      await merged.writeConfig({
        ...config,
        shard: null,
        merged_from: ordered.map((s, i) => ({ dir: s.dir, shard: `${i}/${count}` })),
      });
      const summary: MergeResult["steps"] = [];
      for (const row of rows) {
        const sources = row.fan_out ? ordered : [ordered[0]];
        const records: OutputRecord[] = [];
        const metrics: { m: MetricRecord; order: number }[] = [];
        const seen = new Set<number>();
        const copied = new Map<string, string>();
        for (const s of sources) {
          // read as stored (paths inside as {{run_dir}}), so they point into the merged run
          for (
            const r of await readJsonl<OutputRecord>(join(s.store.stepDir(row.id), "output.jsonl"))
          ) {
            if (seen.has(r.index)) {
              throw configError(
                `item ${r.index} of step '${row.id}' appears in two shards (${s.dir})`,
              );
            }
            seen.add(r.index);
            records.push(r);
          }
          s.store.metrics(row.id).forEach((m) => metrics.push({ m, order: metrics.length }));
          const shas = new Map(
            s.store.artifacts(row.id).map((
              a,
            ) => [join(s.store.artifactsDir(row.id), a.path), a.sha256]),
          );
          await copyTree(s.store.artifactsDir(row.id), merged.artifactsDir(row.id), copied, shas);
        }
        records.sort((a, b) => a.index - b.index);
        metrics.sort((a, b) => (a.m.index ?? -1) - (b.m.index ?? -1) || a.order - b.order);
        const executor = executors[row.kind as keyof ExecutorTable];
        const stepSummary = executor?.summarize?.(records) ?? JSON.parse(row.summary ?? "{}");
        merged.begin({
          id: row.id,
          position: row.position,
          kind: row.kind,
          plugin: row.plugin,
          role: row.role ?? undefined,
          fanOut: row.fan_out === 1,
          hash: row.input_hash,
        });
        await merged.finish(row.id, {
          records,
          metrics: metrics.map((x) => x.m),
          summary: stepSummary,
        });
        const all = sources.map((s) => s.store.step(row.id)!) as StepRow[];
        merged.putStepRow({
          ...merged.step(row.id)!,
          started_at: all.map((r) => r.started_at ?? "").sort()[0] || null,
          finished_at: all.map((r) => r.finished_at ?? "").sort().at(-1) || null,
        });
        summary.push({ id: row.id, items: records.length });
        log(`merged step ${row.id}: ${records.length} item(s) from ${sources.length} shard(s)`);
      }
      return { name, runDir: out, shards: count, steps: summary };
    } finally {
      merged.close();
    }
  } finally {
    for (const s of stores) s.store.close();
  }
}
