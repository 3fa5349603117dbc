/**
 * The step executor interface. Each step kind has one executor in a table (kind → executor); an
 * executor declares the role family its step calls, a zod schema for the step's `with` block, the
 * models / datasets / steps that block refers to, and how to split the step into work items and
 * run one item. Fan-out executors produce many items, which `--shard i/n` partitions; the others
 * produce one item that every shard runs.
 *
 * @module
 */

import type { z } from "zod";
import type { ModelHub } from "../services/model_hub.ts";
import type { ChatModel } from "../contracts/chat_model.ts";
import type { Plugin, PluginRoles } from "../contracts/plugin.ts";
import type { Experiment, StepKind, StepSpec } from "./experiment_schema.ts";

/** Scalar labels attached to items, outputs and metrics (identity, layer, coefficient, …). */
export type Tags = Record<string, string | number | boolean>;

/** One unit of work of a step. `index` is stable across shards and decides the shard. */
export interface WorkItem {
  index: number;
  key: string;
  input: unknown;
  tags?: Tags;
}

/** One line of `steps/<id>/output.jsonl`. */
export interface OutputRecord {
  index: number;
  key: string;
  tags?: Tags;
  input?: unknown;
  output: unknown;
}

/** One metric value. `x` orders a series (training step); `index` ties it to a work item. */
export interface MetricRecord {
  step: string;
  name: string;
  value: number;
  x?: number;
  index?: number;
  tags?: Tags;
}

/** A metric as an executor emits it (the step id is added by the runner). */
export type MetricInput = Omit<MetricRecord, "step">;

/** What running one item returns. */
export interface ItemResult {
  output: unknown;
  /** Replaces the stored input (for example a smaller view of it); defaults to the item input. */
  input?: unknown;
  metrics?: MetricInput[];
}

/** The role families a step may call. */
export type RoleFamily = "trainers" | "simulators" | "judges" | "steerers";

/** A model, dataset or step named inside `with`, with its path there (for error messages). */
export interface Reference {
  type: "model" | "dataset" | "step";
  id: string;
  path: PropertyKey[];
}

/** What an executor's up-front check sees: the plugin and the resolved role instance. */
export interface StepTarget {
  plugin: Plugin;
  roles: PluginRoles;
  /** The role instance (`role` resolved within the family), or undefined for command steps. */
  instance: unknown;
}

/** A problem found by an up-front check: a path inside `with` and what to do. */
export interface CheckProblem {
  path: PropertyKey[];
  message: string;
}

/** What an executor receives while its step runs. */
export interface StepContext {
  step: StepSpec;
  experiment: Experiment;
  plugin: Plugin;
  /** The resolved role instance (see {@link StepTarget.instance}). */
  instance: unknown;
  runDir: string;
  /** This step's artifacts folder (created before the step runs). */
  artifactsDir: string;
  /** A ChatModel of the experiment's `models`, built on first use. */
  model(id: string): Promise<ChatModel>;
  /** The model hub (for plugin commands and trainers that build models themselves). */
  models: ModelHub;
  /** Absolute path of a dataset of the experiment. */
  datasetPath(id: string): string;
  /** The output records of an earlier step (in this run directory). */
  stepOutputs(id: string): Promise<OutputRecord[]>;
  /** A seed for one work item, derived from the experiment seed, the step id and the index. */
  seedFor(index: number): number;
  /** Records a metric as soon as it is known (training curves). */
  metric(metric: MetricInput): void;
  log(message: string): void;
  signal: AbortSignal;
}

/**
 * One step kind's implementation.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import type { StepExecutor } from "./step_executor.ts";
 * const noop: StepExecutor<{ n: number }> = {
 *   kind: "custom", description: "does nothing", fanOut: true,
 *   with: z.object({ n: z.number().int() }),
 *   references: () => [],
 *   plan: (w) => Promise.resolve(Array.from({ length: w.n }, (_, i) => ({ index: i, key: String(i), input: i }))),
 *   runItem: (item) => Promise.resolve({ output: item.input }),
 * };
 * ```
 */
export interface StepExecutor<W = unknown> {
  kind: StepKind;
  description: string;
  /** Many items (sharded with `--shard`) or one item (run by every shard). */
  fanOut: boolean;
  /** The family the step's `role` is looked up in; absent for command steps. */
  role?: RoleFamily;
  /** Validates the step's `with` block (defaults applied). */
  with: z.ZodType<W>;
  /** Models, datasets and steps named in `with`. */
  references(w: W): Reference[];
  /** Checks against the plugin and role before any step runs. */
  check?(w: W, target: StepTarget): CheckProblem | undefined;
  /** The work items (all of them; the runner applies the shard). */
  plan(w: W, context: StepContext): Promise<WorkItem[]>;
  runItem(item: WorkItem, w: W, context: StepContext): Promise<ItemResult>;
  /** Step-level numbers from all output records (shown in the report's step table). */
  summarize?(records: OutputRecord[]): Record<string, number>;
}

/** The executor table type. */
// deno-lint-ignore no-explicit-any
export type ExecutorTable = Partial<Record<StepKind, StepExecutor<any>>>;
