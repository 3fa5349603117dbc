/**
 * Runs a prepared experiment into a run directory. Steps run in file order; a step whose index
 * row is `done` with an unchanged input hash is skipped (unless `force`, or a step it depends on
 * ran again in this invocation). An interrupted step reruns, reusing the items its last attempt
 * finished when its inputs are unchanged. With a shard, fan-out steps run only their share.
 *
 * @module
 */

import { isAbsolute, join, resolve } from "node:path";
import { type CodedError, errorCode, PluginError } from "../errors.ts";
import type { PluginRegistry } from "../plugin/registry.ts";
import { Progress } from "../util/progress.ts";
import type { Experiment } from "./experiment_schema.ts";
import type { LoadedExperiment } from "./load_experiment.ts";
import { type ChatModelFactory, ModelPool } from "./model_pool.ts";
import {
  type PreparedExperiment,
  type PreparedStep,
  prepareExperiment,
} from "./prepare_experiment.ts";
import { RunStore } from "./run_store.ts";
import { formatShard, inShard, type Shard, shardDirName, shardsRoot } from "./shard.ts";
import type {
  ExecutorTable,
  MetricRecord,
  OutputRecord,
  StepContext,
  WorkItem,
} from "./step_executor.ts";
import { expandTemplates } from "./templates.ts";
import type { Persona } from "../contracts/persona.ts";
import type { ModelHub } from "../services/model_hub.ts";

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  registry: PluginRegistry;
  /** Builds ChatModels for the experiment's `models` (the host provides it). */
  modelFactory?: ChatModelFactory;
  /**
   * The model hub plugin commands get in their context (the host passes its own, configured
   * with `--provider` / `--threads`); default the registry's (`registry.services.models`).
   */
  models?: ModelHub;
  /**
   * Run directory; default `runs/<experiment name>` under the working directory, and for a
   * shard `runs/<experiment name>.shards/<i>-of-<n>` (one folder per shard, so shards that share
   * a filesystem never collide).
   */
  out?: string;
  shard?: Shard;
  /** Rerun every step even when finished with unchanged inputs. */
  force?: boolean;
  signal?: AbortSignal;
  /** Human progress lines (stderr in the CLI). */
  log?: (message: string) => void;
  /** Draw per-step progress bars on stderr. */
  progress?: boolean;
  executors?: ExecutorTable;
  pluginOptionOverrides?: Map<string, unknown>;
}

/** What happened to one step. */
export interface StepOutcome {
  id: string;
  kind: string;
  status: "ran" | "skipped";
  /** Items this shard holds for the step. */
  items: number;
  /** Items reused from an interrupted attempt. */
  reused: number;
  seconds: number;
}

/** The result of a run. */
export interface RunResult {
  name: string;
  runDir: string;
  shard: string;
  configHash: string;
  steps: StepOutcome[];
}

