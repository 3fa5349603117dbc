/**
 * Test helper: runs the `dramatis` CLI (main.ts) in a child process, as a user would, and
 * returns its exit code and output.
 *
 * @module
 */

/** The composition root the CLI tests run. */
export const MAIN = new URL("../main.ts", import.meta.url).pathname;

/** What one CLI run gave. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run -A main.ts ...args` with `NO_COLOR=1` plus `env`, in `cwd` (default: this
 * process's), with no standard input.
 *
 * @example
 * ```ts ignore
 * import { runCli } from "../cli.ts";
 * const r = await runCli(["model", "new", dir, "--preset", "tiny-llama"]);
 * ```
 */
export async function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<CliRun> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { NO_COLOR: "1", ...env },
    ...(cwd ? { cwd } : {}),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}
