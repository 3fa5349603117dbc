/**
 * The persona store: one JSON file per persona (`<name>.json`) in a directory, validated with
 * the Persona schema on every read and write, written atomically.
 *
 * @module
 */

import { basename, join } from "node:path";
import type { z } from "zod";
import { type Persona, PersonaSchema } from "../contracts/persona.ts";
import { withCode } from "../errors.ts";
import { writeFileAtomic } from "../util/atomic.ts";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Longest persona name (it is a file name). */
const MAX_NAME = 128;
/** Largest persona file read or written (1 MiB). */
export const MAX_PERSONA_BYTES = 1 << 20;

/** A persona validation error: names the source, the field (`param`) and what is wrong. */
export interface PersonaError extends TypeError {
  code: "E_CONFIG";
  /** Dotted path of the first failing field, e.g. `steering.0.layer`. */
  param: string | null;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.map(String).join(".") || "(root)";
  return `field ${path}: ${issue.message}`;
}

/**
 * Validates a persona, with errors that name the source and the field.
 *
 * @example
 * ```ts
 * import { parsePersona } from "./persona_store.ts";
 * const p = parsePersona({ name: "ada", model: "./tiny" }, "request body");
 * console.log(p.user_name); // "User"
 * ```
 */
export function parsePersona(value: unknown, source: string): Persona {
  const result = PersonaSchema.safeParse(value);
  if (result.success) return result.data;
  const issues = result.error.issues;
  const error = new TypeError(
    `${source}: invalid persona, ${issues.map(formatIssue).join("; ")}; fix the field and retry`,
  );
  const param = issues[0]?.path.map(String).join(".") || null;
  throw Object.assign(withCode(error, "E_CONFIG"), { param }) as PersonaError;
}

/**
 * Checks a persona name before it becomes a file name.
 *
 * @example
 * ```ts
 * import { assertPersonaName } from "./persona_store.ts";
 * assertPersonaName("ada-2"); // fine; "../x" would throw a RangeError
 * ```
 */
export function assertPersonaName(name: string): void {
  if (typeof name !== "string" || name.length > MAX_NAME || !NAME.test(name)) {
    const error = new RangeError(
      `persona name ${
        JSON.stringify(name)
      } is not allowed; use up to ${MAX_NAME} letters, digits, '.', '_' or '-', ` +
        "starting with a letter or digit",
    );
    throw Object.assign(withCode(error, "E_CONFIG"), { param: "name" });
  }
}

/**
 * Personas kept as JSON files in one directory.
 *
 * @example
 * ```ts
 * import { PersonaStore } from "./persona_store.ts";
 * const store = new PersonaStore("./personas");
 * await store.put({ name: "ada", model: "./tiny", system_prompt: "You are {{char}}." });
 * console.log((await store.list()).map((p) => p.name));
 * ```
 */
export class PersonaStore {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /** The file of a persona. */
  path(name: string): string {
    assertPersonaName(name);
    return join(this.dir, `${name}.json`);
  }

  async #read(file: string, expected?: string): Promise<Persona> {
    // Error messages name the file by its base name only: they may reach a client.
    const shown = `persona file ${basename(file)}`;
    const info = await Deno.lstat(file);
    if (!info.isFile || info.size > MAX_PERSONA_BYTES) {
      throw withCode(
        new RangeError(
          `${shown} is ${
            info.isFile ? `${info.size} bytes, over ${MAX_PERSONA_BYTES}` : "not a regular file"
          }; replace it with a persona JSON file`,
        ),
        "E_CONFIG",
      );
    }
    const text = await Deno.readTextFile(file);
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw withCode(
        new SyntaxError(
          `${shown}: not valid JSON (${(error as Error).message}); fix or delete the file`,
        ),
        "E_CONFIG",
      );
    }
    const persona = parsePersona(raw, shown);
    if (expected !== undefined && persona.name !== expected) {
      throw withCode(
        new TypeError(
          `${shown}: field name is ${JSON.stringify(persona.name)} but the file is named for ` +
            `${JSON.stringify(expected)}; rename the file or the persona`,
        ),
        "E_CONFIG",
      );
    }
    return persona;
  }

  /** Names of the stored personas, sorted. A missing directory holds none. */
  async names(): Promise<string[]> {
    const names: string[] = [];
    try {
      for await (const entry of Deno.readDir(this.dir)) {
        if (entry.isFile && entry.name.endsWith(".json") && !entry.name.startsWith(".")) {
          names.push(entry.name.slice(0, -5));
        }
      }
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return [];
      throw error;
    }
    return names.sort();
  }

  /**
   * Every persona, sorted by name. An invalid file fails the whole listing with its name, unless
   * `onInvalid` is given: then it is told about the file and the listing goes on without it.
   */
  async list(onInvalid?: (name: string, error: unknown) => void): Promise<Persona[]> {
    const out: Persona[] = [];
    for (const name of await this.names()) {
      try {
        out.push(await this.#read(join(this.dir, `${name}.json`), name));
      } catch (error) {
        if (!onInvalid || error instanceof Deno.errors.NotFound) {
          if (error instanceof Deno.errors.NotFound) continue;
          throw error;
        }
        onInvalid(name, error);
      }
    }
    return out;
  }

  /** One persona, or undefined when there is no such file. */
  async get(name: string): Promise<Persona | undefined> {
    const file = this.path(name);
    try {
      return await this.#read(file, name);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  }

  /** Whether a persona file exists. */
  async has(name: string): Promise<boolean> {
    try {
      await Deno.stat(this.path(name));
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }

  /** Validates and writes a persona (creating or replacing it); returns it with defaults. */
  async put(value: unknown): Promise<Persona> {
    const persona = parsePersona(value, "persona");
    const text = JSON.stringify(persona, null, 2) + "\n";
    if (text.length > MAX_PERSONA_BYTES) {
      throw withCode(
        new RangeError(
          `persona ${persona.name} serializes to ${text.length} bytes, over ${MAX_PERSONA_BYTES}; ` +
            "shorten its prompt or metadata",
        ),
        "E_LIMIT",
      );
    }
    await writeFileAtomic(this.path(persona.name), text);
    return persona;
  }

  /** Deletes a persona; false when it did not exist. */
  async delete(name: string): Promise<boolean> {
    try {
      await Deno.remove(this.path(name));
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  }
}
