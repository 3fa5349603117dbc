/**
 * Everything that can be checked before a step runs: each step's `with` against its kind's
 * schema, references to plugins, roles, models, personas, datasets and earlier steps, plugin
 * options against each plugin's schema, and plugin instantiation. It also computes the hash of
 * each step's resolved inputs (which decides resume) and the experiment's config hash (which
 * `merge` compares across shards).
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { canonicalJson, sha256Hex } from "../chat/canonical_json.ts";
import type { Persona } from "../contracts/persona.ts";
import { PersonaSchema } from "../contracts/persona.ts";
import type { Plugin, PluginRoles } from "../contracts/plugin.ts";
import type { PluginRegistry } from "../plugin/registry.ts";
import { configError, zodConfigError } from "./config_error.ts";
import type { Experiment, StepSpec } from "./experiment_schema.ts";
import { DEFAULT_EXECUTORS } from "./executors/mod.ts";
import { contentHash } from "./content_hash.ts";
import type { LoadedExperiment } from "./load_experiment.ts";
import type { ExecutorTable, Reference, StepExecutor } from "./step_executor.ts";
import { findTemplates } from "./templates.ts";

/** A step ready to run. */
export interface PreparedStep {
  spec: StepSpec;
  /** Position in the experiment's `steps`. */
  position: number;
  executor: StepExecutor;
  /** `with` parsed by the executor's schema (templates not yet expanded). */
  with: unknown;
  /** Earlier steps this one depends on: `needs` plus references inside `with`. */
  deps: string[];
  plugin: Plugin;
  roles: PluginRoles;
  /** The role instance name, for role steps. */
  roleName?: string;
  instance: unknown;
  /** SHA-256 of the step's resolved inputs, chained through its dependencies. */
  hash: string;
}

/** An experiment that passed every up-front check. */
export interface PreparedExperiment {
  experiment: Experiment;
  source: string;
  baseDir: string;
  personas: Record<string, Persona>;
  /** Dataset id → absolute path. */
  datasetPaths: Record<string, string>;
  /** Plugin name → parsed options (for plugins the steps use or the file configures). */
  pluginOptions: Record<string, unknown>;
  steps: PreparedStep[];
  /** Hash of the whole experiment's step hashes, name and seed. */
  configHash: string;
}

/** Options of {@link prepareExperiment}. */
export interface PrepareOptions {
  executors?: ExecutorTable;
  /** Parsed options that replace the file's (the CLI's `--plugin-options`). */
  pluginOptionOverrides?: Map<string, unknown>;
  /**
   * Check that local model folders exist (default true). Off only where the file is validated
   * for its shape before its models are made, as the example tests do.
   */
  checkModelPaths?: boolean;
}

function pickRole(
  source: string,
  raw: unknown,
  step: StepSpec,
  position: number,
  family: string,
  roles: PluginRoles,
): { name: string; instance: unknown } {
  const instances = (roles as Record<string, Record<string, unknown> | undefined>)[family] ?? {};
  const names = Object.keys(instances);
  if (step.role !== undefined) {
    if (!(step.role in instances)) {
      throw configError(
        source,
        raw,
        ["steps", position, "role"],
        `plugin ${step.plugin} has no ${family.slice(0, -1)} named so; ${
          names.length ? `choose one of ${names.join(", ")}` : `it provides no ${family}`
        }`,
      );
    }
    return { name: step.role, instance: instances[step.role] };
  }
  if (names.length !== 1) {
    throw configError(
      source,
      raw,
      ["steps", position, "role"],
      names.length
        ? `plugin ${step.plugin} has several ${family} (${names.join(", ")}); name one in 'role'`
        : `a ${step.kind} step calls ${family}, and plugin ${step.plugin} provides none`,
    );
  }
  return { name: names[0], instance: instances[names[0]] };
}

/**
 * Checks an experiment completely and instantiates its plugins; nothing runs yet.
 *
 * @example
 * ```ts
 * import { PluginRegistry } from "../plugin/registry.ts";
 * import { loadExperimentFile } from "./load_experiment.ts";
 * import { prepareExperiment } from "./prepare_experiment.ts";
 * const registry = new PluginRegistry();
 * await registry.load("./examples/third_party_plugin/mod.ts");
 * const prepared = await prepareExperiment(await loadExperimentFile("./exp.json"), registry);
 * console.log(prepared.steps.map((s) => `${s.spec.id}: ${s.hash.slice(0, 8)}`));
 * ```
 */
