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
  env: Record<string, string> = {},
): Promise<T> {
  const path = typeof module === "string" ? module : decodeURIComponent(module.pathname);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", path, "--child", JSON.stringify(payload)],
    // Plain error text for the message below.
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const line = new TextDecoder().decode(out.stdout).trim().split("\n")
    .findLast((l) => l.startsWith("{"));
  if (!out.success || !line) {
    // A child run by childMain prints its error's message; else the end of its stderr.
    const said = line ? (JSON.parse(line) as { error?: string }).error : undefined;
    const err = said ?? new TextDecoder().decode(out.stderr).trim().slice(-800);
    throw new Error(`${what} failed (exit ${out.code}): ${err}`);
  }
  return JSON.parse(line) as T;
}

/**
 * The child side of {@link runChild}: when this process was started with `--child <json>`, runs
 * `fn` on the payload, prints its result as one JSON line and exits 0, or prints
 * `{"error": message}` and exits 1 (the message, not only the end of a stack, reaches the parent).
 *
 * @example
 * ```ts ignore
 * import { childMain } from "./child.ts";
 * if (import.meta.main) await childMain(async (t: { n: number }) => ({ twice: 2 * t.n }));
 * ```
 */
export async function childMain<T>(fn: (payload: T) => Promise<unknown>): Promise<void> {
  if (Deno.args[0] !== "--child") return;
  try {
    console.log(JSON.stringify(await fn(JSON.parse(Deno.args[1]) as T)));
    // Done: handles a library leaves open (llama.cpp's) must not keep the child alive.
    Deno.exit(0);
  } catch (e) {
    const message = e instanceof Error ? `${e.message}${errorCause(e)}` : String(e);
    console.error(e);
    console.log(JSON.stringify({ error: message }));
    Deno.exit(1);
  }
}

function errorCause(e: Error): string {
  return e.cause instanceof Error ? ` (cause: ${e.cause.message})` : "";
}

/** A field of this process's `/proc/self/status` in bytes (`VmHWM`: peak RSS); NaN if absent. */
export function procStatus(field: string): number {
  const m = Deno.readTextFileSync("/proc/self/status").match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return m ? Number(m[1]) * 1024 : NaN;
}
