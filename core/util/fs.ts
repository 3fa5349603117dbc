/**
 * File-system helpers.
 *
 * @module
 */

import { type ErrorCode, withCode } from "../errors.ts";

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

/**
 * The parsed JSON of an optional file: `undefined` when there is no file, an error with `code`
 * naming the file when it is not valid JSON (any other read error is thrown as it is).
 *
 * @example
 * ```ts
 * import { readOptionalJson } from "./fs.ts";
 * console.log(await readOptionalJson("/definitely/not/here.json", "E_USAGE")); // undefined
 * ```
 */
export async function readOptionalJson(path: string, code: ErrorCode): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw withCode(
      new SyntaxError(
        `${path} is not valid JSON (${(error as Error).message}); fix or re-download it`,
      ),
      code,
    );
  }
}
