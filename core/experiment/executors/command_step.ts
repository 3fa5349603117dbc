/**
 * The `extract` and `custom` steps: run one of the plugin's CLI commands (for example
 * `persona_vectors extract`) with flags from `with.args`. When the command declares an `out`
 * flag and none is given, it writes into the step's artifacts folder. The command runs in `--json`
 * mode and the JSON document it prints on stdout becomes the step's output. A `metrics` array in
 * that document (`{name, value, index?, tags?}` records, e.g. one projection per row) becomes the
 * step's metrics, so the report can plot them.
 *
 * @module
 */

import { callHook } from "../../plugin/hooks.ts";
import { z } from "zod";
import type { FlagSpec, PluginCommand } from "../../contracts/plugin.ts";
import { PluginError } from "../../errors.ts";
import type { MetricInput, StepExecutor } from "../step_executor.ts";

const FlagValue = z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]);

/** The `with` block of a command step. */
export const CommandWithSchema = z.object({
  /** The plugin command; an `extract` step defaults to `extract`. */
  command: z.string().regex(/^[a-z][a-z0-9-]*$/).optional(),
  /** Flag name → value (without the leading `--`). Templates such as `{{artifacts.train}}` work. */
  args: z.record(z.string(), FlagValue).default({}),
  positionals: z.array(z.string()).default([]),
}).strict();

/** Parsed `with` of a command step. */
export type CommandWith = z.infer<typeof CommandWithSchema>;

function flagProblem(name: string, value: unknown, spec: FlagSpec | undefined): string | undefined {
  if (!spec) return "the command has no such flag";
  const expected = spec.multiple ? "string" : spec.type;
  const values = Array.isArray(value) ? value : [value];
  if (Array.isArray(value) && !spec.multiple) return `--${name} takes one ${spec.type}`;
  for (const v of values) {
    if (typeof v !== expected && !(expected === "string" && typeof v === "number")) {
      return `--${name} takes a ${spec.type}`;
    }
    if (spec.choices && !spec.choices.includes(String(v))) {
      return `choose one of ${spec.choices.join(", ")}`;
    }
  }
  return undefined;
}

/**
 * The well-formed records of a command document's `metrics` array (finite numeric `value`, a
 * `name`, optional integer `index` and scalar `tags`); anything else is ignored.
 *
 * @example
 * ```ts
 * import { commandMetrics } from "./command_step.ts";
 * console.log(commandMetrics({ metrics: [{ name: "proj", value: 1.5, index: 0 }] }).length); // 1
 * ```
 */
export function commandMetrics(doc: unknown): MetricInput[] {
  const list = (doc as { metrics?: unknown } | null)?.metrics;
  if (!Array.isArray(list)) return [];
  const out: MetricInput[] = [];
  for (const m of list) {
    const r = m as Record<string, unknown>;
    if (typeof r?.name !== "string" || typeof r.value !== "number" || !Number.isFinite(r.value)) {
      continue;
    }
    const tags: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries((r.tags ?? {}) as Record<string, unknown>)) {
      if (["string", "number", "boolean"].includes(typeof v)) tags[k] = v as string;
    }
    out.push({
      name: r.name,
      value: r.value,
      ...(Number.isInteger(r.index) ? { index: r.index as number } : {}),
      ...(Object.keys(tags).length ? { tags } : {}),
    });
  }
  return out;
}

/**
 * Makes a command executor for a step kind; `defaultCommand` is used when `with.command` is absent.
 *
 * @example
 * ```ts
 * import { commandStep } from "./command_step.ts";
 * const extract = commandStep("extract", "extract");
 * console.log(extract.fanOut); // false
 * ```
 */
export function commandStep(
  kind: "extract" | "custom",
  defaultCommand?: string,
): StepExecutor<CommandWith> {
  const find = (w: CommandWith, commands: PluginCommand[] | undefined) =>
    (commands ?? []).find((c) => c.name === (w.command ?? defaultCommand));
  return {
    kind,
    description: kind === "extract"
      ? "run a plugin's extraction command (default 'extract') into the step's artifacts"
      : "run any plugin command with flags from the experiment",
    fanOut: false,
    with: CommandWithSchema,
    references: () => [],
    check(w, target) {
      const name = w.command ?? defaultCommand;
      const known = (target.plugin.commands ?? []).map((c) => c.name).join(", ") || "(none)";
      if (!name) {
        return {
          path: ["command"],
          message: `name a command of plugin ${target.plugin.name}: ${known}`,
        };
      }
      const command = find(w, target.plugin.commands);
      if (!command) {
        return {
          path: ["command"],
          message: `plugin ${target.plugin.name} has no command '${name}'; known: ${known}`,
        };
      }
      for (const [flag, value] of Object.entries(w.args)) {
        const problem = flagProblem(flag, value, command.flags?.[flag]);
        if (problem) return { path: ["args", flag], message: problem };
      }
      for (const [flag, spec] of Object.entries(command.flags ?? {})) {
        if (spec.required && w.args[flag] === undefined && flag !== "out") {
          return {
            path: ["args", flag],
            message: `the command requires --${flag} (${spec.description})`,
          };
        }
      }
      return undefined;
    },
    plan: () => Promise.resolve([{ index: 0, key: kind, input: null }]),
    async runItem(_item, w, ctx) {
      const command = find(w, ctx.plugin.commands)!;
      const flags: Record<string, string | number | boolean | string[] | undefined> = {};
      for (const [name, spec] of Object.entries(command.flags ?? {})) {
        if (spec.default !== undefined) flags[name] = spec.default;
      }
      Object.assign(flags, w.args, { json: true });
      if (command.flags?.out && w.args.out === undefined) flags.out = ctx.artifactsDir;
      // The command prints its JSON document with console.log; capture it as the step output.
      const printed: string[] = [];
      const original = console.log;
      console.log = (...parts: unknown[]) => {
        printed.push(parts.map((p) => typeof p === "string" ? p : JSON.stringify(p)).join(" "));
      };
      let status: number | void;
      try {
        status = await callHook(
          ctx.plugin.name,
          `command ${command.name}`,
          () =>
            command.run({ flags, positionals: w.positionals }, {
              json: true,
              log: ctx.log,
              signal: ctx.signal,
              models: ctx.models,
            }),
        );
      } finally {
        console.log = original;
      }
      if (typeof status === "number" && status !== 0) {
        throw new PluginError(
          ctx.plugin.name,
          command.name,
          "E_PLUGIN_HOOK",
          `command exited with status ${status}: ${printed.join("\n").slice(0, 300)}`,
        );
      }
      const text = printed.join("\n").trim();
      let output: unknown = text;
      try {
        output = text ? JSON.parse(text) : null;
      } catch { /* keep the text */ }
      return {
        output: { command: command.name, status: status ?? 0, result: output },
        metrics: commandMetrics(output),
      };
    },
  };
}
