/**
 * The Dramatis command line: `deno task dramatis <verb> …` and `deno task dramatis <plugin>
 * <command> …`. Usage errors print one line and exit 2; other failures exit 1.
 *
 * @module
 */

import type { FlagSpec, Plugin } from "../contracts/plugin.ts";
import { PLUGIN_NAME_RULE } from "../contracts/plugin.ts";
import { type ErrorCode, errorCode, UsageError } from "../errors.ts";
import { PluginRegistry } from "../plugin/registry.ts";
import { callHook } from "../plugin/hooks.ts";
import { parsePluginOptions } from "../plugin/validate.ts";
import { parseWeightFormat } from "../model/quantize.ts";
import { PROVIDERS } from "../runtime/providers.ts";
import { ModelHub } from "../services/model_hub.ts";
import { formatHelp, parseArgs } from "./args.ts";
import type { HostContext, HostVerb } from "./verb.ts";
import { HOST_VERBS } from "./verbs/mod.ts";

const PROGRAM = "dramatis";

/**
 * The run-setting flags every command takes: the host configures the model hub it hands the
 * command with them, so local models run where the user asked.
 */
export const RUN_FLAGS: Record<string, FlagSpec> = {
  provider: {
    type: "string",
    description: "execution provider of local models (cpu, cuda, webgpu; default cpu)",
    choices: PROVIDERS,
  },
  threads: {
    type: "number",
    description: "threads per op of local models (default: one per core)",
  },
  dtype: {
    type: "string",
    description: "weight storage of local models: f32, f16, bf16, int8, int4 (blocks of 128; " +
      "int8:32 / int4:32 for 32); default DRAMATIS_DTYPE, else a GPTQ/AWQ checkpoint's own bits, else f32",
  },
};

function topHelp(registry: PluginRegistry, verbList: readonly HostVerb[]): string {
  const verbs = verbList.map((v) => `  ${v.name.padEnd(12)} ${v.description.split(". ")[0]}`);
  const plugins = registry.list().filter(({ plugin }) => plugin.commands?.length).map((
    { plugin },
  ) => `  ${plugin.name.padEnd(12)} ${plugin.commands!.map((c) => c.name).join(", ")}`);
  return [
    `Usage: ${PROGRAM} <verb> [flags]     or     ${PROGRAM} <plugin> <command> [flags]`,
    "",
    "Dramatis: build, steer, simulate and evaluate persona and role-playing language models.",
    "",
    "Verbs:",
    ...verbs,
    ...(plugins.length ? ["", "Plugin commands:", ...plugins] : []),
    "",
    "Global flags: --json (machine output), --help, --plugin <path|url> (repeatable; a bare",
    "              plugin name such as lora picks that plugin's trainer for train),",
    "              --plugin-options <name>=<JSON> (repeatable), --provider <cpu|cuda|webgpu>",
    "              --threads <n> and --dtype <f32|f16|bf16|int8|int4> (how local models run)",
    `Run '${PROGRAM} <verb> --help' for a verb's flags.`,
  ].join("\n");
}

/**
 * Splits `--plugin <path|url>` / `--plugin-options` out of argv (they may appear anywhere).
 * A `--plugin` value that is a bare plugin name (`lora`: no slash, no extension) is not a file
 * to load: it stays in the verb's arguments (`train --plugin lora` picks the trainer).
 */
function extractPreFlags(argv: string[]): { plugins: string[]; options: string[]; rest: string[] } {
  const plugins: string[] = [];
  const options: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      rest.push(...argv.slice(i));
      break;
    }
    for (const [flag, list] of [["--plugin", plugins], ["--plugin-options", options]] as const) {
      if (arg === flag || arg.startsWith(flag + "=")) {
        const value = arg === flag ? argv[++i] : arg.slice(flag.length + 1);
        if (value === undefined) throw new UsageError(`${flag} needs a value`);
        if (flag === "--plugin" && PLUGIN_NAME_RULE.test(value)) rest.push(`--plugin=${value}`);
        else list.push(value);
      }
    }
    if (
      arg !== "--plugin" && !arg.startsWith("--plugin=") && arg !== "--plugin-options" &&
      !arg.startsWith("--plugin-options=")
    ) rest.push(arg);
  }
  return { plugins, options, rest };
}

function parseOptionFlags(values: string[], registry: PluginRegistry): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const value of values) {
    const eq = value.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`--plugin-options '${value}' must look like name={"key": value}`);
    }
    const name = value.slice(0, eq);
    let raw: unknown;
    try {
      raw = JSON.parse(value.slice(eq + 1));
    } catch (error) {
      throw new UsageError(
        `--plugin-options for ${name}: not valid JSON (${(error as Error).message})`,
        "E_CONFIG",
      );
    }
    out.set(name, parsePluginOptions(registry.get(name), raw));
  }
  return out;
}

