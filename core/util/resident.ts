/**
 * Handing back this process's resident pages of memory-mapped files (onnxruntime maps a graph's
 * external data file, and keeps part of it mapped after the session opens).
 *
 * @module
 */

import { openLinuxLibc } from "./libc.ts";

/** `madvise` advice: reclaim the pages now (Linux 5.4+). */
const MADV_PAGEOUT = 21;
/** `errno` of a kernel that does not know the advice. */
const EINVAL = 22;

const SYMBOLS = {
  madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  getpagesize: { parameters: [], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;
let libc: Deno.DynamicLibrary<typeof SYMBOLS> | null | undefined;
let pageSize = 4096;

function openLibc(): Deno.DynamicLibrary<typeof SYMBOLS> | null {
  if (libc !== undefined) return libc;
  const maps = Deno.permissions.querySync({ name: "read", path: "/proc/self/maps" });
  libc = maps.state === "granted" ? openLinuxLibc(SYMBOLS) : null;
  if (libc) pageSize = libc.symbols.getpagesize();
  return libc;
}

/** A mapping of a file, as a line of `/proc/<pid>/maps` gives it. */
export interface FileMapping {
  /** First and one-past-last address. */
  start: bigint;
  end: bigint;
  /** File offset of `start`. */
  offset: number;
  path: string;
}

/**
 * The file mapping a line of `/proc/<pid>/maps` (or a mapping's head line in `smaps`) describes;
 * undefined for anonymous and special mappings.
 *
 * @example
 * ```ts
 * import { parseMapsLine } from "./resident.ts";
 * const m = parseMapsLine("7f00a000-7f00c000 r--p 00010000 fe:00 42    /tmp/w.bin");
 * console.log(m?.offset, m?.path); // 65536 "/tmp/w.bin"
 * ```
 */
export function parseMapsLine(line: string): FileMapping | undefined {
  const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ ([0-9a-f]+) \S+ \d+\s+(\/.*)$/.exec(line);
  if (!m) return undefined;
  return {
    start: BigInt("0x" + m[1]),
    end: BigInt("0x" + m[2]),
    offset: parseInt(m[3], 16),
    path: m[4],
  };
}

/** Byte ranges `[start, end)` of files, sorted by start and not overlapping, by file path. */
export type FileRanges = ReadonlyMap<string, readonly (readonly [number, number])[]>;

/** What {@link pageOutMappedFiles} asked the kernel to reclaim. */
export interface PagedOut {
  /** Address ranges advised (a mapping may hold several). */
  ranges: number;
  /** Their length in bytes (mapped, not necessarily resident before). */
  bytes: number;
}

/**
 * Asks the kernel to reclaim this process's resident pages of the given byte ranges of files,
 * wherever the process maps them (a mapping may hold several ranges, or part of one):
 * `madvise(MADV_PAGEOUT)`, each range widened to whole pages. The mappings stay, and nothing can
 * be lost: a clean page of the file is dropped from memory and read again from the file when
 * touched; a page this process changed is kept (or swapped out where swap exists); a page that is
 * mapped more than once (by another process, or twice by this one) is left alone, as are the file
 * pages of a file this process neither owns nor may write (the kernel's rule). A page not yet
 * written back to disk is unmapped from this process but stays in the page cache until it is. The
 * kernel works on whole folios, so a range that covers part of a large folio may take the rest of
 * it too. So use it for pages that are seldom read again: a page read again comes from the file,
 * not memory.
 *
 * Linux 5.4+ only, and only where FFI and reading `/proc/self/maps` are already permitted (it
 * never prompts); elsewhere returns undefined and changes nothing.
 *
 * @example
 * ```ts
 * import { pageOutMappedFiles } from "./resident.ts";
 * const r = pageOutMappedFiles(new Map([["/tmp/weights.bin", [[0, 1 << 20]]]]));
 * console.log(r?.ranges ?? "not supported here");
 * ```
 */
export function pageOutMappedFiles(files: FileRanges): PagedOut | undefined {
  const lib = openLibc();
  if (!lib) return undefined;
  let maps: string;
  try {
    maps = Deno.readTextFileSync("/proc/self/maps");
  } catch {
    return undefined;
  }
  const page = BigInt(pageSize);
  const out: PagedOut = { ranges: 0, bytes: 0 };
  for (const line of maps.split("\n")) {
    const m = parseMapsLine(line);
    const ranges = m && files.get(m.path);
    if (!m || !ranges) continue;
    const mapEnd = m.offset + Number(m.end - m.start);
    // The first range that ends past the mapping's start.
    let lo = 0;
    let hi = ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ranges[mid][1] <= m.offset) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < ranges.length && ranges[i][0] < mapEnd; i++) {
      const from = Math.max(ranges[i][0], m.offset);
      const to = Math.min(ranges[i][1], mapEnd);
      if (to <= from) continue;
      const a = (m.start + BigInt(from - m.offset)) / page * page;
      const b = (m.start + BigInt(to - m.offset) + page - 1n) / page * page;
      if (lib.symbols.madvise(Deno.UnsafePointer.create(a), b - a, MADV_PAGEOUT) !== 0) {
        const errno = new Deno.UnsafePointerView(lib.symbols.__errno_location()!).getInt32();
        // A kernel without the advice: nothing will ever come of asking.
        if (errno === EINVAL) {
          lib.close();
          libc = null;
          return undefined;
        }
        // A mapping gone meanwhile: nothing to do.
        continue;
      }
      out.ranges++;
      out.bytes += Number(b - a);
    }
  }
  return out;
}
