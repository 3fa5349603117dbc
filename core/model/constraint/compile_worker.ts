/**
 * The Worker behind {@link compileOffThread}: compiles one constraint under a budget and posts
 * back the DFA tables, or the error's message and code.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { automatonFor, type ConstrainedRequest } from "./constraint_for.ts";
import { ByteDfa } from "./byte_dfa.ts";
import { type CompileBudget, withBudget } from "./budget.ts";

self.onmessage = (event: MessageEvent<{ request: ConstrainedRequest; budget: CompileBudget }>) => {
  const { request, budget } = event.data;
  try {
    const automaton = withBudget(budget, () => automatonFor(request));
    if (automaton instanceof ByteDfa) {
      const tables = automaton.tables();
      const transfer = [tables.classOf, tables.trans, tables.accept, tables.min]
        .map((a) => a.buffer as ArrayBuffer);
      self.postMessage({ ok: true, tables }, { transfer });
    } else self.postMessage({ ok: true, tables: null });
  } catch (error) {
    const e = error as { message?: string; code?: string; name?: string };
    const overflow = error instanceof RangeError && /call stack/i.test(String(e.message));
    self.postMessage({
      ok: false,
      name: overflow ? "RangeError" : e?.name ?? "Error",
      message: overflow
        ? "the constraint nests too deeply to compile; flatten it"
        : String(e?.message ?? error),
      code: overflow ? "E_LIMIT" : e?.code,
    });
  }
};
