/**
 * Reads an experiment file (JSON, or a TS/JS module whose default export is the object) and parses
 * it with the experiment schema. Relative paths inside it resolve against the file's folder.
 *
 * @module
 */

import { dirname, extname, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { withCode } from "../errors.ts";
import { zodConfigError } from "./config_error.ts";
import { type Experiment, ExperimentSchema } from "./experiment_schema.ts";

/** A parsed experiment with where it came from. */
export interface LoadedExperiment {
  experiment: Experiment;
  /** The raw object as written (kept for error messages). */
  raw: unknown;
  /** The file path or a label such as `(inline)`. */
  source: string;
  /** The folder relative paths resolve against. */
  baseDir: string;
}

/**
 * Parses an experiment object; errors name the step id, the field and the value.
 *
 * @example
 * ```ts
 * import { parseExperiment } from "./load_experiment.ts";
 * const e = parseExperiment({ name: "x", steps: [{ id: "a", kind: "custom", plugin: "p" }] }, "(inline)");
 * console.log(e.steps[0].concurrency); // 1
 * ```
 */
export function parseExperiment(raw: unknown, source: string): Experiment {
  const result = ExperimentSchema.safeParse(raw);
  if (!result.success) throw zodConfigError(source, raw, result.error);
  return result.data;
}

/**
 * Loads and parses an experiment file.
 *
 * @example
 * ```ts
 * import { loadExperimentFile } from "./load_experiment.ts";
 * const { experiment, baseDir } = await loadExperimentFile("./examples/quickstart.json");
 * console.log(experiment.name, baseDir);
 * ```
 */
export async function loadExperimentFile(path: string): Promise<LoadedExperiment> {
  const abs = resolve(path);
  const ext = extname(abs).toLowerCase();
  let raw: unknown;
  if (ext === ".json") {
    let text: string;
    try {
      text = await Deno.readTextFile(abs);
    } catch (error) {
      throw withCode(
        new TypeError(
          `experiment file ${path} cannot be read (${(error as Error).message}); check the path`,
        ),
        "E_CONFIG",
      );
    }
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw withCode(
        new SyntaxError(`experiment file ${path} is not valid JSON: ${(error as Error).message}`),
        "E_CONFIG",
      );
    }
  } else if ([".ts", ".js", ".mts", ".mjs"].includes(ext)) {
    let module: Record<string, unknown>;
    try {
      module = await import(pathToFileURL(abs).href);
    } catch (error) {
      throw withCode(
        new TypeError(
          `experiment module ${path} cannot be imported (${
            (error as Error).message.split("\n")[0]
          }); check the path and its imports`,
        ),
        "E_CONFIG",
      );
    }
    if (!("default" in module)) {
      throw withCode(
        new TypeError(`experiment module ${path} has no default export; export default the object`),
        "E_CONFIG",
      );
    }
    raw = module.default;
  } else {
    throw withCode(
      new TypeError(`experiment file ${path} has extension '${ext}'; use .json or .ts`),
      "E_CONFIG",
    );
  }
  return { experiment: parseExperiment(raw, path), raw, source: path, baseDir: dirname(abs) };
}
