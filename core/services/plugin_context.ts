/**
 * The context core hands to a plugin's `create` and the context of commands run outside the
 * CLI (tests, embedding hosts).
 *
 * @module
 */

import type { CommandContext, PluginContext } from "../contracts/plugin.ts";
import { ModelHub } from "./model_hub.ts";
import { trainingDriver } from "./training_driver.ts";

/** The services a host shares with every plugin. */
export interface PluginServices {
  models: ModelHub;
  log?: (message: string) => void;
  signal?: AbortSignal;
}

/**
 * The context for one plugin: the shared services, with log lines tagged `[plugin]`.
 *
 * @example
 * ```ts
 * import { pluginContext } from "./plugin_context.ts";
 * const ctx = pluginContext("echo");
 * ctx.log("ready"); // "[echo] ready" on stderr
 * await ctx.models.close();
 * ```
 */
export function pluginContext(
  plugin: string,
  services: Partial<PluginServices> = {},
): PluginContext {
  const log = services.log ?? ((m: string) => console.error(m));
  return {
    plugin,
    models: services.models ?? new ModelHub(),
    training: trainingDriver,
    log: (message) => log(`[${plugin}] ${message}`),
    signal: services.signal ?? new AbortController().signal,
  };
}

/**
 * A command context for running a plugin command outside the CLI (the caller closes
 * `models` when the command has built local models).
 *
 * @example
 * ```ts
 * import { commandContext } from "./plugin_context.ts";
 * const ctx = commandContext({ json: true });
 * console.log(ctx.json); // true
 * await ctx.models.close();
 * ```
 */
export function commandContext(
  options: Partial<CommandContext> & Record<string, unknown> = {},
): CommandContext {
  return {
    json: false,
    log: () => {},
    signal: new AbortController().signal,
    ...options,
    models: options.models ?? new ModelHub(),
  };
}
