/**
 * Entry point of `deno task dramatis`: the composition root. It hands the built-in plugins
 * (`plugins/mod.ts`) and the `bench` verb (`benchmark/`) to the host CLI, so core imports neither.
 *
 * @example
 * ```ts ignore
 * import { main } from "./main.ts";
 * const status = await main(["plugins", "--json"]);
 * ```
 *
 * @module
 */

import { main as hostMain } from "./core/host/cli.ts";
import { benchVerb } from "./benchmark/bench_verb.ts";
import { builtinPlugins } from "./plugins/mod.ts";

/** Runs the CLI with the built-in plugins and every verb; returns the exit status. */
export function main(argv: string[]): Promise<number> {
  return hostMain(argv, { plugins: builtinPlugins, verbs: [benchVerb] });
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
