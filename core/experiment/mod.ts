/**
 * Experiments: a JSON or TS experiment file mixes plugins in steps (train, extract, steer,
 * simulate, judge, custom) that call plugin roles through the registry; the results store keeps
 * one run directory per experiment with resume, sharding (`--shard i/n`) and merge.
 *
 * @example
 * ```ts
 * import { PluginRegistry } from "../plugin/registry.ts";
 * import { loadExperimentFile, mergeRuns, runExperiment } from "./mod.ts";
 * const registry = new PluginRegistry();
 * await registry.load("./examples/third_party_plugin/mod.ts");
 * const exp = await loadExperimentFile("./exp.json");
 * await runExperiment(exp, { registry, out: "runs/exp-0", shard: { index: 0, count: 2 } });
 * await runExperiment(exp, { registry, out: "runs/exp-1", shard: { index: 1, count: 2 } });
 * await mergeRuns(["runs/exp-0", "runs/exp-1"], { out: "runs/exp" });
 * ```
 *
 * @module
 */

export * from "./config_error.ts";
export * from "./content_hash.ts";
export * from "./executors/mod.ts";
export * from "./experiment_schema.ts";
export * from "./load_experiment.ts";
export * from "./merge_runs.ts";
export * from "./model_pool.ts";
export * from "./prepare_experiment.ts";
export * from "./run_experiment.ts";
export * from "./run_store.ts";
export * from "./shard.ts";
export * from "./step_executor.ts";
export * from "./templates.ts";
export * from "./work_source.ts";