/** A 32-bit seed from the experiment seed, a step id and an item index (FNV-1a). */
export function itemSeed(seed: number, step: string, index: number): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}\u0000${step}\u0000${index}`) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The experiment with local model paths that exist next to the file made absolute. */
function resolvePaths(experiment: Experiment, baseDir: string): Experiment {
  const models = Object.fromEntries(
    Object.entries(experiment.models).map(([id, spec]) => {
      if (spec.kind !== "local" || isAbsolute(spec.path)) return [id, spec];
      const abs = resolve(baseDir, spec.path);
      try {
        Deno.statSync(abs);
        return [id, { ...spec, path: abs }];
      } catch {
        return [id, spec]; // a hub id
      }
    }),
  );
  return { ...experiment, models };
}

/** Makes persona model and adapter paths that exist relative to the experiment folder absolute. */
function resolvePersonaPaths(
  personas: Record<string, Persona>,
  baseDir: string,
): Record<string, Persona> {
  const local = (path: string) => {
    if (isAbsolute(path)) return path;
    const abs = resolve(baseDir, path);
    try {
      Deno.statSync(abs);
      return abs;
    } catch {
      return path; // a hub id, or a path relative to the working directory
    }
  };
  return Object.fromEntries(
    Object.entries(personas).map(([id, p]) => [id, {
      ...p,
      model: local(p.model),
      adapters: p.adapters.map((a) => ({ ...a, path: local(a.path) })),
    }]),
  );
}

function asStepError(error: unknown, step: PreparedStep): Error {
  const where = `${step.spec.kind} step '${step.spec.id}'`;
  if (error instanceof PluginError && !error.hook.includes(where)) {
    // A hook error (see core/plugin/hooks.ts) gains the step it happened in.
    return new PluginError(error.plugin, `${where}, ${error.hook}`, error.code, error.reason, {
      cause: error.cause ?? error,
    });
  }
  if (
    errorCode(error) !== undefined || (error instanceof DOMException && error.name === "AbortError")
  ) {
    return error as Error;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new PluginError(
    step.spec.plugin,
    `${step.spec.kind} step '${step.spec.id}'`,
    "E_PLUGIN_HOOK",
    message,
    { cause: error },
  ) as Error & CodedError;
}

/**
 * The run directory when none is given, relative to the working directory: `runs/<name>`, and
 * for a shard `runs/<name>.shards/<i>-of-<n>`, one folder per shard.
 *
 * @example
 * ```ts
 * import { defaultRunDir } from "./run_experiment.ts";
 * console.log(defaultRunDir("study", { index: 1, count: 4 })); // runs/study.shards/1-of-4
 * ```
 */
export function defaultRunDir(name: string, shard?: Shard): string {
  return shard ? join(shardsRoot(join("runs", name)), shardDirName(shard)) : join("runs", name);
}

/**
 * Prepares (if needed) and runs an experiment.
 *
 * @example
 * ```ts
 * import { PluginRegistry } from "../plugin/registry.ts";
 * import { loadExperimentFile } from "./load_experiment.ts";
 * import { runExperiment } from "./run_experiment.ts";
 * const registry = new PluginRegistry();
 * await registry.load("./examples/third_party_plugin/mod.ts");
 * const result = await runExperiment(await loadExperimentFile("./exp.json"), { registry, out: "runs/exp" });
 * console.log(result.steps.map((s) => `${s.id}: ${s.status}`));
 * ```
 */
export async function runExperiment(
  input: LoadedExperiment | PreparedExperiment,
  options: RunExperimentOptions,
): Promise<RunResult> {
  const prepared = "configHash" in input
    ? input
    : await prepareExperiment(input, options.registry, {
      executors: options.executors,
      pluginOptionOverrides: options.pluginOptionOverrides,
    });
  const { experiment, baseDir } = prepared;
  const log = options.log ?? (() => {});
  const signal = options.signal ?? new AbortController().signal;
  const runDir = resolve(options.out ?? defaultRunDir(experiment.name, options.shard));
  const shard = formatShard(options.shard);
  const store = await RunStore.open(runDir, { name: experiment.name, shard });
  try {
    store.setMeta("config_hash", prepared.configHash);
    await store.writeConfig({
      name: experiment.name,
      source: prepared.source,
      config_hash: prepared.configHash,
      shard: options.shard ?? null,
      experiment,
      resolved: {
        base_dir: baseDir,
        datasets: prepared.datasetPaths,
        personas: prepared.personas,
        plugin_options: prepared.pluginOptions,
        steps: prepared.steps.map((s) => ({
          id: s.spec.id,
          kind: s.spec.kind,
          plugin: s.spec.plugin,
          plugin_version: s.plugin.version,
          role: s.roleName ?? null,
          fan_out: s.executor.fanOut,
          needs: s.deps,
          with: s.with,
          input_hash: s.hash,
        })),
      },
    });
    await store.prune(prepared.steps.map((s) => s.spec.id));
    // Artifact directories are fixed paths, so templates in model entries and personas (a
    // trained adapter, say) expand now; the steps that produce them ran earlier in this loop.
    const expanded = expandTemplates({ models: experiment.models, personas: prepared.personas }, {
      runDir: store.dir,
      artifactsDir: (s) => store.artifactsDir(s),
      datasetPath: (d) => prepared.datasetPaths[d],
    });
    const resolved = resolvePaths({ ...experiment, models: expanded.models }, baseDir);
    const personas = resolvePersonaPaths(expanded.personas, baseDir);
    const pool = new ModelPool(options.modelFactory, resolved.models, personas, baseDir);
    const hub = options.models ?? options.registry.services.models;
    const ran = new Set<string>();
    const outcomes: StepOutcome[] = [];
    for (const step of prepared.steps) {
      signal.throwIfAborted();
      const started = performance.now();
      const row = store.step(step.spec.id);
      const depRan = step.deps.some((d) => ran.has(d));
      const same = !options.force && !depRan && row?.input_hash === step.hash;
      const label = `${step.spec.kind} ${step.spec.plugin}${
        step.roleName ? `.${step.roleName}` : ""
      }`;
      if (same && row?.status === "done") {
        log(`step ${step.spec.id} (${label}): finished earlier with the same inputs; skipped`);
        outcomes.push({
          id: step.spec.id,
          kind: step.spec.kind,
          status: "skipped",
          items: row.items ?? 0,
          reused: 0,
          seconds: 0,
        });
        continue;
      }
      const partial = same ? await store.readPartial(step.spec.id) : [];
      if (!same) {
        await store.clearPartial(step.spec.id);
        await Deno.remove(store.artifactsDir(step.spec.id), { recursive: true }).catch(() => {});
      }
      await Deno.mkdir(store.artifactsDir(step.spec.id), { recursive: true });
      store.begin({
        id: step.spec.id,
        position: step.position,
        kind: step.spec.kind,
        plugin: step.spec.plugin,
        role: step.roleName,
        fanOut: step.executor.fanOut,
        hash: step.hash,
      });
      try {
        const outcome = await runStep(step, prepared, resolved, store, pool, partial, {
          models: hub,
          shard: options.shard,
          signal,
          log,
          progress: options.progress ?? false,
          label,
        });
        ran.add(step.spec.id);
        outcomes.push({ ...outcome, seconds: (performance.now() - started) / 1000 });
      } catch (error) {
        const e = asStepError(error, step);
        store.fail(step.spec.id, e.message);
        throw e;
      }
    }
    return {
      name: experiment.name,
      runDir,
      shard,
      configHash: prepared.configHash,
      steps: outcomes,
    };
  } finally {
    store.close();
  }
}

interface StepRunOptions {
  models: ModelHub;
  shard?: Shard;
  signal: AbortSignal;
  log: (message: string) => void;
  progress: boolean;
  label: string;
}

async function runStep(
  step: PreparedStep,
  prepared: PreparedExperiment,
  resolved: Experiment,
  store: RunStore,
  pool: ModelPool,
  partial: { record: OutputRecord; metrics: MetricRecord[] }[],
  o: StepRunOptions,
): Promise<Omit<StepOutcome, "seconds">> {
  const id = step.spec.id;
  const w = expandTemplates(step.with, {
    runDir: store.dir,
    artifactsDir: (s) => store.artifactsDir(s),
    datasetPath: (d) => prepared.datasetPaths[d],
  });
  const base: Omit<StepContext, "metric"> = {
    step: step.spec,
    experiment: resolved,
    plugin: step.plugin,
    instance: step.instance,
    runDir: store.dir,
    artifactsDir: store.artifactsDir(id),
    model: (m) => pool.get(m, o.signal),
    models: o.models,
    datasetPath: (d) => prepared.datasetPaths[d],
    stepOutputs: (s) => store.readOutput(s),
    seedFor: (index) => itemSeed(prepared.experiment.seed, id, index),
    log: o.log,
    signal: o.signal,
  };
  const all = await step.executor.plan(w, { ...base, metric: () => {} });
  const seen = new Set<number>();
  for (const item of all) {
    if (seen.has(item.index)) {
      throw new RangeError(`step '${id}': two work items share index ${item.index}`);
    }
    seen.add(item.index);
  }
  const mine = step.executor.fanOut ? all.filter((item) => inShard(item.index, o.shard)) : all;
  const wanted = new Set(mine.map((item) => item.index));
  const done = new Map(
    partial.filter((p) => wanted.has(p.record.index)).map((p) => [p.record.index, p]),
  );
  const todo = mine.filter((item) => !done.has(item.index));
  const shardNote = step.executor.fanOut && o.shard
    ? ` (shard ${formatShard(o.shard)} of ${all.length})`
    : "";
  o.log(
    `step ${id} (${o.label}): ${mine.length} item(s)${shardNote}${
      done.size ? `, ${done.size} reused from an interrupted attempt` : ""
    }`,
  );
  // Bars only for fan-out steps; a single-item step's own events are its progress.
  const bar = new Progress(`  ${id}`, mine.length, {
    unit: "items",
    silent: !o.progress || !step.executor.fanOut,
  });
  let finished = done.size;
  const results = [...done.values()];
  let next = 0;
  let stop = false;
  const worker = async () => {
    while (next < todo.length && !stop) {
      o.signal.throwIfAborted();
      const item: WorkItem = todo[next++];
      const metrics: MetricRecord[] = [];
      const context: StepContext = {
        ...base,
        metric: (m) => metrics.push({ step: id, ...m }),
      };
      const result = await step.executor.runItem(item, w, context);
      for (const m of result.metrics ?? []) metrics.push({ step: id, ...m });
      const record: OutputRecord = {
        index: item.index,
        key: item.key,
        ...(item.tags ? { tags: item.tags } : {}),
        input: result.input !== undefined ? result.input : item.input,
        output: result.output,
      };
      await store.appendPartial(id, { record, metrics });
      results.push({ record, metrics });
      bar.update(++finished);
    }
  };
  const workers = Math.max(1, Math.min(step.spec.concurrency, todo.length));
  // On a failure the other workers finish their current item (kept in partial.jsonl) and stop.
  const settled = await Promise.allSettled(
    Array.from({ length: workers }, () =>
      worker().catch((e) => {
        stop = true;
        throw e;
      })),
  );
  const failure = settled.find((s) => s.status === "rejected");
  if (failure) throw (failure as PromiseRejectedResult).reason;
  // update() already drew the final count; done() only ends the redrawn line on a terminal
  if (Deno.stderr.isTerminal()) bar.done();
  results.sort((a, b) => a.record.index - b.record.index);
  const records = results.map((r) => r.record);
  await store.finish(id, {
    records,
    metrics: results.flatMap((r) => r.metrics),
    summary: step.executor.summarize?.(records),
  });
  return { id, kind: step.spec.kind, status: "ran", items: mine.length, reused: done.size };
}
