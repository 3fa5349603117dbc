/**
 * Compiling a request's constraint in a Worker, under a budget and a hard time limit, so a
 * hostile pattern never blocks the event loop (the server's `/health` keeps answering) and a
 * compilation that runs over is stopped by terminating the Worker. The compiled automaton lands
 * in {@link automatonFor}'s cache, where generation picks it up.
 *
 * @module
 */

import { withCode } from "../../errors.ts";
import { type CompileBudget, DEFAULT_BUDGET } from "./budget.ts";
import { ByteDfa, type DfaTables } from "./byte_dfa.ts";
import {
  cacheAutomaton,
  type ConstrainedRequest,
  constraintKey,
  isCompiled,
} from "./constraint_for.ts";

type Reply =
  | { ok: true; tables: DfaTables | null }
  | { ok: false; name: string; message: string; code?: string };

/**
 * Compiles the constraint of `request` off the event loop (a no-op when it has none or it is
 * cached). Rejects with the compiler's own error (a `TypeError` / `RangeError` with its code, so
 * the server answers 400 naming the limit), or a `RangeError` `E_LIMIT` when the Worker runs past
 * the budget's time limit.
 *
 * @example
 * ```ts
 * import { compileOffThread } from "./compile_off_thread.ts";
 * await compileOffThread({ constraint: { regex: "[a-z]{3}" } });
 * ```
 */
export async function compileOffThread(
  request: ConstrainedRequest,
  budget: Partial<CompileBudget> = {},
  signal?: AbortSignal,
): Promise<void> {
  const key = constraintKey(request);
  if (key === null || isCompiled(key)) return;
  const full: CompileBudget = { ...DEFAULT_BUDGET, ...budget };
  // At most MAX_WORKERS compilations run at once: hostile clients cannot fan out CPU and memory.
  while (running >= MAX_WORKERS) {
    await new Promise<void>((resolve) => waiting.push(resolve));
    signal?.throwIfAborted();
  }
  if (isCompiled(key)) return;
  running++;
  const worker = new Worker(new URL("./compile_worker.ts", import.meta.url), { type: "module" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort = () => {};
  try {
    const reply = await new Promise<Reply>((resolve, reject) => {
      onAbort = () => reject(signal?.reason);
      signal?.addEventListener("abort", onAbort, { once: true });
      if (signal?.aborted) onAbort();
      // The Worker's own clock covers compiling; this one also covers its start-up.
      timer = setTimeout(() => {
        reject(
          withCode(
            new RangeError(
              `the constraint is over the compile limit timeMs = ${full.timeMs}: compiling took ` +
                "longer than the limit; simplify it",
            ),
            "E_LIMIT",
          ),
        );
      }, full.timeMs + 2000);
      worker.onmessage = (e: MessageEvent<Reply>) => resolve(e.data);
      worker.onerror = (e) => {
        e.preventDefault();
        reject(new Error(`the constraint compiler failed: ${e.message}`));
      };
      worker.postMessage({
        request: {
          response_format: request.response_format,
          constraint: request.constraint,
          max_tokens: request.max_tokens,
        },
        budget: full,
      });
    });
    if (!reply.ok) {
      const Ctor = reply.name === "RangeError"
        ? RangeError
        : reply.name === "SyntaxError"
        ? SyntaxError
        : TypeError;
      const error = new Ctor(reply.message);
      // The compiler raises only input errors; they carry a code so the server answers 400.
      Object.assign(error, { code: reply.code ?? "E_USAGE" });
      throw error;
    }
    if (reply.tables) cacheAutomaton(key, new ByteDfa(reply.tables));
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    worker.terminate();
    running--;
    waiting.shift()?.();
  }
}

/** Compilations that may run at once. */
const MAX_WORKERS = 2;
let running = 0;
const waiting: (() => void)[] = [];
