/**
 * Command-line parsing against a flag specification, and `--help` text generated from the same
 * specification so the two never disagree.
 *
 * @module
 */

import { UsageError } from "../errors.ts";
import type { FlagSpec, ParsedArgs, PluginCommand } from "../contracts/plugin.ts";

/** Flags every command accepts. */
export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  json: { type: "boolean", description: "print one JSON document on stdout (machine output)" },
  help: { type: "boolean", description: "show this help" },
  plugin: {
    type: "string",
    multiple: true,
    description: "load a third-party plugin (file path or URL; repeatable)",
  },
};

/**
 * Parses `argv` against `flags` (plus {@link GLOBAL_FLAGS}). `command` names the command in errors.
 *
 * @example
 * ```ts
 * import { parseArgs } from "./args.ts";
 * const a = parseArgs(["--seed", "3", "x"], { seed: { type: "number", description: "seed" } }, "demo");
 * console.log(a.flags.seed, a.positionals); // 3 ["x"]
 * ```
 */
export function parseArgs(
  argv: string[],
  flags: Record<string, FlagSpec>,
  command: string,
): ParsedArgs {
  const spec = { ...GLOBAL_FLAGS, ...flags };
  const out: ParsedArgs["flags"] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      out.help = true;
      continue;
    }
    if (!arg.startsWith("--") || arg === "--") {
      positionals.push(arg);
      continue;
    }
    let name = arg.slice(2);
    let inline: string | undefined;
    const eq = name.indexOf("=");
    if (eq >= 0) {
      inline = name.slice(eq + 1);
      name = name.slice(0, eq);
    }
    let negated = false;
    if (!(name in spec) && name.startsWith("no-") && spec[name.slice(3)]?.type === "boolean") {
      name = name.slice(3);
      negated = true;
    }
    const f = spec[name];
    if (!f) {
      throw new UsageError(
        `${command}: unknown flag --${name}; run '${command} --help' for the flags it takes`,
      );
    }
    if (f.type === "boolean") {
      if (inline !== undefined && !["true", "false"].includes(inline)) {
        throw new UsageError(`${command}: --${name}=${inline} is not true or false`);
      }
      out[name] = negated ? false : inline !== "false";
      continue;
    }
    const raw = inline ?? argv[++i];
    if (raw === undefined) {
      throw new UsageError(`${command}: --${name} needs a value (${f.description})`);
    }
    let value: string | number = raw;
    if (f.type === "number") {
      value = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(value)) {
        throw new UsageError(`${command}: --${name} is '${raw}', which is not a number`);
      }
    }
    if (f.choices && !f.choices.includes(String(value))) {
      throw new UsageError(
        `${command}: --${name} is '${raw}'; choose one of ${f.choices.join(", ")}`,
      );
    }
    if (f.multiple) {
      const prev = out[name];
      out[name] = [...(Array.isArray(prev) ? prev : []), String(value)];
    } else out[name] = value;
  }
  for (const [name, f] of Object.entries(spec)) {
    if (out[name] === undefined && f.default !== undefined) out[name] = f.default;
  }
  if (!out.help) {
    for (const [name, f] of Object.entries(spec)) {
      if (f.required && out[name] === undefined) {
        throw new UsageError(`${command}: --${name} is required (${f.description})`);
      }
    }
  }
  return { flags: out, positionals };
}

/**
 * Renders the `--help` text of a command.
 *
 * @example
 * ```ts
 * import { formatHelp } from "./args.ts";
 * console.log(formatHelp("dramatis demo", { name: "demo", description: "Demo.", run() {} }));
 * ```
 */
export function formatHelp(
  path: string,
  command: Pick<PluginCommand, "description" | "positionals" | "flags">,
  extra = "",
): string {
  const flags = { ...(command.flags ?? {}), ...GLOBAL_FLAGS };
  const usage = [path, ...(command.positionals ?? []), "[flags]"].join(" ");
  const rows = Object.entries(flags).map(([name, f]) => {
    const left = `--${name}${f.type === "boolean" ? "" : ` <${f.type}>`}`;
    const notes = [
      f.required ? "required" : "",
      f.default !== undefined ? `default: ${f.default}` : "",
      f.choices ? `one of: ${f.choices.join(", ")}` : "",
      f.multiple ? "repeatable" : "",
    ].filter(Boolean).join("; ");
    return `  ${left.padEnd(26)} ${f.description}${notes ? ` (${notes})` : ""}`;
  });
  return [
    `Usage: ${usage}`,
    "",
    command.description,
    "",
    "Flags:",
    ...rows,
    ...(extra ? ["", extra] : []),
  ].join("\n");
}
