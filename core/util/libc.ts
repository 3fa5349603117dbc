/**
 * The C library through Deno's FFI, where that is possible without asking for anything.
 *
 * @module
 */

/**
 * Opens the C library with `symbols` on Linux where FFI is already permitted (it never prompts);
 * null elsewhere, or when it cannot be opened. The caller closes it.
 *
 * @example
 * ```ts
 * import { openLinuxLibc } from "./libc.ts";
 * const libc = openLinuxLibc({ getpagesize: { parameters: [], result: "i32" } });
 * console.log(libc?.symbols.getpagesize() ?? "no FFI here");
 * libc?.close();
 * ```
 */
export function openLinuxLibc<S extends Deno.ForeignLibraryInterface>(
  symbols: S,
): Deno.DynamicLibrary<S> | null {
  try {
    if (Deno.build.os !== "linux") return null;
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    return Deno.dlopen(Deno.build.env === "musl" ? "libc.so" : "libc.so.6", symbols);
  } catch {
    return null;
  }
}
