/**
 * `dramatis plugins`: lists built-in and loaded plugins with their options as JSON Schema.
 *
 * @module
 */

import { z } from "zod";
import type { Plugin } from "../../contracts/plugin.ts";
import { printJson } from "../verb.ts";
import type { HostVerb } from "../verb.ts";

/** JSON Schema of a plugin's options (from zod), or a note when the schema cannot be expressed. */
export function optionsJsonSchema(plugin: Plugin): Record<string, unknown> {
  try {
    return z.toJSONSchema(plugin.options as z.ZodType, { io: "input", unrepresentable: "any" });
  } catch (error) {
    return { description: `not expressible as JSON Schema: ${(error as Error).message}` };
  }
}

/** Describes one plugin for listings. */
export function describePlugin(plugin: Plugin, source: string): Record<string, unknown> {
  return {
    name: plugin.name,
    version: plugin.version,
    description: plugin.description,
    source,
    provides: [...plugin.provides],
    options: optionsJsonSchema(plugin),
    commands: (plugin.commands ?? []).map((c) => ({
      name: c.name,
      description: c.description,
      flags: c.flags ?? {},
    })),
    routes: (plugin.routes ?? []).map((r) => ({
      method: r.method,
      path: `/plugins/${plugin.name}${r.path}`,
    })),
  };
}

/** The `plugins` verb. */
export const pluginsVerb: HostVerb = {
  name: "plugins",
  description: "List built-in and loaded plugins with the roles they provide and their options " +
    "(as JSON Schema with --json).",
  run(_args, ctx) {
    const list = ctx.registry.list().map(({ plugin, source }) => describePlugin(plugin, source));
    if (ctx.json) {
      printJson({ plugins: list });
      return 0;
    }
    if (list.length === 0) {
      console.log("No plugins registered. Load one with --plugin ./path/to/plugin.ts");
      return 0;
    }
    for (const p of list) {
      const roles = (p.provides as string[]).join(", ") || "no roles";
      console.log(`${p.name} ${p.version}  [${roles}]  (${p.source})`);
      console.log(`  ${p.description}`);
      const props = (p.options as { properties?: Record<string, { description?: string }> })
        .properties ?? {};
      for (const [key, schema] of Object.entries(props)) {
        console.log(`  option ${key}${schema.description ? `: ${schema.description}` : ""}`);
      }
      for (const c of p.commands as { name: string; description: string }[]) {
        console.log(`  command: dramatis ${p.name} ${c.name} — ${c.description}`);
      }
    }
    return 0;
  },
};
