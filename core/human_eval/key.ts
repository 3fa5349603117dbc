/**
 * Reading a human-evaluation key (`key.json`) and set files.
 *
 * @module
 */

import { withCode } from "../errors.ts";
import type { HumanEvalKey } from "./export_set.ts";
import { type HumanEvalSet, parseHumanEvalSet } from "./items.ts";

async function readJson(file: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(file);
  } catch (e) {
    throw withCode(
      new TypeError(`${file} cannot be read (${(e as Error).message}); pass ${what}`),
      "E_DATA",
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw withCode(
      new SyntaxError(`${file} is not JSON (${(e as Error).message}); pass ${what}`),
      "E_DATA",
    );
  }
}

/**
 * Reads the key an export wrote.
 *
 * @example
 * ```ts ignore
 * import { readKey } from "./key.ts";
 * const key = await readKey("runs/human/key.json");
 * ```
 */
export async function readKey(file: string): Promise<HumanEvalKey> {
  const doc = await readJson(file, "the key.json written by `human-eval export`") as HumanEvalKey;
  if (doc?.format !== "dramatis-human-eval-key" || !Array.isArray(doc.items)) {
    throw withCode(
      new TypeError(
        `${file}: field "format" is ${
          JSON.stringify((doc as { format?: unknown })?.format)
        }; pass the key.json written by \`human-eval export\``,
      ),
      "E_DATA",
    );
  }
  return doc;
}

/**
 * Reads and validates a set file (JSON).
 *
 * @example
 * ```ts ignore
 * import { readHumanEvalSet } from "./key.ts";
 * const set = await readHumanEvalSet("runs/roleplay/human_eval_set.json");
 * ```
 */
export async function readHumanEvalSet(file: string): Promise<HumanEvalSet> {
  return parseHumanEvalSet(await readJson(file, "a human-evaluation set (JSON)"), file);
}
