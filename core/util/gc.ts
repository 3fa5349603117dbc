/**
 * A full garbage collection on demand, at phase boundaries where a large amount of JavaScript
 * memory has just become garbage and native code is about to allocate a lot: after a graph
 * export (quantized tables, read buffers), before onnxruntime opens the session. V8 collects
 * when JavaScript allocates; native allocations do not prompt it, so without this the export's
 * garbage stays resident while the session repacks its weights (0.68 GiB at the 7B int4 shape).
 *
 * @module
 */

import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | null | undefined;

/**
 * Runs a full garbage collection where the runtime allows one (V8's `gc`, exposed once through
 * `node:v8`); returns whether it ran. Never throws.
 *
 * @example
 * ```ts
 * import { collectGarbage } from "./gc.ts";
 * let big: Uint8Array | undefined = new Uint8Array(1 << 26);
 * big = undefined;
 * collectGarbage(); // the 64 MiB are released now, not at the next allocation-driven collection
 * ```
 */
export function collectGarbage(): boolean {
  if (collect === undefined) {
    try {
      const existing = (globalThis as { gc?: () => void }).gc;
      if (typeof existing === "function") collect = existing;
      else {
        v8.setFlagsFromString("--expose-gc");
        const gc = vm.runInNewContext("gc");
        collect = typeof gc === "function" ? gc : null;
      }
    } catch {
      collect = null;
    }
  }
  if (!collect) return false;
  try {
    collect();
    return true;
  } catch {
    return false;
  }
}
