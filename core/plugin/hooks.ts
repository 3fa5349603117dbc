/**
 * The one wrapper through which core calls plugin hooks: `create`, the role methods (train,
 * judge, simulate, steerer / adapter / backend factories) and commands. An error thrown inside
 * a hook comes out as a {@link PluginError} naming the plugin and the hook, with the original
 * error as `cause` and its stable code kept (a plugin's `E_CONFIG` stays `E_CONFIG`; an error
 * without a code becomes `E_PLUGIN_HOOK`). Aborts pass through untouched.
 *
 * @module
 */

import type { PluginRoles } from "../contracts/plugin.ts";
import { type ErrorCode, errorCode, PluginError } from "../errors.ts";

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

/**
 * Runs one plugin hook, attributing any error to the plugin and hook.
 *
 * @example
 * ```ts
 * import { callHook } from "./hooks.ts";
 * try {
 *   await callHook("echo", "judge", () => { throw new Error("boom"); });
 * } catch (e) {
 *   console.log((e as Error).message); // "plugin echo (judge): boom"
 * }
 * ```
 */
export async function callHook<T>(
  plugin: string,
  hook: string,
  fn: () => T | Promise<T>,
): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw asPluginError(plugin, hook, error);
  }
}

/** The error a hook threw, as a {@link PluginError} of that plugin and hook. */
export function asPluginError(plugin: string, hook: string, error: unknown): unknown {
  if (error instanceof PluginError || isAbort(error)) return error;
  const code = (errorCode(error) ?? "E_PLUGIN_HOOK") as ErrorCode;
  const reason = error instanceof Error ? error.message : String(error);
  return new PluginError(plugin, hook, code, reason, { cause: error });
}

/** Wraps one method of a role object; other members pass through bound to the original. */
function wrapMethod<T extends object>(plugin: string, hook: string, target: T, method: string): T {
  return new Proxy(target, {
    get(t, key) {
      const value = Reflect.get(t, key, t);
      if (typeof value !== "function") return value;
      if (key !== method) return value.bind(t);
      return (...args: unknown[]) => {
        let result: unknown;
        try {
          result = value.apply(t, args);
        } catch (error) {
          throw asPluginError(plugin, hook, error);
        }
        if (result instanceof Promise) {
          return result.catch((error) => {
            throw asPluginError(plugin, hook, error);
          });
        }
        return result;
      };
    },
  });
}

function wrapFactories<F extends (...args: never[]) => unknown>(
  plugin: string,
  role: string,
  table: Record<string, F> | undefined,
): Record<string, F> | undefined {
  if (!table) return table;
  return Object.fromEntries(
    Object.entries(table).map(([name, factory]) => [
      name,
      ((...args: Parameters<F>) =>
        callHook(plugin, `${role} ${name}`, () => factory(...args))) as unknown as F,
    ]),
  );
}

function wrapObjects<T extends object>(
  plugin: string,
  role: string,
  method: string,
  table: Record<string, T> | undefined,
): Record<string, T> | undefined {
  if (!table) return table;
  return Object.fromEntries(
    Object.entries(table).map((
      [name, value],
    ) => [name, wrapMethod(plugin, `${role} ${name}`, value, method)]),
  );
}

/**
 * The roles a plugin's `create` returned, with every hook going through {@link callHook}.
 *
 * @example
 * ```ts
 * import { wrapRoles } from "./hooks.ts";
 * const roles = wrapRoles("echo", { trainers: { t: { name: "t", train: () => Promise.reject(new Error("no data")) } } });
 * await roles.trainers!.t.train({ model: "m", data: "d", out: "o" }).catch((e) => console.log(e.message));
 * // "plugin echo (trainer t): no data"
 * ```
 */
export function wrapRoles(plugin: string, roles: PluginRoles): PluginRoles {
  return {
    ...roles,
    adapters: wrapFactories(plugin, "adapter", roles.adapters),
    steerers: wrapFactories(plugin, "steerer", roles.steerers),
    backends: wrapFactories(plugin, "backend", roles.backends),
    trainers: wrapObjects(plugin, "trainer", "train", roles.trainers),
    judges: wrapObjects(plugin, "judge", "judge", roles.judges),
    simulators: wrapObjects(plugin, "simulator", "simulate", roles.simulators),
  };
}
