/**
 * The plugin registry: built-ins plus third-party plugins loaded by path or URL, with the
 * name rule, duplicate detection and option validation done before anything runs.
 *
 * @module
 */

import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { PluginError } from "../errors.ts";
import type { Plugin, PluginRoles } from "../contracts/plugin.ts";
import type { RequestExtension } from "../contracts/request_extension.ts";
import { ModelHub } from "../services/model_hub.ts";
import { pluginContext, type PluginServices } from "../services/plugin_context.ts";
import { callHook, wrapRoles } from "./hooks.ts";
import { assertPlugin, parsePluginOptions } from "./validate.ts";

/** A registered plugin and where it came from. */
export interface RegisteredPlugin {
  plugin: Plugin;
  /** `built-in`, or the path / URL it was loaded from. */
  source: string;
}

/**
 * Holds the plugins of one process.
 *
 * @example
 * ```ts
 * import { PluginRegistry } from "./registry.ts";
 * const registry = new PluginRegistry();
 * await registry.load("./examples/third_party_plugin/mod.ts");
 * console.log(registry.names());
 * ```
 */
export class PluginRegistry {
  #plugins = new Map<string, RegisteredPlugin>();
  #services: PluginServices | undefined;
  #ownHub: ModelHub | undefined;

  /**
   * The services every plugin's `create` receives (the host sets its model hub, logger and
   * abort signal). Without them, the registry makes a model hub of its own ({@link close}).
   */
  setServices(services: PluginServices): void {
    this.#services = services;
  }

  /** The services plugins receive. */
  get services(): PluginServices {
    if (this.#services) return this.#services;
    this.#ownHub ??= new ModelHub({ registry: this });
    return { models: this.#ownHub };
  }

  /** Closes the model hub the registry made for itself, if it made one. */
  async close(): Promise<void> {
    await this.#ownHub?.close();
    this.#ownHub = undefined;
  }

  /** Registers a plugin object after the structural checks; rejects duplicate names. */
  register(value: unknown, source = "built-in"): Plugin {
    const plugin = assertPlugin(value, source);
    const existing = this.#plugins.get(plugin.name);
    if (existing) {
      throw new PluginError(
        plugin.name,
        "load",
        "E_PLUGIN_DUPLICATE",
        `${source}: the name '${plugin.name}' is already taken by ${existing.source}; rename one of them`,
      );
    }
    for (const ext of plugin.requestExtensions ?? []) {
      const owner = this.list().find((r) =>
        r.plugin.requestExtensions?.some((e) => e.name === ext.name)
      );
      if (owner) {
        throw new PluginError(
          plugin.name,
          "load",
          "E_PLUGIN_DUPLICATE",
          `${source}: the request extension '${ext.name}' is already defined by plugin ` +
            `'${owner.plugin.name}' (${owner.source}); rename one of them`,
        );
      }
    }
    this.#plugins.set(plugin.name, { plugin, source });
    return plugin;
  }

  /** The request extensions the registered plugins define, in registration order. */
  requestExtensions(): RequestExtension[] {
    return this.list().flatMap((r) => r.plugin.requestExtensions ?? []);
  }

  /** Imports a plugin module by file path (relative to the working directory) or URL. */
  async load(specifier: string): Promise<Plugin> {
    const url = /^[a-z][a-z0-9+.-]*:/i.test(specifier) && !/^[a-z]:[\\/]/i.test(specifier)
      ? specifier
      : pathToFileURL(isAbsolute(specifier) ? specifier : resolve(Deno.cwd(), specifier)).href;
    let module: Record<string, unknown>;
    try {
      module = await import(url);
    } catch (error) {
      const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
      throw new PluginError(
        "?",
        "load",
        "E_PLUGIN_LOAD",
        `${specifier}: cannot import (${reason}); check the path and that the file exports default a Plugin`,
        { cause: error },
      );
    }
    if (!("default" in module)) {
      throw new PluginError(
        "?",
        "load",
        "E_PLUGIN_SHAPE",
        `${specifier}: the module has no default export; add 'export default myPlugin'`,
      );
    }
    return this.register(module.default, specifier);
  }

  /** The plugin with this name, or an error listing the known names. */
  get(name: string): Plugin {
    const entry = this.#plugins.get(name);
    if (!entry) {
      throw new PluginError(
        name,
        "lookup",
        "E_PLUGIN_UNKNOWN",
        `no plugin is named '${name}'; known: ${
          this.names().join(", ") || "(none)"
        }. Load a third-party one with --plugin ./path.ts`,
      );
    }
    return entry.plugin;
  }

  /** Whether a plugin with this name is registered. */
  has(name: string): boolean {
    return this.#plugins.has(name);
  }

  /** Registered plugin names in registration order. */
  names(): string[] {
    return [...this.#plugins.keys()];
  }

  /** All registered plugins with their sources. */
  list(): RegisteredPlugin[] {
    return [...this.#plugins.values()];
  }

  /**
   * Validates options against the plugin's schema, then builds its roles with the plugin's
   * context ({@link services}, or the ones given). Every role the plugin returns is wrapped so
   * an error inside it names the plugin and hook ({@link callHook}).
   */
  async instantiate(
    name: string,
    rawOptions: unknown = {},
    services?: PluginServices,
  ): Promise<PluginRoles> {
    const plugin = this.get(name);
    const options = parsePluginOptions(plugin, rawOptions);
    const context = pluginContext(name, services ?? this.services);
    return wrapRoles(name, await callHook(name, "create", () => plugin.create(options, context)));
  }
}
