/**
 * Content hashes of dataset files and folders, so that editing a dataset reruns the steps that
 * read it. Folders hash their sorted file names with each file's content hash.
 *
 * @module
 */

import { join } from "node:path";

async function fileHash(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * SHA-256 of a file's bytes, or of a folder's tree (names and file hashes).
 *
 * @example
 * ```ts
 * import { contentHash } from "./content_hash.ts";
 * console.log(await contentHash("./data/prompts.jsonl"));
 * ```
 */
export async function contentHash(path: string): Promise<string> {
  const info = await Deno.stat(path);
  if (info.isFile) return await fileHash(path);
  const entries: string[] = [];
  for await (const e of Deno.readDir(path)) entries.push(e.name);
  entries.sort();
  const parts: string[] = [];
  for (const name of entries) parts.push(`${name}:${await contentHash(join(path, name))}`);
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(parts.join("\n")));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
