/**
 * Structural checks for plugin objects and validation of plugin options, with one-line errors
 * that name the plugin, the field and the value.
 *
 * @module
 */

import type { z } from "zod";
import { PluginError } from "../errors.ts";
import { describeZodIssue } from "../util/zod_issue.ts";
import { type Plugin, PLUGIN_NAME_RULE, ROLES } from "../contracts/plugin.ts";
import { CORE_REQUEST_FIELDS, EXTENSION_NAME_RULE } from "../contracts/request_extension.ts";

function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "undefined";
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text.length > 60 ? text.slice(0, 57) + "..." : text;
  } catch { /* fall through */ }
  return typeof value;
}

/**
 * Checks that `value` has the shape of a {@link Plugin}; `source` (a path or "built-in") names
 * where it came from in errors.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { assertPlugin } from "./validate.ts";
 * const p = assertPlugin({ name: "demo", version: "1.0.0", description: "d", options: z.object({}),
 *   provides: [], create: () => ({}) }, "built-in");
 * console.log(p.name);
 * ```
 */
export function assertPlugin(value: unknown, source: string): Plugin {
  if (typeof value !== "object" || value === null) {
    throw new PluginError(
      "?",
      "load",
      "E_PLUGIN_SHAPE",
      `${source}: the default export is ${
        describe(value)
      }, not a plugin object; export default a Plugin`,
    );
  }
  const v = value as Record<string, unknown>;
  const name = typeof v.name === "string" ? v.name : "?";
  const fail = (field: string, want: string): never => {
    throw new PluginError(
      name,
      "load",
      "E_PLUGIN_SHAPE",
      `${source}: field '${field}' is ${describe(v[field])}; it must be ${want}`,
    );
  };
  if (typeof v.name !== "string") fail("name", "a string");
  if (!PLUGIN_NAME_RULE.test(name)) {
    throw new PluginError(
      name,
      "load",
      "E_PLUGIN_NAME",
      `${source}: field 'name' is ${
        describe(v.name)
      }; it must match /^[a-z][a-z0-9_]*$/ (lower-case letters, digits, '_', starting with a letter)`,
    );
  }
  if (typeof v.version !== "string" || v.version === "") fail("version", "a non-empty string");
  if (typeof v.description !== "string") fail("description", "a string");
  const options = v.options as { safeParse?: unknown } | undefined;
  if (typeof options !== "object" || options === null || typeof options.safeParse !== "function") {
    fail("options", "a zod schema");
  }
  if (!Array.isArray(v.provides) || v.provides.some((r) => !ROLES.includes(r))) {
    fail("provides", `an array of roles (${ROLES.join(", ")})`);
  }
  if (typeof v.create !== "function") fail("create", "a function (options) => roles");
  if (v.commands !== undefined) {
    if (!Array.isArray(v.commands)) fail("commands", "an array of commands");
    (v.commands as unknown[]).forEach((c, i) => {
      const cmd = c as Record<string, unknown> | null;
      if (
        typeof cmd !== "object" || cmd === null || typeof cmd.name !== "string" ||
        !/^[a-z][a-z0-9-]*$/.test(cmd.name) || typeof cmd.description !== "string" ||
        typeof cmd.run !== "function"
      ) {
        throw new PluginError(
          name,
          "load",
          "E_PLUGIN_SHAPE",
          `${source}: commands[${i}] is ${
            describe(c)
          }; a command needs name (kebab-case), description and run()`,
        );
      }
    });
  }
  if (v.routes !== undefined) {
    if (!Array.isArray(v.routes)) fail("routes", "an array of routes");
    (v.routes as unknown[]).forEach((r, i) => {
      const route = r as Record<string, unknown> | null;
      if (
        typeof route !== "object" || route === null ||
        !["GET", "POST", "PUT", "DELETE"].includes(route.method as string) ||
        typeof route.path !== "string" || !route.path.startsWith("/") ||
        typeof route.handler !== "function"
      ) {
        throw new PluginError(
          name,
          "load",
          "E_PLUGIN_SHAPE",
          `${source}: routes[${i}] is ${
            describe(r)
          }; a route needs method, a path starting with '/' and handler()`,
        );
      }
    });
  }
  if (v.requestExtensions !== undefined) {
    if (!Array.isArray(v.requestExtensions)) {
      fail("requestExtensions", "an array of request extensions");
    }
    const refuse = (i: number, why: string): never => {
      throw new PluginError(
        name,
        "load",
        "E_PLUGIN_SHAPE",
        `${source}: requestExtensions[${i}] ${why}`,
      );
    };
    (v.requestExtensions as unknown[]).forEach((e, i) => {
      const ext = e as Record<string, unknown> | null;
      const schema = ext?.schema as { safeParse?: unknown } | undefined;
      if (
        typeof ext !== "object" || ext === null || typeof ext.name !== "string" ||
        !EXTENSION_NAME_RULE.test(ext.name) || typeof ext.description !== "string" ||
        typeof schema !== "object" || schema === null || typeof schema.safeParse !== "function" ||
        !["adapter", "wrapper"].includes(ext.appliesTo as string)
      ) {
        refuse(
          i,
          `is ${describe(e)}; a request extension needs name (${EXTENSION_NAME_RULE}), ` +
            "description, a zod schema and appliesTo ('adapter' or 'wrapper')",
        );
      }
      if (CORE_REQUEST_FIELDS.includes(ext!.name as string)) {
        refuse(
          i,
          `is named '${ext!.name}', a field core already defines; give the extension another name`,
        );
      }
      if (ext!.appliesTo === "wrapper" && typeof v.wrapLocalModel !== "function") {
        refuse(
          i,
          `('${ext!.name}') is answered by a wrapper, but the plugin has no wrapLocalModel; add ` +
            "one or declare appliesTo: 'adapter'",
        );
      }
    });
  }
  return value as Plugin;
}

/**
 * Validates raw options against a plugin's schema. The error names the plugin, the first failing
 * field, its value and zod's reason.
 *
 * @example
 * ```ts
 * import { z } from "zod";
 * import { parsePluginOptions } from "./validate.ts";
 * const plugin = { name: "demo", options: z.object({ k: z.number().default(1) }) };
 * console.log(parsePluginOptions(plugin, {})); // { k: 1 }
 * ```
 */
export function parsePluginOptions<O>(
  plugin: Pick<Plugin<O>, "name" | "options">,
  raw: unknown,
): O {
  const schema = plugin.options as z.ZodType<O>;
  const result = schema.safeParse(raw ?? {});
  if (result.success) return result.data;
  const { path, value, reason } = describeZodIssue(result.error, raw);
  throw new PluginError(
    plugin.name,
    "options",
    "E_PLUGIN_OPTIONS",
    `option '${path || "(options)"}' is ${describe(value)}: ${reason}`,
  );
}
