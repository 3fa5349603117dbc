/**
 * Test helper: runs a persona_vectors command with `--json` and returns its JSON document.
 *
 * @module
 */

import { commandContext } from "../../../core/services/plugin_context.ts";
import assert from "node:assert/strict";
import type { PluginCommand } from "../../../core/contracts/plugin.ts";
import { parseArgs } from "../../../core/host/args.ts";
import { PERSONA_VECTORS_COMMANDS } from "../commands/mod.ts";

/**
 * Runs `persona_vectors <name> <argv> --json` in-process and parses what it printed.
 *
 * @example
 * ```ts ignore
 * import { runCommand } from "./run_command.ts";
 * const out = await runCommand("cosine", ["--vector", "a.safetensors", "--vector", "b.safetensors", "--out", "runs/c"]);
 * ```
 */
export async function runCommand(name: string, argv: string[]): Promise<Record<string, unknown>> {
  const cmd = PERSONA_VECTORS_COMMANDS.find((c) => c.name === name) as PluginCommand;
  assert.ok(cmd, `no persona_vectors command ${name}`);
  const args = parseArgs([...argv, "--json"], cmd.flags ?? {}, `persona_vectors ${name}`);
  const printed: string[] = [];
  const log = console.log;
  console.log = (...xs: unknown[]) => printed.push(xs.join(" "));
  const ctx = commandContext({ json: true });
  try {
    const status = await cmd.run(args, ctx);
    assert.equal(status ?? 0, 0, `${name} exit status`);
  } finally {
    console.log = log;
    await ctx.models.close();
  }
  return JSON.parse(printed.join("\n"));
}
