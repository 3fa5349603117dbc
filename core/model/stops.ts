/**
 * Incremental stop-string detection over streamed text. Text arrives in pieces (one per decoded
 * token); a stop string may straddle pieces. The detector emits only text that can no longer be
 * part of a stop string: it holds back the longest tail that is a prefix of some stop string, so a
 * stream never shows text past (or a partial copy of) a stop. The stop string itself is never
 * emitted, as in the OpenAI API.
 *
 * @module
 */

import { withCode } from "../errors.ts";

/** Result of pushing one piece of text. */
export interface StopStep {
  /** Text that is now safe to emit (may be empty). */
  text: string;
  /** True when a stop string was found; `text` then ends right before it. */
  stopped: boolean;
  /** The stop string that matched, when `stopped`. */
  stop?: string;
}

/**
 * Watches streamed text for stop strings.
 *
 * @example
 * ```ts
 * import { StopDetector } from "./stops.ts";
 * const d = new StopDetector(["\nUser:"]);
 * d.push("Hello\nUs");        // { text: "Hello", stopped: false } ("\nUs" held back)
 * d.push("er: hi");           // { text: "", stopped: true, stop: "\nUser:" }
 * ```
 */
export class StopDetector {
  #stops: string[];
  #held = "";
  #done = false;

  /** `stops`: a string or list of strings; empty strings are rejected. */
  constructor(stops: string | readonly string[] | undefined) {
    const list = stops === undefined ? [] : typeof stops === "string" ? [stops] : [...stops];
    for (const s of list) {
      if (typeof s !== "string" || s.length === 0) {
        throw withCode(
          new TypeError(`stop is ${JSON.stringify(s)}; pass non-empty strings`),
          "E_USAGE",
        );
      }
    }
    this.#stops = list;
  }

  /** The stop strings watched. */
  get stops(): readonly string[] {
    return this.#stops;
  }

  /** True once a stop string was found; later pushes return nothing. */
  get stopped(): boolean {
    return this.#done;
  }

  /** Text held back because it might be the start of a stop string. */
  get pending(): string {
    return this.#held;
  }

  /** Adds a piece of text and returns what may be emitted now. */
  push(piece: string): StopStep {
    if (this.#done) return { text: "", stopped: true };
    if (this.#stops.length === 0) return { text: piece, stopped: false };
    const buf = this.#held + piece;
    // Earliest occurrence wins; on equal starts the longer stop string is reported.
    let at = -1;
    let which = "";
    for (const s of this.#stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (at < 0 || i < at || (i === at && s.length > which.length))) {
        at = i;
        which = s;
      }
    }
    if (at >= 0) {
      this.#done = true;
      this.#held = "";
      return { text: buf.slice(0, at), stopped: true, stop: which };
    }
    const keep = this.#heldTail(buf);
    this.#held = buf.slice(buf.length - keep);
    return { text: buf.slice(0, buf.length - keep), stopped: false };
  }

  /** Ends the stream (no more text): releases the held-back tail. */
  flush(): string {
    const out = this.#done ? "" : this.#held;
    this.#held = "";
    return out;
  }

  /** Length of the longest suffix of `buf` that is a proper prefix of some stop string. */
  #heldTail(buf: string): number {
    let best = 0;
    for (const s of this.#stops) {
      const max = Math.min(s.length - 1, buf.length);
      for (let n = max; n > best; n--) {
        if (buf.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}

/**
 * Cuts a finished text at its first stop string (non-streaming use).
 *
 * @example
 * ```ts
 * import { cutAtStop } from "./stops.ts";
 * cutAtStop("a.b.c", ["."]); // { text: "a", stop: "." }
 * ```
 */
export function cutAtStop(
  text: string,
  stops: string | readonly string[] | undefined,
): { text: string; stop?: string } {
  const d = new StopDetector(stops);
  const r = d.push(text);
  return r.stopped ? { text: r.text, stop: r.stop } : { text: r.text + d.flush() };
}
