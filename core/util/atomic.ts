/**
 * Atomic file writes: write to a temporary file in the same directory, flush it to disk, rename
 * it over the target and flush the directory, so a reader never sees a half-written result or
 * checkpoint, and a crash or power loss leaves either the old file or the new one.
 *
 * @module
 */

import { basename, dirname, join } from "node:path";

/** Flushes a directory's entries (a rename inside it) to disk; a no-op where unsupported. */
async function syncDir(dir: string): Promise<void> {
  let handle: Deno.FsFile | undefined;
  try {
    handle = await Deno.open(dir, { read: true });
    await handle.sync();
  } catch {
    /* directories cannot be opened for sync on this platform */
  } finally {
    handle?.close();
  }
}

/**
 * Writes bytes or text atomically and durably, creating parent directories.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from "./atomic.ts";
 * await writeFileAtomic("/tmp/out/result.json", JSON.stringify({ ok: true }));
 * ```
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(path);
  await Deno.mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${crypto.randomUUID()}.tmp`);
  try {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      let at = 0;
      while (at < bytes.length) at += await file.write(bytes.subarray(at));
      await file.sync();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
  await syncDir(dir);
}

/** Writes a value as pretty JSON atomically. */
export function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  return writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}

/**
 * Makes a whole folder atomically: `fill` writes into a temporary sibling folder, which is then
 * renamed into place, so the folder appears complete or not at all. When `dir` already exists,
 * it is swapped out in one rename and files `fill` did not write are carried over.
 *
 * @example
 * ```ts
 * import { writeDirAtomic, writeFileAtomic } from "./atomic.ts";
 * await writeDirAtomic("/tmp/model", async (tmp) => {
 *   await writeFileAtomic(`${tmp}/config.json`, "{}");
 *   await writeFileAtomic(`${tmp}/model.safetensors`, new Uint8Array(8));
 * });
 * ```
 */
export async function writeDirAtomic(
  dir: string,
  fill: (tmp: string) => Promise<void>,
): Promise<void> {
  const parent = dirname(dir);
  await Deno.mkdir(parent, { recursive: true });
  const id = crypto.randomUUID();
  const tmp = join(parent, `.${basename(dir)}.${id}.tmp`);
  await Deno.mkdir(tmp);
  try {
    await fill(tmp);
    await syncDir(tmp);
    const existing = await Deno.lstat(dir).catch(() => null);
    if (!existing) {
      await Deno.rename(tmp, dir);
    } else {
      if (!existing.isDirectory) {
        throw new TypeError(`${dir} exists and is not a folder; remove it or pick another path`);
      }
      const old = join(parent, `.${basename(dir)}.${id}.old`);
      await Deno.rename(dir, old);
      await Deno.rename(tmp, dir);
      for await (const entry of Deno.readDir(old)) {
        const target = join(dir, entry.name);
        // A name the new folder has is the new one's; anything else is carried over.
        if (await Deno.lstat(target).catch(() => null)) continue;
        await Deno.rename(join(old, entry.name), target);
      }
      await Deno.remove(old, { recursive: true }).catch(() => {});
    }
  } catch (error) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw error;
  }
  await syncDir(parent);
}
