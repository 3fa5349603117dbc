/**
 * Test helper: one engine cache (`DRAMATIS_CACHE`) for the in-process end-to-end tests of a test
 * run. `deno test --parallel` runs test modules in one process, where `DRAMATIS_CACHE` is one
 * variable: a test that pointed it at its own temporary folder, and deleted that folder when it
 * finished, pulled the cache from under the engines of the tests running beside it (a graph's
 * `weights.bin` vanished mid-load). All such tests now point it at the same folder for the whole
 * process, `.cache/test/<pid>/` in the repository (ignored by git), and none removes it; folders of
 * earlier runs whose process is gone are removed when a run starts using the cache.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { join } from "node:path";

/**
 * Points `DRAMATIS_CACHE` at this process's shared test cache (creating it) and returns its path.
 *
 * @example
 * ```ts ignore
 * import { sharedTestCache } from "../test_cache.ts";
 * const cache = sharedTestCache(); // pass it on to child processes that should share graphs
 * ```
 */
export function sharedTestCache(): string {
  const base = fileURLToPath(new URL("../.cache/test", import.meta.url));
  const dir = join(base, String(Deno.pid));
  Deno.mkdirSync(dir, { recursive: true });
  if (Deno.build.os === "linux") {
    for (const e of Deno.readDirSync(base)) {
      if (!/^\d+$/.test(e.name) || e.name === String(Deno.pid)) continue;
      let alive = true;
      try {
        Deno.statSync(`/proc/${e.name}`);
      } catch {
        alive = false;
      }
      if (!alive) {
        try {
          Deno.removeSync(join(base, e.name), { recursive: true });
        } catch { /* another test removed it first */ }
      }
    }
  }
  Deno.env.set("DRAMATIS_CACHE", dir);
  return dir;
}
