/**
 * File and flag helpers shared by the gca commands.
 *
 * @module
 */

import { dirname } from "node:path";
import type { ParsedArgs } from "../../../core/contracts/plugin.ts";
import { UsageError, withCode } from "../../../core/errors.ts";
import { parseJsonText } from "../../../core/train/chat_data.ts";

/**
 * Reads a JSON file; a missing or malformed file is an `E_DATA` error naming the flag.
 *
 * @example
 * ```ts ignore
 * import { readJsonFile } from "./io.ts";
 * const records = await readJsonFile("plugins/gca/data/test_records.json", "--records");
 * ```
 */
export async function readJsonFile(path: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw withCode(
      new TypeError(`${flag} ${path} cannot be read (${(error as Error).message}); check the path`),
      "E_DATA",
    );
  }
  return parseJsonText(
    text,
    path,
    flag,
    "a truncated copy is the usual cause: fetch or write the file again",
  );
}

/**
 * Writes JSON atomically (a temporary file renamed into place), creating the folder.
 *
 * @example
 * ```ts ignore
 * import { writeJsonFile } from "./io.ts";
 * await writeJsonFile("runs/gca/sims.json", { simulations: [] });
 * ```
 */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeTextFile(tmp, JSON.stringify(value, null, 2) + "\n");
  await Deno.rename(tmp, path);
}

/** A string flag's value, or the fallback; throws a UsageError when required and absent. */
export function stringFlag(
  args: ParsedArgs,
  name: string,
  command: string,
  fallback?: string,
): string {
  const v = args.flags[name];
  if (typeof v === "string" && v !== "") return v;
  if (fallback !== undefined) return fallback;
  throw new UsageError(`gca ${command}: --${name} is required; see 'gca ${command} --help'`);
}

/** An optional string flag. */
export function optionalString(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  return typeof v === "string" && v !== "" ? v : undefined;
}

/** A numeric flag (must be a whole number ≥ `min`) or the fallback. */
export function intFlag(
  args: ParsedArgs,
  name: string,
  command: string,
  fallback: number,
  min = 0,
): number {
  const v = args.flags[name];
  if (v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < min) {
    throw new UsageError(`gca ${command}: --${name} is ${v}; pass a whole number >= ${min}`);
  }
  return v;
}
