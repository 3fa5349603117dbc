/**
 * Reading and writing persona-vector files on disk, and the named-vector registry that steering
 * entries may refer to instead of a path.
 *
 * @module
 */

import { dirname } from "node:path";
import { withCode } from "../errors.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import {
  decodeVectorFile,
  encodeVectorFile,
  type LayerVectors,
  type VectorMetadata,
} from "./vector_file.ts";

const registry = new Map<string, LayerVectors>();

/**
 * Registers an in-memory vector under a name that steering entries can use as `vector`.
 *
 * @example
 * ```ts
 * import { registerVector, loadVectorFile } from "./vector_io.ts";
 * registerVector("calm", { rows: 2, cols: 1, data: new Float32Array([0, 1]) });
 * console.log((await loadVectorFile("calm")).rows); // 2
 * ```
 */
export function registerVector(name: string, vector: LayerVectors): void {
  if (vector.data.length !== vector.rows * vector.cols) {
    throw new RangeError(
      `vector "${name}" has ${vector.data.length} values, expected rows·cols = ${
        vector.rows * vector.cols
      }`,
    );
  }
  registry.set(name, vector);
}

/** Removes a registered vector (returns whether one was there). */
export function unregisterVector(name: string): boolean {
  return registry.delete(name);
}

/**
 * Reads a persona-vector file and its metadata.
 *
 * @example
 * ```ts
 * import { readVectorFile } from "./vector_io.ts";
 * const { vector, metadata } = await readVectorFile("runs/optimistic_response_avg_diff.safetensors");
 * console.log(vector.rows, metadata.trait);
 * ```
 */
export async function readVectorFile(
  path: string,
): Promise<{ vector: LayerVectors; metadata: Record<string, string> }> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw withCode(
      new TypeError(
        `persona vector "${path}" cannot be read (${(e as Error).message}); pass the path of a ` +
          "vector file written by 'persona_vectors extract', or a registered vector name",
      ),
      "E_WEIGHTS",
    );
  }
  return decodeVectorFile(bytes);
}

/**
 * Loads a vector by registered name or file path as `{data, rows, cols}` (`[L+1, d]`, row-major),
 * the shape `SteeringContext.loadVector` returns.
 *
 * @example
 * ```ts
 * import { loadVectorFile } from "./vector_io.ts";
 * const v = await loadVectorFile("runs/optimistic_response_avg_diff.safetensors");
 * console.log(v.rows, v.cols);
 * ```
 */
export async function loadVectorFile(path: string): Promise<LayerVectors> {
  const named = registry.get(path);
  if (named) return named;
  return (await readVectorFile(path)).vector;
}

/**
 * Writes a vector file atomically (creating the folder).
 *
 * @example
 * ```ts
 * import { saveVectorFile } from "./vector_io.ts";
 * await saveVectorFile("/tmp/v.safetensors", { rows: 1, cols: 2, data: new Float32Array([1, 2]) },
 *   { model: "m", trait: "t", type: "response_avg", n_pos: 1, n_neg: 1, threshold: 50 });
 * ```
 */
export async function saveVectorFile(
  path: string,
  vector: LayerVectors,
  metadata: VectorMetadata,
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, encodeVectorFile(vector, metadata));
}

/**
 * The upstream file name of a vector: `{trait}_{type}_diff.safetensors`.
 *
 * @example
 * ```ts
 * import { vectorFileName } from "./vector_io.ts";
 * console.log(vectorFileName("optimistic", "response_avg")); // "optimistic_response_avg_diff.safetensors"
 * ```
 */
export function vectorFileName(trait: string, type: string): string {
  return `${trait}_${type}_diff.safetensors`;
}