async function runCommand(
  path: string,
  command: HostVerb,
  argv: string[],
  base: Omit<HostContext, "json">,
): Promise<number> {
  const subcommands = (command as HostVerb).subcommands;
  if (subcommands?.length) {
    const [sub, ...rest] = argv;
    const found = subcommands.find((s) => s.name === sub);
    if (!found) {
      const list = subcommands.map((s) => `  ${path} ${s.name}  ${s.description}`).join("\n");
      if (sub === undefined || sub === "--help" || sub === "-h") {
        console.log(`Usage: ${path} <subcommand> [flags]\n\n${command.description}\n\n${list}`);
        return sub === undefined ? 2 : 0;
      }
      throw new UsageError(`${path}: unknown subcommand '${sub}'; choose one of:\n${list}`);
    }
    return runCommand(`${path} ${sub}`, found, rest, base);
  }
  // A command that declares provider or threads itself keeps its own wording (same meaning).
  const own = command.flags ?? {};
  const extra = Object.entries(RUN_FLAGS).filter(([name]) => !(name in own));
  const withRunFlags = { ...command, flags: { ...own, ...Object.fromEntries(extra) } };
  const args = parseArgs(argv, withRunFlags.flags, path);
  if (args.flags.help) {
    console.log(formatHelp(path, withRunFlags));
    return 0;
  }
  // A command with its own --dtype (model export-gguf: GGUF encodings) keeps it to itself.
  const runDtype = "dtype" in own ? undefined : args.flags.dtype;
  if (typeof runDtype === "string") parseWeightFormat(runDtype, "--dtype");
  const models = base.models.with({
    provider: args.flags.provider as HostContext["models"]["options"]["provider"],
    threads: args.flags.threads as number | undefined,
    dtype: runDtype as string | undefined,
  });
  base.registry.setServices({ models, log: base.log, signal: base.signal });
  const ctx: HostContext = { ...base, models, json: args.flags.json === true };
  const status = await command.run!(args, ctx);
  return typeof status === "number" ? status : 0;
}

/** What the composition root puts into the CLI. */
export interface MainOptions {
  /** Plugins registered as built-ins (the repository's `main.ts` passes `plugins/mod.ts`). */
  plugins?: readonly Plugin[];
  /** Verbs beyond the core ones (the repository's `main.ts` adds `bench`). */
  verbs?: readonly HostVerb[];
}

/**
 * Runs the CLI and returns the exit status.
 *
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * const status = await main(["plugins", "--json"]);
 * console.log(status); // 0
 * ```
 */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const verbs = [...HOST_VERBS, ...(options.verbs ?? [])];
  let hub: ModelHub | undefined;
  const controller = new AbortController();
  const onSignal = () => controller.abort(new DOMException("interrupted", "AbortError"));
  // SIGTERM (what service managers and `kill` send) drains like Ctrl-C.
  const signals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const sig of signals) {
    try {
      Deno.addSignalListener(sig, onSignal);
    } catch { /* signals unsupported here */ }
  }
  try {
    const { plugins, options: optionFlags, rest } = extractPreFlags(argv);
    const registry = new PluginRegistry();
    for (const plugin of options.plugins ?? []) registry.register(plugin, "built-in");
    for (const spec of plugins) await registry.load(spec);
    const pluginOptions = parseOptionFlags(optionFlags, registry);
    hub = new ModelHub({ registry });
    const base = {
      registry,
      pluginOptions,
      models: hub,
      signal: controller.signal,
      log: (m: string) => console.error(m),
    };
    const [verb, ...args] = rest;
    if (verb === undefined || verb === "--help" || verb === "-h" || verb === "help") {
      console.log(topHelp(registry, verbs));
      return verb === undefined ? 2 : 0;
    }
    const hostVerb = verbs.find((v) => v.name === verb);
    if (hostVerb) return await runCommand(`${PROGRAM} ${verb}`, hostVerb, args, base);
    if (registry.has(verb)) {
      const plugin = registry.get(verb);
      const commands = plugin.commands ?? [];
      const pseudo: HostVerb = {
        name: verb,
        description: plugin.description,
        subcommands: commands.map((c) => ({
          ...c,
          run: (args, ctx) => callHook(verb, `command ${c.name}`, () => c.run(args, ctx)),
        })),
      };
      if (commands.length === 0) {
        throw new UsageError(`plugin ${verb} has no commands; see '${PROGRAM} plugins'`);
      }
      return await runCommand(`${PROGRAM} ${verb}`, pseudo, args, base);
    }
    throw new UsageError(
      `unknown verb or plugin '${verb}'; verbs: ${verbs.map((v) => v.name).join(", ")}; plugins: ${
        registry.names().join(", ") || "(none)"
      }`,
    );
  } catch (error) {
    return reportError(error);
  } finally {
    await hub?.close();
    for (const sig of signals) {
      try {
        Deno.removeSignalListener(sig, onSignal);
      } catch { /* ignore */ }
    }
  }
}

/**
 * The stable code of an operating-system error that escaped a verb uncoded: a path that is
 * missing, of the wrong kind or not permitted is the input's fault (`E_PATH`, exit 2), a taken
 * port is `E_ADDR_IN_USE`. Anything else stays uncoded (exit 1).
 */
function systemErrorCode(error: unknown): ErrorCode | undefined {
  const e = Deno.errors;
  if (error instanceof e.AddrInUse) return "E_ADDR_IN_USE";
  if (
    error instanceof e.NotFound || error instanceof e.PermissionDenied ||
    error instanceof e.NotADirectory || error instanceof e.IsADirectory ||
    error instanceof e.AlreadyExists || error instanceof e.NotCapable
  ) return "E_PATH";
  return undefined;
}

/** Codes that mean the run itself failed rather than its input; they exit 1. */
const FAILURE_CODES = new Set(["E_PLUGIN_HOOK", "E_GRAPH", "E_GRAD_RULE"]);

/** Prints an error as one line and maps it to an exit status (2: usage or input, 1: failure). */
export function reportError(error: unknown): number {
  const code = errorCode(error) ?? systemErrorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  const [firstLine, ...rest] = message.split("\n");
  console.error(`${PROGRAM}: error${code ? `[${code}]` : ""}: ${firstLine}`);
  if (rest.length) console.error(rest.join("\n"));
  if (Deno.env.get("DRAMATIS_DEBUG") && error instanceof Error && error.stack) {
    console.error(error.stack);
  }
  return code !== undefined && !FAILURE_CODES.has(code) ? 2 : 1;
}
