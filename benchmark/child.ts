/**
 * Benchmark points that must not share a process (peak RSS, a cold cache, another engine) run
 * as children: the module is started again with `--child <json>` and answers with one JSON line.
 *
 * @module
 */

/**
 * Runs `module` with `--child <json of payload>` in a fresh Deno process (all permissions) and
 * parses the last line of its stdout that starts with `{`; a child that fails or prints no such
 * line throws with `what` and the end of its stderr.
 *
 * @example
 * ```ts ignore
 * import { runChild } from "./child.ts";
 * const r = await runChild<{ peakRss: number }>(new URL("./quant.ts", import.meta.url), { kind: "baseline" });
 * ```
 */
export async function runChild<T>(
  module: string | URL,
  payload: unknown,
  what = "child",
): Promise<T> {
  const path = typeof module === "string" ? module : decodeURIComponent(module.pathname);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path, "--child", JSON.stringify(payload)],
    // Plain error text for the message below.
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const line = new TextDecoder().decode(out.stdout).trim().split("\n")
    .findLast((l) => l.startsWith("{"));
  if (!out.success || !line) {
    const err = new TextDecoder().decode(out.stderr).trim().slice(-800);
    throw new Error(`${what} failed (exit ${out.code}): ${err}`);
  }
  return JSON.parse(line) as T;
}

/** A field of this process's `/proc/self/status` in bytes (`VmHWM`: peak RSS); NaN if absent. */
export function procStatus(field: string): number {
  const m = Deno.readTextFileSync("/proc/self/status").match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) * 1024 : NaN;
}
