/**
 * {@link VectorSource}: how steering vectors named in requests and personas are read. By default
 * a reference is a file path or a registered name; a server confines references to ids inside
 * its `--vectors` directory by giving a `locate` function.
 *
 * @module
 */

import { basename } from "node:path";
import type { LayerVectors } from "./vector_file.ts";
import { loadVectorFile } from "./vector_io.ts";

/** Reads vectors by reference and names the results reported for them. */
export interface VectorSource {
  /** Reads a vector `[L+1, d]` by reference. */
  load(ref: string): Promise<LayerVectors>;
  /** The key results for this reference are reported under (projections). */
  key(ref: string): string;
}

/**
 * The vector source over files and registered names, or over ids that `locate` maps to files.
 *
 * @example
 * ```ts
 * import { vectorSource } from "./vector_source.ts";
 * console.log(vectorSource().key("runs/optimistic_response_avg_diff.safetensors")); // "optimistic_response_avg_diff"
 * console.log(vectorSource(async (id) => `/v/${id}.safetensors`).key("calm")); // "calm"
 * ```
 */
export function vectorSource(locate?: (id: string) => Promise<string>): VectorSource {
  if (!locate) {
    return {
      load: loadVectorFile,
      key: (ref) => basename(ref).replace(/\.safetensors$/, ""),
    };
  }
  return { load: async (id) => loadVectorFile(await locate(id)), key: (id) => id };
}
