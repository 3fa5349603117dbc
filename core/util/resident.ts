/**
 * Handing back this process's resident pages of memory-mapped files (onnxruntime maps a graph's
 * external data file, and keeps part of it mapped after the session opens).
 *
 * @module
 */

/** `madvise` advice: reclaim the pages now (Linux 5.4+). */
const MADV_PAGEOUT = 21;

type Libc = Deno.DynamicLibrary<{
  madvise: { parameters: ["pointer", "usize", "i32"]; result: "i32" };
}>;
let libc: Libc | null | undefined;

function openLibc(): Libc | null {
  if (libc !== undefined) return libc;
  libc = null;
  try {
    if (Deno.build.os !== "linux") return null;
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const maps = Deno.permissions.querySync({ name: "read", path: "/proc/self/maps" });
    if (maps.state !== "granted") return null;
    libc = Deno.dlopen(Deno.build.env === "musl" ? "libc.so" : "libc.so.6", {
      madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
    }) as Libc;
  } catch {
    libc = null;
  }
  return libc;
}

/** What {@link pageOutMappedFiles} went over. */
export interface PagedOut {
  /** Mappings of matching files that the kernel was asked to reclaim. */
  mappings: number;
  /** Their length in bytes (mapped, not necessarily resident before). */
  mappedBytes: number;
}

/**
 * Asks the kernel to reclaim the resident pages of every mapping of a file (by its path and the
 * file offset the mapping starts at) that `match` accepts: `madvise(MADV_PAGEOUT)`. The mappings
 * stay, and nothing can be lost: a clean file page is dropped and read again from the file when
 * touched; a page only this process changed is kept (or swapped out where swap exists); a page
 * another process also maps is left alone. What it saves is resident memory a process would
 * otherwise keep, such as weights a kernel has already repacked into a copy of its own. A page
 * read again comes from the file, not memory, so use it for pages that are seldom read again.
 *
 * Linux 5.4+ only, and only where FFI and reading `/proc/self/maps` are already permitted (it
 * never prompts); elsewhere returns undefined and changes nothing.
 *
 * @example
 * ```ts
 * import { pageOutMappedFiles } from "./resident.ts";
 * const r = pageOutMappedFiles((path) => path.endsWith("/weights.bin"));
 * console.log(r?.mappings ?? "not supported here");
 * ```
 */
export function pageOutMappedFiles(
  match: (path: string, fileOffset: number) => boolean,
): PagedOut | undefined {
  const lib = openLibc();
  if (!lib) return undefined;
  let maps: string;
  try {
    maps = Deno.readTextFileSync("/proc/self/maps");
  } catch {
    return undefined;
  }
  const out: PagedOut = { mappings: 0, mappedBytes: 0 };
  for (const line of maps.split("\n")) {
    // start-end perms offset dev inode path
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \d+\s+(\/.*)$/.exec(line);
    if (!m || !match(m[4], parseInt(m[3], 16))) continue;
    const start = BigInt("0x" + m[1]);
    const length = BigInt("0x" + m[2]) - start;
    if (lib.symbols.madvise(Deno.UnsafePointer.create(start), length, MADV_PAGEOUT) !== 0) {
      // An older kernel (EINVAL) or a mapping gone meanwhile: nothing to do.
      continue;
    }
    out.mappings++;
    out.mappedBytes += Number(length);
  }
  return out;
}
