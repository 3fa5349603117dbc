/**
 * File-system helpers.
 *
 * @module
 */

/**
 * Whether something exists at `path`. Only "not found" means no; any other error (permission,
 * a broken mount) is thrown rather than read as absence.
 *
 * @example
 * ```ts
 * import { pathExists } from "./fs.ts";
 * console.log(await pathExists("/definitely/not/here")); // false
 * ```
 */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