export async function prepareExperiment(
  loaded: LoadedExperiment,
  registry: PluginRegistry,
  options: PrepareOptions = {},
): Promise<PreparedExperiment> {
  const { experiment, raw, source, baseDir } = loaded;
  const executors = options.executors ?? DEFAULT_EXECUTORS;
  const at = (path: PropertyKey[], fix: string) => configError(source, raw, path, fix);

  // Plugins named by the file or the steps, and their options.
  const pluginOptions: Record<string, unknown> = {};
  const used = new Set([
    ...Object.keys(experiment.plugins),
    ...experiment.steps.map((s) => s.plugin),
  ]);
  for (const name of Object.keys(experiment.plugins)) {
    if (!registry.has(name)) {
      throw at(
        ["plugins", name],
        `no plugin is named '${name}'; known: ${
          registry.names().join(", ") || "(none)"
        }; load one with --plugin ./path.ts`,
      );
    }
  }
  experiment.steps.forEach((step, i) => {
    if (!registry.has(step.plugin)) {
      throw at(
        ["steps", i, "plugin"],
        `no plugin has this name; known: ${
          registry.names().join(", ") || "(none)"
        }; load one with --plugin ./path.ts`,
      );
    }
  });
  for (const name of used) {
    if (options.pluginOptionOverrides?.has(name)) {
      pluginOptions[name] = options.pluginOptionOverrides.get(name);
      continue;
    }
    const parsed = registry.get(name).options.safeParse(experiment.plugins[name] ?? {});
    if (!parsed.success) throw zodConfigError(source, raw, parsed.error, ["plugins", name]);
    pluginOptions[name] = parsed.data;
  }

  // Personas, models, datasets.
  const personas: Record<string, Persona> = {};
  for (const [id, entry] of Object.entries(experiment.personas)) {
    if (typeof entry !== "string") {
      personas[id] = entry;
      continue;
    }
    const path = isAbsolute(entry) ? entry : resolve(baseDir, entry);
    let value: unknown;
    try {
      value = JSON.parse(await Deno.readTextFile(path));
    } catch (error) {
      throw at(
        ["personas", id],
        `cannot read a persona JSON file there (${(error as Error).message.split("\n")[0]})`,
      );
    }
    const parsed = PersonaSchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw at(
        ["personas", id],
        `the persona file's field '${issue.path.join(".")}' is invalid: ${issue.message}`,
      );
    }
    personas[id] = parsed.data;
  }
  for (const [id, spec] of Object.entries(experiment.models)) {
    if (spec.kind === "persona" && !(spec.persona in personas)) {
      throw at(
        ["models", id, "persona"],
        `no persona has this id; known: ${Object.keys(personas).join(", ") || "(none)"}`,
      );
    }
  }
  // Local model paths are checked now, before any run folder exists or any step runs. Explicit
  // paths (absolute, ./, ../) must be folders; bare names may be hub ids, and artifact templates
  // are made by earlier steps.
  const checkModelPath = async (path: string, where: PropertyKey[]) => {
    if (path.includes("{{") || /^[a-z][a-z0-9_]*:/.test(path)) return;
    const explicit = isAbsolute(path) || /^\.{1,2}([/\\]|$)/.test(path) || path.startsWith("~");
    const abs = isAbsolute(path) ? path : resolve(baseDir, path);
    const info = await Deno.stat(abs).catch(() => null);
    if (info?.isDirectory) return;
    if (info && !info.isDirectory) {
      throw at(
        where,
        `${abs} is a file; a local model is a folder (config.json, weights, tokenizer)`,
      );
    }
    if (explicit) {
      throw at(
        where,
        `no model folder exists at ${abs}; fix the path (relative paths start at the experiment ` +
          "file's folder) or name a hub id as org/name",
      );
    }
  };
  for (const [id, spec] of Object.entries(experiment.models)) {
    if (options.checkModelPaths === false) break;
    if (spec.kind === "local") await checkModelPath(spec.path, ["models", id, "path"]);
    if (spec.kind === "persona" && personas[spec.persona]) {
      await checkModelPath(personas[spec.persona].model, ["personas", spec.persona, "model"]);
    }
  }
  const datasetPaths: Record<string, string> = {};
  for (const [id, path] of Object.entries(experiment.datasets)) {
    const abs = isAbsolute(path) ? path : resolve(baseDir, path);
    try {
      await Deno.stat(abs);
    } catch {
      throw at(
        ["datasets", id],
        `no file or folder exists at ${abs}; fix the path (relative paths start at the experiment file's folder)`,
      );
    }
    datasetPaths[id] = abs;
  }

  // Steps: `with`, references, roles, checks.
  const steps: PreparedStep[] = [];
  const instances = new Map<string, PluginRoles>();
  const hashes = new Map<string, string>();
  const datasetHashes = new Map<string, string>();
  for (const [i, step] of experiment.steps.entries()) {
    if (steps.some((s) => s.spec.id === step.id)) {
      throw at(["steps", i, "id"], "another step has the same id; step ids must be unique");
    }
    const executor = executors[step.kind];
    if (!executor) {
      throw at(
        ["steps", i, "kind"],
        `no executor handles this kind here; known: ${Object.keys(executors).join(", ")}`,
      );
    }
    const parsedWith = executor.with.safeParse(step.with);
    if (!parsedWith.success) {
      throw zodConfigError(source, raw, parsedWith.error, ["steps", i, "with"]);
    }
    const w = parsedWith.data;
    const refs: Reference[] = [...executor.references(w)];
    for (const t of findTemplates(step.with)) {
      if (t.invalid) throw at(["steps", i, "with", ...t.path], t.invalid);
      if (t.reference) refs.push(t.reference);
    }
    // Model entries and personas may name artifacts of earlier steps (a trained adapter, say):
    // a step that uses such a model depends on those steps.
    for (const ref of [...refs]) {
      if (ref.type !== "model" || !(ref.id in experiment.models)) continue;
      const spec = experiment.models[ref.id];
      const target = spec.kind === "persona" ? { spec, persona: personas[spec.persona] } : spec;
      for (const t of findTemplates(target)) {
        if (t.invalid) throw at(["models", ref.id, ...t.path], t.invalid);
        if (t.reference) refs.push({ ...t.reference, path: ref.path });
      }
    }
    const deps = new Set<string>();
    step.needs.forEach((id, k) => {
      if (!steps.some((s) => s.spec.id === id)) {
        throw at(
          ["steps", i, "needs", k],
          experiment.steps.some((s) => s.id === id)
            ? "that step comes later; move it before this one"
            : `no step has this id; earlier steps: ${
              steps.map((s) => s.spec.id).join(", ") || "(none)"
            }`,
        );
      }
      deps.add(id);
    });
    for (const ref of refs) {
      const path = ["steps", i, "with", ...ref.path];
      if (ref.type === "model" && !(ref.id in experiment.models)) {
        throw at(
          path,
          `no model has this id; known: ${Object.keys(experiment.models).join(", ") || "(none)"}`,
        );
      }
      if (ref.type === "dataset" && !(ref.id in experiment.datasets)) {
        throw at(
          path,
          `no dataset has this id; known: ${
            Object.keys(experiment.datasets).join(", ") || "(none)"
          }`,
        );
      }
      if (ref.type === "step") {
        if (!steps.some((s) => s.spec.id === ref.id)) {
          throw at(
            path,
            experiment.steps.some((s) => s.id === ref.id)
              ? "that step comes later; move it before this one"
              : `no earlier step has this id; earlier steps: ${
                steps.map((s) => s.spec.id).join(", ") || "(none)"
              }`,
          );
        }
        deps.add(ref.id);
      }
    }
    let roles = instances.get(step.plugin);
    if (!roles) {
      roles = await registry.instantiate(step.plugin, pluginOptions[step.plugin]);
      instances.set(step.plugin, roles);
    }
    const plugin = registry.get(step.plugin);
    const role = executor.role ? pickRole(source, raw, step, i, executor.role, roles) : undefined;
    const problem = executor.check?.(w, { plugin, roles, instance: role?.instance });
    if (problem) throw at(["steps", i, "with", ...problem.path], problem.message);

    // The input hash: what the step is, what it reads, and the hashes of what it depends on.
    const models: Record<string, unknown> = {};
    const datasets: Record<string, string> = {};
    for (const ref of refs) {
      if (ref.type === "model") {
        const spec = experiment.models[ref.id];
        models[ref.id] = spec.kind === "persona"
          ? { ...spec, resolved: personas[spec.persona] }
          : spec;
      } else if (ref.type === "dataset") {
        let h = datasetHashes.get(ref.id);
        if (!h) datasetHashes.set(ref.id, h = await contentHash(datasetPaths[ref.id]));
        datasets[ref.id] = h;
      }
    }
    const hash = await sha256Hex(canonicalJson({
      kind: step.kind,
      plugin: step.plugin,
      plugin_version: plugin.version,
      role: role?.name,
      options: pluginOptions[step.plugin],
      with: w,
      models,
      datasets,
      seed: experiment.seed,
      deps: [...deps].map((d) => [d, hashes.get(d)]),
    }));
    hashes.set(step.id, hash);
    steps.push({
      spec: step,
      position: i,
      executor,
      with: w,
      deps: [...deps],
      plugin,
      roles,
      roleName: role?.name,
      instance: role?.instance,
      hash,
    });
  }
  const configHash = await sha256Hex(canonicalJson({
    name: experiment.name,
    seed: experiment.seed,
    steps: steps.map((s) => [s.spec.id, s.hash]),
  }));
  return { experiment, source, baseDir, personas, datasetPaths, pluginOptions, steps, configHash };
}
