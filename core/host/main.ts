/**
 * Entry point of `deno task dramatis`.
 *
 * @module
 */

import { main } from "./cli.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
