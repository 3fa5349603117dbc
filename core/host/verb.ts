/**
 * The shape of a host verb (`deno task dramatis <verb>`) and the context verbs receive.
 *
 * @module
 */

import type { CommandContext, PluginCommand } from "../contracts/plugin.ts";
import type { PluginRegistry } from "../plugin/registry.ts";

/** What a host verb receives: the plugin context plus the registry and validated plugin options. */
export interface HostContext extends CommandContext {
  registry: PluginRegistry;
  /** Options given with `--plugin-options name=JSON`, already validated. */
  pluginOptions: Map<string, unknown>;
}

/** A verb of the host CLI. */
export interface HostVerb extends Omit<PluginCommand, "run"> {
  /** Subcommands (`model new`); when present, `run` may be omitted. */
  subcommands?: HostVerb[];
  run?(
    args: import("../contracts/plugin.ts").ParsedArgs,
    context: HostContext,
  ): Promise<number | void> | number | void;
}

/**
 * Prints a value as JSON on stdout.
 *
 * @example
 * ```ts
 * import { printJson } from "./verb.ts";
 * printJson({ ok: true });
 * ```
 */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
