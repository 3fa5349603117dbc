/**
 * Finds the engine's constraint compiler (JSON schema → allowed-token masks) for local judges.
 * The compiler lives in `core/model/constraint/` and exports `constraintFor(request, tokenizer)`;
 * it is looked up at run time so this plugin works (with counted null verdicts instead of
 * constrained JSON) on a core that does not ship it yet.
 *
 * @module
 */

import type { ConstraintFactory } from "../../core/chat/local_chat_model.ts";

let found: Promise<ConstraintFactory | null> | undefined;

/**
 * The `constraintFor` factory of `core/model/constraint/mod.ts`, or `null` when that module is
 * missing or exports no such function.
 *
 * @example
 * ```ts
 * import { loadConstraintFactory } from "./local_constraint.ts";
 * const constraint = await loadConstraintFactory();
 * console.log(constraint ? "local judges decode constrained JSON" : "no constraint compiler");
 * ```
 */
export function loadConstraintFactory(): Promise<ConstraintFactory | null> {
  found ??= (async () => {
    const url = new URL("../../core/model/constraint/mod.ts", import.meta.url).href;
    try {
      const mod = await import(url) as Record<string, unknown>;
      return typeof mod.constraintFor === "function"
        ? mod.constraintFor as ConstraintFactory
        : null;
    } catch {
      return null;
    }
  })();
  return found;
}
