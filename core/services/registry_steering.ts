/**
 * The steering resolver local models use: vector entries (`{vector, coefficient, layer}`) go
 * through the core vector steerer; entries that name a plugin steerer (`{steerer: "plugin.name",
 * config}`) go through that plugin's Steerer role, built from the plugin registry. Same-block
 * additions are merged into one edit.
 *
 * @module
 */

import type { SteeringResolver } from "../chat/local_chat_model.ts";
import type { PluginRoles } from "../contracts/plugin.ts";
import {
  isSteererEntry,
  type ResidualEdit,
  type SteererEntry,
  type SteeringEntry,
} from "../contracts/steerer.ts";
import { withCode } from "../errors.ts";
import type { PluginRegistry } from "../plugin/registry.ts";
import { steeringResolver } from "../steering/steering_resolver.ts";
import type { VectorSource } from "../steering/vector_source.ts";
import { vectorSource } from "../steering/vector_source.ts";
import { mergeAddEdits } from "../steering/vector_steerer.ts";

/** Options of {@link registrySteering}. */
export interface RegistrySteeringOptions {
  /** Resolves the vector entries (default: the core resolver over files and registered names). */
  vectors?: SteeringResolver;
  /** What plugin steerers may read with `loadVector` (default: files and registered names). */
  source?: VectorSource;
}

/**
 * The resolver for a registry's plugins (vector entries only without one).
 *
 * @example
 * ```ts
 * import { registrySteering } from "./registry_steering.ts";
 * const resolve = registrySteering(undefined);
 * console.log(typeof resolve); // "function"
 * ```
 */
export function registrySteering(
  registry: PluginRegistry | undefined,
  options: RegistrySteeringOptions = {},
): SteeringResolver {
  const vectors = options.vectors ?? steeringResolver;
  const source = options.source ?? vectorSource();
  const roles = new Map<string, Promise<PluginRoles>>();
  const rolesOf = (plugin: string) => {
    let r = roles.get(plugin);
    if (!r) {
      r = registry!.instantiate(plugin);
      roles.set(plugin, r);
      r.catch(() => roles.delete(plugin));
    }
    return r;
  };
  const fromPlugin = async (
    entry: SteererEntry,
    model: { numLayers: number; hiddenSize: number },
  ): Promise<ResidualEdit[]> => {
    const [plugin, name] = entry.steerer.split(".", 2);
    if (!registry?.has(plugin)) {
      throw withCode(
        new TypeError(
          `steering names the steerer '${entry.steerer}', but no plugin '${plugin}' is loaded; ` +
            "load it with --plugin or drop the entry",
        ),
        "E_PLUGIN_UNKNOWN",
      );
    }
    const steerers = (await rolesOf(plugin)).steerers ?? {};
    const factory = name ? steerers[name] : Object.values(steerers)[0];
    if (!factory) {
      throw withCode(
        new TypeError(
          `steering names the steerer '${entry.steerer}'; plugin '${plugin}' has ${
            Object.keys(steerers).join(", ") || "no steerer"
          }`,
        ),
        "E_CONFIG",
      );
    }
    const steerer = await factory(entry.config ?? {});
    return await steerer.resolve({ ...model, loadVector: source.load });
  };
  return async (entries, model) => {
    const plain = entries.filter((e): e is SteeringEntry => !isSteererEntry(e));
    const edits = plain.length ? [...await vectors(plain, model)] : [];
    for (const e of entries) if (isSteererEntry(e)) edits.push(...await fromPlugin(e, model));
    return mergeAddEdits(edits);
  };
}
